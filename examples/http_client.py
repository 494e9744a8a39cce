"""A minimal HTTP/1.0 client on raw sockets (GET with redirects, POST of a form, HEAD).

Expected closelint findings:

- line 42: CL101 socket-leaked -- fetch() follows a redirect with an early `return`
  and never closes the first connection.
- line 62: CL102 socket-leaked-on-error -- post_form() closes the socket only on the
  normal path; sendall()/recv() may raise before the close, which is not in a finally.
- line 68: CL201 close-without-shutdown -- post_form() closes right after sending and
  reading only the status line: unread response bytes turn the close into an RST.
- line 75: CL202 shutdown-without-drain -- head() calls shutdown(SHUT_RDWR) and then
  the `with` block closes the socket without reading until EOF.
"""
import socket
import sys
from urllib.parse import urlencode, urljoin, urlsplit

REDIRECTS = (301, 302, 303, 307, 308)


def _request(method, host, path, body=b"", headers=None):
    lines = [f"{method} {path} HTTP/1.0", f"Host: {host}", "Connection: close"]
    for key, value in (headers or {}).items():
        lines.append(f"{key}: {value}")
    if body:
        lines.append(f"Content-Length: {len(body)}")
    return ("\r\n".join(lines) + "\r\n\r\n").encode("latin-1") + body


def _header(head, name):
    for line in head.split(b"\r\n")[1:]:
        key, _, value = line.partition(b":")
        if key.strip().lower() == name:
            return value.strip().decode("latin-1")
    return None


def fetch(url, max_redirects=5):
    """GET *url*, following redirects; returns (status, body)."""
    parts = urlsplit(url)
    host = parts.hostname
    sock = socket.create_connection((host, parts.port or 80), timeout=10)
    sock.sendall(_request("GET", host, parts.path or "/"))
    response = b""
    while True:
        chunk = sock.recv(65536)
        if not chunk:
            break
        response += chunk
    head, _, body = response.partition(b"\r\n\r\n")
    status = int(head.split(b" ", 2)[1])
    if status in REDIRECTS and max_redirects > 0:
        return fetch(urljoin(url, _header(head, b"location")), max_redirects - 1)
    sock.close()
    return status, body


def post_form(url, fields):
    """POST *fields* as a form; returns the status line."""
    parts = urlsplit(url)
    body = urlencode(fields).encode()
    sock = socket.create_connection((parts.hostname, parts.port or 80), timeout=10)
    sock.sendall(
        _request("POST", parts.hostname, parts.path or "/", body,
                 {"Content-Type": "application/x-www-form-urlencoded"})
    )
    status_line = sock.recv(1024).split(b"\r\n", 1)[0]
    sock.close()
    return status_line.decode("latin-1")


def head(url):
    """HEAD *url*; returns the raw response head."""
    parts = urlsplit(url)
    with socket.create_connection((parts.hostname, parts.port or 80), timeout=10) as sock:
        sock.sendall(_request("HEAD", parts.hostname, parts.path or "/"))
        response_head = sock.recv(65536)
        sock.shutdown(socket.SHUT_RDWR)
    return response_head


if __name__ == "__main__":
    status, body = fetch(sys.argv[1] if len(sys.argv) > 1 else "http://example.com/")
    print(status, len(body), "bytes")
