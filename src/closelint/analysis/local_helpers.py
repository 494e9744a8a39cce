"""Nested functions a scope only calls (`def drain(): ...` then `drain()`), and the sockets they only read.

Such a helper runs while the enclosing function waits for it, and a socket it only reads from is not
handed to anyone: the enclosing function still owns it and must still close it. What the helper does to
the socket (reading it until EOF) then counts at each call. Generators and `async def`s are not helpers:
calling them makes an object that keeps the socket and runs later.
"""

from __future__ import annotations

import ast
from collections.abc import Iterator

from closelint.analysis.reads import READ_METHODS
from closelint.analysis.scopes import NESTED_SCOPES, free_names, own_nodes

Helper = ast.FunctionDef

#: uses of a captured socket that read from it or tune it, and neither close it nor keep it
_LENDING_METHODS = READ_METHODS | {"settimeout", "gettimeout", "setblocking", "fileno", "getpeername", "getsockname"}


def local_helpers(body: list[ast.stmt]) -> dict[str, Helper]:
    """The plain functions defined once in this scope whose name is used only to call them, directly."""
    defined: dict[str, list[ast.AST]] = {}
    for node in _statements(body):
        if isinstance(node, (ast.FunctionDef, ast.AsyncFunctionDef, ast.ClassDef)):
            defined.setdefault(node.name, []).append(node)
    if not defined:
        return {}
    callees: set[int] = set()
    uses: list[ast.Name] = []
    misused: set[str] = set()
    for statement in body:
        for n in ast.walk(statement):
            if isinstance(n, ast.Call):
                callees.add(id(n.func))
            elif isinstance(n, ast.Name) and n.id in defined:
                uses.append(n)
            elif isinstance(n, (ast.Global, ast.Nonlocal)):
                misused.update(n.names)
    misused.update(n.id for n in uses if not isinstance(n.ctx, ast.Load) or id(n) not in callees)
    return {
        name: node
        for name, (node, *others) in defined.items()
        if not others and name not in misused and isinstance(node, ast.FunctionDef) and not _generator(node)
    }


def lent_names(helper: Helper) -> frozenset[str]:
    """The free names the helper uses only as `name.recv(...)`, `name.settimeout(...)` and the like (the
    reader of `iter(lambda: name.recv(n), b"")` included); a name another nested function takes is kept."""
    free = free_names(helper)
    lending = {
        id(n.func.value)
        for n in ast.walk(helper)
        if isinstance(n, ast.Call) and isinstance(n.func, ast.Attribute) and n.func.attr in _LENDING_METHODS
    }
    iterated = {
        id(n.args[0])
        for n in ast.walk(helper)
        if isinstance(n, ast.Call) and isinstance(n.func, ast.Name) and n.func.id == "iter" and n.args
    }
    lent: set[str] = set()
    kept: set[str] = set()
    for node in own_nodes(helper.body):
        if isinstance(node, ast.Lambda) and id(node) in iterated and _reads(node.body, lending):
            names = [n for n in ast.walk(node.body) if isinstance(n, ast.Name)]  # `iter(lambda: s.recv(n), b"")`
        elif isinstance(node, NESTED_SCOPES):
            kept |= free_names(node) & free
            continue
        elif isinstance(node, ast.Name):
            names = [node]
        else:
            continue
        for name in names:
            if name.id in free:
                (lent if id(name) in lending else kept).add(name.id)
    return frozenset(lent - kept)


def _statements(body: list[ast.stmt]) -> Iterator[ast.stmt]:
    """The statements of a scope, in nested blocks too, not those inside nested functions or classes
    (expressions are not visited: a `def` is a statement)."""
    stack = list(body)
    while stack:
        node = stack.pop()
        yield node
        if isinstance(node, NESTED_SCOPES):
            continue
        for name in ("body", "orelse", "finalbody"):
            stack.extend(getattr(node, name, ()))
        for part in (*getattr(node, "handlers", ()), *getattr(node, "cases", ())):
            stack.extend(part.body)


def _reads(expr: ast.expr, lending: set[int]) -> bool:
    """`s.recv(n)` and the like: a lending call."""
    return isinstance(expr, ast.Call) and isinstance(expr.func, ast.Attribute) and id(expr.func.value) in lending


def _generator(function: Helper) -> bool:
    return any(isinstance(n, (ast.Yield, ast.YieldFrom)) for n in own_nodes(function.body))
