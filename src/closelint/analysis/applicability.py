"""Fix applicability from proof: when turning a close into `graceful_close()` leaves the program's behaviour
unchanged apart from the data the peer no longer loses.

A graceful close shuts down writing, then reads and discards input for up to the drain timeout (seconds)
before it closes. That is only the same program when:

- the object is a plain `socket.socket` (`graceful_close` raises `TypeError` on anything else) that this
  scope, or the class keeping it on `self`, created or accepted. An accepted socket is proven plain when
  its listener is, or when the module imports no socket library that replaces the standard one (gevent,
  eventlet, trio, curio, ...; `ssl` wraps it): a listener of unknown type there may accept a green socket.
  No socket of a module that imports gevent or eventlet is proven plain: their monkey patching makes
  `socket.socket()` itself create a green one;
- no other owner shares its descriptor: its `fileno()` (or a name bound to it) is given to no call
  (`dup()`, `fromfd()`, `send_fds()`, `subprocess.Popen(stdin=...)`, `os.dup2()`, ...): the shutdown would
  end the connection for that owner too, and the drain would eat its input;
- every `makefile()` object of it is provably closed before the close (a `with` block that ends first, or
  a local only ever used as `f.method()` whose `f.close()` runs unconditionally first): the drain would
  consume what a live file reads next;
- it is not closed inside a `with` whose context is not proven to be something other than a lock (the
  socket itself, a socket or file factory), nor after an `acquire()` or `enter_context()`, nor in an
  event-loop callback, a function nested in an `async def`, or a non-blocking selector loop: the drain
  would block the lock, or the whole loop, for the drain timeout.

A close in `finally` also runs on the error path, where the original code closes at once: the fix makes it
graceful on the normal path only, which it can tell (`sys.exc_info()`) only when the `try` handles no
exception; a `try` with `except` clauses gets no safe fix. Every rule asks `graceful_close_fix` here, so
what is proven is decided in one place, from the analysis facts (`CloseSite`, `ScopeFacts`, `ModuleFacts`).
"""

from __future__ import annotations

import ast
import itertools
import re
from collections.abc import Iterator
from dataclasses import dataclass

from closelint.analysis import factories as F
from closelint.analysis.flow import CloseSite, ScopeFacts
from closelint.analysis.kinds import named_kind
from closelint.analysis.module import ModuleFacts
from closelint.analysis.names import bindings
from closelint.analysis.scopes import NESTED_SCOPES, own_nodes
from closelint.model import Applicability, Fix, FixKey

#: factories whose result is a plain `socket.socket` with a descriptor of its own
PLAIN_FACTORIES = frozenset({"socket.socket", "socket.SocketType", "socket.create_connection"})
#: methods that register a callback with an event loop or a selector (the callback is a positional
#: argument, or `data=` of `selector.register`)
_CALLBACK_REGISTRARS = frozenset(
    {
        "register",
        "modify",
        "add_reader",
        "add_writer",
        "call_soon",
        "call_soon_threadsafe",
        "call_later",
        "call_at",
        "add_done_callback",
        "add_signal_handler",
    }
)
#: base classes whose methods the event loop calls (asyncio protocols, asyncore dispatchers)
_CALLBACK_BASES = re.compile(r"(Protocol|dispatcher|dispatcher_with_send|async_chat)$")
#: what binds a function's arguments ahead of the call (the callback then runs that function)
_PARTIALS = frozenset({"functools.partial", "functools.partialmethod"})
_POLLS = frozenset({"select", "poll", "epoll", "kqueue", "control"})
#: context managers proven not to be locks (what a `with` around a close may enter and stay safe)
_NOT_LOCKS = PLAIN_FACTORIES | frozenset(
    {
        "socket.create_server",
        "builtins.open",
        "io.open",
        "contextlib.suppress",
        "contextlib.closing",
        "contextlib.ExitStack",
    }
)
#: libraries whose monkey patching (`gevent.monkey.patch_all()`, `eventlet.monkey_patch()`) makes
#: `socket.socket()` itself create a green socket, whose event loop a blocking drain would stall
_MONKEY_PATCHERS = frozenset({"gevent", "eventlet"})
#: socket libraries that replace or wrap the standard `socket.socket` (an object they make is no plain one)
_OTHER_SOCKET_LIBRARIES = frozenset(
    {"gevent", "eventlet", "trio", "curio", "anyio", "twisted", "tornado", "paramiko", "socks", "ssl", "OpenSSL"}
)


#: the value of a binding that is not an assignment (a loop variable, a parameter, a tuple's other items)
_UNKNOWN: ast.expr = ast.Name(id="<unknown>", ctx=ast.Load())


@dataclass(frozen=True)
class Proof:
    """What the analysis proves about one close: how far its graceful fix can be trusted, and why not more."""

    applicability: Applicability
    reason: str = ""


def graceful_close_fix(site: CloseSite, scope: ScopeFacts, facts: ModuleFacts) -> Fix | None:
    """The fix that makes the close at `site` graceful, with the applicability its proof allows.

    None when no rewrite applies: an `async def` (a blocking drain never goes there), a close that is not a
    statement of its own line, a `with` block that cannot take a call at its end.
    """
    if isinstance(scope.node, ast.AsyncFunctionDef) or not site.handle:
        return None
    statement = site.statement
    if isinstance(statement, ast.AsyncWith):
        return None
    if isinstance(statement, ast.With):
        if not _can_append(statement, site.handle) or site.read_side_shut():
            return None  # no place for the call, or a read side already shut that graceful_close() cannot drain
        key, description = (
            FixKey.in_with(site.handle),
            f"Call `graceful_close({site.handle})` at the end of the `with` block",
        )
        span = (statement.lineno, statement.end_lineno or statement.lineno)
    elif (
        isinstance(statement, ast.Expr)
        and statement.value is site.node
        and _method_on(site.node, site.handle, "close")  # not a function of the module that closes it
        and _alone_on_its_lines(statement, facts.text)
    ):
        if site.read_side_shut() and not _is_shutdown(site.previous, site.handle):
            return None  # graceful_close() cannot drain a socket whose read side an earlier shutdown() shut
        in_finally = _finally_of(statement, scope.node, facts) is not None
        key = FixKey.GRACEFUL_CLOSE_IN_FINALLY if in_finally else FixKey.GRACEFUL_CLOSE
        description = f"Replace `{site.handle}.close()` with `graceful_close({site.handle})`" + (
            " on the normal path (the error path keeps the plain close)" if in_finally else ""
        )
        span = (max(statement.lineno - 1, 1), statement.end_lineno or statement.lineno)
    else:
        return None
    proof = prove(site, scope, facts)
    if key == FixKey.GRACEFUL_CLOSE_IN_FINALLY and not names_the_module(facts.tree, "sys"):
        # the rewrite tests `sys.exc_info()`: `sys` must name the module wherever it is bound
        reason = "`sys` is bound to something other than the sys module, which the normal-path test needs"
        proof = Proof(Applicability.DISPLAY_ONLY, "; ".join(filter(None, (proof.reason, reason))))
    return Fix(proof.applicability, description, key, span, reason=proof.reason)


def prove(site: CloseSite, scope: ScopeFacts, facts: ModuleFacts) -> Proof:
    """How safe a graceful close of `site` is: display-only if any doubt says so (never applied, not even
    with `--unsafe-fixes`), else unsafe if there is any doubt; the reasons are every unproven condition."""
    doubts = list(_doubts(site, scope, facts))
    if not doubts:
        return Proof(Applicability.SAFE)
    display = any(applicability is Applicability.DISPLAY_ONLY for applicability, _ in doubts)
    return Proof(
        Applicability.DISPLAY_ONLY if display else Applicability.UNSAFE, "; ".join(reason for _, reason in doubts)
    )


def _doubts(site: CloseSite, scope: ScopeFacts, facts: ModuleFacts) -> Iterator[tuple[Applicability, str]]:
    handle = site.handle
    function = scope.node
    cls = facts.classes.get(function)
    attribute = handle.split(".", 1)[1] if "." in handle else None
    region: ast.AST = cls if attribute is not None and cls is not None else function
    unsafe, display = Applicability.UNSAFE, Applicability.DISPLAY_ONLY
    origin = _origin(site, cls, attribute, facts)
    if origin:
        yield unsafe, origin
    patcher = _imported_library(facts, _MONKEY_PATCHERS)
    if patcher:
        green = f"the module imports {patcher}, whose monkey patching makes socket.socket a green socket"
        yield unsafe, f"{green}: the drain would stall every greenlet for up to its timeout"
    if _shares_descriptor(region, handle):
        yield unsafe, f"the descriptor of '{handle}' may have another owner (its fileno() is passed on or dup()ed)"
    if _makefile_open(region, function, handle, site.statement, facts):
        yield display, f"a makefile() object of '{handle}' is not proven closed first: the drain may eat its input"
    ancestors = _ancestors(function, site.statement, facts)
    if _under_lock(function, ancestors, site.statement, handle, facts):
        yield unsafe, "the close may run under a held lock, which the drain would hold for up to its timeout"
    handled = _finally_of(site.statement, function, facts)
    if handled is not None and handled.handlers:
        yield unsafe, "the `try` handles exceptions: its `finally` cannot tell the error path from the normal one"
    if _nested_in_async(function, facts):
        yield display, f"'{getattr(function, 'name', '')}' is nested in an `async def`: it may run on the event loop"
    callback = _event_loop_context(function, cls, ancestors, region, handle, facts)
    if callback:
        yield display, f"{callback}: the drain would block the whole loop for up to its timeout"


def _origin(site: CloseSite, cls: ast.ClassDef | None, attribute: str | None, facts: ModuleFacts) -> str | None:
    """Why the socket is not proven a plain `socket.socket` this scope or class created or accepted."""
    resource = site.resource
    if resource.owned:
        if _plain_creation(resource.node, facts):
            return None
        made_by = facts.imports.imported_name(resource.node.func) if isinstance(resource.node, ast.Call) else None
        origin = f" (it comes from {made_by}())" if made_by else ""
        return f"'{site.handle}' is not proven to be a plain socket.socket{origin}"
    if attribute is None or cls is None:
        return f"'{site.handle}' comes from the caller: it is not proven to be a plain socket.socket"
    stores = [(v, f) for v, f in _attribute_stores(cls, attribute) if not _is_none(v)]
    if not stores or not all(_plain_value(value, function, facts) for value, function in stores):
        return f"'{site.handle}' is not proven to be a plain socket.socket that this class created or accepted"
    return None


def _is_none(value: ast.expr) -> bool:
    """`self.sock = None`: a reset, not another kind of object."""
    return isinstance(value, ast.Constant) and value.value is None


def _plain_creation(node: ast.AST, facts: ModuleFacts) -> bool:
    """`socket.socket(...)` (no `fileno`), `socket.create_connection(...)`, `x.accept()`, `x.accept()[0]`."""
    if isinstance(node, ast.Subscript):
        node = node.value
    if not isinstance(node, ast.Call):
        return False
    if isinstance(node.func, ast.Attribute) and node.func.attr == "accept" and not node.args:
        return not _imports_other_socket_library(facts)
    qualname = facts.imports.imported_name(node.func)
    if qualname not in PLAIN_FACTORIES:
        return False  # also a green module's socket: the drain would block its event loop
    if qualname in F.KIND_ARGUMENTS:
        family, sock_type = named_kind(node, F.KIND_ARGUMENTS[qualname], facts.imports, lambda: facts.bindings)
        if family is F.Family.UNIX or sock_type is F.SockType.DGRAM:
            return False  # nothing of a Unix or datagram socket is reset by a plain close (SPEC §2)
    return not (len(node.args) > 3 or any(k.arg == "fileno" for k in node.keywords))


def _plain_value(value: ast.expr, function: ast.AST, facts: ModuleFacts) -> bool:
    """A value stored on `self`: a plain creation, or a local that only ever holds one."""
    if isinstance(value, ast.Name):
        values = [v for v, _ in _name_stores(function, value.id) if not _is_none(v)]
        return bool(values) and all(not isinstance(v, ast.Name) and _plain_value(v, function, facts) for v in values)
    return _plain_creation(value, facts)


def _attribute_stores(cls: ast.ClassDef, attribute: str) -> Iterator[tuple[ast.expr, ast.AST]]:
    """(value, method) of every assignment to `<self>.<attribute>` in the class's methods (None: unknown)."""
    for method in cls.body:
        if not isinstance(method, (ast.FunctionDef, ast.AsyncFunctionDef)):
            continue
        for node in ast.walk(method):
            for target, value in _assignments(node):
                if isinstance(target, ast.Attribute) and target.attr == attribute:
                    yield value, method


def _name_stores(function: ast.AST, name: str) -> Iterator[tuple[ast.expr, ast.AST]]:
    for node in ast.walk(function):
        for target, value in _assignments(node):
            if isinstance(target, ast.Name) and target.id == name:
                yield value, function
        if isinstance(node, (ast.For, ast.With, ast.NamedExpr, ast.arg)) and name in _bound_by(node):
            yield _UNKNOWN, function  # bound to something that is not a creation


def _bound_by(node: ast.AST) -> set[str]:
    if isinstance(node, ast.arg):
        return {node.arg}
    targets: list[ast.AST] = []
    if isinstance(node, ast.For):
        targets = [node.target]
    elif isinstance(node, ast.With):
        targets = [i.optional_vars for i in node.items if i.optional_vars is not None]
    elif isinstance(node, ast.NamedExpr):
        targets = [node.target]
    return {n.id for t in targets for n in ast.walk(t) if isinstance(n, ast.Name)}


def _assignments(node: ast.AST) -> Iterator[tuple[ast.expr, ast.expr]]:
    """(target, value) pairs of an assignment; an unpacked tuple pairs the first target with the value
    (`conn, addr = srv.accept()`), the others with an unknown value."""
    if isinstance(node, ast.Assign):
        pairs = [(t, node.value) for t in node.targets]
    elif isinstance(node, (ast.AnnAssign, ast.AugAssign)) and node.value is not None:
        pairs = [(node.target, node.value)]
    else:
        return
    for target, value in pairs:
        if isinstance(target, (ast.Tuple, ast.List)) and target.elts:
            if isinstance(value, (ast.Tuple, ast.List)) and len(value.elts) == len(target.elts):
                yield from zip(target.elts, value.elts, strict=False)
                continue
            yield target.elts[0], value
            for other in target.elts[1:]:
                yield other, _UNKNOWN
        else:
            yield target, value


def _shares_descriptor(region: ast.AST, handle: str) -> bool:
    """`handle.dup()`, or `handle.fileno()` (or a name bound to it) given to any call: `fromfd()`,
    `send_fds()`, `subprocess.Popen(stdin=...)`, `os.dup2()`, ... may make another owner of the descriptor."""
    descriptors = {
        target.id
        for node in ast.walk(region)
        for target, value in _assignments(node)
        if isinstance(target, ast.Name) and any(_method_on(n, handle, "fileno") for n in ast.walk(value))
    }
    for node in ast.walk(region):
        if not isinstance(node, ast.Call):
            continue
        if _method_on(node, handle, "dup"):
            return True
        for argument in [*node.args, *(k.value for k in node.keywords)]:
            if any(_method_on(a, handle, "fileno") or _names(a, descriptors) for a in ast.walk(argument)):
                return True
    return False


def _names(node: ast.AST, names: set[str]) -> bool:
    return isinstance(node, ast.Name) and node.id in names


def _makefile_open(region: ast.AST, function: ast.AST, handle: str, close: ast.stmt, facts: ModuleFacts) -> bool:
    """A `handle.makefile()` object that is not provably closed before the close statement: proven are a
    temporary read at once before it (`sock.makefile().read()`), a `with` block that ends before it, and
    a local only ever used as `f.method()` whose `f.close()` statement runs unconditionally before it."""
    parents = _parents(facts)
    earlier = _run_before(function, close, facts)
    for call in ast.walk(region):
        if not _method_on(call, handle, "makefile"):
            continue
        parent = parents.get(call)
        if isinstance(parent, ast.Attribute) and isinstance(parents.get(parent), ast.Call):
            if parent.lineno < close.lineno:
                continue
        elif isinstance(parent, ast.withitem):
            block = parents.get(parent)
            if block is not None and (getattr(block, "end_lineno", None) or close.lineno) < close.lineno:
                continue
        elif isinstance(parent, ast.Assign) and len(parent.targets) == 1 and isinstance(parent.targets[0], ast.Name):
            name = parent.targets[0].id
            uses = [
                n for n in ast.walk(region) if isinstance(n, ast.Name) and n.id == name and n is not parent.targets[0]
            ]
            only_methods = all(isinstance(parents.get(n), ast.Attribute) for n in uses)
            if only_methods and any(isinstance(s, ast.Expr) and _method_on(s.value, name, "close") for s in earlier):
                continue
        return True
    return False


def _run_before(function: ast.AST, statement: ast.stmt, facts: ModuleFacts) -> list[ast.stmt]:
    """The statements that precede `statement` in its block and in each enclosing block: all of them have
    run (or raised) whenever `statement` runs."""
    chain = [function, *_ancestors(function, statement, facts), statement]
    earlier: list[ast.stmt] = []
    for outer, inner in itertools.pairwise(chain):
        for field in ("body", "orelse", "finalbody"):
            block = getattr(outer, field, None)
            if isinstance(block, list) and any(s is inner for s in block):
                earlier.extend(block[: next(i for i, s in enumerate(block) if s is inner)])
    return earlier


def _method_on(node: ast.AST, handle: str, method: str) -> bool:
    return (
        isinstance(node, ast.Call)
        and isinstance(node.func, ast.Attribute)
        and node.func.attr == method
        and ast.unparse(node.func.value) == handle
    )


def _ancestors(function: ast.AST, statement: ast.stmt, facts: ModuleFacts) -> list[ast.AST]:
    """The nodes from `function` down to `statement`, outermost first (none if `statement` is not in
    `function` outside its nested scopes)."""
    parents = _parents(facts)
    path: list[ast.AST] = []
    node = parents.get(statement)
    while node is not None and node is not function:
        if isinstance(node, NESTED_SCOPES):
            return []
        path.append(node)
        node = parents.get(node)
    return path[::-1] if node is function else []


def _parents(facts: ModuleFacts) -> dict[ast.AST, ast.AST]:
    """The parent of every node of the module, computed once per module (not once per close)."""
    if facts.parents is None:
        facts.parents = {child: node for node in ast.walk(facts.tree) for child in ast.iter_child_nodes(node)}
    return facts.parents


def _finally_of(statement: ast.stmt, function: ast.AST, facts: ModuleFacts) -> ast.Try | ast.TryStar | None:
    """The innermost `try` in whose `finally` the statement lies (it then also runs on the error path)."""
    chain = [function, *_ancestors(function, statement, facts), statement]
    found = None
    for outer, inner in itertools.pairwise(chain):
        if isinstance(outer, (ast.Try, ast.TryStar)) and any(s is inner for s in outer.finalbody):
            found = outer
    return found


def _nested_in_async(function: ast.AST, facts: ModuleFacts) -> bool:
    """Whether `function` is defined inside an `async def`: a coroutine may call it on the event loop."""
    if facts.in_async is None:
        facts.in_async = frozenset(
            inner
            for node in ast.walk(facts.tree)
            if isinstance(node, ast.AsyncFunctionDef)
            for inner in ast.walk(node)
            if inner is not node
        )
    return function in facts.in_async


def _imports_other_socket_library(facts: ModuleFacts) -> bool:
    """Whether the module imports a socket library that replaces or wraps `socket.socket` (gevent, ...)."""
    return _imported_library(facts, _OTHER_SOCKET_LIBRARIES) is not None


def _imported_library(facts: ModuleFacts, libraries: frozenset[str]) -> str | None:
    """The first of `libraries` (top-level package names) the module imports anywhere, if any."""
    return next((top for module in facts.imports.modules if (top := module.split(".", 1)[0]) in libraries), None)


def _under_lock(function: ast.AST, ancestors: list[ast.AST], close: ast.stmt, handle: str, facts: ModuleFacts) -> bool:
    """Inside a `with` whose context is not proven to be no lock, or after an `acquire()` or
    `enter_context()` in the same function (locks are known by what they are, never by their name)."""
    for node in ancestors:
        if isinstance(node, (ast.With, ast.AsyncWith)) and not all(
            _not_a_lock(item.context_expr, function, handle, facts) for item in node.items
        ):
            return True
    return any(
        isinstance(node, ast.Call)
        and isinstance(node.func, ast.Attribute)
        and node.func.attr in ("acquire", "enter_context")
        and node.lineno <= close.lineno
        for node in own_nodes(getattr(function, "body", []))
    )


def _not_a_lock(expr: ast.expr, function: ast.AST, handle: str, facts: ModuleFacts) -> bool:
    """The socket itself, a socket or file factory, a `contextlib` manager, or a local only bound to one."""
    if ast.unparse(expr) == handle:
        return True
    if isinstance(expr, ast.Name):
        values = [v for v, _ in _name_stores(function, expr.id)]
        return bool(values) and all(isinstance(v, ast.Call) and _not_a_lock(v, function, handle, facts) for v in values)
    if not isinstance(expr, ast.Call):
        return False
    method = expr.func.attr if isinstance(expr.func, ast.Attribute) else None
    return _plain_creation(expr, facts) or method == "makefile" or facts.imports.call_name(expr) in _NOT_LOCKS


def _event_loop_context(
    function: ast.AST,
    cls: ast.ClassDef | None,
    ancestors: list[ast.AST],
    region: ast.AST,
    handle: str,
    facts: ModuleFacts,
) -> str | None:
    """Why the close may run inside an event loop: a callback, a selector loop, a non-blocking socket."""
    if cls is not None and any(_CALLBACK_BASES.search(ast.unparse(base)) for base in cls.bases):
        return f"'{getattr(function, 'name', '')}' is called by an event loop ({cls.name} is a protocol/dispatcher)"
    name = getattr(function, "name", None)
    if name and name in _registered_callbacks(facts):
        return f"'{name}' is registered as an event-loop or selector callback"
    for node in ancestors:
        if isinstance(node, (ast.While, ast.For)) and any(_is_poll(n) for n in ast.walk(node)):
            return "the close runs inside a selector loop"
    for node in ast.walk(region):
        if isinstance(node, ast.Call) and _non_blocking(node, handle):
            return f"'{handle}' is a non-blocking socket"
    return None


def _registered_callbacks(facts: ModuleFacts) -> frozenset[str]:
    """The names of the functions the module registers as event-loop or selector callbacks."""
    if facts.registered_callbacks is None:
        stores: dict[str, list[ast.expr]] = {}
        for node in ast.walk(facts.tree):
            for target, value in _assignments(node):
                if isinstance(target, ast.Name) and value is not _UNKNOWN:
                    stores.setdefault(target.id, []).append(value)
        facts.registered_callbacks = frozenset(
            name
            for node in ast.walk(facts.tree)
            if isinstance(node, ast.Call)
            and isinstance(node.func, ast.Attribute)
            and node.func.attr in _CALLBACK_REGISTRARS
            for argument in [*node.args, *(k.value for k in node.keywords)]
            for name in _callbacks(argument, facts, stores, set())
        )
    return facts.registered_callbacks


def _callbacks(argument: ast.expr, facts: ModuleFacts, stores: dict[str, list[ast.expr]], seen: set[str]) -> set[str]:
    """The functions a registered callback argument runs: `f` / `obj.f`, the function of a
    `functools.partial(f, ...)` (however imported), every function a lambda calls, and what a name
    assigned one of these anywhere in the module (`cb = partial(f, x)`; `stores`: the values assigned to
    each name) runs; `seen`: names followed."""
    if isinstance(argument, ast.Attribute):
        return {argument.attr}
    if isinstance(argument, ast.Name):
        if argument.id in seen:
            return set()
        seen.add(argument.id)
        values = stores.get(argument.id, [])
        return {argument.id}.union(*(_callbacks(value, facts, stores, seen) for value in values))
    if isinstance(argument, ast.Lambda):
        calls = (n for n in ast.walk(argument.body) if isinstance(n, ast.Call))
        return {name for call in calls for name in _callbacks(call.func, facts, stores, seen)}
    if isinstance(argument, ast.Call) and argument.args and facts.imports.call_name(argument) in _PARTIALS:
        return _callbacks(argument.args[0], facts, stores, seen)
    return set()


def _is_poll(node: ast.AST) -> bool:
    if not isinstance(node, ast.Call):
        return False
    func = node.func
    return (func.attr if isinstance(func, ast.Attribute) else getattr(func, "id", "")) in _POLLS


def _non_blocking(call: ast.Call, handle: str) -> bool:
    """`handle.setblocking(False)` / `setblocking(0)` / `settimeout(0)`."""
    if not (_method_on(call, handle, "setblocking") or _method_on(call, handle, "settimeout")) or not call.args:
        return False
    value = call.args[0]
    return isinstance(value, ast.Constant) and value.value in (False, 0, 0.0) and value.value is not None


def _is_shutdown(statement: ast.stmt | None, handle: str) -> bool:
    """`<handle>.shutdown(...)` as a statement (what the fix absorbs into graceful_close())."""
    call = statement.value if isinstance(statement, ast.Expr) else None
    return call is not None and _method_on(call, handle, "shutdown")


def names_the_module(tree: ast.Module, module: str) -> bool:
    """Whether every binding of the name `module` in the module is `import <module>` (or there is none):
    then a rewrite that imports it and uses `<module>.attr` means the module wherever it runs."""
    return all(
        isinstance(node, ast.Import) and any(a.name == module and a.asname is None for a in node.names)
        for node in bindings(tree, module)
    )


def _can_append(statement: ast.With, handle: str) -> bool:
    """The call goes last in the block, or right before a final jump that does not use the socket, and no
    other `return`/`break`/`continue` leaves the block around it."""
    last = statement.body[-1]
    final_jump = isinstance(last, (ast.Return, ast.Raise, ast.Break, ast.Continue))
    root = handle.split(".", 1)[0]
    if final_jump and any(isinstance(n, ast.Name) and n.id == root for n in ast.walk(last)):
        return False
    stores = (n for part in statement.body for n in ast.walk(part) if isinstance(n, ast.Name))
    if any(n.id == root and isinstance(n.ctx, ast.Store) for n in stores):
        return False  # `s = None` in the block: the call at its end would not name the socket the exit closes
    body = statement.body[:-1] if final_jump else statement.body
    return not any(_leaves(node, in_loop=False) for node in body)


def _leaves(node: ast.AST, in_loop: bool) -> bool:
    """Whether `node` holds a `return`, or a `break`/`continue` of a loop outside it."""
    if isinstance(node, ast.Return) or (isinstance(node, (ast.Break, ast.Continue)) and not in_loop):
        return True
    if isinstance(node, NESTED_SCOPES):
        return False
    loop = isinstance(node, (ast.For, ast.AsyncFor, ast.While))
    return any(
        _leaves(child, in_loop or (loop and child not in getattr(node, "orelse", ())))
        for child in ast.iter_child_nodes(node)
    )


def _alone_on_its_lines(statement: ast.stmt, text: str) -> bool:
    """No other statement shares the statement's lines (`a; s.close()`, `if x: s.close()`): the rewrite
    replaces whole statement lines."""
    lines = text.replace("\r\n", "\n").replace("\r", "\n").split("\n")
    first, last = statement.lineno, statement.end_lineno or statement.lineno
    if last > len(lines):
        return False
    before = lines[first - 1].encode()[: statement.col_offset]  # the offsets count UTF-8 bytes
    after = lines[last - 1].encode()[statement.end_col_offset or 0 :].strip()
    return not before.strip() and (not after or after.startswith(b"#"))
