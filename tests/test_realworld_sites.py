"""The site-labelled real-code sets parse and are well-formed; the checks of the loader can fail (no network)."""

from __future__ import annotations

import importlib.util
import re
import sys
from pathlib import Path
from types import ModuleType

import pytest

REALWORLD = Path(__file__).resolve().parent.parent / "benchmarks" / "realworld"


def load_module(name: str) -> ModuleType:
    spec = importlib.util.spec_from_file_location(name, REALWORLD / f"{name}.py")
    assert spec is not None and spec.loader is not None
    module = importlib.util.module_from_spec(spec)
    sys.modules[name] = module
    spec.loader.exec_module(module)
    return module


@pytest.fixture(scope="module")
def score_sites() -> ModuleType:
    sys.path.insert(0, str(REALWORLD))
    try:
        return load_module("score_sites")
    finally:
        sys.path.remove(str(REALWORLD))


def test_every_part_is_well_formed(score_sites: ModuleType) -> None:
    real = 0
    for _title, labels, pins_file in score_sites.PARTS:
        pins = score_sites.read_pins(pins_file) if pins_file else score_sites.PACKAGES
        sites = score_sites.load_sites(labels, pins)
        real += sum(len(s.codes) for s in sites)
    assert real > 0


def test_every_labels_file_is_a_part(score_sites: ModuleType) -> None:
    """A labels file the scorer does not list would be neither checked nor scored."""
    parts = {labels.name for _title, labels, _pins in score_sites.PARTS}
    assert parts == {path.name for path in REALWORLD.glob("sites*.toml")}


def test_parts_share_no_package(score_sites: ModuleType) -> None:
    """A held-out part measures generalisation only on packages no other part holds."""
    owner: dict[str, str] = {}
    for title, _labels, pins_file in score_sites.PARTS:
        pins = score_sites.read_pins(pins_file) if pins_file else score_sites.PACKAGES
        for name, _version in pins:
            key = re.sub(r"[-_.]+", "-", name).lower()
            assert owner.setdefault(key, title) == title, f"{name} is in {owner[key]} and {title}"


def test_a_shifted_line_or_a_misplaced_code_is_caught(score_sites: ModuleType, tmp_path: Path) -> None:
    """score_sites.py refuses to score a labelled line that holds no sampled site, or a code SPEC §2 never
    reports at a site of that kind (checked on a package unpacked here: the corpus itself is the benchmark's)."""
    module = tmp_path / "demo" / "net.py"
    module.parent.mkdir()
    module.write_text(
        "import socket\n\n\ndef dial(host):\n    sock = socket.create_connection((host, 80))\n    return sock\n",
        encoding="utf-8",
    )
    roots = {("demo", "1.0"): tmp_path}

    def site(line: int, *codes: str) -> object:
        return score_sites.Site("demo", "1.0", "demo/net.py", line, frozenset(codes), "r")

    right, shifted, misplaced, missing = site(5, "CL102"), site(6, "CL102"), site(5, "CL401"), site(5)
    gone = score_sites.Site("demo", "1.0", "demo/gone.py", 5, frozenset(), "r")
    assert score_sites.misplaced_sites([right, missing, shifted, misplaced, gone], roots) == [shifted, misplaced, gone]


def test_labelled_codes_are_codes_closelint_has(score_sites: ModuleType) -> None:
    from closelint.registry import known_codes

    assert set(score_sites.SPEC_CODES) <= known_codes()


GOOD = """
[[site]]
package = "demo"
version = "1.0"
path = "demo/net.py"
line = 12
codes = ["CL102"]
reason = "connect() may raise before the socket is returned"
"""


@pytest.mark.parametrize(
    ("replace", "by", "message"),
    [
        ('codes = ["CL102"]', 'codes = ["CL999"]', "SPEC"),
        ('codes = ["CL102"]', 'codes = ["CL102", "CL102"]', "distinct"),
        ('reason = "connect() may raise before the socket is returned"', 'reason = " "', "reason"),
        ("line = 12", "line = 0", "positive"),
        ('path = "demo/net.py"', 'path = "../demo/net.py"', "relative"),
        ('version = "1.0"', 'version = "2.0"', "not pinned"),
        ("line = 12", 'line = 12\nverdict = "true"', "keys"),
        ("line = 12\n", "", "keys"),
    ],
)
def test_malformed_sites_are_rejected(
    score_sites: ModuleType, tmp_path: Path, replace: str, by: str, message: str
) -> None:
    labels = tmp_path / "sites.toml"
    assert replace in GOOD
    labels.write_text(GOOD.replace(replace, by), encoding="utf-8")
    with pytest.raises(score_sites.LabelError, match=message):
        score_sites.load_sites(labels, [("demo", "1.0")])


def test_a_duplicate_site_is_rejected(score_sites: ModuleType, tmp_path: Path) -> None:
    labels = tmp_path / "sites.toml"
    labels.write_text(GOOD + GOOD.replace('["CL102"]', "[]"), encoding="utf-8")
    with pytest.raises(score_sites.LabelError, match="duplicate"):
        score_sites.load_sites(labels, [("demo", "1.0")])
    labels.write_text(GOOD, encoding="utf-8")
    assert [s.codes for s in score_sites.load_sites(labels, [("demo", "1.0")])] == [frozenset({"CL102"})]


def test_scores_count_misses_and_false_reports(score_sites: ModuleType) -> None:
    site = score_sites.Site("demo", "1.0", "demo/net.py", 12, frozenset({"CL102"}), "r")
    clean = score_sites.Site("demo", "1.0", "demo/tests/test_net.py", 30, frozenset(), "r")
    reported = {clean.key: {"CL102"}}
    row = score_sites.tally([site, clean], reported, "CL102")
    assert (row.real, row.reported, row.tp, row.fn, row.fp) == (1, 1, 0, 1, 1)
    assert clean.in_tests and not site.in_tests
