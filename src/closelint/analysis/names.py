"""Qualified names of expressions, resolved through the module's imports.

`import socket as net` makes `net.socket` resolve to `socket.socket`; `from socket import socket as S`
makes `S` resolve to `socket.socket`. Names that are not imported resolve to themselves only when they
are builtins, so a local variable called `socket` is never mistaken for the module.
"""

from __future__ import annotations

import ast
import builtins
import importlib
from collections.abc import Callable, Iterable, Mapping

_BUILTINS = frozenset(dir(builtins))


class ImportTable:
    """Maps local names bound by the given import statements to qualified names."""

    def __init__(self, statements: Iterable[ast.Import | ast.ImportFrom]) -> None:
        self._names: dict[str, str] = {}
        self._replaced: tuple[str, ...] = ()  # prefixes of qualified names that resolve to nothing
        #: every absolute module the statements import, in their order (`from m import *` included)
        self.modules: list[str] = []
        for node in statements:
            if isinstance(node, ast.Import):
                self.modules += [alias.name for alias in node.names]
                for alias in node.names:
                    if alias.asname:
                        self._names[alias.asname] = alias.name
                    else:
                        top = alias.name.split(".", 1)[0]
                        self._names[top] = top
            elif isinstance(node, ast.ImportFrom) and node.module and not node.level:
                self.modules.append(node.module)
                for alias in node.names:
                    if alias.name == "*":
                        self._names.update(_star_names(node.module))
                    else:
                        self._names[alias.asname or alias.name] = f"{node.module}.{alias.name}"

    def assume_star_modules(self, statements: Iterable[ast.Import | ast.ImportFrom], bound: set[str]) -> None:
        """After `from package.util import *` (a module that cannot be read here), `socket` or `ssl` when
        nothing in the module binds it (`bound`) is taken to be that module, re-exported by the star."""
        if not any(
            isinstance(node, ast.ImportFrom) and node.module not in _STAR_MODULES and node.names[0].name == "*"
            for node in statements
        ):
            return
        for module in _GUESSED_MODULES - bound - set(self._names):
            self._names[module] = module

    def replace_modules(self, fakes: Mapping[str, str]) -> None:
        """`fakes` maps a test's fake network to the module whose functions it replaces at run time: where
        the module imports a fake, names under the module it replaces resolve to nothing, so none of them is
        taken for what the real module does."""
        self._replaced = tuple(module + "." for fake, module in fakes.items() if self.uses_module(fake))

    def local_names(self, wanted: Callable[[str], bool]) -> set[str]:
        """Local names whose qualified name (green modules read as the standard ones) satisfies `wanted`,
        and the packages holding such a green module (`import gevent` for `gevent.socket.socket()`)."""
        return {
            local
            for local, qualified in self._names.items()
            if wanted(standard_name(qualified))
            or any(green.startswith(qualified + ".") and wanted(standard) for green, standard in GREEN_MODULES.items())
        }

    def uses_module(self, module: str) -> bool:
        """Whether any import binds `module` or something from it."""
        return any(q == module or q.startswith(module + ".") for q in self._names.values())

    def qualname(self, node: ast.AST) -> str | None:
        """The dotted qualified name of a Name/Attribute chain, or None if it is not an import (or names
        something under a module `replace_modules` was told of)."""
        imported = self.imported_name(node)
        return standard_name(imported) if imported and not imported.startswith(self._replaced) else None

    def imported_name(self, node: ast.AST) -> str | None:
        """`qualname` as imported: a green module's name is kept (`gevent.socket.socket`)."""
        if isinstance(node, ast.Name):
            if node.id in self._names:
                return self._names[node.id]
            return f"builtins.{node.id}" if node.id in _BUILTINS else None
        if isinstance(node, ast.Attribute):
            base = self.imported_name(node.value)
            return f"{base}.{node.attr}" if base else None
        return None

    def call_name(self, node: ast.AST) -> str | None:
        """The qualified name of the function a Call node calls, if it is resolvable."""
        return self.qualname(node.func) if isinstance(node, ast.Call) else None


#: cooperative ("green") drop-in replacements of the standard socket module: their sockets own a descriptor,
#: are closed by close()/`with` and lose data the same way (gevent.socket's docs: "a cooperative version of
#: the standard socket module"; eventlet.green.socket likewise). trio.socket mirrors it too, with awaited
#: I/O methods, and adds `from_stdlib_socket` (trio docs, "Low-level networking with trio.socket")
GREEN_MODULES = {"gevent.socket": "socket", "eventlet.green.socket": "socket", "trio.socket": "socket"}


def standard_name(qualified: str) -> str:
    """`qualified` with a green module prefix replaced by the standard module it stands for."""
    for green, standard in GREEN_MODULES.items():
        if qualified == green or qualified.startswith(green + "."):
            return standard + qualified[len(green) :]
    return qualified


#: modules whose name, unbound after a star import of a package module, is taken to be the module
_GUESSED_MODULES = frozenset({"socket", "ssl"})
_STAR_MODULES = frozenset({"socket", "ssl", "struct", "asyncio", "contextlib", "functools", "selectors"})


def _star_names(module: str) -> dict[str, str]:
    """Names a `from MODULE import *` binds, for the standard modules the rules care about."""
    if module not in _STAR_MODULES:
        return {}
    imported = importlib.import_module(module)
    public = getattr(imported, "__all__", None) or [n for n in dir(imported) if not n.startswith("_")]
    return {name: f"{module}.{name}" for name in public}


def bindings(tree: ast.AST, name: str) -> list[ast.AST]:
    """Every node that binds `name` in any scope of `tree`: a def or class, an import, a parameter, an
    assignment or other store (for, with, except, walrus, comprehension, match capture), global/nonlocal."""
    found: list[ast.AST] = []
    for node in ast.walk(tree):
        if isinstance(node, (ast.FunctionDef, ast.AsyncFunctionDef, ast.ClassDef)):
            bound = [node.name]
        elif isinstance(node, (ast.Import, ast.ImportFrom)):
            bound = [(a.asname or a.name).split(".", 1)[0] for a in node.names]
        elif isinstance(node, ast.arg):
            bound = [node.arg]
        elif isinstance(node, ast.Name):
            bound = [node.id] if not isinstance(node.ctx, ast.Load) else []
        elif isinstance(node, (ast.Global, ast.Nonlocal)):
            bound = list(node.names)
        elif isinstance(node, (ast.ExceptHandler, ast.MatchAs, ast.MatchStar)):
            bound = [node.name] if node.name else []
        elif isinstance(node, ast.MatchMapping):
            bound = [node.rest] if node.rest else []
        else:
            continue
        if name in bound:
            found.append(node)
    return found
