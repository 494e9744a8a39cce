"""Summaries of the functions and methods of one module: what a call does with the sockets it is given,
and whether it returns a fresh one (SPEC §2, scope of the analysis).

A summary is read from the callee's own statements, once per function and only when a walked scope
calls it (or, for factories, when the function mentions a socket at all). Each parameter is one of:

- *kept*: stored, returned, captured, passed to a call that is not known not to keep it — a hand-off, as
  for any unknown callee;
- *closed*: closed with `close()`, after `shutdown()`, or with `graceful_close()` (directly or through
  another summarised function), and otherwise only used;
- *borrowed*: only its methods and attributes are used (`configure(sock)`, `send_msg(writer, data)`):
  no hand-off, and the call may raise. Whether it sends on it, and whether it awaits `wait_closed()`.

A function that returns one of its parameters on every path and only uses it otherwise
(`def tuned(sock): sock.setsockopt(...); return sock`) *passes it through*: a caller that binds the result
(`sock = tuned(sock)`, `self.sock = self.tuned(sock)`) still owns the socket, and the call may raise.

A function returns a fresh socket or writer when every value it returns is None or a socket (writer) it
created and did not keep elsewhere: the caller owns what it returns. Recursion is cut off: a function
whose summary is being computed is taken as keeping everything and returning nothing.

Calls resolve by name within the module: `f(...)` to the only module-level (or nested) function `f`,
`self.m(...)` / `cls.m(...)` to the method `m` of the enclosing class or of one of its bases defined in
the module. Everything else stays unknown.
"""

from __future__ import annotations

import ast
import enum
from collections.abc import Callable, Iterator
from dataclasses import dataclass, field
from functools import cached_property

from closelint.analysis import factories as F
from closelint.analysis.bindings import Bindings
from closelint.analysis.kinds import named_kind
from closelint.analysis.names import ImportTable
from closelint.analysis.reads import READ_METHODS, partial_sends, receiver_name
from closelint.analysis.replies import completes_reply
from closelint.analysis.scopes import NESTED_SCOPES, Function, ModuleIndex, children, free_names


class Use(enum.Enum):
    """What a function does with one of its parameters."""

    KEPT = "kept"  # may keep it: a hand-off
    BORROWED = "borrowed"  # uses it and keeps nothing
    CLOSED = "closed"  # closes it (plain `close()`, nothing read first)
    SHUT = "shut"  # `shutdown()` and `close()`, nothing read
    GRACEFUL = "graceful"  # closes it gracefully (graceful_close), or reads from it before closing


class Sends(enum.IntEnum):
    """How surely a function sends on a parameter: `sendall`/`sendfile` only exist on stream sockets,
    `send`/`sendto`/`sendmsg` also on zmq sockets, channels and datagram sockets."""

    NO = 0
    MAYBE = 1
    STREAM = 2


@dataclass(frozen=True)
class ParameterUse:
    use: Use
    sends: Sends = Sends.NO
    waits: bool = False  # calls its `wait_closed()` (awaited there, or in a task it starts)
    #: a call of one of its methods that may fail, or a hand to a call that may (SPEC §2, CL102)
    raises: bool = True
    reads: bool = False  # `recv`, `read`, ... on it
    #: its last read, on every normal return and after its last send, completes a reply of a length known in
    #: advance (`replies.completes_reply`): the caller has read the peer's answer (CL201)
    answers: bool = False


KEPT = ParameterUse(Use.KEPT)


@dataclass(frozen=True)
class Made:
    """What a factory call returns: one socket or writer, or a tuple of which `slots` are tracked."""

    family: F.Family
    type: F.SockType
    role: F.Role
    slots: tuple[bool, ...] = ()
    kind: str = "socket"


@dataclass(frozen=True)
class Summary:
    """The facts of one function a caller needs."""

    parameters: dict[str, ParameterUse] = field(default_factory=dict)
    returns: Made | None = None
    #: for a method: the `self.<attr>` names it closes (directly, through a local alias, through a helper
    #: or another method of the class), and those it calls a method of or passes to a call
    closes_attributes: frozenset[str] = frozenset()
    uses_attributes: frozenset[str] = frozenset()
    #: for a method: the `self.<attr>` names it sends on as on a stream socket (`sendall`, `sendfile`),
    #: directly or through a helper or another method of the class. A counted `send()` counts in the class
    #: model only (`classes.Member.sends`): the caller's walk sees no reply read through another method
    sends_attributes: frozenset[str] = frozenset()
    #: the parameter every `return` gives back (`def configure(sock): sock.setsockopt(...); return sock`)
    #: with what the function does to it otherwise; a caller that binds the result keeps the same socket
    #: (the parameter's `use()` stays KEPT: the result may go anywhere)
    passes: tuple[str, ParameterUse] | None = None

    def use(self, name: str) -> ParameterUse:
        return self.parameters.get(name, KEPT)


NOTHING = Summary()
_SENDS = {"send": Sends.MAYBE, "sendto": Sends.MAYBE, "sendmsg": Sends.MAYBE, "sendall": Sends.STREAM}
_SENDS["sendfile"] = Sends.STREAM
_SHUTDOWN = "shutdown"
#: parents under which a name is only looked at
_LOOKING = (ast.Compare, ast.UnaryOp, ast.BoolOp, ast.If, ast.While, ast.Assert, ast.Expr, ast.FormattedValue)


def _positional(function: Function) -> list[str]:
    return [a.arg for a in (*function.args.posonlyargs, *function.args.args)]


def _defaults(function: Function) -> dict[str, ast.expr]:
    """Each parameter of `function` that has a default, with it."""
    arguments = function.args
    positional = [*arguments.posonlyargs, *arguments.args]
    defaulted = positional[len(positional) - len(arguments.defaults) :]
    found = {a.arg: d for a, d in zip(defaulted, arguments.defaults, strict=True)}
    found.update((a.arg, d) for a, d in zip(arguments.kwonlyargs, arguments.kw_defaults, strict=True) if d is not None)
    return found


def is_static(function: Function) -> bool:
    """Whether `function` is decorated `@staticmethod`: its first parameter is no instance."""
    return any(isinstance(d, ast.Name) and d.id == "staticmethod" for d in function.decorator_list)


def _is_classmethod(function: Function) -> bool:
    return any(isinstance(d, ast.Name) and d.id == "classmethod" for d in function.decorator_list)


class ModuleSummaries:
    """The summaries of one module's functions, computed on demand and kept."""

    def __init__(
        self, index: ModuleIndex, imports: ImportTable, bindings: Callable[[], Bindings] | None = None
    ) -> None:
        self.imports = imports
        #: the module's name bindings, built when a socket's family or type is first named through a name
        self.bindings = bindings
        self.owner: dict[ast.AST, ast.ClassDef | None] = {}
        self._functions: dict[str, list[Function]] = {}
        self._methods: dict[ast.ClassDef, dict[str, Function]] = {}
        for function, owner in index.functions:
            self.owner[function] = owner
            if owner is None:
                self._functions.setdefault(function.name, []).append(function)
            else:
                self._methods.setdefault(owner, {})[function.name] = function
        self._classes = {c.name: c for c in index.classes}
        self.functions: list[Function] = [function for function, _ in index.functions]
        #: names of the functions known to return a fresh socket (filled by the module's first pass)
        self.factory_names: set[str] = set()
        self._done: dict[ast.AST, Summary] = {}

    # ------------------------------------------------------------------ resolution
    def callee(self, call: ast.Call, scope: ast.AST) -> tuple[Function, list[str]] | None:
        """The module function a call runs and the parameters its arguments bind (the receiver left out)."""
        func = call.func
        if isinstance(func, ast.Name):
            if self.imports.qualname(func) is not None:
                return None
            found = self._functions.get(func.id, [])
            if len(found) != 1:
                return None
            return found[0], _positional(found[0])
        if not (isinstance(func, ast.Attribute) and isinstance(func.value, ast.Name)):
            return None
        named = self._classes.get(func.value.id)
        if named is not None and self.imports.qualname(func.value) is None:
            return self._class_level(named, func.attr)
        cls = self.owner.get(scope)
        if cls is None or not isinstance(scope, (ast.FunctionDef, ast.AsyncFunctionDef)) or is_static(scope):
            return None
        positional = _positional(scope)
        if not positional or func.value.id != positional[0]:
            return None
        method = self.method(cls, func.attr)
        if method is None:
            return None
        names = _positional(method)
        return method, names if is_static(method) else names[1:]

    def _class_level(self, cls: ast.ClassDef, name: str) -> tuple[Function, list[str]] | None:
        """`Factory.make(...)` through the class's name: a static method binds every argument, a class
        method all but `cls`; an instance method called this way takes its instance as an argument."""
        method = self.method(cls, name)
        if method is None:
            return None
        if is_static(method):
            return method, _positional(method)
        return (method, _positional(method)[1:]) if _is_classmethod(method) else None

    def method(self, cls: ast.ClassDef, name: str, seen: frozenset[str] = frozenset()) -> Function | None:
        """The method `name` of `cls` or of a base class defined in the module."""
        found = self._methods.get(cls, {}).get(name)
        if found is not None:
            return found
        for base in cls.bases:
            if isinstance(base, ast.Name) and base.id in self._classes and base.id not in seen:
                found = self.method(self._classes[base.id], name, seen | {base.id})
                if found is not None:
                    return found
        return None

    def bind(self, call: ast.Call, names: list[str]) -> Iterator[tuple[ast.expr, str]]:
        """Each argument of `call` with the parameter it binds (nothing for `*args` / `**kwargs`)."""
        if any(isinstance(a, ast.Starred) for a in call.args):
            return
        yield from zip(call.args, names, strict=False)
        for keyword in call.keywords:
            if keyword.arg is not None:
                yield keyword.value, keyword.arg

    def of_call(self, call: ast.Call, scope: ast.AST) -> tuple[Summary, list[tuple[ast.expr, str]]] | None:
        """The summary of the function `call` runs, with its arguments bound to parameters."""
        found = self.callee(call, scope)
        if found is None:
            return None
        function, names = found
        return self.summary(function), list(self.bind(call, names))

    def made(self, value: ast.expr, scope: ast.AST) -> Made | None:
        """What `value` creates through a module function (awaited for an `async def`), or an injected
        socket module (`self.socket_module.socket(AF_INET, SOCK_STREAM)`)."""
        awaited = isinstance(value, ast.Await)
        call = value.value if isinstance(value, ast.Await) else value
        if not isinstance(call, ast.Call):
            return None
        if not awaited:
            injected = self.injected(call, scope)
            if injected is not None:
                return injected
        found = self.callee(call, scope)
        if found is None or isinstance(found[0], ast.AsyncFunctionDef) != awaited:
            return None
        return self.summary(found[0]).returns

    def injected(self, call: ast.Call, scope: ast.AST) -> Made | None:
        """`<object>.socket(AF_INET, SOCK_STREAM)` on an object that is not an import: a socket module
        passed in (for tests) creates a socket just as the module does. Its constants may be read through
        the same object (`self.socket_module.AF_UNIX`); an object the class binds to the socket module
        (`_binds_socket_module`) creates one with any arguments, none meaning AF_INET and SOCK_STREAM
        (Python docs, `socket.socket`)."""
        func = call.func
        if not (isinstance(func, ast.Attribute) and func.attr == "socket") or self.imports.qualname(func.value):
            return None
        family, sock_type = named_kind(call, 0, self.imports, self.bindings, func.value)
        if family in (None, F.Family.UNKNOWN) and not self._binds_socket_module(func.value, scope):
            return None
        return Made(family or F.Family.INET, sock_type or F.SockType.STREAM, F.Role.UNKNOWN)

    def _binds_socket_module(self, expr: ast.expr, scope: ast.AST) -> bool:
        """Whether `expr` is `self.<attr>` in a method of a class that binds `<attr>` to the socket module
        and to nothing else: as a class attribute (`socket_module = socket`), or in its methods
        (`self.socket_module = socket`, or a parameter defaulting to it: `socket_module=socket`)."""
        cls = self.owner.get(scope)
        if cls is None or not isinstance(scope, (ast.FunctionDef, ast.AsyncFunctionDef)) or is_static(scope):
            return False
        positional = _positional(scope)
        if not (isinstance(expr, ast.Attribute) and isinstance(expr.value, ast.Name) and positional):
            return False
        if expr.value.id != positional[0]:
            return False
        bound = [
            self._socket_module(s.value, None)
            for s in cls.body
            if isinstance(s, ast.Assign) and any(isinstance(t, ast.Name) and t.id == expr.attr for t in s.targets)
        ]
        for method in self._methods.get(cls, {}).values():
            names = _positional(method)
            for node in ast.walk(method):
                if (
                    isinstance(node, ast.Assign)
                    and names
                    and any(receiver_name(t, names[0]) == f"{names[0]}.{expr.attr}" for t in node.targets)
                ):
                    bound.append(self._socket_module(node.value, method))
        return bool(bound) and all(bound)

    def _socket_module(self, value: ast.expr, function: Function | None) -> bool:
        """Whether `value` is the socket module, or a parameter of `function` that defaults to it."""
        if self.imports.qualname(value) == "socket":
            return True
        if function is None or not isinstance(value, ast.Name):
            return False
        default = _defaults(function).get(value.id)
        return default is not None and self.imports.qualname(default) == "socket"

    # ------------------------------------------------------------------ summaries
    def summary(self, function: Function) -> Summary:
        """The summary of `function` (NOTHING while it is being computed: recursion is cut off)."""
        done = self._done.get(function)
        if done is not None:
            return done
        self._done[function] = NOTHING
        result = _Reader(self, function).summary()
        self._done[function] = result
        return result


class _Reader:
    """Reads one function's statements for its summary."""

    def __init__(self, summaries: ModuleSummaries, function: Function) -> None:
        self.summaries = summaries
        self.function = function
        self.imports = summaries.imports
        self.parents: dict[ast.AST, ast.AST] = {}
        self.loads: dict[str, list[ast.Name]] = {}
        self.stores: dict[str, list[ast.AST]] = {}  # name -> the statements (or nodes) that bind it
        self.captured: set[str] = set()
        self.returns: list[ast.expr | None] = []
        self.generator = False
        self._index()

    def _index(self) -> None:
        stack: list[ast.AST] = list(self.function.body)
        for node in stack:
            self.parents[node] = self.function
        while stack:
            node = stack.pop()
            if isinstance(node, NESTED_SCOPES):
                self.captured |= free_names(node)
                continue
            if isinstance(node, ast.Name):
                if isinstance(node.ctx, ast.Load):
                    self.loads.setdefault(node.id, []).append(node)
                else:
                    self.stores.setdefault(node.id, []).append(self._binding(node))
                continue
            if isinstance(node, ast.Return):
                self.returns.append(node.value)
            elif isinstance(node, (ast.Yield, ast.YieldFrom)):
                self.generator = True
            elif isinstance(node, (ast.Global, ast.Nonlocal)):
                self.captured.update(node.names)
            for child in children(node):
                self.parents[child] = node
                stack.append(child)

    def _binding(self, node: ast.Name) -> ast.AST:
        """The statement binding `node` (through tuple targets), or `node` itself for other bindings."""
        parent = self.parents.get(node)
        while isinstance(parent, (ast.Tuple, ast.List, ast.Starred)):
            parent = self.parents.get(parent)
        return parent if isinstance(parent, (ast.Assign, ast.AnnAssign)) else node

    def summary(self) -> Summary:
        names = _positional(self.function) + [a.arg for a in self.function.args.kwonlyargs]
        if self.summaries.owner.get(self.function) is not None and not is_static(self.function) and names:
            names = names[1:]
        uses = {name: self.parameter(name) for name in names}
        closes, used, sends = self.attributes()
        kept = {k: v for k, v in uses.items() if v.use is not Use.KEPT}
        return Summary(kept, self.fresh_return(), closes, used, sends, self.passed_through(names))

    def passed_through(self, names: list[str]) -> tuple[str, ParameterUse] | None:
        """The parameter the function returns on every path (its last statement a `return` of it, as
        every other `return`), with what the function does to it besides: only uses it (borrowed)."""
        last = self.function.body[-1]
        if self.generator or not (isinstance(last, ast.Return) and isinstance(last.value, ast.Name)):
            return None
        name = last.value.id
        if name not in names or not all(isinstance(v, ast.Name) and v.id == name for v in self.returns):
            return None
        use = self.parameter(name, returned=True)
        return (name, use) if use.use is Use.BORROWED else None

    # ------------------------------------------------------------------ attributes of self
    def attributes(self) -> tuple[frozenset[str], frozenset[str], frozenset[str]]:
        """(closed, used, sent on) `self.<attr>` names, for a method; a local alias (`sock = self.sock`)
        counts."""
        positional = _positional(self.function)
        if self.summaries.owner.get(self.function) is None or is_static(self.function) or not positional:
            return frozenset(), frozenset(), frozenset()
        me = positional[0]
        closed: set[str] = set()
        used: set[str] = set()
        sent: set[str] = set()
        handles: list[tuple[ast.expr, str]] = []  # (an expression naming self.attr, attr)
        for node in self.loads.get(me, []):
            parent = self.parents.get(node)
            if isinstance(parent, ast.Attribute):
                handles.append((parent, parent.attr))
                holder = self.parents.get(parent)
                if isinstance(holder, ast.Call) and holder.func is parent:
                    found = self.summaries.of_call(holder, self.function)
                    if found is not None:  # another method of the class
                        closed |= found[0].closes_attributes
                        used |= found[0].uses_attributes
                        sent |= found[0].sends_attributes
                else:
                    alias = self._alias_of(parent)
                    if alias is not None:
                        handles.extend((load, parent.attr) for load in self.loads.get(alias, []))
        for handle, attr in handles:
            parent = self._parent(handle)
            if isinstance(parent, ast.Attribute) and self._called(parent):
                used.add(attr)
                if parent.attr == "close":
                    closed.add(attr)
                if _SENDS.get(parent.attr) is Sends.STREAM:
                    sent.add(attr)
            elif isinstance(parent, ast.Call) and handle is not parent.func:
                used.add(attr)
                use = self._argument_use(parent, handle)
                if use is not None and use.use in (Use.CLOSED, Use.SHUT, Use.GRACEFUL):
                    closed.add(attr)
                if use is not None and use.sends is Sends.STREAM:
                    sent.add(attr)
        return frozenset(closed), frozenset(used), frozenset(sent)

    # ------------------------------------------------------------------ parameters
    def parameter(self, name: str, returned: bool = False) -> ParameterUse:
        """What the function does to its parameter `name`; `returned`: a `return name` keeps nothing."""
        if name in self.captured or name in self.stores:
            return KEPT
        closes, shut, graceful, reads, waits, raises = False, False, False, False, False, False
        sends = Sends.NO
        reading: list[ast.Call] = []  # the calls that read it, send on it, and complete a reply from it
        sending: list[ast.Call] = []
        answering: list[ast.Call] = []
        filed = False  # a makefile() of it, whose reads are not followed here
        for node in self.loads.get(name, []):
            parent = self._parent(node)
            if isinstance(parent, ast.Attribute):
                method = parent.attr
                called = self._called(parent)
                if method in ("detach", "close") and not called:
                    return KEPT  # `addCleanup(s.close)`: the close is handed off
                closes |= called and method == "close" and not self._in_handler(node)
                shut |= called and method == _SHUTDOWN
                sends = max(sends, self._send_level(parent) if called else Sends.NO)
                reads |= called and method in READ_METHODS
                filed |= method == "makefile"
                call = self.parents[parent]
                if called and isinstance(call, ast.Call):
                    reading += [call] if method in READ_METHODS else []
                    sending += [call] if method in _SENDS else []
                waits |= method == "wait_closed" and called  # awaited here, or by a task or wait_for
                raises |= called and method not in F.NON_RAISING_METHODS
                continue
            if isinstance(parent, ast.Call) and node is not parent.func:
                use = self._argument_use(parent, node)
                if use is None:
                    return KEPT
                closes |= use.use in (Use.CLOSED, Use.SHUT, Use.GRACEFUL) and not self._in_handler(node)
                shut |= use.use is Use.SHUT
                graceful |= use.use is Use.GRACEFUL
                sends = max(sends, use.sends)
                waits |= use.waits
                raises |= use.raises
                reads |= use.reads
                reading += [parent] if use.reads else []
                sending += [parent] if use.sends else []
                answering += [parent] if use.answers else []
                continue
            if isinstance(parent, ast.withitem) and parent.optional_vars is None:
                closes |= not self._in_handler(node)  # `with sock:` closes it when the block ends
                continue
            if returned and isinstance(parent, ast.Return):
                continue
            if not isinstance(parent, _LOOKING) or self._returned(parent):
                return KEPT
        if not closes:
            answers = reads and not filed
            answers = answers and completes_reply(
                self.function, name, self.parents, self.imports, reading, sending, answering
            )
            return ParameterUse(Use.BORROWED, sends, waits, raises, reads, answers)
        closing = Use.GRACEFUL if graceful or reads else Use.SHUT if shut else Use.CLOSED
        return ParameterUse(closing, sends, waits, raises, reads)

    def _in_handler(self, node: ast.AST) -> bool:
        """Whether `node` lies in an `except` of the function: a close there happens only when something
        failed (`except OSError: s.close(); raise`), and the caller keeps the socket on the normal path."""
        parent = self.parents.get(node)
        while parent is not None and parent is not self.function:
            if isinstance(parent, ast.ExceptHandler):
                return True
            parent = self.parents.get(parent)
        return False

    def _alias_of(self, value: ast.expr) -> str | None:
        """The local name `value` is assigned to: `sock = self.sock`, `sock, self.sock = self.sock, None`."""
        parent = self.parents.get(value)
        if isinstance(parent, ast.Tuple) and isinstance(self.parents.get(parent), ast.Assign):
            statement = self.parents[parent]
            assert isinstance(statement, ast.Assign)
            target = statement.targets[0] if len(statement.targets) == 1 else None
            if not (
                isinstance(target, ast.Tuple) and statement.value is parent and len(target.elts) == len(parent.elts)
            ):
                return None
            index = next(i for i, element in enumerate(parent.elts) if element is value)
            target = target.elts[index]
        elif isinstance(parent, ast.Assign) and len(parent.targets) == 1 and parent.value is value:
            target = parent.targets[0]
        else:
            return None
        return target.id if isinstance(target, ast.Name) else None

    def _parent(self, node: ast.AST) -> ast.AST | None:
        """The parent of `node`, a keyword argument's call for its value."""
        parent = self.parents.get(node)
        return self.parents.get(parent) if isinstance(parent, ast.keyword) else parent

    def _returned(self, node: ast.AST) -> bool:
        """A BoolOp or similar whose value is returned or stored (`return s or None`)."""
        parent = self.parents.get(node)
        return isinstance(node, ast.BoolOp) and not isinstance(parent, (ast.If, ast.While, ast.UnaryOp, ast.Assert))

    def _send_level(self, method: ast.Attribute) -> Sends:
        """How surely calling `method` sends on a stream: `sendall`, or a `send()` whose count advances a buffer
        (`reads.partial_sends`), surely."""
        counted = method.attr == "send" and self.parents.get(method) in self.partial
        return Sends.STREAM if counted else _SENDS.get(method.attr, Sends.NO)

    @cached_property
    def partial(self) -> set[ast.Call]:
        """The `send()` calls of the function whose count advances a buffer."""
        return partial_sends(self.function.body)

    def _called(self, attribute: ast.Attribute) -> bool:
        parent = self.parents.get(attribute)
        return isinstance(parent, ast.Call) and parent.func is attribute

    def _argument_use(self, call: ast.Call, argument: ast.expr) -> ParameterUse | None:
        """What passing `argument` to `call` does to it; None when the call may keep it."""
        func = call.func
        name = func.attr if isinstance(func, ast.Attribute) else func.id if isinstance(func, ast.Name) else ""
        if name in F.CLOSING_FUNCTIONS_SUFFIX and call.args and call.args[0] is argument:
            return ParameterUse(Use.GRACEFUL, raises=False)
        found = self.summaries.of_call(call, self.function)
        if found is None:
            non_keeping = self.imports.call_name(call) in F.NON_KEEPING_CALLS or (
                isinstance(func, ast.Attribute) and func.attr in F.NON_KEEPING_METHODS
            )
            return ParameterUse(Use.BORROWED, raises=False) if non_keeping else None
        summary, bound = found
        parameter = next((p for a, p in bound if a is argument), None)
        use = summary.use(parameter) if parameter is not None else KEPT
        return None if use.use is Use.KEPT else use

    # ------------------------------------------------------------------ factories
    def fresh_return(self) -> Made | None:
        """What the function returns when every returned value is None or created here and kept nowhere (and
        no cache of its results shares it among its callers)."""
        if self.generator or not self.returns or self._memoized():
            return None
        made: Made | None = None
        for value in self.returns:
            if value is None or (isinstance(value, ast.Constant) and value.value is None) or self._recurs(value):
                continue  # a retry through the function itself returns what its other returns do
            returned = self._returned_value(value)
            if returned is None or (made is not None and returned != made):
                return None
            made = returned
        return made

    def _recurs(self, value: ast.expr) -> bool:
        if not isinstance(value, ast.Call):
            return False
        callee = self.summaries.callee(value, self.function)
        return callee is not None and callee[0] is self.function

    def _memoized(self) -> bool:
        decorators = (d.func if isinstance(d, ast.Call) else d for d in self.function.decorator_list)
        return any(self.imports.qualname(d) in F.MEMOIZERS for d in decorators)

    def _returned_value(self, value: ast.expr) -> Made | None:
        direct = self._creation(value)
        if direct is not None:
            return direct
        if isinstance(value, ast.Name):
            return self._fresh_name(value.id, value)
        if isinstance(value, ast.Tuple) and value.elts:
            items = [self._fresh_name(e.id, e) if isinstance(e, ast.Name) else None for e in value.elts]
            tracked = [i for i in items if i is not None]
            if not tracked or any(i.slots for i in tracked) or len({(i.kind, i.family) for i in tracked}) != 1:
                return None
            first = tracked[0]
            return Made(first.family, first.type, first.role, tuple(i is not None for i in items), first.kind)
        return None

    def _fresh_name(self, name: str, returned: ast.expr) -> Made | None:
        """What `name` holds when every binding of it creates a socket (or writer) or sets None, and it
        is only used as a socket otherwise (never stored, passed on or captured)."""
        if name in self.captured:
            return None
        made: Made | None = None
        for binding in self.stores.get(name, []):
            created = self._bound(binding, name)
            if created is None:
                return None
            if created is not _NONE:
                if made is not None and created != made:
                    return None
                made = created
        if made is None:
            return None
        for node in self.loads.get(name, []):
            if node is returned or self._within_return(node):
                continue
            parent = self._parent(node)
            if isinstance(parent, ast.Attribute):
                if parent.attr == "detach" or (parent.attr == "close" and self._in_finally(parent)):
                    return None  # closed on the way out: what it returns is not open
                if parent.attr == "close" and not self._called(parent):
                    return None  # `addCleanup(s.close)`: what closes it is the cleanup, not the caller
                continue
            if (
                isinstance(parent, ast.Call)
                and node is not parent.func
                and self._argument_use(parent, node) is not None
            ):
                continue
            if isinstance(parent, ast.Call) and self._wraps(parent):
                continue  # `s = ctx.wrap_socket(s)`: the wrapper is what is returned
            if not isinstance(parent, _LOOKING) or self._returned(parent):
                return None
        return made

    def _in_finally(self, node: ast.AST) -> bool:
        child, parent = node, self.parents.get(node)
        while parent is not None and parent is not self.function:
            if isinstance(parent, ast.Try) and any(child is s for s in parent.finalbody):
                return True
            child, parent = parent, self.parents.get(parent)
        return False

    def _within_return(self, node: ast.AST) -> bool:
        parent = self.parents.get(node)
        return isinstance(parent, ast.Tuple) and isinstance(self.parents.get(parent), ast.Return)

    def _bound(self, binding: ast.AST, name: str) -> Made | None:
        """What an assignment binds `name` to: a created socket, `_NONE`, or None (something else)."""
        if not isinstance(binding, (ast.Assign, ast.AnnAssign)) or binding.value is None:
            return None
        value = binding.value
        if isinstance(value, ast.Constant) and value.value is None:
            return _NONE
        targets = binding.targets if isinstance(binding, ast.Assign) else [binding.target]
        if len(targets) != 1:
            return None
        target = targets[0]
        created = self._creation(value)
        if created is None:
            return None
        if isinstance(target, ast.Name):
            return created if not created.slots else None
        if isinstance(target, ast.Tuple) and len(target.elts) == len(created.slots):
            for element, tracked in zip(target.elts, created.slots, strict=True):
                if isinstance(element, ast.Name) and element.id == name:
                    return Made(created.family, created.type, created.role, (), created.kind) if tracked else None
        return None

    def _wraps(self, call: ast.Call) -> bool:
        func = call.func
        return self.imports.call_name(call) in F.WRAPPING_FUNCTIONS or (
            isinstance(func, ast.Attribute) and func.attr in F.WRAPPING_METHODS
        )

    def _creation(self, value: ast.expr) -> Made | None:
        """What `value` creates: a socket factory, `accept()`, TLS wrapping, a stream opener, a factory of
        the module."""
        if isinstance(value, ast.Await):
            opened = F.awaited_target(value.value, self.imports.call_name)
            if isinstance(opened, ast.Call) and self.imports.call_name(opened) in F.STREAM_OPENERS:
                return Made(F.Family.UNKNOWN, F.SockType.STREAM, F.Role.CONNECTED, (False, True), "writer")
            if isinstance(opened, ast.Call) and F.awaited_accept(opened):
                return Made(F.Family.UNKNOWN, F.SockType.STREAM, F.Role.CONNECTED, (True, False))
            return self.summaries.made(value, self.function)
        if not isinstance(value, ast.Call):
            return None
        qualname = self.imports.call_name(value)
        if qualname in F.SOCKET_FACTORIES:
            if qualname in F.KIND_ARGUMENTS and F.wraps_foreign_descriptor(
                value, F.KIND_ARGUMENTS[qualname], self.imports.call_name
            ):
                return None
            family, kind, role, count = F.SOCKET_FACTORIES[qualname]
            if qualname in F.KIND_ARGUMENTS:
                named = named_kind(value, F.KIND_ARGUMENTS[qualname], self.imports, self.summaries.bindings)
                family, kind = named[0] or family, named[1] or kind
            return Made(family, kind, role, (True,) * count)
        func = value.func
        if isinstance(func, ast.Attribute) and func.attr == "accept" and not value.args:
            return Made(F.Family.UNKNOWN, F.SockType.STREAM, F.Role.CONNECTED, (True, False))
        if self._wraps(value):
            wrapped = value.args[0] if value.args else next((k.value for k in value.keywords if k.arg == "sock"), None)
            if isinstance(wrapped, ast.Name):  # the wrapper takes the socket over: what it holds is checked
                return Made(F.Family.UNKNOWN, F.SockType.STREAM, F.Role.UNKNOWN)  # where that name is bound
            inner = self._creation(wrapped) if wrapped is not None else None
            return Made(inner.family, F.SockType.STREAM, F.Role.UNKNOWN) if inner and not inner.slots else None
        return self.summaries.made(value, self.function)


#: a binding to None (a factory that returns None on failure)
_NONE = Made(F.Family.UNKNOWN, F.SockType.UNKNOWN, F.Role.UNKNOWN, (False,), "none")
