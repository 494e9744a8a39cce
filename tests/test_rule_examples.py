"""Tests generated from each rule's own metadata: its VALID/INVALID examples and documented example."""

from __future__ import annotations

import pytest

from closelint.config import Settings
from closelint.engine import lint_source
from closelint.registry import all_rules
from closelint.rule import Rule

RULES = list(all_rules().values())


def codes(source: str) -> list[str]:
    return [v.code for v in lint_source(source, "example.py", Settings()).violations]


def _cases(kind: str) -> list[tuple[type[Rule], str]]:
    return [(rule, case.code) for rule in RULES for case in getattr(rule, kind)]


@pytest.mark.parametrize(("rule", "source"), _cases("valid"), ids=lambda x: getattr(x, "code", ""))
def test_valid_examples_are_not_reported(rule: type[Rule], source: str) -> None:
    assert rule.code not in codes(source)


@pytest.mark.parametrize(("rule", "source"), _cases("invalid"), ids=lambda x: getattr(x, "code", ""))
def test_invalid_examples_are_reported(rule: type[Rule], source: str) -> None:
    assert rule.code in codes(source)


@pytest.mark.parametrize("rule", RULES, ids=lambda r: r.code)
def test_documented_example_is_reported_and_fixed_example_is_clean(rule: type[Rule]) -> None:
    assert rule.code in codes(rule.example)
    assert rule.code not in codes(rule.fixed_example)


@pytest.mark.parametrize("rule", RULES, ids=lambda r: r.code)
def test_metadata_is_complete(rule: type[Rule]) -> None:
    assert rule.valid and rule.invalid, "every rule carries its own valid and invalid examples"
    for text in (rule.name, rule.message, rule.summary, rule.rationale, rule.example, rule.fixed_example):
        assert text.strip()
    assert rule.name == rule.name.lower() and " " not in rule.name
