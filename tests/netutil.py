"""Loopback helpers for the graceful-close tests: connected pairs, a background thread with a bounded join,
the data-loss scenario and a throwaway TLS certificate.

Everything here binds 127.0.0.1 only and bounds every blocking call with ``IO_TIMEOUT``. The module imports
the standard library only (``cryptography`` is imported inside ``tls_contexts``): the vendoring test runs
the loss scenario in a subprocess that has no site-packages at all.
"""

from __future__ import annotations

import dataclasses
import datetime
import functools
import importlib.util
import ipaddress
import pathlib
import socket
import ssl
import struct
import tempfile
import threading
import time
from collections.abc import Callable
from types import ModuleType
from typing import Any

LOOPBACK = "127.0.0.1"
IO_TIMEOUT = 10.0
"""Upper bound for any single blocking operation in a test: a hung test fails instead of hanging."""

REQUEST_SIZE = 100 * 1024
RESPONSE_SIZE = 4 * 1024 * 1024
PEEK_SIZE = 10
"""The loss scenario's server reads this much of the request before it answers."""

_CHUNK = 64 * 1024
_CLIENT_READ_PAUSE = 0.001
"""The client sleeps this long after each read, so the server's send queue is still full when it closes."""


class Background:
    """Run ``function(*args, **kwargs)`` in a daemon thread; ``result()`` joins it (bounded) and re-raises."""

    def __init__(self, function: Callable[..., Any], *args: Any, **kwargs: Any) -> None:
        self._function = function
        self._args = args
        self._kwargs = kwargs
        self._value: Any = None
        self._error: BaseException | None = None
        self._thread = threading.Thread(target=self._run, daemon=True)
        self._thread.start()

    def _run(self) -> None:
        try:
            self._value = self._function(*self._args, **self._kwargs)
        except BaseException as exc:  # handed to the test thread by result()
            self._error = exc

    def result(self, timeout: float = IO_TIMEOUT) -> Any:
        self._thread.join(timeout)
        if self._thread.is_alive():
            raise AssertionError(f"{self._function.__name__} still running after {timeout} s")
        if self._error is not None:
            raise self._error
        return self._value


def tcp_pair() -> tuple[socket.socket, socket.socket]:
    """A connected TCP pair on loopback, ``(ours, peer)``, both in blocking mode with ``IO_TIMEOUT``."""
    with socket.create_server((LOOPBACK, 0)) as listener:
        listener.settimeout(IO_TIMEOUT)
        ours = socket.create_connection(listener.getsockname(), timeout=IO_TIMEOUT)
        try:
            peer, _ = listener.accept()
        except BaseException:
            ours.close()
            raise
    peer.settimeout(IO_TIMEOUT)
    return ours, peer


def read_to_eof(sock: socket.socket) -> bytes:
    """Read until end of stream, bounded by ``IO_TIMEOUT`` overall."""
    deadline = time.monotonic() + IO_TIMEOUT
    chunks = []
    while time.monotonic() < deadline:
        chunk = sock.recv(_CHUNK)
        if not chunk:
            return b"".join(chunks)
        chunks.append(chunk)
    raise AssertionError(f"no end of stream within {IO_TIMEOUT} s")


def read_exactly(sock: socket.socket, size: int) -> bytes:
    """Read exactly ``size`` bytes (each ``recv`` bounded by the socket's timeout)."""
    data = b""
    while len(data) < size:
        chunk = sock.recv(size - len(data))
        if not chunk:
            raise AssertionError(f"end of stream after {len(data)} of {size} bytes")
        data += chunk
    return data


def read_to_eof_then_close(peer: socket.socket, *, delay: float = 0.0) -> bytes:
    """A well-behaved peer: read until our FIN, wait ``delay``, close. Returns what it received."""
    try:
        data = read_to_eof(peer)
        time.sleep(delay)
        return data
    finally:
        peer.close()


def reset_after_eof(peer: socket.socket) -> None:
    """A peer that waits for our FIN, then answers with a RST."""
    read_to_eof(peer)
    abort(peer)


def abort(sock: socket.socket) -> None:
    """Close with ``SO_LINGER`` on and a zero timeout: the kernel sends RST instead of FIN."""
    sock.setsockopt(socket.SOL_SOCKET, socket.SO_LINGER, struct.pack("ii", 1, 0))  # linger-zero on purpose
    sock.close()


# --- the loss scenario ----------------------------------------------------------------------------------


Closer = Callable[[socket.socket], Any]
"""How the loss scenario's server ends the connection: ``socket.close``, ``graceful_close``, ..."""


@dataclasses.dataclass(frozen=True)
class Delivery:
    """What the client of the loss scenario got, and what the server's close function returned."""

    received: int
    clean_eof: bool
    error: str | None
    server_result: Any = None


def loss_client(
    address: tuple[str, int], request_size: int = REQUEST_SIZE, tls: ssl.SSLContext | None = None
) -> Delivery:
    """Send a ``request_size`` request, then read the response slowly until end of stream or an error.

    A large send buffer lets the whole request sit in the kernel although the server reads only a few
    bytes of it; the pause after each read keeps the server's send queue full, which is what a reset
    destroys. The client closes once it has seen the end of stream, as a well-behaved peer does. With
    ``tls``, ragged EOFs are not suppressed: only a close_notify counts as a clean end.
    """
    with socket.socket(socket.AF_INET, socket.SOCK_STREAM) as raw:
        raw.setsockopt(socket.SOL_SOCKET, socket.SO_SNDBUF, 4 * request_size)
        raw.settimeout(IO_TIMEOUT)
        raw.connect(address)
        with raw if tls is None else _client_handshake(tls, raw) as client:
            client.sendall(b"q" * request_size)
            return _read_response(client)


def _read_response(client: socket.socket) -> Delivery:
    received = 0
    deadline = time.monotonic() + IO_TIMEOUT
    try:
        while time.monotonic() < deadline:
            chunk = client.recv(_CHUNK)
            if not chunk:
                return Delivery(received, clean_eof=True, error=None)
            received += len(chunk)
            time.sleep(_CLIENT_READ_PAUSE)
    except OSError as exc:
        return Delivery(received, clean_eof=False, error=type(exc).__name__)
    return Delivery(received, clean_eof=False, error="client deadline")


def _serve_once(listener: socket.socket, close: Closer, tls: ssl.SSLContext | None) -> Any:
    """Accept one connection, read ``PEEK_SIZE`` bytes, send the whole response, then ``close(conn)``."""
    conn, _ = listener.accept()
    try:
        conn.settimeout(IO_TIMEOUT)
        if tls is not None:
            conn = tls.wrap_socket(conn, server_side=True)
        read_exactly(conn, PEEK_SIZE)
        conn.sendall(b"r" * RESPONSE_SIZE)
    except BaseException:
        conn.close()
        raise
    return close(conn)


def run_loss_scenario(close: Closer, *, tls: bool = False) -> Delivery:
    """Run the loss scenario with ``close`` as the server's way of ending the connection."""
    server_context, client_context = tls_contexts() if tls else (None, None)
    with socket.create_server((LOOPBACK, 0)) as listener:
        listener.settimeout(IO_TIMEOUT)
        server = Background(_serve_once, listener, close, server_context)
        delivery = loss_client(listener.getsockname(), tls=client_context)
        return dataclasses.replace(delivery, server_result=server.result())


# --- TLS ------------------------------------------------------------------------------------------------


@functools.lru_cache(maxsize=1)
def tls_contexts() -> tuple[ssl.SSLContext, ssl.SSLContext]:
    """``(server, client)`` contexts; the client trusts only a fresh self-signed certificate for 127.0.0.1."""
    from cryptography import x509
    from cryptography.hazmat.primitives import hashes, serialization
    from cryptography.hazmat.primitives.asymmetric import ec
    from cryptography.x509.oid import NameOID

    key = ec.generate_private_key(ec.SECP256R1())
    name = x509.Name([x509.NameAttribute(NameOID.COMMON_NAME, "closelint test")])
    now = datetime.datetime.now(datetime.timezone.utc)
    cert = (
        x509.CertificateBuilder()
        .subject_name(name)
        .issuer_name(name)
        .public_key(key.public_key())
        .serial_number(x509.random_serial_number())
        .not_valid_before(now - datetime.timedelta(minutes=5))
        .not_valid_after(now + datetime.timedelta(days=1))
        .add_extension(x509.SubjectAlternativeName([x509.IPAddress(ipaddress.ip_address(LOOPBACK))]), False)
        .add_extension(x509.BasicConstraints(ca=True, path_length=None), critical=True)
        .sign(key, hashes.SHA256())
    )
    cert_pem = cert.public_bytes(serialization.Encoding.PEM)
    key_pem = key.private_bytes(
        serialization.Encoding.PEM, serialization.PrivateFormat.PKCS8, serialization.NoEncryption()
    )
    server = ssl.SSLContext(ssl.PROTOCOL_TLS_SERVER)
    with tempfile.TemporaryDirectory() as directory:
        chain = pathlib.Path(directory, "chain.pem")
        chain.write_bytes(key_pem + cert_pem)
        server.load_cert_chain(chain)
    client = ssl.create_default_context(cadata=cert_pem.decode("ascii"))
    return server, client


def _client_handshake(context: ssl.SSLContext, sock: socket.socket) -> ssl.SSLSocket:
    return context.wrap_socket(sock, server_hostname=LOOPBACK, suppress_ragged_eofs=False)


def tls_pair() -> tuple[ssl.SSLSocket, ssl.SSLSocket]:
    """A TLS connection on loopback, ``(ours, peer)``: ours is the server side, the peer verifies it.

    The peer does not suppress ragged EOFs, so its ``recv`` returns ``b""`` only for a real close_notify.
    """
    server_context, client_context = tls_contexts()
    ours, peer = tcp_pair()
    handshake = Background(_client_handshake, client_context, peer)
    tls_ours = server_context.wrap_socket(ours, server_side=True)
    return tls_ours, handshake.result()


def load_module(path: pathlib.Path) -> ModuleType:
    """Import the server or client a test wrote to ``path``, under a fresh name (a rewritten file is new)."""
    spec = importlib.util.spec_from_file_location(f"written_{path.stem}_{time.monotonic_ns()}", path)
    assert spec is not None and spec.loader is not None
    module = importlib.util.module_from_spec(spec)
    spec.loader.exec_module(module)
    return module
