"""CL301: SO_LINGER switched on with a zero timeout, which turns close() into an abortive reset."""

from __future__ import annotations

import ast
import re
from collections.abc import Iterator

from closelint.analysis.bindings import UNKNOWN, Bindings
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
        'from `struct`, a packed `struct linger` literal (`b"\\x01\\x00\\x00\\x00\\x00\\x00\\x00\\x00"`), '
        "and names holding any of these or the two fields (`l_onoff, l_linger = 1, 0`, module constants); a "
        'conditional expression counts when both of its values do (`"hh" if windows else "ii"`). '
        'The `"ll"`/`"LL"`/`"qq"` formats count too (Linux on 64 bits reads the first eight bytes). A name '
        "is resolved where Python resolves it: the function's own local (even one shadowing a module "
        "constant), then enclosing functions, then the module's globals; never another function's local. "
        "It counts only when every value that scope binds to it agrees: a parameter, a loop target, "
        "`+=` or a second assignment with another value makes it unknown, as does a name bound nowhere "
        "in the module (`from cfg import *`), and an unknown value is not reported. "
        "Reported in one branch of an `if`/`else` too (twisted's `abortConnection` chooses an abortive "
        "close on purpose, and it still discards queued data); `linger-zero-in-branch = false` leaves "
        "such a chosen branch alone."
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
        Valid(
            "import socket, struct\n\ndef f(s, seconds):\n    l_onoff, l_linger = 1, seconds\n"
            "    s.setsockopt(socket.SOL_SOCKET, socket.SO_LINGER, struct.pack('ii', l_onoff, l_linger))\n"
        ),
    )
    invalid = (
        Invalid(
            "import socket\nfrom struct import pack\n\nLINGER = pack('hh', 1, 0)\n\ndef f(s):\n"
            "    s.setsockopt(socket.SOL_SOCKET, socket.SO_LINGER, LINGER)\n"
        ),
        Invalid(
            "import socket, struct\n\ndef f(s):\n    l_onoff, l_linger = 1, 0\n"
            "    s.setsockopt(socket.SOL_SOCKET, socket.SO_LINGER, struct.pack('ii', l_onoff, l_linger))\n"
        ),
    )

    def check(self, facts: ModuleFacts) -> Iterator[Report]:
        if "SO_LINGER" not in facts.text:
            return
        bindings = facts.bindings
        nodes = ast.walk(facts.tree) if facts.policy.linger_zero_in_branch else _unchosen_nodes(facts.tree)
        for node in nodes:
            if (
                isinstance(node, ast.Call)
                and isinstance(node.func, ast.Attribute)
                and node.func.attr == "setsockopt"
                and len(node.args) == 3
                and _is_so_linger(node.args[1], facts.imports)
                and _linger_zero(node.args[2], facts.imports, bindings, 0)
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


def _linger_zero(expr: ast.expr, imports: ImportTable, bindings: Bindings, depth: int) -> bool:
    """Whether `expr` is known to pack l_onoff != 0 and l_linger == 0 (names are followed through every
    value the module binds to them: all must agree)."""
    if depth > _MAX_DEPTH:
        return False
    if isinstance(expr, ast.Name):
        values = bindings.values(expr)
        return bool(values) and all(_linger_zero(v, imports, bindings, depth + 1) for v in values)
    if isinstance(expr, ast.Constant) and isinstance(expr.value, bytes):
        return _bytes_linger_zero(expr.value)
    if not (isinstance(expr, ast.Call) and imports.call_name(expr) == "struct.pack" and len(expr.args) == 3):
        return False
    fmt, onoff, linger = (_constants(a, bindings, depth) for a in expr.args)
    return (
        bool(fmt and onoff and linger)
        and all(isinstance(f, (str, bytes)) and _TWO_INTS.match(_text(f)) for f in fmt)
        and all(_is_int(v) and v != 0 for v in onoff)
        and all(_is_int(v) and v == 0 for v in linger)
    )


def _constants(expr: ast.expr, bindings: Bindings, depth: int) -> list[object]:
    """Every constant `expr` may evaluate to, through names; empty when one of them is not a constant."""
    if depth > _MAX_DEPTH:
        return []
    if isinstance(expr, ast.Constant) and expr is not UNKNOWN:
        return [expr.value]
    if isinstance(expr, ast.UnaryOp) and isinstance(expr.op, (ast.USub, ast.UAdd)):  # `-0`, `-1`
        sign = -1 if isinstance(expr.op, ast.USub) else 1
        operand = _constants(expr.operand, bindings, depth + 1)
        numbers = [v for v in operand if type(v) is int]
        return [sign * v for v in numbers] if numbers and len(numbers) == len(operand) else []
    if isinstance(expr, ast.IfExp):  # `"hh" if sys.platform == "win32" else "ii"`: both branches must agree
        branches = [_constants(expr.body, bindings, depth + 1), _constants(expr.orelse, bindings, depth + 1)]
        return [c for cs in branches for c in cs] if all(branches) else []
    if isinstance(expr, ast.Name):
        found = [_constants(v, bindings, depth + 1) for v in bindings.values(expr)]
        return [c for cs in found for c in cs] if found and all(found) else []
    return []


def _is_int(value: object) -> bool:
    return isinstance(value, int)


def _text(fmt: str | bytes) -> str:
    return fmt.decode("ascii", "replace") if isinstance(fmt, bytes) else fmt


def _bytes_linger_zero(value: bytes) -> bool:
    """A literal `struct linger`: two ints (8 bytes) or two shorts (4 bytes), l_onoff first. Either byte
    order gives the same answer: l_onoff is non-zero when any of its bytes is, l_linger zero when all are."""
    if len(value) not in (4, 8):
        return False
    half = len(value) // 2
    return any(value[:half]) and not any(value[half:])
