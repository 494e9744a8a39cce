"""Unit tests of the class model, and of the walk of methods that reads it."""

from __future__ import annotations

import ast
import textwrap

from closelint.analysis import factories as F
from closelint.analysis.applicability import _plain_creation
from closelint.analysis.classes import ClassModel, ModuleClasses, is_setup_method
from closelint.analysis.flow import ScopeFacts
from closelint.analysis.module import analyse
from closelint.analysis.names import ImportTable
from closelint.analysis.reads import partial_sends
from closelint.analysis.scopes import index_module
from closelint.analysis.summaries import ModuleSummaries, Sends


def model(source: str, name: str) -> ClassModel:
    tree = ast.parse("import socket\n" + textwrap.dedent(source))
    index = index_module(tree)
    imports = ImportTable(index.imports)
    classes = ModuleClasses(index, imports, ModuleSummaries(index, imports))
    return classes.model(next(c for c in index.classes if c.name == name))


def method(source: str, name: str) -> ScopeFacts:
    text = "import socket\n" + textwrap.dedent(source)
    facts = analyse(ast.parse(text), text)
    return next(s for s in facts.scopes if getattr(s.node, "name", "") == name)


def test_members_record_creation_sends_reads_and_listening() -> None:
    found = model(
        """
        class C:
            def __init__(self, port):
                self.udp = socket.socket(socket.AF_INET, socket.SOCK_DGRAM)
                self.srv = socket.create_server(("", port))
                self.up, self.down = socket.socketpair()

            def push(self, data):
                conn = self.out
                conn.sendall(data)
                self.srv.accept()
                self.down.recv(1)
        """,
        "C",
    ).members
    assert found["udp"].type is F.SockType.DGRAM and found["udp"].created
    assert found["srv"].role is F.Role.LISTENING
    assert found["up"].family is F.Family.UNIX and found["down"].reads
    assert found["out"].sent and not found["out"].created  # through the local alias
    assert found["srv"].listening


def test_members_come_from_module_bases_and_helpers() -> None:
    found = model(
        """
        def send_frame(sock, data):
            sock.sendall(data)

        class Base:
            def write(self, data):
                send_frame(self.conn, data)

        class Child(Base):
            def __init__(self, listener):
                self.conn, _ = listener.accept()
        """,
        "Child",
    ).members
    assert found["conn"].accepted and found["conn"].sent


def test_a_client_that_reads_its_replies_has_nothing_left_to_lose() -> None:
    found = model(
        """
        class C:
            def call(self, data):
                self.sock.sendall(data)
                return self.sock.recv(100)
        """,
        "C",
    ).members
    assert not found["sock"].sent


def test_setup_methods() -> None:
    assert all(is_setup_method(n) for n in ("__init__", "connect", "_open_socket", "reconnect", "start"))
    assert not any(is_setup_method(n) for n in ("send", "close", "run", "startup_banner"))


def test_a_constructor_keeps_what_it_stores_on_normal_paths_only() -> None:
    facts = method(
        """
        class C:
            def __init__(self, addr):
                self.sock = socket.create_connection(addr)
                self.sock.sendall(b"hi")
        """,
        "__init__",
    )
    assert not facts.normal_leaks and facts.exceptional_leaks


def test_teardown_of_a_member_the_class_sends_on_has_sent() -> None:
    facts = method(
        """
        class C:
            def __init__(self, addr):
                self.sock = socket.create_connection(addr)

            def send(self, data):
                self.sock.sendall(data)

            def close(self):
                self.sock.close()
        """,
        "close",
    )
    (site,) = facts.closes.values()
    assert all(f.sent for f in site.facts) and site.resource.type is F.SockType.STREAM


def test_a_socket_built_in_a_local_keeps_its_kind_when_stored() -> None:
    found = model(
        """
        class C:
            def __init__(self, path):
                unix = socket.socket(socket.AF_UNIX)
                self.unix = unix
                udp = socket.socket(type=socket.SOCK_DGRAM)
                self.udp = udp
                left, right = socket.socketpair()
                self.left, self.right = left, right
                tcp = socket.create_connection(path)
                self.tcp = tcp
        """,
        "C",
    )
    kinds = {attr: (m.family, m.type, m.created) for attr, m in found.members.items()}
    assert kinds == {
        "unix": (F.Family.UNIX, F.SockType.STREAM, True),
        "udp": (F.Family.INET, F.SockType.DGRAM, True),
        "left": (F.Family.UNIX, F.SockType.STREAM, True),
        "right": (F.Family.UNIX, F.SockType.STREAM, True),
        "tcp": (F.Family.INET, F.SockType.STREAM, True),
    }


def test_a_unix_or_datagram_socket_is_never_proven_plain_for_a_safe_fix() -> None:
    text = "import socket\nunix = socket.socket(socket.AF_UNIX)\nudp = socket.socket(type=socket.SOCK_DGRAM)\n"
    text += "tcp = socket.socket(socket.AF_INET)\n"
    facts = analyse(ast.parse(text), text)
    values = {s.targets[0].id: s.value for s in facts.tree.body if isinstance(s, ast.Assign)}  # type: ignore[union-attr]
    plain = {name: _plain_creation(value, facts) for name, value in values.items()}
    assert plain == {"unix": False, "udp": False, "tcp": True}


def test_waits_for_a_writer_count_in_the_class_its_bases_and_subclasses_only() -> None:
    text = textwrap.dedent(
        """
        import asyncio

        class Base:
            async def finish(self):
                await self.w.wait_closed()

        class Sub(Base):
            def __init__(self, w: asyncio.StreamWriter):
                self.w = w

            def close(self):
                self.w.close()

        class Own:
            def close(self):
                self.w.close()

        class Other:
            async def finish(self):
                await self.other.wait_closed()
        """
    )
    facts = analyse(ast.parse(text), text)
    by_name = {c.name: c for c in facts.tree.body if isinstance(c, ast.ClassDef)}
    waited = {name: facts.waited_attributes(cls) for name, cls in by_name.items()}
    assert waited == {"Base": {"w"}, "Sub": {"w"}, "Own": set(), "Other": {"other"}}
    assert facts.waited_attributes(None) == {"w", "other"}


def test_outside_every_class_a_wait_or_close_counts_for_the_class_its_object_is_typed_to() -> None:
    text = textwrap.dedent(
        """
        import asyncio
        import socket
        import sys

        class Peer:
            def __init__(self, w: asyncio.StreamWriter, host):
                self.w = w
                self.sock = socket.create_connection((host, 1))

        class Stranger:
            def __init__(self, host):
                self.sock = socket.create_connection((host, 1))

        if sys.platform:
            class Shadow:
                def __init__(self, host):
                    self.sock = socket.create_connection((host, 1))

                def close(self):
                    self.sock.close()

        async def typed(p: "Peer | None", anything):
            await p.w.wait_closed()
            await anything.w.wait_closed()

        def untyped(anything):
            anything.sock.close()

        def shadowed(p: Peer):
            def inner(p):
                p.sock.close()

        s = Stranger("h")
        s.sock.close()
        """
    )
    facts = analyse(ast.parse(text), text)
    classes = {c.name: c for c in ast.walk(facts.tree) if isinstance(c, ast.ClassDef)}
    assert {name: facts.waited_attributes(cls) for name, cls in classes.items()} == {
        "Peer": {"w"},
        "Stranger": set(),
        "Shadow": set(),
    }
    peer_socket = classes["Peer"].body[0].body[1]  # type: ignore[attr-defined]
    assert [(attr, r.node.lineno) for attr, r in facts.unclosed_attributes] == [("sock", peer_socket.lineno)]


def test_writer_members_come_through_locals_and_quoted_annotations() -> None:
    text = textwrap.dedent(
        """
        import asyncio

        class C:
            def __init__(self, quoted: "asyncio.StreamWriter", broken: "asyncio.(", other: "asyncio.StreamReader"):
                self.quoted, self.broken, self.other = quoted, broken, other
                self.q2 = quoted

            async def dial(self, host, port):
                reader, writer = await asyncio.open_connection(host, port)
                self.reader = reader
                self.writer = writer

            def close(self):
                self.q2.close()
                self.writer.close()
                self.reader.close()
                self.broken.close()
                self.other.close()
        """
    )
    facts = analyse(ast.parse(text), text)
    (close,) = (s for s in facts.scopes if getattr(s.node, "name", "") == "close")
    closed = {ast.unparse(c.func.value) for c in close.unawaited if isinstance(c.func, ast.Attribute)}
    assert closed == {"self.q2", "self.writer"}


def test_writes_to_a_writable_makefile_are_sends_on_its_socket() -> None:
    found = model(
        """
        class C:
            def push(self, data):
                self.wfile.write(data)
                self.rfile.write(data)

            def __init__(self, addr):
                self.sock = socket.create_connection(addr)
                self.wfile = self.sock.makefile("wb")
                self.other = socket.create_connection(addr)
                self.rfile = self.other.makefile()
        """,
        "C",
    )
    assert found.files == {"wfile": "sock"}
    sock, other = found.members["sock"], found.members["other"]
    assert (sock.sends, sock.reads, sock.sent) == (Sends.STREAM, False, True)
    assert (other.sends, other.reads, other.sent) == (Sends.NO, True, False)


def test_a_send_whose_count_advances_a_buffer_is_a_stream_send() -> None:
    found = model(
        """
        class C:
            def __init__(self, a, b, c, d):
                self.a, self.b, self.c, self.d = a, b, c, d

            def push(self, data):
                n = self.a.send(data)
                data = data[n:]
                sock = self.b
                self.offset += sock.send(data)
                receipt = self.c.send(data)
                print(receipt)
                self.d.send(data)
        """,
        "C",
    ).members
    assert [found[name].sends for name in "abcd"] == [Sends.STREAM, Sends.STREAM, Sends.MAYBE, Sends.MAYBE]
    assert found["a"].sent and found["a"].is_socket and not found["c"].is_socket


def test_both_ends_of_a_pair_built_over_loopback_are_paired() -> None:
    found = model(
        """
        class C:
            def __init__(self, upstream):
                lst = socket.create_server(("127.0.0.1", 0))
                host, port = lst.getsockname()
                w = socket.socket()
                w.connect((host, port))
                self.w = w
                self.r, _ = lst.accept()
                self.s = socket.create_connection(lst.getsockname())
                self.far = socket.create_connection((host, 80))  # the host alone names no socket
                self.near = socket.create_connection(("localhost", lst.getsockname()[1]))
                self.other = socket.create_connection((lst.getsockname()[0], 80))
                self.peer = socket.create_connection(upstream.getpeername())
                self.client, _ = self.srv.accept()
                with socket.socket() as lst2:
                    lst2.bind(("127.0.0.1", 0))
                    lst2.listen()
                    self.u = socket.create_connection(lst2.getsockname())

            def serve(self):
                self.srv = socket.create_server(("", 0))
                self.t = socket.socket()
                self.t.connect(self.srv.getsockname())  # a listener of another method: not this pair
        """,
        "C",
    ).members
    roles = {name: found[name].role for name in ("w", "r", "s", "u", "far", "near", "other", "peer", "client", "t")}
    assert roles == {
        "w": F.Role.PAIRED,
        "r": F.Role.PAIRED,
        "s": F.Role.PAIRED,
        "u": F.Role.PAIRED,
        "far": F.Role.CONNECTED,
        "near": F.Role.PAIRED,
        "other": F.Role.CONNECTED,
        "peer": F.Role.CONNECTED,
        "client": F.Role.CONNECTED,
        "t": F.Role.UNKNOWN,
    }


def test_partial_sends_are_sends_whose_count_advances_a_buffer() -> None:
    body = ast.parse(
        textwrap.dedent(
            """
            n = s.send(buf)
            buf = buf[n:]
            m = s.send(buf)
            del rest[:m]
            total += s.send(buf)
            k = s.send(buf)
            print(k, buf[:4])
            j = s.sendall(buf)
            buf = buf[j:]

            def inner():
                q = s.send(buf)
                buf = buf[q:]
            """
        )
    ).body
    calls = sorted(call.lineno for call in partial_sends(body))
    assert calls == [2, 4, 6]


def test_methods_record_whether_running_them_may_raise() -> None:
    found = model(
        """
        class Base:
            def hook(self):
                raise NotImplementedError

            def quiet(self):
                self.n = 0

        class C(Base):
            def quiet(self):
                self.log.debug("reset %s", len(self.items))

            def guarded(self):
                try:
                    self.hook()
                except Exception:
                    pass

            async def pause(self):
                await self.event.wait()

            def configure(self, name):
                self.name = name.encode("ascii")

            def later(self):
                def run():
                    raise RuntimeError
                self.run = run
        """,
        "C",
    )
    assert found.methods == {
        "quiet": False,  # the override wins over the base's
        "guarded": False,
        "pause": True,
        "configure": True,
        "later": False,  # a nested function is defined, not run
        "hook": True,
    }
    assert found.method_may_fail("inherited_from_elsewhere") is None


def test_a_method_of_the_object_between_accept_and_hand_off_may_raise() -> None:
    facts = method(
        """
        class Server:
            def accept(self):
                conn, _ = self.sock.accept()
                self.log_state()
                self.configure()
                self.child = conn

            def log_state(self):
                print(self.sock)

            def configure(self):
                self.opts = dict(self.defaults)
        """,
        "accept",
    )
    assert facts.exceptional_leaks and not facts.normal_leaks


def test_a_chained_assignment_stores_one_socket_under_every_attribute() -> None:
    found = model(
        """
        class C:
            def __init__(self):
                self.outs = self.ins = socket.socket(socket.AF_INET, socket.SOCK_DGRAM)

            def close(self):
                self.ins.close()
        """,
        "C",
    ).members
    assert {attr: (m.type, m.created) for attr, m in found.items()} == {
        "outs": (F.SockType.DGRAM, True),
        "ins": (F.SockType.DGRAM, True),
    }
    facts = method(
        """
        class C:
            def __init__(self, ttl):
                self.outs = self.ins = socket.socket(socket.AF_INET, socket.SOCK_RAW)
                self.ins.setsockopt(socket.IPPROTO_IP, socket.IP_TTL, ttl)
        """,
        "__init__",
    )
    (resource,) = facts.resources
    assert {attr for attr, _ in facts.stored_on_self} == {"outs", "ins"}
    assert facts.exceptional_leaks == {resource.rid} and not facts.normal_leaks


def test_a_read_side_shutdown_in_teardown_counts_what_the_class_sends_although_it_reads() -> None:
    source = """
        class C:
            def push(self, frame):
                self.sock.sendall(frame)

            def pull(self):
                return self.sock.recv(4096)

            def close(self):
                self.sock.shutdown(socket.SHUT_{how})
                self.sock.close()
        """
    member = model(source.format(how="RDWR"), "C").members["sock"]
    assert member.sends_on_stream and member.reads and not member.sent
    sent = {}
    for how in ("RDWR", "RD", "WR"):
        (site,) = method(source.format(how=how), "close").closes.values()
        sent[how] = all(f.sent for f in site.facts)
    assert sent == {"RDWR": True, "RD": True, "WR": False}


def test_writer_members_come_from_annotations_of_the_attribute() -> None:
    text = textwrap.dedent(
        """
        import asyncio
        from dataclasses import dataclass

        @dataclass
        class Wrapper:
            stream: asyncio.StreamWriter
            reader: asyncio.StreamReader
            count: int = 0

            def attach(self, w):
                self.extra: "asyncio.StreamWriter" = w
                self.plain: int = 0

            async def aclose(self):
                self.stream.close()
                self.extra.close()
                self.reader.close()
                self.plain.close()
        """
    )
    facts = analyse(ast.parse(text), text)
    (close,) = (s for s in facts.scopes if getattr(s.node, "name", "") == "aclose")
    closed = {ast.unparse(c.func.value) for c in close.unawaited if isinstance(c.func, ast.Attribute)}
    assert closed == {"self.stream", "self.extra"}


def test_an_attribute_first_used_while_an_exception_propagates_is_on_that_path_only() -> None:
    facts = method(
        """
        import sys

        class Handler:
            def __init__(self, address):
                self.sock = socket.create_connection(address)

            def push(self, data):
                self.sock.sendall(data)

            def handle(self):
                try:
                    self.step()
                finally:
                    if sys.exc_info()[1] is not None:
                        self.sock.close()
        """,
        "handle",
    )
    assert not facts.closes  # no normal path reaches the close: nothing for CL201 to judge


def test_a_socket_handed_to_another_object_may_be_read_there() -> None:
    found = model(
        """
        import logging, selectors, ssl

        class C:
            def request(self, data):
                self.sock.sendall(data)
                self.tls.sendall(data)
                return Response(self.sock)

            def setup(self, selector, ctx):
                selector.register(self.tls, selectors.EVENT_READ)
                self.tls = ctx.wrap_socket(self.tls)
                logging.debug("%s", self.tls)
        """,
        "C",
    ).members
    assert found["sock"].handed and not found["sock"].sent
    assert not found["tls"].handed and found["tls"].sent


def test_every_wait_closed_call_of_a_class_is_listed_with_its_call() -> None:
    text = textwrap.dedent(
        """
        import asyncio
        from typing import Optional

        class Conn:
            def __init__(self):
                self.w: Optional[asyncio.StreamWriter] = None

            async def stop(self, nowait=False):
                self.w.close()
                if not nowait:
                    await self.w.wait_closed()

            async def close(self):
                self.w.close()
                await self.w.wait_closed()
        """
    )
    facts = analyse(ast.parse(text), text)
    (cls,) = [c for c in facts.tree.body if isinstance(c, ast.ClassDef)]
    assert facts.waited_attributes(cls) == {"w"}
    assert sorted(call.lineno for _, call in facts.wait_closed_calls(cls)) == [12, 16]  # the rule tells them apart


def test_base_closes_names_what_a_standard_library_base_closes() -> None:
    source = """
        import http.client as hc
        from compat import httplib
        import ftplib

        class Local:
            def close(self):
                self.log.flush()
                super().close()

        class Tunnel(Local, hc.HTTPSConnection):
            pass

        class Reexported(httplib.HTTPConnection):
            pass

        class Files(ftplib.FTP):
            pass

        class Other(hc.HTTPResponse, Local):
            pass

        class Leaf(Tunnel):
            pass

        class OwnTeardown(hc.HTTPConnection):
            def close(self):
                self.flush()

        class PoliteTeardown(hc.HTTPConnection):
            def close(self):
                super().close()
        """
    assert model(source, "Tunnel").base_closes == {"sock"}
    assert model(source, "Reexported").base_closes == {"sock"}
    assert model(source, "Files").base_closes == {"sock"}
    assert model(source, "Leaf").base_closes == {"sock"}  # through a base of the module
    assert model(source, "Other").base_closes == frozenset()  # only the classes of factories.CLOSING_BASES
    assert model(source, "OwnTeardown").base_closes == frozenset()  # its close() never runs the base's
    assert model(source, "PoliteTeardown").base_closes == {"sock"}
    assert F.closing_base("six.moves.http_client.HTTPConnection") == {"sock"}
    assert F.closing_base("http.client.HTTPConnectionPool") == frozenset()


def test_a_connect_hook_hands_an_attribute_the_base_closes_to_the_object() -> None:
    source = """
        import http.client

        class Unix(http.client.HTTPConnection):
            def __init__(self, path):
                super().__init__("localhost")
                self.sock = socket.socket(socket.AF_UNIX)
                self.sock.connect(path)

            def connect(self):
                self.sock = socket.socket(socket.AF_UNIX)
                self.spare = socket.socket(socket.AF_UNIX)
                self.sock.connect(self.host)
                self.spare.connect(self.host)
        """
    assert {r.name for r in method(source, "__init__").resources} == {"self.sock"}
    connect = method(source, "connect")
    names = {r.rid: r.name for r in connect.resources}
    assert sorted(names[rid] for rid in connect.exceptional_leaks) == ["self.spare"]


def test_writer_members_come_from_writes_and_awaited_drains() -> None:
    text = textwrap.dedent(
        """
        import asyncio

        class Pump:
            def __init__(self, out, log, spare):
                self.out, self.log, self.spare = out, log, spare

            async def push(self, data):
                self.out.write(data)
                self.log.write(data)
                await asyncio.wait_for(self.out.drain(), 1)
                self.spare.drain()

            @staticmethod
            async def unrelated(self):
                self.spare.write(b"")
                await self.spare.drain()

            async def aclose(self):
                self.out.close()
                self.log.close()
                self.spare.close()
        """
    )
    facts = analyse(ast.parse(text), text)
    (close,) = (s for s in facts.scopes if getattr(s.node, "name", "") == "aclose")
    closed = {ast.unparse(c.func.value) for c in close.unawaited if isinstance(c.func, ast.Attribute)}
    assert closed == {"self.out"}  # log is never drained; spare's drain is not awaited, or not on `self`


def test_members_come_from_every_generation_of_module_bases() -> None:
    found = model(
        """
        class Transport:
            def open(self, address):
                self.sock = socket.create_connection(address)

        class Framed(Transport):
            pass

        class Client(Framed):
            def send(self, data):
                self.sock.sendall(data)
        """,
        "Client",
    ).members
    assert found["sock"].created and found["sock"].sends_on_stream  # from the grandparent, and its own send
