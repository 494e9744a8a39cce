"""CL301 on `struct.pack` calls whose format is a name, not a literal: judged or not, never a crash."""

from __future__ import annotations

from pathlib import Path

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


def test_linger_zero_in_any_branch_of_an_if_is_a_chosen_close_when_the_policy_says_so() -> None:
    """With `linger-zero-in-branch = false`, a linger-zero under `if abort:` (no `else`), nested, or in an
    `elif` is a chosen abortive close; one that runs unconditionally is still reported."""
    fixture = Path(__file__).parent / "fixtures" / "cl301_abort_under_plain_if.py"
    result = lint_source(fixture.read_bytes(), fixture.name, Settings(select=("CL3",), linger_zero_in_branch=False))
    assert [(v.line, v.code) for v in result.violations] == [(26, "CL301")]
