"""The platform fact CL202 rests on, measured on loopback: once the read side is shut (`SHUT_RD`,
`SHUT_RDWR`), Linux `recv()` returns `b""` at once, before the peer has closed, so a read loop there is no
drain; after `SHUT_WR` the same loop waits for the peer's FIN. closelint reports the first teardown and not
the second, and the functions it judges are the ones run here.
"""

from __future__ import annotations

import socket
import sys
import time
from typing import Any

import pytest
from netutil import Background, read_to_eof_then_close, tcp_pair

from closelint.config import Settings
from closelint.engine import lint_source

pytestmark = [
    pytest.mark.network,
    pytest.mark.skipif(sys.platform != "linux", reason="the recv() behaviour after SHUT_RD is Linux's"),
]

TEARDOWN = """
import socket


def hang_up(conn):
    conn.sendall(b"bye")
    conn.shutdown(socket.SHUT_RDWR)
    while conn.recv(4096):
        pass
    conn.close()


def hang_up_gracefully(conn):
    conn.sendall(b"bye")
    conn.shutdown(socket.SHUT_WR)
    while conn.recv(4096):
        pass
    conn.close()
"""


def test_recv_after_the_read_side_is_shut_returns_eof_before_the_peer_closes() -> None:
    for how in (socket.SHUT_RDWR, socket.SHUT_RD):
        ours, peer = tcp_pair()
        try:
            ours.sendall(b"bye")
            ours.shutdown(how)
            started = time.monotonic()
            assert ours.recv(4096) == b""  # the peer has not closed, nor even read what we sent
            assert time.monotonic() - started < 1.0
            assert peer.recv(3) == b"bye"
            peer.sendall(b"late")  # still accepted: the connection is not closed yet
        finally:
            ours.close()
            peer.close()


def test_closelint_flags_the_read_loop_after_shut_rdwr_and_not_after_shut_wr() -> None:
    namespace: dict[str, Any] = {}
    exec(compile(TEARDOWN, "teardown.py", "exec"), namespace)
    delay = 0.3
    for function, waits in (("hang_up", False), ("hang_up_gracefully", True)):
        ours, peer = tcp_pair()
        peer_side = Background(read_to_eof_then_close, peer, delay=delay)
        try:
            started = time.monotonic()
            namespace[function](ours)
            assert (time.monotonic() - started >= delay) == waits, function  # waited for the peer's FIN?
            assert peer_side.result() == b"bye"
        finally:
            ours.close()
    reported = {(v.line, v.code) for v in lint_source(TEARDOWN, "teardown.py", Settings()).violations}
    assert reported == {(TEARDOWN.splitlines().index("    conn.close()") + 1, "CL202")}


def test_the_cl201_message_after_shut_rd_says_the_read_side_shutdown_made_the_drain_useless() -> None:
    source = TEARDOWN.replace("SHUT_RDWR", "SHUT_RD")
    messages = {v.code: v.message for v in lint_source(source, "teardown.py", Settings()).violations}
    assert set(messages) == {"CL201"}
    assert "after shutdown(SHUT_RD or SHUT_RDWR) recv() returns b'' at once" in messages["CL201"]
    graceful = source.split("def hang_up_gracefully")[1]
    assert not lint_source("import socket\n\ndef hang_up_gracefully" + graceful, "g.py", Settings()).violations


@pytest.mark.parametrize(
    ("source", "advice"),
    [
        (
            "import trio\n\n\nasync def ping(address):\n    sock = trio.socket.socket()\n    try:\n"
            "        await sock.connect(address)\n        await sock.send(b'x')\n    finally:\n        sock.close()\n",
            "shut down with SHUT_WR, read until EOF (bounded by a timeout), then close",
        ),
        (
            "import trio, socket\n\n\nasync def ping(address):\n    sock = trio.socket.socket()\n    try:\n"
            "        await sock.connect(address)\n        await sock.send(b'x')\n"
            "        sock.shutdown(socket.SHUT_RD)\n        while await sock.recv(4096):\n            pass\n"
            "    finally:\n        sock.close()\n",
            "shut down with SHUT_WR, read until EOF, then close",
        ),
    ],
)
def test_in_an_async_def_the_advice_is_no_blocking_helper(source: str, advice: str) -> None:
    (violation,) = [v for v in lint_source(source, "ping.py", Settings()).violations if v.code == "CL201"]
    assert violation.message.endswith(advice)
    assert "graceful_close" not in violation.message
