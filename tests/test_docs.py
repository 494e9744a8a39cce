"""docs/rules.md is generated from rule metadata; this fails when it drifts."""

from __future__ import annotations

from pathlib import Path

from closelint.cli import main
from closelint.registry import all_rules
from closelint.ruledocs import render_rule, render_rules_page

RULES_PAGE = Path(__file__).resolve().parents[1] / "docs" / "rules.md"


def test_rules_page_matches_metadata() -> None:
    assert RULES_PAGE.read_text(encoding="utf-8") == render_rules_page(), (
        "docs/rules.md is stale: run `python -m closelint.ruledocs docs/rules.md`"
    )


def test_rule_command_prints_the_same_text_as_the_docs(capsys) -> None:  # type: ignore[no-untyped-def]
    page = RULES_PAGE.read_text(encoding="utf-8")
    for code, rule in all_rules().items():
        assert main(["rule", code]) == 0
        printed = capsys.readouterr().out
        assert printed == render_rule(rule)
        assert render_rule(rule, level=2) in page
