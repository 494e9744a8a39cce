"""CL401: an accept loop that one peer resetting its connection can kill."""

from __future__ import annotations

import ast
import bisect
from collections.abc import Callable, Iterable, Iterator
from functools import partial

from closelint.analysis.eventloops import DEPTH, registered_callbacks, selecting_loops, unguarded_dispatch
from closelint.analysis.factories import NON_KEEPING_CALLS, NON_KEEPING_METHODS, SUPPRESSING_CONTEXTS
from closelint.analysis.module import ModuleFacts, mention_lines, walk_mentioning
from closelint.analysis.names import ImportTable
from closelint.analysis.reads import READ_METHODS, WRITE_METHODS
from closelint.analysis.scopes import NESTED_SCOPES, Function
from closelint.analysis.summaries import ModuleSummaries, Use
from closelint.model import Invalid, Valid
from closelint.rule import Report, Rule

#: exception classes whose handler catches ConnectionResetError and BrokenPipeError (BrokenPipeError alone
#: misses the reset a recv() raises)
RESET_CATCHERS = frozenset(
    {
        "builtins.ConnectionResetError",
        "builtins.ConnectionError",
        "builtins.OSError",
        "builtins.IOError",
        "builtins.EnvironmentError",
        "builtins.Exception",
        "builtins.BaseException",
        "socket.error",
        "select.error",
    }
)
#: connection I/O that raises when the peer resets: socket methods, and reads/writes of makefile() objects
SOCKET_IO = frozenset({"recv", "recv_into", "recvfrom", "recvmsg", "send", "sendall", "sendto", "sendmsg", "sendfile"})
FILE_IO = READ_METHODS | WRITE_METHODS | {"readlines", "flush"}
LOOPS = (ast.While, ast.For, ast.AsyncFor)
TRY_STATEMENTS = (ast.Try, *((ast.TryStar,) if hasattr(ast, "TryStar") else ()))


class UnhandledPeerReset(Rule):
    code = "CL401"
    name = "unhandled-peer-reset"
    message = (
        "a ConnectionResetError/BrokenPipeError from '{conn}' ends this accept loop: catch OSError around "
        "the connection's I/O inside the loop"
    )
    summary = (
        "Checks for an accept/serve loop (`while`/`for` around `srv.accept()`) in which I/O on the accepted "
        "connection (`recv`, `send`, `sendall`, `makefile()` reads and writes) is not inside a `try` within "
        "the loop that catches `ConnectionResetError` or a base class (`ConnectionError`, `OSError`, "
        "`socket.error`, `Exception`, a bare `except`, …; `BrokenPipeError` alone misses the reset a `recv()` "
        "raises). A connection given to a plain (not `async`) function or "
        "method of the module that keeps nothing (`handle(conn)`, `self.respond(conn)`, followed up to three "
        "calls deep) is still the loop's: I/O there counts unless a handler around the call or in the "
        "function catches the reset. A connection passed to a call that may keep it (a thread, a pool, a "
        "function of another module) is handed off and not judged here; `accept()`'s own errors are out of "
        "scope. Event-loop servers too: a `select`/`selectors` loop that accepts and does connection I/O "
        "(also in functions and methods of the module it calls, and in the callbacks registered as a key's "
        "`data` when the loop calls `key.data(...)`) with no handler inside the loop; reported at the "
        "`accept()`, or at the loop's call that leads to the I/O when the accept is in a helper."
    )
    rationale = (
        "Peers hang up early all the time: a browser tab closes, a client times out, a load balancer probes "
        "and resets. The `recv` or `sendall` on that connection then raises `ConnectionResetError` or "
        "`BrokenPipeError`, and an exception that escapes the loop body ends the loop: one rude client stops "
        "the server for everyone. A `try` around the whole loop does not help, the loop is over by then."
    )
    example = """\
import socket

from closelint_graceful import graceful

def serve(port):
    with socket.create_server(("", port)) as srv:
        while True:
            conn, _ = srv.accept()
            with graceful(conn):
                request = conn.recv(1024)
                conn.sendall(respond(request))
"""
    fixed_example = """\
import socket

from closelint_graceful import graceful

def serve(port):
    with socket.create_server(("", port)) as srv:
        while True:
            conn, _ = srv.accept()
            with graceful(conn):
                try:
                    request = conn.recv(1024)
                    conn.sendall(respond(request))
                except OSError as error:
                    log_peer_error(error)
"""
    references = ("https://docs.python.org/3/library/exceptions.html#ConnectionResetError",)
    valid = (
        Valid(
            "import threading\n\ndef serve(srv):\n    while True:\n        conn, _ = srv.accept()\n"
            "        threading.Thread(target=handle, args=(conn,)).start()\n"
        ),
        Valid(
            "def serve(srv):\n    while True:\n        conn, _ = srv.accept()\n        try:\n"
            "            conn.sendall(b'hi')\n        except ConnectionError:\n            pass\n"
            "        finally:\n            conn.close()\n"
        ),
    )
    invalid = (
        Invalid(
            "def serve(srv):\n    while True:\n        conn, _ = srv.accept()\n        try:\n"
            "            conn.sendall(b'hi')\n        finally:\n            conn.close()\n"
        ),
    )

    def check(self, facts: ModuleFacts) -> Iterator[Report]:
        if "accept" not in facts.text:
            return
        scopes = _loop_scopes(facts.summaries)
        for loop in _loops(facts.tree, facts.text):
            handlers = _Handlers(facts.summaries, facts.imports, scopes.get(id(loop), facts.tree))
            for accept, conn in _accepted(loop.body):
                names = {conn} | _makefiles(loop.body, conn)
                if _handed_off(loop.body, conn, facts.imports, handlers.lent(loop.body, names)):
                    continue
                if _unprotected_io(loop.body, names, facts.imports, protected=False, through=handlers.io):
                    yield self.report(accept, conn=conn)
        yield from self._event_loops(facts)

    def _event_loops(self, facts: ModuleFacts) -> Iterator[Report]:
        """select/selectors loops that accept and do connection I/O, also through functions they call:
        reported at the accept() in the loop, or at the loop's call that leads to the I/O."""
        summaries = facts.summaries
        lines = mention_lines(facts.text, ("select", "poll"))
        if summaries is None or not lines:
            return
        callbacks = registered_callbacks(facts.tree, summaries) if "register" in facts.text else []
        catches = partial(_catches_reset, imports=facts.imports)
        for function in (facts.tree, *summaries.functions):
            start, end = getattr(function, "lineno", 1), getattr(function, "end_lineno", None) or len(facts.text)
            if bisect.bisect_left(lines, start) == bisect.bisect_right(lines, end):
                continue
            for loop in selecting_loops(function):
                found = unguarded_dispatch(loop, function, summaries, catches, callbacks)
                if not (found.accepts and found.io):
                    continue
                direct = [call for call, site in found.accepts if call is site]
                io, site = found.io[0]
                assert isinstance(io.func, ast.Attribute)
                yield self.report(direct[0] if direct else site, conn=ast.unparse(io.func.value))


def _loop_scopes(summaries: ModuleSummaries | None) -> dict[int, ast.AST]:
    """The function or method each loop of the module belongs to, by the loop's id (module-level loops are
    left out): what a call in the loop resolves against (`self.handle(conn)`)."""
    found: dict[int, ast.AST] = {}
    for function in summaries.functions if summaries is not None else ():
        found.update((id(node), function) for node in _own(function.body) if isinstance(node, LOOPS))
    return found


class _Handlers:
    """Functions and methods of the module an accept loop gives its connection to without keeping it
    (`handle(conn)`, `self.handle(conn)`): their I/O on it runs inside the loop (a call that only uses its
    argument is no hand-off), followed `DEPTH` calls deep, as event loops are."""

    def __init__(self, summaries: ModuleSummaries | None, imports: ImportTable, scope: ast.AST) -> None:
        self.summaries, self.imports, self.scope = summaries, imports, scope

    def _borrowers(self, call: ast.Call, names: set[str], scope: ast.AST) -> list[tuple[ast.expr, Function, str]]:
        """(argument, function, parameter) for each of `names` that `call` lends to a function of the module."""
        summaries = self.summaries
        callee = summaries.callee(call, scope) if summaries is not None else None
        if summaries is None or callee is None or not isinstance(callee[0], ast.FunctionDef):
            return []  # not a function of the module; or an `async def`, whose call only makes a coroutine
        function, parameters = callee
        summary = summaries.summary(function)
        return [
            (argument, function, parameter)
            for argument, parameter in summaries.bind(call, parameters)
            if isinstance(argument, ast.Name) and argument.id in names and summary.use(parameter).use is not Use.KEPT
        ]

    def lent(self, body: list[ast.stmt], names: set[str]) -> set[int]:
        """The ids of the arguments in `body` that lend one of `names` to a function of the module."""
        return {
            id(argument)
            for node in _own(body)
            if isinstance(node, ast.Call)
            for argument, _, _ in self._borrowers(node, names, self.scope)
        }

    def io(self, call: ast.Call, names: set[str]) -> bool:
        """Whether `call` lends one of `names` to a function of the module whose I/O on it can raise a reset
        that the function does not catch."""
        return self._io(call, names, self.scope, 0, frozenset())

    def _io(self, call: ast.Call, names: set[str], scope: ast.AST, depth: int, seen: frozenset[int]) -> bool:
        for _, function, parameter in self._borrowers(call, names, scope):
            if depth >= DEPTH or id(function) in seen:
                continue
            inner = {parameter} | _makefiles(function.body, parameter)
            deeper = frozenset(seen | {id(function)})

            def through(c: ast.Call, n: set[str], f: ast.AST = function, s: frozenset[int] = deeper) -> bool:
                return self._io(c, n, f, depth + 1, s)

            if _unprotected_io(function.body, inner, self.imports, protected=False, through=through):
                return True
        return False


def _loops(tree: ast.Module, text: str) -> Iterator[ast.While | ast.For | ast.AsyncFor]:
    """Loops that can serve connections: not a `for` over a literal tuple or list of a few items."""
    for node in walk_mentioning(tree, text, ("accept",)):  # not ast.walk: most of this rule's cost
        if isinstance(node, LOOPS) and not (
            isinstance(node, (ast.For, ast.AsyncFor)) and isinstance(node.iter, (ast.Tuple, ast.List))
        ):
            yield node


def _own(body: Iterable[ast.AST]) -> Iterator[ast.AST]:
    """Nodes of `body`, not descending into nested functions, lambdas or classes."""
    stack = list(body)
    while stack:
        node = stack.pop()
        if isinstance(node, NESTED_SCOPES):
            continue
        yield node
        stack.extend(ast.iter_child_nodes(node))


def _accepted(body: list[ast.stmt]) -> Iterator[tuple[ast.Call, str]]:
    """`conn, addr = srv.accept()` and `conn = srv.accept()[0]` in the loop (nested loops report their own)."""
    stack: list[ast.stmt] = list(body)
    while stack:
        stmt = stack.pop()
        if isinstance(stmt, (*LOOPS, *NESTED_SCOPES)):
            continue
        if isinstance(stmt, ast.Assign) and len(stmt.targets) == 1:
            target, value = stmt.targets[0], stmt.value
            if isinstance(value, ast.Subscript) and isinstance(value.slice, ast.Constant) and value.slice.value == 0:
                value, target = value.value, ast.Tuple(elts=[target])
            if _is_accept(value) and isinstance(target, ast.Tuple) and isinstance(target.elts[0], ast.Name):
                assert isinstance(value, ast.Call)
                yield value, target.elts[0].id
        for field in ("body", "orelse", "finalbody", "handlers"):
            stack.extend(getattr(stmt, field, ()))


def _is_accept(node: ast.AST) -> bool:
    return (
        isinstance(node, ast.Call)
        and isinstance(node.func, ast.Attribute)
        and node.func.attr == "accept"
        and not node.args
    )


def _makefiles(body: list[ast.stmt], conn: str) -> set[str]:
    """Names bound to `conn.makefile(...)` (also by `with ... as f`)."""
    names: set[str] = set()
    for node in _own(body):
        pairs: list[tuple[ast.AST, ast.AST | None]] = []
        if isinstance(node, ast.Assign) and len(node.targets) == 1:
            pairs.append((node.value, node.targets[0]))
        elif isinstance(node, ast.withitem):
            pairs.append((node.context_expr, node.optional_vars))
        for value, target in pairs:
            if (
                isinstance(target, ast.Name)
                and isinstance(value, ast.Call)
                and isinstance(value.func, ast.Attribute)
                and value.func.attr == "makefile"
                and isinstance(value.func.value, ast.Name)
                and value.func.value.id == conn
            ):
                names.add(target.id)
    return names


def _handed_off(body: list[ast.stmt], conn: str, imports: ImportTable, lent: set[int]) -> bool:
    """Whether `conn` is passed to a call, stored, returned or captured: someone else handles its errors.

    Inert uses: `conn.method()`, comparisons, `with conn:`, `if conn:`, logging or printing it, and the
    arguments in `lent` (given to a function of the module that keeps nothing: its I/O is the loop's)."""
    for node in ast.walk(ast.Module(body=body, type_ignores=[])):
        if isinstance(node, NESTED_SCOPES) and any(isinstance(n, ast.Name) and n.id == conn for n in ast.walk(node)):
            return True
    inert = set(lent)
    for node in _own(body):
        if isinstance(node, ast.Attribute):
            inert.add(id(node.value))
        elif isinstance(node, ast.Compare):
            inert.update(id(n) for n in (node.left, *node.comparators))
        elif isinstance(node, ast.withitem):
            expr = node.context_expr
            inert.add(id(expr))
            if isinstance(expr, ast.Call) and _closing_context(expr, imports):
                inert.update(id(a) for a in expr.args)
        elif isinstance(node, (ast.If, ast.While)):
            inert.add(id(node.test))
        elif isinstance(node, ast.Call) and _looks_only(node, imports):
            inert.update(id(a) for a in node.args)
    return any(
        isinstance(node, ast.Name) and node.id == conn and isinstance(node.ctx, ast.Load) and id(node) not in inert
        for node in _own(body)
    )


def _closing_context(call: ast.Call, imports: ImportTable) -> bool:
    """`closing(conn)`, `graceful(conn)`: the block still owns the connection."""
    func = call.func
    name = func.attr if isinstance(func, ast.Attribute) else getattr(func, "id", "")
    return imports.call_name(call) == "contextlib.closing" or name == "graceful"


def _looks_only(call: ast.Call, imports: ImportTable) -> bool:
    """Calls that print, log or inspect their arguments without keeping them."""
    func = call.func
    return imports.call_name(call) in NON_KEEPING_CALLS or (
        isinstance(func, ast.Attribute) and func.attr in NON_KEEPING_METHODS
    )


def _unprotected_io(
    body: list[ast.stmt],
    names: set[str],
    imports: ImportTable,
    protected: bool,
    through: Callable[[ast.Call, set[str]], bool],
) -> bool:
    """Whether some connection I/O in `body` can raise a reset that no handler inside the loop catches;
    `through(call, names)` tells whether a call does such I/O in a function it lends the connection to."""
    for stmt in body:
        if isinstance(stmt, NESTED_SCOPES):
            continue
        if isinstance(stmt, TRY_STATEMENTS):
            catches = protected or any(_catches_reset(h, imports) for h in stmt.handlers)
            if _unprotected_io(stmt.body, names, imports, catches, through):
                return True
            blocks = [*(h.body for h in stmt.handlers), stmt.orelse, stmt.finalbody]
            if any(_unprotected_io(block, names, imports, protected, through) for block in blocks):
                return True
            continue
        inner = protected
        if isinstance(stmt, (ast.With, ast.AsyncWith)):
            inner = protected or any(_suppresses_reset(item.context_expr, imports) for item in stmt.items)
            headers: list[ast.AST] = [item.context_expr for item in stmt.items]
        else:
            headers = [getattr(stmt, f) for f in ("test", "iter", "subject") if getattr(stmt, f, None) is not None]
        nested = [getattr(stmt, f, []) for f in ("body", "orelse")]
        nested += [case.body for case in getattr(stmt, "cases", [])]
        if not any(nested):
            headers = [stmt]
        if not protected and any(_does_io(h, names, through) for h in headers):
            return True
        iterated = stmt.iter if isinstance(stmt, (ast.For, ast.AsyncFor)) else None
        if not protected and isinstance(iterated, ast.Name) and iterated.id in names:
            return True  # iterating a makefile() object reads from the connection
        if any(_unprotected_io(block, names, imports, inner, through) for block in nested):
            return True
    return False


def _does_io(node: ast.AST, names: set[str], through: Callable[[ast.Call, set[str]], bool]) -> bool:
    for child in _own([node]):
        if isinstance(child, ast.Call) and through(child, names):
            return True
        if isinstance(child, ast.Call) and isinstance(child.func, ast.Attribute):
            receiver = child.func.value
            if isinstance(receiver, ast.Name) and receiver.id in names and child.func.attr in SOCKET_IO | FILE_IO:
                return True
    return False


def _catches_reset(handler: ast.ExceptHandler, imports: ImportTable) -> bool:
    """A handler that catches resets and does not unconditionally raise again."""
    if any(isinstance(stmt, ast.Raise) for stmt in handler.body):
        return False
    if handler.type is None:
        return True
    kinds = handler.type.elts if isinstance(handler.type, ast.Tuple) else [handler.type]
    return any(imports.qualname(kind) in RESET_CATCHERS for kind in kinds)


def _suppresses_reset(expr: ast.expr, imports: ImportTable) -> bool:
    """`with contextlib.suppress(OSError):`"""
    return (
        isinstance(expr, ast.Call)
        and imports.call_name(expr) in SUPPRESSING_CONTEXTS
        and any(imports.qualname(arg) in RESET_CATCHERS for arg in expr.args)
    )
