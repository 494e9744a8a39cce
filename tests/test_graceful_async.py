"""closelint_graceful.graceful_aclose against a real asyncio.start_server on loopback."""

from __future__ import annotations

import asyncio
import contextlib
import dataclasses
import socket
import threading
import time
from collections.abc import AsyncIterator, Awaitable, Callable
from typing import Any

import pytest
from closelint_graceful import DEFAULT_TIMEOUT, CloseOutcome, CloseStatus, graceful_aclose
from netutil import IO_TIMEOUT, LOOPBACK, PEEK_SIZE, RESPONSE_SIZE, Delivery, abort, loss_client, reset_after_eof

pytestmark = pytest.mark.network

SHORT = 0.5
"""The timeout given to the helper when the peer is not going to cooperate."""
SLACK = 1.0
"""Every call must return within its timeout plus this, whatever the peer does."""
UPLOAD_SIZE = 3000
"""Bytes a peer sends before it half-closes: the drain reads them all before the peer's EOF."""

ASYNC_REQUEST_SIZE = 384 * 1024
"""asyncio reads up to 256 KiB per recv() before the StreamReader pauses the transport: a smaller request
ends up entirely in user space, the kernel's receive queue is empty at close() and no RST is sent. A bigger
one leaves unread input in the kernel, as a pipelining or uploading client does."""

Handler = Callable[[asyncio.StreamReader, asyncio.StreamWriter], Awaitable[Any]]


def run(coroutine: Awaitable[Any]) -> Any:
    """Run a test coroutine on a fresh loop, bounded so that a bug fails the test instead of hanging it."""

    async def bounded() -> Any:
        return await asyncio.wait_for(coroutine, 4 * IO_TIMEOUT)

    return asyncio.run(bounded())


@contextlib.asynccontextmanager
async def one_connection(handler: Handler) -> AsyncIterator[tuple[tuple[str, int], asyncio.Future[Any]]]:
    """Serve ``handler`` on loopback; yield the address and a future for the handler's result or error."""
    result: asyncio.Future[Any] = asyncio.get_running_loop().create_future()

    async def serve(reader: asyncio.StreamReader, writer: asyncio.StreamWriter) -> None:
        try:
            result.set_result(await handler(reader, writer))
        except BaseException as exc:  # handed to the test through the future
            result.set_exception(exc)

    server = await asyncio.start_server(serve, LOOPBACK, 0)
    async with server:
        yield server.sockets[0].getsockname(), result


async def with_silent_peer(handler: Handler) -> tuple[Any, bytes | None]:
    """Serve ``handler`` to an asyncio peer that never sends and never closes on its own.

    Returns the handler's result and what the peer received before the end of stream (``None`` if the
    connection was reset before the peer saw one).
    """
    async with one_connection(handler) as (address, result):
        peer_reader, peer_writer = await asyncio.open_connection(*address)
        try:
            value = await asyncio.wait_for(result, IO_TIMEOUT)
            try:
                received: bytes | None = await asyncio.wait_for(peer_reader.read(), IO_TIMEOUT)
            except ConnectionResetError:
                received = None
            return value, received
        finally:
            peer_writer.close()
            with contextlib.suppress(OSError):
                await peer_writer.wait_closed()


async def timed_aclose(
    writer: asyncio.StreamWriter, reader: asyncio.StreamReader | None, **kwargs: Any
) -> CloseOutcome:
    """``graceful_aclose`` plus the contract: returns in time, and the socket is released."""
    sock = writer.get_extra_info("socket")
    limit = kwargs.get("timeout", DEFAULT_TIMEOUT) + SLACK
    start = time.monotonic()
    outcome = await graceful_aclose(writer, reader, **kwargs)
    elapsed = time.monotonic() - start
    assert elapsed <= limit, f"graceful_aclose took {elapsed:.2f} s, limit {limit} s ({outcome})"
    assert sock.fileno() == -1, "socket not released"
    return outcome


async def loss_scenario(close: Handler) -> Delivery:
    """The loss scenario of the sync tests, with an asyncio server ending the connection with ``close``."""

    async def respond(reader: asyncio.StreamReader, writer: asyncio.StreamWriter) -> Any:
        await reader.readexactly(PEEK_SIZE)
        writer.write(b"r" * RESPONSE_SIZE)
        return await close(reader, writer)

    async with one_connection(respond) as (address, result):
        delivery = await asyncio.to_thread(loss_client, address, ASYNC_REQUEST_SIZE)
        return dataclasses.replace(delivery, server_result=await asyncio.wait_for(result, IO_TIMEOUT))


async def close_plainly(reader: asyncio.StreamReader, writer: asyncio.StreamWriter) -> None:
    writer.close()
    await writer.wait_closed()


async def close_gracefully(reader: asyncio.StreamReader, writer: asyncio.StreamWriter) -> Any:
    """graceful_aclose, recording whether ``wait_closed()`` ran to completion."""
    awaited = []
    wait_closed = writer.wait_closed

    async def spy() -> None:
        await wait_closed()
        awaited.append(True)

    writer.wait_closed = spy  # type: ignore[method-assign]
    return await timed_aclose(writer, reader), awaited


@pytest.mark.parametrize("run_number", range(5))
def test_control_plain_close_loses_data(run_number: int) -> None:
    delivery = run(loss_scenario(close_plainly))
    assert delivery.received < RESPONSE_SIZE, "the control must lose data, or the helper test proves nothing"
    assert delivery.error == "ConnectionResetError"


@pytest.mark.parametrize("run_number", range(5))
def test_graceful_aclose_delivers_everything_and_awaits_wait_closed(run_number: int) -> None:
    delivery = run(loss_scenario(close_gracefully))
    assert (delivery.received, delivery.clean_eof, delivery.error) == (RESPONSE_SIZE, True, None)
    outcome, awaited = delivery.server_result
    assert outcome == CloseOutcome(CloseStatus.EOF, drained=ASYNC_REQUEST_SIZE - PEEK_SIZE)
    assert awaited == [True], "wait_closed() was not awaited to completion"


def test_peer_that_never_closes_is_aborted() -> None:
    aborted: list[bool] = []

    async def respond(reader: asyncio.StreamReader, writer: asyncio.StreamWriter) -> CloseOutcome:
        writer.write(b"hello")
        abort = writer.transport.abort

        def spy() -> None:
            aborted.append(True)
            abort()

        writer.transport.abort = spy  # type: ignore[method-assign]
        return await timed_aclose(writer, reader, timeout=SHORT)

    outcome, received = run(with_silent_peer(respond))
    assert outcome.status is CloseStatus.TIMEOUT
    assert aborted == [True]
    assert received == b"hello", "the data and the FIN must have been sent before the abort"


def test_a_close_that_cannot_flush_in_time_is_aborted() -> None:
    """The drain returns at once (the buffer limit is raised), but the peer reads nothing, so the close
    cannot flush the write buffer and ``wait_closed()`` does not finish: aborted at the deadline."""

    async def respond(reader: asyncio.StreamReader, writer: asyncio.StreamWriter) -> CloseOutcome:
        writer.transport.set_write_buffer_limits(high=64 * 1024 * 1024)
        writer.write(b"x" * (32 * 1024 * 1024))  # more than the loopback socket buffers hold
        return await timed_aclose(writer, None, timeout=SHORT)

    outcome, _ = run(with_silent_peer(respond))
    assert outcome == CloseOutcome(CloseStatus.TIMEOUT)


def with_peer(respond: Handler, peer: Callable[[tuple[str, int]], None]) -> Any:
    """Serve ``respond`` on loopback, run the blocking ``peer`` against its address in a thread, and return
    what ``respond`` returned."""

    async def scenario() -> Any:
        async with one_connection(respond) as (address, result):
            await asyncio.to_thread(peer, address)
            return await asyncio.wait_for(result, IO_TIMEOUT)

    return run(scenario())


def test_peer_that_resets() -> None:
    async def respond(reader: asyncio.StreamReader, writer: asyncio.StreamWriter) -> CloseOutcome:
        writer.write(b"hello")
        return await timed_aclose(writer, reader, timeout=IO_TIMEOUT)

    async def scenario() -> CloseOutcome:
        async with one_connection(respond) as (address, result):
            peer = socket.create_connection(address, timeout=IO_TIMEOUT)
            await asyncio.to_thread(reset_after_eof, peer)
            return await asyncio.wait_for(result, IO_TIMEOUT)

    outcome = run(scenario())
    assert outcome.status is CloseStatus.RESET
    assert outcome.error is not None and outcome.error.startswith("ConnectionResetError")


def test_a_reset_during_the_drain_reports_what_was_drained() -> None:
    """The peer uploads, waits for our FIN, then resets instead of closing: the drain has read the upload
    when the read fails, and the outcome counts it."""

    async def respond(reader: asyncio.StreamReader, writer: asyncio.StreamWriter) -> CloseOutcome:
        return await timed_aclose(writer, reader, timeout=IO_TIMEOUT)

    def uploader(address: tuple[str, int]) -> None:
        peer = socket.create_connection(address, timeout=IO_TIMEOUT)
        peer.sendall(b"u" * UPLOAD_SIZE)
        reset_after_eof(peer)

    outcome = with_peer(respond, uploader)
    assert (outcome.status, outcome.drained) == (CloseStatus.RESET, UPLOAD_SIZE)


def test_a_reset_while_the_close_flushes_keeps_what_was_drained() -> None:
    """The peer uploads and half-closes (the drain ends at its EOF) but reads nothing; once our close has
    begun to flush a response too big for the socket buffers, it resets: ``wait_closed()`` raises, and the
    outcome is a reset that still counts the upload it discarded."""
    closing = threading.Event()

    async def respond(reader: asyncio.StreamReader, writer: asyncio.StreamWriter) -> CloseOutcome:
        writer.transport.set_write_buffer_limits(high=64 * 1024 * 1024)
        writer.write(b"x" * (32 * 1024 * 1024))  # more than the loopback socket buffers hold
        close = writer.close

        def spy() -> None:
            closing.set()
            close()

        writer.close = spy  # type: ignore[method-assign]
        return await timed_aclose(writer, reader, timeout=IO_TIMEOUT)

    def uploader_that_resets(address: tuple[str, int]) -> None:
        peer = socket.create_connection(address, timeout=IO_TIMEOUT)
        peer.sendall(b"u" * UPLOAD_SIZE)
        peer.shutdown(socket.SHUT_WR)
        assert closing.wait(IO_TIMEOUT), "the close did not begin"
        abort(peer)

    outcome = with_peer(respond, uploader_that_resets)
    assert (outcome.status, outcome.drained) == (CloseStatus.RESET, UPLOAD_SIZE)
    assert outcome.error is not None


def test_cancellation_aborts_and_propagates() -> None:
    async def respond(reader: asyncio.StreamReader, writer: asyncio.StreamWriter) -> bool:
        closing = asyncio.ensure_future(graceful_aclose(writer, reader, timeout=IO_TIMEOUT))
        await asyncio.sleep(0.1)
        closing.cancel()
        with pytest.raises(asyncio.CancelledError):
            await closing
        return writer.transport.is_closing()

    assert run(with_silent_peer(respond))[0] is True


@pytest.mark.parametrize("reader_given", [True, False], ids=["with-reader", "without-reader"])
def test_already_closing_writer(reader_given: bool) -> None:
    async def respond(reader: asyncio.StreamReader, writer: asyncio.StreamWriter) -> CloseOutcome:
        writer.close()
        return await timed_aclose(writer, reader if reader_given else None)

    assert run(with_silent_peer(respond)) == (CloseOutcome(CloseStatus.CLOSED), b"")


def test_without_reader_the_drain_is_skipped() -> None:
    async def respond(reader: asyncio.StreamReader, writer: asyncio.StreamWriter) -> CloseOutcome:
        writer.write(b"hello")
        return await timed_aclose(writer, None)

    assert run(with_silent_peer(respond)) == (CloseOutcome(CloseStatus.SKIPPED), b"hello")


def test_type_errors() -> None:
    with pytest.raises(TypeError, match=r"graceful_aclose\(\) expects an asyncio\.StreamWriter"):
        run(graceful_aclose(object()))  # type: ignore[arg-type]

    async def respond(reader: asyncio.StreamReader, writer: asyncio.StreamWriter) -> None:
        try:
            with pytest.raises(TypeError, match=r"expects an asyncio\.StreamReader or None"):
                await graceful_aclose(writer, b"not a reader")  # type: ignore[arg-type]
        finally:
            writer.close()

    run(with_silent_peer(respond))
