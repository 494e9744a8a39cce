"""The concise line plus the offending source line and a caret under the reported column."""

from __future__ import annotations

from collections.abc import Sequence

from closelint.model import Violation
from closelint.output import OutputContext, paint
from closelint.output.concise import line

NAME = "full"


def render(violations: Sequence[Violation], context: OutputContext) -> str:
    out = []
    split: dict[str, list[str]] = {}  # each file once: splitting it per finding is quadratic in a big file
    for v in violations:
        marker = paint(" [*]", "cyan", context.color) if v.fixable else ""
        out.append(f"{line(v, context.color)}{marker}\n")
        if v.path not in split:
            split[v.path] = context.sources.get(v.path, "").splitlines()
        source = split[v.path]
        if 0 < v.line <= len(source):
            text = source[v.line - 1].expandtabs(1)
            out.append(f"    {v.line} | {text}\n")
            out.append(f"    {' ' * len(str(v.line))} | {' ' * v.col}{paint('^', 'red', context.color)}\n")
    return "".join(out)
