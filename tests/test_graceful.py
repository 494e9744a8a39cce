"""closelint_graceful.graceful_close / graceful against real loopback peers, well-behaved and hostile."""

from __future__ import annotations

import select
import socket
import struct
import sys
import threading
import time
from collections.abc import Callable, Iterator
from typing import Any

import pytest
from closelint_graceful import DEFAULT_TIMEOUT, CloseOutcome, CloseStatus, graceful, graceful_close
from netutil import (
    IO_TIMEOUT,
    LOOPBACK,
    PEEK_SIZE,
    REQUEST_SIZE,
    RESPONSE_SIZE,
    Background,
    abort,
    read_to_eof,
    read_to_eof_then_close,
    reset_after_eof,
    run_loss_scenario,
    tcp_pair,
    tls_pair,
)

pytestmark = pytest.mark.network

Pair = tuple[socket.socket, socket.socket]
"""``(ours, peer)``: ours is closed with the helper, the peer plays the other end."""

SHORT = 0.5
"""The timeout given to the helper when the peer is not going to cooperate."""
SLACK = 1.0
"""Every call must return within its timeout plus this, whatever the peer does."""
UPLOAD_SIZE = 3000
"""Bytes a peer sends before it resets: small enough to sit in the loopback receive queue at once."""


def close_bounded(sock: socket.socket, **kwargs: Any) -> CloseOutcome:
    """``graceful_close`` that also asserts the contract: returns in time, descriptor released."""
    limit = kwargs.get("timeout", DEFAULT_TIMEOUT) + SLACK
    start = time.monotonic()
    outcome = graceful_close(sock, **kwargs)
    elapsed = time.monotonic() - start
    assert elapsed <= limit, f"graceful_close took {elapsed:.2f} s, limit {limit} s ({outcome})"
    assert sock.fileno() == -1, "descriptor not released"
    return outcome


@pytest.fixture
def pair() -> Iterator[Pair]:
    ours, peer = tcp_pair()
    with ours, peer:
        yield ours, peer


# --- the loss scenario ------------------------------------------------------------------------------------


@pytest.mark.parametrize("run", range(5))
def test_control_plain_close_loses_the_end_of_the_response(run: int) -> None:
    delivery = run_loss_scenario(socket.socket.close)
    assert delivery.received < RESPONSE_SIZE, "the control must lose data, or the helper test proves nothing"
    assert delivery.error == "ConnectionResetError"


@pytest.mark.parametrize("run", range(5))
def test_graceful_close_delivers_the_whole_response(run: int) -> None:
    delivery = run_loss_scenario(close_bounded)
    assert (delivery.received, delivery.clean_eof, delivery.error) == (RESPONSE_SIZE, True, None)
    assert delivery.server_result == CloseOutcome(CloseStatus.EOF, drained=REQUEST_SIZE - PEEK_SIZE)


def test_graceful_close_delivers_the_whole_response_over_tls() -> None:
    delivery = run_loss_scenario(close_bounded, tls=True)
    assert (delivery.received, delivery.clean_eof, delivery.error) == (RESPONSE_SIZE, True, None)
    assert delivery.server_result.status is CloseStatus.EOF


# --- well-behaved peers, every socket mode ---------------------------------------------------------------


@pytest.mark.parametrize("mode", [None, 0.0, 0.01], ids=["blocking", "non-blocking", "own-timeout-10ms"])
def test_waits_for_the_peer_whatever_the_socket_mode(pair: Pair, mode: float | None) -> None:
    ours, peer = pair
    ours.sendall(b"payload")
    ours.settimeout(mode)
    # The peer takes longer than the socket's own timeout: the helper's budget, not the socket's, applies.
    peer_side = Background(read_to_eof_then_close, peer, delay=0.2)
    assert close_bounded(ours).status is CloseStatus.EOF
    assert peer_side.result() == b"payload"


def test_context_manager_closes_gracefully(pair: Pair) -> None:
    ours, peer = pair
    peer_side = Background(read_to_eof_then_close, peer)
    with graceful(ours) as sock:
        assert sock is ours
        sock.sendall(b"payload")
    assert ours.fileno() == -1
    assert peer_side.result() == b"payload"


def test_context_manager_closes_gracefully_on_exception(pair: Pair) -> None:
    ours, peer = pair
    peer_side = Background(read_to_eof_then_close, peer)
    with pytest.raises(RuntimeError, match="boom"), graceful(ours, timeout=SHORT):
        ours.sendall(b"partial")
        raise RuntimeError("boom")
    assert ours.fileno() == -1
    assert peer_side.result() == b"partial"


# --- hostile peers -----------------------------------------------------------------------------------------


def test_peer_that_never_closes(pair: Pair) -> None:
    ours, peer = pair
    ours.sendall(b"bye")
    start = time.monotonic()
    assert close_bounded(ours, timeout=SHORT).status is CloseStatus.TIMEOUT
    assert time.monotonic() - start >= SHORT * 0.9
    assert read_to_eof(peer) == b"bye", "the FIN must have been sent although the peer never answered"


def test_idle_timeout_ends_the_wait_early(pair: Pair) -> None:
    ours, _peer = pair
    start = time.monotonic()
    assert close_bounded(ours, timeout=IO_TIMEOUT, idle_timeout=0.2).status is CloseStatus.TIMEOUT
    assert time.monotonic() - start < 0.2 + SLACK


def _send_forever(peer: socket.socket, stop: threading.Event) -> int:
    """Send until the connection breaks or ``stop`` is set (bounded by IO_TIMEOUT); return bytes sent."""
    chunk, sent = b"z" * 65536, 0
    deadline = time.monotonic() + IO_TIMEOUT
    while not stop.is_set() and time.monotonic() < deadline:
        try:
            sent += peer.send(chunk)
        except OSError:
            break
    return sent


@pytest.mark.parametrize(
    ("limits", "expected"),
    [
        ({}, {CloseStatus.TIMEOUT, CloseStatus.CAP}),
        ({"max_drain_bytes": 1 << 20}, {CloseStatus.CAP}),
        ({"max_drain_bytes": 1 << 40}, {CloseStatus.TIMEOUT}),
    ],
    ids=["default-cap", "small-cap", "huge-cap"],
)
def test_peer_that_sends_forever(pair: Pair, limits: dict[str, int], expected: set[CloseStatus]) -> None:
    ours, peer = pair
    stop = threading.Event()
    sender = Background(_send_forever, peer, stop)
    try:
        outcome = close_bounded(ours, timeout=SHORT, **limits)
    finally:
        stop.set()
        sender.result()
    assert outcome.status in expected
    assert outcome.drained > 0
    if outcome.status is CloseStatus.CAP:
        assert outcome.drained == limits.get("max_drain_bytes", outcome.drained)


def test_peer_that_resets_during_the_drain(pair: Pair) -> None:
    ours, peer = pair
    resetter = Background(reset_after_eof, peer)
    outcome = close_bounded(ours, timeout=IO_TIMEOUT)
    resetter.result()
    assert outcome.status is CloseStatus.RESET
    assert outcome.error is not None and outcome.error.startswith("ConnectionResetError")


def test_a_reset_after_some_input_reports_what_was_drained(pair: Pair) -> None:
    """The peer uploads, waits for our FIN, then resets: the outcome counts the upload it discarded."""
    ours, peer = pair
    peer.sendall(b"u" * UPLOAD_SIZE)
    assert select.select([ours], [], [], IO_TIMEOUT)[0], "the upload did not arrive"
    resetter = Background(reset_after_eof, peer)
    outcome = close_bounded(ours, timeout=IO_TIMEOUT)
    resetter.result()
    assert (outcome.status, outcome.drained) == (CloseStatus.RESET, UPLOAD_SIZE)
    assert outcome.error is not None and outcome.error.startswith("ConnectionResetError")


def test_peer_that_reset_before_the_call(pair: Pair) -> None:
    ours, peer = pair
    abort(peer)
    assert select.select([ours], [], [], IO_TIMEOUT)[0], "the RST did not arrive"
    outcome = close_bounded(ours, timeout=SHORT)
    assert outcome.status is CloseStatus.RESET
    assert outcome.error is not None and outcome.error.startswith("ConnectionResetError")


# --- nothing to linger for ---------------------------------------------------------------------------------


def test_already_closed_socket(pair: Pair) -> None:
    ours, _peer = pair
    ours.close()
    assert close_bounded(ours) == CloseOutcome(CloseStatus.CLOSED)


def _udp() -> socket.socket:
    sock = socket.socket(socket.AF_INET, socket.SOCK_DGRAM)
    try:
        sock.connect((LOOPBACK, 9))  # a "connected" UDP socket has a peer, but no stream to protect
    except BaseException:
        sock.close()
        raise
    return sock


@pytest.mark.parametrize(
    "make",
    [_udp, lambda: socket.create_server((LOOPBACK, 0)), socket.socket],
    ids=["udp", "listening", "unconnected"],
)
def test_plain_close_when_not_a_connected_stream(make: Callable[[], socket.socket]) -> None:
    start = time.monotonic()
    assert close_bounded(make()) == CloseOutcome(CloseStatus.SKIPPED)
    assert time.monotonic() - start < SHORT


# --- TLS ----------------------------------------------------------------------------------------------------


def _tls_peer_answers_close_notify(peer: Any) -> tuple[bytes, bytes]:
    """Read to the TLS end (a ragged EOF would raise), answer close_notify, then read the raw TCP to FIN."""
    try:
        tls_data = b""
        while chunk := peer.recv(65536):
            tls_data += chunk
        raw = peer.unwrap()
        return tls_data, read_to_eof(raw)
    finally:
        peer.close()


def test_tls_sends_close_notify() -> None:
    ours, peer = tls_pair()
    with ours, peer:
        ours.sendall(b"secret")
        peer_side = Background(_tls_peer_answers_close_notify, peer)
        assert close_bounded(ours).status is CloseStatus.EOF
        assert peer_side.result() == (b"secret", b"")


def test_tls_peer_that_never_answers() -> None:
    ours, peer = tls_pair()
    with ours, peer:
        assert close_bounded(ours, timeout=SHORT).status is CloseStatus.TIMEOUT


# --- zero limits: no time to linger -------------------------------------------------------------------------


@pytest.mark.parametrize("make", [tcp_pair, tls_pair], ids=["tcp", "tls"])
@pytest.mark.parametrize("limits", [{"timeout": 0}, {"timeout": 0, "idle_timeout": 0}], ids=["timeout", "both"])
def test_zero_timeout_returns_at_once(make: Callable[[], Pair], limits: dict[str, float]) -> None:
    ours, peer = make()
    with ours, peer:
        ours.sendall(b"bye")
        # in a thread, so that a wait that never ends (a loop that spins past its deadline) fails the test
        outcome = Background(graceful_close, ours, **limits).result(timeout=SLACK)
        assert outcome.status is CloseStatus.TIMEOUT
        assert ours.fileno() == -1


def test_zero_timeout_still_sends_the_fin(pair: Pair) -> None:
    ours, peer = pair
    ours.sendall(b"bye")
    assert close_bounded(ours, timeout=0).status is CloseStatus.TIMEOUT
    assert read_to_eof(peer) == b"bye"


def test_zero_idle_timeout_ends_the_drain_at_once(pair: Pair) -> None:
    ours, _peer = pair
    outcome = Background(graceful_close, ours, timeout=IO_TIMEOUT, idle_timeout=0).result(timeout=SLACK)
    assert outcome == CloseOutcome(CloseStatus.TIMEOUT)


# --- the timeout is a promise: SO_LINGER and huge values ----------------------------------------------------


def _fill_until_blocked(sock: socket.socket) -> None:
    """Queue data until the peer (who never reads) stops taking it: the final close has data to linger on."""
    sock.setblocking(False)
    chunk = b"q" * 65536
    try:
        for _ in range(10_000):
            sock.send(chunk)
    except BlockingIOError:
        pass
    sock.setblocking(True)


@pytest.mark.skipif(sys.platform != "linux", reason="Linux lingers in close() even on a non-blocking socket")
def test_returns_within_its_timeout_when_so_linger_is_set_and_the_peer_never_reads() -> None:
    ours, peer = tcp_pair()
    with peer:
        ours.setsockopt(socket.SOL_SOCKET, socket.SO_LINGER, struct.pack("ii", 1, 30))
        _fill_until_blocked(ours)
        start = time.monotonic()
        outcome = graceful_close(ours, timeout=SHORT)
        elapsed = time.monotonic() - start
    assert outcome.status is CloseStatus.TIMEOUT
    assert elapsed < SHORT + 1.0, f"took {elapsed:.1f} s with SO_LINGER=30 s"
    assert ours.fileno() == -1


def test_a_shorter_so_linger_than_the_remaining_time_is_left_alone() -> None:
    ours, peer = tcp_pair()
    ours.setsockopt(socket.SOL_SOCKET, socket.SO_LINGER, struct.pack("ii", 1, 1))
    waiter = Background(read_to_eof_then_close, peer)
    ours.sendall(b"x" * 1000)
    assert graceful_close(ours, timeout=IO_TIMEOUT).status is CloseStatus.EOF
    assert waiter.result() == b"x" * 1000


@pytest.mark.parametrize("huge", [1e12, 1e300, 10**30])
def test_a_huge_timeout_is_clamped_instead_of_overflowing(huge: float) -> None:
    ours, peer = tcp_pair()
    waiter = Background(read_to_eof_then_close, peer, delay=0.2)
    ours.sendall(b"payload")
    assert graceful_close(ours, timeout=huge, idle_timeout=huge).status is CloseStatus.EOF
    assert waiter.result() == b"payload"
