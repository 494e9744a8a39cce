"""flake8 plugin (entry point `CL`): a thin adapter over `engine.lint_source`.

It reuses the tree flake8 already parsed and reads the same `[tool.closelint]` settings as the CLI (the
nearest table above each file), so `flake8 --select CL` reports exactly what `closelint check` reports;
flake8 applies `noqa` itself.
"""

from __future__ import annotations

import ast
from collections.abc import Iterator
from functools import cache
from pathlib import Path
from typing import Any

from closelint import __version__
from closelint.config import ConfigError, Settings, SettingsResolver
from closelint.engine import lint_source
from closelint.registry import PARSE_ERROR, UNUSED_NOQA


@cache
def _resolver(cwd: Path) -> SettingsResolver:
    """The CLI's per-directory settings; keyed by the working directory, whose project gives the defaults."""
    return SettingsResolver()


def _settings(filename: str) -> Settings | ConfigError:
    """The settings the CLI lints `filename` with, or the error that makes the CLI refuse to run."""
    try:
        return _resolver(Path.cwd()).for_file(filename)
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

    #: flake8's own selection names CL001 explicitly (it is opt-in there as in the CLI)
    unused_noqa_selected = False

    @classmethod
    def parse_options(cls, options: Any) -> None:
        """Read flake8's `--select`/`--extend-select`: CL001 is reported when one names it more precisely
        than the bare `CL` (flake8 then filters every code by its own selection, as usual)."""
        chosen = [*(getattr(options, "select", None) or ()), *(getattr(options, "extend_select", None) or ())]
        cls.unused_noqa_selected = any(UNUSED_NOQA.startswith(code) and len(code) > len("CL") for code in chosen)

    def run(self) -> Iterator[tuple[int, int, str, type[Any]]]:
        settings = _settings(self.filename)
        if isinstance(settings, ConfigError):  # the CLI exits 2 here; say why rather than guess
            yield 1, 0, f"{PARSE_ERROR} closelint configuration error: {settings}", type(self)
            return
        if self.unused_noqa_selected:
            settings = settings._replace(extend_select=(*settings.extend_select, UNUSED_NOQA))
        result = lint_source("".join(self.lines), self.filename, settings, apply_noqa=False, tree=self.tree)
        for v in result.violations:
            yield v.line, v.col, f"{v.code} {v.message}", type(self)
