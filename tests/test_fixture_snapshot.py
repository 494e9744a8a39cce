"""What every fixture reports, word for word, against a reviewed snapshot (tests/__snapshots__/).

`test_fixtures.py` checks where findings are (line and code, both ways); this checks what a user reads and
what `--fix` would do: the column span, the message with its names filled in, and the fix offered (its
applicability, rewrite, lines and the reason it is unsafe). A change to any of them fails here until the new
text is reviewed and the snapshot rewritten with `pytest tests/test_fixture_snapshot.py --snapshot-update`.
"""

from __future__ import annotations

from pathlib import Path

import pytest
from fixture_markers import fixture_files, read_fixture
from syrupy.assertion import SnapshotAssertion

from closelint.config import Settings
from closelint.engine import lint_source
from closelint.model import Violation


def described(violation: Violation) -> str:
    """One finding as a user and the fix engine see it."""
    v = violation
    text = f"{v.line}:{v.col}-{v.end_line}:{v.end_col} {v.code} {v.message}"
    if v.fix is not None:
        first, last = v.fix.span
        text += f" | fix {v.fix.applicability.value} {v.fix.key} lines {first}-{last}"
        if v.fix.reason:
            text += f" ({v.fix.reason})"
    return text


@pytest.mark.parametrize("path", fixture_files(), ids=lambda p: p.name)
def test_fixture_findings_read_as_reviewed(path: Path, snapshot: SnapshotAssertion) -> None:
    fixture = read_fixture(path)
    result = lint_source(path.read_bytes(), fixture.lint_as, Settings(select=fixture.select))
    assert [described(v) for v in sorted(result.violations)] == snapshot
