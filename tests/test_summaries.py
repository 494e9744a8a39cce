"""Unit tests of the function summaries: what a call of a module function does with its arguments."""

from __future__ import annotations

import ast
import textwrap

from closelint.analysis.names import ImportTable
from closelint.analysis.scopes import index_module
from closelint.analysis.summaries import ModuleSummaries, Sends, Summary, Use


def summaries(source: str) -> dict[str, Summary]:
    """The summary of every function of `source`, by name."""
    tree = ast.parse("import socket\nimport asyncio\n" + textwrap.dedent(source))
    index = index_module(tree)
    module = ModuleSummaries(index, ImportTable(index.imports))
    return {function.name: module.summary(function) for function, _ in index.functions}


def test_a_function_returning_a_socket_it_created_is_a_factory() -> None:
    found = summaries(
        """
        def dial(addr):
            s = socket.socket(socket.AF_INET, socket.SOCK_DGRAM)
            if not addr:
                return None
            s.connect(addr)
            return s

        def both():
            return socket.socketpair()

        def accepted(srv):
            conn, peer = srv.accept()
            return conn, peer
        """
    )
    made = found["dial"].returns
    assert made is not None and made.type.value == "dgram" and made.slots == ()
    assert found["both"].returns is not None and found["both"].returns.slots == (True, True)
    assert found["accepted"].returns is not None and found["accepted"].returns.slots == (True, False)


def test_a_socket_also_kept_or_closed_on_the_way_out_is_not_fresh() -> None:
    found = summaries(
        """
        class C:
            def keep(self):
                s = socket.create_connection(("h", 1))
                self.s = s
                return s

        def closed():
            s = None
            try:
                s = socket.create_connection(("h", 1))
            finally:
                s.close()
            return s

        def gen():
            s = socket.socket()
            yield s
            return s

        def cleaned(stack):
            s = socket.socket()
            stack.callback(s.close)
            return s
        """
    )
    assert found["keep"].returns is None
    assert found["closed"].returns is None
    assert found["gen"].returns is None
    assert found["cleaned"].returns is None  # the cleanup it was handed to closes it, not the caller


def test_factories_of_factories_and_async_writers() -> None:
    found = summaries(
        """
        def inner():
            return socket.create_connection(("h", 1))

        def outer():
            conn = inner()
            conn.settimeout(1)
            return conn

        async def stream(h, p):
            reader, writer = await asyncio.open_connection(h, p)
            return reader, writer
        """
    )
    assert found["outer"].returns is not None
    made = found["stream"].returns
    assert made is not None and made.kind == "writer" and made.slots == (False, True)


def test_parameters_closed_borrowed_or_kept() -> None:
    found = summaries(
        """
        def close_it(c):
            c.close()

        def shut_it(c):
            c.shutdown(socket.SHUT_RDWR)
            c.close()

        def through(c):
            close_it(c)

        def frame(c, data):
            c.sendall(data)

        def peek(c):
            c.send(b"x")

        def keep(c, pool):
            pool.append(c)

        def cleanup_later(c, stack):
            stack.callback(c.close)

        def inert(c):
            if hasattr(c, "set_inheritable"):
                c.set_inheritable(False)

        async def settle(w):
            await w.wait_closed()

        def echo_and_close(c):
            with c:
                c.sendall(c.recv(64))

        def echo_through_alias(c):
            with c as conn:
                conn.sendall(b"x")
        """
    )
    assert found["close_it"].use("c").use is Use.CLOSED
    # `with c:` closes it when the block ends; `with c as conn:` gives it another name, not followed
    assert found["echo_and_close"].use("c").use is Use.GRACEFUL and found["echo_and_close"].use("c").sends
    assert found["echo_through_alias"].use("c").use is Use.KEPT
    assert found["shut_it"].use("c").use is Use.SHUT
    assert found["through"].use("c").use is Use.CLOSED
    assert found["frame"].use("c").sends is Sends.STREAM and found["frame"].use("c").use is Use.BORROWED
    assert found["peek"].use("c").sends is Sends.MAYBE
    assert found["keep"].use("c").use is Use.KEPT
    assert found["cleanup_later"].use("c").use is Use.KEPT
    assert not found["inert"].use("c").raises and found["frame"].use("c").raises
    assert found["settle"].use("w").waits


def test_recursion_is_cut_off_and_methods_resolve_through_module_bases() -> None:
    found = summaries(
        """
        def loop(c, n):
            if n:
                loop(c, n - 1)
            c.close()

        class Base:
            def close_request(self, request):
                request.close()

        class Server(Base):
            def finish(self, request):
                self.close_request(request)
        """
    )
    assert found["loop"].use("c").use is Use.KEPT  # the recursive call is unknown while it is computed
    assert found["finish"].use("request").use is Use.CLOSED


def test_a_socket_over_an_adopted_descriptor_is_made_one_over_a_borrowed_one_is_not() -> None:
    found = summaries(
        """
        import os

        def inherited(text):
            return socket.socket(fileno=int(text))

        def duplicated(fd):
            return socket.socket(socket.AF_UNIX, socket.SOCK_STREAM, 0, os.dup(fd))

        def borrowed(conn):
            return socket.socket(fileno=conn.fileno())

        def given(fd):
            return socket.socket(fileno=fd)
        """
    )
    assert found["inherited"].returns is not None
    made = found["duplicated"].returns
    assert made is not None and made.family.value == "unix"
    assert found["borrowed"].returns is None and found["given"].returns is None


def test_an_async_function_returning_an_awaited_accept_is_a_factory() -> None:
    found = summaries(
        """
        async def next_client(loop, srv):
            conn, _ = await loop.sock_accept(srv)
            return conn

        async def next_stream(listener):
            return await listener.accept()
        """
    )
    made = found["next_client"].returns
    assert made is not None and made.slots == () and made.role.value == "connected"
    pair = found["next_stream"].returns  # a (connection, address) pair only where the caller unpacks it
    assert pair is not None and pair.slots == (True, False)


def test_a_method_sends_on_the_attributes_it_or_its_callees_sendall_on() -> None:
    found = summaries(
        """
        def push(sock, data):
            sock.sendall(data)

        class Conn:
            def _frame(self, data):
                self.sock.sendall(data)

            def goodbye(self):
                self._frame(b"bye")

            def relay(self):
                push(self.peer, b"x")

            def notify(self):
                self.pipe.send(b"x")
                self.ctl.close()

            def quit(self):
                sock = self.sock
                sock.sendfile(open("f", "rb"))
                sock.close()
        """
    )
    assert found["_frame"].sends_attributes == {"sock"}
    assert found["goodbye"].sends_attributes == {"sock"}  # through another method of the class
    assert found["relay"].sends_attributes == {"peer"}  # through a function of the module
    assert found["notify"].sends_attributes == frozenset()  # `send` alone proves no stream socket
    assert found["quit"].sends_attributes == {"sock"} and found["quit"].closes_attributes == {"sock"}


def test_a_send_whose_count_advances_a_buffer_sends_on_a_stream() -> None:
    found = summaries(
        """
        def write_all(c, data):
            while data:
                n = c.send(data)
                data = data[n:]

        def post(c, item):
            c.send(item)

        class Link:
            def push(self, data):
                self.offset += self.sock.send(data[self.offset :])
                self.chan.send(data)
        """
    )
    assert found["write_all"].use("c").sends is Sends.STREAM
    assert found["post"].use("c").sends is Sends.MAYBE
    assert found["push"].sends_attributes == set()  # see Summary.sends_attributes


def test_a_function_returning_its_parameter_on_every_path_passes_it_through() -> None:
    found = summaries(
        """
        def tune(sock, level):
            if level:
                sock.setsockopt(socket.SOL_SOCKET, socket.SO_RCVBUF, level)
                return sock
            sock.setblocking(False)
            return sock

        def quiet(sock):
            sock.settimeout(None)
            return sock

        def sometimes(sock, keep):
            if keep:
                return sock

        def stores(sock, registry):
            registry.append(sock)
            return sock

        def closes(sock):
            sock.close()
            return sock

        def other(sock, spare):
            return spare

        def generator(sock):
            yield sock
            return sock
        """
    )
    passes = found["tune"].passes
    assert passes is not None and passes[0] == "sock" and passes[1].use is Use.BORROWED and passes[1].raises
    assert found["tune"].use("sock").use is Use.KEPT  # a caller that does not bind the result hands it off
    quiet = found["quiet"].passes
    assert quiet is not None and not quiet[1].raises
    other = found["other"].passes
    assert other is not None and other[0] == "spare"
    for name in ("sometimes", "stores", "closes", "generator"):
        assert found[name].passes is None, name


def test_every_use_of_a_parameter_counts_whatever_its_order() -> None:
    found = summaries(
        """
        def finish(c, data):
            c.sendall(data)
            c.shutdown(socket.SHUT_WR)
            c.close()

        def close_and_report(c):
            c.close()
            print("closed", c)
        """
    )
    assert found["finish"].use("c").use is Use.SHUT  # a call after the shutdown does not undo it
    assert found["close_and_report"].use("c").use is Use.CLOSED  # a use after the close does not hide it


def test_a_socket_also_registered_after_a_method_call_is_not_fresh() -> None:
    found = summaries(
        """
        def tracked(registry):
            s = socket.socket()
            s.settimeout(5.0)
            registry.append(s)
            return s

        def tracked_late(registry):
            s = socket.socket()
            registry.append(s)
            s.settimeout(5.0)
            return s
        """
    )
    assert found["tracked"].returns is None and found["tracked_late"].returns is None


def test_a_static_method_calls_its_first_parameter_not_the_class() -> None:
    tree = ast.parse(
        textwrap.dedent(
            """
            class Pipe:
                @staticmethod
                def finish(conn):
                    conn.close()

                def close(self):
                    self.close()
            """
        )
    )
    index = index_module(tree)
    module = ModuleSummaries(index, ImportTable(index.imports))
    finish, close = (function for function, _ in index.functions)
    assert module.callee(next(n for n in ast.walk(finish) if isinstance(n, ast.Call)), finish) is None
    resolved = module.callee(next(n for n in ast.walk(close) if isinstance(n, ast.Call)), close)
    assert resolved is not None and resolved[0] is close


def test_a_close_in_an_except_only_is_no_close_helper() -> None:
    found = summaries(
        """
        def on_failure(c, data):
            try:
                c.sendall(data)
            except OSError:
                c.close()
                raise

        def always(c, data):
            try:
                c.sendall(data)
            finally:
                c.close()
        """
    )
    failing = found["on_failure"].use("c")
    assert failing.use is Use.BORROWED and failing.raises and failing.sends is Sends.STREAM
    assert found["always"].use("c").use is Use.CLOSED


def test_a_function_reading_a_whole_reply_of_known_length_answers_its_parameter() -> None:
    found = summaries(
        """
        def exactly(s, n):
            buf = b""
            while len(buf) < n:
                part = s.recv(n - len(buf))
                if not part:
                    raise EOFError
                buf += part
            return buf

        def framed(s):
            size = int.from_bytes(exactly(s, 4), "big")
            return exactly(s, size)

        def waitall(s):
            return s.recv(8, socket.MSG_WAITALL)

        def looped(s, n):
            for _ in range(n):
                exactly(s, 4)

        def through_file(s, n):
            f = s.makefile("rb")
            head = exactly(s, n)
            return head, f.read(16)

        def bounded(s):
            return s.recv(512)
        """
    )
    assert [name for name, summary in found.items() if summary.use("s").answers] == ["exactly", "framed", "waitall"]
    assert found["bounded"].use("s").reads and found["looped"].use("s").reads
