"""The abstract state of the lifetime analysis: what may hold for each socket on the paths reaching a point.

`Facts` describe one family of paths for one socket (open, closed, escaped; sent, shut down, drained;
which variables name it; which constants simple flags hold there). A `State` maps every `Resource` to its
set of facts; `merge` joins paths, `State.given` keeps the paths on which a test has a given outcome.
"""

from __future__ import annotations

import ast
import enum
import itertools
import operator
from collections.abc import Callable, Iterable
from dataclasses import dataclass, field, replace
from typing import Union

from closelint.analysis import factories as F


class Life(enum.Enum):
    OPEN = "open"
    CLOSED = "closed"
    ESCAPED = "escaped"
    ABSENT = "absent"  # not created on this path, or the variable is known to be None here


@dataclass(frozen=True)
class Facts:
    """What may hold for one socket on one family of paths, including which variables name it there."""

    life: Life
    names: frozenset[str] = frozenset()
    exceptional: bool = False  # the path took an exception edge since the socket was created
    sent: bool = False
    shut: bool = False  # shutdown() of the write side (SHUT_WR, SHUT_RDWR)
    #: shutdown() of the read side (SHUT_RD, SHUT_RDWR): on Linux recv() then returns b"" as soon as the
    #: receive queue is empty, so a read loop that ends at b"" no longer waits for the peer's FIN
    read_shut: bool = False
    drained: bool = False
    #: a complete, framed reply was read after the last send: the peer has read everything sent to it
    answered: bool = False
    #: a StreamWriter close() not yet followed by `await writer.wait_closed()`
    pending: ast.AST | None = None
    #: the path leaves by an explicit `raise` (not caught since): a writer closed on it is still to be
    #: waited for (SPEC §2, CL501 per path), unlike on the paths where a call raised
    raised: bool = False
    #: constants simple flags hold on these paths (`ok = False`): a test of a flag keeps only the facts
    #: of the paths it can be true (or false) on, so `if not ok: sock.close()` closes exactly where needed
    flags: frozenset[tuple[str, Constant]] = frozenset()
    #: escaped on an exception edge into a constructor (`Client(sock)`) that raised: no object holds it, so
    #: an `except` that handles the failure without raising has it back
    lent: bool = False
    #: the path left a `try` of an `async def` by a cancellation at an `await` that its handlers, which catch
    #: the network errors, do not catch (CancelledError is a BaseException)
    cancelled: bool = False
    #: a dup() of its descriptor was handed on (passed, stored, returned): closing this descriptor sends
    #: neither FIN nor RST while the other stays open
    duplicated: bool = False


@dataclass(frozen=True)
class Resource:
    """One socket this scope owns, identified by the call that creates it."""

    rid: int
    node: ast.AST  # the creating call (or, for a borrowed socket, its first use)
    name: str
    family: F.Family
    type: F.SockType
    role: F.Role
    loop: ast.stmt | None
    #: False for a parameter or `self.attr` socket the scope uses but does not own (judged for CL20x only)
    owned: bool = True
    #: the statement list and index of the statement that creates it (what a fix rewrites)
    site: tuple[list[ast.stmt], int] | None = field(default=None, compare=False, repr=False)
    kind: str = "socket"  # or WRITER: an asyncio StreamWriter

    @property
    def may_lose_data(self) -> bool:
        """Whether close() can reset the connection: a TCP stream (or a socket of unknown kind) that is neither
        listening nor one end of a pair the code holds both ends of (its peer is the process itself)."""
        return (
            self.kind == SOCKET
            and self.family is not F.Family.UNIX
            and self.type is not F.SockType.DGRAM
            and self.role not in (F.Role.LISTENING, F.Role.PAIRED)
        )


SOCKET, WRITER = "socket", "writer"
ABSENT = frozenset({Facts(Life.ABSENT)})
Change = Callable[[Facts], Facts]
Constant = Union[bool, int, str, None, "_Truth"]


@dataclass(frozen=True)
class State:
    """Per owned socket, the facts that may hold for it on the paths reaching a program point.

    Variable bindings live inside the facts (`Facts.names`), so after `if c: s = other()` the facts of
    the first socket on the path where `s` was rebound no longer carry `s`: closing or returning `s`
    afterwards changes only the paths on which `s` still names it.

    `values` holds the constants simple flags may have here (`ok = False` ... `ok = True`), so a test of
    such a flag can tell that one of its branches is not a path at all.
    """

    facts: dict[int, frozenset[Facts]]
    values: dict[str, frozenset[Constant]] = field(default_factory=dict)

    def rids(self, name: str) -> frozenset[int]:
        return frozenset(rid for rid, fs in self.facts.items() if any(name in f.names for f in fs))

    def owns(self, name: str) -> bool:
        """Whether `name` refers, on some path, to a socket that is still open and ours."""
        return any(name in f.names and f.life is Life.OPEN for fs in self.facts.values() for f in fs)

    def named(self, name: str) -> dict[int, frozenset[Facts]]:
        """The facts on paths where `name` refers to each socket."""
        found = {rid: frozenset(f for f in fs if name in f.names) for rid, fs in self.facts.items()}
        return {rid: fs for rid, fs in found.items() if fs}

    def open_only(self, name: str) -> State:
        """Keep, of each socket `name` refers to while open on some path, only those paths: what follows
        from a call that fails only on an open object (a writer's `close()`)."""
        kept = {}
        for rid, fs in self.facts.items():
            live = frozenset(f for f in fs if name not in f.names or f.life is Life.OPEN)
            kept[rid] = live if any(name in f.names for f in live) else fs
        return replace(self, facts=kept)

    def map(self, change: Callable[[int, Facts], Facts]) -> State:
        """Apply `change(rid, fact)` to every fact."""
        return replace(self, facts={rid: frozenset(change(rid, f) for f in fs) for rid, fs in self.facts.items()})

    def update(self, rids: Iterable[int], change: Change) -> State:
        """Apply `change` to every fact of the given sockets."""
        chosen = set(rids)
        return self.map(lambda rid, f: change(f) if rid in chosen else f) if chosen else self

    def update_name(self, name: str, change: Change) -> State:
        """Apply `change` to the facts of paths on which `name` refers to the socket."""
        return self.map(lambda rid, f: change(f) if name in f.names else f)

    def alias(self, name: str, sources: Iterable[str] = ()) -> State:
        """`name` now refers to whatever any of `sources` refers to (nothing, when there are none)."""
        wanted = frozenset(sources)

        def rebind(_: int, f: Facts) -> Facts:
            names = f.names - {name}
            if wanted & f.names:
                names |= {name}
            return f if names == f.names else replace(f, names=names)

        if not wanted and not any(name in f.names for fs in self.facts.values() for f in fs):
            return self
        return self.map(rebind)

    def born(self, rid: int, name: str | None) -> State:
        state = self.alias(name) if name else self
        names = frozenset({name}) if name else frozenset()
        flags = frozenset((k, next(iter(v))) for k, v in state.values.items() if len(v) == 1)
        return replace(state, facts={**state.facts, rid: frozenset({Facts(Life.OPEN, names, flags=flags)})})

    def drop(self, rids: Iterable[int]) -> State:
        gone = set(rids)
        return replace(self, facts={k: v for k, v in self.facts.items() if k not in gone})

    def assign(self, name: str, value: Constant | None = None, known: bool = False) -> State:
        """`name` now holds the constant `value` (when `known`), or something not followed."""
        if not known and name not in self.values:
            return self
        values = {k: v for k, v in self.values.items() if k != name}
        if known:
            values[name] = frozenset({value})

        def reflag(_: int, f: Facts) -> Facts:
            flags = frozenset(pair for pair in f.flags if pair[0] != name)
            return replace(f, flags=flags | {(name, value)} if known else flags)

        return replace(self.map(reflag), values=values)

    def given(self, test: ast.expr, outcome: bool) -> State | None:
        """This state on the paths where `test` evaluates to `outcome`; None when there are none."""
        if outcome not in outcomes(test, self.values):
            return None
        facts: dict[int, frozenset[Facts]] = {}
        for rid, fs in self.facts.items():
            kept = frozenset(f for f in fs if not f.flags or outcome in outcomes(test, flag_values(f)))
            if not kept:
                return None
            facts[rid] = kept
        return replace(self, facts=facts)


EMPTY = State({})


def merge(states: Iterable[State | None]) -> State | None:
    """Join the states of several paths; None (no path) is the identity."""
    live = [s for s in states if s is not None]
    if len(live) <= 1:
        return live[0] if live else None
    facts: dict[int, frozenset[Facts]] = {}
    for rid in set(itertools.chain.from_iterable(s.facts for s in live)):
        facts[rid] = frozenset(itertools.chain.from_iterable(s.facts.get(rid, ABSENT) for s in live))
    shared = set(live[0].values).intersection(*(s.values for s in live[1:]))
    values = {name: frozenset(itertools.chain.from_iterable(s.values[name] for s in live)) for name in shared}
    return State(facts, values)


def to_exceptional(f: Facts) -> Facts:
    return replace(f, exceptional=True) if f.life is Life.OPEN else f


def to_duplicated(f: Facts) -> Facts:
    return replace(f, duplicated=True) if f.life is Life.OPEN else f


def to_cancelled(f: Facts) -> Facts:
    return replace(f, cancelled=True) if f.life is Life.OPEN else f


def to_raised(f: Facts) -> Facts:
    return replace(f, raised=True) if f.pending is not None else f


def to_caught(f: Facts) -> Facts:
    return replace(f, raised=False) if f.raised else f


def to_closed(f: Facts) -> Facts:
    return replace(f, life=Life.CLOSED) if f.life is Life.OPEN else f


def to_sent(f: Facts) -> Facts:
    return replace(f, sent=True, answered=False) if f.life is Life.OPEN else f


def to_escaped(f: Facts) -> Facts:
    return replace(f, life=Life.ESCAPED) if f.life is Life.OPEN else f


def to_lent(f: Facts) -> Facts:
    return replace(f, life=Life.ESCAPED, lent=True) if f.life is Life.OPEN else f


def to_reclaimed(f: Facts) -> Facts:
    """In an `except` that goes on after a constructor raised: the socket lent to it is ours again (also when
    an inner `except` logged and re-raised the failure first: that one keeps the loan as it was)."""
    return replace(f, life=Life.OPEN, lent=False, exceptional=True) if f.lent else f


def to_drained(f: Facts) -> Facts:
    """Read until EOF: no drain once the read side is shut (the loop ends at once, not at the peer's FIN)."""
    return replace(f, drained=True) if f.life is Life.OPEN and not f.read_shut else f


def to_answered(f: Facts) -> Facts:
    return replace(f, answered=True) if f.life is Life.OPEN else f


def to_unanswered(f: Facts) -> Facts:
    """A read that may return part of what the peer sends: no longer a complete reply."""
    return replace(f, answered=False) if f.answered else f


def to_absent(f: Facts) -> Facts:
    return Facts(Life.ABSENT)


_COMPARE: dict[type[ast.cmpop], Callable[[object, object], bool]] = {
    ast.Eq: lambda a, b: a == b,
    ast.NotEq: lambda a, b: a != b,
    ast.Is: lambda a, b: a is b,
    ast.IsNot: lambda a, b: a is not b,
}
#: comparisons that order their operands: decided only between integers (`attempts < 3`)
_ORDER: dict[type[ast.cmpop], Callable[[int, int], bool]] = {
    ast.Lt: operator.lt,
    ast.LtE: operator.le,
    ast.Gt: operator.gt,
    ast.GtE: operator.ge,
}


class _Truth:
    """What a branch on a plain name tells about it: truthy or falsy, nothing about its value."""

    def __init__(self, truth: bool) -> None:
        self.truth = truth

    def __bool__(self) -> bool:
        return self.truth


TRUTHY, FALSY = _Truth(True), _Truth(False)


def flag_values(f: Facts) -> dict[str, frozenset[Constant]]:
    return {name: frozenset({value}) for name, value in f.flags}


def outcomes(test: ast.expr, values: dict[str, frozenset[Constant]]) -> set[bool]:
    """The truth values `test` can have, given the constants flags may hold ({True, False}: unknown)."""
    unknown = {True, False}
    if isinstance(test, ast.Constant):
        return {bool(test.value)}
    if isinstance(test, ast.Name):
        return {bool(v) for v in values[test.id]} if test.id in values else unknown
    if isinstance(test, ast.UnaryOp) and isinstance(test.op, ast.Not):
        return {not b for b in outcomes(test.operand, values)}
    if isinstance(test, ast.BoolOp):
        parts = [outcomes(v, values) for v in test.values]
        decisive = isinstance(test.op, ast.Or)  # `or` is true as soon as one part is, `and` false
        if any(p == {decisive} for p in parts):
            return {decisive}
        return {not decisive} if all(p == {not decisive} for p in parts) else unknown
    if (
        isinstance(test, ast.Compare)
        and len(test.ops) == 1
        and (type(test.ops[0]) in _COMPARE or type(test.ops[0]) in _ORDER)
        and isinstance(test.left, ast.Name)
        and test.left.id in values
        and isinstance(test.comparators[0], ast.Constant)
    ):
        known = values[test.left.id]
        kind, other = type(test.ops[0]), test.comparators[0].value
        if any(isinstance(v, _Truth) for v in known):
            return unknown
        if kind in _ORDER:
            numbers = [v for v in known if type(v) is int]
            if type(other) is not int or len(numbers) != len(known):
                return unknown
            return {_ORDER[kind](v, other) for v in numbers}
        return {_COMPARE[kind](v, other) for v in known}
    return unknown
