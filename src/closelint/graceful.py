"""Close a TCP connection without losing the data you just sent.

Why: on Linux, ``close()`` on a TCP socket that still has *unread* bytes in its receive queue sends RST
instead of FIN (RFC 2525 §2.17). The RST makes the kernel drop whatever it had not yet transmitted, so a
response written with ``sendall()`` right before ``close()`` can arrive truncated, and the peer sees
``ConnectionResetError`` instead of a clean end of stream. ``shutdown(SHUT_RDWR)`` does not help.

The cure is a *lingering close*, as nginx (``lingering_close``), Apache (``ap_lingering_close``) and Go's
``net/http`` (``closeWriteAndWait``) do it: ``shutdown(SHUT_WR)`` to send FIN after the data, read and
discard until the peer closes its side too (bounded in time and bytes), then ``close()``.

Usage::

    from closelint.graceful import graceful_close

    conn.sendall(response)
    graceful_close(conn)  # instead of conn.close()

This module is deliberately a single stdlib-only file: ``closelint vendor-helper PATH`` copies it into a
project so that production code need not depend on closelint. Nothing here raises for a network error;
every function always releases the connection, and always returns within ``timeout`` (plus scheduling
slack), whatever the peer does.
"""

from __future__ import annotations

import asyncio
import contextlib
import dataclasses
import enum
import errno
import math
import os
import selectors
import socket
import ssl
import struct
import time
from collections.abc import Awaitable, Iterator
from typing import TypeVar

__all__ = [
    "DEFAULT_MAX_DRAIN_BYTES",
    "DEFAULT_TIMEOUT",
    "CloseOutcome",
    "CloseStatus",
    "graceful",
    "graceful_aclose",
    "graceful_close",
]

DEFAULT_TIMEOUT = 5.0
"""Seconds a close may take in total before the helper gives up waiting for the peer."""

DEFAULT_MAX_DRAIN_BYTES = 16 * 1024 * 1024
"""Bytes the helper reads and discards at most while waiting for the peer's end of stream."""

_CHUNK = 64 * 1024
# Once the TLS close_notify exchange has used this share of the time budget, stop waiting for the peer's
# reply and move on to the TCP half-close: a peer that ignores close_notify may still react to a FIN.
_TLS_SHARE = 0.5
# After transport.abort(), asyncio closes the socket within a loop iteration or two; wait at most this long.
_ABORT_GRACE = 0.25
# Pending socket errors that mean "the peer reset the connection" when read with SO_ERROR.
_RESET_ERRNOS = frozenset({errno.ECONNRESET, errno.ECONNABORTED, errno.EPIPE})
# Longer timeouts are clamped to this (seconds, a day): selectors and asyncio raise OverflowError on huge ones.
_MAX_TIMEOUT = 86400.0
# struct linger {int l_onoff; int l_linger;} as getsockopt/setsockopt(SOL_SOCKET, SO_LINGER) exchange it.
_LINGER = struct.Struct("ii")

_SocketT = TypeVar("_SocketT", bound=socket.socket)
_T = TypeVar("_T")


class CloseStatus(str, enum.Enum):
    """How a graceful close ended. The values are plain strings, so ``status == "eof"`` works too."""

    EOF = "eof"
    """The peer closed its side after we closed ours: it has everything we sent. The good outcome."""
    TIMEOUT = "timeout"
    """The peer neither closed nor reset within the time budget; the connection was closed anyway."""
    RESET = "reset"
    """The peer reset the connection, or another network error ended the close early (see ``error``)."""
    CAP = "cap"
    """The peer sent more than ``max_drain_bytes`` without closing; the connection was closed anyway."""
    SKIPPED = "skipped"
    """Nothing to linger for (not a connected stream: UDP, listening, unconnected): closed plainly."""
    CLOSED = "closed"
    """The connection was already closed before the call: nothing to do."""


@dataclasses.dataclass(frozen=True)
class CloseOutcome:
    """What a graceful close did: its ``status``, the bytes it read and discarded, the error it swallowed."""

    status: CloseStatus
    drained: int = 0
    """Bytes received from the peer after our half-close and thrown away."""
    error: str | None = None
    """The network error that ended the close early (``"ConnectionResetError: ..."``), if any."""


def graceful_close(
    sock: socket.socket,
    *,
    timeout: float = DEFAULT_TIMEOUT,
    max_drain_bytes: int = DEFAULT_MAX_DRAIN_BYTES,
    idle_timeout: float | None = None,
) -> CloseOutcome:
    """Close ``sock`` so that the peer receives everything sent on it; never raises for network errors.

    Steps, each for a reason:

    1. A socket that is already closed (``fileno() == -1``) needs nothing: outcome ``closed``.
    2. Only a *connected stream* socket can lose data to a reset. UDP, listening and unconnected sockets
       are closed plainly (outcome ``skipped``); a connection the peer already reset is closed plainly too
       (outcome ``reset``).
    3. The socket is switched to non-blocking mode and every wait goes through a selector with an explicit
       deadline, so blocking, timeout and non-blocking sockets behave alike and the call returns within
       ``timeout`` even if the peer never closes or sends forever. (Nothing is restored: the socket is
       closed at the end.)
    4. TLS (``ssl.SSLSocket``): ``unwrap()`` sends close_notify, so the peer can tell a complete stream from
       a truncated one. Waiting for the peer's close_notify gets at most half of the time budget: many
       peers never answer it.
    5. ``shutdown(SHUT_WR)`` sends FIN *after* all queued data: "nothing more from me".
    6. Read and discard until the peer's end of stream (outcome ``eof``), until nothing arrives for
       ``idle_timeout`` or the total ``timeout`` has passed (``timeout``), or until ``max_drain_bytes``
       were read (``cap``). Reading keeps the receive queue empty, so the final close sends FIN, not RST.
    7. ``close()``, in ``finally``: the descriptor is released on every path, including errors.

    ``ConnectionResetError``, ``BrokenPipeError``, timeouts and any other ``OSError`` from the network end
    the close early and are reported in the outcome (status ``reset`` or ``timeout``), never raised.
    Programming errors are raised: ``TypeError`` if ``sock`` is not a socket, ``ValueError`` for a negative
    or infinite timeout or a negative ``max_drain_bytes``.

    ``timeout`` bounds the whole call (seconds; longer than a day counts as a day); ``idle_timeout``
    (default: ``timeout``) ends the drain earlier when the peer goes quiet; ``max_drain_bytes`` bounds what
    is read and discarded. As with ``socket.close()``, a file object from ``sock.makefile()`` that is still
    open keeps the descriptor open until that file is closed. An ``SO_LINGER`` time set on the socket, which
    makes the final ``close()`` block until the peer acknowledged everything, is cut to what is left of
    ``timeout`` (lingering is switched off, so the kernel finishes sending in the background, when less than
    a second is left); a zero linger time (an abortive close) is left as it is.
    """
    _require(sock, socket.socket, "graceful_close", "a socket.socket")
    timeout, idle = _check_limits(timeout, max_drain_bytes, idle_timeout)
    start = time.monotonic()
    try:
        return _linger(sock, start + timeout, start + timeout * _TLS_SHARE, idle, max_drain_bytes)
    finally:
        with contextlib.suppress(OSError):
            _bound_linger(sock, start + timeout - time.monotonic())
        with contextlib.suppress(OSError):
            sock.close()


@contextlib.contextmanager
def graceful(
    sock: _SocketT,
    *,
    timeout: float = DEFAULT_TIMEOUT,
    max_drain_bytes: int = DEFAULT_MAX_DRAIN_BYTES,
    idle_timeout: float | None = None,
) -> Iterator[_SocketT]:
    """Use ``sock`` in a ``with`` block and close it with :func:`graceful_close` when the block exits.

    ``with graceful(conn) as conn: ...`` is the graceful twin of ``with conn: ...``: the close happens on
    every exit, also when the block raises (the exception then propagates unchanged). Arguments are
    checked on entry, so a wrong one fails before the block runs.
    """
    _require(sock, socket.socket, "graceful", "a socket.socket")
    _check_limits(timeout, max_drain_bytes, idle_timeout)
    try:
        yield sock
    finally:
        graceful_close(sock, timeout=timeout, max_drain_bytes=max_drain_bytes, idle_timeout=idle_timeout)


async def graceful_aclose(
    writer: asyncio.StreamWriter,
    reader: asyncio.StreamReader | None = None,
    *,
    timeout: float = DEFAULT_TIMEOUT,
    max_drain_bytes: int = DEFAULT_MAX_DRAIN_BYTES,
) -> CloseOutcome:
    """Close an asyncio stream so that the peer receives everything written; never raises network errors.

    Steps, sharing one deadline ``timeout`` seconds away:

    1. A writer that is already closing needs no half-close: only its close is awaited (outcome ``closed``).
    2. ``await writer.drain()`` (bounded): hand the buffered response to the kernel.
    3. ``write_eof()`` when ``can_write_eof()`` (plain TCP): asyncio sends FIN once its buffer is flushed.
    4. Read ``reader`` to its end and discard (bounded in time and ``max_drain_bytes``), for the same reason
       as :func:`graceful_close`: an empty receive queue makes the close a FIN, not a RST. Without
       ``reader``, or on a transport that cannot half-close (TLS, whose close_notify asyncio sends on
       ``close()``), this step is skipped (outcome ``skipped``): pass the reader to get the full benefit.
    5. ``writer.close()`` and ``await writer.wait_closed()`` (bounded): ``close()`` alone only starts it.
    6. If the deadline passes in any step, ``writer.transport.abort()`` releases the connection at once
       (outcome ``timeout``). If the calling task is cancelled, the transport is aborted and the
       cancellation propagates.

    The call returns within ``timeout`` plus at most twice ``_ABORT_GRACE`` (0.25 s): the time asyncio is
    given to finish a close already under way, and to release the socket after an abort.
    """
    _require(writer, asyncio.StreamWriter, "graceful_aclose", "an asyncio.StreamWriter")
    if reader is not None:
        _require(reader, asyncio.StreamReader, "graceful_aclose", "an asyncio.StreamReader or None")
    timeout, _ = _check_limits(timeout, max_drain_bytes, None)
    deadline = time.monotonic() + timeout
    try:
        if writer.transport.is_closing():
            outcome = CloseOutcome(CloseStatus.CLOSED)
        else:
            outcome = await _half_close_and_drain(writer, reader, deadline, max_drain_bytes)
        if outcome.status is CloseStatus.TIMEOUT:
            await _abort(writer, _retrieved(asyncio.ensure_future(writer.wait_closed())))
            return outcome
        return await _close_and_wait(writer, outcome, deadline)
    except BaseException:  # cancelled (or a bug): do not leave the connection open behind the caller's back
        writer.transport.abort()
        raise


# --- blocking sockets ---------------------------------------------------------------------------------


def _linger(
    sock: socket.socket, deadline: float, tls_deadline: float, idle: float, max_drain_bytes: int
) -> CloseOutcome:
    """Steps 1-6 of :func:`graceful_close` (the caller closes): decide, half-close, drain."""
    if sock.fileno() == -1:
        return CloseOutcome(CloseStatus.CLOSED)
    plain = _plain_close_outcome(sock)
    if plain is not None:
        return plain
    try:
        sock.setblocking(False)
        with selectors.DefaultSelector() as selector:
            selector.register(sock, selectors.EVENT_READ)
            if isinstance(sock, ssl.SSLSocket):
                _send_close_notify(sock, selector, min(deadline, tls_deadline))
            # On an SSLSocket this also drops the TLS layer if the close_notify exchange did not finish:
            # what follows is raw TCP, where a FIN is the last word.
            sock.shutdown(socket.SHUT_WR)
            return _drain(sock, selector, deadline, idle, max_drain_bytes)
    except OSError as exc:  # the connection failed under us (reset, broken pipe, ...)
        return _failed(exc, drained=0)


def _bound_linger(sock: socket.socket, remaining: float) -> None:
    """Keep the final ``close()`` within ``remaining`` seconds when ``SO_LINGER`` would block it longer.

    Raises ``OSError`` when the socket has no such option (closed, not TCP): there is then nothing to bound.
    """
    if sock.fileno() == -1 or sock.type != socket.SOCK_STREAM:
        return
    on, seconds = _LINGER.unpack(sock.getsockopt(socket.SOL_SOCKET, socket.SO_LINGER, _LINGER.size))
    if not on or seconds <= 0 or seconds <= remaining:
        return
    allowed = int(remaining)
    sock.setsockopt(socket.SOL_SOCKET, socket.SO_LINGER, _LINGER.pack(1 if allowed >= 1 else 0, max(allowed, 0)))


def _plain_close_outcome(sock: socket.socket) -> CloseOutcome | None:
    """Return the outcome for a socket that gets a plain close, or ``None`` for a connected stream.

    A datagram socket has no stream to truncate, and a listening or unconnected one no peer. A connection
    the peer has already reset is no longer connected either, but its pending ``SO_ERROR`` tells why, so the
    outcome can say ``reset`` rather than ``skipped``.
    """
    if sock.type != socket.SOCK_STREAM:
        return CloseOutcome(CloseStatus.SKIPPED)
    try:
        sock.getpeername()
    except OSError:
        try:
            pending = sock.getsockopt(socket.SOL_SOCKET, socket.SO_ERROR)
        except OSError:
            pending = 0
        if pending in _RESET_ERRNOS:
            return _failed(OSError(pending, os.strerror(pending)), drained=0)  # ConnectionResetError, ...
        return CloseOutcome(CloseStatus.SKIPPED)
    return None


def _send_close_notify(sock: ssl.SSLSocket, selector: selectors.BaseSelector, deadline: float) -> None:
    """Run the TLS close_notify exchange (``unwrap()``) on a non-blocking socket until done or ``deadline``.

    ``unwrap()`` sends our close_notify, then waits for the peer's. In blocking mode CPython would wait for
    each TLS record with the socket's own timeout, again and again, as long as the peer keeps sending, so
    it is driven here non-blockingly: each ``SSLWantRead``/``SSLWantWrite`` becomes a wait on the selector
    with what is left of the deadline. Any other outcome (the peer closed the TCP connection without
    close_notify, a protocol error, a socket whose TLS layer is already gone) ends the exchange quietly:
    the plain TCP half-close that follows still protects the data.
    """
    while True:
        try:
            sock.unwrap()
            return
        except ssl.SSLWantReadError:
            events = selectors.EVENT_READ
        except ssl.SSLWantWriteError:
            events = selectors.EVENT_WRITE
        except (OSError, ValueError):  # ValueError: "No SSL wrapper around" (already unwrapped)
            return
        if not _wait(selector, sock, events, deadline - time.monotonic()):
            return


def _drain(
    sock: socket.socket, selector: selectors.BaseSelector, deadline: float, idle: float, max_drain_bytes: int
) -> CloseOutcome:
    """Read and discard until end of stream, the idle timeout, the deadline or the byte cap.

    The deadline is checked on every iteration, not only when there is nothing to read, so a peer that
    sends forever cannot hold the call past ``deadline`` even when ``max_drain_bytes`` is huge.
    """
    buffer = bytearray(_CHUNK)
    drained = 0
    while drained < max_drain_bytes:
        remaining = deadline - time.monotonic()
        if remaining <= 0:
            return CloseOutcome(CloseStatus.TIMEOUT, drained)
        try:
            received = sock.recv_into(buffer, min(_CHUNK, max_drain_bytes - drained))
        except BlockingIOError:  # nothing queued: wait for data or the peer's FIN
            if not _wait(selector, sock, selectors.EVENT_READ, min(remaining, idle)):
                return CloseOutcome(CloseStatus.TIMEOUT, drained)
            continue
        except OSError as exc:
            return _failed(exc, drained)
        if received == 0:
            return CloseOutcome(CloseStatus.EOF, drained)
        drained += received
    return CloseOutcome(CloseStatus.CAP, drained)


def _wait(selector: selectors.BaseSelector, sock: socket.socket, events: int, timeout: float) -> bool:
    """Wait up to ``timeout`` seconds for ``events`` on ``sock``; ``False`` if the time ran out.

    A selector (epoll/kqueue where available) rather than ``select.select()``: busy servers hand out
    descriptors above ``FD_SETSIZE`` (1024), which ``select()`` cannot watch.
    """
    if timeout <= 0:
        return False
    selector.modify(sock, events)
    return bool(selector.select(timeout))


# --- asyncio streams ----------------------------------------------------------------------------------


async def _half_close_and_drain(
    writer: asyncio.StreamWriter, reader: asyncio.StreamReader | None, deadline: float, max_drain_bytes: int
) -> CloseOutcome:
    """Steps 2-4 of :func:`graceful_aclose`: flush, send FIN, read the peer's remaining input to its end."""
    drained = 0
    try:
        await _within(writer.drain(), deadline)
        if not writer.can_write_eof() or reader is None:
            return CloseOutcome(CloseStatus.SKIPPED)
        writer.write_eof()
        while drained < max_drain_bytes:
            chunk = await _within(reader.read(min(_CHUNK, max_drain_bytes - drained)), deadline)
            if not chunk:
                return CloseOutcome(CloseStatus.EOF, drained)
            drained += len(chunk)
        return CloseOutcome(CloseStatus.CAP, drained)
    except asyncio.TimeoutError:  # the builtin TimeoutError since Python 3.11, a distinct class before
        return CloseOutcome(CloseStatus.TIMEOUT, drained)
    except OSError as exc:  # ConnectionResetError, BrokenPipeError, ...
        return _failed(exc, drained)


async def _close_and_wait(writer: asyncio.StreamWriter, prior: CloseOutcome, deadline: float) -> CloseOutcome:
    """Step 5 of :func:`graceful_aclose`: ``close()``, then await ``wait_closed()`` until the deadline.

    A close that is already under way always gets a short grace period, even when the drain used up the
    budget. An error reported by the close only changes an otherwise clean outcome; a close that does not
    finish in time is aborted.
    """
    writer.close()
    closed = _retrieved(asyncio.ensure_future(writer.wait_closed()))
    try:
        # Shielded: giving up on the wait must not cancel wait_closed(), which then finishes after abort().
        await _within(asyncio.shield(closed), max(deadline, time.monotonic() + _ABORT_GRACE))
    except asyncio.TimeoutError:
        await _abort(writer, closed)
        return dataclasses.replace(prior, status=CloseStatus.TIMEOUT)
    except OSError as exc:
        if prior.status in (CloseStatus.EOF, CloseStatus.SKIPPED):
            return _failed(exc, prior.drained)
    return prior


def _retrieved(closed: asyncio.Future[None]) -> asyncio.Future[None]:
    """``closed`` (the task of ``writer.wait_closed()``), its error, if any, marked as retrieved.

    The task may outlive our interest in it (after a timeout); without the callback asyncio would log
    "exception was never retrieved" for a connection that ended with a reset.
    """
    closed.add_done_callback(lambda future: future.cancelled() or future.exception())
    return closed


async def _abort(writer: asyncio.StreamWriter, closed: asyncio.Future[None]) -> None:
    """Abort the transport (RST, no more waiting) and let asyncio release the socket, briefly bounded."""
    writer.transport.abort()
    with contextlib.suppress(asyncio.TimeoutError, OSError):
        await asyncio.wait_for(asyncio.shield(closed), _ABORT_GRACE)


async def _within(awaitable: Awaitable[_T], deadline: float) -> _T:
    """Await ``awaitable`` until ``deadline`` (a ``time.monotonic()`` value); raise a timeout after it."""
    return await asyncio.wait_for(awaitable, max(0.0, deadline - time.monotonic()))


# --- shared -------------------------------------------------------------------------------------------


def _failed(exc: OSError, drained: int) -> CloseOutcome:
    """Turn a swallowed network error into an outcome: a timeout is ``timeout``, anything else ``reset``."""
    status = CloseStatus.TIMEOUT if isinstance(exc, (TimeoutError, socket.timeout)) else CloseStatus.RESET
    return CloseOutcome(status, drained, f"{type(exc).__name__}: {exc}")


def _require(value: object, expected: type, function: str, description: str) -> None:
    """Raise a ``TypeError`` naming the function, what it expects and what it got.

    For sockets this catches a common slip early and clearly: passing ``sock.fileno()`` or an address.
    """
    if not isinstance(value, expected):
        raise TypeError(f"{function}() expects {description}, got {type(value).__name__!r}")


def _check_limits(timeout: float, max_drain_bytes: int, idle_timeout: float | None) -> tuple[float, float]:
    """Validate the limits (they are what makes every call bounded); return the effective timeout and idle
    timeout in seconds, clamped to ``_MAX_TIMEOUT``."""
    for name, value in (("timeout", timeout), ("idle_timeout", idle_timeout)):
        if value is not None and not (isinstance(value, (int, float)) and 0 <= value < math.inf):
            raise ValueError(f"{name} must be a finite number of seconds >= 0, got {value!r}")
    if not isinstance(max_drain_bytes, int) or max_drain_bytes < 0:
        raise ValueError(f"max_drain_bytes must be an int >= 0, got {max_drain_bytes!r}")
    timeout = min(float(timeout), _MAX_TIMEOUT)
    return timeout, timeout if idle_timeout is None else min(float(idle_timeout), _MAX_TIMEOUT)
