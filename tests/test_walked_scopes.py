"""Which scopes of a module the analysis walks (SPEC §6: a scope that can own or send on no socket costs
nothing). Findings cannot show this — walking a scope too many finds nothing there — so it is checked here."""

from __future__ import annotations

import ast
import textwrap

from closelint.analysis.module import analyse

MODULE = """\
import socket


def unrelated(numbers):
    return sum(numbers)


def open_conn(address):
    return socket.create_connection(address)


class Client:
    def __init__(self, address):
        self.conn = open_conn(address)

    def ping(self):
        self.conn.sendall(b"ping")

    def stop(self):
        self.conn.close()

    def describe(self):
        return "a client"


class Plain:
    def conn(self):
        return 1
"""


def walked(source: str) -> list[str]:
    text = textwrap.dedent(source)
    facts = analyse(ast.parse(text), text)
    return [getattr(scope.node, "name", "<module>") for scope in facts.scopes]


def test_only_scopes_mentioning_a_trigger_or_a_member_of_their_class_are_walked() -> None:
    # the module, the factory, the constructor calling it, the method sending on the member (first pass);
    # then the teardown that names the member only (second pass). Neither `unrelated`, `describe`, nor the
    # method of another class that happens to be called `conn` is walked.
    assert walked(MODULE) == ["<module>", "open_conn", "__init__", "ping", "stop"]


def test_a_module_with_no_trigger_walks_nothing() -> None:
    assert walked("def f(x):\n    return x.close()\n") == []
