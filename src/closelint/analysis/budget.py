"""A deterministic bound on the flow analysis of one file, so that no file can hold a run for minutes.

The walk of a scope costs, per statement, about one unit per socket it tracks (every fact of every socket is
carried through the statement), so a function that creates thousands of sockets costs the square of that.
`WorkBudget` counts those units over a whole file; past `MAX_STEPS` the file is not analysed and gets a CL000
finding saying so. The count depends only on the code, never on the machine or its load.
"""

from __future__ import annotations

#: the steps one file may take: about 150 times the most any file of the standard library (CPython 3.11,
#: test_socket.py: 3,309) or of the real-world corpus (`benchmarks/realworld`) takes; a function creating
#: 2,000 sockets reaches it after about 3 s (measured on the 2-core machine that measured 6.5 s per MiB of
#: socket code before the budget)
MAX_STEPS = 500_000


class TooComplex(Exception):
    """The analysis of a file went past its `WorkBudget`."""


class WorkBudget:
    """Steps left for the analysis of one file; `spend` raises TooComplex once they are used up."""

    def __init__(self, steps: int = MAX_STEPS) -> None:
        self.steps = steps
        self.spent = 0

    def spend(self, steps: int) -> None:
        self.spent += steps
        if self.spent > self.steps:
            raise TooComplex(f"more than {self.steps:,} steps of flow analysis")
