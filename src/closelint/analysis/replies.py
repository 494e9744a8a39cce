"""Whether a function of the module reads a complete reply of a known length from a socket it is given.

A client that sends a request and then reads a reply whose length it knew in advance has nothing unread
when it closes: the peer answered the request and has no more to say (SPEC §2, CL201). Written inline, the
walk recognises such a read (`ReadTracker.framed_loop`, `ReadTracker.reads_exactly`); written as a function
of the module (`def recv_exact(sock, n)`, a length-prefixed reader calling it twice), the caller learns it
from the function's summary, decided here from the function's statements alone:

- at least one *framed read* of the parameter: a `while` loop that reads a count or buffer known in advance
  (and has no `break`), a `recv(n, MSG_WAITALL)`, or a call of a function of the module that does this;
- every read of the parameter is, or lies inside, a framed read: a bounded `recv(1024)` next to it may
  leave the rest of the reply unread;
- every framed read runs whenever the function returns normally: none lies under an `if`, a loop, a
  `match`, an `except`, a conditional expression or `and`/`or`, and no `return` comes before the last one;
- every send on the parameter comes before the first framed read: the last read follows the last send;
- no `makefile()` of it, whose reads this does not follow.
"""

from __future__ import annotations

import ast
from collections.abc import Mapping, Sequence

from closelint.analysis.names import ImportTable
from closelint.analysis.reads import ReadTracker
from closelint.analysis.scopes import Function, own_nodes

#: parents under which a node may be skipped on a normal run of the function
_CONDITIONAL = (
    ast.If,
    ast.For,
    ast.AsyncFor,
    ast.While,
    ast.Match,
    ast.ExceptHandler,
    ast.IfExp,
    ast.BoolOp,
    ast.comprehension,
)


def completes_reply(
    function: Function,
    name: str,
    parents: Mapping[ast.AST, ast.AST],
    imports: ImportTable,
    reads: Sequence[ast.Call],
    sends: Sequence[ast.Call],
    answering: Sequence[ast.Call],
) -> bool:
    """Whether `function` reads a complete reply of known length from its parameter `name` on every normal
    return, after its last send on it. `reads` are the calls that read the parameter (its read methods, and
    calls of module functions that read it), `sends` those that send on it, `answering` the calls of module
    functions that themselves complete a reply from it; `parents` maps each node of the function to its
    parent."""
    tracker = ReadTracker(None, imports)
    framed: list[ast.AST] = [*answering]
    for node in own_nodes(function.body):
        if isinstance(node, ast.While) and tracker.framed_loop(node) == name:
            if not any(isinstance(inner, ast.Break) for inner in ast.walk(node)):
                framed.append(node)
        elif isinstance(node, ast.Call) and tracker.reads_exactly(node) == name:
            framed.append(node)
    if not framed:
        return False
    loops = [node for node in framed if isinstance(node, ast.While)]
    if not all(call in framed or _inside(call, loops, parents) for call in reads):
        return False
    outer = [node for node in framed if not _inside(node, loops, parents)]
    if not all(_always_runs(node, function, parents) for node in outer):
        return False
    first, last = min(outer, key=_start), max(outer, key=_end)
    if any(_start(send) >= _start(first) for send in sends):
        return False
    returns = (node for node in own_nodes(function.body) if isinstance(node, ast.Return))
    return all(_start(r) >= _end(last) or _within(last, r, parents) for r in returns)


def _start(node: ast.AST) -> tuple[int, int]:
    return node.lineno, node.col_offset  # type: ignore[attr-defined]


def _end(node: ast.AST) -> tuple[int, int]:
    return node.end_lineno or 0, node.end_col_offset or 0  # type: ignore[attr-defined]


def _within(node: ast.AST, ancestor: ast.AST, parents: Mapping[ast.AST, ast.AST]) -> bool:
    parent = parents.get(node)
    while parent is not None:
        if parent is ancestor:
            return True
        parent = parents.get(parent)
    return False


def _inside(node: ast.AST, loops: Sequence[ast.AST], parents: Mapping[ast.AST, ast.AST]) -> bool:
    return any(_within(node, loop, parents) for loop in loops)


def _always_runs(node: ast.AST, function: Function, parents: Mapping[ast.AST, ast.AST]) -> bool:
    """Whether nothing between `node` and the function's body makes it conditional."""
    parent = parents.get(node)
    while parent is not None and parent is not function:
        if isinstance(parent, _CONDITIONAL):
            return False
        parent = parents.get(parent)
    return parent is function
