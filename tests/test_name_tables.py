"""Every entry of every name table decides a verdict.

The analysis knows sockets by name: factories, send/read/close methods, exception classes, calls that keep
nothing, ... Each table below gets one program with a hole; for each entry the program is linted once with
the entry in the hole and once with a name no table holds, and the code must be reported in exactly one of
the two. The cases are derived from the tables themselves, so an entry added later is tested too, and an
entry that no longer changes anything (a dead or misspelt name, a table nobody reads) fails. `RECORDED`
holds the names each table had when its test was written: removing or renaming one fails as well.

Not here: `FAMILY_CONSTANTS`' AF_INET and AF_INET6 (an internet socket is judged like one of unknown family,
only AF_UNIX changes a verdict), and the prefilter tables (`SOCKET_MODULES`, `SCOPE_TRIGGERS`), which only
decide which scopes are analysed at all; the fixtures and `test_speed_design.py` cover those.
"""

from __future__ import annotations

import importlib
from collections.abc import Callable, Iterable
from dataclasses import dataclass
from typing import Any

import pytest

from closelint.analysis.factories import Family, SockType
from closelint.config import Settings
from closelint.engine import lint_source


@dataclass(frozen=True)
class Table:
    """A name table, the program that tests one of its entries, and what the entry changes."""

    where: str
    """`module:NAME` of the table."""
    program: str
    """Source with `{name}` where the entry goes (and an `import` for it, where it needs one)."""
    code: str
    """The code (or code prefix) the entry switches on or off."""
    reported: bool
    """Whether `code` is reported with the entry (and not with the control), or the other way round."""
    control: str
    """What goes in the hole instead of the entry: a name of the same shape that no table holds."""
    only: Callable[[Any], bool] = lambda value: True
    """For a dict: which entries, by their value, this program is for."""

    @property
    def entries(self) -> list[str]:
        module, name = self.where.split(":")
        table = getattr(importlib.import_module(module), name)
        if isinstance(table, dict):
            return sorted(entry for entry, value in table.items() if self.only(value))
        return sorted(table)

    @property
    def names(self) -> set[str]:
        """Every name of the table, whatever its value."""
        module, name = self.where.split(":")
        return set(getattr(importlib.import_module(module), name))

    def source(self, entry: str) -> str:
        """The program with `entry` in the hole: a qualified name is imported and used as `module.name`."""
        if "." not in entry:
            return self.program.format(name=entry, imports="")
        module, _, last = entry.rpartition(".")
        if module == "builtins":
            return self.program.format(name=last, imports="")
        return self.program.format(name=entry, imports=f"import {module}\n")


F = "closelint.analysis.factories"
FLOW = "closelint.analysis.flow"
READS = "closelint.analysis.reads"
PEER = "closelint.rules.peer_failure"
MODULE = "closelint.analysis.module"

ACCEPT_LOOP = (
    "import socket\n\n\ndef serve(srv):\n    while True:\n        conn, _ = srv.accept()\n        with conn:\n"
)

TABLES = {
    "SOCKET_FACTORIES": Table(
        f"{F}:SOCKET_FACTORIES",
        "import socket\n{imports}\n\ndef f(*args):\n    made = {name}(*args)\n    return made.fileno()\n",
        "CL101",
        True,
        "socket.getfqdn",
        only=lambda value: value[3] == 0,
    ),
    "SOCKET_FACTORIES_OF_TUPLES": Table(
        f"{F}:SOCKET_FACTORIES",
        "import socket\n{imports}\n\ndef f(*args):\n    made, *rest = {name}(*args)\n    print(made)\n",
        "CL101",
        True,
        "socket.getaddrinfo",
        only=lambda value: value[3] > 0,
    ),
    "STREAM_OPENERS": Table(
        f"{F}:STREAM_OPENERS",
        "import asyncio\n{imports}\n\nasync def f(*args):\n    reader, writer = await {name}(*args)\n"
        "    writer.write(b'x')\n",
        "CL502",
        True,
        "asyncio.sleep",
    ),
    "STREAM_SERVERS": Table(
        f"{F}:STREAM_SERVERS",
        "import asyncio\n{imports}\n\nasync def handle(reader, writer):\n    writer.write(b'x')\n\n\n"
        "async def main(*args):\n    await {name}(handle, *args)\n",
        "CL502",
        True,
        "asyncio.gather",
    ),
    "WRITER_TYPES": Table(
        f"{F}:WRITER_TYPES",
        "import asyncio\n{imports}\n\nasync def f(writer: {name}):\n    writer.write(b'x')\n    writer.close()\n",
        "CL501",
        True,
        "asyncio.Queue",
    ),
    "AWAIT_COMBINATORS": Table(
        f"{F}:AWAIT_COMBINATORS",
        "import asyncio\n{imports}\n\nasync def f(*args):\n"
        "    reader, writer = await {name}(asyncio.open_connection(*args))\n    writer.write(b'x')\n",
        "CL502",
        False,
        "asyncio.ensure_future",
    ),
    "TIMEOUT_WRAPPERS": Table(
        f"{F}:TIMEOUT_WRAPPERS",
        "import asyncio\n{imports}\n\nasync def f(*args):\n"
        "    reader, writer = await {name}(asyncio.open_connection(*args), 5)\n    writer.write(b'x')\n",
        "CL502",
        True,
        "asyncio.gather",
    ),
    "WRAPPING_METHODS": Table(
        f"{F}:WRAPPING_METHODS",
        "import socket\n\n\ndef f(context, address):\n    raw = socket.create_connection(address)\n"
        "    wrapped = context.{name}(raw)\n    return wrapped.fileno()\n",
        "CL101",
        True,
        "register",
    ),
    "WRAPPING_FUNCTIONS": Table(
        f"{F}:WRAPPING_FUNCTIONS",
        "import socket\n{imports}\n\ndef f(address):\n    raw = socket.create_connection(address)\n"
        "    wrapped = {name}(raw)\n    return wrapped.fileno()\n",
        "CL101",
        True,
        "ssl.enum_certificates",
    ),
    "DUPLICATING_METHODS": Table(
        f"{F}:DUPLICATING_METHODS",
        "import socket\n\n\ndef f(sock: socket.socket):\n    copy = sock.{name}()\n    return copy.fileno()\n",
        "CL101",
        True,
        "getsockname",
    ),
    "NON_RAISING_METHODS": Table(
        f"{F}:NON_RAISING_METHODS",
        "import socket\n\n\ndef f():\n    s = socket.socket()\n    s.{name}()\n    s.close()\n",
        "CL102",
        False,
        "connect",
    ),
    "PROCESS_EXITS": Table(
        f"{F}:PROCESS_EXITS",
        "import socket\n{imports}\n\ndef f(address):\n    s = socket.create_connection(address)\n"
        "    s.sendall(b'x')\n    {name}(0)\n",
        "CL101",
        False,
        "os.getpid",
    ),
    "CLOSING_FUNCTIONS_SUFFIX": Table(
        f"{F}:CLOSING_FUNCTIONS_SUFFIX",
        "import socket\n\n\ndef f({name}):\n    s = socket.socket()\n    t = socket.socket()\n    {name}(s)\n"
        "    t.close()\n",
        "CL102",
        False,
        "keep",
    ),
    "CLOSING_CONTEXTS": Table(
        f"{F}:CLOSING_CONTEXTS",
        "import socket\n{imports}\n\ndef f(address):\n    with {name}(socket.create_connection(address)) as s:\n"
        "        s.sendall(b'x')\n",
        "CL201",
        True,
        "contextlib.nullcontext",
    ),
    "NON_KEEPING_CALLS": Table(
        f"{F}:NON_KEEPING_CALLS",
        "import socket\n{imports}\n\ndef f():\n    s = socket.socket()\n    {name}(s)\n",
        "CL101",
        True,
        "threading.Thread",
    ),
    "NON_KEEPING_CALLS_CANNOT_FAIL": Table(
        f"{F}:NON_KEEPING_CALLS",
        "import socket\n{imports}\n\ndef f():\n    s = socket.socket()\n    t = socket.socket()\n    {name}(s)\n"
        "    t.close()\n    s.close()\n",
        "CL102",
        False,
        "threading.Thread",
    ),
    "NON_KEEPING_METHODS": Table(
        f"{F}:NON_KEEPING_METHODS",
        "import socket\n\n\ndef f(other):\n    s = socket.socket()\n    other.{name}(s)\n",
        "CL101",
        True,
        "append",
    ),
    "TYPE_CONSTANTS": Table(
        f"{F}:TYPE_CONSTANTS",
        "import socket\n{imports}\n\ndef f(address):\n    s = socket.socket(socket.AF_INET, {name})\n"
        "    try:\n        s.connect(address)\n        s.send(b'x')\n    finally:\n        s.close()\n",
        "CL201",
        True,
        "socket.SOCK_NONBLOCK",
        only=lambda value: value is SockType.STREAM,
    ),
    "FAMILY_CONSTANTS_UNIX": Table(
        f"{F}:FAMILY_CONSTANTS",
        "import socket\n{imports}\n\ndef f(address):\n    s = socket.socket({name}, socket.SOCK_STREAM)\n"
        "    try:\n        s.connect(address)\n        s.sendall(b'x')\n    finally:\n        s.close()\n",
        "CL201",
        False,
        "socket.AF_PACKET",
        only=lambda value: value is Family.UNIX,
    ),
    "TYPE_CONSTANTS_NOT_STREAM": Table(
        f"{F}:TYPE_CONSTANTS",
        "import socket\n{imports}\n\ndef f(address):\n    s = socket.socket(socket.AF_INET, {name})\n"
        "    try:\n        s.connect(address)\n        s.sendall(b'x')\n    finally:\n        s.close()\n",
        "CL201",
        False,
        "socket.SOCK_NONBLOCK",
        only=lambda value: value is not SockType.STREAM,
    ),
    "CLOSERS": Table(
        f"{FLOW}:_CLOSERS",
        "import socket\n\n\ndef f(register):\n    s = socket.socket()\n    register(s.{name})\n",
        "CL101",
        False,
        "getsockname",
    ),
    "CATCH_ALL": Table(
        f"{FLOW}:_CATCH_ALL",
        "import socket\n{imports}\n\ndef f(address):\n    s = socket.socket()\n    try:\n        s.connect(address)\n"
        "    except {name}:\n        s.close()\n        raise\n    return s\n",
        "CL102",
        False,
        "builtins.ValueError",
    ),
    "CATCH_ALL_ASYNC": Table(
        f"{FLOW}:_CATCH_ALL_ASYNC",
        "import socket\n{imports}\n\nasync def f(ready):\n    s = socket.socket()\n    try:\n        await ready\n"
        "    except {name}:\n        s.close()\n        raise\n    return s\n",
        "CL102",
        False,
        "builtins.Exception",
    ),
    "LOOP_READ_METHODS": Table(
        f"{READS}:LOOP_READ_METHODS",
        "import socket\n\n\nasync def f(loop, a):\n    s = socket.create_connection(a)\n    s.sendall(b'x')\n"
        "    s.shutdown(socket.SHUT_WR)\n    while await loop.{name}(s, 4096):\n        pass\n    s.close()\n",
        "CL202",
        False,
        "sock_sendall",  # keeps nothing (NON_KEEPING_METHODS), reads nothing
    ),
    "CANCELLATIONS": Table(
        f"{FLOW}:_CANCELLATIONS",
        "import socket\n{imports}\n\nasync def f(ready):\n    s = socket.socket()\n    try:\n        await ready\n"
        "    except OSError:\n        s.close()\n        raise\n    except {name}:\n        s.close()\n        raise\n"
        "    return s\n",
        "CL102",
        False,
        "asyncio.TimeoutError",
    ),
    "SEND_METHODS": Table(
        f"{FLOW}:_SEND_METHODS",
        "import socket\n\n\ndef f(address, data):\n    s = socket.create_connection(address)\n    try:\n"
        "        s.{name}(data)\n    finally:\n        s.close()\n",
        "CL201",
        True,
        "getpeername",
    ),
    "STREAM_SEND_METHODS": Table(
        f"{FLOW}:_STREAM_SEND_METHODS",
        "def f(conn, data):\n    conn.{name}(data)\n    conn.close()\n",
        "CL201",
        True,
        "send",
    ),
    "SHUT_SIDES_WRITE": Table(
        f"{FLOW}:_SHUT_SIDES",
        "import socket\n\n\ndef f(conn: socket.socket, data):\n    conn.sendall(data)\n"
        "    conn.shutdown(socket.{name})\n    conn.close()\n",
        "CL202",
        True,
        "MSG_PEEK",
        only=lambda sides: sides[0],
    ),
    "SHUT_SIDES_READ": Table(
        f"{FLOW}:_SHUT_SIDES",
        "import socket\n\n\ndef f(conn: socket.socket, data):\n    conn.sendall(data)\n"
        "    conn.shutdown(socket.{name})\n    while conn.recv(4096):\n        pass\n    conn.close()\n",
        "CL20",
        True,
        "MSG_PEEK",
        only=lambda sides: sides[1],
    ),
    "READ_METHODS": Table(
        f"{READS}:READ_METHODS",
        "import socket\n\n\ndef f(conn: socket.socket, data, buffer):\n    conn.sendall(data)\n"
        "    conn.shutdown(socket.SHUT_WR)\n    while conn.{name}(buffer):\n        pass\n    conn.close()\n",
        "CL202",
        False,
        "getblocking",
    ),
    "READ_ALL_METHODS": Table(
        f"{READS}:READ_ALL_METHODS",
        "import socket\n\n\ndef f(conn: socket.socket, data):\n    conn.sendall(data)\n"
        "    conn.shutdown(socket.SHUT_WR)\n    conn.makefile('rb').{name}()\n    conn.close()\n",
        "CL202",
        False,
        "fileno",
    ),
    "WRITE_METHODS": Table(
        f"{READS}:WRITE_METHODS",
        "import socket\n\n\ndef f(conn: socket.socket, data):\n    out = conn.makefile('wb')\n    out.{name}(data)\n"
        "    out.close()\n    conn.close()\n",
        "CL201",
        True,
        "fileno",
    ),
    "SOCKET_IO": Table(
        f"{PEER}:SOCKET_IO",
        ACCEPT_LOOP + "            conn.{name}(1024)\n",
        "CL401",
        True,
        "getpeername",
    ),
    "FILE_IO": Table(
        f"{PEER}:FILE_IO",
        ACCEPT_LOOP + "            stream = conn.makefile('rwb')\n            stream.{name}()\n",
        "CL401",
        True,
        "fileno",
    ),
    "RESET_CATCHERS": Table(
        f"{PEER}:RESET_CATCHERS",
        ACCEPT_LOOP.replace("import socket\n", "import socket\n{imports}")
        + "            try:\n                conn.sendall(conn.recv(1024))\n            except {name}:\n"
        "                pass\n",
        "CL401",
        False,
        "builtins.ValueError",
    ),
    "NEUTRAL_BASES": Table(
        f"{MODULE}:NEUTRAL_BASES",
        "import socket\n{imports}\n\nclass Client({name}):\n    def connect(self, address):\n"
        "        self.sock = socket.create_connection(address)\n",
        "CL103",
        True,
        "socketserver.BaseServer",
    ),
    "INERT_METHODS": Table(
        f"{MODULE}:_INERT_METHODS",
        "import socket\n\n\nclass Client:\n    def connect(self, address):\n"
        "        self.sock = socket.create_connection(address)\n\n    def use(self):\n        self.sock.{name}()\n",
        "CL103",
        True,
        "detach",
    ),
    "GREEN_SOCKET_MODULES": Table(
        "closelint.analysis.names:GREEN_MODULES",
        "{imports}\n\ndef f(*args):\n    made = {name}.socket(*args)\n    return made.fileno()\n",
        "CL101",
        True,
        "select.epoll",
    ),
    "ADOPTED_DESCRIPTORS": Table(
        f"{F}:ADOPTED_DESCRIPTORS",
        "import socket\n{imports}\n\ndef f(x):\n    s = socket.socket(fileno={name}(x))\n    return s.fileno()\n",
        "CL101",
        True,
        "os.get_inheritable",
    ),
    "FAKE_NETWORKS": Table(
        f"{F}:FAKE_NETWORKS",
        "from {name} import FakeNet\nimport trio\n\n\ndef f():\n    s = trio.socket.socket()\n    return s.fileno()\n",
        "CL101",
        False,
        "trio.testing",
    ),
    "AWAITED_ACCEPTS_OF_THE_SOCKET": Table(
        f"{F}:AWAITED_ACCEPTS",
        "async def f(srv):\n    conn, _ = await srv.{name}()\n    return conn.fileno()\n",
        "CL101",
        True,
        "receive",
        only=lambda arguments: arguments == 0,
    ),
    "AWAITED_ACCEPTS_OF_THE_LOOP": Table(
        f"{F}:AWAITED_ACCEPTS",
        "async def f(loop, srv):\n    conn, _ = await loop.{name}(srv)\n    return conn.fileno()\n",
        "CL101",
        True,
        "sock_receive",
        only=lambda arguments: arguments == 1,
    ),
}


def words(text: str, prefix: str = "") -> set[str]:
    return {prefix + word for word in text.split()}


#: the names each table held when its case was written: a removed or misspelt entry fails
RECORDED: dict[str, set[str]] = {
    "GREEN_SOCKET_MODULES": {"gevent.socket", "eventlet.green.socket", "trio.socket"},
    "FAKE_NETWORKS": {"trio.testing._fake_net"},
    "ADOPTED_DESCRIPTORS": {"os.dup", "builtins.int"},
    "AWAITED_ACCEPTS_OF_THE_SOCKET": {"accept"},
    "AWAITED_ACCEPTS_OF_THE_LOOP": {"sock_accept"},
    "SOCKET_FACTORIES": words("socket SocketType create_connection create_server fromfd fromshare", "socket.")
    | {"eventlet.connect", "eventlet.listen"},
    "SOCKET_FACTORIES_OF_TUPLES": {"socket.socketpair"},
    "STREAM_OPENERS": words("open_connection open_unix_connection", "asyncio.")
    | words("open_connection open_unix_connection", "asyncio.streams."),
    "STREAM_SERVERS": words("start_server start_unix_server", "asyncio.")
    | words("start_server start_unix_server", "asyncio.streams."),
    "WRITER_TYPES": {"asyncio.StreamWriter", "asyncio.streams.StreamWriter"},
    "AWAIT_COMBINATORS": {"asyncio.gather", "asyncio.wait"},
    "TIMEOUT_WRAPPERS": {"asyncio.wait_for", "asyncio.shield"},
    "WRAPPING_METHODS": {"wrap_socket"},
    "WRAPPING_FUNCTIONS": {"ssl.wrap_socket", "socket.from_stdlib_socket"},
    "DUPLICATING_METHODS": {"dup"},
    "NON_RAISING_METHODS": words(
        "setblocking settimeout gettimeout fileno getsockname close detach getblocking set_inheritable get_inheritable"
    ),
    "PROCESS_EXITS": {"sys.exit", "os._exit", "os.abort", "builtins.exit", "builtins.quit"},
    "CLOSING_FUNCTIONS_SUFFIX": {"graceful_close", "graceful_aclose"},
    "CLOSING_CONTEXTS": {"contextlib.closing"},
    "NON_KEEPING_CALLS": words(
        "print len isinstance issubclass id repr str bool hasattr getattr type hash format callable vars dir",
        "builtins.",
    )
    | {"select.select", "socket.close", "os.close"},
    "NON_KEEPING_CALLS_CANNOT_FAIL": set(),  # the same names as NON_KEEPING_CALLS, recorded there
    "NON_KEEPING_METHODS": words("debug info warning warn error exception critical log format write")
    | words("connect recv recv_into recvfrom recvfrom_into sendall sendto sendfile accept", "sock_"),
    "TYPE_CONSTANTS": {"socket.SOCK_STREAM"},
    "FAMILY_CONSTANTS_UNIX": {"socket.AF_UNIX"},
    "TYPE_CONSTANTS_NOT_STREAM": words("SOCK_DGRAM SOCK_RAW SOCK_SEQPACKET", "socket."),
    "CLOSERS": {"close", "detach", "__exit__"},
    "CATCH_ALL": words("Exception BaseException OSError IOError EnvironmentError", "builtins.")
    | {"socket.error", "select.error"},
    "CATCH_ALL_ASYNC": {"builtins.BaseException"},
    "LOOP_READ_METHODS": {"sock_recv", "sock_recv_into"},
    "CANCELLATIONS": {"asyncio.CancelledError", "asyncio.exceptions.CancelledError", "trio.Cancelled"},
    "SEND_METHODS": words("send sendall sendto sendmsg sendfile"),
    "STREAM_SEND_METHODS": {"sendall", "sendfile"},
    "SHUT_SIDES_WRITE": {"SHUT_WR", "SHUT_RDWR"},
    "SHUT_SIDES_READ": {"SHUT_RD", "SHUT_RDWR"},
    "READ_METHODS": words("recv recv_into read read1 readinto readline"),
    "READ_ALL_METHODS": words("read readlines readall"),
    "WRITE_METHODS": {"write", "writelines"},
    "SOCKET_IO": words("recv recv_into recvfrom recvmsg send sendall sendto sendmsg sendfile"),
    "FILE_IO": words("recv recv_into read read1 readinto readline readlines write writelines flush"),
    "RESET_CATCHERS": words(
        "ConnectionResetError ConnectionError OSError IOError EnvironmentError Exception BaseException",
        "builtins.",
    )
    | {"socket.error", "select.error"},
    "NEUTRAL_BASES": {"builtins.object", "builtins.Exception", "threading.Thread", "abc.ABC"}
    | words("TestCase IsolatedAsyncioTestCase case.TestCase", "unittest.")
    | {"typing.Generic", "typing.Protocol"},
    "INERT_METHODS": words("send sendall sendto sendmsg sendfile recv recv_into recvfrom recvfrom_into recvmsg")
    | words("connect connect_ex bind listen accept setsockopt getsockopt setblocking settimeout gettimeout")
    | words("fileno getsockname getpeername makefile shutdown"),
}


def reports(source: str, code: str) -> bool:
    """Whether linting `source` reports `code` (or a code starting with it)."""
    result = lint_source(source, "module.py", Settings())
    assert result.error is None, result.error
    return any(v.code.startswith(code) for v in result.violations)


def cases(tables: Iterable[str]) -> list[tuple[str, str]]:
    return [(table, entry) for table in tables for entry in TABLES[table].entries]


def test_every_table_has_a_case_and_a_record() -> None:
    assert set(TABLES) == set(RECORDED)


@pytest.mark.parametrize("table", sorted(TABLES))
def test_no_recorded_entry_is_missing(table: str) -> None:
    assert RECORDED[table] - set(TABLES[table].entries) == set()


@pytest.mark.parametrize("table", sorted(TABLES))
def test_the_control_is_in_no_table_and_decides_the_other_way(table: str) -> None:
    case = TABLES[table]
    assert case.control not in case.names
    assert reports(case.source(case.control), case.code) is not case.reported


@pytest.mark.parametrize(("table", "entry"), cases(TABLES), ids=lambda x: x)
def test_the_entry_decides_the_verdict(table: str, entry: str) -> None:
    case = TABLES[table]
    assert reports(case.source(entry), case.code) is case.reported, case.source(entry)
