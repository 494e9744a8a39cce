"""Score closelint on the site-labelled real-code sets: precision AND recall per code.

    python benchmarks/realworld/score_sites.py --cache /work/rw-cache
    python benchmarks/realworld/score_sites.py --cache /work/rw-cache --list     # ... and every miss / false report

`sites.toml` (main set, run.py's PACKAGES), `sites-heldout.toml` (held-out set, heldout.txt),
`sites-heldout-fresh.toml` (fresh held-out set, heldout-fresh.txt) and `sites-heldout-blind.toml` (blind
held-out set, heldout-blind.txt, printed last) hold one `[[site]]` per (package, version, path, line) with
the SPEC §2 codes a correct closelint reports at that line (`codes = []`: clean there) and a one-line
`reason`. closelint runs once, with default settings, over the files that hold a labelled site (its findings
are per file, so this is what a run over the whole packages reports on those lines). Per code and part:

- real: labelled sites with the code; reported: labelled sites closelint reports it at;
- TP: both; FN: real but not reported; FP: reported at a labelled site whose codes do not include it;
- precision TP / (TP + FP), recall TP / real.

Findings on lines with no label do not count (run.py's triage covers those). The last lines of each part
repeat the totals without test modules (tests/, test_*.py, conftest.py, ...), the quiet-in-tests policy's
stake. Before scoring, every labelled line is checked against the unpacked package: it must hold a site
sample_sites.py finds there, and carry only codes SPEC §2 reports at a site of that kind (a shifted line or a
misplaced code; the message names the site only, so that a held-out label is not shown). The exit status is
0 whatever the scores, 2 for a malformed labels file or a misplaced site.
"""

from __future__ import annotations

import argparse
import re
import sys
from collections.abc import Iterable, Sequence
from dataclasses import dataclass
from pathlib import Path, PurePosixPath

sys.path.insert(0, str(Path(__file__).resolve().parent))
import tomllib

from run import PACKAGES, Finding, defaults_config, prepare_sources, read_pins, run_closelint
from sample_sites import CODES_OF_KIND, module_sites

HERE = Path(__file__).resolve().parent
#: (title, labels file, pins file or None for run.py's PACKAGES)
PARTS: tuple[tuple[str, Path, Path | None], ...] = (
    ("main", HERE / "sites.toml", None),
    ("held-out", HERE / "sites-heldout.toml", HERE / "heldout.txt"),
    ("held-out (fresh)", HERE / "sites-heldout-fresh.toml", HERE / "heldout-fresh.txt"),
    ("held-out (blind)", HERE / "sites-heldout-blind.toml", HERE / "heldout-blind.txt"),
)
#: the codes SPEC §2 defines; a label outside them is a typo
SPEC_CODES = ("CL101", "CL102", "CL103", "CL201", "CL202", "CL301", "CL401", "CL501", "CL502")
SITE_KEYS = frozenset({"package", "version", "path", "line", "codes", "reason"})
TEST_PART = re.compile(r"(^|/)(tests?|testing|_tests)/|(^|/)(test_[^/]*|[^/]*_test|conftest)\.py$")

SiteKey = tuple[str, str, str, int]


@dataclass(frozen=True)
class Site:
    package: str
    version: str
    path: str  # relative to the package's source directory, posix separators
    line: int
    codes: frozenset[str]
    reason: str

    @property
    def key(self) -> SiteKey:
        return (self.package, self.version, self.path, self.line)

    @property
    def in_tests(self) -> bool:
        return bool(TEST_PART.search(self.path))


class LabelError(ValueError):
    """A labels file that is not well-formed (unknown key, bad code, duplicate site, empty reason)."""


def load_sites(path: Path, pins: Iterable[tuple[str, str]]) -> list[Site]:
    """The `[[site]]` tables of a labels file, checked.

    Raises `LabelError` for a site outside `pins`, a missing or unknown key, a code outside SPEC §2, a
    repeated code or site, a path that is not relative posix, a line below 1 or an empty reason.
    """
    with open(path, "rb") as handle:
        document = tomllib.load(handle)
    if set(document) - {"site"}:
        raise LabelError(f"{path}: unknown top-level keys {sorted(set(document) - {'site'})}")
    pinned = set(pins)
    sites: list[Site] = []
    seen: set[SiteKey] = set()
    for number, table in enumerate(document.get("site", []), start=1):
        where = f"{path}: site {number}"
        if set(table) != SITE_KEYS:
            raise LabelError(f"{where}: keys must be {sorted(SITE_KEYS)}, got {sorted(table)}")
        codes, line, reason, relative = table["codes"], table["line"], table["reason"], table["path"]
        if (table["package"], table["version"]) not in pinned:
            raise LabelError(f"{where}: {table['package']}=={table['version']} is not pinned for this set")
        if not isinstance(line, int) or line < 1:
            raise LabelError(f"{where}: line must be a positive integer")
        if not isinstance(codes, list) or any(c not in SPEC_CODES for c in codes) or len(set(codes)) != len(codes):
            raise LabelError(f"{where}: codes must be distinct SPEC §2 codes, got {codes!r}")
        if not isinstance(reason, str) or not reason.strip():
            raise LabelError(f"{where}: a reason is required")
        posix = PurePosixPath(relative)
        if not relative.endswith(".py") or posix.is_absolute() or ".." in posix.parts or "\\" in relative:
            raise LabelError(f"{where}: path must be a relative posix path to a .py file, got {relative!r}")
        site = Site(table["package"], table["version"], relative, line, frozenset(codes), reason)
        if site.key in seen:
            raise LabelError(f"{where}: duplicate site {site.key}")
        seen.add(site.key)
        sites.append(site)
    return sites


@dataclass
class Tally:
    real: int = 0
    reported: int = 0
    tp: int = 0
    fp: int = 0

    @property
    def fn(self) -> int:
        return self.real - self.tp

    def add(self, other: Tally) -> None:
        self.real += other.real
        self.reported += other.reported
        self.tp += other.tp
        self.fp += other.fp

    def row(self, title: str) -> str:
        precision = f"{self.tp / (self.tp + self.fp):.2f}" if self.tp + self.fp else "-"
        recall = f"{self.tp / self.real:.2f}" if self.real else "-"
        cells = (self.real, self.reported, self.tp, self.fn, self.fp)
        return f"  {title:<14}" + "".join(f"{c:>9}" for c in cells) + f"{precision:>10}{recall:>8}"


def tally(sites: Sequence[Site], reported: dict[SiteKey, set[str]], code: str) -> Tally:
    result = Tally()
    for site in sites:
        at = reported.get(site.key, set())
        result.real += code in site.codes
        result.reported += code in at
        result.tp += code in site.codes and code in at
        result.fp += code in at and code not in site.codes
    return result


def score(title: str, sites: Sequence[Site], findings: Iterable[Finding], show: bool) -> None:
    """Print the table of one part (and, with `show`, every miss and false report)."""
    labelled = {s.key for s in sites}
    reported: dict[SiteKey, set[str]] = {}
    for f in findings:
        key = (f.package, f.version, f.path, f.line)
        if key in labelled:
            reported.setdefault(key, set()).add(f.code)
    real = sum(len(s.codes) for s in sites)
    clean = sum(1 for s in sites if not s.codes)
    print(f"\n{title}: {len(sites)} sites, {real} real instances, {clean} clean sites")
    headings = ("real", "reported", "TP", "FN", "FP")
    print(f"  {'code':<14}" + "".join(f"{h:>9}" for h in headings) + "  precision  recall")
    overall, outside_tests = Tally(), Tally()
    non_test = [s for s in sites if not s.in_tests]
    for code in SPEC_CODES:
        row = tally(sites, reported, code)
        overall.add(row)
        outside_tests.add(tally(non_test, reported, code))
        print(row.row(code))
    print(overall.row("all"))
    print(outside_tests.row("all, no tests"))
    if show:
        for site in sites:
            at = reported.get(site.key, set())
            for code in sorted(site.codes - at):
                print(f"  FN {code} {site.package} {site.path}:{site.line}  {site.reason}")
            for code in sorted(at - site.codes):
                print(f"  FP {code} {site.package} {site.path}:{site.line}  {site.reason}")


def misplaced_sites(sites: Iterable[Site], roots: dict[tuple[str, str], Path]) -> list[Site]:
    """The sites whose line holds no site sample_sites.py finds in the unpacked package `roots[(name,
    version)]`, or that carry a code SPEC §2 never reports at a site of the kinds found there."""
    wrong = []
    for site in sites:
        path = roots[(site.package, site.version)] / site.path
        kinds = module_sites(path).get(site.line, (set(), ""))[0] if path.is_file() else set()
        allowed = frozenset().union(*(CODES_OF_KIND[kind] for kind in kinds))
        if not kinds or not site.codes <= allowed:
            wrong.append(site)
    return wrong


def main(argv: Sequence[str] | None = None) -> int:
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0] if __doc__ else None)
    parser.add_argument("--cache", type=Path, default=HERE / "cache", help="run.py's download/extract directory")
    parser.add_argument("--list", action="store_true", help="print every miss (FN) and false report (FP)")
    parser.add_argument(
        "--config", type=Path, help="a [tool.closelint] file to score instead of the default settings (a policy)"
    )
    args = parser.parse_args(argv)

    parts: list[tuple[str, list[Site]]] = []
    pins: list[tuple[str, str]] = []
    try:
        for title, labels, pins_file in PARTS:
            part_pins = read_pins(pins_file) if pins_file else list(PACKAGES)
            parts.append((title, load_sites(labels, part_pins)))
            pins += part_pins
    except (OSError, tomllib.TOMLDecodeError, LabelError) as error:
        print(f"score_sites: {error}", file=sys.stderr)
        return 2
    wanted = {(s.package, s.version) for _, sites in parts for s in sites}
    cache: Path = args.cache.resolve()
    dirs, _ = prepare_sources(cache, [p for p in pins if p in wanted])
    roots = {pin: root for root, pin in dirs.items()}
    wrong = misplaced_sites((s for _, sites in parts for s in sites), roots)
    for site in wrong:
        print(f"score_sites: misplaced site: {site.package} {site.path}:{site.line}", file=sys.stderr)
    if wrong:
        return 2
    targets = sorted({roots[(s.package, s.version)] / s.path for _, sites in parts for s in sites})
    findings, elapsed = run_closelint(dirs, args.config or defaults_config(cache), targets)
    print(f"closelint over {len(targets)} files holding labelled sites: {elapsed:.1f} s")
    for title, sites in parts:
        score(title, sites, findings, args.list)
    return 0


if __name__ == "__main__":
    sys.exit(main())
