"""The address family and socket type a `socket.socket(...)`-like call names in its arguments.

A family or type is a constant of the socket module (`socket.AF_UNIX`, `SOCK_DGRAM | SOCK_CLOEXEC`), or a
name every binding of which, looked up by Python's scope rules (`bindings.Bindings`), names the same one
(`FAMILY = socket.AF_UNIX` at module level, in the function, or through a second name). The kind decides
the teardown rules: a Unix or datagram socket has no RST to lose data to (SPEC §2).
"""

from __future__ import annotations

import ast
from collections.abc import Callable, Mapping
from typing import TypeVar

from closelint.analysis import factories as F
from closelint.analysis.bindings import Bindings
from closelint.analysis.names import ImportTable

_Kind = TypeVar("_Kind", F.Family, F.SockType)
#: how many names deep a constant is followed (`LOCAL = FAMILY = socket.AF_UNIX`)
_MAX_DEPTH = 3


def named_kind(
    call: ast.Call,
    first: int,
    imports: ImportTable,
    bindings: Callable[[], Bindings] | None,
    module: ast.expr | None = None,
) -> tuple[F.Family | None, F.SockType | None]:
    """The family and type `call` names, positionally from argument `first` (`F.KIND_ARGUMENTS`:
    `fromfd(fd, family, type)`) or as `family=` / `type=`; None for one it leaves to the factory's
    default, UNKNOWN for one it names by an expression that is not (bound to) a constant. `bindings` gives
    the module's name bindings, asked for only when a name must be resolved (None: names stay unknown).
    `module` is the object an injected socket module is called through (`self.socket_module`): a constant
    read through the same object (`self.socket_module.AF_UNIX`) names the socket module's constant."""
    keywords = {k.arg: k.value for k in call.keywords}
    args: list[ast.expr | None] = [*call.args[first : first + 2], None, None]
    family_arg, type_arg = args[0] or keywords.get("family"), args[1] or keywords.get("type")
    family = (
        None
        if family_arg is None
        else _constant(family_arg, F.FAMILY_CONSTANTS, F.Family.UNKNOWN, imports, bindings, module)
    )
    sock_type = (
        None
        if type_arg is None
        else _constant(type_arg, F.TYPE_CONSTANTS, F.SockType.UNKNOWN, imports, bindings, module)
    )
    return family, sock_type


def _constant(
    expr: ast.expr,
    table: Mapping[str, _Kind],
    unknown: _Kind,
    imports: ImportTable,
    bindings: Callable[[], Bindings] | None,
    module: ast.expr | None,
    depth: int = 0,
) -> _Kind:
    """The kind in `table` that `expr` names, or `unknown` when it names none or its bindings disagree."""
    if isinstance(expr, ast.BinOp) and isinstance(expr.op, ast.BitOr):  # SOCK_STREAM | SOCK_NONBLOCK
        left = _constant(expr.left, table, unknown, imports, bindings, module, depth)
        if left is not unknown:
            return left
        return _constant(expr.right, table, unknown, imports, bindings, module, depth)
    known = table.get(imports.qualname(expr) or _read_through(expr, module))
    if known is not None or not isinstance(expr, ast.Name) or depth > _MAX_DEPTH or bindings is None:
        return unknown if known is None else known
    values = bindings().values(expr)
    found = {_constant(value, table, unknown, imports, bindings, module, depth + 1) for value in values}
    return found.pop() if len(found) == 1 else unknown


def _read_through(expr: ast.expr, module: ast.expr | None) -> str:
    """`socket.<NAME>` for `<module>.<NAME>` read through the injected module object `module`, else ""."""
    if module is None or not isinstance(expr, ast.Attribute) or ast.dump(expr.value) != ast.dump(module):
        return ""
    return f"socket.{expr.attr}"
