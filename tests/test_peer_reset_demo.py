"""CL401 demonstrated on real sockets: an accept loop without an ``except`` dies on the first peer that resets.

Two tiny servers differ only in a ``try ... except OSError`` inside the loop. closelint flags the first and
not the second; run against a client that resets its connection (SO_LINGER on, zero timeout, then close)
followed by a well-behaved client, the flagged server's thread dies with ``ConnectionResetError`` and the
second client gets no answer, while the fixed server answers it.

Why the reset is deterministic: client 1 connects and aborts without sending anything, so the server's
``recv`` on that connection has nothing to return and blocks until the RST arrives, which makes it raise
``ConnectionResetError`` (ECONNRESET, Linux) whatever the timing. Everything binds 127.0.0.1 and every
blocking call is bounded.
"""

from __future__ import annotations

import importlib.util
import json
import select
import socket
import sys
import threading
import time
from collections.abc import Callable
from pathlib import Path
from types import ModuleType

import pytest
from netutil import LOOPBACK, abort

from closelint.cli import main

pytestmark = [
    pytest.mark.network,
    pytest.mark.skipif(sys.platform != "linux", reason="relies on Linux returning a reset connection from accept()"),
]

FLAGGED = '''"""Upper-case echo over a listening socket: one request per connection."""


def serve(srv, count):
    for _ in range(count):
        conn, _ = srv.accept()
        with conn:
            data = conn.recv(1024)
            conn.sendall(data.upper())
'''

FIXED = '''"""Upper-case echo over a listening socket: one request per connection."""


def serve(srv, count):
    for _ in range(count):
        conn, _ = srv.accept()
        try:
            with conn:
                data = conn.recv(1024)
                conn.sendall(data.upper())
        except OSError:
            pass
'''

ACCEPT_LINE = 6
"""Line of ``srv.accept()`` in both sources: where CL401 is reported."""

TIMEOUT = 5.0
"""Upper bound for a blocking call or a thread join: a broken test fails instead of hanging."""

REPLY_WAIT = 2.0
"""How long client 2 waits for its answer while the server thread is still alive."""

GONE_GRACE = 0.3
"""Once the server thread has ended, how long a late answer may still take to show up."""


def write_source(tmp_path: Path, name: str, source: str) -> Path:
    path = tmp_path / f"{name}.py"
    path.write_text(source, encoding="utf-8")
    return path


def load(path: Path) -> ModuleType:
    spec = importlib.util.spec_from_file_location(f"peer_reset_demo_{path.stem}", path)
    assert spec is not None and spec.loader is not None
    module = importlib.util.module_from_spec(spec)
    spec.loader.exec_module(module)
    return module


class ServerThread:
    """Run ``serve(srv, count)`` in a daemon thread and keep the exception it died of, if any."""

    def __init__(self, serve: Callable[[socket.socket, int], None], srv: socket.socket, count: int) -> None:
        self.error: BaseException | None = None
        self._serve = serve
        self._thread = threading.Thread(target=self._run, args=(srv, count), daemon=True)
        self._thread.start()

    def _run(self, srv: socket.socket, count: int) -> None:
        try:
            self._serve(srv, count)
        except BaseException as exc:  # reported to the test through .error
            self.error = exc

    def is_alive(self) -> bool:
        return self._thread.is_alive()

    def join(self) -> None:
        self._thread.join(TIMEOUT)
        assert not self._thread.is_alive(), f"server thread still running after {TIMEOUT} s"


def reset_client(address: tuple[str, int]) -> None:
    """Client 1: connect, then hang up abortively (RST) before sending anything."""
    abort(socket.create_connection(address, timeout=TIMEOUT))


def echo_client(address: tuple[str, int], server: ServerThread, request: bytes) -> bytes | None:
    """Client 2: send ``request`` and return the answer, or None when the server is gone without answering."""
    with socket.create_connection(address, timeout=TIMEOUT) as sock:
        sock.sendall(request)
        deadline = time.monotonic() + REPLY_WAIT
        while time.monotonic() < deadline:
            readable, _, _ = select.select([sock], [], [], 0.05)
            if readable or not server.is_alive():
                break
        sock.settimeout(GONE_GRACE if not server.is_alive() else TIMEOUT)
        chunks = []
        try:
            while chunk := sock.recv(1024):
                chunks.append(chunk)
        except OSError:  # timeout or reset: nobody is answering
            return b"".join(chunks) or None
        return b"".join(chunks)


def run_against(source: Path) -> tuple[bytes | None, ServerThread]:
    """Serve two connections with ``source``'s server: client 1 resets, client 2 asks for an echo."""
    serve = load(source).serve
    with socket.create_server((LOOPBACK, 0)) as srv:
        srv.settimeout(TIMEOUT)  # bounds accept(); accepted connections are bounded by the clients' behaviour
        address = srv.getsockname()[:2]
        server = ServerThread(serve, srv, 2)
        reset_client(address)
        reply = echo_client(address, server, b"hello")
        server.join()
    return reply, server


# --- (a) closelint's verdict ----------------------------------------------------------------------------


def cl401_lines(path: Path, capsys: pytest.CaptureFixture[str]) -> list[int]:
    capsys.readouterr()
    main(["check", "--select", "CL401", "--output-format", "json", "--no-cache", str(path)])
    findings = json.loads(capsys.readouterr().out)
    return [item["line"] for item in findings if item["code"] == "CL401"]


def test_closelint_flags_the_loop_without_except_only(tmp_path: Path, capsys: pytest.CaptureFixture[str]) -> None:
    flagged = write_source(tmp_path, "flagged", FLAGGED)
    fixed = write_source(tmp_path, "fixed", FIXED)
    assert FLAGGED.splitlines()[ACCEPT_LINE - 1].strip() == "conn, _ = srv.accept()"
    assert cl401_lines(flagged, capsys) == [ACCEPT_LINE]
    assert cl401_lines(fixed, capsys) == []


# --- (b) what the finding means at run time -------------------------------------------------------------


@pytest.mark.parametrize("attempt", range(3))
def test_flagged_server_dies_on_the_first_reset(tmp_path: Path, attempt: int) -> None:
    reply, server = run_against(write_source(tmp_path, "flagged", FLAGGED))
    assert isinstance(server.error, ConnectionResetError), server.error
    assert reply is None, "the second client was answered although the serve loop had died"


@pytest.mark.parametrize("attempt", range(3))
def test_fixed_server_survives_the_reset(tmp_path: Path, attempt: int) -> None:
    reply, server = run_against(write_source(tmp_path, "fixed", FIXED))
    assert server.error is None, server.error
    assert reply == b"HELLO"
