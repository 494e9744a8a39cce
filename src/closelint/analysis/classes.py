"""The class model: what each class of a module does with the sockets and writers it keeps on `self`.

Read once per class, from every method of the class and of its bases defined in the module (SPEC §2,
scope of the analysis). Per `self.<attr>`:

- how it is created there (`self.sock = socket.socket(AF_UNIX, ...)`, `create_server`, `accept()`), which
  gives the family, type and role the teardown rules need;
- whether some method sends on it (`self.sock.sendall(...)`, a `send()` whose count advances a buffer,
  through a local alias `sock = self.sock`, or through a function of the module that sends on its
  parameter), listens on it (`listen()`, `accept()`), or calls its `wait_closed()`;
- whether it is one end of a socket pair the class builds over loopback where `socketpair()` is missing
  (connected to the address of a listener the same method made, or accepted from that listener): its peer
  is the process itself, and like `socketpair()` it never gets CL201/CL202.

A teardown method (`close()`, `disconnect()`, `__exit__`, ...) is then judged with what the class does
elsewhere: a plain `close()` of an attribute the class sends on can reset the connection (CL201), a
listening socket never can.

Constructors and connect methods (`SETUP_METHODS`) are where a half-built object loses its socket: a
socket stored on `self` there and an exception escaping the method leaks it (CL102).
"""

from __future__ import annotations

import ast
from dataclasses import dataclass, field
from functools import cached_property

from closelint.analysis import factories as F
from closelint.analysis.kinds import named_kind
from closelint.analysis.names import ImportTable
from closelint.analysis.reads import READ_METHODS, partial_sends
from closelint.analysis.scopes import NESTED_SCOPES, ModuleIndex, children
from closelint.analysis.summaries import ModuleSummaries, Sends, Use

#: methods that build the object or connect it: what they store on `self` and then fail after is lost
SETUP_EXACT = frozenset({"__init__", "__enter__", "__aenter__", "start", "_start"})
SETUP_WORDS = ("connect", "open")
_LISTENING = frozenset({"listen", "accept"})
_READS = READ_METHODS | {"recvfrom", "recvmsg", "recvfrom_into"}
_CONNECTS = frozenset({"connect", "connect_ex"})
_SEND_LEVEL = {"sendall": Sends.STREAM, "sendfile": Sends.STREAM, "send": Sends.MAYBE}
#: handlers after which nothing a `try` body raises gets out
_EVERY_ERROR = frozenset({"builtins.Exception", "builtins.BaseException"})
#: methods of a `makefile()` file object that send on its socket
_FILE_WRITES = frozenset({"write", "writelines"})


def _port_of(subscript: ast.Subscript) -> bool:
    """Whether `subscript` takes the port out of an address (`[1]`, also of an IPv6 4-tuple) or cannot be told."""
    index = subscript.slice
    return not (isinstance(index, ast.Constant) and index.value != 1)


def _is_makefile(call: ast.Call, access: str) -> bool:
    """Whether `call` is `<x>.makefile(mode)` with `access` ("r" or "w") in its mode (default "r"); a mode
    that is not a literal allows both."""
    if not (isinstance(call.func, ast.Attribute) and call.func.attr == "makefile"):
        return False
    mode = call.args[0] if call.args else next((k.value for k in call.keywords if k.arg == "mode"), None)
    if mode is None:
        return access == "r"
    return not (isinstance(mode, ast.Constant) and isinstance(mode.value, str)) or access in mode.value


def may_fail(function: ast.FunctionDef | ast.AsyncFunctionDef, imports: ImportTable) -> bool:
    """Whether running `function` may raise: it raises explicitly, awaits, or calls anything but logging,
    printing and the builtins that only look at their arguments (`factories.NON_KEEPING_CALLS`), outside
    a `try` whose handler catches every error (bare, `Exception`, `BaseException`). A setter or a logging
    method of the class cannot fail; what it calls is not followed further."""
    stack: list[ast.AST] = list(function.body)
    while stack:
        node = stack.pop()
        if isinstance(node, NESTED_SCOPES):
            continue  # defined here, not run here
        if isinstance(node, (ast.Raise, ast.Await)):
            return True
        if isinstance(node, ast.Call) and not _quiet_call(node, imports):
            return True
        if isinstance(node, ast.Try) and any(_catches_everything(h, imports) for h in node.handlers):
            stack.extend([*node.orelse, *node.finalbody, *node.handlers])
            continue
        stack.extend(children(node))
    return False


def _quiet_call(call: ast.Call, imports: ImportTable) -> bool:
    func = call.func
    return imports.call_name(call) in F.NON_KEEPING_CALLS or (
        isinstance(func, ast.Attribute) and func.attr in F.NON_KEEPING_METHODS
    )


def _looks_only(call: ast.Call, imports: ImportTable) -> bool:
    """A call that reads nothing from the socket it is given: logging and the inert builtins (`_quiet_call`),
    `select.select`, a selector's `register()`, TLS wrapping (the same connection), a graceful close."""
    func = call.func
    name = func.attr if isinstance(func, ast.Attribute) else func.id if isinstance(func, ast.Name) else ""
    return (
        _quiet_call(call, imports)
        or imports.call_name(call) in F.WRAPPING_FUNCTIONS
        or name in F.WRAPPING_METHODS | F.INFALLIBLE_HANDOFFS
        or name in F.CLOSING_FUNCTIONS_SUFFIX
    )


def _catches_everything(handler: ast.ExceptHandler, imports: ImportTable) -> bool:
    return handler.type is None or imports.qualname(handler.type) in _EVERY_ERROR


def is_setup_method(name: str) -> bool:
    """`__init__`, `__enter__`, `start`, or a name with `connect` or `open` in it (`_connect`, `reopen`)."""
    lowered = name.lower()
    return name in SETUP_EXACT or any(word in lowered for word in SETUP_WORDS)


#: the teardown a class of another module may do for its subclasses
_TEARDOWNS = frozenset({"close", "aclose"})


def takes_teardown_over(cls: ast.ClassDef) -> bool:
    """Whether `cls` defines its own `close()` (or `aclose()`) and never runs a base class's
    (`super().close()`, `Base.close(self)`): a base of another module then closes nothing at the end of
    the object's life that `cls` does not close itself, whatever it knows of the attributes."""
    methods = {m.name for m in cls.body if isinstance(m, (ast.FunctionDef, ast.AsyncFunctionDef))}
    if not methods & _TEARDOWNS:
        return False
    return not any(
        isinstance(node, ast.Call)
        and isinstance(node.func, ast.Attribute)
        and node.func.attr in _TEARDOWNS
        and (isinstance(node.func.value, ast.Call) or (bool(node.args) and isinstance(node.func.value, ast.Name)))
        for node in ast.walk(cls)
    )


@dataclass
class Member:
    """What the class does with one `self.<attr>` socket (or writer)."""

    family: F.Family = F.Family.UNKNOWN
    type: F.SockType = F.SockType.UNKNOWN
    role: F.Role = F.Role.UNKNOWN
    sends: Sends = Sends.NO
    listening: bool = False
    created: bool = False  # the class creates it (a socket factory, accept(), an injected socket module)
    accepted: bool = False  # from accept(): the server's end of a connection
    reads: bool = False  # some method reads from it (`recv`, `recv_into`, a readable `makefile()`, ...)
    writes: bool = False  # some method calls its `write()`: a file object the class sends through
    #: some method hands it to a call that may keep it (`self.response_class(self.sock)`): what reads the
    #: replies may be that other object
    handed: bool = False

    @property
    def is_socket(self) -> bool:
        """Whether the class shows it holds a socket: it creates one there, or sends on it as on one."""
        return self.created or self.sends is Sends.STREAM or self.listening

    @property
    def sends_on_stream(self) -> bool:
        """Whether some method sends on it as on a stream socket: `sendall`/`sendfile`, or `send` on a known
        stream socket."""
        return self.sends is Sends.STREAM or (self.sends is Sends.MAYBE and self.type is F.SockType.STREAM)

    @property
    def sent(self) -> bool:
        """Whether a close in a teardown method can lose what the class sent: it sends on it as on a stream,
        and it is the server's end or never reads its replies, itself or through an object it hands the
        socket to (http.client's response). A client that reads the replies to what it sent has read them
        before it closes (SPEC §1: a complete, framed reply after the last send leaves nothing to lose) —
        unless the teardown shuts the read side first (`ScopeWalker` then counts `sends_on_stream` alone:
        no read can take in a reply any more)."""
        return self.sends_on_stream and (self.accepted or not (self.reads or self.handed))


@dataclass
class ClassModel:
    node: ast.ClassDef
    members: dict[str, Member] = field(default_factory=dict)
    #: `self.wfile = self.sock.makefile("wb")`: file attribute -> the socket attribute it writes to
    files: dict[str, str] = field(default_factory=dict)
    #: the methods of the class and of its bases in the module, by name: whether running one may raise
    methods: dict[str, bool] = field(default_factory=dict)
    #: the `self.<attr>` names a base class of another module closes in its `close()` (`http.client`'s
    #: connection closes `self.sock`: factories.CLOSING_BASES)
    base_closes: frozenset[str] = frozenset()

    def method_may_fail(self, name: str) -> bool | None:
        """Whether `self.<name>(...)` may raise, for a method of the class or of a base in the module
        (`may_fail` of its body); None for one the module does not define (inherited from a class of
        another module, a callable kept on `self`)."""
        return self.methods.get(name)


@dataclass
class _Reading:
    """One method being read: its `self` parameter, and local aliases of attributes (`sock = self.sock`)."""

    method: ast.FunctionDef | ast.AsyncFunctionDef
    me: str
    model: ClassModel
    aliases: dict[str, str] = field(default_factory=dict)
    made: dict[str, Member] = field(default_factory=dict)  # locals holding a socket the method created
    #: names bound to the address of a socket the method made (`addr = lst.getsockname()`) -> that socket
    addresses: dict[str, str] = field(default_factory=dict)
    #: locals a socket of the method was connected to by address: what they accept is the other end
    looped: set[str] = field(default_factory=set)

    @cached_property
    def partial(self) -> set[ast.Call]:
        """The `send()` calls of the method whose count advances a buffer: sends on a stream socket."""
        return partial_sends(self.method.body)

    def own_address(self, expr: ast.expr) -> str | None:
        """The local socket whose address or port `expr` is or contains (`lst.getsockname()`, its `[1]`, a name
        bound to either, `("127.0.0.1", port)` with `port` unpacked from it), if it names one the method made.
        The host alone (`getsockname()[0]`) names no socket."""
        stack: list[ast.AST] = [expr]
        while stack:
            node = stack.pop()
            if isinstance(node, ast.Name) and node.id in self.addresses:
                return self.addresses[node.id]
            if isinstance(node, ast.Subscript) and not _port_of(node):
                continue
            if isinstance(node, ast.Call) and isinstance(node.func, ast.Attribute) and not node.args:
                receiver = node.func.value
                if node.func.attr == "getsockname" and isinstance(receiver, ast.Name) and receiver.id in self.made:
                    return receiver.id
            stack.extend(ast.iter_child_nodes(node))
        return None

    def connects_to_own(self, address: ast.expr) -> bool:
        """Whether a connection to `address` reaches a socket the method made: then what that socket accepts
        is the other end of the same pair."""
        owner = self.own_address(address)
        if owner is not None:
            self.looped.add(owner)
        return owner is not None

    def attribute(self, expr: ast.expr) -> str | None:
        """The `self.<attr>` that `expr` names, directly or through an alias."""
        if isinstance(expr, ast.Attribute) and isinstance(expr.value, ast.Name) and expr.value.id == self.me:
            return expr.attr
        return self.aliases.get(expr.id) if isinstance(expr, ast.Name) else None


class ModuleClasses:
    """The class models of one module, built on demand."""

    def __init__(self, index: ModuleIndex, imports: ImportTable, summaries: ModuleSummaries) -> None:
        self.imports = imports
        self.summaries = summaries
        self._classes = {c.name: c for c in index.classes}
        self._methods: dict[ast.ClassDef, list[ast.FunctionDef | ast.AsyncFunctionDef]] = {}
        for function, owner in index.functions:
            if owner is not None:
                self._methods.setdefault(owner, []).append(function)
        self._models: dict[ast.ClassDef, ClassModel] = {}

    @property
    def names(self) -> frozenset[str]:
        """The names of the classes the module defines (at any depth)."""
        return frozenset(self._classes)

    def model(self, cls: ast.ClassDef) -> ClassModel:
        found = self._models.get(cls)
        if found is None:
            found = self._models[cls] = self._build(cls)
        return found

    def family(self, cls: ast.ClassDef, seen: frozenset[str] = frozenset()) -> list[ast.ClassDef]:
        """`cls` and its bases defined in the module."""
        found = [cls]
        for base in cls.bases:
            if isinstance(base, ast.Name) and base.id in self._classes and base.id not in seen:
                found += self.family(self._classes[base.id], seen | {base.id, cls.name})
        return found

    def related(self, cls: ast.ClassDef) -> list[ast.ClassDef]:
        """`cls`, its bases and its subclasses defined in the module, each once."""
        found = [*self.family(cls), *(c for c in self._classes.values() if cls in self.family(c))]
        return list(dict.fromkeys(found))

    def _build(self, cls: ast.ClassDef) -> ClassModel:
        model = ClassModel(cls)
        family = self.family(cls)
        if not any(map(takes_teardown_over, family)):  # else the base's close() never runs
            foreign = [b for c in family for b in c.bases if not (isinstance(b, ast.Name) and b.id in self._classes)]
            model.base_closes = frozenset().union(*(F.closing_base(self.imports.qualname(b) or "") for b in foreign))
        for member_class in family:
            for method in self._methods.get(member_class, []):
                model.methods.setdefault(method.name, may_fail(method, self.imports))  # an override wins
                positional = [*method.args.posonlyargs, *method.args.args]
                if positional:
                    self._read_method(method, positional[0].arg, model)
        for file, sock in model.files.items():
            if model.members[file].writes:  # what is written to a makefile() object is sent on its socket
                model.members[sock].sends = Sends.STREAM  # its `makefile()` call made `sock` a member
        return model

    def _read_method(self, method: ast.FunctionDef | ast.AsyncFunctionDef, me: str, model: ClassModel) -> None:
        reading = _Reading(method, me, model)
        stack: list[ast.AST] = [method]
        while stack:
            node = stack.pop()
            stack.extend(reversed(children(node)))  # in source order: an alias before its uses
            if isinstance(node, ast.Assign):
                for target in node.targets:  # `self.outs = self.ins = socket.socket(...)`: both hold it
                    self._read_assignment(target, node.value, reading)
            elif isinstance(node, ast.withitem) and isinstance(node.optional_vars, ast.Name):
                made = self._created(node.context_expr, reading) if isinstance(node.context_expr, ast.Call) else None
                if made is not None:  # `with socket.create_server(addr) as lst:`
                    reading.made[node.optional_vars.id] = made
            elif isinstance(node, ast.Call):
                self._read_call(node, reading)

    def _read_assignment(self, target: ast.expr, value: ast.expr, reading: _Reading) -> None:
        if isinstance(target, ast.Tuple) and isinstance(value, ast.Tuple) and len(target.elts) == len(value.elts):
            for element, item in zip(target.elts, value.elts, strict=True):  # `self.a, self.b = a, b`
                self._read_assignment(element, item, reading)
            return
        named = (
            isinstance(value, ast.Call) and isinstance(value.func, ast.Attribute) and value.func.attr == "getsockname"
        )
        owner = reading.own_address(value) if named else None
        if owner is not None:  # `addr = lst.getsockname()`, `host, port = lst.getsockname()`: the port
            bound = target.elts[1] if isinstance(target, ast.Tuple) and len(target.elts) > 1 else target
            if isinstance(bound, ast.Name):
                reading.addresses[bound.id] = owner
            return
        if isinstance(target, ast.Tuple) and target.elts and isinstance(value, ast.Call):
            if isinstance(value.func, ast.Attribute) and value.func.attr == "accept":
                target = target.elts[0]  # `self.conn, addr = srv.accept()`
            elif self.imports.call_name(value) in F.SOCKET_FACTORIES:  # `self.a, self.b = socketpair()`
                for element in target.elts:
                    self._read_assignment(element, value, reading)
                return
            else:
                return
        made = reading.made.get(value.id) if isinstance(value, ast.Name) else None
        if made is None and isinstance(value, ast.Call):
            made = self._created(value, reading)
        if isinstance(target, ast.Name):
            attr = reading.attribute(value)
            if attr is not None:
                reading.aliases[target.id] = attr
            elif made is not None:
                reading.made[target.id] = made  # `s = socket.socket(AF_UNIX)`, later `self.sock = s`
            return
        attr = reading.attribute(target)
        if attr is not None and isinstance(value, ast.Call) and isinstance(value.func, ast.Attribute):
            sock = reading.attribute(value.func.value) if _is_makefile(value, "w") else None
            if sock is not None:
                reading.model.files[attr] = sock
                reading.model.members.setdefault(attr, Member())
        if attr is None or made is None:
            return
        member = reading.model.members.setdefault(attr, Member())
        if member.created and (
            member.family is F.Family.UNIX or member.type is F.SockType.DGRAM or member.role is F.Role.PAIRED
        ):
            return  # one creation that cannot lose data (a socketpair() with a TCP fallback): judged by it
        member.family, member.type, member.role = made.family, made.type, made.role
        member.accepted, member.created = made.accepted, True

    def _created(self, value: ast.Call, reading: _Reading) -> Member | None:
        """The kind of socket `value` creates (a factory, `accept()`, a factory function of the module, an
        injected socket module), or None if it creates none."""
        qualname = self.imports.call_name(value)
        if qualname in F.SOCKET_FACTORIES:
            family, sock_type, role, _ = F.SOCKET_FACTORIES[qualname]
            if qualname in F.KIND_ARGUMENTS:
                named = named_kind(value, F.KIND_ARGUMENTS[qualname], self.imports, self.summaries.bindings)
                named_family, named_type = named
                family, sock_type = named_family or family, named_type or sock_type
            if role is F.Role.CONNECTED and value.args and reading.connects_to_own(value.args[0]):
                role = F.Role.PAIRED  # `create_connection(lst.getsockname())`
            return Member(family, sock_type, role)
        func = value.func
        if isinstance(func, ast.Attribute) and func.attr == "accept":
            paired = isinstance(func.value, ast.Name) and func.value.id in reading.looped
            return Member(type=F.SockType.STREAM, role=F.Role.PAIRED if paired else F.Role.CONNECTED, accepted=True)
        name = func.attr if isinstance(func, ast.Attribute) else func.id if isinstance(func, ast.Name) else ""
        made = self.summaries.made(value, reading.method) if name in self.summaries.factory_names else None
        made = made or self.summaries.injected(value, reading.method)
        if made is None or made.slots:
            return None
        return Member(made.family, made.type, made.role)

    def _read_connect(self, receiver: ast.expr, address: ast.expr, reading: _Reading) -> None:
        """`w.connect(lst.getsockname())`, `self.w.connect(("127.0.0.1", lst.getsockname()[1]))`: a socket of
        the class connected to a listener the method made is one end of a pair over loopback."""
        attr = reading.attribute(receiver)
        if attr is not None:
            member = reading.model.members.get(attr)
            made = member if member is not None and member.created else None
        else:
            made = reading.made.get(receiver.id) if isinstance(receiver, ast.Name) else None
        if made is not None and reading.connects_to_own(address):
            made.role = F.Role.PAIRED

    def _read_call(self, call: ast.Call, reading: _Reading) -> None:
        func = call.func
        if isinstance(func, ast.Attribute) and func.attr in _CONNECTS and call.args:
            self._read_connect(func.value, call.args[0], reading)
        if isinstance(func, ast.Attribute):
            attr = reading.attribute(func.value)
            if attr is not None:
                member = reading.model.members.setdefault(attr, Member())
                counted = func.attr == "send" and call in reading.partial
                level = Sends.STREAM if counted else _SEND_LEVEL.get(func.attr, Sends.NO)
                member.sends = max(member.sends, level)
                member.listening |= func.attr in _LISTENING
                member.reads |= func.attr in _READS or _is_makefile(call, "r")
                member.writes |= func.attr in _FILE_WRITES
                return
        arguments = [*call.args, *(k.value for k in call.keywords)]
        if not any(reading.attribute(a) for a in arguments):
            return
        found = self.summaries.of_call(call, reading.method)
        if found is None:
            if not _looks_only(call, self.imports):  # `self.response_class(self.sock)`: another object reads it
                for attr in filter(None, map(reading.attribute, arguments)):
                    reading.model.members.setdefault(attr, Member()).handed = True
            return
        summary, bound = found
        for argument, parameter in bound:
            attr = reading.attribute(argument)
            if attr is not None:
                use = summary.use(parameter)
                member = reading.model.members.setdefault(attr, Member())
                member.sends = max(member.sends, use.sends)
                member.reads |= use.reads
                member.handed |= use.use is Use.KEPT
