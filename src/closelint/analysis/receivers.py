"""Whose object an `x.<attr>` in the code outside every class of a module names.

The class model matches attribute names per class (SPEC §2): a close of `x.sock` in a module function
closes the `sock` of whatever `x` is. That is a class of the module when `x` is a parameter annotated
with it (`def close_client(c: Client)`, `c: "Client | None"`) or a name bound to a call of it
(`c = Client(...)`) in the function or a scope around it; the close then counts for that class (with its
bases and subclasses in the module). An untyped `x` (`def teardown(c)`) may be an object of any class, or
of none of the module's: its close counts for no class. Classes defined under `if`/`try` are classes of
their own, not code outside every class.
"""

from __future__ import annotations

import ast
from functools import cached_property

from closelint.analysis.scopes import own_nodes

_FUNCTIONS = (ast.FunctionDef, ast.AsyncFunctionDef)


class OutsideCode:
    """The statements of a module outside every class, and the module classes each name there is typed to."""

    def __init__(self, tree: ast.Module, class_names: frozenset[str]) -> None:
        self.statements: list[ast.stmt] = [s for s in tree.body if not isinstance(s, ast.ClassDef)]
        self._class_names = class_names

    def admits(self, receiver: ast.expr, family: frozenset[str]) -> bool:
        """Whether `receiver` (the `x` of `x.<attr>`, in the code outside every class) is typed to one of the
        classes named `family`."""
        return isinstance(receiver, ast.Name) and not self._typed.get(id(receiver), frozenset()).isdisjoint(family)

    @cached_property
    def _typed(self) -> dict[int, frozenset[str]]:
        """The module classes each `ast.Name` of the outside code is typed to, by node id (typed ones only)."""
        typed: dict[int, frozenset[str]] = {}
        pending: list[tuple[list[ast.stmt], dict[str, frozenset[str]]]] = [(self.statements, {})]
        while pending:
            body, around = pending.pop()
            scope = dict(around)
            nodes = list(own_nodes(body))
            for node in nodes:
                name, classes = self._bound(node)
                if classes:
                    scope[name] = scope.get(name, frozenset()) | classes
            for node in nodes:
                if isinstance(node, ast.Name) and node.id in scope:
                    typed[id(node)] = scope[node.id]
                elif isinstance(node, _FUNCTIONS):
                    pending.append((node.body, self._parameters(node, scope)))
        return typed

    def _parameters(
        self, function: ast.FunctionDef | ast.AsyncFunctionDef, around: dict[str, frozenset[str]]
    ) -> dict[str, frozenset[str]]:
        """The names typed on entry to `function`: those of the scopes around it, its parameters shadowing them."""
        scope = dict(around)
        arguments = function.args
        for parameter in [*arguments.posonlyargs, *arguments.args, *arguments.kwonlyargs]:
            scope.pop(parameter.arg, None)
            classes = self._annotated(parameter.annotation) if parameter.annotation is not None else frozenset()
            if classes:
                scope[parameter.arg] = classes
        return scope

    def _bound(self, node: ast.AST) -> tuple[str, frozenset[str]]:
        """The name an assignment binds and the module classes it types it to: a constructor call
        (`c = Client()`), an annotation (`c: Client = make()`)."""
        target: ast.expr
        value: ast.expr | None
        annotation: ast.expr | None
        if isinstance(node, ast.Assign) and len(node.targets) == 1:
            target, value, annotation = node.targets[0], node.value, None
        elif isinstance(node, ast.AnnAssign):
            target, value, annotation = node.target, node.value, node.annotation
        else:
            return "", frozenset()
        func = value.func if isinstance(value, ast.Call) else None
        classes = frozenset({func.id}) & self._class_names if isinstance(func, ast.Name) else frozenset()
        if annotation is not None:
            classes |= self._annotated(annotation)
        return (target.id, classes) if isinstance(target, ast.Name) else ("", frozenset())

    def _annotated(self, annotation: ast.expr) -> frozenset[str]:
        """The module classes an annotation names (`Client`, `Client | None`, `Optional["Client"]`)."""
        names: set[str] = set()
        for node in ast.walk(annotation):
            if isinstance(node, ast.Name):
                names.add(node.id)
            elif isinstance(node, ast.Constant) and isinstance(node.value, str):
                try:
                    names.update(n.id for n in ast.walk(ast.parse(node.value, mode="eval")) if isinstance(n, ast.Name))
                except SyntaxError:
                    continue
        return frozenset(names) & self._class_names
