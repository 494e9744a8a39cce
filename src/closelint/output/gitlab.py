"""GitLab code quality report: a JSON list GitLab shows in merge requests (`artifacts:reports:codequality`)."""

from __future__ import annotations

import hashlib
import json
from collections import Counter
from collections.abc import Sequence
from typing import Any

from closelint.files import unicode_path
from closelint.model import Violation
from closelint.output import OutputContext, is_error, relative_path, rule_name

NAME = "gitlab"


def render(violations: Sequence[Violation], context: OutputContext) -> str:
    seen: Counter[tuple[str, str, str]] = Counter()
    issues = []
    for v in violations:
        path = unicode_path(relative_path(v.path))  # JSON strings are Unicode: a name's other bytes as \xNN
        key = (path, v.code, v.message)
        seen[key] += 1
        issues.append(_issue(v, path, _fingerprint(*key, seen[key])))
    return json.dumps(issues, indent=2) + "\n"


def _fingerprint(path: str, code: str, message: str, occurrence: int) -> str:
    """Stable while lines move: the file, the code, the message and which occurrence of that triple it is."""
    return hashlib.sha256(f"{path}\0{code}\0{message}\0{occurrence}".encode()).hexdigest()


def _issue(v: Violation, path: str, fingerprint: str) -> dict[str, Any]:
    return {
        "description": f"{v.code} {v.message}",
        "check_name": f"{v.code} {rule_name(v.code)}",
        "fingerprint": fingerprint,
        "severity": "critical" if is_error(v.code) else "major",
        "location": {"path": path, "lines": {"begin": v.line, "end": v.end_line or v.line}},
    }
