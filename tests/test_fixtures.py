"""Every fixture reports exactly the findings marked in it under its selection, and nothing else (both ways)."""

from __future__ import annotations

from pathlib import Path

import pytest
from fixture_markers import MarkerError, fixture_files, read_fixture

from closelint.config import Settings
from closelint.engine import lint_source
from closelint.registry import all_rules


@pytest.mark.parametrize("path", fixture_files(), ids=lambda p: p.name)
def test_fixture_reports_exactly_the_marked_findings(path: Path) -> None:
    fixture = read_fixture(path)
    result = lint_source(path.read_bytes(), fixture.lint_as, Settings(select=fixture.select))
    assert result.error is None, result.error
    reported = {(v.line, v.code) for v in result.violations}
    assert sorted(reported - fixture.expected) == [], "reported but not marked (false positives)"
    assert sorted(fixture.expected - reported) == [], "marked but not reported (false negatives)"


def test_every_rule_has_positive_and_negative_fixtures() -> None:
    names = [p.name for p in fixture_files()]
    for code in all_rules():
        stem = code.lower()
        assert any(n.startswith(stem + "_") and "_ok_" not in n for n in names), f"no positive fixture for {code}"
        assert any(n.startswith(stem + "_ok_") for n in names), f"no negative fixture for {code}"


# --- the harness itself is strict -------------------------------------------------------------------------

LEAK = "import socket\n\n\ndef f():\n    s = socket.socket()\n    s.connect(('h', 1))\n"


def write_fixture(tmp_path: Path, name: str, text: str) -> Path:
    path = tmp_path / name
    path.write_text(text, encoding="utf-8")
    return path


@pytest.mark.parametrize(
    ("marker", "problem"),
    [
        ("# expect CL101", "malformed marker"),
        ("# expect: cl101", "malformed marker"),
        ("# expect: CL10", "malformed marker"),
        ("# expect: CL101 and more", "malformed marker"),
        ("#Expect:CL101,", "malformed marker"),
        ("# expect: CL201", "selects only"),
    ],
)
def test_a_marker_that_is_not_exactly_one_is_an_error(tmp_path: Path, marker: str, problem: str) -> None:
    text = "# fixture-select: CL1\n" + LEAK.replace("socket.socket()", f"socket.socket()  {marker}")
    with pytest.raises(MarkerError, match=problem):
        read_fixture(write_fixture(tmp_path, "cl101_probe.py", text))


def test_markers_are_read_from_comments_only(tmp_path: Path) -> None:
    text = '# fixture-select: CL1\n"""# expect CL101 in a docstring is prose."""\n' + LEAK.replace(
        "socket.socket()", "socket.socket()  # expect: CL101, CL102"
    )
    fixture = read_fixture(write_fixture(tmp_path, "cl101_probe.py", text))
    assert fixture.expected == {(7, "CL101"), (7, "CL102")}
    assert fixture.select == ("CL1",)


def test_a_positive_fixture_must_mark_its_own_code(tmp_path: Path) -> None:
    with pytest.raises(MarkerError, match="marks no CL101"):
        read_fixture(write_fixture(tmp_path, "cl101_probe.py", "# fixture-select: CL1\n" + LEAK))
    marked_elsewhere = LEAK.replace("socket.socket()", "socket.socket()  # expect: CL102")
    with pytest.raises(MarkerError, match="marks no CL101"):
        read_fixture(write_fixture(tmp_path, "cl101_probe.py", "# fixture-select: CL1\n" + marked_elsewhere))


def test_a_negative_fixture_must_not_mark_its_own_code(tmp_path: Path) -> None:
    text = "# fixture-select: CL1\n" + LEAK.replace("socket.socket()", "socket.socket()  # expect: CL101")
    with pytest.raises(MarkerError, match="negative fixture marks CL101"):
        read_fixture(write_fixture(tmp_path, "cl101_ok_probe.py", text))


def test_a_fixture_must_select_its_own_code(tmp_path: Path) -> None:
    with pytest.raises(MarkerError, match="does not select its own code CL201"):
        read_fixture(write_fixture(tmp_path, "cl201_ok_probe.py", "# fixture-select: CL1\n" + LEAK))


def test_without_a_header_every_code_is_judged(tmp_path: Path) -> None:
    text = LEAK.replace("socket.socket()", "socket.socket()  # expect: CL101")
    fixture = read_fixture(write_fixture(tmp_path, "cl101_probe.py", text))
    assert fixture.select == ("CL",)
    assert fixture.lint_as == str(tmp_path / "cl101_probe.py")
