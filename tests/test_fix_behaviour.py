"""A safe `--fix` leaves a program's behaviour unchanged apart from the data no longer lost.

Each shape is a real module written to a temporary directory and run on 127.0.0.1 before and after
`closelint check --fix` (the real command line): what it does must be the same, the fixed file parses, a
second `--fix` changes nothing. Where the fix could change the behaviour (a wrapper that is not a socket, a
shared descriptor, a makefile() reader, a lock, an event loop), no safe fix is applied at all.
"""

from __future__ import annotations

import asyncio
import json
import socket
import sys
import threading
import time
from collections.abc import Callable
from dataclasses import dataclass
from pathlib import Path
from types import ModuleType
from typing import Any

import pytest
from netutil import (
    IO_TIMEOUT,
    LOOPBACK,
    RESPONSE_SIZE,
    Background,
    abort,
    load_module,
    loss_client,
    read_exactly,
    read_to_eof,
)

from closelint.cli import main

pytestmark = [
    pytest.mark.network,
    pytest.mark.skipif(sys.platform != "linux", reason="close() resets on unread input on Linux"),
]

#: longer than any plain close takes, far shorter than the drain timeout (5 s) a graceful close may wait
QUICK = 1.0


def _fix(path: Path) -> str:
    main(["check", "--fix", "--no-cache", "--quiet", "--output-format", "concise", str(path)])
    return path.read_text(encoding="utf-8")


@dataclass(frozen=True)
class Shape:
    source: str
    #: what the module does, observed on loopback: must be equal before and after --fix
    observe: Callable[[ModuleType], Any]
    #: whether a safe fix applies (else --fix must leave the file byte-identical)
    fixed: bool


def _accepting(function: Callable[[socket.socket], Any], client: Callable[[tuple[str, int]], Any]) -> tuple[Any, Any]:
    """Run `function(listener)` in a thread against `client(address)`; both results."""
    with socket.create_server((LOOPBACK, 0)) as listener:
        listener.settimeout(IO_TIMEOUT)
        server = Background(function, listener)
        answer = client(listener.getsockname())
        return server.result(), answer


def _send_then_idle(address: tuple[str, int], data: bytes = b"ping") -> bytes:
    """A client that sends, reads what comes within QUICK seconds, and never closes its side meanwhile."""
    with socket.create_connection(address, timeout=IO_TIMEOUT) as client:
        client.sendall(data)
        client.settimeout(QUICK)
        received = b""
        try:
            while chunk := client.recv(65536):
                received += chunk
        except (TimeoutError, ConnectionResetError):
            pass
        return received


# --- shapes with no safe fix ---------------------------------------------------------------------------------

NOT_A_SOCKET = '''\
import socket


class Channel:
    """A paramiko/gevent-like wrapper: sendall() and close() like a socket, but not a socket.socket."""

    def __init__(self, sock):
        self._sock = sock

    def sendall(self, data):
        self._sock.sendall(data)

    def close(self):
        self._sock.close()


def finish(channel):
    channel.sendall(b"done")
    channel.close()
'''


def _observe_not_a_socket(module: ModuleType) -> Any:
    def server(listener: socket.socket) -> None:
        conn, _ = listener.accept()
        module.finish(module.Channel(conn))

    return _accepting(server, lambda address: _send_then_idle(address, b""))


SHARED_DESCRIPTOR = """\
import socket


def greet_and_hand_over(listener):
    conn, _ = listener.accept()
    keeper = conn.dup()
    conn.sendall(b"hello ")
    conn.close()
    return keeper
"""


def _observe_shared_descriptor(module: ModuleType) -> Any:
    def server(listener: socket.socket) -> bytes:
        with module.greet_and_hand_over(listener) as keeper:
            keeper.settimeout(IO_TIMEOUT)
            keeper.sendall(b"world")
            return read_exactly(keeper, 3)

    def client(address: tuple[str, int]) -> bytes:
        with socket.create_connection(address, timeout=IO_TIMEOUT) as sock:
            greeting = read_exactly(sock, 11)
            sock.sendall(b"ack")
            return greeting

    return _accepting(server, client)


MAKEFILE_READER = """\
import socket


def ask(address):
    sock = socket.create_connection(address, timeout=10)
    reader = sock.makefile("rb")
    sock.sendall(b"GET\\n")
    sock.close()
    answer = reader.readline()
    reader.close()
    return answer
"""


def _observe_makefile_reader(module: ModuleType) -> Any:
    def server(listener: socket.socket) -> None:
        conn, _ = listener.accept()
        with conn:
            conn.settimeout(IO_TIMEOUT)
            read_exactly(conn, 4)
            conn.sendall(b"OK 42\n")
            read_to_eof(conn)

    return _accepting(server, module.ask)


UNDER_LOCK = """\
import socket
import threading

STATE_LOCK = threading.Lock()


def reply_locked(listener):
    conn, _ = listener.accept()
    with STATE_LOCK:
        conn.sendall(b"state")
        conn.close()
"""


def _observe_under_lock(module: ModuleType) -> Any:
    def server(listener: socket.socket) -> bool:
        thread = threading.Thread(target=module.reply_locked, args=(listener,), daemon=True)
        thread.start()
        time.sleep(0.2)  # the reply is being sent; the client stays idle without closing
        acquired = module.STATE_LOCK.acquire(timeout=QUICK)  # the lock is free again at once
        if acquired:
            module.STATE_LOCK.release()
        thread.join(IO_TIMEOUT)
        return acquired

    return _accepting(server, _send_then_idle)


SELECTOR_SERVER = """\
import selectors
import socket

selector = selectors.DefaultSelector()


def on_accept(listener):
    conn, _ = listener.accept()
    conn.setblocking(False)
    conn.sendall(b"welcome")
    conn.close()


def serve_one(listener):
    selector.register(listener, selectors.EVENT_READ, on_accept)
    try:
        for key, _ in selector.select(timeout=10):
            key.data(key.fileobj)
    finally:
        selector.unregister(listener)
"""


def _observe_selector_server(module: ModuleType) -> Any:
    def server(listener: socket.socket) -> bool:
        start = time.monotonic()
        module.serve_one(listener)
        return time.monotonic() - start < QUICK + 0.5  # the loop was not blocked by a drain

    return _accepting(server, _send_then_idle)


EVENT_LOOP_CALLBACK = """\
import asyncio
import socket


def on_readable(loop, listener, done):
    conn, _ = listener.accept()
    conn.sendall(b"hi")
    conn.close()
    loop.remove_reader(listener.fileno())
    done.set_result(True)


def serve_one(listener):
    async def main():
        loop = asyncio.get_running_loop()
        done = loop.create_future()
        loop.add_reader(listener.fileno(), on_readable, loop, listener, done)
        await asyncio.wait_for(done, 10)

    asyncio.run(main())
"""

#: the same callback, bound by functools.partial: the loop runs it all the same
EVENT_LOOP_PARTIAL_CALLBACK = EVENT_LOOP_CALLBACK.replace(
    "import asyncio\n", "import asyncio\nimport functools\n"
).replace("on_readable, loop, listener, done)", "functools.partial(on_readable, loop, listener, done))")

DESCRIPTOR_HANDED_TO_CHILD = """\
import subprocess
import sys

ECHO = "import sys; sys.stdout.buffer.write(sys.stdin.buffer.readline()); sys.stdout.flush()"


def hand_to_child(listener):
    conn, _ = listener.accept()
    conn.sendall(b"ready ")
    child = subprocess.Popen([sys.executable, "-c", ECHO], stdin=conn.fileno(), stdout=conn.fileno())
    conn.close()
    return child
"""


def _observe_descriptor_handed_to_child(module: ModuleType) -> Any:
    """The child answers on the connection after the parent's close: a shutdown would end it for the child."""

    def server(listener: socket.socket) -> int | None:
        child = module.hand_to_child(listener)
        return child.wait(IO_TIMEOUT)

    def client(address: tuple[str, int]) -> bytes:
        with socket.create_connection(address, timeout=IO_TIMEOUT) as sock:
            sock.sendall(b"echo\n")
            return read_to_eof(sock)

    return _accepting(server, client)


LOCK_OF_ANY_NAME = """\
import contextlib
import threading

mu = threading.Lock()
gate = threading.Semaphore(1)


def reply_under_mu(listener):
    conn, _ = listener.accept()
    with mu:
        conn.sendall(b"state")
        conn.close()


def reply_under_gate(listener):
    conn, _ = listener.accept()
    with contextlib.ExitStack() as stack:
        stack.enter_context(gate)
        conn.sendall(b"state")
        conn.close()
"""


def _observe_lock_of_any_name(module: ModuleType) -> Any:
    """Locks are known by what they are, not by their name: each is free again at once after the reply."""

    def free_at_once(reply: Callable[[socket.socket], None], lock: Any) -> Callable[[socket.socket], bool]:
        def server(listener: socket.socket) -> bool:
            thread = threading.Thread(target=reply, args=(listener,), daemon=True)
            thread.start()
            time.sleep(0.2)  # the reply is being sent; the client stays idle without closing
            acquired = bool(lock.acquire(timeout=QUICK))
            if acquired:
                lock.release()
            thread.join(IO_TIMEOUT)
            return acquired

        return server

    return [
        _accepting(free_at_once(module.reply_under_mu, module.mu), _send_then_idle),
        _accepting(free_at_once(module.reply_under_gate, module.gate), _send_then_idle),
    ]


GREEN_LISTENER = """\
from eventlet.green import socket


def listen():
    listener = socket.socket(socket.AF_INET, socket.SOCK_STREAM)
    listener.bind(("127.0.0.1", 0))
    listener.listen()
    return listener


def serve(listener):
    conn, _ = listener.accept()
    conn.recv(10)
    conn.sendall(b"hi")
    conn.close()
"""


def _observe_green_listener(module: ModuleType) -> Any:
    """A listener of unknown type in a module using eventlet accepts a GreenSocket, no socket.socket."""
    listener = module.listen()
    try:

        def serve() -> str:
            try:
                module.serve(listener)
            except Exception as error:
                return type(error).__name__
            return "served"

        server = Background(serve)
        answer = _send_then_idle(listener.getsockname())
        return server.result(), answer
    finally:
        listener.close()


MAKEFILE_READ_THROUGH_ALIAS = """\
import socket


def ask(address):
    sock = socket.create_connection(address, timeout=10)
    replies = sock.makefile("rb")
    pending = replies
    sock.sendall(b"GET\\n")
    sock.close()
    return pending.readline()
"""


NESTED_IN_COROUTINE = """\
import asyncio


def serve_one(listener):
    async def main():
        def reply():
            conn, _ = listener.accept()
            conn.sendall(b"bye")
            conn.close()

        reply()

    asyncio.run(main())
"""


def _observe_finally_after_handler(module: ModuleType) -> Any:
    """The handled timeout: `sys.exc_info()` is empty in `finally` then, yet the close must stay quick."""

    def server(listener: socket.socket) -> tuple[str, bool]:
        start = time.monotonic()
        outcome = module.serve_once(listener, 0.3)
        return outcome, time.monotonic() - start < 0.3 + QUICK

    return _accepting(server, _silent_client)


# --- shapes with a safe fix ------------------------------------------------------------------------------------

CLOSE_IN_FINALLY = """\
import socket

REPORT = b"r" * {size}


def serve_once(listener, patience):
    conn, _ = listener.accept()
    try:
        conn.settimeout(patience)
        conn.recv(10)
        conn.sendall(REPORT)
    finally:
        conn.close()
"""


#: CLOSE_IN_FINALLY whose `try` handles the timeout: no safe fix (see its observer, with the shapes above)
FINALLY_AFTER_HANDLER = (
    CLOSE_IN_FINALLY.replace("    finally:\n", '    except socket.timeout:\n        return "timed out"\n    finally:\n')
    + '    return "served"\n'
)


def _observe_close_in_finally(module: ModuleType) -> Any:
    """The error path: a silent client makes recv() time out; the close must not wait on top of that."""

    def server(listener: socket.socket) -> tuple[str, bool]:
        start = time.monotonic()
        try:
            module.serve_once(listener, 0.3)
        except OSError as error:
            return type(error).__name__, time.monotonic() - start < 0.3 + QUICK
        return "no error", False

    return _accepting(server, _silent_client)


def _silent_client(address: tuple[str, int]) -> None:
    """Sends nothing, waits for the server's close, then stays a while without closing its side."""
    with socket.create_connection(address, timeout=IO_TIMEOUT) as client:
        client.settimeout(QUICK + 1.0)
        client.recv(1)  # the server's close (or its half-close: a drain would now wait for ours)
        time.sleep(QUICK + 0.5)


OWN_GRACEFUL_CLOSE = """\
import socket

closed = []
REPORT = b"r" * {size}


def graceful_close(conn):
    closed.append(conn.fileno())
    conn.close()


def serve_once(listener):
    conn, _ = listener.accept()
    conn.settimeout(10)
    conn.recv(10)
    conn.sendall(REPORT)
    conn.close()


def goodbye(listener):
    conn, _ = listener.accept()
    graceful_close(conn)
"""


def _observe_own_graceful_close(module: ModuleType) -> Any:
    _accepting(module.goodbye, lambda address: _send_then_idle(address, b""))
    return len(module.closed)  # the module's own function is still the one its callers call


WITH_ENDING_IN_JUMPS = """\
import socket

REPORT = b"r" * {size}


def serve(listener, count):
    served = 0
    while True:
        conn, _ = listener.accept()
        with conn:
            conn.settimeout(10)
            conn.recv(10)
            conn.sendall(REPORT)
            served += 1
            if served < count:
                continue
            break
    return served


def serve_once(listener):
    conn, _ = listener.accept()
    with conn:
        conn.settimeout(10)
        conn.recv(10)
        conn.sendall(REPORT)
        return "served"
"""


def _observe_served(module: ModuleType) -> Any:
    result, _ = _accepting(module.serve_once, loss_client)
    return result


SHAPES = {
    "not_a_socket": Shape(NOT_A_SOCKET, _observe_not_a_socket, fixed=False),
    "shared_descriptor": Shape(SHARED_DESCRIPTOR, _observe_shared_descriptor, fixed=False),
    "makefile_reader": Shape(MAKEFILE_READER, _observe_makefile_reader, fixed=False),
    "under_lock": Shape(UNDER_LOCK, _observe_under_lock, fixed=False),
    "selector_server": Shape(SELECTOR_SERVER, _observe_selector_server, fixed=False),
    "event_loop_callback": Shape(EVENT_LOOP_CALLBACK, _observe_selector_server, fixed=False),
    "event_loop_partial_callback": Shape(EVENT_LOOP_PARTIAL_CALLBACK, _observe_selector_server, fixed=False),
    "descriptor_handed_to_child": Shape(DESCRIPTOR_HANDED_TO_CHILD, _observe_descriptor_handed_to_child, fixed=False),
    "lock_of_any_name": Shape(LOCK_OF_ANY_NAME, _observe_lock_of_any_name, fixed=False),
    "green_listener": Shape(GREEN_LISTENER, _observe_green_listener, fixed=False),
    "makefile_read_through_alias": Shape(MAKEFILE_READ_THROUGH_ALIAS, _observe_makefile_reader, fixed=False),
    "nested_in_coroutine": Shape(NESTED_IN_COROUTINE, _observe_selector_server, fixed=False),
    "finally_after_handler": Shape(FINALLY_AFTER_HANDLER, _observe_finally_after_handler, fixed=False),
    "close_in_finally": Shape(CLOSE_IN_FINALLY, _observe_close_in_finally, fixed=True),
    "own_graceful_close": Shape(OWN_GRACEFUL_CLOSE, _observe_own_graceful_close, fixed=True),
    "with_ending_in_jumps": Shape(WITH_ENDING_IN_JUMPS, _observe_served, fixed=True),
}


@pytest.mark.parametrize("name", sorted(SHAPES))
def test_fix_keeps_the_behaviour_of_each_shape(name: str, tmp_path: Path) -> None:
    shape = SHAPES[name]
    path = tmp_path / f"{name}.py"
    original = shape.source.replace("{size}", str(RESPONSE_SIZE))
    path.write_text(original, encoding="utf-8")
    before = shape.observe(load_module(path))

    fixed = _fix(path)
    assert (fixed != original) == shape.fixed, fixed
    compile(fixed, str(path), "exec")
    assert _fix(path) == fixed, "a second --fix must change nothing"
    assert shape.observe(load_module(path)) == before


def _delivered(module: ModuleType, serve: Callable[[socket.socket], Any]) -> tuple[int, bool]:
    _, delivery = _accepting(serve, loss_client)
    return delivery.received, delivery.clean_eof


@pytest.mark.parametrize("name", ["close_in_finally", "own_graceful_close", "with_ending_in_jumps"])
def test_the_fixed_shapes_deliver_every_byte(name: str, tmp_path: Path) -> None:
    path = tmp_path / f"{name}.py"
    path.write_text(SHAPES[name].source.replace("{size}", str(RESPONSE_SIZE)), encoding="utf-8")
    _fix(path)
    module = load_module(path)
    serve: Callable[[socket.socket], Any] = module.serve_once
    if name == "close_in_finally":
        serve = lambda listener: module.serve_once(listener, 10)  # noqa: E731
    for _ in range(3):
        assert _delivered(module, serve) == (RESPONSE_SIZE, True)


def test_a_with_block_left_early_by_continue_gets_no_partial_fix(
    tmp_path: Path, capsys: pytest.CaptureFixture[str]
) -> None:
    """A call before the final `break` would miss the path through `continue`: not fixable, and said so."""
    path = tmp_path / "loop.py"
    path.write_text(WITH_ENDING_IN_JUMPS.replace("{size}", str(RESPONSE_SIZE)), encoding="utf-8")
    fixed = _fix(path)
    assert fixed.count("graceful_close(conn)") == 1  # serve_once only
    capsys.readouterr()
    main(["check", "--no-cache", "--select", "CL201", "--output-format", "json", str(path)])
    findings = json.loads(capsys.readouterr().out)
    # line 12: the helper import is its own section, a blank line apart from `import socket`
    assert [(f["line"], f["fixable"], f["fix"]) for f in findings] == [(12, False, None)]
    assert _fix(path) == fixed


# --- asyncio: the CL501 fix against a peer that resets ---------------------------------------------------------

WRITER_ON_SELF = """\
import asyncio


class Publisher:
    async def connect(self, host, port):
        self.reader, self.writer = await asyncio.open_connection(host, port)

    async def publish(self, event):
        self.writer.write(event)
        await self.writer.drain()
        await asyncio.sleep(0.3)  # the subscriber has reset the connection by now

    async def close(self):
        try:
            self.writer.close()
        except AttributeError:  # never connected
            pass


async def publish_once(host, port, event):
    publisher = Publisher()
    await publisher.connect(host, port)
    await publisher.publish(event)
    await publisher.close()
    return "published"
"""


def _resetting_subscriber(listener: socket.socket) -> bytes:
    conn, _ = listener.accept()
    conn.settimeout(IO_TIMEOUT)
    data = conn.recv(100)
    abort(conn)
    return data


def _run_publisher(module: ModuleType) -> tuple[Any, Any]:
    with socket.create_server((LOOPBACK, 0)) as listener:
        listener.settimeout(IO_TIMEOUT)
        subscriber = Background(_resetting_subscriber, listener)
        host, port = listener.getsockname()
        try:
            outcome: Any = asyncio.run(asyncio.wait_for(module.publish_once(host, port, b"event"), IO_TIMEOUT))
        except Exception as error:
            outcome = type(error).__name__
        return outcome, subscriber.result()


def test_the_inserted_wait_survives_a_peer_reset_and_is_inserted_once(tmp_path: Path) -> None:
    path = tmp_path / "publisher.py"
    path.write_text(WRITER_ON_SELF, encoding="utf-8")
    before = _run_publisher(load_module(path))
    assert before == ("published", b"event")

    fixed = _fix(path)
    assert fixed.count("wait_closed()") == 1
    assert _fix(path) == fixed, "a second --fix must change nothing"
    assert _run_publisher(load_module(path)) == before

    # the control: the bare wait the fix used to insert re-raises the peer's reset
    bare = tmp_path / "bare.py"
    waiting = "self.writer.close()\n            await self.writer.wait_closed()\n"
    bare.write_text(WRITER_ON_SELF.replace("self.writer.close()\n", waiting, 1), encoding="utf-8")
    assert _run_publisher(load_module(bare))[0] == "ConnectionResetError"


GUARDED_WAITS = {
    "suppress": "        self.writer.close()\n        with contextlib.suppress(ConnectionError):\n"
    "            await self.writer.wait_closed()\n",
    "try_except": "        self.writer.close()\n        try:\n            await self.writer.wait_closed()\n"
    "        except ConnectionResetError:\n            pass\n",
    "wait_for": "        self.writer.close()\n        try:\n"
    "            await asyncio.wait_for(self.writer.wait_closed(), 5)\n        except OSError:\n            pass\n",
    "if_guard": "        self.writer.close()\n        if not getattr(self, 'fire_and_forget', False):\n"
    "            try:\n                await self.writer.wait_closed()\n            except OSError:\n"
    "                pass\n",
}


@pytest.mark.parametrize("guard", sorted(GUARDED_WAITS))
def test_a_guarded_wait_gets_no_second_one(guard: str, tmp_path: Path) -> None:
    close = "        try:\n            self.writer.close()\n        except AttributeError:  # never connected\n"
    close += "            pass\n"
    source = "import contextlib\n" + WRITER_ON_SELF.replace(close, GUARDED_WAITS[guard])
    assert GUARDED_WAITS[guard] in source
    path = tmp_path / "publisher.py"
    path.write_text(source, encoding="utf-8")
    before = _run_publisher(load_module(path))
    assert before == ("published", b"event")
    assert _fix(path) == source
    assert _run_publisher(load_module(path)) == before


STAR_IMPORTED_NAME = """\
import socket
from netkit.shutdowns import *

REPORT = b"r" * {size}


def serve_once(listener):
    conn, _ = listener.accept()
    conn.settimeout(10)
    conn.recv(10)
    conn.sendall(REPORT)
    conn.close()


def goodbye(listener):
    conn, _ = listener.accept()
    graceful_close(conn)
"""
NETKIT = "closed = []\n\n\ndef graceful_close(conn):\n    closed.append(conn.fileno())\n    conn.close()\n"


def test_a_star_import_keeps_its_graceful_close(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    """`from netkit.shutdowns import *` may bind `graceful_close`: the fix imports the helper under a free
    alias, so the module's own calls still reach netkit's function, and the fixed server loses nothing."""
    (tmp_path / "netkit").mkdir()
    (tmp_path / "netkit" / "__init__.py").write_text("", encoding="utf-8")
    (tmp_path / "netkit" / "shutdowns.py").write_text(NETKIT, encoding="utf-8")
    monkeypatch.syspath_prepend(str(tmp_path))
    path = tmp_path / "server.py"
    original = STAR_IMPORTED_NAME.replace("{size}", str(RESPONSE_SIZE))
    path.write_text(original, encoding="utf-8")

    fixed = _fix(path)
    assert fixed != original
    assert _fix(path) == fixed, "a second --fix must change nothing"
    module = load_module(path)
    calls = len(module.closed)
    _accepting(module.goodbye, lambda address: _send_then_idle(address, b""))
    assert len(module.closed) == calls + 1  # netkit's graceful_close, not the helper
    for _ in range(3):
        assert _delivered(module, module.serve_once) == (RESPONSE_SIZE, True)


UNREAD_PEER = """\
import asyncio


async def push(host, port, size):
    reader, writer = await asyncio.open_connection(host, port)
    writer.write(b"x" * size)
    writer.close()
    return "pushed"
"""
#: more than the kernel buffers on both ends take: the transport still holds data a non-reading peer never takes
UNREAD_SIZE = 64 * 1024 * 1024


def _push_to_a_peer_that_never_reads(module: ModuleType, limit: float) -> Any:
    with socket.create_server((LOOPBACK, 0)) as listener:
        listener.settimeout(IO_TIMEOUT)
        host, port = listener.getsockname()
        done = threading.Event()

        def never_read(listener: socket.socket) -> None:
            conn, _ = listener.accept()
            with conn:
                done.wait(IO_TIMEOUT)

        peer = Background(never_read, listener)
        try:
            return asyncio.run(asyncio.wait_for(module.push(host, port, UNREAD_SIZE), limit))
        except TimeoutError:
            return "hung"
        finally:
            done.set()
            peer.result()


def test_the_inserted_wait_is_bounded_by_the_drain_timeout(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    (tmp_path / "pyproject.toml").write_text("[tool.closelint]\ndrain-timeout = 0.5\n", encoding="utf-8")
    monkeypatch.chdir(tmp_path)
    path = tmp_path / "pusher.py"
    path.write_text(UNREAD_PEER, encoding="utf-8")
    assert _push_to_a_peer_that_never_reads(load_module(path), IO_TIMEOUT) == "pushed"

    fixed = _fix(path)
    assert "asyncio.wait_for(writer.wait_closed(), 0.5)" in fixed
    assert _fix(path) == fixed, "a second --fix must change nothing"
    assert _push_to_a_peer_that_never_reads(load_module(path), QUICK + 0.5) == "pushed"

    # the control: an unbounded wait never returns while the peer does not read
    bare = tmp_path / "bare.py"
    bare.write_text(UNREAD_PEER.replace("writer.close()\n", "writer.close()\n    await writer.wait_closed()\n"))
    assert _push_to_a_peer_that_never_reads(load_module(bare), QUICK + 0.5) == "hung"
