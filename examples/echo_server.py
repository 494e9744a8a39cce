"""A small one-request-per-connection TCP echo server.

Reads a request, sends it back upper-cased and hangs up. It works on a quiet
loopback and misbehaves in production. Expected closelint findings:

- line 28: CL401 unhandled-peer-reset -- recv()/sendall() in the accept loop are not
  guarded, so the first client that resets its connection kills the whole server.
- line 29: CL201 close-without-shutdown -- the `with conn:` block closes the connection
  right after sendall() without shutdown(SHUT_WR) and draining; if the client sent
  more than one recv() read, close() sends RST and the reply can be truncated.
- line 30: CL301 linger-zero -- SO_LINGER set to (on, 0 s) "to avoid TIME_WAIT"
  turns every close() into an abortive reset that discards queued data.
"""
import socket
import struct
import sys

HOST = "127.0.0.1"
PORT = 9000
# "fixes" TIME_WAIT piling up in netstat, at the cost of every reply
LINGER_ZERO = struct.pack("ii", 1, 0)


def serve(host=HOST, port=PORT):
    with socket.create_server((host, port)) as srv:
        print(f"echo server listening on {host}:{port}", file=sys.stderr)
        while True:
            conn, addr = srv.accept()
            with conn:
                conn.setsockopt(socket.SOL_SOCKET, socket.SO_LINGER, LINGER_ZERO)
                request = conn.recv(65536)
                conn.sendall(request.upper())
            print(f"served {addr[0]}:{addr[1]} ({len(request)} bytes)", file=sys.stderr)


if __name__ == "__main__":
    serve(port=int(sys.argv[1]) if len(sys.argv) > 1 else PORT)
