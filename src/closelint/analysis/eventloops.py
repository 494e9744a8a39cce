"""Event-loop servers: a `select`/`selectors` loop that both accepts and does connection I/O.

SPEC §2 (CL401): a loop that dispatches `accept()` and connection I/O — directly, or through functions and
methods of the module it calls (`self._accept(key.fileobj)`, `handle_read(conn)`) — dies on the first
reset when nothing inside the loop catches `ConnectionResetError`/`BrokenPipeError` (or a base class).
Found with the function summaries' call resolution; a helper's body is read with the protection of the
call site, so a `try` in the loop or in the helper guards what it covers.
"""

from __future__ import annotations

import ast
from collections.abc import Callable, Iterator, Sequence
from dataclasses import dataclass, field

from closelint.analysis.scopes import NESTED_SCOPES
from closelint.analysis.summaries import ModuleSummaries

#: connection I/O that raises on a reset (`send` is left out: queues and generators have it too)
IO_METHODS = frozenset({"recv", "recv_into", "recvfrom", "recvmsg", "sendall", "sendfile"})
#: how deep calls of the module are followed from the loop
DEPTH = 3
TRY = (ast.Try, *((ast.TryStar,) if hasattr(ast, "TryStar") else ()))


@dataclass
class Dispatch:
    """What one pass over an event loop's body can run without a handler that catches resets."""

    accepts: list[tuple[ast.Call, ast.AST]] = field(default_factory=list)  # (accept(), its call in the loop)
    io: list[tuple[ast.Call, ast.AST]] = field(default_factory=list)  # (I/O call, its call in the loop)


def selecting_loops(function: ast.AST) -> Iterator[ast.While | ast.For]:
    """Loops of `function` (not of nested scopes) whose body calls `select.select`, `.select()` or `.poll()`."""
    for node in _own([function], enter=True):
        if isinstance(node, (ast.While, ast.For)) and any(
            isinstance(c, ast.Call) and _method(c) in ("select", "poll") for c in _own(node.body)
        ):
            yield node


def registered_callbacks(tree: ast.Module, summaries: ModuleSummaries) -> list[ast.AST]:
    """Functions of the module given as the `data` of a selector registration, `sel.register(sock, events,
    accept)` or `sel.modify(conn, events, data=read)`: what a loop calling `key.data(...)` dispatches to (the
    `selectors` documentation's echo server)."""
    found: list[ast.AST] = []
    for scope in (tree, *summaries.functions):  # `self.on_read` resolves in the method that registers it
        for node in _own([scope], enter=True):
            if isinstance(node, ast.Call) and _method(node) in ("register", "modify"):
                data = [*node.args[2:3], *(k.value for k in node.keywords if k.arg == "data")]
                found += [c[0] for c in (summaries.callee(_bare_call(d), scope) for d in data) if c is not None]
    return found


def unguarded_dispatch(
    loop: ast.While | ast.For,
    scope: ast.AST,
    summaries: ModuleSummaries,
    catches: Callable[[ast.ExceptHandler], bool],
    callbacks: Sequence[ast.AST] = (),
) -> Dispatch:
    """The accept() calls and connection I/O a pass of `loop` runs outside any handler catching resets;
    a call of a key's `data` (`key.data(key.fileobj)`, or through `callback = key.data`) runs `callbacks`."""
    found = Dispatch()
    data = {
        target.id
        for node in _own(loop.body)
        if isinstance(node, ast.Assign) and isinstance(node.value, ast.Attribute) and node.value.attr == "data"
        for target in node.targets
        if isinstance(target, ast.Name)
    }
    dispatch = _Dispatch(summaries, catches, found, callbacks, frozenset(data))
    _walk(loop.body, scope, dispatch, site=None, depth=0, seen=set())
    return found


@dataclass(frozen=True)
class _Dispatch:
    """What the walk of one loop reads and fills."""

    summaries: ModuleSummaries
    catches: Callable[[ast.ExceptHandler], bool]
    found: Dispatch
    callbacks: Sequence[ast.AST]
    data_names: frozenset[str]  # locals bound to a key's `data` in the loop

    def callees(self, call: ast.Call, scope: ast.AST) -> list[ast.AST]:
        """The functions of the module `call` may run: the one it names, or every registered callback."""
        callee = self.summaries.callee(call, scope)
        if callee is not None:
            return [callee[0]]
        func = call.func
        is_data = (isinstance(func, ast.Attribute) and func.attr == "data") or (
            isinstance(func, ast.Name) and func.id in self.data_names
        )
        return list(self.callbacks) if is_data else []


def _bare_call(func: ast.expr) -> ast.Call:
    """A call of `func` with no arguments: what `callee` resolves a function named as a value through."""
    return ast.Call(func=func, args=[], keywords=[])


def _walk(
    body: list[ast.stmt],
    scope: ast.AST,
    dispatch: _Dispatch,
    site: ast.AST | None,
    depth: int,
    seen: set[int],
) -> None:
    found = dispatch.found
    for stmt in body:
        if isinstance(stmt, NESTED_SCOPES):
            continue
        if isinstance(stmt, TRY):
            if not any(dispatch.catches(h) for h in stmt.handlers):
                _walk(stmt.body, scope, dispatch, site, depth, seen)
            for block in (*(h.body for h in stmt.handlers), stmt.orelse, stmt.finalbody):
                _walk(block, scope, dispatch, site, depth, seen)
            continue
        blocks = [getattr(stmt, f) for f in ("body", "orelse") if isinstance(getattr(stmt, f, None), list)]
        blocks += [case.body for case in getattr(stmt, "cases", [])]
        headers = [stmt] if not blocks else [v for f, v in ast.iter_fields(stmt) if isinstance(v, ast.expr)]
        headers += [item.context_expr for item in getattr(stmt, "items", [])]
        for header in headers:
            for call in (c for c in _own([header]) if isinstance(c, ast.Call)):
                here = site or call
                method = _method(call)
                if method == "accept" and not call.args:
                    found.accepts.append((call, here))
                elif method in IO_METHODS:
                    found.io.append((call, here))
                elif depth < DEPTH:
                    for helper in dispatch.callees(call, scope):
                        if id(helper) not in seen:
                            assert isinstance(helper, (ast.FunctionDef, ast.AsyncFunctionDef))
                            _walk(helper.body, helper, dispatch, here, depth + 1, seen | {id(helper)})
        for block in blocks:
            _walk(block, scope, dispatch, site, depth, seen)


def _method(call: ast.Call) -> str:
    return call.func.attr if isinstance(call.func, ast.Attribute) else ""


def _own(body: Sequence[ast.AST], enter: bool = False) -> Iterator[ast.AST]:
    """Nodes of `body`, not descending into nested functions, lambdas or classes (`enter`: the given
    function itself is entered)."""
    stack = list(body)
    while stack:
        node = stack.pop()
        if isinstance(node, NESTED_SCOPES) and not (enter and node in body):
            continue
        yield node
        stack.extend(ast.iter_child_nodes(node))
