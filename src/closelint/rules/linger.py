"""CL301: SO_LINGER switched on with a zero timeout, which turns close() into an abortive reset."""

from __future__ import annotations

import ast
import re
import struct
from collections.abc import Iterator

from closelint.analysis.module import ModuleFacts
from closelint.analysis.names import ImportTable
from closelint.model import Invalid, Valid
from closelint.rule import Report, Rule

#: a struct format that packs exactly two integers (Linux `struct linger` is "ii", Windows' is "hh")
_TWO_INTS = re.compile(r"^[@=<>!]?\s*(?:2[bBhHiIlLqQnN]|[bBhHiIlLqQnN]\s*[bBhHiIlLqQnN])$")
_MAX_DEPTH = 4


class LingerZero(Rule):
    code = "CL301"
    name = "linger-zero"
    message = "SO_LINGER with l_onoff=1, l_linger=0 makes close() send RST and discard queued data; remove it"
    summary = (
        "Checks for `setsockopt(SOL_SOCKET, SO_LINGER, value)` whose value is known to switch lingering on "
        'with a zero timeout: `struct.pack("ii", 1, 0)`, the `"hh"` layout of Windows, `pack` imported '
        "from `struct`, or a module-level constant holding one. Not reported in one branch of an `if`/`else`: "
        "code that chooses between an orderly and an abortive close (twisted's `abortConnection`) means it "
        "(setting `linger-zero-in-branch = true` reports it there too)."
    )
    rationale = (
        "With `l_onoff=1, l_linger=0`, `close()` is abortive: the kernel drops everything still queued "
        "for sending and sends RST instead of FIN, so the peer loses the end of the stream and sees "
        "'connection reset by peer'. It is usually added to dodge TIME_WAIT, which `SO_REUSEADDR` "
        "solves without losing data."
    )
    example = """\
import socket
import struct

def handle(conn):
    # "avoid TIME_WAIT": every close() now resets the connection
    conn.setsockopt(socket.SOL_SOCKET, socket.SO_LINGER, struct.pack("ii", 1, 0))
    serve(conn)
"""
    fixed_example = """\
def handle(conn):
    serve(conn)
"""
    references = ("https://man7.org/linux/man-pages/man7/socket.7.html",)
    valid = (
        Valid(
            "import socket, struct\n\ndef f(s):\n    s.setsockopt(socket.SOL_SOCKET, socket.SO_LINGER, "
            "struct.pack('ii', 1, 10))\n"
        ),
        Valid(
            "import socket, struct\n\ndef f(s):\n    s.setsockopt(socket.SOL_SOCKET, socket.SO_LINGER, "
            "struct.pack('ii', 0, 0))\n"
        ),
    )
    invalid = (
        Invalid(
            "import socket\nfrom struct import pack\n\nLINGER = pack('hh', 1, 0)\n\ndef f(s):\n"
            "    s.setsockopt(socket.SOL_SOCKET, socket.SO_LINGER, LINGER)\n"
        ),
    )

    def check(self, facts: ModuleFacts) -> Iterator[Report]:
        if "SO_LINGER" not in facts.text:
            return
        assignments = _simple_assignments(facts.tree)
        nodes = ast.walk(facts.tree) if facts.policy.linger_zero_in_branch else _unchosen_nodes(facts.tree)
        for node in nodes:
            if (
                isinstance(node, ast.Call)
                and isinstance(node.func, ast.Attribute)
                and node.func.attr == "setsockopt"
                and len(node.args) == 3
                and _is_so_linger(node.args[1], facts.imports)
                and _linger_zero(node.args[2], facts.imports, assignments, 0)
            ):
                yield self.report(node)


def _unchosen_nodes(tree: ast.AST) -> Iterator[ast.AST]:
    """Every node except those in one branch of an `if` that has an `else`: a reset chosen as one of two
    ways to close (`if orderly: shutdown ... else: linger-zero`) is an abortive close on purpose."""
    stack: list[ast.AST] = [tree]
    while stack:
        node = stack.pop()
        if isinstance(node, ast.If) and node.body and node.orelse:
            stack.append(node.test)
            continue
        yield node
        stack.extend(ast.iter_child_nodes(node))


def _is_so_linger(expr: ast.expr, imports: ImportTable) -> bool:
    if (imports.qualname(expr) or "").endswith("SO_LINGER"):
        return True
    return isinstance(expr, ast.Attribute) and expr.attr == "SO_LINGER"


def _simple_assignments(tree: ast.Module) -> dict[str, list[ast.expr]]:
    """Every value assigned to each plain name, anywhere in the module."""
    found: dict[str, list[ast.expr]] = {}
    for node in ast.walk(tree):
        if isinstance(node, ast.Assign) and len(node.targets) == 1 and isinstance(node.targets[0], ast.Name):
            found.setdefault(node.targets[0].id, []).append(node.value)
        elif isinstance(node, ast.AnnAssign) and isinstance(node.target, ast.Name) and node.value is not None:
            found.setdefault(node.target.id, []).append(node.value)
    return found


def _linger_zero(expr: ast.expr, imports: ImportTable, assignments: dict[str, list[ast.expr]], depth: int) -> bool:
    """Whether `expr` is known to pack l_onoff != 0 and l_linger == 0."""
    if depth > _MAX_DEPTH:
        return False
    if isinstance(expr, ast.Name):
        values = assignments.get(expr.id, [])
        return bool(values) and all(_linger_zero(v, imports, assignments, depth + 1) for v in values)
    if isinstance(expr, ast.Constant) and isinstance(expr.value, bytes):
        return _bytes_linger_zero(expr.value)
    if not (isinstance(expr, ast.Call) and imports.call_name(expr) == "struct.pack" and len(expr.args) == 3):
        return False
    fmt, onoff, linger = expr.args
    if not (isinstance(fmt, ast.Constant) and isinstance(fmt.value, (str, bytes))):
        return False
    text = fmt.value.decode("ascii", "replace") if isinstance(fmt.value, bytes) else fmt.value
    return bool(_TWO_INTS.match(text)) and _int_value(onoff) not in (None, 0) and _int_value(linger) == 0


def _int_value(expr: ast.expr) -> int | None:
    if isinstance(expr, ast.Constant) and isinstance(expr.value, (int, bool)):
        return int(expr.value)
    return None


def _bytes_linger_zero(value: bytes) -> bool:
    """A literal `struct linger` in native layout: two ints (8 bytes) or two shorts (4 bytes)."""
    layout = {8: "ii", 4: "hh"}.get(len(value))
    if layout is None:
        return False
    onoff, linger = struct.unpack(layout, value)
    return bool(onoff) and linger == 0
