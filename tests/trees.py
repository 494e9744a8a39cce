"""Scratch trees for command-line tests: a file with one known finding, and writing files into a tree."""

from __future__ import annotations

from pathlib import Path

# A CL101 leak: created on line 5 at column 9 (1-based), never closed.
LEAK = 'import socket\n\n\ndef f():\n    s = socket.socket()\n    s.connect(("h", 1))\n'
LEAK_AT = ":5:9: CL101 "


def write(root: Path, relative: str, content: str | bytes = LEAK) -> Path:
    """Create `root/relative` (and its directories) holding `content`, byte for byte."""
    path = root / relative
    path.parent.mkdir(parents=True, exist_ok=True)
    if isinstance(content, bytes):
        path.write_bytes(content)
    else:
        path.write_text(content, encoding="utf-8", newline="")
    return path
