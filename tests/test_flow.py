"""Unit tests of the lifetime analysis core: the state algebra and the walk's facts on small scopes."""

from __future__ import annotations

import ast
import functools
import textwrap

import pytest

from closelint.analysis.budget import TooComplex, WorkBudget
from closelint.analysis.flow import ScopeFacts
from closelint.analysis.module import analyse, mention_lines
from closelint.analysis.state import EMPTY, FALSY, Facts, Life, State, merge, to_closed
from closelint.config import Settings
from closelint.engine import lint_source


def scope(source: str) -> ScopeFacts:
    """The facts of the first function in `source`."""
    text = "import socket\n" + textwrap.dedent(source)
    facts = analyse(ast.parse(text), text)
    return next(s for s in facts.scopes if isinstance(s.node, ast.FunctionDef))


def leaks(source: str) -> tuple[set[str], set[str]]:
    """(names leaked on a normal path, names leaked only on an exceptional one)."""
    facts = scope(source)
    names = {r.rid: r.name for r in facts.resources}
    normal = {names[rid] for rid in facts.normal_leaks}
    return normal, {names[rid] for rid in facts.exceptional_leaks} - normal


def test_born_alias_and_close_follow_the_names() -> None:
    state = EMPTY.born(1, "s").alias("t", ["s"])
    assert state.rids("t") == {1}
    closed = state.update_name("t", to_closed)
    assert {f.life for f in closed.facts[1]} == {Life.CLOSED}
    assert state.alias("s").rids("s") == frozenset()


def test_merge_keeps_each_path_and_absent_sockets() -> None:
    opened = EMPTY.born(1, "s")
    merged = merge([opened, EMPTY])
    assert merged is not None
    assert {f.life for f in merged.facts[1]} == {Life.OPEN, Life.ABSENT}
    assert merge([None, None]) is None


def test_given_drops_paths_a_flag_rules_out() -> None:
    state = State({1: frozenset({Facts(Life.OPEN, flags=frozenset({("ok", False)}))})})
    test = ast.parse("ok", mode="eval").body
    assert state.given(test, True) is None
    assert state.given(test, False) is not None
    truthy = State({}, {"x": frozenset({FALSY})})
    assert truthy.given(ast.parse("not x", mode="eval").body, False) is None


def test_early_return_is_a_normal_leak() -> None:
    assert leaks(
        """
        def f(a):
            s = socket.create_connection(a)
            if s.recv(1) == b"":
                return None
            s.close()
        """
    ) == ({"s"}, set())


def test_exception_before_close_is_an_exceptional_leak_and_finally_fixes_it() -> None:
    assert leaks("def f(a):\n    s = socket.create_connection(a)\n    s.sendall(b'x')\n    s.close()\n") == (
        set(),
        {"s"},
    )
    assert leaks(
        "def f(a):\n    s = socket.create_connection(a)\n    try:\n        s.sendall(b'x')\n"
        "    finally:\n        s.close()\n"
    ) == (set(), set())


def test_flag_pattern_closes_exactly_where_needed() -> None:
    assert leaks(
        """
        def f(a):
            s = socket.socket()
            ok = False
            try:
                s.connect(a)
                ok = True
            finally:
                if not ok:
                    s.close()
            return s
        """
    ) == (set(), set())


def test_escapes_end_ownership() -> None:
    for handoff in ("return s", "self.s = s", "pool.append(s)", "cb = lambda: s", "s.detach()"):
        assert leaks(f"def f(self, pool, a):\n    s = socket.socket()\n    {handoff}\n") == (set(), set()), handoff


def test_close_sites_carry_what_was_sent_shut_and_drained() -> None:
    facts = scope(
        """
        def f(a):
            s = socket.create_connection(a)
            s.sendall(b"x")
            s.shutdown(socket.SHUT_WR)
            while s.recv(4096):
                pass
            s.close()
        """
    )
    (site,) = facts.closes.values()
    assert {(f.sent, f.shut, f.drained) for f in site.facts} == {(True, True, True)}


def test_writer_close_without_wait_is_pending_at_the_end() -> None:
    text = "import asyncio\n\nasync def f(h, p):\n    r, w = await asyncio.open_connection(h, p)\n    w.close()\n"
    facts = analyse(ast.parse(text), text)
    (walked,) = [s for s in facts.scopes if isinstance(s.node, ast.AsyncFunctionDef)]
    assert len(walked.unawaited) == 1


def test_a_writer_never_closed_is_named_by_its_variable_or_as_writer() -> None:
    def messages(body: str) -> list[str]:
        text = f"import asyncio\n\nasync def f(h, p):\n    {body}\n"
        return [v.message for v in lint_source(text, "m.py", Settings(select=("CL502",))).violations]

    named, unnamed = "_, upstream = await asyncio.open_connection(h, p)", "await asyncio.open_connection(h, p)"
    assert [m.split("' is never closed")[0] for m in messages(named) + messages(unnamed)] == [
        "StreamWriter 'upstream",
        "StreamWriter 'writer",
    ]


def async_scope(source: str) -> ScopeFacts:
    """The facts of the first `async def` in `source`."""
    text = "import asyncio\n" + textwrap.dedent(source)
    facts = analyse(ast.parse(text), text)
    return next(s for s in facts.scopes if isinstance(s.node, ast.AsyncFunctionDef))


def test_a_failing_test_ends_the_path_and_an_expected_raise_goes_on_normally() -> None:
    method = "class {cls}:\n    def {name}(self, a):\n        s = socket.create_connection(a)\n        self.fail()\n"
    assert leaks(method.format(cls="T(unittest.TestCase)", name="test_refused")) == (set(), set())
    assert leaks(method.format(cls="T(unittest.TestCase)", name="assert_refused")) == (set(), set())
    assert leaks(method.format(cls="RefusedTests", name="check")) == (set(), set())  # a test mixin
    # a class that is no test case: its fail() returns, and the socket leaks after it, test* method or not
    assert leaks(method.format(cls="T", name="abort")) == ({"s"}, set())
    assert leaks(method.format(cls="Machine", name="test_link")) == ({"s"}, set())
    assert leaks("def test_f(a):\n    s = socket.create_connection(a)\n    pytest.fail()\n") == ({"s"}, set())
    assert leaks("import pytest\ndef test_f(a):\n    s = socket.create_connection(a)\n    pytest.fail()\n") == (
        set(),
        set(),
    )
    # the block raises where the accept times out: no connection, and the listener's path stays normal
    assert leaks(
        """
        def test_timeout():
            srv = socket.create_server(("", 0))
            with pytest.raises(TimeoutError):
                conn, _ = srv.accept()
        """
    ) == ({"srv"}, set())
    # nothing in the block is seen to raise (an attribute read): its end is kept, and the test goes on
    assert leaks("def test_f():\n    s = socket.socket()\n    with pytest.raises(AttributeError):\n        s.x\n") == (
        {"s"},
        set(),
    )


def test_a_loop_the_assignments_before_it_make_run_has_no_zero_iteration_path() -> None:
    body = "    while {test}:\n        s.close()\n        return None\n"
    runs = "def f():\n    s = socket.socket()\n    {init}\n" + body
    assert leaks(runs.format(init="err = None", test="not err")) == (set(), set())
    assert leaks(runs.format(init="n = 0", test="n < 3")) == (set(), set())
    assert leaks(runs.format(init="n = 5", test="n < 3")) == ({"s"}, set())
    assert leaks(runs.format(init="n = 'x'", test="n < 3")) == ({"s"}, set())  # not an integer: unknown


def test_a_loop_runs_out_only_on_paths_its_flags_let_it() -> None:
    source = """
        def f(a):
            s = socket.create_connection(a)
            done = False
            while not done:
                if not s.recv(1):
                    s.close()
                    done = {value}
        """
    assert leaks(source.format(value="True")) == (set(), {"s"})
    # the flag never changes: the loop only ends by an exception, and nothing after it is a path
    assert leaks(source.format(value="False")) == (set(), {"s"})


def test_a_state_machine_loop_keeps_the_paths_of_its_later_states() -> None:
    assert leaks(
        """
        def f(a):
            s = socket.create_connection(a)
            phase = 0
            while phase != 2:
                if phase == 0:
                    phase = 1
        """
    ) == ({"s"}, set())


def test_a_name_rebound_from_the_holder_of_its_socket_hands_it_off() -> None:
    loop = """
        def f(a, secure, commands):
            s = socket.socket()
            for c in commands:
                if c == 1:
                    t = secure(s)
                elif c == 2:
                    s = {value}
            s.close()
        """
    assert leaks(loop.format(value="t.unwrap()")) == (set(), set())
    assert leaks(loop.format(value="other.unwrap()")) == ({"s"}, set())


def test_unwrap_returns_the_same_socket() -> None:
    source = """
        def f(a, ctx):
            tls = ctx.wrap_socket(socket.socket())
            plain = tls.unwrap()
            plain.close()
        """
    assert leaks(source) == (set(), {"tls"})  # closed through its unwrapped name; unwrap() may raise


def test_a_writer_close_that_raised_did_not_close() -> None:
    walked = async_scope(
        """
        async def f(h, p):
            r, w = await asyncio.open_connection(h, p)
            try:
                w.close()
            except RuntimeError:
                return
            await w.wait_closed()
        """
    )
    assert walked.unawaited == []
    (writer,) = walked.resources
    assert writer.rid in walked.exceptional_leaks  # where close() raised, the writer is still open


def test_an_exception_out_of_module_code_leaks_nothing_but_a_swallowed_one_does() -> None:
    raising = "import socket\ns = socket.create_connection(('h', 1))\ns.sendall(b'x')\ns.close()\n"
    (module,) = [s for s in analyse(ast.parse(raising), raising).scopes if isinstance(s.node, ast.Module)]
    assert not module.exceptional_leaks and not module.normal_leaks
    swallowed = (
        "import socket\ns = socket.socket()\ntry:\n    s.connect(('h', 1))\nexcept OSError:\n    pass\n"
        "else:\n    s.close()\n"
    )
    (module,) = [s for s in analyse(ast.parse(swallowed), swallowed).scopes if isinstance(s.node, ast.Module)]
    assert len(module.exceptional_leaks) == 1


def test_a_read_loop_after_the_read_side_is_shut_is_no_drain() -> None:
    for how, shut in (("SHUT_RDWR", (True, True)), ("SHUT_RD", (False, True)), ("SHUT_WR", (True, False))):
        facts = scope(
            f"""
            def f(conn):
                conn.sendall(b"x")
                conn.shutdown(socket.{how})
                while conn.recv(4096):
                    pass
                conn.close()
            """
        )
        (site,) = facts.closes.values()
        assert {(f.shut, f.read_shut, f.drained) for f in site.facts} == {(*shut, how == "SHUT_WR")}, how


def test_a_nested_helper_drains_what_it_reads_to_eof_and_borrows_it() -> None:
    facts = scope(
        """
        def f(a):
            s = socket.create_connection(a)
            def drain():
                while s.recv(4096):
                    pass
            s.sendall(b"x")
            s.shutdown(socket.SHUT_WR)
            drain()
            s.close()
        """
    )
    (site,) = facts.closes.values()
    assert {f.drained for f in site.facts} == {True}
    assert facts.exceptional_leaks and not facts.normal_leaks  # borrowed, not handed off: still ours to close


def test_a_complete_reply_after_the_last_send_closes_the_loss_window() -> None:
    framed = """
        def f(a, n):
            s = socket.create_connection(a)
            s.sendall(b"GET")
            got = 0
            while got < n:
                got += len(s.recv(n - got))
            {after}
            s.close()
        """
    for after, answered in (("pass", True), ("s.sendall(b'QUIT')", False)):
        (site,) = scope(framed.format(after=after)).closes.values()
        assert {f.answered for f in site.facts} == {answered}, after
    clocked = "def f(a, t):\n    s = socket.create_connection(a)\n    s.sendall(b'x')\n"
    clocked += "    while now() < t:\n        s.recv(10)\n    s.close()\n"
    (site,) = scope(clocked).closes.values()
    assert {f.answered for f in site.facts} == {False}


def test_msg_waitall_reads_a_whole_fixed_size_reply() -> None:
    for flags, answered in (("socket.MSG_WAITALL", True), ("0", False)):
        source = f"def f(a):\n    s = socket.create_connection(a)\n    s.sendall(b'x')\n    s.recv(8, {flags})\n"
        (site,) = scope(source + "    s.close()\n").closes.values()
        assert {f.answered for f in site.facts} == {answered}, flags


def test_a_loop_over_a_nonempty_constant_range_cannot_be_skipped() -> None:
    retry = """
        def f(a):
            s = socket.socket()
            for _ in range({bounds}):
                try:
                    s.connect(a)
                    return s
                except Exception:
                    pass
            return None
        """
    assert leaks(retry.format(bounds="3")) == (set(), {"s"})
    assert leaks(retry.format(bounds="1, 4, 2")) == (set(), {"s"})
    for skippable in ("0", "n", "3, 1", "0, 5, 0"):
        assert leaks(retry.format(bounds=skippable)) == ({"s"}, set()), skippable


def test_the_statement_index_classifies_node_types_from_an_empty_cache(monkeypatch) -> None:
    """`index_module` memoises what each node type is; a fresh process starts with nothing memoised."""
    from closelint.analysis import scopes

    monkeypatch.setattr(scopes, "_ROLES", {})
    monkeypatch.setattr(scopes, "_BODY_FIELDS", {})
    tree = ast.parse(
        textwrap.dedent(
            """\
            import socket
            class Pool:
                def get(self):
                    from ssl import wrap_socket
            if socket:
                async def probe():
                    pass
            try:
                pass
            except OSError:
                def fallback():
                    pass
            """
        )
    )
    index = scopes.index_module(tree)
    assert sorted(type(node).__name__ for node in index.imports) == ["Import", "ImportFrom"]
    assert sorted((f.name, owner.name if owner else "") for f, owner in index.functions) == [
        ("fallback", ""),
        ("get", "Pool"),
        ("probe", ""),
    ]
    assert [c.name for c in index.classes] == ["Pool"]


def test_the_last_read_after_the_last_send_decides_whether_the_reply_is_complete() -> None:
    source = "def f(a):\n    s = socket.create_connection(a)\n    s.sendall(b'x')\n{reads}    s.close()\n"
    cases = (
        ("    s.recv(4, socket.MSG_WAITALL)\n    s.recv(4096)\n", False),
        ("    s.recv(4096)\n    s.recv(4, socket.MSG_WAITALL)\n", True),
        ("    f = s.makefile('rb')\n    f.read(4)\n    f.readline()\n", False),
        ("    s.recv(4, socket.MSG_WAITALL | socket.MSG_PEEK)\n", False),
    )
    for reads, answered in cases:
        (site,) = scope(source.format(reads=reads)).closes.values()
        assert {f.answered for f in site.facts} == {answered}, reads


def test_flags_are_resolved_through_the_imports() -> None:
    source = "from socket import MSG_WAITALL as {name}\n\ndef f(a):\n    s = socket.create_connection(a)\n"
    source += "    s.sendall(b'x')\n    s.recv(8, {name})\n    s.close()\n"
    (site,) = scope(source.format(name="W")).closes.values()
    assert {f.answered for f in site.facts} == {True}
    local = "def f(a, W):\n    s = socket.create_connection(a)\n    s.sendall(b'x')\n    s.recv(8, W)\n    s.close()\n"
    (site,) = scope(local).closes.values()
    assert {f.answered for f in site.facts} == {False}


def test_a_length_loop_joined_to_an_eof_test_completes_the_reply() -> None:
    source = """
        def f(a, n):
            s = socket.create_connection(a)
            s.sendall(b"x")
            buf = b""
            while {test}:
                buf += d
            s.close()
        """
    for test, answered in (("len(buf) < n and (d := s.recv(n - len(buf)))", True), ("(d := s.recv(n))", False)):
        (site,) = scope(source.format(test=test)).closes.values()
        assert {f.answered for f in site.facts} == {answered}, test


def test_a_loop_that_breaks_at_eof_is_a_bounded_drain() -> None:
    source = """
        def f(a, end):
            s = socket.create_connection(a)
            s.sendall(b"x")
            while {test}:
                {send}
                if not s.recv(4096):
                    break
            s.close()
        """
    cases = (
        ("clock() < end", "pass", True),  # left by the clock or at EOF: drained on every path
        ("clock() < end", "s.sendall(b'more')", False),  # a conversation, not a drain
        ("len(buf) < end", "buf = s.recv(end)", False),  # a framed read: complete, but not drained
    )
    for test, send, drained in cases:
        (site,) = scope(source.format(test=test, send=send)).closes.values()
        assert all(f.drained for f in site.facts) is drained, (test, send)


def test_shutdown_how_is_followed_through_names_whose_bindings_agree() -> None:
    source = "{module}\ndef f(a):\n    s = socket.create_connection(a)\n    s.shutdown(HOW)\n    s.close()\n"
    cases = (
        ("HOW = socket.SHUT_RDWR", {(True, True)}),
        ("HOW = 0", {(False, True)}),
        ("HOW = socket.SHUT_WR\nif x:\n    HOW = socket.SHUT_RD", {(False, False)}),  # not provable
        ("", {(False, False)}),  # bound nowhere in the module
    )
    for module, sides in cases:
        (site,) = scope(source.format(module=module)).closes.values()
        assert {(f.shut, f.read_shut) for f in site.facts} == sides, module


def test_a_handler_runs_for_failures_no_followed_socket_takes_part_in() -> None:
    fallback = """
        def f(a):
            try:
                s = socket.socket(socket.AF_INET6)
            except OSError:
                s = socket.socket()
            s.connect(a)
            s.close()
        """
    facts = scope(fallback)
    assert [r.node.lineno for r in facts.resources] == [5, 7]  # the handler's socket is followed
    assert {r.node.lineno for r in facts.resources if r.rid in facts.exceptional_leaks} == {5, 7}
    # a socket opened before the `try` is not judged on the path of a failure it takes no part in
    assert leaks(
        """
        def f(a, table):
            s = socket.create_connection(a)
            try:
                key = table["k"]
            except KeyError:
                return None
            s.close()
            return key
        """
    ) == (set(), set())
    # nothing in the body can raise: the handler is no path at all
    unreachable = "def f():\n    try:\n        x = 1\n    except OSError:\n        s = socket.socket()\n"
    assert scope(unreachable).resources == []


def test_an_unpacked_awaited_accept_is_an_owned_connection_and_its_options_may_fail() -> None:
    facts = async_scope(
        """
        import socket
        async def f(loop, srv, keep):
            conn, _ = await loop.sock_accept(srv)
            conn.setsockopt(socket.SOL_SOCKET, socket.SO_KEEPALIVE, 1)
            keep(conn)
        """
    )
    (conn,) = facts.resources
    assert conn.name == "conn" and conn.rid in facts.exceptional_leaks
    # the same option on a socket the scope created cannot fail; a stream from a listener is no socket pair
    fresh = async_scope(
        """
        import socket
        async def f(listener, keep):
            s = socket.socket()
            s.setsockopt(socket.SOL_SOCKET, socket.SO_KEEPALIVE, 1)
            keep(s)
            await listener.accept()
        """
    )
    assert [r.name for r in fresh.resources] == ["s"] and not fresh.exceptional_leaks


def test_trio_socket_module_creates_and_wraps_sockets() -> None:
    facts = async_scope(
        """
        from trio import socket as tsocket
        async def f(a, stdlib_sock):
            s = tsocket.socket(tsocket.AF_UNIX, tsocket.SOCK_DGRAM)
            await s.connect(a)
            t = tsocket.from_stdlib_socket(stdlib_sock)
            s.close()
            return t
        """
    )
    (s,) = facts.resources  # converting a socket the scope does not own creates none
    assert (s.family.value, s.type.value) == ("unix", "dgram")
    assert s.rid in facts.exceptional_leaks


def test_the_exit_of_an_async_with_may_raise() -> None:
    source = """
        import socket
        async def f(cm):
            {head} cm:
                s = socket.socket()
            s.setblocking(False)
            s.close()
        """
    assert async_scope(source.format(head="async with")).exceptional_leaks
    sync = async_scope(source.format(head="with"))
    assert sync.resources and not sync.exceptional_leaks  # a plain `with` exit is not awaited


def test_a_socket_lent_to_a_constructor_that_raised_is_back_in_a_handler_that_goes_on() -> None:
    source = """
        def f(srv, log):
            conn, _ = srv.accept()
            try:
                return Session(conn)
            except {caught}:
                log.exception("failed")
                {then}
        """
    assert leaks(source.format(caught="Exception", then="return None")) == (set(), {"conn"})
    assert leaks(source.format(caught="Exception", then="raise")) == (set(), set())
    assert leaks(source.format(caught="KeyError", then="return None")) == (set(), set())
    assert leaks(source.format(caught="OSError", then="conn.close()")) == (set(), set())
    # a call that is no constructor keeps what it is given, failing or not
    assert leaks(source.replace("Session(conn)", "session(conn)").format(caught="Exception", then="pass")) == (
        set(),
        set(),
    )


def test_async_handlers_cover_cancellation_together() -> None:
    source = """
        import socket
        async def f(loop, a):
            s = socket.socket()
            try:
                await loop.sock_connect(s, a)
            {handlers}
            return s
        """
    close = "    s.close()\n                raise"

    def leaked(*kinds: str) -> bool:
        handlers = "\n            ".join(f"except {kind}:\n            {close}" for kind in kinds)
        return bool(async_scope(source.format(handlers=handlers)).exceptional_leaks)

    assert leaked("OSError") and leaked("asyncio.CancelledError") and leaked("(TimeoutError, OSError)")
    assert not leaked("OSError", "asyncio.CancelledError") and not leaked("(Exception, asyncio.CancelledError)")
    assert not leaked("BaseException") and not leaked("")


def test_a_leak_only_through_cancellation_is_told_apart() -> None:
    """`except OSError` around an await leaks on cancellation only; one that swallows and goes on leaks
    on a network error too, and the rule's message then names any exception."""
    only_cancelled_source = """
        import socket
        async def f(loop, a):
            s = socket.socket()
            try:
                await loop.sock_connect(s, a)
            except OSError:
                s.close()
                raise
            s.close()
        """
    swallowed_source = """
        import socket
        async def f(loop, a):
            s = socket.socket()
            try:
                await loop.sock_connect(s, a)
            except OSError:
                return None
            s.close()
        """
    only_cancelled = async_scope(only_cancelled_source)
    assert only_cancelled.exceptional_leaks and not only_cancelled.leaks_beyond_cancellation
    swallowed = async_scope(swallowed_source)
    assert swallowed.exceptional_leaks == swallowed.leaks_beyond_cancellation != set()

    def failure(source: str) -> str:
        (found,) = lint_source(textwrap.dedent(source), "m.py", Settings(select=("CL102",))).violations
        return found.message.split(" leaks if ", 1)[1].split(" before it is closed", 1)[0]

    assert failure(only_cancelled_source).startswith("the task is cancelled at an await")
    assert failure(swallowed_source) == "an exception is raised"


def test_awaited_reads_that_reach_eof_drain() -> None:
    facts = async_scope(
        """
        import socket
        async def f(loop, a):
            s = socket.create_connection(a)
            s.sendall(b"bye")
            s.shutdown(socket.SHUT_WR)
            while data := await loop.sock_recv(s, 4096):
                pass
            s.close()
        """
    )
    (site,) = facts.closes.values()
    assert {(f.sent, f.shut, f.drained) for f in site.facts} == {(True, True, True)}


# --- the work budget ------------------------------------------------------------------------------------------


def test_the_work_budget_raises_only_past_its_steps() -> None:
    budget = WorkBudget(10)
    budget.spend(4)
    budget.spend(6)  # exactly the budget: still allowed
    with pytest.raises(TooComplex, match=r"^more than 10 steps of flow analysis$"):
        budget.spend(1)


def test_every_tracked_socket_costs_a_step_per_statement(monkeypatch: pytest.MonkeyPatch) -> None:
    """40 sockets made one after another: about 80 statements carrying 20 sockets' facts on average."""
    import closelint.analysis.module

    monkeypatch.setattr(closelint.analysis.module, "WorkBudget", functools.partial(WorkBudget, 1_000))
    lines = "".join(f"    s{i} = socket.socket()\n    s{i}.connect(('h', {i}))\n" for i in range(40))
    [found] = lint_source("import socket\n\n\ndef connect_all():\n" + lines, "many.py", Settings()).violations
    assert found.message == "not analysed: too complex (more than 1,000 steps of flow analysis)"
    few = "".join(f"    s{i} = socket.socket()\n    s{i}.connect(('h', {i}))\n" for i in range(4))
    found = lint_source("import socket\n\n\ndef connect_all():\n" + few, "few.py", Settings()).violations
    assert [v.code for v in found] == ["CL101"] * 4


def test_mention_lines_finds_whole_words_only() -> None:
    text = "conn_socket = pool.get()\nsocket_ = 1\nsocket2 = 2\nx = socket.socket()\n_socket = socket\n"
    # `\bsocket\b`, as `re` reads it: an underscore or a digit is part of a word
    assert mention_lines(text, ["socket"]) == [4, 5]
