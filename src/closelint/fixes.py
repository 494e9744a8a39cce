"""The rewrites behind `--fix`: libcst transformations, each found by the position of its finding.

A finding's `Fix.key` names the rewrite; its line and column (those of the finding) locate the node.
Rewrites only ever replace whole statements, so comments and formatting elsewhere are untouched, and
the helper import is merged into an existing `from <helper-module> import ...` or placed where import
sorters want it (closelint.import_placement). Importing this module imports
libcst: only `--fix`, `--diff` and fix previews do.
"""

from __future__ import annotations

from collections.abc import Sequence
from pathlib import Path

import libcst as cst
from libcst.metadata import MetadataWrapper, PositionProvider

from closelint.import_placement import add_from_import
from closelint.model import FixKey, Violation

HELPER = "graceful_close"
GRACEFUL_CLOSE = FixKey.GRACEFUL_CLOSE
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
    rewriter = _Rewriter(targets, timeout)
    rewritten = MetadataWrapper(module, unsafe_skip_copy=True).visit(rewriter)
    if rewriter.uses_helper:
        rewritten = add_from_import(rewritten, helper_module, HELPER, project_root)
    return rewritten.code


class _Rewriter(cst.CSTTransformer):
    METADATA_DEPENDENCIES = (PositionProvider,)

    def __init__(self, targets: dict[Position, str], timeout: float | None) -> None:
        super().__init__()
        self.targets = targets
        self.timeout = timeout
        self.uses_helper = False

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
            elif key == AWAIT_WAIT_CLOSED:
                out.extend([current, _statement(cst.Await(_method_call(_receiver(current), "wait_closed")))])
            else:
                created = _assigned_call(original)
                if created is not None and self._key(created) == WITH_STATEMENT:
                    end = _closing_index(originals, index)
                    if end is not None:
                        out.append(self._with_statement(updated, index, end))
                        index = end + 1
                        continue
                out.append(current)
            index += 1
        return out

    def _graceful_close(self, statement: cst.BaseStatement, before: list[cst.BaseStatement]) -> cst.BaseStatement:
        """`sock.close()` -> `graceful_close(sock)`, absorbing a `sock.shutdown(...)` right before it."""
        receiver = _receiver(statement)
        assert isinstance(statement, cst.SimpleStatementLine)
        leading = list(statement.leading_lines)
        if before and _is_method_call_on(before[-1], receiver, "shutdown"):
            previous = before.pop()
            assert isinstance(previous, cst.SimpleStatementLine)
            leading = [*previous.leading_lines, *leading]
        self.uses_helper = True
        return statement.with_changes(body=[cst.Expr(self._helper_call(receiver))], leading_lines=leading)

    def _with_statement(self, statements: Statements, start: int, end: int) -> cst.With:
        """`s = make(); ...; s.close()` -> `with make() as s: ...` (a graceful_close() at the end stays)."""
        creation = statements[start]
        assert isinstance(creation, cst.SimpleStatementLine)
        assign = creation.body[0]
        assert isinstance(assign, cst.Assign)
        body = list(statements[start + 1 : end])
        closing = statements[end]
        if _sole_call(closing) is not None and _is_helper_statement(closing):
            body.append(closing)
        target = assign.targets[0].target
        assert isinstance(target, cst.Name)
        item = cst.WithItem(item=assign.value, asname=cst.AsName(name=target))
        return cst.With(
            items=[item],
            body=cst.IndentedBlock(body=body or [cst.SimpleStatementLine([cst.Pass()])]),
            leading_lines=creation.leading_lines,
        )

    def _helper_call(self, argument: cst.BaseExpression) -> cst.Call:
        self.uses_helper = True
        arguments = [cst.Arg(argument)]
        if self.timeout is not None:
            tight = cst.AssignEqual(cst.SimpleWhitespace(""), cst.SimpleWhitespace(""))
            value = cst.parse_expression(repr(self.timeout))
            arguments.append(cst.Arg(value, keyword=cst.Name("timeout"), equal=tight))
        return cst.Call(cst.Name(HELPER), arguments)

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
        self.uses_helper = True
        return updated_node.with_changes(body=body.with_changes(body=statements))


def _statement(expression: cst.BaseExpression) -> cst.SimpleStatementLine:
    return cst.SimpleStatementLine([cst.Expr(expression)])


def _method_call(receiver: cst.BaseExpression, method: str) -> cst.Call:
    return cst.Call(cst.Attribute(receiver, cst.Name(method)))


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


def _is_helper_statement(statement: cst.CSTNode) -> bool:
    call = _sole_call(statement)
    return call is not None and isinstance(call.func, cst.Name) and call.func.value == HELPER


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


def _closing_index(statements: Statements, start: int) -> int | None:
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
        if _is_helper_statement(statement) and call.args and call.args[0].value.deep_equals(name):
            return index
    return None


def _is_jump(statement: cst.BaseStatement) -> bool:
    return isinstance(statement, cst.SimpleStatementLine) and isinstance(
        statement.body[-1], (cst.Return, cst.Raise, cst.Break, cst.Continue)
    )
