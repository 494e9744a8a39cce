"""The README's promises: its example reports what its comments say, its configuration block is valid."""

from __future__ import annotations

import re
import tomllib
from pathlib import Path

from closelint.config import Settings, settings_from_table
from closelint.engine import lint_source

README = (Path(__file__).resolve().parents[1] / "README.md").read_text(encoding="utf-8")


def _block(after: str, language: str) -> str:
    match = re.search(re.escape(after) + r"\n\n```" + language + r"\n(.*?)```", README, re.S)
    assert match, f"no {language} block after {after!r}"
    return match.group(1)


def test_rule_example_reports_exactly_what_its_comments_say() -> None:
    source = _block("A short example of each:", "python")
    said = {
        (number, code)
        for number, line in enumerate(source.splitlines(), start=1)
        if "#" in line
        for code in re.findall(r"CL\d{3}", line.split("#", 1)[1])
    }
    reported = {(v.line, v.code) for v in lint_source(source, "readme_example.py", Settings()).violations}
    assert reported == said
    assert {code for _, code in said} == {f"CL{n}" for n in (101, 102, 103, 201, 202, 301, 401, 501, 502)}


def test_configuration_reference_is_valid() -> None:
    table = tomllib.loads(_block("An unknown key or code is an error that names it (exit 2).", "toml"))
    settings = settings_from_table(table["tool"]["closelint"], source="README.md")
    assert settings.ignore == ("CL103",)
