"""closelint_graceful's contract for programming errors, and its isolation: no socket is connected here."""

from __future__ import annotations

import json
import math
import socket
import subprocess
import sys

import pytest
from closelint_graceful import CloseOutcome, CloseStatus, graceful, graceful_close

# --- programming errors and isolation ----------------------------------------------------------------------


@pytest.mark.parametrize("not_a_socket", [3, None, "127.0.0.1:80", object()])
def test_type_error_for_a_non_socket(not_a_socket: object) -> None:
    with pytest.raises(TypeError, match=r"graceful_close\(\) expects a socket\.socket"):
        graceful_close(not_a_socket)  # type: ignore[arg-type]
    with pytest.raises(TypeError, match=r"graceful\(\) expects a socket\.socket"):
        graceful(not_a_socket).__enter__()  # type: ignore[type-var]  # checked on entry, before the block


@pytest.mark.parametrize(
    "limits",
    [
        {"timeout": -1},
        {"timeout": math.inf},
        {"timeout": math.nan},
        {"idle_timeout": -0.5},
        {"max_drain_bytes": -1},
    ],
)
def test_value_error_for_unbounded_or_negative_limits(limits: dict[str, float]) -> None:
    with socket.socket() as sock, pytest.raises(ValueError, match=next(iter(limits))):
        graceful_close(sock, **limits)
    with socket.socket() as sock, pytest.raises(ValueError, match=next(iter(limits))):
        graceful(sock, **limits).__enter__()


def test_import_pulls_in_neither_libcst_nor_flake8() -> None:
    code = "import json, sys, closelint_graceful; print(json.dumps(sorted(sys.modules)))"
    command = [sys.executable, "-c", code]
    result = subprocess.run(command, capture_output=True, text=True, timeout=30, check=True)
    loaded = {name.partition(".")[0] for name in json.loads(result.stdout)}
    assert not loaded & {"libcst", "flake8"}


def test_zero_limits_are_valid() -> None:
    with socket.socket() as sock:  # unconnected: nothing to drain, closed plainly
        assert graceful_close(sock, timeout=0, idle_timeout=0, max_drain_bytes=0) == CloseOutcome(CloseStatus.SKIPPED)
