"""Run the lifetime analysis over a whole module, and the class-level facts (sockets kept on `self`)."""

from __future__ import annotations

import ast
import bisect
import itertools
import unicodedata
from collections.abc import Iterable, Iterator
from dataclasses import dataclass, field
from functools import cached_property
from pathlib import Path

from closelint.analysis import factories as F
from closelint.analysis.bindings import Bindings
from closelint.analysis.budget import WorkBudget
from closelint.analysis.flow import ScopeFacts, ScopeWalker, StreamFacts
from closelint.analysis.names import ImportTable
from closelint.analysis.scopes import ModuleIndex, ScopeNode, children, index_module
from closelint.analysis.state import SOCKET, Resource

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
    #: a test module (test_*.py, *_test.py, conftest.py or under a tests/ directory, defining tests):
    #: what only runs in tests is judged by the rules that matter there (leaks), not by all of them
    in_tests: bool = False
    scopes: list[ScopeFacts] = field(default_factory=list)
    unclosed_attributes: list[tuple[str, Resource]] = field(default_factory=list)
    #: the class each walked method belongs to
    classes: dict[ast.AST, ast.ClassDef] = field(default_factory=dict)

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


def analyse(tree: ast.Module, text: str, path: str = "") -> ModuleFacts:
    """Walk every scope of `tree` that can own a socket, and derive the module-level facts.

    A scope whose lines mention none of the identifiers a socket can be created or sent through (the
    socket module and its aliases, names imported from it, `factories.SCOPE_TRIGGERS`) owns no socket and
    sends on none, so it is not walked: the findings are the same, and most functions cost nothing.
    Raises `budget.TooComplex` when the walk of the file goes past `budget.MAX_STEPS`.
    """
    index = index_module(tree)
    imports = ImportTable(index.imports)
    facts = ModuleFacts(tree, imports, text, in_tests=_is_test_module(path, index))
    mentions = _trigger_lines(text, imports)
    streams = _stream_facts(tree, index, imports, text)
    if not mentions and not streams:
        return facts
    ids = itertools.count()
    budget = WorkBudget()
    stored: dict[ast.ClassDef, list[tuple[str, Resource]]] = {}
    scopes: list[tuple[ScopeNode, ast.ClassDef | None]] = [(tree, None), *index.functions]
    for scope, owner in scopes:
        scope_streams = streams.get(scope)
        end = getattr(scope, "end_lineno", None) or len(text)
        first = scope.lineno if isinstance(scope, (ast.FunctionDef, ast.AsyncFunctionDef)) else 1
        if scope_streams is None and bisect.bisect_left(mentions, first) == bisect.bisect_right(mentions, end):
            continue
        self_name = _self_parameter(scope) if owner is not None else None
        walked = ScopeWalker(
            scope, scope.body, imports, self_name, ids, scope_streams, lambda: facts.bindings, budget
        ).run()
        facts.scopes.append(walked)
        if owner is not None:
            facts.classes[scope] = owner
        if owner is not None and walked.stored_on_self:
            stored.setdefault(owner, []).extend(walked.stored_on_self)
    if stored:
        released = _released_attributes(tree, text, {attr for items in stored.values() for attr, _ in items})
        classes = {node.name: node for node in index.classes}
        for cls, items in stored.items():
            if _neutral_bases(cls, classes, imports, set()):
                facts.unclosed_attributes.extend(
                    (attr, r) for attr, r in items if attr not in released and r.kind == SOCKET
                )
    return facts


def _stream_facts(tree: ast.Module, index: ModuleIndex, imports: ImportTable, text: str) -> dict[ast.AST, StreamFacts]:
    """The functions that receive a StreamWriter: start_server handlers (by name, or `self.method`),
    parameters annotated `asyncio.StreamWriter`, and methods of classes that keep a writer on `self`."""
    if not any(
        word in text
        for word in ("StreamWriter", "start_server", "start_unix_server", "open_connection", "open_unix_connection")
    ):
        return {}
    handlers = _stream_handlers(tree, imports, text) if "start_" in text else set()
    writer_lines = mention_lines(text, _spellings(F.WRITER_TYPES | F.STREAM_OPENERS, imports))
    writer_attributes = {cls: _writer_attributes(cls, imports, writer_lines) for cls in index.classes}
    found: dict[ast.AST, StreamFacts] = {}
    for function, owner in index.functions:
        positional = [a.arg for a in (*function.args.posonlyargs, *function.args.args)]
        if owner is not None and positional and not _is_static(function):
            positional = positional[1:]
        parameters = {
            a.arg: False
            for a in (*function.args.posonlyargs, *function.args.args, *function.args.kwonlyargs)
            if a.annotation is not None and imports.qualname(a.annotation) in F.WRITER_TYPES
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


def _writer_attributes(cls: ast.ClassDef, imports: ImportTable, lines: list[int]) -> frozenset[str]:
    """`self.<attr>` names a class assigns the writer of open_connection to; `lines` are those that
    mention a spelling of a writer type or a stream opener. (A class-level annotation is not enough:
    wrappers of subprocess pipes are annotated StreamWriter and close without waiting, on purpose.)"""
    found: set[str] = set()
    for node in walk_lines(cls, lines):
        if isinstance(node, ast.Assign) and isinstance(node.value, ast.Await):
            opened = node.value.value
            if isinstance(opened, ast.Call) and imports.call_name(opened) in F.TIMEOUT_WRAPPERS and opened.args:
                opened = opened.args[0]
            if not (isinstance(opened, ast.Call) and imports.call_name(opened) in F.STREAM_OPENERS):
                continue
            pairs = [t.elts for t in node.targets if isinstance(t, ast.Tuple) and len(t.elts) == 2]
            found.update(elts[1].attr for elts in pairs if isinstance(elts[1], ast.Attribute))
    return frozenset(found)


def _is_static(function: ast.FunctionDef | ast.AsyncFunctionDef) -> bool:
    return any(isinstance(d, ast.Name) and d.id == "staticmethod" for d in function.decorator_list)


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
    names = imports.local_names(lambda q: q.split(".", 1)[0] in F.SOCKET_MODULES) | F.SCOPE_TRIGGERS
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
    return not any(k.arg == "metaclass" for k in cls.keywords)


def walk_mentioning(tree: ast.AST, text: str, names: Iterable[str]) -> Iterator[ast.AST]:
    """The nodes of `ast.walk(tree)` that can hold an identifier of `names` (and more), in another order.

    For a rule that looks for calls or statements naming `setsockopt`, `accept`, ...: a node spelling
    one of `names` lies in a statement that spans a line mentioning it, and only statements that span
    such a line are entered (`text` is the module's source).
    """
    return walk_lines(tree, mention_lines(text, names))


def walk_lines(node: ast.AST, lines: list[int]) -> Iterator[ast.AST]:
    """`node` and the nodes below it, except statements (and `except` clauses) spanning no line of the
    sorted `lines` and everything they hold; a `def` or `class` spans its decorators too."""
    if not lines:
        return
    stack = [node]
    while stack:
        node = stack.pop()
        if isinstance(node, (ast.stmt, ast.ExceptHandler)) and not _spans(node, lines):
            continue
        yield node
        stack.extend(children(node))


def _spans(node: ast.stmt | ast.ExceptHandler, lines: list[int]) -> bool:
    first = node.lineno
    for decorator in getattr(node, "decorator_list", ()):
        first = min(first, decorator.lineno)
    return bisect.bisect_left(lines, first) != bisect.bisect_right(lines, node.end_lineno or node.lineno)


def _released_attributes(tree: ast.Module, text: str, wanted: set[str]) -> set[str]:
    """Which of the attribute names `wanted` some code in the module closes or hands off (`x.attr.close()`,
    `f(x.attr)`, …).

    An `x.attr` node ends with the `attr` token, so every statement holding one spans a line that mentions
    `attr`: statements that span none are skipped whole (decorators count as part of their `def`/`class`).
    """
    lines = mention_lines(text, wanted)
    released: set[str] = set()
    if not lines:
        return released
    stack: list[tuple[ast.AST, ast.AST | None, ast.AST | None]] = [(tree, None, None)]  # node, parent, grandparent
    while stack:
        node, parent, grandparent = stack.pop()
        if isinstance(node, (ast.stmt, ast.ExceptHandler)):
            if not _spans(node, lines):
                continue
        elif (
            type(node) is ast.Attribute
            and node.attr in wanted
            and not isinstance(node.ctx, ast.Store)
            and _releases(node, parent, grandparent)
        ):
            released.add(node.attr)
        for name in node._fields:
            value = getattr(node, name, None)
            if isinstance(value, list):
                stack.extend((item, node, parent) for item in value if isinstance(item, ast.AST))
            elif isinstance(value, ast.AST):
                stack.append((value, node, parent))
    return released


def _releases(node: ast.Attribute, parent: ast.AST | None, grandparent: ast.AST | None) -> bool:
    if isinstance(parent, ast.Attribute):
        method = parent.attr
        called = isinstance(grandparent, ast.Call) and grandparent.func is parent
        return not (method in _INERT_METHODS or (not called and method not in ("close", "detach")))
    if isinstance(parent, (ast.Compare, ast.If, ast.While, ast.IfExp, ast.Assert, ast.UnaryOp, ast.BoolOp)):
        return False
    if isinstance(parent, ast.Expr):
        return False
    return not (isinstance(parent, ast.Call) and parent.func is node)
