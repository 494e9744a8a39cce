"""Run closelint on pinned wheels of real network projects and compare the findings with a triage.

    python benchmarks/realworld/run.py                      # download, extract, lint, print counts
    python benchmarks/realworld/run.py --triage             # ... and compare with triage.toml
    python benchmarks/realworld/run.py --packages pika trio --output-format concise
    python benchmarks/realworld/run.py --pins benchmarks/realworld/heldout.txt \\
        --triage-file /path/to/heldout-triage.toml --triage

Each pinned `name==version` is fetched with `pip download --no-deps --only-binary :all:` into
`CACHE/wheels` (skipped when a wheel of that version is already there). Some projects ship only
platform wheels (C extensions: gevent, pymongo, pyzmq, aiokafka, slixmpp); pip picks the one for this
interpreter and only its `.py` files are linted. The `.py` members of each wheel are unpacked into
`CACHE/src/<name>-<version>/`, and closelint runs once over all of those directories as a subprocess
(`python -m closelint check --no-cache --output-format json`), with default settings.

`--fix-check` copies the package directories to a temporary directory and runs `closelint check --fix`
there, then `--fix --unsafe-fixes`, each twice: it fails when a second run changes anything, a fixed file
does not compile, or a file without findings was written (the cache itself is never written).

`--triage` compares the findings with the triage file (one `[[finding]]` table per finding: package,
version, path, line, code, verdict, reason) and prints the findings not yet triaged, the triage entries
no longer reported, and the precision per code (true / (true + false)) over the current findings.
"""

from __future__ import annotations

import argparse
import json
import shutil
import subprocess
import sys
import tempfile
import time
import zipfile
from collections import Counter, defaultdict
from collections.abc import Iterable, Sequence
from dataclasses import dataclass
from pathlib import Path
from typing import Any

if sys.version_info >= (3, 11):
    import tomllib
else:  # pragma: no cover
    import tomli as tomllib

HERE = Path(__file__).resolve().parent

#: (name, version): the main set, pinned so that the triage stays valid.
PACKAGES: list[tuple[str, str]] = [
    ("pika", "1.4.4"),
    ("gevent", "26.9.0"),
    ("asyncssh", "2.24.1"),
    ("httpcore", "1.0.9"),
    ("anyio", "4.16.0"),
    ("trio", "0.35.0"),
    ("pymongo", "4.20.0"),
    ("pymemcache", "4.0.0"),
    ("kazoo", "2.11.0"),
    ("uvicorn", "0.54.0"),
    ("hypercorn", "0.18.0"),
    ("werkzeug", "3.1.9"),
    ("cherrypy", "18.10.0"),
    ("supervisor", "4.3.0"),
    ("ldap3", "2.9.1"),
    ("kafka-python", "3.0.12"),
    ("paho-mqtt", "2.2.0"),
    ("stomp.py", "9.0.0"),
    ("slixmpp", "1.17.0"),
    ("pyroute2", "0.9.7"),
    ("dpkt", "1.9.8"),
    ("nats-py", "2.16.0"),
    ("aiokafka", "0.14.0"),
    ("scapy", "2.8.0"),
    ("pysnmp", "7.1.30"),
    ("python-xlib", "0.33"),
    ("pyzmq", "27.3.0"),
]

DEFAULT_CACHE = HERE / "cache"
DEFAULT_TRIAGE = HERE / "triage.toml"


@dataclass(frozen=True)
class Finding:
    package: str
    version: str
    path: str  # relative to the package's source directory, posix separators
    line: int
    column: int
    code: str
    message: str

    @property
    def key(self) -> tuple[str, str, str, int, str]:
        return (self.package, self.version, self.path, self.line, self.code)


def normalize(name: str) -> str:
    """A project name as wheel file names spell it (PEP 427 / PEP 503), lower-cased."""
    out = []
    for char in name.lower():
        out.append("_" if char in "-_." else char)
    text = "".join(out)
    while "__" in text:
        text = text.replace("__", "_")
    return text


def read_pins(path: Path) -> list[tuple[str, str]]:
    """`name==version` lines (blank lines and `#` comments ignored)."""
    pins = []
    for raw in path.read_text(encoding="utf-8").splitlines():
        line = raw.split("#", 1)[0].strip()
        if not line:
            continue
        name, sep, version = line.partition("==")
        if not sep or not name.strip() or not version.strip():
            raise SystemExit(f"{path}: expected name==version, got {raw!r}")
        pins.append((name.strip(), version.strip()))
    return pins


def find_wheel(wheels: Path, name: str, version: str) -> Path | None:
    prefix = f"{normalize(name)}-{version}-"
    for wheel in sorted(wheels.glob("*.whl")):
        if wheel.name.lower().startswith(prefix):
            return wheel
    return None


def download(wheels: Path, name: str, version: str) -> Path:
    """The wheel of `name==version` in `wheels`, fetched with pip when it is not there yet."""
    wheel = find_wheel(wheels, name, version)
    if wheel is not None:
        return wheel
    wheels.mkdir(parents=True, exist_ok=True)
    command = [
        sys.executable,
        "-m",
        "pip",
        "download",
        "--quiet",
        "--no-deps",
        "--only-binary",
        ":all:",
        "--dest",
        str(wheels),
        f"{name}=={version}",
    ]
    completed = subprocess.run(command, capture_output=True, text=True, check=False)
    wheel = find_wheel(wheels, name, version)
    if completed.returncode != 0 or wheel is None:
        raise SystemExit(f"pip download {name}=={version} failed:\n{completed.stderr.strip()}")
    return wheel


def extract(wheel: Path, dest: Path) -> int:
    """Unpack the wheel's `.py` files into `dest` (once); the number of `.py` files there."""
    marker = dest / ".extracted"
    if not marker.exists():
        dest.mkdir(parents=True, exist_ok=True)
        with zipfile.ZipFile(wheel) as archive:
            for member in archive.infolist():
                if member.is_dir() or not member.filename.endswith(".py"):
                    continue
                target = (dest / member.filename).resolve()
                if not target.is_relative_to(dest.resolve()):
                    continue  # never write outside dest
                target.parent.mkdir(parents=True, exist_ok=True)
                target.write_bytes(archive.read(member))
        marker.write_text(wheel.name + "\n", encoding="utf-8")
    return sum(1 for _ in dest.rglob("*.py"))


def prepare_sources(cache: Path, pins: Iterable[tuple[str, str]]) -> tuple[dict[Path, tuple[str, str]], dict[str, int]]:
    """Download and unpack every pin; its source directory -> (name, version), and `.py` files per name."""
    dirs: dict[Path, tuple[str, str]] = {}
    files: dict[str, int] = {}
    for name, version in pins:
        wheel = download(cache / "wheels", name, version)
        source = cache / "src" / f"{name}-{version}"
        files[name] = extract(wheel, source)
        dirs[source] = (name, version)
    return dirs, files


def defaults_config(cache: Path) -> Path:
    """An empty `[tool.closelint]` file: default settings, whatever pyproject.toml is above the cache."""
    config = cache / "closelint-defaults.toml"
    if not config.exists():
        config.write_text("[tool.closelint]\n", encoding="utf-8")
    return config


def run_closelint(
    dirs: dict[Path, tuple[str, str]], config: Path, targets: Sequence[Path] | None = None
) -> tuple[list[Finding], float]:
    """Lint every source directory (or only `targets`, files inside them) in one closelint run.

    Returns the findings and the wall time in seconds.
    """
    command = [
        sys.executable,
        "-m",
        "closelint",
        "check",
        "--no-cache",
        "--exit-zero",
        "--quiet",
        "--output-format",
        "json",
        "--config",
        str(config),
        *(str(t) for t in (dirs if targets is None else targets)),
    ]
    start = time.perf_counter()
    completed = subprocess.run(command, capture_output=True, text=True, check=False)
    elapsed = time.perf_counter() - start
    if completed.returncode != 0:
        raise SystemExit(f"closelint exited {completed.returncode}:\n{completed.stderr.strip()}")
    raw: list[dict[str, Any]] = json.loads(completed.stdout or "[]")
    findings = []
    resolved = {d.resolve(): pin for d, pin in dirs.items()}
    for item in raw:
        path = Path(item["filename"]).resolve()
        for root, (name, version) in resolved.items():
            if path.is_relative_to(root):
                relative = path.relative_to(root).as_posix()
                findings.append(
                    Finding(name, version, relative, item["line"], item["column"], item["code"], item["message"])
                )
                break
        else:
            raise SystemExit(f"closelint reported a file outside the package directories: {item['filename']}")
    findings.sort(key=lambda f: (f.package.lower(), f.path, f.line, f.column, f.code))
    return findings, elapsed


def _snapshot(root: Path) -> dict[Path, bytes]:
    return {p.relative_to(root): p.read_bytes() for p in sorted(root.rglob("*.py")) if p.is_file()}


def _fix_run(root: Path, config: Path, *flags: str) -> str:
    command = [sys.executable, "-m", "closelint", "check", "--no-cache", "--exit-zero", "--fix", *flags]
    completed = subprocess.run(
        [*command, "--output-format", "concise", "--config", str(config), str(root)],
        capture_output=True,
        text=True,
        check=False,
    )
    if completed.returncode != 0:
        raise SystemExit(f"closelint --fix exited {completed.returncode}:\n{completed.stderr.strip()}")
    return completed.stdout


def check_fixes(dirs: dict[Path, tuple[str, str]], config: Path, reported: set[Path]) -> int:
    """Run `--fix` (then `--fix --unsafe-fixes`) twice over a copy of `dirs`; print and count the breaches of
    the fix-safety properties: idempotent, compiles, files not in `reported` (resolved paths) untouched."""
    problems = 0
    with tempfile.TemporaryDirectory(prefix="closelint-fix-check-") as scratch:
        copy = Path(scratch) / "src"
        for directory in dirs:
            shutil.copytree(directory, copy / directory.name, symlinks=True)
        original = _snapshot(copy)
        untouched = {p for p in original if (next(iter(dirs)).parent / p).resolve() not in reported}
        for flags in ((), ("--unsafe-fixes",)):
            _fix_run(copy, config, *flags)
            first = _snapshot(copy)
            _fix_run(copy, config, *flags)
            second = _snapshot(copy)
            changed = [p for p in first if first[p] != original[p]]
            for path in changed:
                try:
                    compile(first[path], str(path), "exec", dont_inherit=True)
                except SyntaxError as error:
                    problems += 1
                    print(f"{path}: the fixed file does not compile: {error}")
            for path in sorted(p for p in second if second[p] != first[p]):
                problems += 1
                print(f"{path}: a second --fix {' '.join(flags)} changed it again")
            for path in sorted(p for p in changed if p in untouched):
                problems += 1
                print(f"{path}: written although nothing was reported in it")
            again = sum(second[p] != first[p] for p in second)
            print(f"--fix {' '.join(flags)}: {len(changed)} files changed, a second run changed {again}")
    return problems


def print_table(pins: Sequence[tuple[str, str]], files: dict[str, int], findings: Sequence[Finding]) -> None:
    codes = sorted({f.code for f in findings})
    per_package: dict[str, Counter[str]] = defaultdict(Counter)
    for f in findings:
        per_package[f.package][f.code] += 1
    width = max([len(f"{n}=={v}") for n, v in pins] + [len("package")])
    header = f"{'package':<{width}} {'files':>6} " + " ".join(f"{c:>6}" for c in codes) + f" {'total':>6}"
    print(header)
    print("-" * len(header))
    totals: Counter[str] = Counter()
    for name, version in pins:
        counts = per_package.get(name, Counter())
        totals.update(counts)
        cells = " ".join(f"{counts.get(c, 0) or '.':>6}" for c in codes)
        print(f"{name + '==' + version:<{width}} {files[name]:>6} {cells} {sum(counts.values()):>6}")
    print("-" * len(header))
    cells = " ".join(f"{totals.get(c, 0):>6}" for c in codes)
    print(f"{'total':<{width}} {sum(files.values()):>6} {cells} {sum(totals.values()):>6}")


def load_triage(path: Path) -> tuple[list[dict[str, Any]], list[dict[str, Any]]]:
    with open(path, "rb") as handle:
        document = tomllib.load(handle)
    return list(document.get("finding", [])), list(document.get("silent", []))


def triage_key(entry: dict[str, Any]) -> tuple[str, str, str, int, str]:
    return (str(entry["package"]), str(entry["version"]), str(entry["path"]), int(entry["line"]), str(entry["code"]))


def report_triage(findings: Sequence[Finding], triage_file: Path, pins: Iterable[tuple[str, str]]) -> int:
    """Print untriaged findings, stale triage entries and precision per code; 1 when anything is untriaged."""
    entries, silent = load_triage(triage_file)
    chosen = {(n, v) for n, v in pins}
    by_key: dict[tuple[str, str, str, int, str], dict[str, Any]] = {}
    problems = 0
    for entry in entries:
        key = triage_key(entry)
        if key in by_key:
            print(f"duplicate triage entry: {key}")
            problems += 1
        by_key[key] = entry
    current = {f.key: f for f in findings}
    untriaged = [f for f in findings if f.key not in by_key or not isinstance(by_key[f.key].get("verdict"), bool)]
    stale = [e for k, e in by_key.items() if k not in current and (k[0], k[1]) in chosen]

    print(f"\nfindings not yet triaged: {len(untriaged)}")
    for f in untriaged:
        print(f"  {f.package}=={f.version} {f.path}:{f.line}:{f.column}: {f.code} {f.message}")
    print(f"triage entries no longer reported: {len(stale)}")
    for e in stale:
        print(f"  {e['package']}=={e['version']} {e['path']}:{e['line']}: {e['code']} ({e['verdict']}) {e['reason']}")

    verdicts: dict[str, Counter[bool]] = defaultdict(Counter)
    categories: Counter[str] = Counter()
    for f in findings:
        match = by_key.get(f.key)
        if match is not None and isinstance(match.get("verdict"), bool):
            verdicts[f.code][match["verdict"]] += 1
            if not match["verdict"]:
                categories[str(match.get("category", "(no category)"))] += 1
    print("\nprecision per code over the current findings (true / (true + false)):")
    print(f"  {'code':<6} {'true':>5} {'false':>5} {'untriaged':>9} {'precision':>9}")
    all_true = all_false = 0
    untriaged_per_code = Counter(f.code for f in untriaged)
    for code in sorted({f.code for f in findings}):
        t, fa = verdicts[code][True], verdicts[code][False]
        all_true, all_false = all_true + t, all_false + fa
        precision = f"{t / (t + fa):.2f}" if t + fa else "-"
        print(f"  {code:<6} {t:>5} {fa:>5} {untriaged_per_code[code]:>9} {precision:>9}")
    overall = f"{all_true / (all_true + all_false):.2f}" if all_true + all_false else "-"
    print(f"  {'all':<6} {all_true:>5} {all_false:>5} {len(untriaged):>9} {overall:>9}")
    if categories:
        print("\nfalse positives per category (current findings):")
        for category, count in categories.most_common():
            print(f"  {count:>4}  {category}")

    relevant_silent = [s for s in silent if (s.get("package"), s.get("version")) in chosen]
    missed = sum(1 for s in relevant_silent if s.get("missed") is True)
    print(f"\nsilent sites sampled: {len(relevant_silent)}, of which closelint missed a real problem: {missed}")
    return 1 if untriaged or problems else 0


def print_stubs(findings: Sequence[Finding], triage_file: Path | None) -> None:
    """`[[finding]]` tables for the findings the triage file does not have yet (verdict to fill in)."""
    known: set[tuple[str, str, str, int, str]] = set()
    if triage_file is not None and triage_file.exists():
        known = {triage_key(e) for e in load_triage(triage_file)[0]}
    for f in findings:
        if f.key in known:
            continue
        print("[[finding]]")
        print(f'package = "{f.package}"')
        print(f'version = "{f.version}"')
        print(f'path = "{f.path}"')
        print(f"line = {f.line}")
        print(f'code = "{f.code}"')
        print('verdict = "todo"')
        print(f"reason = {json.dumps(f.message)}")
        print()


def main(argv: Sequence[str] | None = None) -> int:
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0] if __doc__ else None)
    parser.add_argument("--cache", type=Path, default=DEFAULT_CACHE, help="download/extract directory")
    parser.add_argument("--packages", nargs="+", metavar="NAME", help="only these packages (default: all pins)")
    parser.add_argument("--pins", type=Path, help="a file of name==version lines replacing the built-in PACKAGES")
    parser.add_argument(
        "--output-format",
        choices=["table", "concise", "json", "triage-stub"],
        default="table",
        help="table: counts per package and code (default); concise/json: the findings; "
        "triage-stub: [[finding]] tables for findings not in the triage file yet",
    )
    parser.add_argument("--triage", action="store_true", help="compare the findings with the triage file")
    parser.add_argument(
        "--fix-check", action="store_true", help="check --fix and --unsafe-fixes on a copy: idempotent, compiles"
    )
    parser.add_argument("--triage-file", type=Path, default=DEFAULT_TRIAGE)
    args = parser.parse_args(argv)

    pins = read_pins(args.pins) if args.pins else list(PACKAGES)
    if args.packages:
        wanted = {normalize(p) for p in args.packages}
        unknown = wanted - {normalize(n) for n, _ in pins}
        if unknown:
            parser.error(f"not pinned: {', '.join(sorted(unknown))}")
        pins = [(n, v) for n, v in pins if normalize(n) in wanted]

    cache: Path = args.cache.resolve()
    dirs, files = prepare_sources(cache, pins)
    config = defaults_config(cache)
    findings, elapsed = run_closelint(dirs, config)

    if args.output_format == "table":
        print_table(pins, files, findings)
        print(f"\n{len(findings)} findings in {sum(files.values())} files, closelint took {elapsed:.1f} s")
    elif args.output_format == "concise":
        for f in findings:
            print(f"{f.package}-{f.version}/{f.path}:{f.line}:{f.column}: {f.code} {f.message}")
    elif args.output_format == "json":
        print(json.dumps([f.__dict__ for f in findings], indent=2))
    else:
        print_stubs(findings, args.triage_file)

    if args.fix_check:
        reported = {(cache / "src" / f"{f.package}-{f.version}" / f.path).resolve() for f in findings}
        if check_fixes(dirs, config, reported):
            return 1
    if args.triage:
        return report_triage(findings, args.triage_file, pins)
    return 0


if __name__ == "__main__":
    sys.exit(main())
