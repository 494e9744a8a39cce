#!/usr/bin/env python3
"""Speed of closelint against the tools users would otherwise run, on one corpus, in one invocation.

    python benchmarks/bench.py [CORPUS] [--rounds 3] [--peer-rounds 1] [--peer-timeout 600] [--json FILE]

CORPUS defaults to the running Python's standard library. The files closelint would lint there are copied
to a scratch directory (every tool sees exactly the same files), plus a second copy holding them four times
(linearity). Each round runs, one after the other: a script that only reads every file; one that only
`ast.parse`s every file; `closelint check --no-cache` (cold); `closelint check` into an empty cache, again
(warm), and again after one file changed; cold on the four-fold corpus; `flake8` with closelint's plugin
and without it (the plugin is hidden from flake8's plugin finder, as if not installed); and, for
`--peer-rounds` rounds only, `pylint --disable=all --enable=consider-using-with -j N` and `fixit lint`
(install them with `pip install -e '.[bench]'`). A run that exceeds `--peer-timeout` is killed and reported
as a lower bound ('>N'). Tools run with all CPUs (closelint's default `--jobs`, flake8's default, pylint
`-j N`).

Reported per tool: medians of wall time, CPU time (user + system of the tool and its children), peak
memory (the largest process, from rusage; closelint's cold run is also sampled as the sum of all its
processes) and files per second; then the ratios SPEC §6 and the speed issue require. This is not a test:
nothing fails, the verdicts are printed.
"""

from __future__ import annotations

import argparse
import json
import os
import platform
import shutil
import signal
import statistics
import subprocess
import sys
import sysconfig
import tempfile
import threading
import time
from collections.abc import Sequence
from dataclasses import asdict, dataclass, field
from pathlib import Path

READ_SCRIPT = """\
import os, sys
n = 0
for directory, _, names in os.walk(sys.argv[1]):
    for name in names:
        if name.endswith(".py"):
            with open(os.path.join(directory, name), "rb") as handle:
                n += len(handle.read())
print(n)
"""

PARSE_SCRIPT = """\
import ast, os, sys, warnings
warnings.simplefilter("ignore")
n = 0
for directory, _, names in os.walk(sys.argv[1]):
    for name in names:
        if name.endswith(".py"):
            with open(os.path.join(directory, name), "rb") as handle:
                source = handle.read()
            try:
                ast.parse(source)
                n += 1
            except (SyntaxError, ValueError):
                pass
print(n)
"""

DISCOVER_SCRIPT = """\
import sys
from pathlib import Path
from closelint.config import Settings
from closelint.discovery import discover
found = discover([Path(sys.argv[1])], lambda _: Settings())
if found.errors:
    sys.exit(found.errors[0])
sys.stdout.write("\\0".join(str(p) for p in found.files))
"""

#: flake8 as installed, or with closelint's entry point hidden from its plugin finder ("not installed")
FLAKE8_SCRIPT = """\
import sys
import flake8.plugins.finder as finder
if sys.argv.pop(1) == "without":
    find = finder._find_importlib_plugins
    finder._find_importlib_plugins = lambda: (p for p in find() if p.package != "closelint")
from flake8.main.cli import main
sys.exit(main())
"""


@dataclass
class Sample:
    wall: float
    cpu: float
    peak_mb: float
    timed_out: bool = False
    #: share of all CPUs other processes used just before the run (see `wait_for_idle`)
    background: float = 0.0


@dataclass
class Row:
    name: str
    files: int
    samples: list[Sample] = field(default_factory=list)
    note: str = ""

    @property
    def timed_out(self) -> bool:
        return any(s.timed_out for s in self.samples)

    def median(self, attribute: str) -> float:
        return float(statistics.median(getattr(s, attribute) for s in self.samples))


def run(
    command: Sequence[str], cwd: Path, env: dict[str, str], timeout: float | None = None, keep_output: bool = False
) -> tuple[Sample, str]:
    """Run `command` to completion (or kill its process group at `timeout`); what it cost, and its stdout
    when `keep_output` (else discarded unread: reading flake8's megabytes would grow this process).

    CPU and peak memory come from `wait4`: the command's own usage and that of the children it reaped.
    """
    with tempfile.TemporaryFile() as out:
        started = time.perf_counter()
        process = subprocess.Popen(
            command,
            cwd=cwd,
            env=env,
            stdout=out if keep_output else subprocess.DEVNULL,
            stderr=subprocess.DEVNULL,
            start_new_session=True,
        )
        expired = threading.Event()

        def kill() -> None:
            expired.set()
            os.killpg(process.pid, signal.SIGKILL)

        timer = threading.Timer(timeout, kill) if timeout else None
        if timer:
            timer.start()
        _, status, usage = os.wait4(process.pid, 0)
        wall = time.perf_counter() - started
        if timer:
            timer.cancel()
        process.returncode = os.waitstatus_to_exitcode(status)  # reaped here: Popen must not wait again
        out.seek(0)
        text = out.read().decode("utf-8", "replace")
    peak_mb = usage.ru_maxrss / 1024  # KiB on Linux
    return Sample(wall, usage.ru_utime + usage.ru_stime, peak_mb, expired.is_set()), text


def _cpu_times() -> tuple[int, int]:
    with open("/proc/stat", encoding="ascii") as handle:
        values = [int(v) for v in handle.readline().split()[1:]]
    return sum(values), values[3] + values[4]  # total, idle + iowait


def wait_for_idle(limit: float, patience: float) -> float:
    """Wait (up to `patience` s) until other processes use less than `limit` of the CPUs; their share.

    A benchmark on a shared machine measures its neighbours too: a run starts only on a quiet machine.
    """
    deadline = time.monotonic() + patience
    busy = 0.0
    while True:
        try:
            total, idle = _cpu_times()
            time.sleep(0.5)
            total2, idle2 = _cpu_times()
        except (OSError, ValueError, IndexError):
            return 0.0
        busy = 1 - (idle2 - idle) / max(total2 - total, 1)
        if busy < limit or time.monotonic() > deadline:
            return busy
        time.sleep(2.0)


def tree_peak_mb(command: Sequence[str], cwd: Path, env: dict[str, str]) -> float:
    """Peak of the summed RSS of `command` and all its descendants, sampled from /proc every 20 ms."""
    process = subprocess.Popen(command, cwd=cwd, env=env, stdout=subprocess.DEVNULL, stderr=subprocess.DEVNULL)
    peak = 0
    done = threading.Event()

    def sample() -> None:
        nonlocal peak
        while not done.is_set():
            peak = max(peak, _tree_rss_kb(process.pid))
            time.sleep(0.02)

    sampler = threading.Thread(target=sample)
    sampler.start()
    process.wait()
    done.set()
    sampler.join()
    return peak / 1024


def _tree_rss_kb(root: int) -> int:
    parents: dict[int, int] = {}
    for entry in os.listdir("/proc"):
        if entry.isdigit():
            try:
                with open(f"/proc/{entry}/stat", encoding="ascii", errors="replace") as handle:
                    parents[int(entry)] = int(handle.read().rsplit(")", 1)[1].split()[1])
            except (OSError, IndexError, ValueError):
                continue
    tree, frontier = {root}, [root]
    while frontier:
        parent = frontier.pop()
        children = [pid for pid, ppid in parents.items() if ppid == parent and pid not in tree]
        tree.update(children)
        frontier.extend(children)
    total = 0
    for pid in tree:
        try:
            with open(f"/proc/{pid}/status", encoding="ascii", errors="replace") as handle:
                total += next((int(line.split()[1]) for line in handle if line.startswith("VmRSS:")), 0)
        except (OSError, ValueError):
            continue
    return total


def collect_files(corpus: Path) -> list[Path]:
    """What `closelint check CORPUS` lints (its discovery: excludes, .gitignore).

    Asked of a child process: this one stays small, because a child reports at least the peak memory of
    the process it was forked from (Linux carries `maxrss` across fork and exec).
    """
    listing = subprocess.run(
        [sys.executable, "-c", DISCOVER_SCRIPT, str(corpus)], capture_output=True, check=True
    ).stdout.decode("utf-8", "surrogateescape")
    files = [Path(p) for p in listing.split("\0") if p]
    if not files:
        raise SystemExit(f"bench: no Python files to lint in {corpus}")
    return files


def copy_corpus(files: list[Path], corpus: Path, target: Path) -> None:
    for path in files:
        destination = target / path.relative_to(corpus)
        destination.parent.mkdir(parents=True, exist_ok=True)
        shutil.copy2(path, destination)


def script(name: str) -> str:
    """An installed console script next to this interpreter (not a pyenv/asdf shim)."""
    found = Path(sysconfig.get_path("scripts")) / name
    if found.exists():
        return str(found)
    located = shutil.which(name)
    if located is None:
        raise FileNotFoundError(name)
    return located


def machine() -> dict[str, str]:
    model = ""
    try:
        with open("/proc/cpuinfo", encoding="utf-8") as handle:
            model = next((line.split(":", 1)[1].strip() for line in handle if line.startswith("model name")), "")
    except OSError:
        pass
    try:
        memory = os.sysconf("SC_PAGE_SIZE") * os.sysconf("SC_PHYS_PAGES") / 2**30
    except (ValueError, OSError):
        memory = 0.0
    return {
        "cpu": model or platform.processor() or platform.machine(),
        "cpus": str(os.cpu_count()),
        "memory": f"{memory:.0f} GiB",
        "os": f"{platform.system()} {platform.release()}",
        "python": f"{platform.python_implementation()} {platform.python_version()}",
        "load average at start": " ".join(f"{x:.2f}" for x in os.getloadavg()),
    }


def versions() -> dict[str, str]:
    from importlib.metadata import PackageNotFoundError, version

    found = {}
    for name in ("closelint", "flake8", "pylint", "fixit", "libcst"):
        try:
            found[name] = version(name)
        except PackageNotFoundError:
            found[name] = "not installed"
    return found


def main(argv: Sequence[str] | None = None) -> int:
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    parser.add_argument("corpus", nargs="?", type=Path, default=Path(sysconfig.get_paths()["stdlib"]))
    parser.add_argument("--rounds", type=int, default=3, help="rounds of closelint, the baselines and flake8")
    parser.add_argument("--peer-rounds", type=int, default=1, help="rounds of pylint and fixit (slow)")
    parser.add_argument("--peer-timeout", type=float, default=600.0, help="seconds before a peer run is killed")
    parser.add_argument(
        "--idle", type=float, default=0.15, help="start a run only when other processes use less than this share"
    )
    parser.add_argument("--patience", type=float, default=300.0, help="seconds to wait for --idle before a run")
    parser.add_argument("--skip", action="append", default=[], help="skip a tool: flake8, pylint, fixit, x4")
    parser.add_argument("--json", type=Path, help="also write the results as JSON")
    parser.add_argument("--markdown", type=Path, help="also write the table as Markdown")
    args = parser.parse_args(argv)

    corpus = args.corpus.resolve()
    files = collect_files(corpus)
    jobs = os.cpu_count() or 1
    work = Path(tempfile.mkdtemp(prefix="closelint-bench-"))
    try:
        return _bench(args, corpus, files, jobs, work)
    finally:
        shutil.rmtree(work, ignore_errors=True)


def _bench(args: argparse.Namespace, corpus: Path, files: list[Path], jobs: int, work: Path) -> int:
    host = machine()
    one, four = work / "corpus", work / "corpus-x4"
    copy_corpus(files, corpus, one)
    if "x4" not in args.skip:
        for index in range(4):
            copy_corpus(files, corpus, four / f"copy{index}")
    copied_at = time.time()
    for name, text in (("read.py", READ_SCRIPT), ("parse.py", PARSE_SCRIPT), ("flake8_run.py", FLAKE8_SCRIPT)):
        (work / name).write_text(text, encoding="utf-8")
    # bytecode is cached as for an installed tool (PYTHONDONTWRITEBYTECODE would recompile every module
    # on every run); the first run of each tool below, on a one-file corpus, fills that cache
    env = {k: v for k, v in os.environ.items() if not k.startswith("CLOSELINT_") and k != "PYTHONDONTWRITEBYTECODE"}
    env["PYTHONPYCACHEPREFIX"] = str(work / "pycache")
    python, closelint = sys.executable, script("closelint")
    check = [closelint, "check", "--exit-zero", "--output-format", "concise"]
    n = len(files)
    size_mb = sum(p.stat().st_size for p in files) / 2**20
    print(f"corpus: {corpus} ({n} files, {size_mb:.1f} MiB), copied to {work}", flush=True)

    rows: dict[str, Row] = {}
    outputs: dict[str, set[str]] = {}

    def measure(name: str, command: Sequence[str], count: int = n, **options: object) -> None:
        row = rows.setdefault(name, Row(name, count))
        if row.timed_out:
            return
        cache_env = options.get("cache_dir")
        run_env = {**env, "CLOSELINT_CACHE_DIR": str(cache_env)} if cache_env else env
        timeout = options.get("timeout")
        background = wait_for_idle(args.idle, args.patience)
        keep = bool(options.get("compare"))
        sample, out = run(command, work, run_env, timeout if isinstance(timeout, float) else None, keep)
        sample.background = background
        row.samples.append(sample)
        if options.get("compare"):
            outputs.setdefault(str(options["compare"]), set()).add(out)
        shown = f">{sample.wall:.0f}" if sample.timed_out else f"{sample.wall:.2f}"
        print(f"  {name:<44} {shown:>8} s wall {sample.cpu:8.2f} s CPU", flush=True)

    peers: list[tuple[str, list[str]]] = []
    if "pylint" not in args.skip:
        pylint = [script("pylint"), "--disable=all", "--enable=consider-using-with", "-j", str(jobs)]
        peers.append((f"pylint --enable=consider-using-with -j {jobs}", [*pylint, "--recursive=y", str(one)]))
    if "fixit" not in args.skip:
        peers.append(("fixit lint", [script("fixit"), "lint", str(one)]))

    tiny = work / "tiny"
    tiny.mkdir()
    (tiny / "a.py").write_text("import socket\n\ns = socket.socket()\n", encoding="utf-8")
    warm_up = [
        [python, str(work / "read.py"), str(tiny)],
        [python, str(work / "parse.py"), str(tiny)],
        [*check, str(tiny)],
        [python, str(work / "flake8_run.py"), "with", str(tiny)],
        [python, str(work / "flake8_run.py"), "without", str(tiny)],
        *([*command[:-1], str(tiny)] for _, command in peers),
    ]
    for command in warm_up:
        run(command, work, {**env, "CLOSELINT_CACHE_DIR": str(work / "cache-warm-up")}, args.peer_timeout)

    touched = max(files, key=lambda p: p.stat().st_size if p.stat().st_size < 20_000 else 0).relative_to(corpus)
    for round_ in range(max(args.rounds, args.peer_rounds)):
        print(f"round {round_ + 1}", flush=True)
        if round_ < args.rounds:
            measure("read every file (python script)", [python, str(work / "read.py"), str(one)])
            measure("ast.parse every file (python script)", [python, str(work / "parse.py"), str(one)])
            measure("closelint check --no-cache (cold)", [*check, "--no-cache", str(one)], compare="findings")
            cache_dir = work / f"cache-{round_}"
            time.sleep(max(0.0, copied_at + 2.5 - time.time()))  # cache.RACY_SECONDS: let the copy settle
            measure("closelint check (cold, filling the cache)", [*check, str(one)], cache_dir=cache_dir)
            measure("closelint check (warm)", [*check, str(one)], cache_dir=cache_dir, compare="findings")
            with open(one / touched, "a", encoding="utf-8") as handle:
                handle.write(f"\n# changed in round {round_ + 1}\n")
            measure("closelint check (warm, one file changed)", [*check, str(one)], cache_dir=cache_dir)
            if "x4" not in args.skip:
                measure("closelint check --no-cache, corpus x4", [*check, "--no-cache", str(four)], count=4 * n)
            if "flake8" not in args.skip:
                flake8 = [python, str(work / "flake8_run.py")]
                measure("flake8 (closelint installed)", [*flake8, "with", "--exit-zero", str(one)])
                measure("flake8 (closelint not installed)", [*flake8, "without", "--exit-zero", str(one)])
        if round_ < args.peer_rounds:
            for name, command in peers:
                measure(name, command, timeout=args.peer_timeout)

    cold_tree_mb = tree_peak_mb([*check, "--no-cache", str(one)], work, env)
    report = _report(rows, outputs, cold_tree_mb, n, size_mb, corpus, jobs, args, host)
    print()
    print(report["markdown"])
    if args.json:
        args.json.write_text(json.dumps(report, indent=2) + "\n", encoding="utf-8")
    if args.markdown:
        args.markdown.write_text(str(report["markdown"]), encoding="utf-8")
    return 0


def _report(
    rows: dict[str, Row],
    outputs: dict[str, set[str]],
    cold_tree_mb: float,
    n: int,
    size_mb: float,
    corpus: Path,
    jobs: int,
    args: argparse.Namespace,
    host: dict[str, str],
) -> dict[str, object]:
    def wall(name: str) -> float | None:
        row = rows.get(name)
        return row.median("wall") if row and row.samples else None

    def fmt(row: Row, value: float) -> str:
        return f">{value:.0f}" if row.timed_out else f"{value:.2f}"

    cold = wall("closelint check --no-cache (cold)")
    lines = [
        f"Corpus: `{corpus}`: {n} files, {size_mb:.1f} MiB; {jobs} CPUs; medians of {args.rounds} rounds "
        f"(pylint, fixit: {args.peer_rounds}, killed after {args.peer_timeout:.0f} s).",
        "",
        "| run | wall s | CPU s | peak MB | files/s | closelint cold / this |",
        "|---|---:|---:|---:|---:|---:|",
    ]
    for row in rows.values():
        if not row.samples:
            continue
        w, c, m = row.median("wall"), row.median("cpu"), max(s.peak_mb for s in row.samples)
        speed = f"<{row.files / w:.0f}" if row.timed_out else f"{row.files / w:.0f}"
        ratio = f"{'<' if row.timed_out else ''}{cold / w:.2f}" if cold else ""
        cpu_cell, peak_cell = ("—", "—") if row.timed_out else (f"{c:.2f}", f"{m:.0f}")  # a killed run: unknown
        lines.append(f"| {row.name} | {fmt(row, w)} | {cpu_cell} | {peak_cell} | {speed} | {ratio} |")
    lines.append("")
    lines.append(f"closelint cold, all its processes together (sampled): peak {cold_tree_mb:.0f} MB.")
    background = max((s.background for row in rows.values() for s in row.samples), default=0.0)
    lines.append(f"Other processes used at most {background:.0%} of the CPUs just before a run.")
    same = all(len(found) == 1 for found in outputs.values())
    lines.append(f"Findings identical cold (no cache) and warm, every round: {'yes' if same else 'NO'}.")

    parse, read = wall("ast.parse every file (python script)"), wall("read every file (python script)")
    warm, x4 = wall("closelint check (warm)"), wall("closelint check --no-cache, corpus x4")
    with_, without = wall("flake8 (closelint installed)"), wall("flake8 (closelint not installed)")
    verdicts = []

    def verdict(text: str, value: float | None, good: bool, lower_bound: bool = False) -> None:
        if value is None:
            return
        shown = f"{'>' if lower_bound else ''}{value:.2f}"
        verdicts.append(f"| {text} | {shown} | {'yes' if good else 'NO'} |")

    if cold and parse:
        verdict("cold / one process ast.parse-ing every file (≤ 1)", cold / parse, cold <= parse)
    for row in rows.values():
        if row.name.startswith(("pylint", "fixit")) and row.samples and cold:
            value = row.median("wall") / cold
            verdict(f"{row.name} / closelint cold (≥ 10)", value, value >= 10, row.timed_out)
    if warm and read:
        verdict("warm / reading every file (≤ 1.5)", warm / read, warm <= 1.5 * read)
    if with_ and without:
        verdict("flake8 with closelint / without (≤ 1.3)", with_ / without, with_ <= 1.3 * without)
    if x4 and cold:
        verdict("cold on the corpus x4 / cold (≤ 4.5)", x4 / cold, x4 <= 4.5 * cold)
    peak = max([cold_tree_mb] + [s.peak_mb for name, r in rows.items() if "closelint check" in name for s in r.samples])
    verdict("closelint peak memory, MB (≤ 300)", peak, peak <= 300)
    lines += ["", "| requirement (SPEC §6, speed issue) | measured | holds |", "|---|---:|:---:|", *verdicts]
    info = {**host, **{f"{k} version": v for k, v in versions().items()}}
    lines += ["", "Machine: " + "; ".join(f"{k}: {v}" for k, v in info.items()) + "."]
    return {
        "corpus": str(corpus),
        "files": n,
        "megabytes": size_mb,
        "machine": info,
        "rows": [{**asdict(row), "timed_out": row.timed_out} for row in rows.values()],
        "closelint_cold_tree_peak_mb": cold_tree_mb,
        "findings_identical": same,
        "markdown": "\n".join(lines) + "\n",
    }


if __name__ == "__main__":
    sys.exit(main())
