"""Recognising reads from a socket, and the tests that say a read hit end-of-file.

Reading until EOF before closing is what makes a close graceful (SPEC §2, CL201/CL202): a loop on
`recv`/`recv_into`/`read` that exits when it gets `b""`/0 (walrus forms too), `iter(partial(s.recv, n),
b"")`, `makefile().read()` with no size, iterating a `makefile()` object to its end.
"""

from __future__ import annotations

import ast
from dataclasses import dataclass, field
from typing import TypeGuard

from closelint.analysis.names import ImportTable
from closelint.analysis.scopes import own_nodes

READ_METHODS = frozenset({"recv", "recv_into", "read", "read1", "readinto", "readline"})
#: event-loop reads of the socket given as their first argument (`await loop.sock_recv(sock, n)`)
LOOP_READ_METHODS = frozenset({"sock_recv", "sock_recv_into"})
SEND_METHODS = frozenset({"send", "sendall", "sendto", "sendmsg", "sendfile"})
READ_ALL_METHODS = frozenset({"read", "readlines", "readall"})
WRITE_METHODS = frozenset({"write", "writelines"})
_EMPTY = (b"", "", 0)


def partial_sends(body: list[ast.stmt]) -> set[ast.Call]:
    """The `send()` calls of a scope whose result it goes on with as a count of bytes written: `offset +=
    s.send(buf[offset:])`, or `n = s.send(buf)` and then `buf = buf[n:]`, `del buf[:n]` or `offset += n`.
    Only a stream socket writes part of a buffer and says how much (a datagram goes whole or not at all; a
    zmq socket, a queue or a pipe connection's `send()` returns no count), so such a `send()` is a send on a
    stream socket even where the receiver's type is not known (CL201/CL202)."""
    found: set[ast.Call] = set()
    counts: dict[str, list[ast.Call]] = {}
    advancing: set[str] = set()
    for node in own_nodes(body):
        bounds: list[ast.expr | None] = []
        if isinstance(node, ast.Assign) and len(node.targets) == 1 and isinstance(node.targets[0], ast.Name):
            if _is_send(node.value):
                counts.setdefault(node.targets[0].id, []).append(node.value)
        elif isinstance(node, ast.AugAssign):
            if _is_send(node.value):
                found.add(node.value)
            bounds = [node.value]
        elif isinstance(node, ast.Slice):
            bounds = [node.lower, node.upper]
        advancing.update(
            n.id for bound in bounds if bound is not None for n in ast.walk(bound) if isinstance(n, ast.Name)
        )
    return found | {call for name, calls in counts.items() if name in advancing for call in calls}


def _is_send(value: ast.expr) -> TypeGuard[ast.Call]:
    return isinstance(value, ast.Call) and isinstance(value.func, ast.Attribute) and value.func.attr == "send"


def receiver_name(node: ast.expr, self_name: str | None) -> str | None:
    """The name a socket expression is tracked under: `s`, or `self.attr` inside a method."""
    if isinstance(node, ast.Name):
        return node.id
    if (
        self_name
        and isinstance(node, ast.Attribute)
        and isinstance(node.value, ast.Name)
        and node.value.id == self_name
    ):
        return f"{self_name}.{node.attr}"
    return None


@dataclass
class ReadTracker:
    """Which variables hold what a socket read returned, and which names are `makefile()` objects."""

    self_name: str | None
    imports: ImportTable = field(default_factory=lambda: ImportTable(()))
    reads: dict[str, str] = field(default_factory=dict)  # variable -> socket name
    files: dict[str, str] = field(default_factory=dict)  # makefile() object's name -> its socket's name
    unbuffered: set[str] = field(default_factory=set)  # makefile(..., buffering=0) objects: read(n) is one recv

    def socket_of(self, name: str) -> str:
        """The socket behind a name: itself, or the socket a makefile() object wraps."""
        return self.files.get(name, name)

    def read_source(self, expr: ast.expr) -> str | None:
        """The socket `expr` reads from: `s.recv(n)`, `f.read(n)`, `(v := …)`, or a variable holding a read;
        awaited too (`await s.recv(n)` of a trio socket, `await loop.sock_recv(s, n)`)."""
        if isinstance(expr, (ast.NamedExpr, ast.Await)):
            return self.read_source(expr.value)
        if isinstance(expr, ast.Name):
            return self.reads.get(expr.id)
        if isinstance(expr, ast.Call) and isinstance(expr.func, ast.Attribute) and expr.func.attr in READ_METHODS:
            name = receiver_name(expr.func.value, self.self_name)
            return self.socket_of(name) if name else None
        if isinstance(expr, ast.Call) and isinstance(expr.func, ast.Attribute) and expr.func.attr in LOOP_READ_METHODS:
            return receiver_name(expr.args[0], self.self_name) if expr.args else None
        return None

    def note_assignment(self, target: ast.expr, value: ast.expr) -> None:
        """Remember `data = s.recv(n)` and `f = s.makefile("rb")`; forget rebound names."""
        if not isinstance(target, ast.Name):
            return
        self.reads.pop(target.id, None)
        self.files.pop(target.id, None)
        self.unbuffered.discard(target.id)
        source = self.read_source(value) if isinstance(value, (ast.Call, ast.Await)) else None
        if source:
            self.reads[target.id] = source
        made = self.makefile(value)
        if made:
            self.files[target.id] = made
            assert isinstance(value, ast.Call)
            buffering = value.args[1] if len(value.args) > 1 else _keyword(value, "buffering")
            if isinstance(buffering, ast.Constant) and buffering.value == 0:
                self.unbuffered.add(target.id)

    def makefile(self, value: ast.expr) -> str | None:
        """The socket's name when `value` is `s.makefile(...)` (whatever the mode: a write to a file opened
        for reading only raises `io.UnsupportedOperation`, so every write there is a send)."""
        if not (isinstance(value, ast.Call) and isinstance(value.func, ast.Attribute)):
            return None
        if value.func.attr != "makefile":
            return None
        name = receiver_name(value.func.value, self.self_name)
        if name is None:
            return None
        return name

    def read_receivers(self, node: ast.AST) -> set[str]:
        """The names of everything `node` reads from with a read method (`s.recv(n)`, `self.sock.recv(n)`)."""
        found = (
            receiver_name(n.func.value, self.self_name)
            for n in ast.walk(node)
            if isinstance(n, ast.Call) and isinstance(n.func, ast.Attribute) and n.func.attr in READ_METHODS
        )
        return {name for name in found if name}

    def reads_exactly(self, call: ast.Call) -> str | None:
        """The socket a single call reads a whole fixed-size message from: `s.recv(n, MSG_WAITALL)`,
        `s.recv_into(buf, n, MSG_WAITALL)`, or `f.read(n)` on a buffered `makefile()` object (which reads
        again until n bytes are in, or EOF)."""
        func = call.func
        if not isinstance(func, ast.Attribute):
            return None
        name = receiver_name(func.value, self.self_name)
        if name is None:
            return None
        if func.attr in ("recv", "recv_into"):
            position = 1 if func.attr == "recv" else 2
            flags = call.args[position] if len(call.args) > position else _keyword(call, "flags")
            named = {self._constant_name(n) for n in ast.walk(flags)} if flags is not None else set()
            # MSG_PEEK leaves what it returns queued: the bytes are still unread when the socket closes
            waits = "MSG_WAITALL" in named and "MSG_PEEK" not in named
            return self.socket_of(name) if waits else None
        if func.attr == "read" and name in self.files and call.args and not _unbounded(call):
            return self.files[name] if name not in self.unbuffered else None
        return None

    def _constant_name(self, node: ast.AST) -> str:
        """The last part of the name a flag constant resolves to through the imports (`W` for
        `from socket import MSG_WAITALL as W`), or as spelled when it is not imported."""
        qualname = self.imports.qualname(node)
        if qualname:
            return qualname.rsplit(".", 1)[-1]
        return node.attr if isinstance(node, ast.Attribute) else node.id if isinstance(node, ast.Name) else ""

    def framed_loop(self, loop: ast.While) -> str | None:
        """The socket a `while` loop reads a length known in advance from: its test compares (or is) a count
        or buffer that its body advances with what it reads (`while got < size: got += s.recv_into(...)`,
        `while len(buf) < n: buf += s.recv(n - len(buf))`, `while remaining: ...`), possibly joined by
        `and` to a read that is false at EOF (`while len(buf) < n and (d := s.recv(n - len(buf)))`).
        Leaving the loop through its test means the whole message is in, or the peer's EOF."""
        test = loop.test
        parts = test.values if isinstance(test, ast.BoolOp) and isinstance(test.op, ast.And) else [test]
        counts: list[ast.expr] = []
        at_eof: set[str] = set()
        progress: dict[str, str] = {}
        for part in parts:
            eof = self.emptiness(part)
            if eof and not eof[1]:
                at_eof.add(eof[0])
                if isinstance(part, ast.NamedExpr) and isinstance(part.target, ast.Name):
                    progress[part.target.id] = eof[0]
            elif (
                isinstance(part, ast.Compare) and len(part.ops) == 1 and isinstance(part.ops[0], _ORDERING)
            ) or isinstance(part, ast.Name):
                counts.append(part)
            else:
                return None
        for _ in range(2):  # `chunk = s.recv(n)` then `buf += chunk`, in either order
            for node in own_nodes(loop.body):
                if not isinstance(node, ast.stmt):
                    continue
                targets, value = _assignment(node)
                source = self._advanced_by(value, progress) if value is not None else None
                if source:
                    progress.update(dict.fromkeys((t.id for t in targets if isinstance(t, ast.Name)), source))
        tested = {n.id for count in counts for n in ast.walk(count) if isinstance(n, ast.Name)}
        sockets = {progress[name] for name in tested if name in progress}
        return sockets.pop() if len(sockets) == 1 and at_eof <= sockets else None

    def sends_in(self, body: list[ast.stmt], sock: str) -> bool:
        """Whether `body` (not its nested functions) sends on `sock` or a writable makefile() of it."""
        for node in own_nodes(body):
            if isinstance(node, ast.Call) and isinstance(node.func, ast.Attribute):
                name = receiver_name(node.func.value, self.self_name)
                if name and self.socket_of(name) == sock and node.func.attr in SEND_METHODS | WRITE_METHODS:
                    return True
        return False

    def _advanced_by(self, value: ast.expr, progress: dict[str, str]) -> str | None:
        """The socket whose reads `value` holds: a read call on it, or a name that holds such a read."""
        for node in ast.walk(value):
            if isinstance(node, ast.Call):
                source = self.read_source(node)
                if source:
                    return source
            if isinstance(node, ast.Name) and node.id in progress:
                return progress[node.id]
        return None

    def emptiness(self, test: ast.expr) -> tuple[str, bool] | None:
        """(socket, when) if `test` evaluates to `when` exactly when a read from the socket hit EOF."""
        if isinstance(test, ast.UnaryOp) and isinstance(test.op, ast.Not):
            inner = self.emptiness(test.operand)
            return (inner[0], not inner[1]) if inner else None
        if isinstance(test, ast.Compare) and len(test.ops) == 1:
            left, op, right = test.left, test.ops[0], test.comparators[0]
            if isinstance(left, ast.Call) and _is_len(left) and left.args:
                left = left.args[0]
            source = self.read_source(left)
            empty = isinstance(right, ast.Constant) and right.value in _EMPTY and not isinstance(right.value, bool)
            if source and empty and isinstance(op, (ast.Eq, ast.NotEq, ast.Is, ast.IsNot)):
                return source, isinstance(op, (ast.Eq, ast.Is))
            return None
        source = self.read_source(test)
        return (source, False) if source else None

    def eof_iterable(self, expr: ast.expr) -> str | None:
        """The socket an iterable exhausts: `iter(partial(s.recv, n), b"")`, a makefile() object."""
        if isinstance(expr, ast.Name) and expr.id in self.files:
            return self.files[expr.id]
        made = self.makefile(expr)
        if made:
            return made
        if not (isinstance(expr, ast.Call) and isinstance(expr.func, ast.Name) and expr.func.id == "iter"):
            return None
        if len(expr.args) != 2 or not (isinstance(expr.args[1], ast.Constant) and expr.args[1].value in _EMPTY):
            return None
        reader = expr.args[0]
        if isinstance(reader, ast.Call) and reader.args:  # partial(s.recv, n)
            reader = reader.args[0]
        elif isinstance(reader, ast.Lambda):  # lambda: s.recv(n)
            return self.read_source(reader.body)
        if isinstance(reader, ast.Attribute) and reader.attr in READ_METHODS:
            name = receiver_name(reader.value, self.self_name)
            return self.socket_of(name) if name else None
        return None

    def reads_to_end(self, call: ast.Call) -> str | None:
        """The socket a single call reads to EOF: `f.read()`, `f.readlines()`, `b"".join(iter(…))`."""
        func = call.func
        if isinstance(func, ast.Attribute) and func.attr in READ_ALL_METHODS and _unbounded(call):
            name = receiver_name(func.value, self.self_name)
            if name in self.files:
                return self.files[name]
            return self.makefile(func.value)
        if isinstance(func, ast.Attribute) and func.attr == "join" and call.args:
            return self.eof_iterable(call.args[0])
        return None


_ORDERING = (ast.Lt, ast.LtE, ast.Gt, ast.GtE, ast.NotEq)


def _assignment(node: ast.stmt) -> tuple[list[ast.expr], ast.expr | None]:
    """(targets, value) of `x = v`, `x += v`, `x: T = v`, and `buf.extend(v)` / `buf.append(v)`."""
    if isinstance(node, ast.Assign):
        return node.targets, node.value
    if isinstance(node, (ast.AugAssign, ast.AnnAssign)):
        return [node.target], node.value
    call = node.value if isinstance(node, ast.Expr) else None
    if (
        isinstance(call, ast.Call)
        and isinstance(call.func, ast.Attribute)
        and call.func.attr in ("extend", "append", "write")
        and call.args
    ):
        return [call.func.value], call.args[0]
    return [], None


def _keyword(call: ast.Call, name: str) -> ast.expr | None:
    return next((k.value for k in call.keywords if k.arg == name), None)


def _is_len(call: ast.Call) -> bool:
    return isinstance(call.func, ast.Name) and call.func.id == "len"


def _unbounded(call: ast.Call) -> bool:
    """`read()`, `read(-1)`, `read(None)`: no size limit."""
    if not call.args:
        return not call.keywords
    size = call.args[0]
    if isinstance(size, ast.UnaryOp) and isinstance(size.op, ast.USub):
        return True
    return isinstance(size, ast.Constant) and size.value is None
