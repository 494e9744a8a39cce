"""Every fixture reports exactly the findings marked in it, and nothing else (both ways)."""

from __future__ import annotations

from pathlib import Path

import pytest
from fixture_markers import expected, fixture_files, lint_path, selected_prefixes

from closelint.config import Settings
from closelint.engine import lint_source


@pytest.mark.parametrize("path", fixture_files(), ids=lambda p: p.name)
def test_fixture_reports_exactly_the_marked_findings(path: Path) -> None:
    prefixes = selected_prefixes(path)
    result = lint_source(path.read_bytes(), lint_path(path), Settings())
    reported = {(v.line, v.code) for v in result.violations if v.code.startswith(prefixes)}
    marked = {(line, code) for line, code in expected(path) if code.startswith(prefixes)}
    assert sorted(reported - marked) == [], "reported but not marked (false positives)"
    assert sorted(marked - reported) == [], "marked but not reported (false negatives)"


def test_every_rule_has_positive_and_negative_fixtures() -> None:
    from closelint.registry import all_rules

    names = [p.name for p in fixture_files()]
    for code in all_rules():
        stem = code.lower()
        assert any(n.startswith(stem + "_") and "_ok_" not in n for n in names), f"no positive fixture for {code}"
        assert any(n.startswith(stem + "_ok_") for n in names), f"no negative fixture for {code}"
