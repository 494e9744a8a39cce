"""Scope facts computed from the stdlib `ast`: free names of nested scopes and declared globals."""

from __future__ import annotations

import ast
import sys
import weakref
from collections.abc import Callable, Iterator
from dataclasses import dataclass, field

FunctionNode = (ast.FunctionDef, ast.AsyncFunctionDef, ast.Lambda)
Function = ast.FunctionDef | ast.AsyncFunctionDef
ScopeNode = ast.Module | ast.FunctionDef | ast.AsyncFunctionDef
NESTED_SCOPES = (ast.FunctionDef, ast.AsyncFunctionDef, ast.Lambda, ast.ClassDef)


def parameters(node: ast.FunctionDef | ast.AsyncFunctionDef | ast.Lambda) -> set[str]:
    """Names of a function's parameters."""
    args = node.args
    names = {a.arg for a in (*args.posonlyargs, *args.args, *args.kwonlyargs)}
    names.update(a.arg for a in (args.vararg, args.kwarg) if a is not None)
    return names


def children(node: ast.AST) -> list[ast.AST]:
    """`list(ast.iter_child_nodes(node))`, about twice as fast (no generators)."""
    found: list[ast.AST] = []
    for name in node._fields:
        value = getattr(node, name, None)
        if isinstance(value, list):
            found.extend(item for item in value if isinstance(item, ast.AST))
        elif isinstance(value, ast.AST):
            found.append(value)
    return found


def own_nodes(body: list[ast.stmt]) -> Iterator[ast.AST]:
    """Every node of a scope's body, not descending into nested functions, lambdas or classes."""
    stack: list[ast.AST] = list(reversed(body))
    while stack:
        node = stack.pop()
        yield node
        if isinstance(node, NESTED_SCOPES):
            # decorators, defaults and bases are evaluated in the enclosing scope
            if isinstance(node, ast.ClassDef):
                stack.extend([*node.decorator_list, *node.bases, *(k.value for k in node.keywords)])
            else:
                stack.extend([*node.args.defaults, *(d for d in node.args.kw_defaults if d)])
                if not isinstance(node, ast.Lambda):
                    stack.extend(node.decorator_list)
            continue
        stack.extend(reversed(children(node)))


def handoff_holders(body: list[ast.stmt]) -> dict[str, set[str]]:
    """For each name a scope passes whole to a call whose result it binds (`conn = ctx.wrap_socket(s)`,
    `conn = await start_tls(sock=s)`), the names bound to those results: what may hold its value since."""
    holders: dict[str, set[str]] = {}
    for node in own_nodes(body):
        if isinstance(node, ast.Assign) and len(node.targets) == 1:
            target, value = node.targets[0], node.value
        elif isinstance(node, ast.AnnAssign) and node.value is not None:
            target, value = node.target, node.value
        else:
            continue
        if isinstance(value, ast.Await):
            value = value.value
        if isinstance(target, ast.Name) and isinstance(value, ast.Call):
            for argument in (*value.args, *(k.value for k in value.keywords)):
                if isinstance(argument, ast.Name):
                    holders.setdefault(argument.id, set()).add(target.id)
    return holders


#: free_names per node, for as long as its tree lives: the walk asks again for every path that reaches
#: the same nested scope (each way out through a `finally` walks it once more), and nested scopes nest
_FREE_NAMES: weakref.WeakKeyDictionary[ast.AST, frozenset[str]] = weakref.WeakKeyDictionary()


def free_names(node: ast.AST) -> frozenset[str]:
    """Names a nested function, lambda or class reads from its enclosing scopes."""
    found = _FREE_NAMES.get(node)
    if found is None:
        found = _FREE_NAMES[node] = frozenset(_free_names(node))
    return found


#: nodes without child nodes that `_free_names` needs to look at
_LEAVES = (ast.Constant, ast.expr_context, ast.boolop, ast.operator, ast.unaryop, ast.cmpop)


def _free_names(node: ast.AST) -> set[str]:
    if isinstance(node, ast.ClassDef):
        body: list[ast.AST] = list(node.body)
        bound: set[str] = set()
    elif isinstance(node, ast.Lambda):
        body = [node.body]
        bound = parameters(node)
    else:
        assert isinstance(node, (ast.FunctionDef, ast.AsyncFunctionDef))
        body = list(node.body)
        bound = parameters(node)
    loads: set[str] = set()
    declared_outer: set[str] = set()
    stack = body
    while stack:
        child = stack.pop()
        if type(child) is ast.Name:  # the most frequent node: no children worth visiting (its ctx)
            (loads if isinstance(child.ctx, ast.Load) else bound).add(child.id)
            continue
        if isinstance(child, NESTED_SCOPES):
            loads |= free_names(child)
            if not isinstance(child, ast.Lambda):
                bound.add(child.name)
            continue
        if isinstance(child, ast.Name):
            (loads if isinstance(child.ctx, ast.Load) else bound).add(child.id)
        elif isinstance(child, (ast.Global, ast.Nonlocal)):
            declared_outer.update(child.names)
        elif isinstance(child, (ast.Import, ast.ImportFrom)):
            bound.update((a.asname or a.name).split(".")[0] for a in child.names)
        elif isinstance(child, _LEAVES):
            continue
        stack.extend(children(child))
    return (loads - bound) | declared_outer


def captured_names(body: list[ast.stmt], lent: Callable[[ast.AST], frozenset[str]] | None = None) -> dict[str, int]:
    """Names of this scope that nested scopes read, or that are declared global/nonlocal here, each with
    the first line from which it is shared (0 for a global or nonlocal declaration). `lent(node)` names
    what a nested scope only borrows: not shared."""
    names: dict[str, int] = {}
    for node in own_nodes(body):
        if isinstance(node, NESTED_SCOPES):
            for name in free_names(node) - (lent(node) if lent else frozenset()):
                names[name] = min(names.get(name, node.lineno), node.lineno)
        elif isinstance(node, (ast.Global, ast.Nonlocal)):
            names.update(dict.fromkeys(node.names, 0))
    return names


@dataclass
class ModuleIndex:
    """What one statement-level pass over a module finds: imports, and every function with its class."""

    imports: list[ast.Import | ast.ImportFrom] = field(default_factory=list)
    functions: list[tuple[ast.FunctionDef | ast.AsyncFunctionDef, ast.ClassDef | None]] = field(default_factory=list)
    classes: list[ast.ClassDef] = field(default_factory=list)


_BODIES = ("body", "orelse", "finalbody", "handlers", "cases")
_MATCH_CASE = (ast.match_case,) if sys.version_info >= (3, 10) else ()
#: per node type, which of `_BODIES` it has (compound statements, `except` handlers and `case`s)
_BODY_FIELDS: dict[type, tuple[str, ...]] = {}


def _body_fields(kind: type) -> tuple[str, ...]:
    fields = _BODY_FIELDS.get(kind)
    if fields is None:
        fields = _BODY_FIELDS[kind] = tuple(f for f in _BODIES if f in getattr(kind, "_fields", ()))
    return fields


_IMPORT, _FUNCTION, _CLASS, _COMPOUND, _SIMPLE = range(5)
#: what `index_module` does with a child of each node type (filled as types are met)
_ROLES: dict[type, int] = {}


def _role(kind: type) -> int:
    role = _ROLES.get(kind)
    if role is None:
        if issubclass(kind, (ast.Import, ast.ImportFrom)):
            role = _IMPORT
        elif issubclass(kind, (ast.FunctionDef, ast.AsyncFunctionDef)):
            role = _FUNCTION
        elif issubclass(kind, ast.ClassDef):
            role = _CLASS
        else:
            role = _COMPOUND if _body_fields(kind) else _SIMPLE
        _ROLES[kind] = role
    return role


def index_module(tree: ast.Module) -> ModuleIndex:
    """Visit statements only (never expressions, where most nodes are): cheap next to a full walk.

    Only nodes with statement lists are pushed (a simple statement holds nothing to index), in the same
    order as a walk of every statement would meet them; node types are told apart by one dict lookup.
    """
    index = ModuleIndex()
    imports, functions, classes = index.imports, index.functions, index.classes
    stack: list[tuple[ast.AST, ast.ClassDef | None]] = [(tree, None)]
    roles = _ROLES
    while stack:
        node, owner = stack.pop()
        for name in _body_fields(type(node)):
            for child in getattr(node, name):
                role = roles.get(type(child))
                if role is None:
                    role = _role(type(child))
                if role == _SIMPLE:
                    continue
                if role == _COMPOUND:
                    stack.append((child, owner))
                elif role == _IMPORT:
                    imports.append(child)
                elif role == _FUNCTION:
                    functions.append((child, owner))
                    stack.append((child, None))
                elif role == _CLASS:
                    classes.append(child)
                    stack.append((child, child))
    return index
