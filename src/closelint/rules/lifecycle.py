"""Lifecycle rules: sockets that are never closed, or leak when an exception is raised."""

from __future__ import annotations

import ast
from collections.abc import Iterator

from closelint.analysis.flow import ScopeFacts
from closelint.analysis.module import ModuleFacts
from closelint.analysis.scopes import own_nodes
from closelint.analysis.state import SOCKET, Resource
from closelint.model import Applicability, Fix, FixKey, Invalid, Valid
from closelint.rule import Report, Rule


def describe(resource: Resource) -> str:
    """How a message names a socket: by its variable when it has one."""
    return f"socket '{resource.name}'" if resource.name else "socket"


def with_statement_fix(resource: Resource, scope: ScopeFacts) -> Fix | None:
    """`s = create(); ...; s.close()` in one block, `s` only used as `s.method()` in between and not
    used after the close: the block becomes `with create() as s:`. Unsafe: an exception now closes it."""
    if resource.site is None or not resource.name:
        return None
    statements, index = resource.site
    creation = statements[index]
    if not (
        isinstance(creation, ast.Assign)
        and creation.value is resource.node
        and len(creation.targets) == 1
        and isinstance(creation.targets[0], ast.Name)
    ):
        return None
    name = resource.name
    close = next((i for i in range(index + 1, len(statements)) if _closes(statements[i], name)), None)
    if close is None or not all(_only_methods_used(s, name) for s in statements[index + 1 : close]):
        return None
    end = statements[close].end_lineno or statements[close].lineno
    if any(isinstance(n, ast.Name) and n.id == name and n.lineno > end for n in ast.walk(scope.node)):
        return None
    return Fix(
        Applicability.UNSAFE,
        f"Turn `{name} = ...` and its `{name}.close()` into a `with` block",
        FixKey.WITH_STATEMENT,
        (creation.lineno, end),
    )


def _closes(statement: ast.stmt, name: str) -> bool:
    """`name.close()` or `graceful_close(name)` as a statement."""
    call = statement.value if isinstance(statement, ast.Expr) else None
    if not isinstance(call, ast.Call):
        return False
    func = call.func
    if isinstance(func, ast.Attribute) and func.attr == "close" and not call.args:
        return isinstance(func.value, ast.Name) and func.value.id == name
    return (
        isinstance(func, ast.Name)
        and func.id == "graceful_close"
        and len(call.args) == 1
        and isinstance(call.args[0], ast.Name)
        and call.args[0].id == name
    )


def _only_methods_used(statement: ast.stmt, name: str) -> bool:
    """Every use of `name` in `statement` is `name.attr` (no hand-off, no rebinding)."""
    receivers = {id(n.value) for n in ast.walk(statement) if isinstance(n, ast.Attribute)}
    return all(id(n) in receivers for n in ast.walk(statement) if isinstance(n, ast.Name) and n.id == name) and not any(
        isinstance(n, (ast.FunctionDef, ast.AsyncFunctionDef, ast.Lambda)) for n in ast.walk(statement)
    )


class SocketLeaked(Rule):
    code = "CL101"
    name = "socket-leaked"
    message = "{what} is not closed on every path; use `with` or close it in `finally`"
    summary = (
        "Checks for sockets that the function (or module) owns and does not close on at least one normal "
        "path: never closed, an early `return`, `break` or `continue`, one end of a `socketpair()` "
        "forgotten, an `accept()`ed connection dropped. A path that ends the process (`sys.exit()`) or "
        "fails a test (`pytest.fail()`, `self.fail()` in a `test*` method) is not one; after "
        "`with pytest.raises(...)` / `with self.assertRaises(...)` the test goes on from where the block raised."
    )
    rationale = (
        "A socket that is never closed keeps its file descriptor until the garbage collector finds it "
        "(with a `ResourceWarning`), and the peer never sees the connection end. Under load a server runs "
        "out of descriptors. A socket is *owned* when the scope creates it (`socket.socket`, "
        "`create_connection`, `create_server`, `socketpair`, `fromfd`, `accept()`, `dup()`, TLS wrapping; "
        "the same functions of gevent's, eventlet's and trio's socket modules; an awaited `sock.accept()` or "
        "`loop.sock_accept(sock)` unpacked as `(conn, address)`) "
        "and does not hand it off (return, yield, store on an attribute or in a container, pass to a call "
        "that may keep it, capture in a closure, `detach()`). A function of the module that returns the "
        "socket it was given (`sock = tuned(sock)`) keeps nothing: the name bound to its result is the same "
        "socket."
    )
    example = """\
import socket

def ssh_banner(host):
    sock = socket.create_connection((host, 22))
    banner = sock.recv(256)
    if not banner.startswith(b"SSH-"):
        return None  # the socket leaks here
    sock.close()
    return banner
"""
    fixed_example = """\
import socket

def ssh_banner(host):
    with socket.create_connection((host, 22)) as sock:
        banner = sock.recv(256)
        if not banner.startswith(b"SSH-"):
            return None
        return banner
"""
    references = ("https://docs.python.org/3/library/socket.html#socket.socket.close",)
    valid = (
        Valid(
            "import socket\n\ndef f(addr):\n    with socket.create_connection(addr) as s:\n        s.sendall(b'x')\n"
        ),
        Valid("import socket\n\ndef f():\n    s = socket.socket()\n    return s\n"),
        Valid("import socket\n\ndef f(pool):\n    a, b = socket.socketpair()\n    pool.append(a)\n    b.close()\n"),
    )
    invalid = (
        Invalid("import socket\n\ndef f(addr):\n    s = socket.create_connection(addr)\n    s.sendall(b'x')\n"),
        Invalid("import socket\n\ndef f():\n    a, b = socket.socketpair()\n    a.close()\n"),
        Invalid(
            "import socket\n\ndef f(srv):\n    while True:\n        conn, _ = srv.accept()\n"
            "        if conn.recv(1) == b'q':\n            continue\n        conn.close()\n"
        ),
    )

    def check(self, facts: ModuleFacts) -> Iterator[Report]:
        for scope, resource in facts.owned(SOCKET):
            if resource.rid in scope.normal_leaks:
                yield self.report(resource.node, what=describe(resource))


#: how CL102 says to close a socket the scope is done with when it returns, and one it stores on `self`
_SCOPED = "use `with` or close it in `finally`"
_KEPT = "close it in an `except` block that re-raises"
#: how CL102 names the failure when the socket leaks only on cancellation
_CANCELLED = "the task is cancelled at an await (except OSError does not catch CancelledError)"


class SocketLeakedOnError(Rule):
    code = "CL102"
    name = "socket-leaked-on-error"
    message = "{what} leaks if {failure} before it is closed; {remedy}"
    summary = (
        "Checks for sockets that are closed on every normal path, but not when an exception is raised "
        "between their creation and `close()`: the close is not in `finally`, not under `with`, and no "
        "`except` closes and re-raises. An `except` that swallows the error and returns or continues "
        "without closing (also after a constructor it was passed to raised: `Client(sock)` that failed holds "
        "nothing), and an explicit `raise` before the close, count too. What may raise: a call that "
        "uses the socket (any method but `setblocking`, `settimeout`, `gettimeout`, `fileno`, `getsockname` "
        "and the inheritable flags, and `setsockopt()` of an option that never fails on a fresh socket, "
        "`TCP_NODELAY` at the TCP level on a TCP socket made here among them — "
        "though it can on an accepted connection the peer already reset; or passing the socket to a function), "
        "and every `await`, the exit of an `async with` included — in an "
        "`async def` cancellation is a BaseException that `except OSError` does not catch; it arrives only at "
        "an `await`, so handlers of a `try` whose body never awaits need not catch it, and `{failure}` names "
        "cancellation when that is the only way the socket leaks. A method of the "
        "object (`self.clone()`) counts when its body raises, awaits or calls anything but logging and "
        "printing, and so does one the module does not define (a hook of a base class of another module), "
        "except the test framework's methods in a unittest-style test class. Other calls that "
        "do not touch the socket (logging, printing, helpers) are not taken to fail, nor is a path that ends "
        'the process (`sys.exit()`); `raising-calls = "any"` counts every call. A `try` body whose `except` '
        "closes a socket open before it (`except KeyError: a.close(); raise`) may fail wherever it fails: the "
        "handler runs with what was open at the `try`. Module-level code is judged "
        "the same way, except that an exception "
        "escaping it is no leak: it ends the script or fails the import, and the process releases the "
        "socket (an `except` there that swallows the error and carries on still counts). A retry loop over "
        "a non-empty constant `range()` always runs, so attempts that all fail and are swallowed are this "
        "code, not CL101. A constructor or connect method that stores the socket on `self` keeps it until it "
        "returns; outside `__init__`, `self.sock` of a subclass of a standard-library connection "
        "(`http.client.HTTPConnection`, `smtplib.SMTP`, `ftplib.FTP`, `poplib.POP3`) is the object's: the "
        "caller holds it, and the base class's `close()` closes `self.sock`. `{remedy}` is "
        f"`{_SCOPED}`, or for a socket the method stores on `self` or returns (which neither a `with` nor a "
        f"`finally` may close on success) `{_KEPT}`."
    )
    rationale = (
        "Network calls fail: `connect`, `sendall` and `recv` raise `OSError` subclasses whenever a peer "
        "is slow, gone or rude. When that happens between `socket()` and `close()`, the descriptor leaks "
        "until garbage collection, and code that retries in a loop leaks one descriptor per failure."
    )
    fix_applicability = Applicability.UNSAFE
    fix_title = (
        "when the socket is created, used and closed in one block and not used after the close, the block "
        "becomes `with <creation> as sock:`. Unsafe because the socket is then closed when an exception "
        "leaves the block, which code after the `except` may not expect"
    )
    example = """\
import socket

def read_greeting(addr):
    sock = socket.create_connection(addr)
    greeting = sock.recv(64)  # may raise: the socket leaks
    sock.close()
    return greeting
"""
    fixed_example = """\
import socket

def read_greeting(addr):
    with socket.create_connection(addr) as sock:
        return sock.recv(64)
"""
    valid = (
        Valid(
            "import socket\n\ndef f(addr):\n    s = socket.create_connection(addr)\n    try:\n"
            "        s.sendall(b'x')\n    finally:\n        s.close()\n"
        ),
        Valid("import socket\n\ndef f():\n    s = socket.socket()\n    s.settimeout(1)\n    s.close()\n"),
        Valid(
            "import socket\n\ndef f(addr):\n    s = socket.socket()\n    try:\n        s.connect(addr)\n"
            "    except BaseException:\n        s.close()\n        raise\n    return s\n"
        ),
    )
    invalid = (
        Invalid(
            "import socket\n\ndef f(addr):\n    s = socket.create_connection(addr)\n    s.recv(1)\n    s.close()\n",
            "import socket\n\ndef f(addr):\n    with socket.create_connection(addr) as s:\n        s.recv(1)\n",
            unsafe=True,
        ),
        Invalid(
            "import socket\n\ndef f(addr):\n    s = socket.socket()\n    try:\n        s.connect(addr)\n"
            "    except OSError:\n        return None\n    s.close()\n"
        ),
    )

    def check(self, facts: ModuleFacts) -> Iterator[Report]:
        for scope, resource in facts.owned(SOCKET):
            if resource.rid in scope.exceptional_leaks and resource.rid not in scope.normal_leaks:
                failure = (
                    _CANCELLED if resource.rid not in scope.leaks_beyond_cancellation else "an exception is raised"
                )
                kept = any(stored.rid == resource.rid for _, stored in scope.stored_on_self) or _returned(
                    scope.node, resource.name
                )
                yield self.report(
                    resource.node,
                    with_statement_fix(resource, scope),
                    what=describe(resource),
                    failure=failure,
                    remedy=_KEPT if kept else _SCOPED,
                )


def _returned(function: ast.AST, name: str) -> bool:
    """Whether a `return` of the function hands `name` to its caller: `return s`, `return s, addr`,
    `return cls(s)`, `return wrap(s)` (the caller then holds it, as a `with` or `finally` here cannot);
    not `return s.recv(64)`, which hands over what was read."""
    for node in own_nodes(getattr(function, "body", [])):
        if isinstance(node, ast.Return) and node.value is not None:
            receivers = {id(n.value) for n in ast.walk(node.value) if isinstance(n, ast.Attribute)}
            if any(isinstance(n, ast.Name) and n.id == name and id(n) not in receivers for n in ast.walk(node.value)):
                return True
    return False


class SocketAttributeNeverClosed(Rule):
    code = "CL103"
    name = "socket-attribute-never-closed"
    message = "socket stored on 'self.{attr}' is never closed or handed off by any method of the class"
    summary = (
        "Checks for sockets stored on `self.<attr>` when no method of the class (`close`, `__exit__`, "
        "`__del__`, `tearDown`, `shutdown`, `stop`, or any other) ever closes the attribute or hands it off. "
        "A class with a base of another module (which may close what it stores) is judged only when it defines "
        "its own `close()` or `aclose()` and never runs a base's (`super().close()`, `Base.close(self)`): the "
        "teardown is then its own. Attribute names are matched per class: the methods of the class and of its "
        "bases and subclasses in the module count, and code outside every class counts only on an object typed "
        "to one of them (`def retire(c: Client): c.sock.close()`, `c = Client(); c.sock.close()`); another class "
        "(also one defined under `if`/`try`) or an untyped `x.sock.close()` closes some other object."
    )
    rationale = (
        "An object that opens a socket in `__init__`, `connect` or `setUp` and never closes it leaks one "
        "descriptor per instance; test suites that do this in `setUp` fill the log with `ResourceWarning` "
        "and can exhaust descriptors. Give the class a `close()` (and `__exit__`), or close the socket in "
        "`tearDown`."
    )
    example = """\
import socket
import unittest

class EchoTest(unittest.TestCase):
    def setUp(self):
        self.sock = socket.create_connection(("127.0.0.1", 7))

    def test_echo(self):
        self.sock.sendall(b"hi")
        self.assertEqual(self.sock.recv(2), b"hi")
"""
    fixed_example = """\
import socket
import unittest

class EchoTest(unittest.TestCase):
    def setUp(self):
        self.sock = socket.create_connection(("127.0.0.1", 7))

    def tearDown(self):
        self.sock.close()

    def test_echo(self):
        self.sock.sendall(b"hi")
        self.assertEqual(self.sock.recv(2), b"hi")
"""
    valid = (
        Valid(
            "import socket\n\nclass C:\n    def __init__(self):\n        self.s = socket.socket()\n\n"
            "    def close(self):\n        self.s.close()\n"
        ),
        Valid(
            "import socket\n\nclass C:\n    def __init__(self, sel):\n        self.s = socket.socket()\n"
            "        sel.register(self.s, 1)\n"
        ),
    )
    invalid = (
        Invalid(
            "import socket\n\nclass C:\n    def __init__(self):\n        self.s = socket.socket()\n\n"
            "    def ping(self):\n        self.s.sendall(b'x')\n"
        ),
    )

    def check(self, facts: ModuleFacts) -> Iterator[Report]:
        for attr, resource in facts.unclosed_attributes:
            yield self.report(resource.node, attr=attr)
