"""The Rule base class: one small class per code, with its documentation and its own examples."""

from __future__ import annotations

import ast
from collections.abc import Iterator
from dataclasses import dataclass
from typing import TYPE_CHECKING, ClassVar

from closelint.model import Applicability, Fix, Invalid, Valid

if TYPE_CHECKING:  # the analysis is imported when a file is checked, not by a run answered from the cache
    from closelint.analysis.module import ModuleFacts


@dataclass(frozen=True)
class Report:
    """A finding before it has a path: the node it points at and the rendered message."""

    node: ast.AST
    message: str
    fix: Fix | None = None


class Rule:
    """Base class of every rule.

    Subclasses set the metadata below and implement `check`, a query over the module's analysis facts.
    The documentation page (`closelint rule CODE`, `docs/rules.md`) is rendered from these attributes.
    """

    code: ClassVar[str]
    name: ClassVar[str]
    message: ClassVar[str]
    #: What it does, one or two sentences.
    summary: ClassVar[str]
    #: Why is this bad?
    rationale: ClassVar[str]
    example: ClassVar[str]
    fixed_example: ClassVar[str]
    fix_applicability: ClassVar[Applicability | None] = None
    fix_title: ClassVar[str] = ""
    references: ClassVar[tuple[str, ...]] = ()
    valid: ClassVar[tuple[Valid, ...]] = ()
    invalid: ClassVar[tuple[Invalid, ...]] = ()

    def check(self, facts: ModuleFacts) -> Iterator[Report]:
        raise NotImplementedError

    def report(self, node: ast.AST, fix: Fix | None = None, **names: str) -> Report:
        """A finding at `node` with this rule's message filled in."""
        return Report(node, self.message.format(**names), fix)
