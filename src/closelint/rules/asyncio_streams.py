"""asyncio stream rules: a StreamWriter closed without waiting for it, or never closed at all."""

from __future__ import annotations

import ast
from collections.abc import Iterator

from closelint.analysis.applicability import names_the_module
from closelint.analysis.flow import ScopeFacts
from closelint.analysis.module import ModuleFacts
from closelint.analysis.scopes import own_nodes
from closelint.analysis.state import WRITER
from closelint.model import Applicability, Fix, FixKey, Invalid, Valid
from closelint.rule import Report, Rule


class WriterCloseNotAwaited(Rule):
    code = "CL501"
    name = "writer-close-not-awaited"
    message = "'{handle}.close()' is not followed by 'await {handle}.wait_closed()' on every path"
    summary = (
        "Checks for `StreamWriter.close()` in an `async def` from which some path reaches the end of the "
        "function without awaiting an expression containing `writer.wait_closed()` (directly, under "
        "`asyncio.wait_for`, inside `contextlib.suppress`, …). An explicit `raise` after the close is such a "
        "path (`except OSError: writer.close(); raise`), unless a handler of an enclosing `try` may catch it; "
        "an exception a call raises is not. A wait under an `if` counts for both branches when the test is a "
        "guard of the environment (`hasattr(writer, 'wait_closed')`, a version check, an attribute), not when it "
        "reads a parameter (`if not nowait:`): the caller then picks a path that never waits. For a writer on "
        "`self`, a wait in another method of the class counts; one in the closing method only on its paths. "
        "A writer on `self` is known by its annotation, by a writer the module opens and stores or passes "
        "to the class, or by what the class does with it: it calls its `write()` and awaits its `drain()` "
        "(the StreamWriter protocol), wherever it was built."
    )
    rationale = (
        "`StreamWriter.close()` only starts closing the transport. Until `wait_closed()` has been awaited, "
        "buffered data may still be unsent, errors of the close are lost, and a program that exits right "
        "after sees 'Event loop is closed' or unclosed-transport warnings."
    )
    example = """\
import asyncio

async def ping(host, port):
    reader, writer = await asyncio.open_connection(host, port)
    writer.write(b"PING\\r\\n")
    reply = await reader.readline()
    writer.close()
    return reply
"""
    fixed_example = """\
import asyncio

async def ping(host, port):
    reader, writer = await asyncio.open_connection(host, port)
    writer.write(b"PING\\r\\n")
    reply = await reader.readline()
    writer.close()
    try:
        await asyncio.wait_for(writer.wait_closed(), 5.0)
    except (OSError, asyncio.TimeoutError):
        pass
    return reply
"""
    fix_applicability = Applicability.SAFE
    fix_title = (
        "`await asyncio.wait_for(writer.wait_closed(), <drain-timeout>)` under `try`/`except (OSError, "
        "asyncio.TimeoutError)` is inserted right after the `close()`: `wait_closed()` re-raises the error that "
        "ended the connection (a peer's reset), which `close()` never raised, and would wait without limit for "
        "a peer that never reads. Not offered when the function already waits for that writer somewhere, nor "
        "when the module binds `asyncio` to anything but the asyncio module"
    )
    references = ("https://docs.python.org/3/library/asyncio-stream.html#asyncio.StreamWriter.close",)
    valid = (
        Valid(
            "import asyncio\n\nasync def f(h, p):\n    r, w = await asyncio.open_connection(h, p)\n    try:\n"
            "        w.write(b'x')\n    finally:\n        w.close()\n        await w.wait_closed()\n"
        ),
        Valid("import asyncio\n\ndef f(w: asyncio.StreamWriter):\n    w.close()\n"),
        Valid(
            "import asyncio, sys\n\nasync def f(w: asyncio.StreamWriter):\n    w.close()\n"
            "    if sys.version_info >= (3, 7):\n        await w.wait_closed()\n"
        ),
    )
    invalid = (
        Invalid(
            "import asyncio\n\nasync def f(h, p):\n    r, w = await asyncio.open_connection(h, p)\n    w.close()\n",
            "import asyncio\n\nasync def f(h, p):\n    r, w = await asyncio.open_connection(h, p)\n    w.close()\n"
            "    try:\n        await asyncio.wait_for(w.wait_closed(), 5.0)\n"
            "    except (OSError, asyncio.TimeoutError):\n        pass\n",
        ),
    )

    def check(self, facts: ModuleFacts) -> Iterator[Report]:
        for scope in facts.scopes:
            if not isinstance(scope.node, ast.AsyncFunctionDef):
                continue
            for close in scope.unawaited:
                assert isinstance(close, ast.Call)
                if _waited_elsewhere(close, scope, facts):
                    continue  # `self.writer.close()` here, `await self.writer.wait_closed()` in another method
                site = next((s for s in scope.closes.values() if s.node is close), None)
                direct = isinstance(close.func, ast.Attribute) and close.func.attr == "close"
                if isinstance(close.func, ast.Attribute) and direct:
                    handle = ast.unparse(close.func.value)
                else:  # a function of the module that closes it
                    handle = site.handle if site is not None else ast.unparse(close.args[0])
                fix = None
                if (
                    direct
                    and site is not None
                    and isinstance(site.statement, ast.Expr)
                    and site.statement.value is close
                    and not _waits_anywhere(scope.node, handle)
                    and names_the_module(facts.tree, "asyncio")
                ):
                    fix = Fix(
                        Applicability.SAFE,
                        f"Insert a bounded `await asyncio.wait_for({handle}.wait_closed(), ...)` after the close",
                        FixKey.AWAIT_WAIT_CLOSED,
                        (site.statement.lineno, site.statement.end_lineno or site.statement.lineno),
                    )
                yield self.report(close, fix, handle=handle)


def _waits_anywhere(function: ast.AST, handle: str) -> bool:
    """Whether the function calls `<handle>.wait_closed()` anywhere: the fix never adds a second one."""
    return any(
        isinstance(node, ast.Call)
        and isinstance(node.func, ast.Attribute)
        and node.func.attr == "wait_closed"
        and ast.unparse(node.func.value) == handle
        for node in ast.walk(function)
    )


class WriterNeverClosed(Rule):
    code = "CL502"
    name = "writer-never-closed"
    message = "StreamWriter '{name}' is never closed; close it (and await wait_closed()) when done"
    summary = (
        "Checks for a `StreamWriter` that is never closed: one from `asyncio.open_connection` / "
        "`open_unix_connection` (also under `asyncio.wait_for`), or the writer a `start_server` / "
        "`start_unix_server` handler receives. Returning, storing or passing the writer on hands it off; "
        "returning or storing only the reader does not."
    )
    rationale = (
        "A writer that is never closed keeps its transport and socket open until garbage collection, "
        "which asyncio reports as 'unclosed transport'. In a server, every handled client leaks a "
        "descriptor; the peer never sees the connection end."
    )
    example = """\
import asyncio

async def handle(reader, writer):
    data = await reader.readline()
    writer.write(data.upper())
    await writer.drain()

async def main():
    server = await asyncio.start_server(handle, "127.0.0.1", 8888)
    async with server:
        await server.serve_forever()
"""
    fixed_example = """\
import asyncio

async def handle(reader, writer):
    try:
        data = await reader.readline()
        writer.write(data.upper())
        await writer.drain()
    finally:
        writer.close()
        await writer.wait_closed()

async def main():
    server = await asyncio.start_server(handle, "127.0.0.1", 8888)
    async with server:
        await server.serve_forever()
"""
    references = ("https://docs.python.org/3/library/asyncio-stream.html#asyncio.start_server",)
    valid = (
        Valid("import asyncio\n\nasync def connect(h, p):\n    return await asyncio.open_connection(h, p)\n"),
        Valid(
            "import asyncio\n\nasync def connect(h, p):\n    reader, writer = await asyncio.open_connection(h, p)\n"
            "    return reader, writer\n"
        ),
    )
    invalid = (
        Invalid(
            "import asyncio\n\nasync def connect(h, p):\n    reader, writer = await asyncio.open_connection(h, p)\n"
            "    return reader\n"
        ),
    )

    def check(self, facts: ModuleFacts) -> Iterator[Report]:
        for scope, resource in facts.owned(WRITER):
            if resource.rid in scope.normal_leaks and resource.rid not in scope.closed:
                yield self.report(resource.node, name=resource.name or "writer")


class WriterClosedInSyncDef(Rule):
    code = "CL503"
    name = "writer-closed-in-sync-def"
    message = (
        "'{handle}.close()' in a plain def can never await '{handle}.wait_closed()', and no method of the "
        "class waits for it: close it in an async method and await wait_closed()"
    )
    summary = (
        "Checks for `self.<writer>.close()` in a plain `def` method, where the writer is a `StreamWriter` the "
        "class keeps on `self` (from `open_connection`, also under a timeout wrapper, a parameter annotated "
        "`asyncio.StreamWriter`, optional or not, a parameter of `__init__` that code of the module passes a writer "
        "it opened to, or an annotation of the attribute: `writer: asyncio.StreamWriter` in the class body, a "
        "dataclass field), and "
        "no method of the class calls `wait_closed()` on it, directly or through a function of the module that "
        "awaits `wait_closed()` on the writer passed to it. CL501 covers the same close in an `async def`."
    )
    rationale = (
        "`StreamWriter.close()` only starts closing the transport, and a plain `def` cannot await "
        "`wait_closed()`. When no other method of the class waits for the close either, nothing ever does: "
        "the program can exit, or reuse the address, before the connection is really closed, and errors of "
        "the close are never seen."
    )
    example = """\
import asyncio

class Session:
    def __init__(self, reader: asyncio.StreamReader, writer: asyncio.StreamWriter):
        self.reader = reader
        self.writer = writer

    def close(self):
        self.writer.close()
"""
    fixed_example = """\
import asyncio

class Session:
    def __init__(self, reader: asyncio.StreamReader, writer: asyncio.StreamWriter):
        self.reader = reader
        self.writer = writer

    async def close(self):
        self.writer.close()
        await self.writer.wait_closed()
"""
    references = ("https://docs.python.org/3/library/asyncio-stream.html#asyncio.StreamWriter.wait_closed",)
    valid = (
        Valid(
            "import asyncio\n\nclass C:\n    def __init__(self, w: asyncio.StreamWriter):\n        self.w = w\n\n"
            "    def abort(self):\n        self.w.close()\n\n    async def wait(self):\n"
            "        await self.w.wait_closed()\n"
        ),
    )
    invalid = (
        Invalid(
            "import asyncio\n\nclass C:\n    def __init__(self, w: asyncio.StreamWriter):\n        self.w = w\n\n"
            "    def close(self):\n        self.w.close()\n"
        ),
    )

    def check(self, facts: ModuleFacts) -> Iterator[Report]:
        for scope in facts.scopes:
            if not isinstance(scope.node, ast.FunctionDef):
                continue
            for close in scope.unawaited:
                assert isinstance(close, ast.Call)
                func = close.func
                attribute = isinstance(func, ast.Attribute) and isinstance(func.value, ast.Attribute)
                if attribute and isinstance(func, ast.Attribute) and not _waited_elsewhere(close, scope, facts):
                    yield self.report(close, handle=ast.unparse(func.value))


def _waited_elsewhere(close: ast.Call, scope: ScopeFacts, facts: ModuleFacts) -> bool:
    """Whether the writer closed by `x.<attr>.close()` is an attribute its class (or a base or subclass
    of it in the module, or code outside every class on an object typed to one of them: `wait_closed_calls`)
    calls `wait_closed()` on in another function:
    `self.<attr>.wait_closed()` in another method. A wait in the closing function itself is judged per
    path by the walk (`nowait` skipping it leaves a path without one)."""
    func = close.func
    if not (isinstance(func, ast.Attribute) and isinstance(func.value, ast.Attribute)):
        return False
    body = scope.node.body if isinstance(scope.node, (ast.FunctionDef, ast.AsyncFunctionDef)) else []
    own = {id(node) for node in own_nodes(body)}
    calls = facts.wait_closed_calls(facts.classes.get(scope.node))
    return any(attr == func.value.attr and id(call) not in own for attr, call in calls)
