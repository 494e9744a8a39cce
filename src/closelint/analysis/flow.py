"""The lifetime analysis: a structured walk over one scope that tracks every socket the scope owns.

Python's control flow is structured, so no general CFG is needed. `ScopeWalker.block` walks a list of
statements from an incoming `State` and returns the state on the normal fall-through path (None when no
path falls through); the other ways out of a block (`return`, `break`, `continue`, and exceptions) are
collected in an `Exits` record that the enclosing loop, `try`, `with` or function consumes.

A `State` (closelint.analysis.state) maps each socket (a `Resource`, identified by its creating call) to
the set of `Facts` that may hold for it on the paths reaching that point, variables and flags included.
The walk records what the rules need (`ScopeFacts`): leaks at normal and exceptional exits, the facts
that hold where each socket is closed, and the asyncio writers closed without waiting.
"""

from __future__ import annotations

import ast
from collections.abc import Callable, Iterable, Iterator
from dataclasses import dataclass, field, replace
from functools import cache, cached_property

from closelint.analysis import factories as F
from closelint.analysis.bindings import Bindings
from closelint.analysis.budget import WorkBudget
from closelint.analysis.classes import ClassModel, Member, is_setup_method
from closelint.analysis.kinds import named_kind
from closelint.analysis.local_helpers import Helper, lent_names, local_helpers
from closelint.analysis.names import ImportTable
from closelint.analysis.reads import (
    READ_METHODS,
    SEND_METHODS,
    WRITE_METHODS,
    ReadTracker,
    partial_sends,
    receiver_name,
)
from closelint.analysis.scopes import (
    NESTED_SCOPES,
    FunctionNode,
    captured_names,
    free_names,
    handoff_holders,
    own_nodes,
    parameters,
)
from closelint.analysis.state import (
    EMPTY,
    FALSY,
    SOCKET,
    TRUTHY,
    WRITER,
    Facts,
    Life,
    Resource,
    State,
    merge,
    to_absent,
    to_answered,
    to_cancelled,
    to_caught,
    to_closed,
    to_drained,
    to_duplicated,
    to_escaped,
    to_exceptional,
    to_lent,
    to_raised,
    to_reclaimed,
    to_sent,
    to_unanswered,
)
from closelint.analysis.summaries import ModuleSummaries, ParameterUse, Sends, Summary, Use
from closelint.policy import DEFAULT, Policy


@dataclass
class Exits:
    """States leaving a block other than by falling through."""

    ret: list[State] = field(default_factory=list)
    brk: list[State] = field(default_factory=list)
    cont: list[State] = field(default_factory=list)
    exc: list[State] = field(default_factory=list)

    def raise_from(self, state: State) -> None:
        self.exc.append(state.update(state.facts, to_exceptional))


@dataclass(frozen=True)
class StreamFacts:
    """Which names in a scope are asyncio StreamWriters the scope did not open itself."""

    #: writer parameters: True for a start_server handler's (it owns the connection), False when annotated
    parameters: dict[str, bool] = field(default_factory=dict)
    #: `self.<attr>` names that hold a writer in this method's class
    attributes: frozenset[str] = frozenset()


@dataclass(frozen=True)
class CloseSite:
    """Where a socket is closed, and what may hold for it there on normal paths."""

    resource: Resource
    node: ast.AST  # the close() call, or the `with` statement whose exit closes it
    facts: frozenset[Facts]
    statement: ast.stmt  # the statement holding the close() call, or the `with`
    handle: str  # the expression naming the socket there: `s`, `self.sock`
    previous: ast.stmt | None = None  # the statement right before the close() in its block

    def exposed(self) -> list[Facts]:
        """The paths on which the close can still cost the peer data: not read until EOF, and no complete
        reply read since the last send, and no dup() of the descriptor handed on."""
        return [f for f in self.facts if not f.drained and not f.answered and not f.duplicated]

    def read_side_shut(self) -> bool:
        """Whether a shutdown of the read side (SHUT_RD, SHUT_RDWR) is what kept a read loop from draining."""
        return any(f.read_shut for f in self.exposed())


@dataclass
class ScopeFacts:
    """What the walk of one scope found; rules are queries over it."""

    node: ast.AST
    resources: list[Resource] = field(default_factory=list)
    normal_leaks: set[int] = field(default_factory=set)
    exceptional_leaks: set[int] = field(default_factory=set)
    #: of those, the sockets that leak on some path other than a cancellation (`Facts.cancelled`)
    leaks_beyond_cancellation: set[int] = field(default_factory=set)
    closes: dict[tuple[int, int], CloseSite] = field(default_factory=dict)
    stored_on_self: list[tuple[str, Resource]] = field(default_factory=list)
    #: StreamWriter close() calls from which some path ends the function without awaiting wait_closed()
    unawaited: list[ast.AST] = field(default_factory=list)
    #: sockets and writers closed somewhere in the scope (close(), with, graceful_close, graceful_aclose)
    closed: set[int] = field(default_factory=set)

    def record_close(self, site: CloseSite) -> None:
        key = (site.resource.rid, id(site.node))
        old = self.closes.get(key)
        self.closes[key] = replace(site, facts=site.facts | old.facts) if old else site


#: handlers that catch what network code raises; other exceptions (programming errors) are not leaks
#: a maintainer would act on, so a `try` with one of these is taken to catch everything
_CATCH_ALL = frozenset(
    {
        "builtins.Exception",
        "builtins.BaseException",
        "builtins.OSError",
        "builtins.IOError",
        "builtins.EnvironmentError",
        "socket.error",
        "select.error",
    }
)
_CATCH_ALL_ASYNC = frozenset({"builtins.BaseException"})
#: what a cancelled task raises (BaseException subclasses); a handler of one beside a handler of network
#: errors covers an `async def` as `except BaseException` does
_CANCELLATIONS = frozenset({"asyncio.CancelledError", "asyncio.exceptions.CancelledError", "trio.Cancelled"})
_CLOSERS = frozenset({"close", "detach", "__exit__"})
_SEND_METHODS = SEND_METHODS
#: what proves that an object of unknown kind is a connected stream socket: `send` also belongs to zmq
#: sockets, channels, pipes and generators, `sendto`/`sendmsg` are datagram-ish; these are not
_STREAM_SEND_METHODS = frozenset({"sendall", "sendfile"})
#: methods whose use makes a parameter or `self.attr` a socket worth following
_SOCKET_METHODS = frozenset({*_SEND_METHODS, "recv", "recv_into", "shutdown", "close", "makefile"})
#: what `shutdown(how)` shuts, (write side, read side), by the name of `how` and by its value on Linux
_SHUT_SIDES = {"SHUT_WR": (True, False), "SHUT_RD": (False, True), "SHUT_RDWR": (True, True)}
_SHUT_NAMES = {0: "SHUT_RD", 1: "SHUT_WR", 2: "SHUT_RDWR"}
_CLOSING_USES = (Use.CLOSED, Use.SHUT, Use.GRACEFUL)


@cache
def _use_events(use: ParameterUse) -> tuple[str, ...]:
    """The walk events of passing a socket to a module function that closes or uses it. A function that
    sends and then closes is judged where it closes; here the socket is only closed. One that only uses it
    sends first, then reads: a complete reply (answered) or maybe not all of one (read)."""
    if use.use is Use.BORROWED:
        sent = {Sends.NO: (), Sends.MAYBE: ("sent_on_stream",), Sends.STREAM: ("sent",)}[use.sends]
        read = ("answered",) if use.answers else ("read",) if use.reads else ()
        return sent + read + ("waited",) * use.waits
    if use.use is Use.GRACEFUL or use.sends or use.waits:
        return ("close",)
    return ("shut_by",) if use.use is Use.SHUT else ("closed_by",)


class ScopeWalker:
    """Walks one function (or the module body) and fills a `ScopeFacts`."""

    def __init__(
        self,
        scope: ast.AST,
        body: list[ast.stmt],
        imports: ImportTable,
        self_name: str | None,
        ids: Iterator[int],
        streams: StreamFacts | None = None,
        summaries: ModuleSummaries | None = None,
        model: Callable[[], ClassModel] | None = None,
        policy: Policy = DEFAULT,
        bindings: Callable[[], Bindings] | None = None,
        budget: WorkBudget | None = None,
    ) -> None:
        """`streams` says which parameters and attributes are asyncio StreamWriters; `summaries` what the
        module's own functions do with the sockets passed to them, and which return one; `model` gives what
        the method's class does with what it keeps on `self` (built when first asked); `bindings` gives the
        module's name bindings (built when first asked for); `budget` bounds the work over the whole file
        (TooComplex is raised past it)."""
        self.bindings = bindings
        self.budget = budget or WorkBudget()
        self.body = body
        self.summaries = summaries
        self.model = model
        self.policy = policy
        #: a constructor or connect method: what it stores on `self` is its own until it returns
        self.holds = bool(model and self_name and is_setup_method(getattr(scope, "name", "")))
        self.streams = streams or StreamFacts()
        self.imports = imports
        self.self_name = self_name
        self.ids = ids
        self.facts = ScopeFacts(scope)
        self.by_rid: dict[int, Resource] = {}
        self.loops: list[ast.stmt] = []
        self.position: tuple[list[ast.stmt], int] = (body, 0)  # the statement being walked
        self.tracker = ReadTracker(self_name, imports)
        self.waiters: dict[str, str] = {}  # name -> the writer whose wait_closed() it holds (a task, a future)
        self.dup_of: dict[int, frozenset[int]] = {}  # a socket made by dup() -> the sockets it duplicates
        self.closers: dict[str, str] = {}  # name -> the socket whose bound close() it holds (`close = s.close`)
        #: per loop, the sockets whose read hitting EOF leaves it by `break` (a bounded drain)
        self.eof_breaks: dict[ast.stmt, set[str]] = {}
        #: a method of a unittest-style test class (closelint.analysis.module), whose `self.fail()` raises
        self.test_case = False
        self.expecting_failure = 0  # inside `with pytest.raises(...)` / `with self.assertRaises(...)`
        #: walking code that runs while an exception propagates (a `finally` left by one): a parameter or
        #: attribute first used there is followed on that exceptional path only
        self.propagating = 0
        self.exhaustive: set[ast.If] = set()  # last `elif` of an if/elif chain over every member of an enum
        self.borrowable = parameters(scope) - {self_name} if isinstance(scope, FunctionNode) else set()
        self._drains: dict[Helper, frozenset[str]] = {}
        #: the argument of the call being assigned that the callee returns (`Summary.passes`): lent to it
        self._passing: ast.expr | None = None

    @cached_property
    def captured(self) -> dict[str, int]:
        """Names nested scopes read, or declared global/nonlocal, with the line they are shared from."""
        return captured_names(self.body, self._lent)

    @cached_property
    def helpers(self) -> dict[str, Helper]:
        """Nested functions this scope only calls (closelint.analysis.local_helpers); a module's functions
        are not nested in anything."""
        return {} if isinstance(self.facts.node, ast.Module) else local_helpers(self.body)

    def _lent(self, node: ast.AST) -> frozenset[str]:
        """The sockets a nested function of this scope only borrows: a helper's reads, not a hand-off."""
        helper = self.helpers.get(node.name) if isinstance(node, (ast.FunctionDef, ast.AsyncFunctionDef)) else None
        return lent_names(node) if helper is node else frozenset()

    def _attributes(self, node: ast.AST) -> set[str]:
        """The `self.<attr>` names read in `node`, as the walk names them."""
        if not self.self_name:
            return set()
        found = (receiver_name(n, self.self_name) for n in ast.walk(node) if isinstance(n, ast.Attribute))
        return {name for name in found if name}

    def _called_helper(self, call: ast.Call) -> Helper | None:
        return self.helpers.get(call.func.id) if isinstance(call.func, ast.Name) else None

    def _module_function_drains(self, call: ast.Call) -> list[str]:
        """The sockets passed to a function of the module that reads them until EOF on every path through
        it (`drain(sock)`), found by the walk of its body that nested helpers get."""
        found = self.summaries.callee(call, self.facts.node) if self.summaries is not None else None
        if self.summaries is None or found is None:
            return []
        function, names = found
        if not isinstance(function, ast.FunctionDef):
            return []
        summary = self.summaries.summary(function)
        readers = [(a, parameter) for a, parameter in self.summaries.bind(call, names) if summary.use(parameter).reads]
        drained = self._helper_drains(function) if readers else frozenset()
        named = [receiver_name(argument, self.self_name) for argument, parameter in readers if parameter in drained]
        return [name for name in named if name]

    def _helper_drains(self, helper: Helper) -> frozenset[str]:
        """The sockets a helper reads until EOF on every path through it (a walk of its own body)."""
        found = self._drains.get(helper)
        if found is None:
            walker = ScopeWalker(
                helper, helper.body, self.imports, self.self_name, self.ids, bindings=self.bindings, budget=self.budget
            )
            walker.borrowable |= lent_names(helper)
            state = EMPTY
            for name in sorted(walker.tracker.read_receivers(helper) & (walker.borrowable | self._attributes(helper))):
                state = walker._born(state, helper, name)
            exits = Exits()
            ends = [s for s in [walker.block(helper.body, state, exits), *exits.ret] if s is not None]
            found = self._drains[helper] = frozenset(
                r.name
                for r in walker.by_rid.values()
                if ends and all(s.facts.get(r.rid) and all(f.drained for f in s.facts[r.rid]) for s in ends)
            )
        return found

    @cached_property
    def holders(self) -> dict[str, set[str]]:
        """Per name, the names bound to results of calls it was passed to (`conn = ctx.wrap_socket(s)`)."""
        return handoff_holders(self.body)

    def _shared(self, name: str) -> bool:
        """Whether a socket bound to `name` here escapes at once: a nested function defined earlier (or a
        global declaration) already shares the variable. One defined later takes it when its `def` runs."""
        line = getattr(self.position[0][self.position[1]], "lineno", 0)
        return self.captured.get(name, line + 1) <= line

    # ------------------------------------------------------------------ entry point
    def run(self) -> ScopeFacts:
        exits = Exits()
        state = EMPTY
        for name, owned in self.streams.parameters.items():
            state = self._born(state, self.facts.node, name, WRITER, owned)
        end = self.block(self.body, state, exits)
        for leaving in [end, *exits.ret]:
            if leaving is not None:
                self._check_exit(leaving, self.by_rid)
        if not isinstance(self.facts.node, ast.Module):  # an exception out of module code ends the process
            for leaving in exits.exc:  # (or fails the import), which releases every socket it made
                self._check_exit(leaving, self.by_rid, exceptional=True)
        return self.facts

    def _check_exit(self, state: State, rids: Iterable[int], exceptional: bool = False) -> None:
        for rid in rids:
            for f in state.facts.get(rid, ()):
                if f.pending is not None and (f.raised or not exceptional) and f.pending not in self.facts.unawaited:
                    self.facts.unawaited.append(f.pending)
                if f.life is Life.OPEN and self.by_rid[rid].owned:
                    if not exceptional and self._held(f):
                        continue  # stored on the object, which the caller now has
                    if exceptional or f.exceptional:
                        self.facts.exceptional_leaks.add(rid)
                        if not f.cancelled:
                            self.facts.leaks_beyond_cancellation.add(rid)
                    else:
                        self.facts.normal_leaks.add(rid)

    def _held(self, f: Facts) -> bool:
        prefix = f"{self.self_name}."
        return self.holds and any(name.startswith(prefix) for name in f.names)

    def _member(self, name: str) -> Member | None:
        """The class model's facts for `self.<attr>`."""
        prefix = f"{self.self_name}."
        if self.model is None or not name.startswith(prefix):
            return None
        return self.model().members.get(name[len(prefix) :])

    # ------------------------------------------------------------------ blocks and statements
    def block(self, stmts: list[ast.stmt], state: State | None, exits: Exits) -> State | None:
        for index, stmt in enumerate(stmts):
            if state is None:
                return None
            self.position = (stmts, index)
            state = self.statement(stmt, state, exits)
        return state

    def statement(self, stmt: ast.stmt, state: State, exits: Exits) -> State | None:
        self.budget.spend(1 + len(state.facts))  # the facts of every tracked socket go through it
        handler = getattr(self, "stmt_" + type(stmt).__name__, None)
        if handler is not None:
            result: State | None = handler(stmt, state, exits)
            return result
        return self.evaluate(stmt, state, exits)

    def stmt_Return(self, stmt: ast.Return, state: State, exits: Exits) -> None:
        if stmt.value is not None:
            state = self.evaluate(stmt.value, state, exits, sink=True)
        exits.ret.append(state)

    def stmt_Raise(self, stmt: ast.Raise, state: State, exits: Exits) -> None:
        state = self.evaluate(stmt, state, exits)
        raised = stmt.exc.func if isinstance(stmt.exc, ast.Call) else stmt.exc
        if raised is None or self.imports.qualname(raised) != "builtins.SystemExit":
            exits.raise_from(state.update(state.facts, to_raised))

    def stmt_Break(self, stmt: ast.Break, state: State, exits: Exits) -> None:
        exits.brk.append(state)

    def stmt_Continue(self, stmt: ast.Continue, state: State, exits: Exits) -> None:
        exits.cont.append(state)

    def stmt_Expr(self, stmt: ast.Expr, state: State, exits: Exits) -> State | None:
        if isinstance(stmt.value, ast.Call) and self._ends_path(stmt.value):
            return None  # the process ends, or the test fails, here: nothing is left to leak
        temporary = self._temporary(stmt.value, state, exits)
        return temporary if temporary is not None else self.evaluate(stmt, state, exits)

    def _temporary(self, value: ast.expr, state: State, exits: Exits) -> State | None:
        """A socket created and dropped in one expression (`srv.accept()`, `create_connection(a).send(b)`)."""
        method = None
        if isinstance(value, ast.Call) and isinstance(value.func, ast.Attribute):
            receiver = value.func.value
            if isinstance(receiver, ast.Call) and self._creation(receiver, state) is not None:
                method, value = value.func.attr, receiver
        created = self._creation(value, state)
        if created is None or (self._is_accept(created.node) and not self._accepts_socket(created.node, state)):
            return None
        if isinstance(value, ast.Await) and F.awaited_accept(created.node):
            return None  # `await listener.accept()` not unpacked: it may return a stream object
        if self._may_raise(value, state):
            exits.raise_from(state)
        state, rids = self._create(created, [], state)
        if method in ("close", "detach", "__exit__"):
            state = state.update([r for r in rids if r is not None], to_closed)
        return state

    def _ends_path(self, call: ast.Call) -> bool:
        """`sys.exit()` and its kin end the process; `pytest.fail()`, and `self.fail()` in a method of a
        unittest-style test class, fail the test: like `raise`, but no path that anyone acts on goes on from there."""
        if self.imports.call_name(call) in F.PROCESS_EXITS | F.TEST_FAILURES:
            return True
        func = call.func
        return (
            isinstance(func, ast.Attribute)
            and func.attr in F.TEST_FAILURE_METHODS
            and isinstance(func.value, ast.Name)
            and func.value.id == self.self_name
            and self.test_case
        )

    def _accepts_socket(self, call: ast.Call, state: State) -> bool:
        """`x.accept()` alone is a socket only if x is one we own, or the module uses the socket module; never
        `self.accept()` running a method of the class (a server's accept step: its summary says what it makes)."""
        if self.summaries is not None and self.summaries.callee(call, self.facts.node) is not None:
            return self.summaries.made(call, self.facts.node) is not None
        receiver = call.func.value if isinstance(call.func, ast.Attribute) else None
        owned = isinstance(receiver, ast.Name) and bool(state.rids(receiver.id))
        return owned or self.imports.uses_module("socket")

    def stmt_AugAssign(self, stmt: ast.AugAssign, state: State, exits: Exits) -> State:
        return self._unbind(stmt.target, self.evaluate(stmt.value, state, exits, sink=True))

    def stmt_Delete(self, stmt: ast.Delete, state: State, exits: Exits) -> State:
        return state

    def stmt_If(self, stmt: ast.If, state: State, exits: Exits) -> State | None:
        state = self.evaluate(stmt.test, state, exits)
        branches = []
        self.exhaustive.update(_enum_chain_end(stmt))
        eof = self.tracker.emptiness(stmt.test) if self.loops else None
        if eof and any(isinstance(s, ast.Break) for s in (stmt.body if eof[1] else stmt.orelse)):
            self.eof_breaks.setdefault(self.loops[-1], set()).add(eof[0])
        for outcome, body in ((True, stmt.body), (False, stmt.orelse)):
            feasible = state.given(stmt.test, outcome)
            if feasible is None or (not outcome and stmt in self.exhaustive):
                continue
            entry = self._refine(stmt.test, self._eof(stmt.test, feasible, outcome), outcome)
            propagating = self._propagating(stmt.test) is outcome  # `if sys.exc_info()[1] is not None:`
            if propagating:
                entry = entry.update(entry.facts, to_exceptional)
            flag = _flag_name(stmt.test)
            if flag and len(entry.values.get(flag, ())) != 1:  # `if ok:` ... `if ok:` again: the same answer
                entry = entry.assign(flag, TRUTHY if outcome != _negated(stmt.test) else FALSY, known=True)
            self.propagating += int(propagating)
            branches.append(self.block(body, entry, exits))
            self.propagating -= int(propagating)
        return merge(branches if self._chosen_by_caller(stmt.test, state) else _waits_under_if(state, branches))

    def _chosen_by_caller(self, test: ast.expr, state: State) -> bool:
        """Whether `test` reads a parameter that names no followed socket or writer (`if not nowait:`): the
        caller picks the branch, so each is a path of its own, not a guard of the environment (`hasattr`,
        a version check) that the author answers the same way in every branch."""
        names = {n.id for n in ast.walk(test) if isinstance(n, ast.Name) and n.id in self.borrowable}
        return any(not state.rids(name) for name in names)

    def _propagating(self, test: ast.expr) -> bool | None:
        """For `sys.exc_info()[i] is None` / `sys.exception() is None` (or `is not None`): the outcome on
        which an exception is being handled or propagating; None for any other test."""
        if not (isinstance(test, ast.Compare) and len(test.ops) == 1 and isinstance(test.ops[0], (ast.Is, ast.IsNot))):
            return None
        left, right = test.left, test.comparators[0]
        if isinstance(left, ast.Subscript):
            left = left.value
        if not (isinstance(right, ast.Constant) and right.value is None and isinstance(left, ast.Call)):
            return None
        if self.imports.call_name(left) not in ("sys.exc_info", "sys.exception"):
            return None
        return isinstance(test.ops[0], ast.IsNot)

    def stmt_Match(self, stmt: ast.Match, state: State, exits: Exits) -> State | None:
        state = self.evaluate(stmt.subject, state, exits)
        ends = [self.block(case.body, state, exits) for case in stmt.cases]
        return merge([*ends, state])

    def stmt_While(self, stmt: ast.While, state: State, exits: Exits) -> State | None:
        state = self.evaluate(stmt.test, state, exits)
        forever = isinstance(stmt.test, ast.Constant) and bool(stmt.test.value)
        eof = self.tracker.emptiness(stmt.test)
        framed = self.tracker.framed_loop(stmt)
        skipped = state.given(stmt.test, False)  # None when what is known before the loop makes its test true
        return self._loop(
            stmt, state, exits, skipped=skipped, endless=forever, eof=eof[0] if eof else None, framed=framed
        )

    def stmt_For(self, stmt: ast.For | ast.AsyncFor, state: State, exits: Exits) -> State | None:
        state = self.evaluate(stmt.iter, state, exits)
        target = stmt.target
        if isinstance(target, ast.Name):
            elements = stmt.iter.elts if isinstance(stmt.iter, (ast.Tuple, ast.List, ast.Set)) else []
            state = state.alias(target.id, [e.id for e in elements if isinstance(e, ast.Name)])
        else:
            state = self._unbind(target, state)
        literal = isinstance(stmt.iter, (ast.Tuple, ast.List)) and bool(stmt.iter.elts)
        literal = literal or self._nonempty_range(stmt.iter)
        eof = self.tracker.eof_iterable(stmt.iter)
        return self._loop(stmt, state, exits, skipped=None if literal else state, endless=False, eof=eof)

    stmt_AsyncFor = stmt_For

    def _nonempty_range(self, expr: ast.expr) -> bool:
        """`range(3)`, `range(1, 4)`: constant bounds that give at least one value (a retry loop's attempts)."""
        if not (isinstance(expr, ast.Call) and self.imports.call_name(expr) == "builtins.range") or expr.keywords:
            return False
        bounds = [a.value for a in expr.args if isinstance(a, ast.Constant) and type(a.value) is int]
        if len(bounds) != len(expr.args) or not 1 <= len(bounds) <= 3 or bounds[2:] == [0]:
            return False
        return len(range(*bounds)) > 0

    def _loop(
        self,
        stmt: ast.While | ast.For | ast.AsyncFor,
        state: State,
        exits: Exits,
        skipped: State | None,
        endless: bool,
        eof: str | None,
        framed: str | None = None,
    ) -> State | None:
        """Walk a loop body once; `skipped` is the state on the path that runs it zero times (None: the loop
        runs at least once), `eof` names the socket read to its end when the loop runs out, `framed` the
        socket a whole message of known length has been read from then."""
        inner = Exits(ret=exits.ret, exc=exits.exc)
        self.loops.append(stmt)
        end = self.block(stmt.body, state, inner)
        self.loops.pop()
        created_here = [r.rid for r in self.by_rid.values() if r.loop is stmt]
        iteration_ends = [s for s in [end, *inner.cont] if s is not None]
        for s in iteration_ends:
            self._check_exit(s, created_here)
        again = merge(s.drop(created_here) for s in iteration_ends)
        if again is not None and isinstance(stmt, ast.While):
            again = _run_out(stmt.test, state, again)
        finished = merge([skipped, None if endless else again])
        if eof and finished is not None:
            finished = finished.update_name(eof, to_drained)
        drains = self.eof_breaks.pop(stmt, set())
        if framed and finished is not None:
            finished = finished.update_name(framed, to_answered)
        elif finished is not None:
            # a loop that leaves at b"" and otherwise ends by a clock or a count is a bounded drain
            for sock in drains:
                if not self.tracker.sends_in(stmt.body, sock):
                    finished = finished.update_name(sock, to_drained)
        orelse = self.block(stmt.orelse, finished, exits)
        return merge([orelse, *inner.brk])

    def stmt_Try(self, stmt: ast.Try, state: State, exits: Exits) -> State | None:
        final = bool(stmt.finalbody)
        routed = Exits(exc=[]) if final else Exits(ret=exits.ret, brk=exits.brk, cont=exits.cont)
        body = Exits(ret=routed.ret, brk=routed.brk, cont=routed.cont)
        end = self.block(stmt.body, state, body)
        if not final:
            routed.exc = exits.exc
        ends = [self.block(stmt.orelse, end, routed)]
        caught = merge(body.exc)
        if caught is not None and stmt.handlers:  # a `raise` a handler may catch is no explicit one (CL501)
            caught = caught.update(caught.facts, to_caught)
        if caught is not None and not self._catches_all(stmt.handlers, _awaits(stmt.body)):
            network = self._covers(self._caught(stmt.handlers), cancellable=False)  # all but cancellation
            routed.exc.append(caught.update(caught.facts, to_cancelled) if network else caught)
        if caught is None and _can_raise(stmt.body) and any(self._closes_followed(h, state) for h in stmt.handlers):
            # a failure no followed socket takes part in (`sock.setsockopt(...)` of another object), which a
            # handler answers by closing one (`except OSError: writer.close(); raise`): the author's word that
            # the body may fail, taken from where it starts
            caught = state.update(state.facts, to_exceptional)
        elif caught is None and _can_raise(stmt.body) and any(self._creates(h.body) for h in stmt.handlers):
            # a failure no followed socket takes part in (a socket() call itself): the handlers still run,
            # and a socket they create is theirs; the sockets already open are not judged on this path
            caught = state.drop(state.facts)
        if caught is not None:
            for handler in stmt.handlers:
                entry = caught.alias(handler.name) if handler.name else caught
                if self._handles_failure(handler):
                    entry = entry.update(entry.facts, to_reclaimed)
                ends.append(self.block(handler.body, entry, routed))
        normal = merge(ends)
        if not final:
            return normal
        return self._finally(lambda entry: self.block(stmt.finalbody, entry, exits), normal, routed, exits)

    stmt_TryStar = stmt_Try

    def _finally(
        self, run: Callable[[State | None], State | None], normal: State | None, routed: Exits, exits: Exits
    ) -> State | None:
        """Run a `finally` (or a `with` exit) on every way out of the block and route each onward."""
        for pending, target in (
            (routed.ret, exits.ret),
            (routed.brk, exits.brk),
            (routed.cont, exits.cont),
            (routed.exc, exits.exc),
        ):
            propagating = int(target is exits.exc)  # the exception is still on its way while it runs
            self.propagating += propagating
            out = run(merge(pending))
            self.propagating -= propagating
            if out is not None:
                target.append(out)
        return run(normal)

    def _closes_followed(self, handler: ast.ExceptHandler, state: State) -> bool:
        """Whether an `except` calls `close()` on a socket or writer open before its `try`."""
        return any(
            isinstance(node, ast.Call)
            and isinstance(node.func, ast.Attribute)
            and node.func.attr == "close"
            and (name := receiver_name(node.func.value, self.self_name)) is not None
            and state.owns(name)
            for node in own_nodes(handler.body)
        )

    def _creates(self, body: list[ast.stmt]) -> bool:
        """Whether `body` (not its nested functions) has a call that creates a socket or a writer."""
        return any(
            isinstance(node, (ast.Call, ast.Await)) and self._creation(node, EMPTY) is not None
            for node in own_nodes(body)
        )

    def _handles_failure(self, handler: ast.ExceptHandler) -> bool:
        """Whether an `except` takes whatever failure a constructor may raise (bare, `Exception`, `OSError`,
        ... not `BlockingIOError`) and goes on without a `raise` of its own: the socket lent to a constructor
        that raised is back in its hands."""
        return bool(self._caught([handler]) & (_CATCH_ALL | {"*"})) and not _raises(handler)

    def _catches_all(self, handlers: list[ast.ExceptHandler], cancellable: bool) -> bool:
        """Whether the handlers of a `try` together catch whatever can leak a socket: network errors — and in
        an `async def` whose `try` body may be cancelled (it awaits) also cancellation, a BaseException that
        `except OSError` does not catch: a bare `except`, `except BaseException`, or `except
        asyncio.CancelledError` next to the network errors'."""
        return self._covers(self._caught(handlers), cancellable)

    def _covers(self, caught: set[str], cancellable: bool) -> bool:
        """Whether catching the exception classes `caught` ("*": all) catches whatever can leak a socket from
        a block that may be `cancellable` (cancellation arrives only at an `await` of an `async def`)."""
        if "*" in caught or caught & _CATCH_ALL_ASYNC:
            return True
        network = bool(caught & _CATCH_ALL)
        async_def = isinstance(self.facts.node, ast.AsyncFunctionDef)
        return network and (not (async_def and cancellable) or bool(caught & _CANCELLATIONS))

    def _suppressed(self, items: list[ast.withitem]) -> set[str] | None:
        """The exception classes the `contextlib.suppress(...)` items of a `with` swallow (None: no such item)."""
        calls = [
            item.context_expr
            for item in items
            if isinstance(item.context_expr, ast.Call)
            and self.imports.call_name(item.context_expr) in F.SUPPRESSING_CONTEXTS
        ]
        if not calls:
            return None
        return {self.imports.qualname(kind) or "" for call in calls for kind in call.args}

    def _caught(self, handlers: list[ast.ExceptHandler]) -> set[str]:
        """The qualified names of the exception classes `handlers` name ("*" for a bare `except`)."""
        found: set[str] = set()
        for handler in handlers:
            kinds = handler.type.elts if isinstance(handler.type, ast.Tuple) else [handler.type]
            found.update("*" if k is None else self.imports.qualname(k) or "" for k in kinds)
        return found

    def stmt_With(self, stmt: ast.With | ast.AsyncWith, state: State, exits: Exits) -> State | None:
        managed: list[tuple[int, str]] = []  # (socket, the name the block gives it)
        graceful: set[int] = set()  # closed by `with graceful(sock):`, which shuts down and drains
        for item in stmt.items:
            # an item that raises exits the items before it: their sockets are closed on that edge
            before = Exits()
            rids, handle, state = self._with_item(item, state, before)
            exits.exc.extend(s.update([rid for rid, _ in managed], to_closed) for s in before.exc)
            managed.extend((rid, handle) for rid in rids)
            if self._graceful_context(item.context_expr):
                graceful.update(rids)
        routed = Exits()
        expecting = any(_expects_failure(item.context_expr) for item in stmt.items)
        self.expecting_failure += expecting
        end = self.block(stmt.body, state, routed)
        self.expecting_failure -= expecting
        if expecting:
            end = self._expected_failure(state, end, routed)
        if isinstance(stmt, ast.AsyncWith) and end is not None:
            routed.raise_from(end)  # the awaited exit (a nursery's, a timeout's) may raise or be cancelled
        suppressed = self._suppressed(stmt.items)
        if suppressed is not None and self._covers(suppressed, isinstance(stmt, ast.AsyncWith) or _awaits(stmt.body)):
            # `with suppress(OSError):` is `try: ... except OSError: pass`: the block's failures end it
            end = merge([end, self._expected_failure(state, None, routed)])
        elif suppressed is not None:
            routed.exc = [s.update(s.facts, to_caught) for s in routed.exc]  # a `raise` it may swallow (CL501)

        def exit_block(entry: State | None) -> State | None:
            if entry is None:
                return None
            for rid, handle in managed:
                if rid in entry.facts and rid not in graceful:
                    self._record_closes({rid: entry.facts[rid]}, stmt, stmt, handle)
            self.facts.closed.update(rid for rid, _ in managed)
            return entry.update([rid for rid, _ in managed], to_closed)

        return self._finally(exit_block, end, routed, exits)

    stmt_AsyncWith = stmt_With

    @staticmethod
    def _expected_failure(entry: State, end: State | None, routed: Exits) -> State | None:
        """After `with pytest.raises(E):` / `with self.assertRaises(E):` the test goes on from wherever its
        block raised, on the normal path of a passing test; a block that ends without raising fails the
        test. (A block in which nothing is seen to raise keeps its end: the analysis cannot tell where.)"""
        if not routed.exc:
            return end
        caught = merge(routed.exc)
        routed.exc = []
        assert caught is not None
        # the edges taken inside the block are the expected ones: paths that were normal stay normal
        normal = [rid for rid in caught.facts if not any(f.exceptional for f in entry.facts.get(rid, ()))]
        return caught.update(normal, lambda f: replace(f, exceptional=False))

    def _with_item(self, item: ast.withitem, state: State, exits: Exits) -> tuple[list[int], str, State]:
        """Evaluate one `with` item: the sockets its exit closes, the name they have in the block."""
        expr = item.context_expr
        inner = expr
        closing = isinstance(expr, ast.Call) and self.imports.call_name(expr) in F.CLOSING_CONTEXTS
        if isinstance(expr, ast.Call) and expr.args and (closing or self._graceful_context(expr)):
            inner = expr.args[0]
        target = item.optional_vars.id if isinstance(item.optional_vars, ast.Name) else None
        created = self._creation(inner, state)
        if created is not None:
            if self._may_raise(inner, state):
                exits.raise_from(state)
            state, born = self._create(created, [target], state)
            return [r for r in born if r is not None], target or "", state
        if isinstance(inner, ast.Name):
            state = self._ensure(state, inner.id, inner)
        if isinstance(inner, ast.Name) and state.rids(inner.id):
            if target:
                state = state.alias(target, [inner.id])
            return list(state.rids(inner.id)), target or inner.id, state
        if item.optional_vars is not None:
            self.tracker.note_assignment(item.optional_vars, expr)
        state = self.evaluate(expr, state, exits)
        if item.optional_vars is not None:
            state = self._unbind(item.optional_vars, state)
        return [], "", state

    # ------------------------------------------------------------------ simple statements
    def stmt_Assign(self, stmt: ast.Assign, state: State, exits: Exits) -> State:
        return self._assign(stmt.targets, stmt.value, stmt, state, exits)

    def stmt_AnnAssign(self, stmt: ast.AnnAssign, state: State, exits: Exits) -> State:
        if stmt.value is None:
            return state
        return self._assign([stmt.target], stmt.value, stmt, state, exits)

    def _assign(self, targets: list[ast.expr], value: ast.expr, stmt: ast.stmt, state: State, exits: Exits) -> State:
        created = self._creation(value, state)
        if created is not None:
            if self._may_raise(value, state):
                exits.raise_from(state)
            state = self._consume(created, state)
            for target in targets:
                self._note_closer(target, value, state)
                state = self._unbind(target, state)
            if len(targets) > 1 and not created.slots:
                return self._create_chained(created, targets, state)
            places = self._places(targets[-1], created)
            held = [self._held_attribute(p) if len(targets) == 1 else None for p in places]
            names = [p.id if isinstance(p, ast.Name) else h for p, h in zip(places, held, strict=True)]
            state, rids = self._create(created, names, state)
            for place, rid, holder in zip(places, rids, held, strict=False):
                if rid is not None and not (isinstance(place, ast.Name) and len(targets) == 1):
                    attr = self._self_attribute(place) if place is not None else None
                    if attr:
                        self.facts.stored_on_self.append((attr, self.by_rid[rid]))
                    if holder is None:
                        state = self._dup_handed_on(state, [rid]).update([rid], to_escaped)
            return state
        for target in targets:
            self.tracker.note_assignment(target, value)
            self._note_waiter(target, value)
            self._note_closer(target, value, state)
        passed = self._passed_through(value, state) if len(targets) == 1 else None
        if passed is not None:  # `sock = configure(sock)`: the call may raise, the result is `sock`
            self._passing = passed
            state = self.evaluate(value, state, exits)
            self._passing = None
            value = passed
        made = self.tracker.makefile(value)
        if made and any(isinstance(t, ast.Name) and t.id == made for t in targets):
            state = state.update_name(made, to_escaped)  # `conn = conn.makefile()`: the file now owns it
        holder = self._held_attribute(targets[0]) if len(targets) == 1 else None
        if holder and isinstance(value, ast.Name) and state.owns(value.id):
            self._note_attribute_store(targets, value, state)
            return state.alias(holder, [value.id])  # `self.sock = sock` in a constructor
        alias = receiver_name(value, self.self_name)
        if len(targets) == 1 and isinstance(targets[0], ast.Name) and alias and "." in alias:
            member = self._member(alias)
            if member is not None and member.is_socket:  # `sock = self.sock`: the class's socket
                state = self._ensure(state, alias, value)
                value = ast.Name(alias, ast.Load())
        state = self._taken_back(targets, value, state)
        source = _same_socket(value)
        wrapped = _wrapped_name(value)
        if wrapped and self._borrowed(wrapped, state):
            # `s = ctx.wrap_socket(sock)` of a parameter: the same connection under another name, still borrowed
            source, state = wrapped, self._ensure(state, wrapped.id, value)
            if self._may_raise(value, state):  # the handshake may fail
                exits.raise_from(state)
        if len(targets) == 1 and isinstance(targets[0], ast.Name) and source and state.rids(source.id):
            if value is not source and source is not wrapped:  # `s = tls.unwrap()`: the call may raise
                state = self.evaluate(value, state, exits)
            name = targets[0].id
            state = state.alias(name, [source.id])
            return state.update_name(name, to_escaped) if self._shared(name) else state
        sink = bool(state.facts) and (
            not self._plain(value) or any(not isinstance(t, ast.Name) or self._shared(t.id) for t in targets)
        )
        state = self.evaluate(value, state, exits, sink=sink)
        self._note_attribute_store(targets, value, state)
        for target in targets:
            state = self._unbind(target, state)
        constant = value.value if isinstance(value, ast.Constant) else ...
        if (
            len(targets) == 1
            and isinstance(targets[0], ast.Name)
            and isinstance(constant, (bool, int, str, type(None)))
        ):
            state = state.assign(targets[0].id, constant, known=True)
        return state

    def _create_chained(self, created: _Creation, targets: list[ast.expr], state: State) -> State:
        """`self.outs = self.ins = socket.socket(...)`: one socket under every name it gets, a local or an
        attribute a constructor holds; stored anywhere else as well, it escapes there."""
        names = [t.id if isinstance(t, ast.Name) else self._held_attribute(t) for t in targets]
        followed = [name for name in names if name]
        state, (rid, *_) = self._create(created, [followed[0] if followed else None], state)
        assert rid is not None
        for name in followed[1:]:
            state = state.alias(name, followed[:1])
        for target in targets:
            attr = self._self_attribute(target)
            if attr:
                self.facts.stored_on_self.append((attr, self.by_rid[rid]))
        shared = any(self._shared(name) for name in followed[1:] if "." not in name)  # the first: in _create
        return state.update([rid], to_escaped) if shared or len(followed) < len(names) else state

    def _taken_back(self, targets: list[ast.expr], value: ast.expr, state: State) -> State:
        """`s = conn.unwrap()` after `conn = ctx.wrap_socket(s)` (or any call that kept `s`): the value comes
        back from what `s` was handed to, so the socket `s` named was handed off, not dropped. (Where the
        walk has not seen the hand-off on its path, as in a loop walked once, `conn` is not even bound.)"""
        for target in targets:
            if isinstance(target, ast.Name) and state.owns(target.id) and target.id in self.holders:
                holders = self.holders[target.id] - {target.id}  # `s = wrap(s)` is walked as a wrap
                if any(isinstance(n, ast.Name) and n.id in holders for n in ast.walk(value)):
                    state = state.update_name(target.id, to_escaped)
        return state

    def _wait_closed_of(self, node: ast.AST) -> str | None:
        """The writer whose `wait_closed()` the call `node` is."""
        if isinstance(node, ast.Call) and isinstance(node.func, ast.Attribute) and node.func.attr == "wait_closed":
            return receiver_name(node.func.value, self.self_name)
        return None

    def _note_waiter(self, target: ast.expr, value: ast.expr) -> None:
        """Remember `task = ensure_future(w.wait_closed())`: awaiting `task` later waits for `w`."""
        if not isinstance(target, ast.Name):
            return
        self.waiters.pop(target.id, None)
        if not isinstance(value, ast.Await):
            writer = next((w for w in map(self._wait_closed_of, ast.walk(value)) if w), None)
            if writer:
                self.waiters[target.id] = writer

    def _dup_handed_on(self, state: State, rids: Iterable[int]) -> State:
        """The sockets a handed-on socket made by dup() duplicates: their descriptor lives on elsewhere."""
        for rid in rids:
            state = state.update(self.dup_of.get(rid, ()), to_duplicated)
        return state

    def _note_closer(self, target: ast.expr, value: ast.expr, state: State) -> None:
        """Remember `close = s.close`: calling `close()` later closes `s`."""
        if not isinstance(target, ast.Name):
            return
        for name, closed in list(self.closers.items()):
            if target.id in (name, closed):  # `close` rebound, or the name no longer the socket it closes
                del self.closers[name]
        if isinstance(value, ast.Attribute) and value.attr == "close":
            sock = receiver_name(value.value, self.self_name)
            if sock is not None and state.owns(sock):
                self.closers[target.id] = sock

    @staticmethod
    def _plain(value: ast.expr) -> bool:
        """Values that cannot smuggle a socket into the assigned name: calls, reads, arithmetic."""
        return not isinstance(
            value, (ast.Tuple, ast.List, ast.Set, ast.Dict, ast.IfExp, ast.BoolOp, ast.NamedExpr, ast.Starred)
        )

    def _note_attribute_store(self, targets: list[ast.expr], value: ast.expr, state: State) -> None:
        if isinstance(value, ast.Name):
            for target in targets:
                attr = self._self_attribute(target)
                if attr:
                    for rid in state.rids(value.id):
                        self.facts.stored_on_self.append((attr, self.by_rid[rid]))

    def _held_attribute(self, target: ast.expr | None) -> str | None:
        """`self.attr` when a constructor or connect method stores a socket there (it stays followed). Not
        an attribute a base class of another module closes (`self.sock` of an `http.client` connection),
        stored outside `__init__`: the object is the caller's, and its `close()` releases the socket."""
        attr = self._self_attribute(target) if self.holds and target is not None else None
        if attr and self.model is not None and getattr(self.facts.node, "name", "") != "__init__":
            attr = None if attr in self.model().base_closes else attr
        return f"{self.self_name}.{attr}" if attr else None

    def _self_attribute(self, target: ast.expr) -> str | None:
        if (
            self.self_name
            and isinstance(target, ast.Attribute)
            and isinstance(target.value, ast.Name)
            and target.value.id == self.self_name
        ):
            return target.attr
        return None

    @staticmethod
    def _places(target: ast.expr, created: _Creation) -> list[ast.expr | None]:
        """Where each created socket is stored: a name, an attribute, … or nowhere we can follow (None)."""
        if not created.slots:
            return [target]
        if isinstance(target, (ast.Tuple, ast.List)) and len(target.elts) >= len(created.slots):
            return list(target.elts[: len(created.slots)])
        return [None] * len(created.slots)

    def _unbind(self, target: ast.expr, state: State) -> State:
        """The names an assignment target rebinds no longer refer to what they did (`s.attr = x` rebinds
        nothing: `s` still names its socket)."""
        if isinstance(target, (ast.Tuple, ast.List)):
            for element in target.elts:
                state = self._unbind(element, state)
            return state
        if isinstance(target, ast.Starred):
            return self._unbind(target.value, state)
        name = receiver_name(target, self.self_name)
        return state.alias(name).assign(name) if name else state

    # ------------------------------------------------------------------ creation
    def _creation(self, value: ast.expr, state: State) -> _Creation | None:
        """If `value` creates owned socket(s) (or an asyncio StreamWriter), describe them."""
        if isinstance(value, ast.Await):
            opened = F.awaited_target(value.value, self.imports.call_name)
            if isinstance(opened, ast.Call) and self.imports.call_name(opened) in F.STREAM_OPENERS:
                return _Creation(
                    opened, F.Family.UNKNOWN, F.SockType.STREAM, F.Role.CONNECTED, (False, True), (), WRITER
                )
            if isinstance(opened, ast.Call) and F.awaited_accept(opened):
                return _Creation(opened, F.Family.UNKNOWN, F.SockType.STREAM, F.Role.CONNECTED, (True, False), ())
            return self._made(value)
        if isinstance(value, ast.Subscript) and isinstance(value.value, ast.Call):
            index = value.slice
            if isinstance(index, ast.Constant) and index.value == 0 and self._is_accept(value.value):
                return _Creation(value.value, F.Family.INET, F.SockType.STREAM, F.Role.CONNECTED, (), ())
            return None
        if not isinstance(value, ast.Call):
            return None
        qualname = self.imports.call_name(value)
        if qualname in F.KIND_ARGUMENTS and F.wraps_foreign_descriptor(
            value, F.KIND_ARGUMENTS[qualname], self.imports.call_name
        ):
            return None  # socket(fileno=fd) wraps a descriptor someone else owns
        if qualname in F.SOCKET_FACTORIES:
            family, kind, role, count = F.SOCKET_FACTORIES[qualname]
            if qualname in F.KIND_ARGUMENTS:
                family, kind = self._socket_kind(value, family, kind, F.KIND_ARGUMENTS[qualname], state)
            return _Creation(value, family, kind, role, (True,) * count, ())
        func = value.func
        if self._is_accept(value):
            listener = self._owned_or_created(value.func.value, state)  # type: ignore[attr-defined]
            family = listener[0] if listener else F.Family.UNKNOWN
            return _Creation(value, family, F.SockType.STREAM, F.Role.CONNECTED, (True, False), ())
        wrapping = qualname in F.WRAPPING_FUNCTIONS or (
            isinstance(func, ast.Attribute) and func.attr in F.WRAPPING_METHODS
        )
        if wrapping:
            wrapped = value.args[0] if value.args else next((k.value for k in value.keywords if k.arg == "sock"), None)
            inner = None if self._borrowed(wrapped, state) else self._owned_or_created(wrapped, state)
            if inner is not None:
                return _Creation(value, inner[0], F.SockType.STREAM, F.Role.UNKNOWN, (), inner[1])
        if isinstance(func, ast.Attribute) and func.attr in F.DUPLICATING_METHODS and not value.args:
            source = self._owned_or_created(func.value, state)
            family = source[0] if source else F.Family.UNKNOWN
            return _Creation(value, family, F.SockType.UNKNOWN, F.Role.UNKNOWN, (), ())
        return self._made(value)

    def _made(self, value: ast.expr) -> _Creation | None:
        """A socket or writer returned by a factory function of the module (the caller owns it), or made
        by an injected socket module."""
        made = self.summaries.made(value, self.facts.node) if self.summaries is not None else None
        if made is None:
            return None
        call = value.value if isinstance(value, ast.Await) else value
        assert isinstance(call, ast.Call)
        summarised = self._summarised(call)
        released = {id(argument) for argument, _ in (summarised[1] if summarised else ())}
        kept = [a for a in (*call.args, *(k.value for k in call.keywords)) if id(a) not in released]
        consumes = tuple(name for name in (receiver_name(a, self.self_name) for a in kept) if name)
        return _Creation(call, made.family, made.type, made.role, made.slots, consumes, made.kind)

    def _borrowed(self, expr: ast.expr | None, state: State) -> bool:
        """Whether `expr` names a parameter (or `self.attr`) socket the scope follows without owning it, or
        is about to (it is not followed yet)."""
        name = receiver_name(expr, self.self_name) if expr is not None else None
        if not name or not self._borrowable(name):
            return False
        return not any(self.by_rid[rid].owned for rid in state.rids(name))

    def _borrowable(self, name: str) -> bool:
        """A parameter of the scope, or an attribute of `self`: what the scope may use without owning."""
        return name in self.borrowable or bool(self.self_name and name.startswith(self.self_name + "."))

    def _owned_or_created(self, expr: ast.expr | None, state: State) -> tuple[F.Family, tuple[str, ...]] | None:
        """The family of an owned socket named by `expr` (and the name), or of a socket it creates."""
        name = receiver_name(expr, self.self_name) if expr is not None else None
        if name and state.rids(name):
            rid = min(state.rids(name))
            return self.by_rid[rid].family, (name,)
        if expr is not None:
            created = self._creation(expr, state)
            if created is not None and not created.slots:
                return created.family, ()
        return None

    @staticmethod
    def _is_accept(call: ast.Call) -> bool:
        return isinstance(call.func, ast.Attribute) and call.func.attr == "accept" and not call.args

    def _socket_kind(
        self, call: ast.Call, family: F.Family, kind: F.SockType, first: int, state: State
    ) -> tuple[F.Family, F.SockType]:
        """Family and type from the arguments (from position `first`: `fromfd(fd, family, type)`), else the
        factory's `family` and `kind`."""
        named_family, named_type = named_kind(call, first, self.imports, self.bindings)
        family_arg = call.args[first] if len(call.args) > first else None
        family_arg = family_arg or next((k.value for k in call.keywords if k.arg == "family"), None)
        if (
            isinstance(family_arg, ast.Attribute)
            and family_arg.attr == "family"
            and isinstance(family_arg.value, ast.Name)
        ):  # fromfd(x.fileno(), x.family, ...) of a socket we know
            families = {self.by_rid[r].family for r in state.rids(family_arg.value.id)}
            named_family = families.pop() if len(families) == 1 else named_family
        return named_family or family, named_type or kind

    @staticmethod
    def _consume(created: _Creation, state: State) -> State:
        """A wrapped socket's ownership moves into the wrapper."""
        for consumed in created.consumes:
            state = state.update_name(consumed, to_escaped)
        return state

    def _create(self, created: _Creation, names: list[str | None], state: State) -> tuple[State, list[int | None]]:
        state = self._consume(created, state)
        rids: list[int | None] = []
        for index, tracked in enumerate(created.slots or (True,)):
            if not tracked:
                rids.append(None)  # the peer address of accept(), the reader of open_connection()
                continue
            name = names[index] if index < len(names) else None
            rid = next(self.ids)
            resource = Resource(
                rid,
                created.node,
                name or "",
                created.family,
                created.type,
                created.role,
                self.loops[-1] if self.loops else None,
                site=self.position,
                kind=created.kind,
            )
            self.by_rid[rid] = resource
            source = _duplicated(created.node, self.self_name)
            if source:
                self.dup_of[rid] = state.rids(source)
            self.facts.resources.append(resource)
            state = state.born(rid, name)
            if name is not None and self._shared(name):
                state = state.update([rid], to_escaped)
            rids.append(rid)
        return state, rids

    # ------------------------------------------------------------------ expressions
    def evaluate(self, node: ast.AST, state: State, exits: Exits, sink: bool = False) -> State:
        """Apply what evaluating `node` does to owned sockets; record the exception edge if it may raise."""
        events: list[tuple[str, str, ast.AST]] = []
        self._scan(node, events, sink)
        if self._may_raise(node, state):  # what is handed off is gone even if the call then raises
            escaping = state
            call = node.value if isinstance(node, ast.Expr) else None
            if (
                isinstance(call, ast.Call)
                and isinstance(call.func, ast.Attribute)
                and call.func.attr == "close"
                and [(kind, at) for kind, _, at in events] == [("method", call)]
            ):  # `w.close()` fails only where `w` is open: a second close() of a closing writer returns at once
                escaping = state.open_only(events[0][1])
            awaited = _awaited_arguments(node)
            for kind, name, at in events:
                if kind == "lent":  # ... but a constructor that raised made no object to hold it
                    escaping = escaping.update_name(name, to_lent)
                if kind == "escape" and id(at) in awaited:
                    continue  # an awaited call takes the socket when it returns, not when it is cancelled
                escaping = self._escape_event(escaping, kind, name, at)
                if kind == "waited":  # an await of wait_closed() that raised has waited: the close is over
                    escaping = escaping.update_name(name, _waited)
            exits.raise_from(escaping)
        for kind, name, at in events:
            if kind in ("escape", "closure", "lent"):
                state = self._escape_event(state, kind, name, at)
            elif kind == "close":  # graceful_close(s) / await graceful_aclose(w): closed, and gracefully
                self.facts.closed.update(state.rids(name))
                state = state.update_name(name, to_closed)
            elif kind == "method":
                state = self._method(state, name, at)
            elif kind == "drain":
                state = state.update_name(name, to_drained)
            elif kind == "duplicated":
                state = state.update_name(name, to_duplicated)
            elif kind == "answered":
                state = state.update_name(name, to_answered)
            elif kind == "read" and _any_answered(state):  # a module function's read after the reply
                state = state.update_name(name, to_unanswered)
            elif kind == "waited":
                state = state.update_name(name, _waited)
            elif kind in ("closed_by", "shut_by"):  # a function of the module closes it: the call is the close
                state = self._ensure(state, name, at)
                if kind == "shut_by":
                    state = state.update_name(name, lambda f: replace(f, shut=True) if f.life is Life.OPEN else f)
                state = self._close_name(state, name, at)
            elif kind == "sent" or (kind == "sent_on_stream" and self._known_stream(state, name)):
                state = self._ensure(state, name, at).update_name(name, to_sent)
        return state

    def _escape_event(self, state: State, kind: str, name: str, at: ast.AST) -> State:
        """A name handed off, or a closure taking the variables it reads (computed only when it matters).
        In a constructor, handing `self` off hands off what it holds."""
        if kind in ("escape", "lent") and self.holds and name == self.self_name:
            return state.map(lambda _, f: to_escaped(f) if self._held(f) else f)
        if kind in ("escape", "lent"):
            return self._dup_handed_on(state, state.rids(name)).update_name(name, to_escaped)
        if kind == "closure" and state.facts:
            for free in free_names(at) - self._lent(at):
                state = state.update_name(free, to_escaped)
        return state

    def _method(self, state: State, name: str, call: ast.AST) -> State:
        assert isinstance(call, ast.Call) and isinstance(call.func, ast.Attribute)
        method = call.func.attr
        if method in READ_METHODS and _any_answered(state):  # the last read after the last send decides
            state = state.update_name(self.tracker.socket_of(name), to_unanswered)
        if name in self.tracker.files:
            sock = self.tracker.files[name]
            return state.update_name(sock, to_sent) if method in WRITE_METHODS else state
        if method in _SOCKET_METHODS:
            state = self._ensure(state, name, call)
        if method == "close":
            return self._close_name(state, name, call)
        if method == "detach":
            return state.update_name(name, to_escaped)
        if method == "shutdown":
            write, read = self._shut_sides(call)
            state = state.update_name(
                name,
                lambda f: replace(f, shut=f.shut or write, read_shut=f.read_shut or read) if f.life is Life.OPEN else f,
            )
            member = self._member(name) if read else None
            # the class reads its replies elsewhere, but no read takes one in once the read side is shut
            return state.update_name(name, to_sent) if member is not None and member.sends_on_stream else state
        if method in _SEND_METHODS and (
            method in _STREAM_SEND_METHODS or call in self.partial or self._known_stream(state, name)
        ):
            return state.update_name(name, to_sent)
        return state

    @cached_property
    def partial(self) -> set[ast.Call]:
        """The `send()` calls of the scope whose count advances a buffer: sends on a stream socket."""
        return partial_sends(self.body)

    def _known_stream(self, state: State, name: str) -> bool:
        """`send`/`sendto`/`sendmsg` count as sending only on a socket known to be SOCK_STREAM."""
        return any(self.by_rid[rid].type is F.SockType.STREAM for rid in state.rids(name))

    def _shut_sides(self, call: ast.Call) -> tuple[bool, bool]:
        """Which sides a `shutdown(how)` shuts, (write, read): `SHUT_WR`/`1`/`True` writing, `SHUT_RD`/`0`
        reading, `SHUT_RDWR`/`2` both, also through a name every binding of which agrees
        (`HOW = socket.SHUT_RDWR`); (False, False) when `how` is not known."""
        return self._sides(call.args[0], 0) if len(call.args) == 1 else (False, False)

    def _sides(self, how: ast.expr, depth: int) -> tuple[bool, bool]:
        unknown = (False, False)
        if isinstance(how, ast.Constant):
            constant = int(how.value) if isinstance(how.value, int) else -1  # True is 1, SHUT_WR
            return _SHUT_SIDES.get(_SHUT_NAMES.get(constant, ""), unknown)
        qualname = self.imports.qualname(how) or ""
        last = how.attr if isinstance(how, ast.Attribute) else how.id if isinstance(how, ast.Name) else ""
        sides = _SHUT_SIDES.get(qualname.rsplit(".", 1)[-1], _SHUT_SIDES.get(last))
        if sides is not None or qualname or not isinstance(how, ast.Name) or depth > 3 or self.bindings is None:
            return sides or unknown
        found = {self._sides(value, depth + 1) for value in self.bindings().values(how)}
        return found.pop() if len(found) == 1 else unknown

    def _ensure(self, state: State, name: str, node: ast.AST) -> State:
        """Start following a parameter or `self.attr` socket the first time it is used as one."""
        if not self._borrowable(name) or state.rids(name):
            return state
        attribute = name.split(".", 1)[1] if "." in name else ""
        return self._born(state, node, name, WRITER if attribute in self.streams.attributes else SOCKET)

    def _born(self, state: State, node: ast.AST, name: str, kind: str = SOCKET, owned: bool = False) -> State:
        """Start following a socket or writer the scope did not create here (a parameter, an attribute)."""
        rid = next(self.ids)
        loop = self.loops[-1] if self.loops else None
        family, sock_type, role = F.Family.UNKNOWN, F.SockType.UNKNOWN, F.Role.UNKNOWN
        member = self._member(name)
        if member is not None:  # what the class does with it elsewhere decides its kind, and its sends
            family, sock_type = member.family, member.type
            role = F.Role.LISTENING if member.listening else member.role
        resource = Resource(rid, node, name, family, sock_type, role, loop, owned=owned, kind=kind)
        self.by_rid[rid] = resource
        self.facts.resources.append(resource)
        state = state.born(rid, name)
        if self.propagating:
            state = state.update([rid], to_exceptional)
        return state.update([rid], to_sent) if member is not None and member.sent and kind == SOCKET else state

    def _close_name(self, state: State, name: str, node: ast.AST) -> State:
        statements, index = self.position
        previous = statements[index - 1] if index else None
        self._record_closes(state.named(name), node, statements[index], name, previous)
        self.facts.closed.update(state.rids(name))

        def close(rid: int, f: Facts) -> Facts:
            if f.life is not Life.OPEN or name not in f.names:
                return f
            pending = node if self.by_rid[rid].kind == WRITER else None
            return replace(f, life=Life.CLOSED, pending=pending)

        return state.map(close)

    def _record_closes(
        self,
        facts: dict[int, frozenset[Facts]],
        node: ast.AST,
        statement: ast.stmt,
        handle: str,
        previous: ast.stmt | None = None,
    ) -> None:
        for rid, fs in facts.items():
            normal = frozenset(f for f in fs if f.life is Life.OPEN and not f.exceptional)
            if normal and rid in self.by_rid:
                self.facts.record_close(CloseSite(self.by_rid[rid], node, normal, statement, handle, previous))

    def _scan(self, node: ast.AST, events: list[tuple[str, str, ast.AST]], sink: bool = False) -> None:
        """Collect, in evaluation order, method calls on names, closes, and names that escape."""
        if isinstance(node, ast.Name):
            if sink and isinstance(node.ctx, ast.Load):
                events.append(("escape", node.id, node))
            return
        if isinstance(node, NESTED_SCOPES):  # a closure made here takes the variables it reads
            events.append(("closure", "", node))  # its free names escape: computed only if a socket is tracked
            return
        if isinstance(node, ast.Attribute):
            if sink and isinstance(node.value, ast.Name) and node.attr in _CLOSERS:
                events.append(("escape", node.value.id, node))  # `addCleanup(s.close)` hands the close off
            held = self._held_attribute(node) if sink else None
            if held:
                events.append(("escape", held, node))
            self._scan(node.value, events)
            return
        if isinstance(node, ast.Call):
            duplicated = _duplicated(node, self.self_name) if sink else None
            if duplicated:
                events.append(("duplicated", duplicated, node))  # `q.put(conn.dup())`, `return conn.dup()`
            self._scan_call(node, events)
            return
        if isinstance(node, ast.Await):
            for call in ast.walk(node.value):
                waited = self._wait_closed_of(call)
                if waited:
                    events.append(("waited", waited, call))
                elif isinstance(call, ast.Name) and call.id in self.waiters:  # `await task` of wait_closed()
                    events.append(("waited", self.waiters[call.id], call))
        if isinstance(node, (ast.Tuple, ast.List, ast.Set, ast.Starred, ast.Await, ast.NamedExpr)):
            children: Iterable[ast.AST] = ast.iter_child_nodes(node)
            keep = sink
        elif isinstance(node, ast.Dict):
            children, keep = [*(k for k in node.keys if k), *node.values], sink
        elif isinstance(node, ast.IfExp):
            self._scan(node.test, events)
            children, keep = [node.body, node.orelse], sink
        elif isinstance(node, (ast.Yield, ast.YieldFrom)):
            children, keep = ast.iter_child_nodes(node), True
        elif isinstance(node, (ast.BoolOp,)):
            children, keep = node.values, sink
        else:
            children, keep = ast.iter_child_nodes(node), False
        for child in children:
            self._scan(child, events, keep)

    def _scan_call(self, call: ast.Call, events: list[tuple[str, str, ast.AST]]) -> None:
        func = call.func
        arguments = [*call.args, *(k.value for k in call.keywords)]
        qualname = self.imports.call_name(call)
        receiver = receiver_name(func.value, self.self_name) if isinstance(func, ast.Attribute) else None
        if receiver:
            events.append(("method", receiver, call))
        elif isinstance(func, ast.Name) and func.id in self.closers and not arguments:
            events.append(("closed_by", self.closers[func.id], call))  # `close()` after `close = s.close`
        else:
            self._scan(func, events)
        drained = self.tracker.reads_to_end(call)
        if drained:
            events.append(("drain", drained, call))
        helper = self._called_helper(call)
        drains = self._helper_drains(helper) if helper is not None else self._module_function_drains(call)
        events.extend(("drain", name, call) for name in drains)
        exact = self.tracker.reads_exactly(call)
        if exact:
            events.append(("answered", exact, call))
        if self._closing_function(call) and call.args and isinstance(call.args[0], ast.Name):
            events.append(("close", call.args[0].id, call))
            arguments = arguments[1:]
        reader = call.args[0] if call.args else None
        if qualname == "builtins.iter" and isinstance(reader, ast.Lambda) and self.tracker.eof_iterable(call):
            arguments = arguments[1:]  # `iter(lambda: s.recv(n), b"")` reads s, and lives as long as the loop
        summarised = self._summarised(call)
        uses = summarised[1] if summarised is not None else None
        if summarised is not None and receiver is not None and receiver.split(".")[0] == self.self_name:
            for attr in summarised[0].closes_attributes:
                events.append(("close", f"{self.self_name}.{attr}", call))  # `self.close()`
            for attr in summarised[0].sends_attributes - summarised[0].closes_attributes:
                events.append(("sent", f"{self.self_name}.{attr}", call))  # `self._send_closing_frame()`
        for argument, use in uses or ():
            name = receiver_name(argument, self.self_name)
            if name is not None:
                events.extend((kind, name, call) for kind in _use_events(use))
                arguments = [a for a in arguments if a is not argument]
        keeps = uses is not None or not (
            qualname in F.NON_KEEPING_CALLS or (isinstance(func, ast.Attribute) and func.attr in F.NON_KEEPING_METHODS)
        )
        lent = keeps and _constructs(call)
        for argument in arguments:
            if lent and isinstance(argument, ast.Name):
                events.append(("lent", argument.id, argument))  # `Client(sock)`, `cls(sock=sock)`
            else:
                self._scan(argument, events, keeps)

    def _summarised(self, call: ast.Call) -> tuple[Summary, list[tuple[ast.expr, ParameterUse]]] | None:
        """For a call of a function of the module, its summary and the arguments it closes or only uses (not
        kept), with what it does; None for any other call. The argument it returns to an assignment being
        walked (`_passed_through`) is one it uses."""
        found = self.summaries.of_call(call, self.facts.node) if self.summaries is not None else None
        if found is None:
            return None
        summary, bound = found
        uses = [
            (argument, summary.passes[1] if argument is self._passing and summary.passes else summary.use(parameter))
            for argument, parameter in bound
        ]
        return summary, [(argument, use) for argument, use in uses if use.use is not Use.KEPT]

    def _passed_through(self, value: ast.expr, state: State) -> ast.Name | None:
        """The owned socket `value` gives back: `sock` in `configure(sock)` of a function of the module that
        returns its parameter on every path and only uses it besides (`Summary.passes`)."""
        if not isinstance(value, ast.Call) or self.summaries is None:
            return None
        found = self.summaries.of_call(value, self.facts.node)
        passes = found[0].passes if found is not None else None
        if found is None or passes is None:
            return None
        argument = next((a for a, parameter in found[1] if parameter == passes[0]), None)
        return argument if isinstance(argument, ast.Name) and state.owns(argument.id) else None

    @staticmethod
    def _graceful_context(expr: ast.expr) -> bool:
        """`graceful(sock)` from closelint_graceful (or closelint.graceful) or a vendored copy of it."""
        if not isinstance(expr, ast.Call):
            return False
        func = expr.func
        return (func.attr if isinstance(func, ast.Attribute) else getattr(func, "id", "")) == "graceful"

    def _closing_function(self, call: ast.Call) -> bool:
        """`graceful_close(s)` / `graceful_aclose(w)`, also imported under another name."""
        func = call.func
        name = func.attr if isinstance(func, ast.Attribute) else func.id if isinstance(func, ast.Name) else ""
        imported = (self.imports.call_name(call) or "").rsplit(".", 1)[-1]
        return name in F.CLOSING_FUNCTIONS_SUFFIX or imported in F.CLOSING_FUNCTIONS_SUFFIX

    def _may_raise(self, node: ast.AST, state: State) -> bool:
        """Whether evaluating `node` may raise in a way that leaks a socket: an `await` (cancellation), or a
        call that uses an owned socket — one of its methods, or the socket passed as an argument.

        Calls that do not touch the socket (print, logging, arithmetic helpers) are not taken to fail:
        network errors are what leak sockets in practice, and flagging every call makes CL102 noise."""
        stack = [node]
        while stack:
            child = stack.pop()
            if isinstance(child, NESTED_SCOPES):
                continue
            if isinstance(child, ast.Await):
                return True
            if isinstance(child, ast.Call) and self._may_fail(child, state):
                return True
            stack.extend(ast.iter_child_nodes(child))
        return False

    def _may_fail(self, call: ast.Call, state: State) -> bool:
        func = call.func
        helper = self._called_helper(call)
        if helper is not None and any(state.owns(name) for name in lent_names(helper)):
            return True  # it reads the socket: it may raise as a recv() here would
        if self._closing_function(call) or self.imports.call_name(call) in F.NON_KEEPING_CALLS:
            return False
        if self.holds and self.imports.call_name(call) in F.SOCKET_FACTORIES:
            return True  # a second socket of a constructor (a raw socket without CAP_NET_RAW, EMFILE)
        receiver = receiver_name(func.value, self.self_name) if isinstance(func, ast.Attribute) else None
        owned = receiver is not None and (state.owns(receiver) or receiver in self.tracker.files)
        if self.expecting_failure and not owned:
            return True  # the block of `with pytest.raises(...)` is meant to raise: any call may be the one
        summarised = self._summarised(call)
        if summarised is not None and (
            any(use.use in _CLOSING_USES for _, use in summarised[1]) or summarised[0].closes_attributes
        ):
            return False  # a close helper of the module, a method that closes what the object holds
        if self._own_method_fails(call):
            return True
        if summarised is not None:
            callee, uses = summarised
            if self.holds and any(state.owns(f"{self.self_name}.{a}") for a in callee.uses_attributes):
                return True  # a method using what the constructor holds
            inert = {id(argument) for argument, use in uses if not use.raises}
            if self.policy.raising_calls == "any" and not inert:
                return True
            return any(
                self._passes_socket(a, state)
                for a in [*call.args, *(k.value for k in call.keywords)]
                if id(a) not in inert
            )
        if owned:
            assert isinstance(func, ast.Attribute) and receiver is not None
            return (func.attr not in F.NON_RAISING_METHODS and not self._infallible_option(call, receiver, state)) or (
                func.attr in F.RAISING_WRITER_METHODS
                and any(self.by_rid[r].kind == WRITER for r in state.rids(receiver))
            )
        if isinstance(func, ast.Attribute) and func.attr in F.NON_KEEPING_METHODS | F.INFALLIBLE_HANDOFFS:
            return False
        if self.policy.raising_calls == "any":
            return True
        return any(self._passes_socket(argument, state) for argument in [*call.args, *(k.value for k in call.keywords)])

    def _own_method_fails(self, call: ast.Call) -> bool:
        """`self.m(...)` in a method, where `m` may raise: what the object runs there (`self.clone()`,
        `self.change_ifname(name)`) is code that fails whether or not it touches the socket. A method of
        the module fails when its body may (`ClassModel.method_may_fail`); one the module does not define
        (a hook of a base class of another module, a callable kept on `self`) is unknown code, which may
        fail, except in a unittest-style test class: there it is the test framework's (`assertEqual`,
        `addCleanup`), whose failure fails the test, as `self.fail()` does."""
        func = call.func
        if not (
            self.model is not None
            and isinstance(func, ast.Attribute)
            and isinstance(func.value, ast.Name)
            and func.value.id == self.self_name
        ):
            return False
        fails = self.model().method_may_fail(func.attr)
        return not self.test_case if fails is None else fails

    def _infallible_option(self, call: ast.Call, receiver: str, state: State) -> bool:
        """`setsockopt(SOL_SOCKET, SO_REUSEADDR, 1)` and the other options of `factories.INFALLIBLE_OPTIONS`:
        Linux accepts them on any open socket we created; not on an accepted connection, which the peer
        may have reset already (macOS then refuses them with EINVAL). `setsockopt(IPPROTO_TCP, TCP_NODELAY,
        1)` likewise, on a socket created here as TCP (`factories.INFALLIBLE_TCP_OPTIONS`)."""
        func = call.func
        if not (isinstance(func, ast.Attribute) and func.attr == "setsockopt" and len(call.args) == 3):
            return False
        resources = [self.by_rid[rid] for rid in state.rids(receiver)]
        if any(self._accepted(r.node) for r in resources):
            return False
        option = self.imports.qualname(call.args[1])
        if option in F.INFALLIBLE_TCP_OPTIONS:
            return self.imports.qualname(call.args[0]) in F.TCP_LEVELS and all(map(self._new_tcp, resources))
        return option in F.INFALLIBLE_OPTIONS

    def _new_tcp(self, resource: Resource) -> bool:
        """Whether `resource` is a TCP socket its creating call makes new (`factories.NEW_SOCKET_FACTORIES`)."""
        return (
            isinstance(resource.node, ast.Call)
            and self.imports.call_name(resource.node) in F.NEW_SOCKET_FACTORIES
            and resource.family is F.Family.INET
            and resource.type is F.SockType.STREAM
        )

    def _accepted(self, node: ast.AST) -> bool:
        """Whether the creating call `node` accepts a connection (`srv.accept()`, `await loop.sock_accept(srv)`)."""
        return isinstance(node, ast.Call) and (self._is_accept(node) or F.awaited_accept(node))

    def _passes_socket(self, expr: ast.AST, state: State) -> bool:
        """Whether `expr` hands an owned socket itself (not `sock.fileno()`, not `sock.family`) to a call."""
        if isinstance(expr, ast.Name):
            return state.owns(expr.id)
        if isinstance(expr, ast.Attribute):  # `self.sock` a constructor holds
            held = self._held_attribute(expr)
            return held is not None and state.owns(held)
        if isinstance(expr, (ast.Call, *NESTED_SCOPES)):
            return False  # attribute reads and nested calls are judged on their own
        return any(self._passes_socket(child, state) for child in ast.iter_child_nodes(expr))

    # ------------------------------------------------------------------ refinement
    def _eof(self, test: ast.expr, state: State, outcome: bool) -> State:
        """On the branch where `test` says a read returned nothing, the socket has been read to EOF."""
        eof = self.tracker.emptiness(test)
        return state.update_name(eof[0], to_drained) if eof and eof[1] == outcome else state

    def _refine(self, test: ast.expr, state: State, outcome: bool) -> State:
        """On the branch where `test` says the variable is None (or falsy), it holds no open socket."""
        negate = False
        while isinstance(test, ast.UnaryOp) and isinstance(test.op, ast.Not):
            test, negate = test.operand, not negate
        name: str | None = None
        none_when = False
        if isinstance(test, ast.Name):
            name = test.id
        elif (
            isinstance(test, ast.Compare)
            and len(test.ops) == 1
            and isinstance(test.left, ast.Name)
            and isinstance(test.comparators[0], ast.Constant)
            and test.comparators[0].value is None
        ):
            name = test.left.id
            none_when = isinstance(test.ops[0], (ast.Is, ast.Eq))
        if name is not None and (outcome != negate) == none_when:
            return state.update_name(name, to_absent)
        return state


def _run_out(test: ast.expr, entry: State, again: State) -> State | None:
    """The paths that leave a `while` loop because its test is false after an iteration (`done = True`).

    The body is walked once. A path on which the flags keep the test true runs the same iteration again;
    but when the body moved a flag the test reads to another value (a state machine going on to its next
    state), the later iterations are not walked, and every path is kept."""
    exited = again.given(test, False)
    if exited is not None:
        return exited
    read = {n.id for n in ast.walk(test) if isinstance(n, ast.Name)}
    return again if any(again.values.get(n) != entry.values.get(n) for n in read) else None


def _constructs(call: ast.Call) -> bool:
    """Whether `call` makes an object of a class: `Client(...)`, `module.Client(...)`, `cls(...)` (by the
    naming conventions of PEP 8; an ALL_CAPS name is a constant)."""
    func = call.func
    name = func.attr if isinstance(func, ast.Attribute) else func.id if isinstance(func, ast.Name) else ""
    return name == "cls" or (name[:1].isupper() and not name.isupper())


def _duplicated(node: ast.AST, self_name: str | None) -> str | None:
    """The socket `node` is a `dup()` of (`conn.dup()`), if it is one."""
    if not (isinstance(node, ast.Call) and isinstance(node.func, ast.Attribute) and not node.args):
        return None
    return receiver_name(node.func.value, self_name) if node.func.attr in F.DUPLICATING_METHODS else None


def _awaited_arguments(node: ast.AST) -> set[int]:
    """The ids of the names passed as arguments to awaited calls in `node` (not its nested functions)."""
    found: set[int] = set()
    for child in own_nodes([node]) if isinstance(node, ast.stmt) else ast.walk(node):
        if isinstance(child, ast.Await) and isinstance(child.value, ast.Call):
            call = child.value
            found.update(id(a) for a in [*call.args, *(k.value for k in call.keywords)] if isinstance(a, ast.Name))
    return found


def _awaits(body: list[ast.stmt]) -> bool:
    """Whether `body` (not its nested functions) may be suspended, and so cancelled: an `await`, an `async
    for` or `async with`, or a `yield` (an async generator's `aclose()` raises GeneratorExit there)."""
    suspending = (ast.Await, ast.AsyncFor, ast.AsyncWith, ast.Yield, ast.YieldFrom)
    return any(isinstance(node, suspending) for node in own_nodes(body))


def _raises(handler: ast.ExceptHandler) -> bool:
    """Whether an `except` clause has a `raise` of its own (not in a nested function)."""
    return any(isinstance(node, ast.Raise) for node in own_nodes(handler.body))


def _can_raise(body: list[ast.stmt]) -> bool:
    """Whether anything in `body` can raise at all (a call, an `await`, a `raise`, an index, an import), so
    that its handlers are reachable, whether or not a followed socket takes part."""
    raising = (ast.Call, ast.Await, ast.Raise, ast.Subscript, ast.Assert, ast.Import, ast.ImportFrom)
    return any(isinstance(node, raising) for node in own_nodes(body))


def _waited(f: Facts) -> Facts:
    return replace(f, pending=None) if f.pending is not None else f


def _waits_under_if(entry: State, ends: list[State | None]) -> list[State | None]:
    """`w.close()` then `if guard: await w.wait_closed()`: a wait under an `if` is taken as the author's
    answer for every branch (the guard is a version check, `hasattr`, a flag), so no branch stays pending."""
    before = {f.pending for fs in entry.facts.values() for f in fs if f.pending is not None}
    done: set[ast.AST] = set()
    for end in ends:
        if end is not None and before:
            done |= before - {f.pending for fs in end.facts.values() for f in fs if f.pending is not None}
    if not done:
        return ends
    return [e.map(lambda _, f: _waited(f) if f.pending in done else f) if e is not None else None for e in ends]


def _any_answered(state: State) -> bool:
    return any(f.answered for fs in state.facts.values() for f in fs)


def _flag_name(test: ast.expr) -> str | None:
    """The name `if x:` / `if not x:` branches on."""
    while isinstance(test, ast.UnaryOp) and isinstance(test.op, ast.Not):
        test = test.operand
    return test.id if isinstance(test, ast.Name) else None


def _negated(test: ast.expr) -> bool:
    negated = False
    while isinstance(test, ast.UnaryOp) and isinstance(test.op, ast.Not):
        test, negated = test.operand, not negated
    return negated


def _enum_chain_end(stmt: ast.If) -> list[ast.If]:
    """For `if x == E.A: ... elif x == E.B: ...` with no `else` — one subject compared with members of one
    class (an enum) in every branch — the last `if` of the chain: its missing `else` is taken as
    unreachable, as the author of such a chain means it to be."""
    chain = [stmt]
    while len(chain[-1].orelse) == 1 and isinstance(chain[-1].orelse[0], ast.If):
        chain.append(chain[-1].orelse[0])
    if chain[-1].orelse or len(chain) < 2:
        return []
    subjects, classes = set(), set()
    for link in chain:
        test = link.test
        if not (
            isinstance(test, ast.Compare)
            and len(test.ops) == 1
            and isinstance(test.ops[0], (ast.Eq, ast.Is))
            and isinstance(test.comparators[0], ast.Attribute)
            and isinstance(test.comparators[0].value, (ast.Name, ast.Attribute))
        ):
            return []
        subjects.add(ast.dump(test.left))
        classes.add(ast.dump(test.comparators[0].value))
    return [chain[-1]] if len(subjects) == 1 and len(classes) == 1 else []


def _same_socket(value: ast.expr) -> ast.Name | None:
    """The name whose socket object `value` is: `s`, or `tls` in `tls.unwrap()` (TLS ends, the object stays)."""
    if isinstance(value, ast.Name):
        return value
    if (
        isinstance(value, ast.Call)
        and not value.args
        and isinstance(value.func, ast.Attribute)
        and value.func.attr in F.UNWRAPPING_METHODS
        and isinstance(value.func.value, ast.Name)
    ):
        return value.func.value
    return None


def _wrapped_name(value: ast.expr) -> ast.Name | None:
    """The name a TLS wrapping call takes the socket from: `sock` in `ctx.wrap_socket(sock)`."""
    if not (isinstance(value, ast.Call) and isinstance(value.func, ast.Attribute)):
        return None
    if value.func.attr not in F.WRAPPING_METHODS:
        return None
    wrapped = value.args[0] if value.args else next((k.value for k in value.keywords if k.arg == "sock"), None)
    return wrapped if isinstance(wrapped, ast.Name) else None


def _expects_failure(expr: ast.expr) -> bool:
    """`pytest.raises(...)`, `self.assertRaises(...)`, `self.assertRaisesRegex(...)`."""
    func = expr.func if isinstance(expr, ast.Call) else None
    name = func.attr if isinstance(func, ast.Attribute) else getattr(func, "id", "")
    return name in F.EXPECTED_FAILURE_CONTEXTS


@dataclass(frozen=True)
class _Creation:
    node: ast.Call
    family: F.Family
    type: F.SockType
    role: F.Role
    #: () for a single object; else which items of the returned tuple are tracked (accept: the socket,
    #: not the address; open_connection: the writer, not the reader)
    slots: tuple[bool, ...]
    consumes: tuple[str, ...]  # names whose socket moves into the created one (TLS wrapping)
    kind: str = "socket"
