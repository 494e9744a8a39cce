"""flake8 plugin (entry point `CL`): a thin adapter over `engine.lint_source`.

It reuses the tree flake8 already parsed and reads the same `[tool.closelint]` settings as the CLI, so
`flake8 --select CL` reports exactly what `closelint check` reports; flake8 applies `noqa` itself.
"""

from __future__ import annotations

import ast
from collections.abc import Iterator
from functools import cache
from pathlib import Path
from typing import Any

from closelint import __version__
from closelint.config import ConfigError, Settings, load_settings
from closelint.engine import lint_source
from closelint.registry import PARSE_ERROR


@cache
def _settings(cwd: Path) -> Settings | ConfigError:
    """The CLI's settings for this directory, or the error that makes the CLI refuse to run."""
    try:
        return load_settings(start=cwd)
    except ConfigError as error:
        return error


class CloselintChecker:
    """flake8 AST checker yielding `(line, column, "CLxxx message", type)`."""

    name = "closelint"
    version = __version__

    def __init__(self, tree: ast.Module, lines: list[str], filename: str) -> None:
        self.tree = tree
        self.lines = lines
        self.filename = filename

    def run(self) -> Iterator[tuple[int, int, str, type[Any]]]:
        settings = _settings(Path.cwd())
        if isinstance(settings, ConfigError):  # the CLI exits 2 here; say why rather than guess
            yield 1, 0, f"{PARSE_ERROR} closelint configuration error: {settings}", type(self)
            return
        result = lint_source("".join(self.lines), self.filename, settings, apply_noqa=False, tree=self.tree)
        for v in result.violations:
            yield v.line, v.col, f"{v.code} {v.message}", type(self)
