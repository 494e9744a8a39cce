"""Unit tests of name resolution by scope: which values a name used at one place can hold."""

from __future__ import annotations

import ast
import textwrap

from closelint.analysis.bindings import UNKNOWN, Bindings

SOURCE = textwrap.dedent(
    """
    X = 1
    from elsewhere import *

    def local():
        X = 2
        return X

    def reads_global():
        return X

    def param(X=3):
        return X

    def declares():
        global X
        X = 4

    def outer():
        Y = 5
        def inner():
            return X, Y
        return inner

    class C:
        X = 6
        def method(self):
            return X
        Z = X

    def undefined():
        return Q
    """
)


def resolved(source: str = SOURCE) -> dict[tuple[str, int], list[object]]:
    """(name, line) of every load -> the constants (or `...` for unknown) its values are."""
    tree = ast.parse(source)
    bindings = Bindings(tree)
    found: dict[tuple[str, int], list[object]] = {}
    for node in ast.walk(tree):
        if isinstance(node, ast.Name) and isinstance(node.ctx, ast.Load):
            values = bindings.values(node)
            found[(node.id, node.lineno)] = [
                v.value if isinstance(v, ast.Constant) and v is not UNKNOWN else ... for v in values
            ]
    return found


def line(text: str) -> int:
    """The line number of the first line of SOURCE that is `text`."""
    return SOURCE.splitlines().index(text) + 1


def test_a_function_local_shadows_the_module_and_is_not_seen_elsewhere() -> None:
    values = resolved()
    assert values[("X", line("def local():") + 2)] == [2]  # local()'s own X
    assert sorted(values[("X", line("def reads_global():") + 1)]) == [1, 4]  # module X, and `global X`


def test_parameters_closures_classes_and_undefined_names() -> None:
    values = resolved()
    assert values[("X", line("def param(X=3):") + 1)] == [...]  # the parameter, whatever its default
    assert values[("Y", line("        return X, Y"))] == [5]  # the enclosing function's local
    assert sorted(values[("X", line("    def method(self):") + 1)]) == [1, 4]  # a method skips the class body
    assert values[("X", line("    Z = X"))] == [6]  # the class body sees its own names
    assert values[("Q", line("    return Q"))] == []  # bound nowhere: nothing to follow


def test_annotated_unpacked_and_nonlocal_assignments() -> None:
    source = textwrap.dedent(
        """
        A: int = 7
        B: int
        C, D = 8, 9
        def counter():
            n = 0
            def bump():
                nonlocal n
                n = 10
            return n
        print(A, B, C, D)
        """
    )
    values = resolved(source)
    last = source.splitlines().index("print(A, B, C, D)") + 1
    assert [values[(name, last)] for name in "ABCD"] == [[7], [...], [8], [9]]  # `B: int` binds no value
    assert sorted(values[("n", last - 1)]) == [0, 10]  # `nonlocal n` in bump() rebinds counter()'s n


def test_a_name_in_a_return_annotation_is_a_global_of_the_module() -> None:
    tree = ast.parse("Reply = dict\n\ndef parse(data) -> Reply:\n    return {}\n")
    binding, function = tree.body
    assert isinstance(binding, ast.Assign) and isinstance(function, ast.FunctionDef)
    assert isinstance(function.returns, ast.Name)
    assert Bindings(tree).values(function.returns) == [binding.value]  # evaluated where the `def` runs
