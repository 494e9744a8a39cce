"""SARIF 2.1.0, the format code-scanning services (GitHub code scanning, Azure DevOps, IDE viewers) read."""

from __future__ import annotations

import json
import os
import re
from collections.abc import Sequence
from pathlib import Path
from typing import Any
from urllib.parse import quote

from closelint import __version__
from closelint.model import Edit, Fix, Violation
from closelint.output import (
    INFORMATION_URI,
    PARSE_ERROR_NAME,
    OutputContext,
    is_error,
    relative_path,
    rule_url,
    span,
)
from closelint.registry import PARSE_ERROR, all_rules
from closelint.rule import Rule
from closelint.ruledocs import DOCS_URL, render_rule

NAME = "sarif"
SCHEMA_URI = "https://docs.oasis-open.org/sarif/sarif/v2.1.0/errata01/os/schemas/sarif-schema-2.1.0.json"
#: relative artifact URIs are resolved against this base: the directory closelint ran in
SRCROOT = "%SRCROOT%"
_SENTENCE_END = re.compile(r"(?<=[a-z)`'])[.:] ")


def render(violations: Sequence[Violation], context: OutputContext) -> str:
    rules = [_parse_error_descriptor(), *(_descriptor(rule) for rule in all_rules().values())]
    index = {rule["id"]: i for i, rule in enumerate(rules)}
    run = {
        "tool": {
            "driver": {
                "name": "closelint",
                "version": __version__,
                "semanticVersion": __version__,
                "informationUri": INFORMATION_URI,
                "rules": rules,
            }
        },
        "originalUriBaseIds": {SRCROOT: {"uri": _directory_uri(os.getcwd())}},
        "columnKind": "unicodeCodePoints",
        "results": [_result(v, index.get(v.code)) for v in violations],
    }
    log = {"$schema": SCHEMA_URI, "version": "2.1.0", "runs": [run]}
    return json.dumps(log, indent=2) + "\n"


def _descriptor(rule: type[Rule]) -> dict[str, Any]:
    """A `reportingDescriptor`: what code scanning shows as the rule's title, help and link."""
    short = _SENTENCE_END.split(rule.summary, maxsplit=1)[0].rstrip(".")
    descriptor: dict[str, Any] = {
        "id": rule.code,
        "name": rule.name,
        "shortDescription": {"text": f"{short}."},
        "fullDescription": {"text": f"{rule.summary}\n\n{rule.rationale}"},
        "helpUri": rule_url(rule.code),
        "help": {"text": rule.rationale, "markdown": render_rule(rule, level=2)},
        "defaultConfiguration": {"level": "warning"},
    }
    if rule.fix_applicability is not None:
        descriptor["properties"] = {"fix": rule.fix_applicability.value}
    return descriptor


def _parse_error_descriptor() -> dict[str, Any]:
    text = "The file could not be decoded or parsed as Python, so it was not checked."
    return {
        "id": PARSE_ERROR,
        "name": PARSE_ERROR_NAME,
        "shortDescription": {"text": "File could not be parsed."},
        "fullDescription": {"text": text},
        "helpUri": DOCS_URL,
        "defaultConfiguration": {"level": "error"},
    }


def _result(v: Violation, rule_index: int | None) -> dict[str, Any]:
    line, col, end_line, end_col = span(v)
    location = _artifact_location(v.path)
    result: dict[str, Any] = {
        "ruleId": v.code,
        "level": "error" if is_error(v.code) else "warning",
        "message": {"text": v.message},
        "locations": [
            {
                "physicalLocation": {
                    "artifactLocation": location,
                    "region": {"startLine": line, "startColumn": col, "endLine": end_line, "endColumn": end_col},
                }
            }
        ],
    }
    if rule_index is not None:
        result["ruleIndex"] = rule_index
    if v.fix is not None and v.fix.edits:
        result["fixes"] = [_fix(v.fix, location)]
    return result


def _directory_uri(directory: str) -> str:
    uri = Path(directory).as_uri()
    return uri if uri.endswith("/") else uri + "/"


def _artifact_location(path: str) -> dict[str, str]:
    """A URI relative to %SRCROOT% (the working directory), or an absolute `file:` URI for a path outside it."""
    shown = relative_path(path)
    if Path(shown).is_absolute():
        return {"uri": Path(shown).as_uri()}
    return {"uri": quote(os.fsencode(shown)), "uriBaseId": SRCROOT}  # a name's bytes, percent-encoded (RFC 3986)


def _fix(fix: Fix, location: dict[str, str]) -> dict[str, Any]:
    """A SARIF `fix`: only emitted with edits, since SARIF requires at least one replacement."""
    return {
        "description": {"text": f"{fix.description} ({fix.applicability.value} fix)"},
        "artifactChanges": [{"artifactLocation": location, "replacements": [_replacement(e) for e in fix.edits]}],
    }


def _replacement(edit: Edit) -> dict[str, Any]:
    (line, col), (end_line, end_col) = edit.start, edit.end
    region = {"startLine": line, "startColumn": col + 1, "endLine": end_line, "endColumn": end_col + 1}
    return {"deletedRegion": region, "insertedContent": {"text": edit.content}}
