"""Mutation testing on a random sample: how many single changes to the analysis and the fixer do the tests catch?

mutmut (the `mutation` extra: `pip install -e '.[test,mutation]'`) mutates `analysis/`, `rules/`, `fixer.py`,
`fixes.py` and the graceful-close helper (`closelint_graceful`) as `[tool.mutmut]` in pyproject.toml says:
a negated condition, `and`/`or` swapped, a changed constant or string, a dropped argument. Each mutant is
run against the in-process tests that cover the mutated function (mutmut traces which those are), chosen
from the fast test files listed in `[tool.mutmut]`; a mutant is *killed* when a test fails or it times out,
and *survives* otherwise.

Everything happens in a scratch copy of the repository (mutmut writes its `mutants/` tree into the working
directory), so the checkout is never touched. mutmut imports mutants only from `src/`, so the copy holds the
helper's package, `closelint-graceful/src/closelint_graceful`, at `src/closelint_graceful` as well. Steps:

1. generate every mutant and trace the tests, running only the mutants of one small function
   (`--warm-up`, a glob over mutant names);
2. draw `--sample` mutants at random (`--seed`, printed, makes a draw repeatable) from all of them;
3. run those, `--jobs` at a time, and print the score and each survivor's diff.

Run: `python benchmarks/mutation.py --sample 40 --jobs 2` (about 10 minutes on 2 cores). Exit status 0
when the score reaches `--min-score` (percent), 1 below it, 2 when mutmut itself fails.
"""

from __future__ import annotations

import argparse
import random
import re
import shutil
import subprocess
import sys
import tempfile
import time
from pathlib import Path

ROOT = Path(__file__).resolve().parents[1]
#: the runtime helper's package, and where the scratch copy puts it so that mutmut mutates and imports it
HELPER_PACKAGE = Path("closelint-graceful/src/closelint_graceful")
HELPER_IN_SOURCE = Path("src/closelint_graceful")
#: `mutmut results --all true` prints `    NAME: STATUS`
RESULT_LINE = re.compile(r"^\s+(?P<name>\S+): (?P<status>.+)$")
#: statuses that mean a test noticed the mutant (mutmut's own words)
KILLED = frozenset({"killed", "timeout", "segfault", "caught by type check"})
#: one mutmut command may take this long (seconds) before the run is abandoned
COMMAND_TIMEOUT = 40 * 60


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(description=__doc__.split("\n", 1)[0])
    parser.add_argument("--sample", type=int, default=40, help="mutants to run (default: 40)")
    parser.add_argument("--seed", type=int, default=None, help="seed of the draw (default: from the clock)")
    parser.add_argument("--jobs", type=int, default=2, help="mutants run at once (default: 2)")
    parser.add_argument(
        "--min-score", type=float, default=90.0, help="percent killed needed for exit status 0 (default: 90)"
    )
    parser.add_argument(
        "--warm-up",
        default="closelint_graceful.x__require__mutmut_*",
        help=(
            "mutmut generates every mutant and traces which tests cover which function only as part of a run, "
            "so a first run is made over these few mutants (a glob over mutant names; default: the small "
            "argument check of the graceful-close helper), whose results count only where the draw picks them"
        ),
    )
    parser.add_argument("--keep", type=Path, help="work in this directory and keep it (default: a temporary one)")
    args = parser.parse_args(argv)
    seed = args.seed if args.seed is not None else int(time.time())

    with tempfile.TemporaryDirectory(prefix="closelint-mutation-") as scratch:
        work = args.keep or Path(scratch) / "repo"
        copy_checkout(work)
        started = time.monotonic()
        try:
            mutmut(work, "run", "--max-children", str(args.jobs), args.warm_up)
            every = statuses(work)
            sample = random.Random(seed).sample(sorted(every), min(args.sample, len(every)))
            mutmut(work, "run", "--max-children", str(args.jobs), *sample)
            outcome = statuses(work)
        except (subprocess.CalledProcessError, subprocess.TimeoutExpired) as error:
            print(f"mutation: mutmut failed: {error}", file=sys.stderr)
            return 2
        survivors = [name for name in sample if outcome[name] not in KILLED]
        score = 100.0 * (len(sample) - len(survivors)) / len(sample)
        minutes = (time.monotonic() - started) / 60
        print(f"seed {seed}: {len(sample)} of {len(every)} mutants, {len(sample) - len(survivors)} killed")
        print(f"score {score:.1f}% in {minutes:.1f} min with {args.jobs} jobs")
        for name in survivors:
            print()
            print(mutmut(work, "show", name).rstrip())  # a `# NAME: STATUS` line, then the diff
    return 0 if score >= args.min_score else 1


def copy_checkout(target: Path) -> None:
    """The files git tracks (with their uncommitted changes), so mutmut sees no venv, cache or build; the
    helper's package is copied a second time below `src/`, where mutmut mutates it and the tests import it."""
    listed = subprocess.run(["git", "ls-files", "-z"], cwd=ROOT, capture_output=True, check=True, timeout=60)
    for name in listed.stdout.decode().split("\0"):
        source = ROOT / name
        if name and source.is_file() and not source.is_symlink():
            copies = [target / name]
            if Path(name).is_relative_to(HELPER_PACKAGE):
                copies.append(target / HELPER_IN_SOURCE / Path(name).relative_to(HELPER_PACKAGE))
            for copy in copies:
                copy.parent.mkdir(parents=True, exist_ok=True)
                shutil.copy2(source, copy)


def mutmut(work: Path, *args: str) -> str:
    """Run `mutmut *args` in `work` with this interpreter's mutmut; its output, which is also echoed."""
    beside = Path(sys.executable).parent / "mutmut"
    command = [str(beside) if beside.is_file() else "mutmut", *args]
    done = subprocess.run(command, cwd=work, capture_output=True, text=True, timeout=COMMAND_TIMEOUT)
    if done.returncode != 0:
        print(done.stdout[-4000:], done.stderr[-4000:], sep="\n", file=sys.stderr)
        raise subprocess.CalledProcessError(done.returncode, args[:1])
    return done.stdout


def statuses(work: Path) -> dict[str, str]:
    """Every mutant mutmut generated, with its status ("not checked" until it is run)."""
    found = {}
    for line in mutmut(work, "results", "--all", "true").splitlines():
        match = RESULT_LINE.match(line)
        if match:
            found[match["name"]] = match["status"].strip()
    if not found:
        raise subprocess.CalledProcessError(1, ["results"])
    return found


if __name__ == "__main__":
    sys.exit(main())
