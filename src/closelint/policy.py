"""Policy choices of the analysis: where SPEC §2 leaves a judgement to the project (`[tool.closelint]`).

Each default was chosen on the site-labelled real-code set (`benchmarks/realworld/sites.toml`): it is
kept only where it buys precision without costing recall there.
"""

from __future__ import annotations

from typing import NamedTuple

RAISING_CALLS = ("socket", "any")


class Policy(NamedTuple):
    """How the rules judge what SPEC §2 leaves open."""

    #: CL102: which calls may raise between creation and close. "socket": a call that uses the socket
    #: (one of its methods, the socket passed as an argument, a method of the object holding it) and
    #: every `await`; "any": every call but logging, printing and the builtins that cannot fail
    raising_calls: str = "socket"
    #: CL201/CL202: report a close only when data was sent on that path (nothing sent, nothing to lose)
    teardown_requires_send: bool = True
    #: CL301: report a linger-zero setsockopt in one branch of an `if`/`else` too (false: such code
    #: chooses between an orderly and an abortive close, on purpose; SPEC §2 makes no exception)
    linger_zero_in_branch: bool = True


DEFAULT = Policy()
