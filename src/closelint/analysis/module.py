"""Run the lifetime analysis over a whole module, and the class-level facts (sockets kept on `self`)."""

from __future__ import annotations

import ast
import bisect
import itertools
import unicodedata
from collections.abc import Callable, Iterable, Iterator, Sequence
from dataclasses import dataclass, field
from functools import cached_property, partial
from pathlib import Path

from closelint.analysis import factories as F
from closelint.analysis.bindings import Bindings
from closelint.analysis.budget import WorkBudget
from closelint.analysis.classes import ModuleClasses, takes_teardown_over
from closelint.analysis.flow import ScopeFacts, ScopeWalker, StreamFacts
from closelint.analysis.names import ImportTable
from closelint.analysis.receivers import OutsideCode
from closelint.analysis.scopes import ModuleIndex, ScopeNode, children, index_module, own_nodes
from closelint.analysis.state import SOCKET, WRITER, Resource
from closelint.analysis.summaries import ModuleSummaries, is_static
from closelint.policy import DEFAULT, Policy

#: base classes that neither close nor hand off what a subclass stores on `self`
NEUTRAL_BASES = frozenset(
    {
        "builtins.object",
        "unittest.TestCase",
        "unittest.IsolatedAsyncioTestCase",
        "unittest.case.TestCase",
        "threading.Thread",
        "builtins.Exception",
        "abc.ABC",
        "typing.Generic",
        "typing.Protocol",
    }
)
#: metaclasses that add no method to the class's instances (`abc.ABC` is `metaclass=abc.ABCMeta`)
NEUTRAL_METACLASSES = frozenset({"abc.ABCMeta", "builtins.type"})

#: uses of `x.attr` that neither close nor hand the socket off
_INERT_METHODS = frozenset(
    {
        "send",
        "sendall",
        "sendto",
        "sendmsg",
        "sendfile",
        "recv",
        "recv_into",
        "recvfrom",
        "recvfrom_into",
        "recvmsg",
        "connect",
        "connect_ex",
        "bind",
        "listen",
        "accept",
        "setsockopt",
        "getsockopt",
        "setblocking",
        "settimeout",
        "gettimeout",
        "fileno",
        "getsockname",
        "getpeername",
        "makefile",
        "shutdown",
    }
)


@dataclass
class ModuleFacts:
    """Everything the rules query for one module."""

    tree: ast.Module
    imports: ImportTable
    text: str
    #: a test module (test_*.py, *_test.py, tests.py or conftest.py, defining tests): the codes of the
    #: `quiet-in-tests` setting are not reported there
    in_tests: bool = False
    policy: Policy = DEFAULT
    #: the summaries of the module's functions (None when nothing in the module can involve a socket)
    summaries: ModuleSummaries | None = None
    #: the class models of the module (None when nothing in the module can involve a socket)
    class_models: ModuleClasses | None = None
    #: asked by the fix applicability once per module (`analysis.applicability` fills them): every node
    #: inside an `async def`, and the names of the functions registered as event-loop callbacks
    in_async: frozenset[ast.AST] | None = field(default=None, repr=False)
    registered_callbacks: frozenset[str] | None = field(default=None, repr=False)
    #: the parent of every node of the tree, filled by the fix applicability at its first question
    parents: dict[ast.AST, ast.AST] | None = field(default=None, repr=False)
    #: `wait_closed_calls(cls)` per class, filled as rules ask
    _waited: dict[ast.ClassDef | None, tuple[tuple[str, ast.Call], ...]] = field(default_factory=dict, repr=False)
    scopes: list[ScopeFacts] = field(default_factory=list)
    unclosed_attributes: list[tuple[str, Resource]] = field(default_factory=list)
    #: the class each walked method belongs to
    classes: dict[ast.AST, ast.ClassDef] = field(default_factory=dict)

    def wait_closed_calls(self, cls: ast.ClassDef | None) -> tuple[tuple[str, ast.Call], ...]:
        """The calls `x.<attr>.wait_closed()`, with `attr`, in `cls`, its bases and subclasses defined in the
        module, and in the code outside every class on an `x` typed to one of them (`receivers.OutsideCode`);
        in the whole module when `cls` is None. (Another class, or an untyped `x`, that waits for a writer of
        the same name waits for another object.) A call of a module function that waits for the parameter
        `x.<attr>` binds (`await wait_writer(self.writer)`) counts."""
        found = self._waited.get(cls)
        if found is None:
            lines = mention_lines(self.text, ("wait_closed", *self._waiting_functions))
            if cls is None or self.class_models is None:
                found = tuple(self._waits_in([self.tree], lines, None, own_class=False))
            else:
                family = self.class_models.related(cls)
                admits = partial(self.outside.admits, family=frozenset(c.name for c in family))
                found = (*self._waits_in(family, lines, None), *self._waits_in(self.outside.statements, lines, admits))
            self._waited[cls] = found
        return found

    def _waits_in(
        self,
        roots: Sequence[ast.AST],
        lines: list[int],
        admits: Callable[[ast.expr], bool] | None,
        own_class: bool = True,
    ) -> Iterator[tuple[str, ast.Call]]:
        """`wait_closed_calls` in `roots` (with `own_class`, classes nested in them left out), each
        `x.<attr>` waited for counted when `admits(x)` (always when `admits` is None)."""
        for root in roots:
            for node in walk_lines(root, lines, own_class):
                if isinstance(node, ast.Call):
                    for waited in self._waited_through(node):
                        if admits is None or admits(waited.value):
                            yield waited.attr, node

    @cached_property
    def outside(self) -> OutsideCode:
        """The module's code outside every class, with the module classes each name there is typed to."""
        names = frozenset() if self.class_models is None else self.class_models.names
        return OutsideCode(self.tree, names)

    @cached_property
    def _waiting_functions(self) -> frozenset[str]:
        """The names of the module functions that wait for a writer passed to them."""
        summaries = self.summaries
        if summaries is None:
            return frozenset()
        return frozenset(
            function.name
            for function in summaries.functions
            if summaries.owner.get(function) is None
            and any(use.waits for use in summaries.summary(function).parameters.values())
        )

    def _waited_through(self, call: ast.Call) -> Iterator[ast.Attribute]:
        """Each `x.<attr>` writer whose `wait_closed()` the call is or runs."""
        func = call.func
        if isinstance(func, ast.Attribute) and func.attr == "wait_closed":
            if isinstance(func.value, ast.Attribute):
                yield func.value
            return
        if self.summaries is None or not (isinstance(func, ast.Name) and func.id in self._waiting_functions):
            return
        bound = self.summaries.of_call(call, self.tree)
        if bound is not None:
            summary, arguments = bound
            for argument, name in arguments:
                if isinstance(argument, ast.Attribute) and summary.use(name).waits:
                    yield argument

    def waited_attributes(self, cls: ast.ClassDef | None) -> frozenset[str]:
        """The attribute names of `wait_closed_calls(cls)`."""
        return frozenset(attr for attr, _ in self.wait_closed_calls(cls))

    @cached_property
    def bindings(self) -> Bindings:
        """The values the module binds to each name, per scope (built when a rule first needs them)."""
        return Bindings(self.tree)

    def owned(self, kind: str) -> Iterator[tuple[ScopeFacts, Resource]]:
        """Every socket (or writer) some scope owns, with the facts of that scope."""
        for scope in self.scopes:
            for resource in scope.resources:
                if resource.owned and resource.kind == kind:
                    yield scope, resource


def analyse(tree: ast.Module, text: str, path: str = "", policy: Policy = DEFAULT) -> ModuleFacts:
    """Walk every scope of `tree` that can own a socket, and derive the module-level facts.

    A scope whose lines mention none of the identifiers a socket can be created or sent through (the
    socket module and its aliases, names imported from it, `factories.SCOPE_TRIGGERS`) owns no socket and
    sends on none, so it is not walked: the findings are the same, and most functions cost nothing.
    Raises `budget.TooComplex` when the walk of the file goes past `budget.MAX_STEPS`.
    """
    index = index_module(tree)
    imports = ImportTable(index.imports)
    imports.replace_modules(F.FAKE_NETWORKS)
    if "import *" in text and any(f"{module}." in text for module in F.SOCKET_MODULES):
        imports.assume_star_modules(index.imports, _bound_names(tree))
    facts = ModuleFacts(tree, imports, text, in_tests=_is_test_module(path, index), policy=policy)
    mentions = _trigger_lines(text, imports)
    summaries = ModuleSummaries(index, imports, lambda: facts.bindings)
    streams = _stream_facts(tree, index, imports, text, summaries)
    if not mentions and not streams:
        return facts
    facts.summaries = summaries
    classes = facts.class_models = ModuleClasses(index, imports, summaries)
    mentions = _with_factory_calls(text, index, summaries, mentions)
    ids = itertools.count()
    budget = WorkBudget()
    stored: dict[ast.ClassDef, list[tuple[str, Resource]]] = {}
    scopes: list[tuple[ScopeNode, ast.ClassDef | None]] = [(tree, None), *index.functions]
    mentioned = [(scope, owner) for scope, owner in scopes if streams.get(scope) or _spans_any(scope, mentions, text)]
    walked_ids = {id(scope) for scope, _ in mentioned}

    by_name = {node.name: node for node in index.classes}

    def walk(scope: ScopeNode, owner: ast.ClassDef | None) -> None:
        self_name = _self_parameter(scope) if owner is not None else None
        model = partial(classes.model, owner) if owner is not None and self_name else None
        scope_streams = streams.get(scope)
        walked = ScopeWalker(
            scope,
            scope.body,
            imports,
            self_name,
            ids,
            scope_streams,
            summaries,
            model,
            policy,
            lambda: facts.bindings,
            budget,
        )
        walked.test_case = owner is not None and _is_test_case(owner, by_name, set())
        facts.scopes.append(walked.run())
        if owner is not None:
            facts.classes[scope] = owner
        if owner is not None and facts.scopes[-1].stored_on_self:
            stored.setdefault(owner, []).extend(facts.scopes[-1].stored_on_self)

    for scope, owner in mentioned:
        walk(scope, owner)
    # a method that mentions none of them but names a socket its class stores on `self`, or one the class
    # sends on elsewhere (a teardown `self._conn.close()` of a socket given to the constructor), is walked too
    members = {cls: {attr for attr, _ in items} for cls, items in stored.items()}
    for cls in {owner for _, owner in mentioned if owner is not None}:
        sending = {attr for attr, member in classes.model(cls).members.items() if member.sends_on_stream}
        members[cls] = members.get(cls, set()) | sending
    member_lines = {cls: mention_lines(text, names) for cls, names in members.items() if names}
    for scope, owner in scopes:
        if id(scope) not in walked_ids and owner in member_lines and _spans_any(scope, member_lines[owner], text):
            walk(scope, owner)
    for cls, items in stored.items():
        if not (_neutral_bases(cls, by_name, imports, set()) or takes_teardown_over(cls)):
            continue
        family = classes.related(cls)
        wanted = {attr for attr, _ in items}
        admits = partial(facts.outside.admits, family=frozenset(c.name for c in family))
        released = _released_attributes(family, text, wanted, imports, None)
        released |= _released_attributes(facts.outside.statements, text, wanted - released, imports, admits)
        # one socket stored under several attributes (`self.outs = self.ins = ...`) is released through any
        done = {r.rid for attr, r in items if attr in released or r.kind != SOCKET}
        for attr, resource in items:
            if resource.rid not in done:
                done.add(resource.rid)
                facts.unclosed_attributes.append((attr, resource))
    return facts


def _bound_names(tree: ast.Module) -> set[str]:
    """Every name the module binds anywhere: assigned, a parameter, a `def`, `class` or import."""
    bound: set[str] = set()
    for node in ast.walk(tree):
        if isinstance(node, ast.Name) and not isinstance(node.ctx, ast.Load):
            bound.add(node.id)
        elif isinstance(node, ast.arg):
            bound.add(node.arg)
        elif isinstance(node, (ast.FunctionDef, ast.AsyncFunctionDef, ast.ClassDef)):
            bound.add(node.name)
        elif isinstance(node, (ast.Import, ast.ImportFrom)):
            bound.update((a.asname or a.name).split(".")[0] for a in node.names)
    return bound


def _spans_any(scope: ScopeNode, lines: list[int], text: str) -> bool:
    """Whether the function (or module) spans one of the sorted `lines`."""
    end = getattr(scope, "end_lineno", None) or len(text)
    first = scope.lineno if isinstance(scope, (ast.FunctionDef, ast.AsyncFunctionDef)) else 1
    return bisect.bisect_left(lines, first) != bisect.bisect_right(lines, end)


def _with_factory_calls(text: str, index: ModuleIndex, summaries: ModuleSummaries, mentions: list[int]) -> list[int]:
    """`mentions` plus the lines that name a function of the module returning a fresh socket or writer
    (a factory: its callers own what it returns), found from the functions that mention a trigger and
    then from those that call a factory, until no new factory turns up."""
    returns = mention_lines(text, ("return",))
    pending = [f for f, _ in index.functions if _spans_any(f, returns, text)]
    while pending:  # a function whose name is found once leaves `pending`, with every namesake
        found = {f.name for f in pending if _spans_any(f, mentions, text) and summaries.summary(f).returns is not None}
        if not found:
            break
        summaries.factory_names |= found
        mentions = sorted(set(mentions) | set(mention_lines(text, found)))
        pending = [f for f in pending if f.name not in found]
    return mentions


def _stream_facts(
    tree: ast.Module, index: ModuleIndex, imports: ImportTable, text: str, summaries: ModuleSummaries
) -> dict[ast.AST, StreamFacts]:
    """The functions that receive a StreamWriter: start_server handlers (by name, or `self.method`),
    parameters annotated `asyncio.StreamWriter`, and methods of classes that keep a writer on `self`."""
    if not any(
        word in text
        for word in (
            "StreamWriter",
            "start_server",
            "start_unix_server",
            "open_connection",
            "open_unix_connection",
            ".drain()",
        )
    ):
        return {}
    handlers = _stream_handlers(tree, imports, text) if "start_" in text else set()
    openers = _spellings(F.STREAM_OPENERS, imports)
    opener_lines = mention_lines(text, openers)
    factories = {  # functions of the module that open streams and return the writer: their callers own it
        f.name for f, _ in index.functions if _spans_any(f, opener_lines, text) and _returns_writer(f, summaries)
    }
    writer_lines = mention_lines(text, _spellings(F.WRITER_TYPES, imports) | openers | factories)
    opened = partial(_opened_writers, imports=imports, summaries=summaries)
    passed = _writers_passed_to_classes(index, summaries, writer_lines, opened)
    writer_attributes = {
        cls: _writer_attributes(cls, imports, writer_lines, opened, passed.get(cls, frozenset()))
        for cls in index.classes
    }
    found: dict[ast.AST, StreamFacts] = {}
    for function, owner in index.functions:
        positional = [a.arg for a in (*function.args.posonlyargs, *function.args.args)]
        if owner is not None and positional and not is_static(function):
            positional = positional[1:]
        parameters = {
            a.arg: False
            for a in (*function.args.posonlyargs, *function.args.args, *function.args.kwonlyargs)
            if _is_writer_annotation(a.annotation, imports)
        }
        if function.name in handlers and len(positional) >= 2:
            parameters[positional[1]] = True
        attributes = writer_attributes.get(owner, frozenset()) if owner is not None else frozenset()
        if parameters or attributes:
            found[function] = StreamFacts(parameters, attributes)
    return found


def _spellings(qualnames: frozenset[str], imports: ImportTable) -> set[str]:
    """The identifiers an expression whose qualified name is one of `qualnames` ends with: the last part
    (`asyncio.start_server`, `aio.start_server`), or a name imported as one of them (`start_server as ss`)."""
    return {q.rsplit(".", 1)[-1] for q in qualnames} | imports.local_names(lambda q: q in qualnames)


def _stream_handlers(tree: ast.Module, imports: ImportTable, text: str) -> set[str]:
    """Names of functions (or methods, through `self.name`) passed to start_server/start_unix_server."""
    names: set[str] = set()
    for node in walk_lines(tree, mention_lines(text, _spellings(F.STREAM_SERVERS, imports))):
        if isinstance(node, ast.Call) and imports.call_name(node) in F.STREAM_SERVERS:
            callback = (
                node.args[0]
                if node.args
                else next((k.value for k in node.keywords if k.arg == "client_connected_cb"), None)
            )
            if isinstance(callback, ast.Name):
                names.add(callback.id)
            elif isinstance(callback, ast.Attribute) and isinstance(callback.value, ast.Name):
                names.add(callback.attr)
    return names


def _returns_writer(function: ast.FunctionDef | ast.AsyncFunctionDef, summaries: ModuleSummaries) -> bool:
    made = summaries.summary(function).returns
    return made is not None and made.kind == WRITER


def _opened_writers(
    value: ast.expr, scope: ast.AST, imports: ImportTable, summaries: ModuleSummaries
) -> tuple[bool, ...] | None:
    """Which items of what `value` gives are new writers: (reader, writer) of `await open_connection(...)`
    (also under `wait_for`), or what an awaited function of the module that opens them returns; None when
    it opens none."""
    if _opens_streams(value, imports):
        return (False, True)
    made = summaries.made(value, scope) if isinstance(value, ast.Await) else None
    return (made.slots or (True,)) if made is not None and made.kind == WRITER else None


def _writers_passed_to_classes(
    index: ModuleIndex,
    summaries: ModuleSummaries,
    lines: list[int],
    opened: Callable[[ast.expr, ast.AST], tuple[bool, ...] | None],
) -> dict[ast.ClassDef, frozenset[str]]:
    """Per class of the module, the parameters of its `__init__` that a function of the module passes a
    writer it opened to (`r, w = await open_connection(...)`, then `return Stream(r, w)`); `lines` are
    those that mention a stream opener or a function of the module returning a writer."""
    classes = {c.name: c for c in index.classes}
    found: dict[ast.ClassDef, set[str]] = {}
    for function, _ in index.functions:
        writers: set[str] = set()
        for node in walk_lines(function, lines):
            slots = opened(node.value, function) if isinstance(node, ast.Assign) else None
            if slots is None or not isinstance(node, ast.Assign):
                continue
            for target in node.targets:
                items = target.elts if isinstance(target, ast.Tuple) else [target]
                if len(items) == len(slots):
                    writers.update(i.id for i, w in zip(items, slots, strict=True) if w and isinstance(i, ast.Name))
        for call in own_nodes(function.body) if writers else ():
            cls = classes.get(call.func.id) if isinstance(call, ast.Call) and isinstance(call.func, ast.Name) else None
            init = summaries.method(cls, "__init__") if cls is not None else None
            if cls is None or init is None or not isinstance(call, ast.Call):
                continue
            names = [a.arg for a in (*init.args.posonlyargs, *init.args.args)][1:]
            owner = summaries.owner.get(init) or cls
            for argument, parameter in summaries.bind(call, names):
                if isinstance(argument, ast.Name) and argument.id in writers:
                    found.setdefault(owner, set()).add(parameter)
    return {cls: frozenset(names) for cls, names in found.items()}


def _writer_attributes(
    cls: ast.ClassDef,
    imports: ImportTable,
    lines: list[int],
    opened: Callable[[ast.expr, ast.AST], tuple[bool, ...] | None],
    passed: frozenset[str] = frozenset(),
) -> frozenset[str]:
    """`self.<attr>` names a class annotates `asyncio.StreamWriter` (`_stream: asyncio.StreamWriter` in
    the class body, a dataclass field, `self.w: StreamWriter = ...`), or assigns a writer it opens
    (`opened`: `open_connection`, a function of the module returning one) or a parameter annotated
    StreamWriter to, or a parameter of `__init__` that code of the module passes a writer it opened to
    (`passed`); `lines` are those that mention a spelling of a writer type, a stream opener or such a
    function. (A wrapper of a subprocess pipe annotated StreamWriter is a StreamWriter too: its close is
    not waited for either.)"""
    found = {
        statement.target.id
        for statement in cls.body
        if isinstance(statement, ast.AnnAssign)
        and isinstance(statement.target, ast.Name)
        and _is_writer_annotation(statement.annotation, imports)
    }
    found |= _written_and_drained(cls)
    for method in cls.body:
        if not isinstance(method, (ast.FunctionDef, ast.AsyncFunctionDef)):
            continue
        arguments = (*method.args.posonlyargs, *method.args.args, *method.args.kwonlyargs)
        writers = {a.arg for a in arguments if _is_writer_annotation(a.annotation, imports)}
        if method.name == "__init__":
            writers |= passed  # `Stream(reader, writer)` of a writer the module opened
        for node in walk_lines(method, lines):  # `reader, writer = await open_connection(...)`
            slots = opened(node.value, method) if isinstance(node, ast.Assign) else None
            if isinstance(node, ast.Assign) and slots is not None:
                for target in node.targets:
                    items = target.elts if isinstance(target, ast.Tuple) else [target]
                    held = (
                        [item for item, writer in zip(items, slots, strict=True) if writer]
                        if len(items) == len(slots)
                        else []
                    )
                    writers.update(item.id for item in held if isinstance(item, ast.Name))
                    found.update(item.attr for item in held if isinstance(item, ast.Attribute))
            elif (
                isinstance(node, ast.AnnAssign)
                and isinstance(node.target, ast.Attribute)
                and _is_writer_annotation(node.annotation, imports)
            ):
                found.add(node.target.attr)  # `self.w: asyncio.StreamWriter = ...`
        for node in ast.walk(method) if writers else ():
            if isinstance(node, ast.Assign) and isinstance(node.value, ast.Name) and node.value.id in writers:
                found.update(t.attr for t in node.targets if isinstance(t, ast.Attribute))  # `self.w = writer`
    return frozenset(found)


def _written_and_drained(cls: ast.ClassDef) -> set[str]:
    """`self.<attr>` names the methods of `cls` call `write()` (or `writelines()`) on and await `drain()` of
    (`await self.w.drain()`, `await asyncio.wait_for(self.w.drain(), t)`): the StreamWriter protocol
    (asyncio's "Streams" docs: write() buffers, `await drain()` waits for the buffer to empty), whoever
    built the writer."""
    written: set[str] = set()
    drained: set[str] = set()
    for method in cls.body:
        if not isinstance(method, (ast.FunctionDef, ast.AsyncFunctionDef)) or is_static(method):
            continue
        positional = [*method.args.posonlyargs, *method.args.args]
        if not positional:
            continue
        me = positional[0].arg
        for node in ast.walk(method):
            if isinstance(node, ast.Await):
                drained.update(_self_attribute_calls(node.value, me, frozenset({"drain"})))
            elif isinstance(node, ast.Call):
                written.update(_self_attribute_calls(node, me, frozenset({"write", "writelines"}), nested=False))
    return written & drained


def _self_attribute_calls(node: ast.expr, me: str, methods: frozenset[str], nested: bool = True) -> Iterator[str]:
    """The `attr` of each `me.attr.<method>(...)` call `node` is (or holds, when `nested`)."""
    for call in ast.walk(node) if nested else [node]:
        func = call.func if isinstance(call, ast.Call) else None
        if (
            isinstance(func, ast.Attribute)
            and func.attr in methods
            and isinstance(func.value, ast.Attribute)
            and isinstance(func.value.value, ast.Name)
            and func.value.value.id == me
        ):
            yield func.value.attr


def _opens_streams(value: ast.expr, imports: ImportTable) -> bool:
    """`await open_connection(...)`, or under `asyncio.wait_for(...)`."""
    if not isinstance(value, ast.Await):
        return False
    opened = F.awaited_target(value.value, imports.call_name)
    return isinstance(opened, ast.Call) and imports.call_name(opened) in F.STREAM_OPENERS


def _is_writer_annotation(annotation: ast.expr | None, imports: ImportTable) -> bool:
    """Whether a parameter's annotation names `asyncio.StreamWriter`, written out or quoted
    (`"asyncio.StreamWriter"`, a forward reference), also as the one type besides None of an optional
    (`Optional[StreamWriter]`, `StreamWriter | None`, `Union[StreamWriter, None]`)."""
    if isinstance(annotation, ast.Constant) and isinstance(annotation.value, str):
        try:
            annotation = ast.parse(annotation.value.strip(), mode="eval").body
        except SyntaxError:
            return False
    if annotation is None:
        return False
    optional = _optional_of(annotation, imports)
    if optional is not None:
        return _is_writer_annotation(optional, imports)
    return imports.qualname(annotation) in F.WRITER_TYPES


def _optional_of(annotation: ast.expr, imports: ImportTable) -> ast.expr | None:
    """`X` of `Optional[X]`, `X | None`, `None | X`, `Union[X, None]`; None for any other annotation."""
    if isinstance(annotation, ast.BinOp) and isinstance(annotation.op, ast.BitOr):
        members = [annotation.left, annotation.right]
    elif isinstance(annotation, ast.Subscript) and imports.qualname(annotation.value) == "typing.Optional":
        return annotation.slice
    elif isinstance(annotation, ast.Subscript) and imports.qualname(annotation.value) == "typing.Union":
        members = annotation.slice.elts if isinstance(annotation.slice, ast.Tuple) else [annotation.slice]
    else:
        return None
    types = [m for m in members if not (isinstance(m, ast.Constant) and m.value is None)]
    return types[0] if len(types) == 1 and len(members) == 2 else None


def _is_test_case(cls: ast.ClassDef, classes: dict[str, ast.ClassDef], seen: set[str]) -> bool:
    """A unittest-style test class, whose `self.fail()` fails the test: named like one (a test mixin), or
    built on a base spelled like one (`unittest.TestCase`, `AsyncTestCase`), directly or through a class of
    the module. A class of another kind may have a `fail()` that returns."""
    if "Test" in cls.name:
        return True
    for base in cls.bases:
        if isinstance(base, ast.Name) and base.id in classes and base.id not in seen:
            seen.add(base.id)
            if _is_test_case(classes[base.id], classes, seen):
                return True
        elif "Test" in ast.unparse(base):
            return True
    return False


_HELPER_MODULES = frozenset({"test_utils.py", "test_helpers.py", "test_support.py", "test_util.py"})


def _is_test_module(path: str, index: ModuleIndex) -> bool:
    """A module of tests: named `test_*.py`, `*_test.py`, `tests.py` or `conftest.py`, and defining tests
    (`test*` functions, or classes built on a test base class).

    The file name decides, not the directory, and helper modules that ship to users (`test_utils.py`)
    are not tests."""
    name = Path(path).name
    named = name.startswith("test_") or name.endswith("_test.py") or name in ("tests.py", "conftest.py")
    if not named or name in _HELPER_MODULES:
        return False
    return (
        name == "conftest.py"
        or any(f.name.startswith("test") for f, _ in index.functions)
        or any("Test" in ast.unparse(base) for cls in index.classes for base in cls.bases)
    )


def _trigger_lines(text: str, imports: ImportTable) -> list[int]:
    """Sorted numbers of the lines that mention an identifier a socket can be created or sent through."""
    names = imports.local_names(lambda q: q.split(".", 1)[0] in F.SOCKET_MODULES or q in F.SOCKET_FACTORIES)
    names |= F.SCOPE_TRIGGERS
    return mention_lines(text, names)


def mention_lines(text: str, names: Iterable[str]) -> list[int]:
    """Sorted numbers of the lines on which one of `names` occurs as a whole word (`\\b` as in `re`).

    Every line holding an identifier token `name` is included: Python normalises identifiers with NFKC,
    so a non-ASCII text is searched normalised too. `str.find` per name is ~4 times faster than one regex
    alternation, which scans the text position by position.
    """
    if "\r" in text:  # Python ends lines at \r too; count them as it does
        text = text.replace("\r\n", "\n").replace("\r", "\n")
    starts = _word_starts(text, names)
    if not text.isascii():
        folded = unicodedata.normalize("NFKC", text)
        if folded != text:  # NFKC neither adds nor removes line breaks: count lines in each text separately
            return sorted(set(_line_numbers(text, starts)) | set(_line_numbers(folded, _word_starts(folded, names))))
    return _line_numbers(text, starts)


def _word_starts(text: str, names: Iterable[str]) -> list[int]:
    starts: list[int] = []
    size, find = len(text), text.find
    for name in names:
        width = len(name)
        at = find(name)
        while at != -1:
            end = at + width
            if (at == 0 or not _is_word(text[at - 1])) and (end == size or not _is_word(text[end])):
                starts.append(at)
            at = find(name, at + 1)
    starts.sort()
    return starts


def _is_word(char: str) -> bool:
    return char.isalnum() or char == "_"  # what `\w` matches in a str pattern


def _line_numbers(text: str, starts: list[int]) -> list[int]:
    lines: list[int] = []
    number, position = 1, 0
    for start in starts:
        number += text.count("\n", position, start)
        position = start
        if not lines or lines[-1] != number:
            lines.append(number)
    return lines


def _self_parameter(scope: ast.AST) -> str | None:
    if not isinstance(scope, (ast.FunctionDef, ast.AsyncFunctionDef)):
        return None
    decorators = {d.id for d in scope.decorator_list if isinstance(d, ast.Name)}
    positional = [*scope.args.posonlyargs, *scope.args.args]
    if "staticmethod" in decorators or not positional:
        return None
    return positional[0].arg


def _neutral_bases(cls: ast.ClassDef, classes: dict[str, ast.ClassDef], imports: ImportTable, seen: set[str]) -> bool:
    """True when no base class could close what `cls` stores (bases defined here are checked too)."""
    for base in cls.bases:
        if isinstance(base, ast.Name) and base.id in classes and base.id not in seen:
            seen.add(base.id)
            if not _neutral_bases(classes[base.id], classes, imports, seen):
                return False
            continue
        if imports.qualname(base) not in NEUTRAL_BASES:
            return False
    return not any(k.arg == "metaclass" and imports.qualname(k.value) not in NEUTRAL_METACLASSES for k in cls.keywords)


def walk_mentioning(tree: ast.AST, text: str, names: Iterable[str]) -> Iterator[ast.AST]:
    """The nodes of `ast.walk(tree)` that can hold an identifier of `names` (and more), in another order.

    For a rule that looks for calls or statements naming `setsockopt`, `accept`, ...: a node spelling
    one of `names` lies in a statement that spans a line mentioning it, and only statements that span
    such a line are entered (`text` is the module's source).
    """
    return walk_lines(tree, mention_lines(text, names))


def walk_lines(node: ast.AST, lines: list[int], own_class: bool = False) -> Iterator[ast.AST]:
    """`node` and the nodes below it, except statements (and `except` clauses) spanning no line of the
    sorted `lines` and everything they hold; a `def` or `class` spans its decorators too. With `own_class`,
    a class below `node` (one of its own, if nested in a class or defined under `if`/`try`) is left out."""
    if not lines:
        return
    root = node
    stack = [node]
    while stack:
        node = stack.pop()
        if isinstance(node, (ast.stmt, ast.ExceptHandler)) and not _spans(node, lines):
            continue
        if own_class and isinstance(node, ast.ClassDef) and node is not root:
            continue
        yield node
        stack.extend(children(node))


def _spans(node: ast.stmt | ast.ExceptHandler, lines: list[int]) -> bool:
    first = node.lineno
    for decorator in getattr(node, "decorator_list", ()):
        first = min(first, decorator.lineno)
    return bisect.bisect_left(lines, first) != bisect.bisect_right(lines, node.end_lineno or node.lineno)


def _released_attributes(
    roots: Sequence[ast.AST],
    text: str,
    wanted: set[str],
    imports: ImportTable,
    admits: Callable[[ast.expr], bool] | None,
) -> set[str]:
    """Which of the attribute names `wanted` the code of `roots` closes or hands off (`x.attr.close()`,
    `f(x.attr)`, `getattr(x, "attr", None).close()`, …), counting an `x.attr` only when `admits(x)` (always
    when `admits` is None); a class nested in a root is a class of its own and left out. A module's attribute
    is none (`trio.socket.socket()` does not release `self.socket`).

    An `x.attr` node ends with the `attr` token, so every statement holding one spans a line that mentions
    `attr`: statements that span none are skipped whole (decorators count as part of their `def`/`class`).
    A `getattr` call names it in a string literal, as a whole word too.

    A local alias (`conn = self.conn`) releases the attribute only if one of its uses in the function would
    release `x.attr` itself: an alias that is only sent on, read from or tested hands nothing off.
    """
    lines = mention_lines(text, wanted)
    released: set[str] = set()
    if not lines:
        return released
    stack: list[tuple[ast.AST, ast.AST | None, ast.AST | None, ast.AST | None]] = [
        (root, None, None, None) for root in roots
    ]
    while stack:
        node, parent, grandparent, function = stack.pop()  # function: the innermost def or lambda holding node
        if isinstance(node, (ast.stmt, ast.ExceptHandler)):
            if not _spans(node, lines) or (isinstance(node, ast.ClassDef) and parent is not None):
                continue
        else:
            read = _attribute_read(node, imports) if type(node) in (ast.Attribute, ast.Call) else None
            if (
                read is not None
                and read[0] in wanted
                and imports.qualname(read[1]) is None
                and _releases(node, parent, grandparent)
                and (admits is None or admits(read[1]))
                and _alias_releases(node, parent, function)
            ):
                released.add(read[0])
        inner = node if isinstance(node, (ast.FunctionDef, ast.AsyncFunctionDef, ast.Lambda)) else function
        for name in node._fields:
            value = getattr(node, name, None)
            if isinstance(value, list):
                stack.extend((item, node, parent, inner) for item in value if isinstance(item, ast.AST))
            elif isinstance(value, ast.AST):
                stack.append((value, node, parent, inner))
    return released


def _attribute_read(node: ast.AST, imports: ImportTable) -> tuple[str, ast.expr] | None:
    """The attribute name `node` reads and the object it reads it from: `x.attr` (not stored to), or
    `getattr(x, "attr")` / `getattr(x, "attr", default)` with the name a literal; None for anything else."""
    if isinstance(node, ast.Attribute):
        return None if isinstance(node.ctx, ast.Store) else (node.attr, node.value)
    if not (isinstance(node, ast.Call) and len(node.args) in (2, 3) and not node.keywords):
        return None
    holder, name = node.args[0], node.args[1]
    if not (isinstance(name, ast.Constant) and isinstance(name.value, str)):
        return None
    return (name.value, holder) if imports.call_name(node) == "builtins.getattr" else None


def _alias_releases(value: ast.AST, parent: ast.AST | None, function: ast.AST | None) -> bool:
    """For `value` assigned to a local name alone (`conn = self.conn`) in `function`: whether some use of
    that name releases what it holds (`_releases`); any other `value` is released by its parent already."""
    if not (
        function is not None
        and isinstance(parent, ast.Assign)
        and parent.value is value
        and len(parent.targets) == 1
        and isinstance(parent.targets[0], ast.Name)
    ):
        return True
    alias = parent.targets[0].id
    stack: list[tuple[ast.AST, ast.AST | None, ast.AST | None]] = [(function, None, None)]
    while stack:
        node, up, above = stack.pop()
        loaded = isinstance(node, ast.Name) and node.id == alias and isinstance(node.ctx, ast.Load)
        if loaded and _releases(node, up, above):
            return True
        stack.extend((child, node, up) for child in ast.iter_child_nodes(node))
    return False


def _releases(node: ast.AST, parent: ast.AST | None, grandparent: ast.AST | None) -> bool:
    if isinstance(parent, ast.Attribute):
        method = parent.attr
        called = isinstance(grandparent, ast.Call) and grandparent.func is parent
        return not (method in _INERT_METHODS or (not called and method not in ("close", "detach")))
    if isinstance(parent, (ast.Compare, ast.If, ast.While, ast.IfExp, ast.Assert, ast.UnaryOp, ast.BoolOp)):
        return False
    if isinstance(parent, ast.Expr):
        return False
    return not (isinstance(parent, ast.Call) and parent.func is node)
