"""Teardown rules: a close() that can reset the connection and lose data the peer has not read yet."""

from __future__ import annotations

import ast
from collections.abc import Iterator

from closelint.analysis.flow import CloseSite, ScopeFacts
from closelint.analysis.module import ModuleFacts
from closelint.analysis.state import Facts
from closelint.model import Applicability, Fix, FixKey, Invalid, Valid
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


def verdict(site: CloseSite) -> str | None:
    """Which teardown code a close site gets, if any: CL202 wins over CL201 (SPEC §2)."""
    resource = site.resource
    if not resource.may_lose_data:
        return None
    if not any(f.sent for f in site.facts):
        return None  # nothing sent, nothing to lose (and a parameter proves it is a stream only by sending)
    exposed = _exposed(site)
    if any(f.shut for f in exposed):
        return "CL202"
    if any(f.sent and not f.shut for f in exposed):
        return "CL201"
    return None


def _exposed(site: CloseSite) -> list[Facts]:
    """The paths on which the close can still cost the peer data: not read until EOF, and no complete
    reply read since the last send."""
    return [f for f in site.facts if not f.drained and not f.answered]


def _read_side_shut(site: CloseSite) -> bool:
    """Whether a shutdown of the read side (SHUT_RD, SHUT_RDWR) is what kept a read loop from draining."""
    return any(f.read_shut for f in _exposed(site))


def _advice(site: CloseSite) -> str:
    if _read_side_shut(site):
        return (
            "after shutdown(SHUT_RD or SHUT_RDWR) recv() returns b'' at once, so reading cannot drain it: shut "
            f"down with SHUT_WR, read until EOF, then close, or use graceful_close({site.handle})"
        )
    return f"drain it first, or use graceful_close({site.handle})"


def graceful_fix(site: CloseSite, scope: ScopeFacts) -> Fix | None:
    """Replace the close (and a shutdown right before it) with graceful_close(), when that is safe."""
    if isinstance(scope.node, ast.AsyncFunctionDef) or not site.handle:
        return None  # a blocking helper never goes into an `async def`
    statement = site.statement
    if isinstance(statement, (ast.With, ast.AsyncWith)):
        if isinstance(statement, ast.AsyncWith) or not _can_append(statement, site.handle):
            return None
        return Fix(
            Applicability.SAFE,
            f"Call `graceful_close({site.handle})` at the end of the `with` block",
            FixKey.in_with(site.handle),
            (statement.lineno, statement.end_lineno or statement.lineno),
        )
    if not (isinstance(statement, ast.Expr) and statement.value is site.node):
        return None
    if _read_side_shut(site) and not _is_shutdown(site.previous, site.handle):
        return None  # graceful_close() cannot drain a socket whose read side an earlier shutdown() shut
    return Fix(
        Applicability.SAFE,
        f"Replace `{site.handle}.close()` with `graceful_close({site.handle})`",
        FixKey.GRACEFUL_CLOSE,
        (max(statement.lineno - 1, 1), statement.end_lineno or statement.lineno),
    )


def _is_shutdown(statement: ast.stmt | None, handle: str) -> bool:
    """`<handle>.shutdown(...)` as a statement (what the fix absorbs into graceful_close())."""
    call = statement.value if isinstance(statement, ast.Expr) else None
    return (
        isinstance(call, ast.Call)
        and isinstance(call.func, ast.Attribute)
        and call.func.attr == "shutdown"
        and ast.unparse(call.func.value) == handle
    )


def _can_append(statement: ast.With, handle: str) -> bool:
    """The call goes last in the block, or right before a final jump that does not use the socket."""
    last = statement.body[-1]
    if not isinstance(last, (ast.Return, ast.Raise, ast.Break, ast.Continue)):
        return True
    root = handle.split(".", 1)[0]
    return not any(isinstance(n, ast.Name) and n.id == root for n in ast.walk(last))


def _sites(facts: ModuleFacts, code: str) -> Iterator[tuple[CloseSite, ScopeFacts]]:
    for scope in facts.scopes:
        for site in scope.closes.values():
            if verdict(site) == code:
                yield site, scope


class CloseWithoutShutdown(Rule):
    code = "CL201"
    quiet_in_tests = True
    name = "close-without-shutdown"
    message = (
        "{what} is closed after sending without shutdown(SHUT_WR) and reading to EOF; unread input makes "
        "close() reset the connection and the peer can lose the reply: use graceful_close({handle})"
    )
    summary = (
        "Checks for a connected TCP socket that has sent data and is then closed (`close()`, or the end of "
        "its `with` block) without first calling `shutdown(SHUT_WR)` and reading until EOF. Not reported "
        "when the code has already read the socket to EOF, nor for UDP or AF_UNIX sockets.\n\n"
        "The loss window: what is at risk is data this side sent that the peer may not have read yet. "
        "When, after its last send, the code has read a complete reply of a length known in advance, the "
        "peer has read the request (it answered it) and nothing is lost: not reported. A complete reply "
        "is read by a `while` loop left through its test, where the test compares (or is) a count or "
        "buffer the loop advances with what it reads (`while len(buf) < size`, `while got < n`, "
        "`while remaining`), by `recv(n, MSG_WAITALL)` or `recv_into(buf, n, MSG_WAITALL)`, or by "
        "`read(n)` on a buffered `makefile()` object. Still reported: one bounded `recv(n)` of a reply that "
        "may go on, a loop bounded by a clock or left by `break` before the length is in, a send after the "
        "reply, and a server that reads a request and then answers (its answer comes after the read)."
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
from closelint.graceful import graceful_close

def serve_one(srv):
    conn, _ = srv.accept()
    with conn:
        request = conn.recv(1024)
        conn.sendall(b"HTTP/1.0 200 OK\\r\\n\\r\\n" + render(request))
        graceful_close(conn)
"""
    fix_applicability = Applicability.SAFE
    fix_title = (
        "the close becomes `graceful_close(sock)` (for a `with sock:` block, a call at the end of the block); "
        "the helper shuts down writing, drains the input with a bounded timeout, and closes. Never applied "
        "inside `async def`"
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
            "import socket\n\ndef f(conn):\n    conn.sendall(b'bye')\n    conn.close()\n",
            "import socket\nfrom closelint.graceful import graceful_close\n\ndef f(conn):\n"
            "    conn.sendall(b'bye')\n    graceful_close(conn)\n",
        ),
        Invalid(
            "import socket\n\ndef f(addr):\n    with socket.create_connection(addr) as s:\n        s.sendall(b'x')\n",
            "import socket\nfrom closelint.graceful import graceful_close\n\ndef f(addr):\n"
            "    with socket.create_connection(addr) as s:\n        s.sendall(b'x')\n"
            "        graceful_close(s)\n",
        ),
    )

    def check(self, facts: ModuleFacts) -> Iterator[Report]:
        for site, scope in _sites(facts, self.code):
            yield self.report(site.node, graceful_fix(site, scope), what=describe(site.resource), handle=site.handle)


class ShutdownWithoutDrain(Rule):
    code = "CL202"
    quiet_in_tests = True
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
        "message says to shut down with `SHUT_WR` instead. Then no fix is offered unless the `shutdown()` "
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
from closelint.graceful import graceful_close

def send_report(addr, report):
    with socket.create_connection(addr) as sock:
        sock.sendall(report)
        graceful_close(sock)
"""
    fix_applicability = Applicability.SAFE
    fix_title = "the `shutdown()` and the close become `graceful_close(sock)`. Never applied inside `async def`"
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
            "import socket\n\ndef f(conn):\n    conn.sendall(b'bye')\n    conn.shutdown(socket.SHUT_RDWR)\n"
            "    conn.close()\n",
            "import socket\nfrom closelint.graceful import graceful_close\n\ndef f(conn):\n"
            "    conn.sendall(b'bye')\n    graceful_close(conn)\n",
        ),
        Invalid(
            "import socket\n\ndef f(conn):\n    conn.sendall(b'bye')\n    conn.shutdown(socket.SHUT_RDWR)\n"
            "    while conn.recv(4096):\n        pass\n    conn.close()\n"
        ),
    )

    def check(self, facts: ModuleFacts) -> Iterator[Report]:
        for site, scope in _sites(facts, self.code):
            yield self.report(site.node, graceful_fix(site, scope), what=describe(site.resource), advice=_advice(site))
