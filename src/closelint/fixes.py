"""The rewrites behind `--fix`: libcst transformations, each found by the position of its finding.

A finding's `Fix.key` names the rewrite; its line and column (those of the finding) locate the node.
Rewrites only ever replace whole statements, so comments and formatting elsewhere are untouched (the
comments of a statement a rewrite absorbs move with it), and the helper import is merged into an existing
`from <helper-module> import ...` or placed where import sorters want it (closelint.import_placement).
The inserted call never captures or shadows another `graceful_close` of the module: when that name is
bound to anything but the helper, the helper is imported under a free alias. Importing this module
imports libcst: only `--fix`, `--diff` and fix previews do.
"""

from __future__ import annotations

import ast
import itertools
import re
from collections.abc import Sequence
from pathlib import Path

import libcst as cst
from libcst.metadata import MetadataWrapper, PositionProvider

from closelint.analysis.names import bindings
from closelint.config import DEFAULT_DRAIN_TIMEOUT
from closelint.import_placement import add_import
from closelint.model import FixKey, Violation

HELPER = "graceful_close"
GRACEFUL_CLOSE = FixKey.GRACEFUL_CLOSE
GRACEFUL_CLOSE_IN_FINALLY = FixKey.GRACEFUL_CLOSE_IN_FINALLY
GRACEFUL_CLOSE_IN_WITH = FixKey.GRACEFUL_CLOSE_IN_WITH
WITH_STATEMENT = FixKey.WITH_STATEMENT
AWAIT_WAIT_CLOSED = FixKey.AWAIT_WAIT_CLOSED

Position = tuple[int, int]
Statements = Sequence[cst.BaseStatement]


def apply_fixes(
    text: str,
    violations: Sequence[Violation],
    helper_module: str,
    timeout: float | None = None,
    project_root: Path | None = None,
) -> str:
    """`text` with the fixes of `violations` applied (they must not overlap).

    `timeout`, when given, is passed to every `graceful_close()` the fixes write; `project_root` (the
    directory of pyproject.toml) tells first-party modules from third-party ones for the import's place."""
    targets = {(v.line, v.col): v.fix.key for v in violations if v.fix is not None}
    module = cst.parse_module(text)
    tree = ast.parse(text)
    name, imported = helper_name(tree, text, helper_module)
    asyncio_name = module_alias(tree, "asyncio")
    rewriter = _Rewriter(targets, timeout, name, asyncio_name or "asyncio")
    rewritten = MetadataWrapper(module, unsafe_skip_copy=True).visit(rewriter)
    if rewriter.uses_helper and not imported:
        rewritten = add_import(rewritten, helper_module, project_root, HELPER, None if name == HELPER else name)
    if rewriter.uses_sys:
        rewritten = add_import(rewritten, "sys", project_root)
    if rewriter.uses_asyncio and asyncio_name is None:
        rewritten = add_import(rewritten, "asyncio", project_root)
    return rewritten.code


def module_alias(tree: ast.Module, module: str) -> str | None:
    """The name a top-level `import <module>` or `import <module> as <alias>` binds, when that name means
    the module wherever it is bound (`import asyncio as aio`: the rewrite writes `aio.wait_for`, and adds
    no second import that import sorters would move); None when the module is not imported so."""
    names = [
        alias.asname or alias.name
        for statement in tree.body
        if isinstance(statement, ast.Import)
        for alias in statement.names
        if alias.name == module
    ]
    for name in sorted(names, key=lambda n: n != module):  # the module's own name first
        if all(
            isinstance(node, ast.Import) and all(a.name == module for a in node.names if (a.asname or a.name) == name)
            for node in bindings(tree, name)
        ):
            return name
    return None


def helper_name(tree: ast.Module, text: str, helper_module: str) -> tuple[str, bool]:
    """The name the inserted calls use for the helper, and whether the module already imports it so.

    `graceful_close` itself, unless the module binds that name to anything but the helper (a function,
    a class, another import, a local, a parameter) or has a star import that may bind it: then an
    existing `from <helper-module> import graceful_close as <alias>`, or a new alias that no identifier of
    the module uses.
    """
    own = _helper_imports(tree, helper_module)
    starred = any(
        isinstance(node, ast.ImportFrom) and any(alias.name == "*" for alias in node.names) for node in ast.walk(tree)
    )
    for name in (HELPER, *own):
        if name == HELPER and starred:
            continue  # `from x import *` may bind it
        found = bindings(tree, name)
        if found and all(node in own.get(name, ()) for node in found):
            return name, True
        if not found and name == HELPER:
            return name, False
    words = set(re.findall(r"\w+", text))
    candidates = (f"{HELPER}_{n}" if n else f"{HELPER}_" for n in itertools.count())
    return next(c for c in candidates if c not in words), False


def _helper_imports(tree: ast.Module, helper_module: str) -> dict[str, list[ast.ImportFrom]]:
    """Module-level `from <helper-module> import graceful_close [as alias]`, by the name each binds."""
    found: dict[str, list[ast.ImportFrom]] = {}
    for statement in tree.body:
        if isinstance(statement, ast.ImportFrom) and statement.module == helper_module and not statement.level:
            for alias in statement.names:
                if alias.name == HELPER:
                    found.setdefault(alias.asname or HELPER, []).append(statement)
    return found


class _Rewriter(cst.CSTTransformer):
    METADATA_DEPENDENCIES = (PositionProvider,)

    def __init__(self, targets: dict[Position, str], timeout: float | None, helper: str, asyncio: str) -> None:
        super().__init__()
        self.targets = targets
        self.timeout = timeout
        self.helper = helper
        self.asyncio = asyncio
        self.uses_helper = False
        self.uses_sys = False
        self.uses_asyncio = False

    def _key(self, node: cst.CSTNode) -> str | None:
        start = self.get_metadata(PositionProvider, node).start
        return self.targets.get((start.line, start.column))

    # -- statement sequences: where closes are replaced and `with` blocks are made
    def leave_Module(self, original_node: cst.Module, updated_node: cst.Module) -> cst.Module:
        return updated_node.with_changes(body=self._rewrite(original_node.body, updated_node.body))

    def leave_IndentedBlock(
        self, original_node: cst.IndentedBlock, updated_node: cst.IndentedBlock
    ) -> cst.IndentedBlock:
        return updated_node.with_changes(body=self._rewrite(original_node.body, updated_node.body))

    def _rewrite(self, originals: Statements, updated: Statements) -> list[cst.BaseStatement]:
        out: list[cst.BaseStatement] = []
        index = 0
        while index < len(originals):
            original, current = originals[index], updated[index]
            call = _sole_call(original)
            key = self._key(call) if call is not None else None
            if key == GRACEFUL_CLOSE:
                out.append(self._graceful_close(current, out))
            elif key == GRACEFUL_CLOSE_IN_FINALLY:
                out.append(self._graceful_on_normal_path(current, out))
            elif key == AWAIT_WAIT_CLOSED:
                self.uses_asyncio = True
                out.extend([current, _wait_closed(_receiver(current), self.timeout, self.asyncio)])
            else:
                created = _assigned_call(original)
                if created is not None and self._key(created) == WITH_STATEMENT:
                    end = _closing_index(originals, index, self.helper)
                    if end is not None:
                        out.append(self._with_statement(updated, index, end))
                        index = end + 1
                        continue
                out.append(current)
            index += 1
        return out

    def _graceful_close(self, statement: cst.BaseStatement, before: list[cst.BaseStatement]) -> cst.BaseStatement:
        """`sock.close()` -> `graceful_close(sock)`, absorbing a `sock.shutdown(...)` right before it (its
        comments move above the call)."""
        receiver = _receiver(statement)
        assert isinstance(statement, cst.SimpleStatementLine)
        leading = list(statement.leading_lines)
        shutdown = _pop_shutdown(before, receiver)
        if shutdown is not None:
            leading = [*shutdown.leading_lines, *_as_lines(shutdown.trailing_whitespace), *leading]
        return statement.with_changes(body=[cst.Expr(self._helper_call(receiver))], leading_lines=leading)

    def _graceful_on_normal_path(
        self, statement: cst.BaseStatement, before: list[cst.BaseStatement]
    ) -> cst.BaseStatement:
        """A close in `finally`: graceful when no exception is propagating, the original close (with a
        `shutdown()` right before it) otherwise."""
        receiver = _receiver(statement)
        assert isinstance(statement, cst.SimpleStatementLine)
        shutdown = _pop_shutdown(before, receiver)
        plain = [statement.with_changes(leading_lines=())]
        leading = list(statement.leading_lines)
        if shutdown is not None:
            plain.insert(0, shutdown.with_changes(leading_lines=()))
            leading = [*shutdown.leading_lines, *leading]
        self.uses_sys = True
        graceful = statement.with_changes(
            body=[cst.Expr(self._helper_call(receiver))], leading_lines=(), trailing_whitespace=cst.TrailingWhitespace()
        )  # the close's own comment stays with it, in the `else`
        normal = cst.parse_expression("sys.exc_info()[1] is None")
        return cst.If(
            test=normal,
            body=cst.IndentedBlock(body=[graceful]),
            orelse=cst.Else(body=cst.IndentedBlock(body=plain)),
            leading_lines=leading,
        )

    def _with_statement(self, statements: Statements, start: int, end: int) -> cst.With:
        """`s = make(); ...; s.close()` -> `with make() as s: ...` (a graceful_close() at the end stays)."""
        creation = statements[start]
        assert isinstance(creation, cst.SimpleStatementLine)
        assign = creation.body[0]
        assert isinstance(assign, cst.Assign)
        body = list(statements[start + 1 : end])
        closing = statements[end]
        footer: list[cst.EmptyLine] = []
        if _sole_call(closing) is not None and _is_helper_statement(closing, self.helper):
            body.append(closing)
        else:  # the plain close goes: its comments stay, at the end of the block
            assert isinstance(closing, cst.SimpleStatementLine)
            footer = [*closing.leading_lines, *_as_lines(closing.trailing_whitespace)]
        target = assign.targets[0].target
        assert isinstance(target, cst.Name)
        item = cst.WithItem(item=assign.value, asname=cst.AsName(name=target))
        return cst.With(
            items=[item],
            body=cst.IndentedBlock(
                body=body or [cst.SimpleStatementLine([cst.Pass()])],
                header=creation.trailing_whitespace,
                footer=footer,
            ),
            leading_lines=creation.leading_lines,
        )

    def _helper_call(self, argument: cst.BaseExpression) -> cst.Call:
        self.uses_helper = True
        arguments = [cst.Arg(argument)]
        if self.timeout is not None:
            tight = cst.AssignEqual(cst.SimpleWhitespace(""), cst.SimpleWhitespace(""))
            value = cst.parse_expression(repr(self.timeout))
            arguments.append(cst.Arg(value, keyword=cst.Name("timeout"), equal=tight))
        return cst.Call(cst.Name(self.helper), arguments)

    # -- `with sock:` blocks whose exit is the close
    def leave_With(self, original_node: cst.With, updated_node: cst.With) -> cst.With:
        key = self._key(original_node)
        if not key or not key.startswith(GRACEFUL_CLOSE_IN_WITH + ":"):
            return updated_node
        handle = cst.parse_expression(key.split(":", 1)[1])
        body = updated_node.body
        assert isinstance(body, cst.IndentedBlock)
        statements = list(body.body)
        position = len(statements)
        if statements and _is_jump(statements[-1]):
            position -= 1
        statements.insert(position, _statement(self._helper_call(handle)))
        return updated_node.with_changes(body=body.with_changes(body=statements))


def _statement(expression: cst.BaseExpression) -> cst.SimpleStatementLine:
    return cst.SimpleStatementLine([cst.Expr(expression)])


def _wait_closed(writer: cst.BaseExpression, timeout: float | None, asyncio: str) -> cst.Try:
    """`try: await asyncio.wait_for(writer.wait_closed(), <timeout>)` / `except (OSError,
    asyncio.TimeoutError): pass`: wait_closed() re-raises the error that ended the connection (a peer's
    reset), which the plain close() it follows never raised, and waits without limit for a peer that never
    reads what is still buffered (`timeout` in seconds, the drain timeout; asyncio.TimeoutError is an
    OSError only from Python 3.11). `asyncio` is the name the module binds the asyncio module to."""
    waiting = cst.Call(cst.Attribute(writer, cst.Name("wait_closed")))
    limit = cst.parse_expression(repr(DEFAULT_DRAIN_TIMEOUT if timeout is None else timeout))
    bounded = cst.Call(cst.parse_expression(f"{asyncio}.wait_for"), args=[cst.Arg(waiting), cst.Arg(limit)])
    waited = _statement(cst.Await(bounded))
    handler = cst.ExceptHandler(
        body=cst.IndentedBlock(body=[cst.SimpleStatementLine([cst.Pass()])]),
        type=cst.parse_expression(f"(OSError, {asyncio}.TimeoutError)"),
    )
    return cst.Try(body=cst.IndentedBlock(body=[waited]), handlers=[handler])


def _pop_shutdown(before: list[cst.BaseStatement], receiver: cst.BaseExpression) -> cst.SimpleStatementLine | None:
    """Remove and return a `receiver.shutdown(...)` statement that ends `before`."""
    if before and _is_method_call_on(before[-1], receiver, "shutdown"):
        shutdown = before.pop()
        assert isinstance(shutdown, cst.SimpleStatementLine)
        return shutdown
    return None


def _as_lines(trailing: cst.TrailingWhitespace) -> list[cst.EmptyLine]:
    """A statement's end-of-line comment as a comment line of its own (nothing when it has none)."""
    return [cst.EmptyLine(comment=trailing.comment)] if trailing.comment is not None else []


def _sole_call(statement: cst.CSTNode) -> cst.Call | None:
    """The call of a statement that is just `call(...)`."""
    if isinstance(statement, cst.SimpleStatementLine) and len(statement.body) == 1:
        expr = statement.body[0]
        if isinstance(expr, cst.Expr) and isinstance(expr.value, cst.Call):
            return expr.value
    return None


def _receiver(statement: cst.CSTNode) -> cst.BaseExpression:
    call = _sole_call(statement)
    assert call is not None and isinstance(call.func, cst.Attribute)
    return call.func.value


def _is_method_call_on(statement: cst.CSTNode, receiver: cst.BaseExpression, method: str) -> bool:
    call = _sole_call(statement)
    return (
        call is not None
        and isinstance(call.func, cst.Attribute)
        and call.func.attr.value == method
        and call.func.value.deep_equals(receiver)
    )


def _is_helper_statement(statement: cst.CSTNode, helper: str) -> bool:
    call = _sole_call(statement)
    return call is not None and isinstance(call.func, cst.Name) and call.func.value == helper


def _assigned_call(statement: cst.CSTNode) -> cst.Call | None:
    """The call in `name = call(...)`."""
    if isinstance(statement, cst.SimpleStatementLine) and len(statement.body) == 1:
        assign = statement.body[0]
        if (
            isinstance(assign, cst.Assign)
            and len(assign.targets) == 1
            and isinstance(assign.targets[0].target, cst.Name)
            and isinstance(assign.value, cst.Call)
        ):
            return assign.value
    return None


def _closing_index(statements: Statements, start: int, helper: str) -> int | None:
    """Index of the statement after `start` that closes the name `start` assigns."""
    creation = statements[start]
    assert isinstance(creation, cst.SimpleStatementLine) and isinstance(creation.body[0], cst.Assign)
    name = creation.body[0].targets[0].target
    for index in range(start + 1, len(statements)):
        statement = statements[index]
        call = _sole_call(statement)
        if call is None:
            continue
        if _is_method_call_on(statement, name, "close"):
            return index
        if _is_helper_statement(statement, helper) and call.args and call.args[0].value.deep_equals(name):
            return index
    return None


def _is_jump(statement: cst.BaseStatement) -> bool:
    return isinstance(statement, cst.SimpleStatementLine) and isinstance(
        statement.body[-1], (cst.Return, cst.Raise, cst.Break, cst.Continue)
    )
