"""Unit tests of the lifetime analysis core: the state algebra and the walk's facts on small scopes."""

from __future__ import annotations

import ast
import textwrap

from closelint.analysis.flow import ScopeFacts
from closelint.analysis.module import analyse
from closelint.analysis.state import EMPTY, FALSY, Facts, Life, State, merge, to_closed


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
