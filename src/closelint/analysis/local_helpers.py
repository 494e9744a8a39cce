"""Nested functions a scope only calls (`def drain(): ...` then `drain()`), and the sockets they only read.

Such a helper runs while the enclosing function waits for it, and a socket it only reads from is not
handed to anyone: the enclosing function still owns it and must still close it. What the helper does to
the socket (reading it until EOF) then counts at each call.
"""

from __future__ import annotations

import ast
from typing import Union

from closelint.analysis.reads import READ_METHODS
from closelint.analysis.scopes import free_names, own_nodes

Helper = Union[ast.FunctionDef, ast.AsyncFunctionDef]

#: uses of a captured socket that read from it or tune it, and neither close it nor keep it
_LENDING_METHODS = READ_METHODS | {"settimeout", "gettimeout", "setblocking", "fileno", "getpeername", "getsockname"}


def local_helpers(body: list[ast.stmt]) -> dict[str, Helper]:
    """The functions defined once in this scope whose name is used only to call them, directly."""
    defined: dict[str, list[Helper]] = {}
    for node in own_nodes(body):
        if isinstance(node, (ast.FunctionDef, ast.AsyncFunctionDef)):
            defined.setdefault(node.name, []).append(node)
    if not defined:
        return {}
    callees = {id(n.func) for s in body for n in ast.walk(s) if isinstance(n, ast.Call)}
    misused = {
        n.id
        for s in body
        for n in ast.walk(s)
        if isinstance(n, ast.Name) and n.id in defined and (not isinstance(n.ctx, ast.Load) or id(n) not in callees)
    }
    misused |= {
        name for s in body for n in ast.walk(s) if isinstance(n, (ast.Global, ast.Nonlocal)) for name in n.names
    }
    return {name: defs[0] for name, defs in defined.items() if len(defs) == 1 and name not in misused}


def lent_names(helper: Helper) -> frozenset[str]:
    """The free names the helper uses only as `name.recv(...)`, `name.settimeout(...)` and the like."""
    free = free_names(helper)
    lending = {
        id(n.func.value)
        for n in ast.walk(helper)
        if isinstance(n, ast.Call) and isinstance(n.func, ast.Attribute) and n.func.attr in _LENDING_METHODS
    }
    lent: set[str] = set()
    kept: set[str] = set()
    for node in ast.walk(helper):
        if isinstance(node, ast.Name) and node.id in free:
            (lent if id(node) in lending else kept).add(node.id)
    return frozenset(lent - kept)
