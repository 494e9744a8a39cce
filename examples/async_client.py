"""Check many servers concurrently with asyncio streams: HTTP status lines and Redis PINGs.

Expected closelint findings:

- line 20: CL501 writer-close-not-awaited -- http_status() calls writer.close() and returns
  without `await writer.wait_closed()`, so the close may never complete (and errors are lost).
- line 26: CL502 writer-never-closed -- redis_ping() opens a connection and never closes
  its StreamWriter; the transport lingers until garbage collection.
"""
import asyncio
import sys


async def http_status(host, port=80, timeout=5.0):
    """Return the status line of `HEAD /` on *host*."""
    reader, writer = await asyncio.wait_for(asyncio.open_connection(host, port), timeout)
    writer.write(f"HEAD / HTTP/1.0\r\nHost: {host}\r\n\r\n".encode())
    await writer.drain()
    line = await reader.readline()
    writer.close()
    return line.decode("latin-1").strip()


async def redis_ping(host="127.0.0.1", port=6379):
    """Return True when a Redis server answers PING."""
    reader, writer = await asyncio.open_connection(host, port)
    writer.write(b"PING\r\n")
    await writer.drain()
    return (await reader.readline()).strip() == b"+PONG"


async def main(hosts):
    checks = [http_status(host) for host in hosts]
    results = await asyncio.gather(*checks, redis_ping(), return_exceptions=True)
    for name, result in zip([*hosts, "redis"], results):
        print(f"{name}: {result}")


if __name__ == "__main__":
    asyncio.run(main(sys.argv[1:] or ["example.com", "python.org"]))
