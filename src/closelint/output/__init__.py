"""Output formats: one small module per format, each exposing `NAME` and `render(violations, context)`.

Every format renders the same sorted findings list; adding a format is adding a module here.
"""

from __future__ import annotations

import importlib
import pkgutil
from collections.abc import Callable, Sequence
from dataclasses import dataclass, field
from functools import cache

from closelint.model import Violation


@dataclass(frozen=True)
class OutputContext:
    """What a format may need beyond the findings."""

    files_checked: int = 0
    show_fixes: bool = False
    fixed: int = 0
    sources: dict[str, str] = field(default_factory=dict)


Renderer = Callable[[Sequence[Violation], OutputContext], str]


@cache
def formats() -> dict[str, Renderer]:
    """Every output format by name."""
    found: dict[str, Renderer] = {}
    for info in pkgutil.iter_modules(__path__):
        module = importlib.import_module(f"{__name__}.{info.name}")
        found[module.NAME] = module.render
    return found
