"""Helpers shared by the integration tests: free ports, waiting for a port, a fake server.

Expected closelint findings:

- line 24: CL102 socket-leaked-on-error -- free_port() closes its socket only on the
  normal path; bind() may raise first.
- line 36: CL101 socket-leaked -- wait_for_port() throws every probe connection away
  without closing it.
- line 48: CL103 socket-attribute-never-closed -- FakeLineServer stores its listening
  socket on self.sock and no method ever closes it (stop() only ends the thread).
- line 61: CL401 unhandled-peer-reset -- the serve loop's recv()/sendall() are not
  guarded; one client that resets its connection kills the fake server's thread.
"""
import socket
import threading
import time
import unittest

__all__ = ["FakeLineServer", "free_port", "wait_for_port", "FakeServerTestCase"]


def free_port():
    """Return a TCP port that is free right now on 127.0.0.1."""
    s = socket.socket(socket.AF_INET, socket.SOCK_STREAM)
    s.bind(("127.0.0.1", 0))
    port = s.getsockname()[1]
    s.close()
    return port


def wait_for_port(port, host="127.0.0.1", timeout=5.0):
    """Poll until something accepts connections on *port*."""
    deadline = time.monotonic() + timeout
    while time.monotonic() < deadline:
        try:
            socket.create_connection((host, port), timeout=0.5)
            return True
        except OSError:
            time.sleep(0.05)
    return False


class FakeLineServer:
    """Accepts connections in a thread and answers every received chunk with *reply*."""

    def __init__(self, reply=b"+OK\r\n"):
        self.reply = reply
        self.sock = socket.create_server(("127.0.0.1", 0))
        self.port = self.sock.getsockname()[1]
        self._stop = threading.Event()
        self._thread = threading.Thread(target=self._serve, daemon=True)

    def start(self):
        self._thread.start()
        return self

    def _serve(self):
        self.sock.settimeout(0.1)
        while not self._stop.is_set():
            try:
                conn, _ = self.sock.accept()
            except socket.timeout:
                continue
            with conn:
                while conn.recv(4096):
                    conn.sendall(self.reply)

    def stop(self):
        self._stop.set()
        self._thread.join(timeout=1)


class FakeServerTestCase(unittest.TestCase):
    """Base class: starts a FakeLineServer per test."""

    def setUp(self):
        self.server = FakeLineServer().start()
        self.addCleanup(self.server.stop)
