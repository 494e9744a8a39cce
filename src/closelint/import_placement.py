"""Where `--fix` puts the helper import it adds: where isort and ruff's import sorting (I001) want it.

The top-of-module import block is read as isort sections (future, standard library, third party, first
party, local folder), in that order and separated by blank lines. A new `import x` joins its section
among the straight imports; a new `from <module> import <name>` after them, among the `from` imports, in
module-name order (case-insensitive: isort's and ruff's defaults); a section of its own is opened when the
module has none, and a module with no imports gets a block of its own after its docstring and
`__future__` imports, followed by the blank lines ruff asks for (two before a function or class).

First party means, as in ruff's default `src`: a package or module of that name in the project's root
directory or its `src/` directory. Only the new statement is placed; existing imports are left as they are.
"""

from __future__ import annotations

import sys
from collections.abc import Sequence
from enum import IntEnum
from pathlib import Path

import libcst as cst
import libcst.helpers

#: what a module's body holds
Statement = cst.SimpleStatementLine | cst.BaseCompoundStatement


class Section(IntEnum):
    """isort's sections, in the order they appear in a sorted block."""

    FUTURE = 0
    STANDARD_LIBRARY = 1
    THIRD_PARTY = 2
    FIRST_PARTY = 3
    LOCAL_FOLDER = 4


def section(module: str, relative: bool, project_root: Path | None) -> Section:
    """The isort section of an import of `module` (`relative`: a `from . import` form)."""
    if relative:
        return Section.LOCAL_FOLDER
    top = module.partition(".")[0]
    if top == "__future__":
        return Section.FUTURE
    if top in sys.stdlib_module_names:
        return Section.STANDARD_LIBRARY
    if project_root is not None:
        for directory in (project_root, project_root / "src"):
            if (directory / top).is_dir() or (directory / f"{top}.py").is_file():
                return Section.FIRST_PARTY
    return Section.THIRD_PARTY


def add_import(
    module: cst.Module, name: str, project_root: Path | None, imported: str | None = None, asname: str | None = None
) -> cst.Module:
    """`module` with `import <name>` (`imported` None) or `from <name> import <imported> [as <asname>]`:
    nothing when a top-level statement already imports it, merged into the first top-level
    `from <name> import ...` among its names in sorted order, else a new statement placed as a sorter would."""
    if imported is None:
        if any(_plain_imports(statement) & {name} for statement in module.body):
            return module
        text = f"import {name}\n"
    elif merged := _merged(module, name, imported, asname):
        return merged
    else:
        text = f"from {name} import {imported}{f' as {asname}' if asname else ''}\n"
    statement = cst.parse_statement(text)
    assert isinstance(statement, cst.SimpleStatementLine)
    return _insert(module, statement, project_root)


def _merged(module: cst.Module, name: str, imported: str, asname: str | None) -> cst.Module | None:
    """`module` with `imported` added to its first top-level `from <name> import a, b`, where isort's and
    ruff's member order puts it, in the layout of its neighbours; None when there is none, or an alias
    (`as`) is involved: isort and ruff keep `from <name> import x as y` a statement of its own."""
    if asname is not None:
        return None
    index = next((i for i, statement in enumerate(module.body) if _from_module(statement) == name), None)
    if index is None:
        return None
    statement = module.body[index]
    node = _imported(statement)
    if not isinstance(node, cst.ImportFrom) or isinstance(node.names, cst.ImportStar):
        return None
    if any(alias.asname is not None for alias in node.names):
        return None
    names = list(node.names)
    alias = cst.ImportAlias(name=cst.Name(imported))
    opening = node.lpar.whitespace_after if node.lpar is not None else None
    # one name per line in parentheses: the line break and indent after `(`, else a space
    spaced = cst.Comma(
        whitespace_after=opening if isinstance(opening, cst.ParenthesizedWhitespace) else cst.SimpleWhitespace(" ")
    )
    position = next((i for i, a in enumerate(names) if _member_key(a) > _member_key(alias)), len(names))
    if position < len(names):  # the separator before the name it precedes is repeated after it
        separator = names[position - 1].comma if position else names[0].comma if len(names) > 1 else spaced
        names.insert(position, alias.with_changes(comma=separator if isinstance(separator, cst.Comma) else spaced))
    else:  # last: it takes the last name's ending, that name the separator before it
        before = names[-2].comma if len(names) > 1 else spaced
        names[-1:] = [names[-1].with_changes(comma=before), alias.with_changes(comma=names[-1].comma)]
    assert isinstance(statement, cst.SimpleStatementLine)
    body = list(module.body)
    body[index] = statement.with_changes(body=[node.with_changes(names=names)])
    return module.with_changes(body=body)


def _member_key(alias: cst.ImportAlias) -> tuple[int, str, str]:
    """isort's and ruff's order of the names of a `from` import (`order-by-type`): CONSTANTS, then
    Classes, then the rest, each by name folded to lower case, then by alias."""
    name = _member_name(alias)
    kind = 0 if len(name) > 1 and name.isupper() else 1 if name[:1].isupper() else 2
    asname = cst.helpers.get_full_name_for_node(alias.asname.name) if alias.asname is not None else None
    return kind, name.lower(), (asname or "").lower()


def _member_name(alias: cst.ImportAlias) -> str:
    return cst.helpers.get_full_name_for_node_or_raise(alias.name)


def _plain_imports(statement: cst.BaseStatement) -> set[str]:
    """The modules a top-level `import a, b` binds under their own names."""
    node = _imported(statement)
    if not isinstance(node, cst.Import):
        return set()
    return {cst.helpers.get_full_name_for_node_or_raise(alias.name) for alias in node.names if alias.asname is None}


def _from_module(statement: cst.BaseStatement) -> str | None:
    node = _imported(statement)
    if isinstance(node, cst.ImportFrom) and node.module is not None and not node.relative:
        return cst.helpers.get_full_name_for_node(node.module)
    return None


def _insert(module: cst.Module, statement: cst.SimpleStatementLine, project_root: Path | None) -> cst.Module:
    body = list(module.body)
    start = _block_start(body)
    end = start
    while end < len(body) and _imported(body[end]) is not None:
        end += 1
    ours = _sort_key(statement, project_root)
    keys = [_sort_key(body[i], project_root) for i in range(start, end)]
    if start == end:  # no import block: a block of its own
        return module.with_changes(body=_new_block(body, start, statement))
    position = next((start + i for i, key in enumerate(keys) if key > ours), end)
    same_section_before = position > start and keys[position - start - 1][0] == ours[0]
    same_section_after = position < end and keys[position - start][0] == ours[0]
    if same_section_before:  # within a section: no blank line
        body.insert(position, statement.with_changes(leading_lines=()))
    elif same_section_after:  # first of its section: it takes the section's separation
        following = body[position]
        body[position] = following.with_changes(leading_lines=())
        body.insert(position, statement.with_changes(leading_lines=following.leading_lines))
    elif position == start:  # a new first section, above the others
        following = body[position]
        body[position] = following.with_changes(leading_lines=(cst.EmptyLine(),))
        body.insert(position, statement.with_changes(leading_lines=following.leading_lines))
    else:  # a new section between others, or at the end of the block
        body.insert(position, statement.with_changes(leading_lines=(cst.EmptyLine(),)))
    return module.with_changes(body=body)


def _block_start(body: Sequence[Statement]) -> int:
    """Index of the first statement after the docstring (the import block, if any, starts there), or
    after the last monkey patching call at the top of the module (`monkey.patch_all()`): an import above it
    would load the standard socket, ssl and selectors modules before they are patched."""
    patches = [i for i, statement in enumerate(body) if _monkey_patches(statement)]
    if patches:
        return patches[-1] + 1
    if body and isinstance(body[0], cst.SimpleStatementLine):
        first = body[0].body[0]
        if isinstance(first, cst.Expr) and isinstance(first.value, (cst.SimpleString, cst.ConcatenatedString)):
            return 1
    return 0


def _monkey_patches(statement: cst.BaseStatement) -> bool:
    """`gevent.monkey.patch_all()`, `monkey.patch_socket()`, `eventlet.monkey_patch()` as a statement."""
    if not (isinstance(statement, cst.SimpleStatementLine) and len(statement.body) == 1):
        return False
    call = statement.body[0].value if isinstance(statement.body[0], cst.Expr) else None
    name = cst.helpers.get_full_name_for_node(call.func) if isinstance(call, cst.Call) else None
    *owner, function = (name or "").split(".")
    return function in ("patch_all", "monkey_patch") or ("monkey" in owner and function.startswith("patch_"))


def _imported(statement: cst.BaseStatement) -> cst.Import | cst.ImportFrom | None:
    """The import a top-level statement line consists of, if it is exactly one import."""
    if isinstance(statement, cst.SimpleStatementLine) and len(statement.body) == 1:
        node = statement.body[0]
        if isinstance(node, (cst.Import, cst.ImportFrom)):
            return node
    return None


def _sort_key(statement: cst.BaseStatement, project_root: Path | None) -> tuple[Section, int, str, str]:
    """(section, 0 for `import x` / 1 for `from x import`, module name folded to lower case, then the alias
    of `import x as y` (`import x` goes first) or the first name a `from` import imports)."""
    node = _imported(statement)
    assert node is not None
    if isinstance(node, cst.Import):
        first = node.names[0]
        name = cst.helpers.get_full_name_for_node_or_raise(first.name)
        alias = cst.helpers.get_full_name_for_node(first.asname.name) if first.asname is not None else None
        return section(name, False, project_root), 0, name.lower(), (alias or "").lower()
    module = (cst.helpers.get_full_name_for_node(node.module) if node.module is not None else None) or ""
    leading = "*" if isinstance(node.names, cst.ImportStar) else _member_name(node.names[0])
    return section(module, bool(node.relative), project_root), 1, module.lower(), leading.lower()


def _new_block(body: list[Statement], start: int, statement: cst.SimpleStatementLine) -> list[Statement]:
    """Insert `statement` as the module's only import, with a blank line above (after a docstring) and the
    blank lines below that ruff wants: two before a function or class, one before anything else."""
    new = statement.with_changes(leading_lines=(cst.EmptyLine(),) if start else ())
    if start < len(body):
        following = body[start]
        wanted = 2 if isinstance(following, (cst.FunctionDef, cst.ClassDef)) else 1
        blank = 0
        for line in following.leading_lines:
            if line.comment is not None:
                break
            blank += 1
        if blank < wanted:
            following = following.with_changes(
                leading_lines=(*[cst.EmptyLine()] * (wanted - blank), *following.leading_lines)
            )
        body[start] = following
    return [*body[:start], new, *body[start:]]
