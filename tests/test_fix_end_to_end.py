"""End to end: a server written the naive way loses data; `closelint check --fix` makes it deliver every byte.

The servers are real modules written to a temporary directory, run on 127.0.0.1 against the loss scenario's
slow client (tests/netutil.py), fixed by the real command line, and imported again.
"""

from __future__ import annotations

import json
import socket
import sys
from pathlib import Path
from types import ModuleType

import pytest
from netutil import IO_TIMEOUT, LOOPBACK, RESPONSE_SIZE, Background, Delivery, load_module, loss_client

from closelint.cli import main

pytestmark = [
    pytest.mark.network,
    pytest.mark.skipif(sys.platform != "linux", reason="close() resets on unread input on Linux"),
]

#: the same bug written three ways: plain close, a `with` block, shutdown(SHUT_RDWR) then close
NAIVE_SERVERS = {
    "plain_close": '''\
"""Answers one request: reads the command, sends the report."""
import socket

REPORT = b"r" * {size}


def serve_once(listener):
    conn, _ = listener.accept()
    conn.settimeout({timeout})
    conn.recv(10)
    conn.sendall(REPORT)
    conn.close()
''',
    "with_block": """\
import socket

REPORT = b"r" * {size}


def serve_once(listener):
    conn, _ = listener.accept()
    with conn:
        conn.settimeout({timeout})
        conn.recv(10)
        conn.sendall(REPORT)
""",
    "shutdown_then_close": """\
import socket

REPORT = b"r" * {size}


def serve_once(listener):
    conn, _ = listener.accept()
    conn.settimeout({timeout})
    conn.recv(10)
    conn.sendall(REPORT)
    conn.shutdown(socket.SHUT_RDWR)
    conn.close()
""",
}


def _serve(module: ModuleType) -> Delivery:
    """One connection of the loss scenario against `module.serve_once`."""
    with socket.create_server((LOOPBACK, 0)) as listener:
        listener.settimeout(IO_TIMEOUT)
        server = Background(module.serve_once, listener)
        delivery = loss_client(listener.getsockname())
        server.result()
        return delivery


def _teardown_codes(path: Path, capsys: pytest.CaptureFixture[str]) -> list[str]:
    main(["check", "--no-cache", "--select", "CL2", "--output-format", "json", str(path)])
    return [finding["code"] for finding in json.loads(capsys.readouterr().out)]


@pytest.mark.parametrize("name", sorted(NAIVE_SERVERS))
def test_fix_turns_a_lossy_server_into_one_that_delivers_everything(
    name: str, tmp_path: Path, capsys: pytest.CaptureFixture[str]
) -> None:
    path = tmp_path / f"{name}.py"
    path.write_text(NAIVE_SERVERS[name].format(size=RESPONSE_SIZE, timeout=IO_TIMEOUT), encoding="utf-8")

    before = _serve(load_module(path))
    assert before.received < RESPONSE_SIZE or not before.clean_eof, "the naive server should lose data"
    assert _teardown_codes(path, capsys) in (["CL201"], ["CL202"])

    assert main(["check", "--fix", "--no-cache", "--quiet", "--select", "CL2", str(path)]) == 0
    capsys.readouterr()
    fixed = path.read_text(encoding="utf-8")
    compile(fixed, str(path), "exec")
    assert "graceful_close(conn)" in fixed and "shutdown" not in fixed
    assert _teardown_codes(path, capsys) == []
    main(["check", "--fix", "--no-cache", "--quiet", str(path)])
    assert path.read_text(encoding="utf-8") == fixed, "a second --fix must change nothing"

    module = load_module(path)
    for _ in range(5):
        after = _serve(module)
        assert (after.received, after.clean_eof, after.error) == (RESPONSE_SIZE, True, None)
