"""Teardown rules: a close() that can reset the connection and lose data the peer has not read yet."""

from __future__ import annotations

import ast
from collections.abc import Iterator

from closelint.analysis.applicability import graceful_close_fix
from closelint.analysis.flow import CloseSite, ScopeFacts
from closelint.analysis.module import ModuleFacts
from closelint.model import Applicability, Invalid, Valid
from closelint.rule import Report, Rule
from closelint.rules.lifecycle import describe

_RST_RATIONALE = (
    "On Linux, `close()` on a TCP socket whose receive queue still holds unread bytes sends RST instead "
    "of FIN (RFC 2525 §2.17). The peer then discards whatever it had received but not yet read, so a "
    "response written with `sendall()` just before `close()` can arrive truncated. Measured on loopback: "
    "a server that reads 10 B of a 100 KB request, sends 4 MiB and calls `close()` delivered only part "
    "of the response before the client saw a reset; `shutdown(SHUT_WR)`, reading until EOF (bounded) "
    "and then `close()` delivered every byte, every time. nginx (`lingering_close`), Apache "
    "(`ap_lingering_close`) and Go's net/http (`closeWriteAndWait`) close this way."
)


def verdict(site: CloseSite, requires_send: bool = True) -> str | None:
    """Which teardown code a close site gets, if any: CL202 wins over CL201 (SPEC §2). CL201 needs data
    sent on that path; CL202 too with `requires_send` (the `teardown-requires-send` setting)."""
    resource = site.resource
    if not resource.may_lose_data:
        return None
    if requires_send and not any(f.sent for f in site.facts):
        return None  # nothing sent, nothing to lose (and a parameter proves it is a stream only by sending)
    if not requires_send and not resource.owned and not any(f.sent for f in site.facts):
        return None  # a parameter or attribute proves it is a stream socket only by sending
    exposed = site.exposed()
    if any(f.shut for f in exposed):
        return "CL202"
    if any(f.sent and not f.shut for f in exposed):
        return "CL201"
    return None


def _advice(site: CloseSite, scope: ScopeFacts, otherwise: str) -> str:
    """What to do instead: `otherwise`, unless a read-side shutdown is what made the reading useless; in an
    `async def` no blocking helper: the coroutine shuts down and drains itself."""
    helper = f", or use graceful_close({site.handle})"
    if isinstance(scope.node, ast.AsyncFunctionDef):
        otherwise = "shut down with SHUT_WR, read until EOF (bounded by a timeout), then close"
        helper = ""
    if site.read_side_shut():
        return (
            "after shutdown(SHUT_RD or SHUT_RDWR) recv() returns b'' at once, so reading cannot drain it: shut "
            f"down with SHUT_WR, read until EOF, then close{helper}"
        )
    return otherwise


def _sites(facts: ModuleFacts, code: str) -> Iterator[tuple[CloseSite, ScopeFacts]]:
    for scope in facts.scopes:
        for site in scope.closes.values():
            if verdict(site, facts.policy.teardown_requires_send) == code:
                yield site, scope


class CloseWithoutShutdown(Rule):
    code = "CL201"
    name = "close-without-shutdown"
    message = (
        "{what} is closed after sending without shutdown(SHUT_WR) and reading to EOF; unread input makes "
        "close() reset the connection and the peer can lose the reply: {advice}"
    )
    summary = (
        "Checks for a connected TCP socket that has sent data and is then closed (`close()`, or the end of "
        "its `with` block) without first calling `shutdown(SHUT_WR)` and reading until EOF. Not reported "
        "when the code has already read the socket to EOF, nor for UDP or AF_UNIX sockets (the family also "
        "through a name: `FAMILY = socket.AF_UNIX`), nor for either end of a socket pair a class builds over "
        "loopback where `socketpair()` is missing (one end connected to the address or port of a listener the "
        "same method made, the other accepted from it: both ends are the process's own), nor when a `dup()` "
        "of the socket was handed on (passed, "
        "stored, returned) before the close: closing one of two descriptors sends neither FIN nor RST. "
        "`sendall()` and `sendfile()` send on a stream socket; `send()` (which a queue, a pipe connection or a "
        "zmq socket has too) counts on a socket known to be a stream, or where the code goes on with its count "
        "of bytes written (`n = s.send(buf)` then `buf = buf[n:]`, `offset += s.send(...)`): only a stream "
        "socket writes part of a buffer.\n\n"
        'A loop that leaves when a read returns `b""` reads to EOF even when a clock or a count also '
        "bounds it (`while time.monotonic() < deadline: if not s.recv(n): break`): that is the lingering "
        "close, not reported, unless the loop also sends.\n\n"
        "The loss window: what is at risk is data this side sent that the peer may not have read yet. "
        "When the LAST read after the last send completes a reply of a length known in advance, the "
        "peer has read the request (it answered it) and nothing is lost: not reported. A complete reply "
        "is read by a `while` loop left through its test, where the test compares (or is) a count or "
        "buffer the loop advances with what it reads (`while len(buf) < size`, `while got < n`, "
        "`while remaining`, also joined by `and` to a read that ends the loop at EOF), by "
        "`recv(n, MSG_WAITALL)` or `recv_into(buf, n, MSG_WAITALL)` (the flag under any imported name; "
        "not with `MSG_PEEK`, which leaves the data queued), or by `read(n)` on a buffered `makefile()` "
        "object, or by a function of the module given the socket (`reply = recv_exact(sock, 16)`, a "
        "length-prefixed reader calling it twice, one that sends and then reads the whole answer) whose "
        "every read is such a read, run whenever it returns and after its last send on the socket. Still "
        "reported: one bounded `recv(n)` of a reply that may go on, also after a complete "
        "header (`recv(4, MSG_WAITALL)` then `recv(65536)`), a loop bounded by a clock or left by `break` "
        "before the length is in, a send after the reply, a function of the module that reads only part of a "
        "reply (or only under a condition) after a complete one, and a server that reads a request and then "
        "answers (its answer comes after the read). After `shutdown(SHUT_RD)` a read loop is no drain, and "
        "the message says so."
    )
    rationale = _RST_RATIONALE
    example = """\
import socket

def serve_one(srv):
    conn, _ = srv.accept()
    with conn:
        request = conn.recv(1024)
        conn.sendall(b"HTTP/1.0 200 OK\\r\\n\\r\\n" + render(request))
        conn.close()  # RST if the request was longer than 1024 bytes
"""
    fixed_example = """\
import socket

from closelint_graceful import graceful_close

def serve_one(srv):
    conn, _ = srv.accept()
    with conn:
        request = conn.recv(1024)
        conn.sendall(b"HTTP/1.0 200 OK\\r\\n\\r\\n" + render(request))
        graceful_close(conn)
"""
    fix_applicability = Applicability.SAFE
    fix_title = (
        "the close becomes `graceful_close(sock)` (for a `with sock:` block, a call at the end of the block; in "
        "`finally`, on the normal path only: the error path keeps the plain close); the helper shuts down "
        "writing, drains the input with a bounded timeout, and closes. Safe only for a plain `socket.socket` "
        "the scope or class created or accepted (an accepted socket counts as plain when its listener is proven "
        "plain, or the module imports no socket library that replaces or wraps the standard one: gevent, "
        "eventlet, trio, curio, anyio, twisted, tornado, paramiko, socks, ssl, OpenSSL; in a module importing "
        "gevent or eventlet no socket is, as their monkey patching makes `socket.socket()` green), whose "
        "`fileno()` is given "
        "to no call and that is never `dup()`ed, with every `makefile()` object provably closed before the close, "
        "not inside a `with` whose context is not proven to be no lock nor after an `acquire()` or "
        "`enter_context()`, not in an event-loop callback (also one bound by `functools.partial` or called by a "
        "lambda), a function nested in an `async def` or a non-blocking "
        "selector loop, and not in the `finally` of a `try` that handles exceptions; elsewhere unsafe or "
        "display-only, with the reason. Never applied inside `async def`"
    )
    references = (
        "https://www.rfc-editor.org/rfc/rfc2525#section-2.17",
        "https://nginx.org/en/docs/http/ngx_http_core_module.html#lingering_close",
    )
    valid = (
        Valid(
            "import socket\n\ndef f(addr):\n    s = socket.create_connection(addr)\n    try:\n"
            "        s.sendall(b'x')\n        s.shutdown(socket.SHUT_WR)\n        while s.recv(4096):\n"
            "            pass\n    finally:\n        s.close()\n"
        ),
        Valid(
            "import socket\n\ndef f(addr):\n    with socket.socket(socket.AF_INET, socket.SOCK_DGRAM) as s:\n"
            "        s.sendto(b'x', addr)\n"
        ),
        Valid("import socket\n\ndef f():\n    a, b = socket.socketpair()\n    with a, b:\n        a.sendall(b'x')\n"),
        Valid(
            "import socket\n\ndef f(addr, n):\n    with socket.create_connection(addr) as s:\n"
            "        s.sendall(b'GET')\n        reply = b''\n        while len(reply) < n:\n"
            "            reply += s.recv(n - len(reply))\n        return reply\n"
        ),
    )
    invalid = (
        Invalid(
            "import socket\n\ndef f(srv):\n    conn, _ = srv.accept()\n    conn.sendall(b'bye')\n    conn.close()\n",
            "import socket\n\nfrom closelint_graceful import graceful_close\n\ndef f(srv):\n"
            "    conn, _ = srv.accept()\n    conn.sendall(b'bye')\n    graceful_close(conn)\n",
        ),
        # a parameter is not proven to be a plain socket.socket: the fix is unsafe, plain --fix leaves it
        Invalid("import socket\n\ndef f(conn):\n    conn.sendall(b'bye')\n    conn.close()\n"),
        Invalid(
            "import socket\n\ndef f(addr):\n    with socket.create_connection(addr) as s:\n        s.sendall(b'x')\n",
            "import socket\n\nfrom closelint_graceful import graceful_close\n\ndef f(addr):\n"
            "    with socket.create_connection(addr) as s:\n        s.sendall(b'x')\n"
            "        graceful_close(s)\n",
        ),
    )

    def check(self, facts: ModuleFacts) -> Iterator[Report]:
        for site, scope in _sites(facts, self.code):
            advice = _advice(site, scope, f"use graceful_close({site.handle})")
            fix = graceful_close_fix(site, scope, facts)
            yield self.report(site.node, fix, what=describe(site.resource), advice=advice)


class ShutdownWithoutDrain(Rule):
    code = "CL202"
    name = "shutdown-without-drain"
    message = (
        "{what} is shut down and closed without reading until EOF; unread input still makes close() reset "
        "the connection: {advice}"
    )
    summary = (
        "Checks for a socket that has sent data, then `shutdown(SHUT_WR)` or `shutdown(SHUT_RDWR)` and "
        "`close()` with no read until EOF in between. Reported at the `close()` call (or the `with` line "
        "when the block's exit closes it). A connection that never sent anything has nothing to lose, nor "
        "does one that read a complete reply after its last send (the loss window of CL201). "
        "A read loop after `shutdown(SHUT_RDWR)` or `shutdown(SHUT_RD)` is no drain, written in the function "
        'or in a nested helper it calls: once the read side is shut, Linux `recv()` returns `b""` as soon '
        "as the receive queue is empty, so the loop ends at once instead of at the peer's FIN, and the "
        "message says to shut down with `SHUT_WR` instead. In a method of a class, a method of the class it "
        "calls that `sendall`s on the attribute (directly or through another) sends there, and what the class "
        "sends on the attribute in its other methods counts; a client class that reads its replies there has nothing "
        "left to lose at a plain close, but after `SHUT_RDWR` or `SHUT_RD` in the teardown no read takes a "
        "reply in, so its sends count there. The side `how` shuts is known from `socket.SHUT_*` "
        "under any imported name, its Linux value, or a name every binding of which agrees "
        "(`HOW = socket.SHUT_RDWR`). Then no fix is offered unless the `shutdown()` "
        "is the statement right before the close (the fix replaces both)."
    )
    rationale = (
        _RST_RATIONALE + " `shutdown()` alone does not help: measured on loopback, `shutdown(SHUT_RDWR)` + "
        "`close()` still reset the connection in 4 runs out of 5. Only reading until the peer's EOF empties "
        "the receive queue. Shutting the read side as well defeats that read: after `SHUT_RD`/`SHUT_RDWR` "
        '`recv()` returns `b""` without waiting, what the peer sends later is still queued, and the close '
        "resets; the graceful sequence shuts down writing only (`SHUT_WR`), the way nginx, Apache and Go do."
    )
    example = """\
import socket

def send_report(addr, report):
    with socket.create_connection(addr) as sock:
        sock.sendall(report)
        sock.shutdown(socket.SHUT_RDWR)
        sock.close()
"""
    fixed_example = """\
import socket

from closelint_graceful import graceful_close

def send_report(addr, report):
    with socket.create_connection(addr) as sock:
        sock.sendall(report)
        graceful_close(sock)
"""
    fix_applicability = Applicability.SAFE
    fix_title = (
        "the `shutdown()` and the close become `graceful_close(sock)`, with the same conditions of safety as "
        "CL201's fix. Never applied inside `async def`"
    )
    references = ("https://www.rfc-editor.org/rfc/rfc2525#section-2.17",)
    valid = (
        Valid(
            "import socket\n\ndef f(addr):\n    s = socket.create_connection(addr)\n    try:\n"
            "        s.sendall(b'x')\n        s.shutdown(socket.SHUT_WR)\n"
            "        while (chunk := s.recv(4096)):\n            pass\n    finally:\n        s.close()\n"
        ),
        Valid(
            "import socket\n\ndef f(path):\n    with socket.socket(socket.AF_UNIX) as s:\n        s.connect(path)\n"
            "        s.sendall(b'x')\n        s.shutdown(socket.SHUT_RDWR)\n"
        ),
    )
    invalid = (
        Invalid(
            "import socket\n\ndef f(addr):\n    conn = socket.create_connection(addr)\n    try:\n"
            "        conn.sendall(b'bye')\n    finally:\n        conn.shutdown(socket.SHUT_RDWR)\n"
            "        conn.close()\n",
            "import socket\nimport sys\n\nfrom closelint_graceful import graceful_close\n\ndef f(addr):\n"
            "    conn = socket.create_connection(addr)\n    try:\n        conn.sendall(b'bye')\n"
            "    finally:\n        if sys.exc_info()[1] is None:\n            graceful_close(conn)\n"
            "        else:\n            conn.shutdown(socket.SHUT_RDWR)\n            conn.close()\n",
        ),
        Invalid(
            "import socket\n\ndef f(conn):\n    conn.sendall(b'bye')\n    conn.shutdown(socket.SHUT_RDWR)\n"
            "    while conn.recv(4096):\n        pass\n    conn.close()\n"
        ),
    )

    def check(self, facts: ModuleFacts) -> Iterator[Report]:
        for site, scope in _sites(facts, self.code):
            advice = _advice(site, scope, f"drain it first, or use graceful_close({site.handle})")
            fix = graceful_close_fix(site, scope, facts)
            yield self.report(site.node, fix, what=describe(site.resource), advice=advice)
