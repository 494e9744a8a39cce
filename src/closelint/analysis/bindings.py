"""The values a module binds to each name, per scope, and the lookup of a name by Python's rules.

A name used in a function is that function's local when the function binds it (an assignment, a parameter,
a loop target, an import, a `def`), unless it declares it `global`/`nonlocal`; otherwise it is looked up
in the enclosing functions, then among the module's globals (class bodies are skipped, as Python does).
Values are those of `name = v`, `name: T = v` and of each element of `a, b = x, y`; every other way of
binding a name (a parameter, a loop target, `+=`, an import, …) binds `UNKNOWN`. The analysis is flow-
insensitive: a caller that needs one value requires all the values bound in the scope to agree.
"""

from __future__ import annotations

import ast
from dataclasses import dataclass, field

from closelint.analysis.scopes import children

#: a binding whose value is not followed (a parameter, a loop target, `+=`, an import, …)
UNKNOWN = ast.Constant(value=...)
_SCOPES = (ast.FunctionDef, ast.AsyncFunctionDef, ast.Lambda, ast.ClassDef)


@dataclass
class _Scope:
    node: ast.AST
    parent: _Scope | None
    values: dict[str, list[ast.expr]] = field(default_factory=dict)
    declared_global: set[str] = field(default_factory=set)
    declared_nonlocal: set[str] = field(default_factory=set)

    def enclosing_function(self) -> _Scope | None:
        scope = self.parent
        while scope is not None and isinstance(scope.node, ast.ClassDef):
            scope = scope.parent
        return scope if scope is not None and scope.parent is not None else None


class Bindings:
    """Every value bound to each name in each scope of a module."""

    def __init__(self, tree: ast.Module) -> None:
        self._module = _Scope(tree, None)
        self._scope_of: dict[int, _Scope] = {}
        owned = self._assign(tree)
        paired: dict[int, ast.expr] = {}
        for node, scope in owned:
            if isinstance(node, (ast.Global, ast.Nonlocal)):
                declared = scope.declared_global if isinstance(node, ast.Global) else scope.declared_nonlocal
                declared.update(node.names)
            elif isinstance(node, ast.Assign):
                for target in node.targets:
                    _pair(target, node.value, paired)
            elif isinstance(node, ast.AnnAssign) and node.value is not None:
                _pair(node.target, node.value, paired)
        for node, scope in owned:
            if isinstance(node, ast.Name) and not isinstance(node.ctx, ast.Load):
                self._bind(scope, node.id, paired.get(id(node), UNKNOWN))
            elif isinstance(node, ast.arg):
                self._bind(scope, node.arg, UNKNOWN)
            elif isinstance(node, ast.alias) and node.name != "*":
                self._bind(scope, node.asname or node.name.split(".", 1)[0], UNKNOWN)
            elif isinstance(node, (ast.FunctionDef, ast.AsyncFunctionDef, ast.ClassDef)):
                self._bind(scope, node.name, UNKNOWN)

    def values(self, name: ast.Name) -> list[ast.expr]:
        """Every value bound to the variable `name` refers to, in the scope Python resolves it in; empty
        when nothing in the module binds it (a builtin, a name from `import *`, an undefined global)."""
        scope = self._scope_of.get(id(name), self._module)
        identifier = name.id
        if identifier in scope.declared_global:
            return self._module.values.get(identifier, [])
        here: _Scope | None = scope
        while here is not None:
            visible = here is scope or not isinstance(here.node, ast.ClassDef)  # methods skip the class body
            if visible and identifier in here.values and identifier not in here.declared_nonlocal:
                return here.values[identifier]
            here = here.parent
        return []

    def _bind(self, scope: _Scope, identifier: str, value: ast.expr) -> None:
        if identifier in scope.declared_global:
            scope = self._module
        elif identifier in scope.declared_nonlocal:
            scope = scope.enclosing_function() or scope
        scope.values.setdefault(identifier, []).append(value)

    def _assign(self, tree: ast.Module) -> list[tuple[ast.AST, _Scope]]:
        """Every node with the scope it is evaluated in (a `def`'s defaults and decorators: the outer one)."""
        owned: list[tuple[ast.AST, _Scope]] = []
        stack: list[tuple[ast.AST, _Scope]] = [(tree, self._module)]
        while stack:
            node, scope = stack.pop()
            owned.append((node, scope))
            if isinstance(node, ast.Name):
                self._scope_of[id(node)] = scope
            if not isinstance(node, _SCOPES):
                stack.extend((child, scope) for child in children(node))
                continue
            inner = _Scope(node, scope)
            if isinstance(node, ast.ClassDef):
                outer: list[ast.AST] = [*node.decorator_list, *node.bases, *node.keywords]
                own: list[ast.AST] = list(node.body)
            else:
                args = node.args
                outer = [*args.defaults, *(d for d in args.kw_defaults if d)]
                own = [*args.posonlyargs, *args.args, *args.kwonlyargs]
                own += [a for a in (args.vararg, args.kwarg) if a is not None]
                if isinstance(node, ast.Lambda):
                    own.append(node.body)
                else:
                    outer.extend(node.decorator_list)
                    own.extend(node.body)
            stack.extend((child, scope) for child in outer)
            stack.extend((child, inner) for child in own)
        return owned


def _pair(target: ast.expr, value: ast.expr, paired: dict[int, ast.expr]) -> None:
    """Match the names of an assignment target with the parts of its value (`a, b = 1, 0`)."""
    if isinstance(target, ast.Name):
        paired[id(target)] = value
    elif (
        isinstance(target, (ast.Tuple, ast.List))
        and isinstance(value, (ast.Tuple, ast.List))
        and len(target.elts) == len(value.elts)
        and not any(isinstance(e, ast.Starred) for e in [*target.elts, *value.elts])
    ):
        for element, part in zip(target.elts, value.elts):
            _pair(element, part, paired)
