"""Unit tests of the family and type a socket-creating call names, through constants and names."""

from __future__ import annotations

import ast
import textwrap

import pytest

from closelint.analysis import factories as F
from closelint.analysis.bindings import Bindings
from closelint.analysis.kinds import named_kind
from closelint.analysis.names import ImportTable
from closelint.analysis.scopes import index_module

PRELUDE = """
import socket
from socket import AF_UNIX as LOCAL
UNIX, STREAM = socket.AF_UNIX, socket.SOCK_STREAM
DGRAM = socket.SOCK_DGRAM
PACKETS = DGRAM
MIXED = socket.AF_UNIX
MIXED = socket.AF_INET
"""


def _kind(call: str, first: int = 0, resolve: bool = True) -> tuple[F.Family | None, F.SockType | None]:
    tree = ast.parse(textwrap.dedent(PRELUDE) + f"def f(fd, fam):\n    return {call}\n")
    node = next(n for n in ast.walk(tree) if isinstance(n, ast.Call))
    bindings = Bindings(tree)
    imports = ImportTable(index_module(tree).imports)
    return named_kind(node, first, imports, (lambda: bindings) if resolve else None)


@pytest.mark.parametrize(
    ("call", "expected"),
    [
        ("socket.socket()", (None, None)),
        ("socket.socket(LOCAL)", (F.Family.UNIX, None)),
        ("socket.socket(UNIX, STREAM)", (F.Family.UNIX, F.SockType.STREAM)),
        ("socket.socket(family=UNIX)", (F.Family.UNIX, None)),
        ("socket.socket(socket.AF_INET, type=PACKETS)", (F.Family.INET, F.SockType.DGRAM)),
        ("socket.socket(socket.AF_INET6, DGRAM | socket.SOCK_NONBLOCK)", (F.Family.INET, F.SockType.DGRAM)),
        ("socket.socket(MIXED)", (F.Family.UNKNOWN, None)),
        ("socket.socket(fam, STREAM)", (F.Family.UNKNOWN, F.SockType.STREAM)),
    ],
)
def test_family_and_type_through_constants_and_names(call: str, expected: tuple[object, object]) -> None:
    assert _kind(call) == expected


def test_arguments_start_at_first_for_fromfd() -> None:
    assert _kind("socket.fromfd(fd, UNIX, DGRAM)", first=1) == (F.Family.UNIX, F.SockType.DGRAM)


def test_without_bindings_a_name_stays_unknown() -> None:
    assert _kind("socket.socket(UNIX, DGRAM)", resolve=False) == (F.Family.UNKNOWN, F.SockType.UNKNOWN)
