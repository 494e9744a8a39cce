"""Output formats: one small module per format, each exposing `NAME` and `render(violations, context)`.

Every format renders the same sorted findings list; adding a format is adding a module here.
"""

from __future__ import annotations

import importlib
import os
from collections.abc import Callable, Mapping, Sequence
from functools import cache
from pathlib import Path
from types import MappingProxyType
from typing import IO, NamedTuple

from closelint.model import Violation

#: the name reported for CL000, which has no rule class
PARSE_ERROR_NAME = "parse-error"
#: the name reported for CL001, which has no rule class either
UNUSED_NOQA_NAME = "unused-noqa"


class OutputContext(NamedTuple):
    """What a format may need beyond the findings."""

    files_checked: int = 0
    show_fixes: bool = False
    fixed: int = 0
    sources: Mapping[str, str] = MappingProxyType({})
    #: ANSI colours in the text formats (`color_wanted`)
    color: bool = False


Renderer = Callable[[Sequence[Violation], OutputContext], str]


@cache
def formats() -> dict[str, Renderer]:
    """Every output format by name."""
    return {name: renderer(name) for name in format_names()}


def format_names() -> list[str]:
    """The name of every output format, sorted: each module here is the format of its name (importing
    none of them: a run loads only the format it prints)."""
    here = os.path.dirname(__file__)  # listed, not pkgutil.iter_modules, which imports inspect (ms a run)
    return sorted(name[:-3] for name in os.listdir(here) if name.endswith(".py") and not name.startswith("_"))


def renderer(name: str) -> Renderer:
    """The `render` function of the format `name`."""
    module = importlib.import_module(f"{__name__}.{name}")
    assert name == module.NAME, f"{module.__name__} declares the format {module.NAME!r}"
    render: Renderer = module.render
    return render


# --- what several formats share -------------------------------------------------------------------------

_STYLES = {"bold": "1", "red": "1;31", "cyan": "36", "dim": "2"}


def paint(text: str, style: str, enabled: bool) -> str:
    """`text` in an ANSI style (`bold`, `red`, `cyan`, `dim`) when `enabled`."""
    return f"\x1b[{_STYLES[style]}m{text}\x1b[0m" if enabled else text


def color_wanted(stream: IO[str], environ: Mapping[str, str]) -> bool:
    """Whether to colour what goes to `stream`: never with `NO_COLOR` set (no-color.org), always with
    `FORCE_COLOR` set (force-color.org), else on a terminal that is not `TERM=dumb` (CPython's order)."""
    if environ.get("NO_COLOR"):
        return False
    if environ.get("FORCE_COLOR"):
        return True
    if environ.get("TERM") == "dumb":
        return False
    isatty = getattr(stream, "isatty", None)
    return bool(isatty and isatty())


def relative_path(path: str, start: str | None = None) -> str:
    """`path` relative to `start` (default: the working directory) with '/' separators; absolute when outside."""
    absolute = os.path.abspath(path)
    try:
        relative = os.path.relpath(absolute, start or os.getcwd())
    except ValueError:  # another drive (Windows)
        return Path(absolute).as_posix()
    if relative == os.pardir or relative.startswith(os.pardir + os.sep):
        return Path(absolute).as_posix()
    return Path(relative).as_posix()


def span(v: Violation) -> tuple[int, int, int, int]:
    """1-based start line and column, end line and column (the end column is one past the last character)."""
    if not v.end_line:
        return v.line, v.col + 1, v.line, v.col + 1
    return v.line, v.col + 1, v.end_line, v.end_col + 1


def is_error(code: str) -> bool:
    """Whether a code is an error (a file closelint could not parse) rather than a warning."""
    from closelint.registry import PARSE_ERROR

    return code == PARSE_ERROR


def rule_name(code: str) -> str:
    from closelint.registry import PARSE_ERROR, UNUSED_NOQA, all_rules

    rule = all_rules().get(code)
    if rule is not None:
        return rule.name
    return {PARSE_ERROR: PARSE_ERROR_NAME, UNUSED_NOQA: UNUSED_NOQA_NAME}.get(code, "unknown")
