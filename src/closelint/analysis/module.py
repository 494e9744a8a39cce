"""Run the lifetime analysis over a whole module, and the class-level facts (sockets kept on `self`)."""

from __future__ import annotations

import ast
import bisect
import itertools
import re
from collections.abc import Iterator
from dataclasses import dataclass, field

from closelint.analysis import factories as F
from closelint.analysis.flow import Resource, ScopeFacts, ScopeWalker
from closelint.analysis.names import ImportTable
from closelint.analysis.scopes import ScopeNode, index_module

#: base classes that neither close nor hand off what a subclass stores on `self`
NEUTRAL_BASES = frozenset(
    {
        "builtins.object",
        "unittest.TestCase",
        "unittest.IsolatedAsyncioTestCase",
        "unittest.case.TestCase",
        "threading.Thread",
        "builtins.Exception",
        "abc.ABC",
        "typing.Generic",
        "typing.Protocol",
    }
)

#: uses of `x.attr` that neither close nor hand the socket off
_INERT_METHODS = frozenset(
    {
        "send",
        "sendall",
        "sendto",
        "sendmsg",
        "sendfile",
        "recv",
        "recv_into",
        "recvfrom",
        "recvfrom_into",
        "recvmsg",
        "connect",
        "connect_ex",
        "bind",
        "listen",
        "accept",
        "setsockopt",
        "getsockopt",
        "setblocking",
        "settimeout",
        "gettimeout",
        "fileno",
        "getsockname",
        "getpeername",
        "makefile",
        "shutdown",
    }
)


@dataclass
class ModuleFacts:
    """Everything the rules query for one module."""

    tree: ast.Module
    imports: ImportTable
    text: str
    scopes: list[ScopeFacts] = field(default_factory=list)
    unclosed_attributes: list[tuple[str, Resource]] = field(default_factory=list)


def analyse(tree: ast.Module, text: str) -> ModuleFacts:
    """Walk every scope of `tree` that can own a socket, and derive the module-level facts.

    A scope whose lines mention none of the identifiers a socket can be created or sent through (the
    socket module and its aliases, names imported from it, `factories.SCOPE_TRIGGERS`) owns no socket and
    sends on none, so it is not walked: the findings are the same, and most functions cost nothing.
    """
    index = index_module(tree)
    imports = ImportTable(index.imports)
    facts = ModuleFacts(tree, imports, text)
    mentions = _trigger_lines(text, imports)
    if not mentions:
        return facts
    ids = itertools.count()
    stored: dict[ast.ClassDef, list[tuple[str, Resource]]] = {}
    scopes: list[tuple[ScopeNode, ast.ClassDef | None]] = [(tree, None), *index.functions]
    for scope, owner in scopes:
        end = getattr(scope, "end_lineno", None) or len(text)
        first = scope.lineno if isinstance(scope, (ast.FunctionDef, ast.AsyncFunctionDef)) else 1
        if bisect.bisect_left(mentions, first) == bisect.bisect_right(mentions, end):
            continue
        self_name = _self_parameter(scope) if owner is not None else None
        walked = ScopeWalker(scope, scope.body, imports, self_name, ids).run()
        facts.scopes.append(walked)
        if owner is not None and walked.stored_on_self:
            stored.setdefault(owner, []).extend(walked.stored_on_self)
    if stored:
        released = _released_attributes(tree)
        classes = {node.name: node for node in index.classes}
        for cls, items in stored.items():
            if _neutral_bases(cls, classes, imports, set()):
                facts.unclosed_attributes.extend((attr, r) for attr, r in items if attr not in released)
    return facts


def _trigger_lines(text: str, imports: ImportTable) -> list[int]:
    """Sorted numbers of the lines that mention an identifier a socket can be created or sent through."""
    names = imports.local_names(lambda q: q.split(".", 1)[0] in F.SOCKET_MODULES) | F.SCOPE_TRIGGERS
    pattern = re.compile(r"\b(?:" + "|".join(sorted(map(re.escape, names))) + r")\b")
    if "\r" in text:  # Python ends lines at \r too; count them as it does
        text = text.replace("\r\n", "\n").replace("\r", "\n")
    lines: list[int] = []
    number, position = 1, 0
    for match in pattern.finditer(text):
        number += text.count("\n", position, match.start())
        position = match.start()
        if not lines or lines[-1] != number:
            lines.append(number)
    return lines


def _self_parameter(scope: ast.AST) -> str | None:
    if not isinstance(scope, (ast.FunctionDef, ast.AsyncFunctionDef)):
        return None
    decorators = {d.id for d in scope.decorator_list if isinstance(d, ast.Name)}
    positional = [*scope.args.posonlyargs, *scope.args.args]
    if "staticmethod" in decorators or not positional:
        return None
    return positional[0].arg


def _neutral_bases(cls: ast.ClassDef, classes: dict[str, ast.ClassDef], imports: ImportTable, seen: set[str]) -> bool:
    """True when no base class could close what `cls` stores (bases defined here are checked too)."""
    for base in cls.bases:
        if isinstance(base, ast.Name) and base.id in classes and base.id not in seen:
            seen.add(base.id)
            if not _neutral_bases(classes[base.id], classes, imports, seen):
                return False
            continue
        if imports.qualname(base) not in NEUTRAL_BASES:
            return False
    return not any(k.arg == "metaclass" for k in cls.keywords)


def _parents(tree: ast.AST) -> dict[ast.AST, ast.AST]:
    return {child: node for node in ast.walk(tree) for child in ast.iter_child_nodes(node)}


def _released_attributes(tree: ast.Module) -> set[str]:
    """Attribute names that some code in the module closes or hands off (`x.attr.close()`, `f(x.attr)`, …)."""
    parents = _parents(tree)
    released: set[str] = set()
    for node in ast.walk(tree):
        if isinstance(node, ast.Attribute) and not isinstance(node.ctx, ast.Store) and _releases(node, parents):
            released.add(node.attr)
    return released


def _releases(node: ast.Attribute, parents: dict[ast.AST, ast.AST]) -> bool:
    parent = parents.get(node)
    if isinstance(parent, ast.Attribute):
        method = parent.attr
        called = isinstance(parents.get(parent), ast.Call) and parents[parent].func is parent  # type: ignore[attr-defined]
        return not (method in _INERT_METHODS or (not called and method not in ("close", "detach")))
    if isinstance(parent, (ast.Compare, ast.If, ast.While, ast.IfExp, ast.Assert, ast.UnaryOp, ast.BoolOp)):
        return False
    if isinstance(parent, ast.Expr):
        return False
    return not (isinstance(parent, ast.Call) and parent.func is node)


def iter_resources(facts: ModuleFacts) -> Iterator[Resource]:
    """Every socket owned by some scope of the module."""
    for scope in facts.scopes:
        yield from scope.resources
