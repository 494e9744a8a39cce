"""Declarative tables: what creates a socket, what closes one, which calls cannot keep or raise."""

from __future__ import annotations

import ast
import enum
from collections.abc import Callable


class Family(enum.Enum):
    INET = "inet"
    UNIX = "unix"
    UNKNOWN = "unknown"


class SockType(enum.Enum):
    STREAM = "stream"
    DGRAM = "dgram"
    UNKNOWN = "unknown"


class Role(enum.Enum):
    """What the socket is for, as far as its creation tells."""

    CONNECTED = "connected"
    LISTENING = "listening"
    #: one end of a connection whose other end the same code holds: connected to the address of a socket it
    #: made itself, or accepted from such a socket (the loopback fallback of `socketpair()`)
    PAIRED = "paired"
    UNKNOWN = "unknown"


#: qualified name -> (family, type, role, number of sockets the call returns as a tuple (0: one socket))
SOCKET_FACTORIES: dict[str, tuple[Family, SockType, Role, int]] = {
    "socket.socket": (Family.INET, SockType.STREAM, Role.UNKNOWN, 0),
    "socket.SocketType": (Family.INET, SockType.STREAM, Role.UNKNOWN, 0),
    "socket.create_connection": (Family.INET, SockType.STREAM, Role.CONNECTED, 0),
    "socket.create_server": (Family.INET, SockType.STREAM, Role.LISTENING, 0),
    "socket.socketpair": (Family.UNIX, SockType.STREAM, Role.CONNECTED, 2),
    "socket.fromfd": (Family.UNKNOWN, SockType.UNKNOWN, Role.UNKNOWN, 0),
    "socket.fromshare": (Family.UNKNOWN, SockType.UNKNOWN, Role.UNKNOWN, 0),
    # eventlet's shortcuts, documented as returning a connected / a listening green socket
    "eventlet.connect": (Family.INET, SockType.STREAM, Role.CONNECTED, 0),
    "eventlet.listen": (Family.INET, SockType.STREAM, Role.LISTENING, 0),
}
#: a module that imports one of these runs the socket module named with it on a fake network (trio's
#: FakeNet installs itself with `trio.socket.set_custom_socket_factory`): its sockets own no descriptor
FAKE_NETWORKS = {"trio.testing._fake_net": "trio.socket"}

#: coroutines returning (reader, writer); the writer must be closed (CL502) and waited for (CL501)
STREAM_OPENERS = frozenset(
    {
        "asyncio.open_connection",
        "asyncio.open_unix_connection",
        "asyncio.streams.open_connection",
        "asyncio.streams.open_unix_connection",
    }
)
STREAM_SERVERS = frozenset(
    {
        "asyncio.start_server",
        "asyncio.start_unix_server",
        "asyncio.streams.start_server",
        "asyncio.streams.start_unix_server",
    }
)
WRITER_TYPES = frozenset({"asyncio.StreamWriter", "asyncio.streams.StreamWriter"})
TIMEOUT_WRAPPERS = frozenset({"asyncio.wait_for", "asyncio.shield"})
#: calls that await several awaitables and return all their results: a stream opener given to one does not
#: make what it returns a (reader, writer) pair
AWAIT_COMBINATORS = frozenset({"asyncio.gather", "asyncio.wait"})


def awaited_target(opened: ast.expr, call_name: Callable[[ast.AST], str | None]) -> ast.expr:
    """What `await opened` gives the result of: the first argument of `asyncio.wait_for`/`asyncio.shield`,
    or of any other call given a stream opener's coroutine first (`await with_timeout(open_connection(h,
    p), t)`, a timeout wrapper of the project), and `opened` itself otherwise."""
    if not (isinstance(opened, ast.Call) and opened.args):
        return opened
    wrapper, first = call_name(opened), opened.args[0]
    if wrapper in TIMEOUT_WRAPPERS:
        return first
    opener = isinstance(first, ast.Call) and call_name(first) in STREAM_OPENERS
    return first if opener and wrapper not in AWAIT_COMBINATORS else opened


#: modules whose names (and aliases) can create a socket
SOCKET_MODULES = frozenset({"socket", "ssl"})
#: a scope that mentions none of SOCKET_MODULES' names nor these identifiers neither owns a socket nor
#: sends on one it was given, so no rule can report anything in it
SCOPE_TRIGGERS = frozenset(
    {
        "accept",
        "sock_accept",
        "dup",
        "wrap_socket",
        "send",
        "sendall",
        "sendfile",
        "makefile",
        "open_connection",
        "open_unix_connection",
        "StreamWriter",
        "drain",  # a writer known by its write() and awaited drain() (CL501)
    }
)

#: factories whose family and type arguments start at this position
KIND_ARGUMENTS = {"socket.socket": 0, "socket.SocketType": 0, "socket.fromfd": 1}

#: calls whose result is a descriptor the caller owns: a duplicate, or a number parsed from text (an
#: inherited descriptor named in configuration or the environment, `fd://3`, LISTEN_FDS); with `detach()`
#: of a socket, what `socket.socket(fileno=...)` takes over rather than borrows
ADOPTED_DESCRIPTORS = frozenset({"os.dup", "builtins.int"})


def wraps_foreign_descriptor(call: ast.Call, first: int, call_name: Callable[[ast.AST], str | None]) -> bool:
    """`socket.socket(fileno=fd)` or `socket.socket(family, type, proto, fd)` over a descriptor someone else
    owns (`other.fileno()`, a parameter): the new object borrows it. `first` is the factory's
    `KIND_ARGUMENTS` position (fromfd() duplicates: never foreign); `call_name` resolves a call's name."""
    if first != 0:
        return False
    fd = call.args[3] if len(call.args) > 3 else next((k.value for k in call.keywords if k.arg == "fileno"), None)
    if not isinstance(fd, ast.Call):
        return fd is not None
    detached = isinstance(fd.func, ast.Attribute) and fd.func.attr == "detach" and not fd.args
    return not detached and call_name(fd) not in ADOPTED_DESCRIPTORS


#: qualified names of socket constants that decide the kind of a `socket.socket(...)` call
FAMILY_CONSTANTS: dict[str, Family] = {
    "socket.AF_INET": Family.INET,
    "socket.AF_INET6": Family.INET,
    "socket.AF_UNIX": Family.UNIX,
}
TYPE_CONSTANTS: dict[str, SockType] = {
    "socket.SOCK_STREAM": SockType.STREAM,
    "socket.SOCK_DGRAM": SockType.DGRAM,
    "socket.SOCK_RAW": SockType.DGRAM,
    "socket.SOCK_SEQPACKET": SockType.DGRAM,
}

#: method names that wrap a socket into a new owned socket (the argument's ownership moves into it)
WRAPPING_METHODS = frozenset({"wrap_socket"})
#: `trio.socket.from_stdlib_socket(sock)` (read as the socket module's, names.GREEN_MODULES) returns a trio
#: socket over the same object: closing it closes `sock`
WRAPPING_FUNCTIONS = frozenset({"ssl.wrap_socket", "socket.from_stdlib_socket"})
#: methods whose awaited result, unpacked as `(conn, address)`, is a new owned connection, with their number
#: of arguments: a trio socket's `accept()`, asyncio's `loop.sock_accept(sock)` (the awaited `accept()` of
#: other objects, an anyio or trio listener's, returns one stream, which is not unpacked)
AWAITED_ACCEPTS = {"accept": 0, "sock_accept": 1}


def awaited_accept(call: ast.Call) -> bool:
    """`sock.accept()` of a trio socket, `loop.sock_accept(sock)` (`AWAITED_ACCEPTS`), as awaited."""
    func = call.func
    return isinstance(func, ast.Attribute) and AWAITED_ACCEPTS.get(func.attr) == len(call.args) and not call.keywords


#: methods on an owned socket that return a new owned socket
DUPLICATING_METHODS = frozenset({"dup"})

#: methods of a TLS socket that end TLS and return the same socket object (`ssl.SSLSocket.unwrap()`)
UNWRAPPING_METHODS = frozenset({"unwrap"})

#: methods on the owned socket itself that cannot raise (SPEC §2, CL102)
NON_RAISING_METHODS = frozenset(
    {"setblocking", "settimeout", "gettimeout", "fileno", "getsockname", "close", "detach"}
    # flag accessors of the socket object itself, which cannot fail on an open socket
    | {"getblocking", "set_inheritable", "get_inheritable"}
    # a file object over the socket: only a bad mode fails, which no test of the network would find
    | {"makefile"}
)

#: of NON_RAISING_METHODS, those that may raise on an asyncio StreamWriter: its close() schedules the
#: transport's close on the event loop, which raises RuntimeError once the loop is closed; the writer
#: is then not closing (asyncio.selector_events._SelectorTransport.close, BaseEventLoop.call_soon); a
#: second close() of a closing writer returns at once (`if self._closing: return`) and never raises
RAISING_WRITER_METHODS = frozenset({"close"})

#: socket options that setsockopt() accepts on any open socket we created (a buffer size is clamped, not
#: refused); on an accepted connection whose peer already reset, setsockopt() fails (EINVAL on macOS)
INFALLIBLE_OPTIONS = frozenset({"socket.SO_REUSEADDR", "socket.SO_RCVBUF", "socket.SO_SNDBUF", "socket.SO_KEEPALIVE"})
#: TCP options setsockopt() accepts at these levels on any TCP socket we created (`socket()` of AF_INET or
#: AF_INET6 and SOCK_STREAM, `create_connection()`, `create_server()`); on another kind (AF_UNIX, UDP, a
#: descriptor adopted with `fromfd()`) they fail with EOPNOTSUPP / ENOPROTOOPT (Linux tcp(7), setsockopt(2))
INFALLIBLE_TCP_OPTIONS = frozenset({"socket.TCP_NODELAY"})
TCP_LEVELS = frozenset({"socket.IPPROTO_TCP", "socket.SOL_TCP"})
#: the factories whose socket is a new one of the family and type they name (not an adopted descriptor)
NEW_SOCKET_FACTORIES = frozenset(SOCKET_FACTORIES) - {"socket.fromfd", "socket.fromshare"}

#: methods that keep the socket they are given and do not fail on an open one (`selector.register`)
INFALLIBLE_HANDOFFS = frozenset({"register"})

#: decorators that cache what a function returns: a socket it makes is shared by every caller, none owns
#: it (functools docs: "returns the same value" for the same arguments)
MEMOIZERS = frozenset({"functools.cache", "functools.lru_cache", "functools.cached_property"})

#: classes of the standard library whose `close()` closes the socket a subclass stores on these attributes
#: (`http.client.HTTPConnection.close()`: `sock = self.sock; self.sock = None; sock.close()`; smtplib,
#: ftplib and poplib close `self.sock` the same way), by module and class name
CLOSING_BASES: dict[str, frozenset[str]] = {
    f"{module}.{name}": frozenset({"sock"})
    for module, names in {
        "http.client": ("HTTPConnection", "HTTPSConnection"),
        "smtplib": ("SMTP", "SMTP_SSL", "LMTP"),
        "ftplib": ("FTP", "FTP_TLS"),
        "poplib": ("POP3", "POP3_SSL"),
    }.items()
    for name in names
}
#: other spellings of those modules: Python 2's name of http.client, six.moves'
MODULE_SPELLINGS = {"httplib": "http.client", "http_client": "http.client"}


def closing_base(qualname: str) -> frozenset[str]:
    """The attributes the `close()` of the base class `qualname` closes (`CLOSING_BASES`), also when the
    module is re-exported by another (`from compat import httplib`: `compat.httplib.HTTPConnection`)."""
    parts = qualname.split(".")
    for start in range(len(parts) - 1):
        module = ".".join(parts[start:-1])
        found = CLOSING_BASES.get(f"{MODULE_SPELLINGS.get(module, module)}.{parts[-1]}")
        if found is not None:
            return found
    return frozenset()


#: calls after which the process is gone, so whatever it left open does not leak
PROCESS_EXITS = frozenset({"sys.exit", "os._exit", "os.abort", "builtins.exit", "builtins.quit"})
#: calls that fail the running test: no path of a passing test goes on after them
TEST_FAILURES = frozenset({"pytest.fail", "_pytest.outcomes.fail"})
#: the same, as methods of a unittest test case (`self.fail("connected")` in a `test*` method)
TEST_FAILURE_METHODS = frozenset({"fail"})
#: context managers whose block is meant to raise (`with pytest.raises(E):`, `with self.assertRaises(E):`)
EXPECTED_FAILURE_CONTEXTS = frozenset({"raises", "assertRaises", "assertRaisesRegex", "assertRaisesRegexp"})

#: functions that close the socket passed as their first argument
CLOSING_FUNCTIONS_SUFFIX = ("graceful_close", "graceful_aclose")

#: contexts that swallow the exceptions they are given (`with contextlib.suppress(ValueError):`)
SUPPRESSING_CONTEXTS = frozenset({"contextlib.suppress"})

#: wrappers used in `with` that close their argument on exit
CLOSING_CONTEXTS = frozenset({"contextlib.closing"})

#: calls that look at their arguments but cannot keep a reference to them
NON_KEEPING_CALLS = frozenset(
    "builtins." + name
    for name in (
        "print",
        "len",
        "isinstance",
        "issubclass",
        "id",
        "repr",
        "str",
        "bool",
        "hasattr",
        "getattr",
        "type",
        "hash",
        "format",
        "callable",
        "vars",
        "dir",
    )
) | frozenset({"select.select", "socket.close", "os.close"})

#: methods of any object that only log or format their arguments
NON_KEEPING_METHODS = frozenset(
    {"debug", "info", "warning", "warn", "error", "exception", "critical", "log", "format", "write"}
    # a selector forgets what it watched (selectors docs: unregister() "must be called before closing")
    | {"unregister"}
    # asyncio's low-level socket operations use the socket for one call and keep nothing
    | {
        "sock_connect",
        "sock_recv",
        "sock_recv_into",
        "sock_recvfrom",
        "sock_recvfrom_into",
        "sock_sendall",
        "sock_sendto",
        "sock_sendfile",
        "sock_accept",
    }
)
