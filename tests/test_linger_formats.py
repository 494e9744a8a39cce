"""CL301 on `struct.pack` calls whose format is a name, not a literal: judged or not, never a crash."""

from __future__ import annotations

import pytest

from closelint.config import Settings
from closelint.engine import lint_source

CALL = (
    "import socket\nimport struct\n\nFMT = {fmt!r}\n\n\ndef f(sock):\n"
    "    sock.setsockopt(socket.SOL_SOCKET, socket.SO_LINGER, struct.pack(FMT, 1, 0))\n"
)


@pytest.mark.parametrize(("fmt", "may_report"), [("ii", True), ("hh", True), ("iii", False), ("", False)])
def test_a_named_format_is_read_without_a_crash(fmt: str, may_report: bool) -> None:
    result = lint_source(CALL.format(fmt=fmt), "linger.py", Settings(select=("CL",)))
    assert result.error is None
    codes = {v.code for v in result.violations}
    assert codes <= ({"CL301"} if may_report else set()), codes


def test_a_format_given_as_bytes_is_read_like_text() -> None:
    source = CALL.replace("FMT", "b'ii'").replace("b'ii' = {fmt!r}\n", "")
    assert [v.code for v in lint_source(source, "linger.py", Settings()).violations] == ["CL301"]
