"""SARIF 2.1.0, the format code-scanning services (GitHub code scanning, Azure DevOps, IDE viewers) read."""

from __future__ import annotations

import hashlib
import json
import os
import re
from collections import Counter
from collections.abc import Mapping, Sequence
from pathlib import Path
from typing import Any
from urllib.parse import quote

from closelint import __version__
from closelint.model import Edit, Fix, Violation
from closelint.output import (
    PARSE_ERROR_NAME,
    UNUSED_NOQA_NAME,
    OutputContext,
    is_error,
    relative_path,
    span,
)
from closelint.registry import PARSE_ERROR, UNUSED_NOQA, all_rules
from closelint.rule import Rule
from closelint.ruledocs import render_rule

NAME = "sarif"
SCHEMA_URI = "https://docs.oasis-open.org/sarif/sarif/v2.1.0/errata01/os/schemas/sarif-schema-2.1.0.json"
#: relative artifact URIs are resolved against this base: the directory closelint ran in
SRCROOT = "%SRCROOT%"
#: the `partialFingerprints` key of closelint's own fingerprint (versioned, as SARIF recommends)
FINGERPRINT = "closelintLineHash/v1"
_SENTENCE_END = re.compile(r"(?<=[a-z)`'])[.:] ")


def render(violations: Sequence[Violation], context: OutputContext) -> str:
    rules = [*_pseudo_rule_descriptors(), *(_descriptor(rule) for rule in all_rules().values())]
    index = {rule["id"]: i for i, rule in enumerate(rules)}
    run = {
        "tool": {
            "driver": {
                "name": "closelint",
                "version": __version__,
                "semanticVersion": __version__,
                "rules": rules,
            }
        },
        "originalUriBaseIds": {SRCROOT: {"uri": _directory_uri(os.getcwd())}},
        "columnKind": "unicodeCodePoints",
        "results": [
            _result(v, index.get(v.code), fingerprint)
            for v, fingerprint in zip(violations, fingerprints(violations, context.sources), strict=True)
        ],
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
        "help": {"text": rule.rationale, "markdown": render_rule(rule, level=2)},
        "defaultConfiguration": {"level": "warning"},
    }
    if rule.fix_applicability is not None:
        descriptor["properties"] = {"fix": rule.fix_applicability.value}
    return descriptor


def _pseudo_rule_descriptors() -> list[dict[str, Any]]:
    """CL000 (a file that could not be parsed) and CL001 (a noqa directive that silences nothing)."""
    unused = "A noqa directive lists a closelint code that nothing on its line reports; remove the code."
    return [
        {
            "id": PARSE_ERROR,
            "name": PARSE_ERROR_NAME,
            "shortDescription": {"text": "File could not be parsed."},
            "fullDescription": {"text": "The file could not be decoded or parsed as Python, so it was not checked."},
            "defaultConfiguration": {"level": "error"},
        },
        {
            "id": UNUSED_NOQA,
            "name": UNUSED_NOQA_NAME,
            "shortDescription": {"text": "Unused noqa directive."},
            "fullDescription": {"text": unused},
            "defaultConfiguration": {"level": "warning"},
        },
    ]


def fingerprints(violations: Sequence[Violation], sources: Mapping[str, str]) -> list[str]:
    """A `partialFingerprints` value per finding that survives edits elsewhere in the file: a hash of the
    rule, the file, the reported line's text (whitespace collapsed, so re-indenting keeps it) and the
    message, plus how many earlier findings had the same hash (identical lines stay distinct). Code
    scanning matches results across commits by it (SARIF 2.1.0 §3.27.17)."""
    seen: Counter[str] = Counter()
    out = []
    for v in violations:
        lines = sources.get(v.path, "").splitlines()
        text = " ".join(lines[v.line - 1].split()) if 0 < v.line <= len(lines) else ""
        identity = "\0".join((v.code, relative_path(v.path), text, v.message))
        key = hashlib.sha256(identity.encode("utf-8", "surrogatepass")).hexdigest()  # undecodable names too
        out.append(f"{key[:32]}:{seen[key]}")
        seen[key] += 1
    return out


def _result(v: Violation, rule_index: int | None, fingerprint: str) -> dict[str, Any]:
    line, col, end_line, end_col = span(v)
    location = _artifact_location(v.path)
    result: dict[str, Any] = {
        "ruleId": v.code,
        "level": "error" if is_error(v.code) else "warning",
        "message": {"text": v.message},
        "partialFingerprints": {FINGERPRINT: fingerprint},
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
