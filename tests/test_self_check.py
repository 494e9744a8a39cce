"""closelint's own code, and the helper it writes into users' projects, are clean by its own rules."""

from __future__ import annotations

from pathlib import Path

import pytest

from closelint.cli import main

SRC = Path(__file__).resolve().parent.parent / "src"


def test_closelint_check_reports_nothing_on_its_own_source(capsys: pytest.CaptureFixture[str]) -> None:
    assert main(["check", "--no-cache", "--output-format", "concise", str(SRC)]) == 0
    assert "CL" not in capsys.readouterr().out


def test_closelint_check_reports_nothing_on_a_vendored_helper(
    tmp_path: Path, capsys: pytest.CaptureFixture[str]
) -> None:
    assert main(["vendor-helper", str(tmp_path)]) == 0
    assert main(["check", "--no-cache", "--output-format", "concise", str(tmp_path / "graceful_close.py")]) == 0
    assert "CL" not in capsys.readouterr().out.replace("closelint", "")
