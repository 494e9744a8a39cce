"""closelint.vendoring.vendor_helper: a standalone copy that works without closelint installed."""

from __future__ import annotations

import ast
import json
import pathlib
import subprocess
import sys
import textwrap

import closelint_graceful as graceful
import pytest
from netutil import RESPONSE_SIZE

import closelint
from closelint.vendoring import HEADER_MARKER, VENDORED_FILENAME, VendorError, vendor_helper

TESTS = pathlib.Path(__file__).parent

# Runs in `python -I -S`: no site-packages, so closelint is not importable and the copy must stand alone.
STANDALONE_LOSS_SCENARIO = textwrap.dedent(
    """
    import importlib.util, json, sys
    sys.path[:0] = [sys.argv[1], sys.argv[2]]
    assert importlib.util.find_spec("closelint") is None, "closelint must not be importable here"
    import graceful_close
    from netutil import run_loss_scenario
    runs = [run_loss_scenario(graceful_close.graceful_close) for _ in range(3)]
    print(json.dumps([[run.received, run.clean_eof, run.server_result.status.value] for run in runs]))
    """
)


@pytest.mark.network
def test_vendored_copy_runs_the_loss_scenario_without_closelint(tmp_path: pathlib.Path) -> None:
    written = vendor_helper(tmp_path)
    assert written == tmp_path / VENDORED_FILENAME
    result = subprocess.run(
        [sys.executable, "-I", "-S", "-c", STANDALONE_LOSS_SCENARIO, str(tmp_path), str(TESTS)],
        capture_output=True,
        text=True,
        timeout=60,
    )
    assert result.returncode == 0, result.stderr
    assert json.loads(result.stdout) == [[RESPONSE_SIZE, True, "eof"]] * 3


def test_vendored_copy_is_the_helper_behind_a_header(tmp_path: pathlib.Path) -> None:
    text = vendor_helper(tmp_path).read_text(encoding="utf-8")
    header, _, body = text.partition('"""')
    assert header.startswith(HEADER_MARKER)
    assert f"closelint {closelint.__version__}" in header
    assert "standard library only" in header
    assert '"""' + body == pathlib.Path(graceful.__file__).read_text(encoding="utf-8")


def test_vendored_copy_imports_only_the_standard_library(tmp_path: pathlib.Path) -> None:
    tree = ast.parse(vendor_helper(tmp_path).read_text(encoding="utf-8"))
    imported = set()
    for node in ast.walk(tree):
        if isinstance(node, ast.Import):
            imported |= {alias.name.partition(".")[0] for alias in node.names}
        elif isinstance(node, ast.ImportFrom):
            assert node.level == 0, "relative import in the vendored helper"
            imported.add((node.module or "").partition(".")[0])
    assert imported <= set(sys.stdlib_module_names) | {"__future__"}, imported


def test_writes_to_a_py_path(tmp_path: pathlib.Path) -> None:
    target = tmp_path / "_close.py"
    assert vendor_helper(target) == target
    assert target.read_text(encoding="utf-8").startswith(HEADER_MARKER)


def test_updates_a_previous_vendored_copy(tmp_path: pathlib.Path) -> None:
    target = vendor_helper(tmp_path)
    target.write_text(f"{HEADER_MARKER} from closelint 0.0.1\nOLD = True\n", encoding="utf-8")
    vendor_helper(tmp_path)
    assert "OLD = True" not in target.read_text(encoding="utf-8")
    assert [path.name for path in tmp_path.iterdir()] == [VENDORED_FILENAME], "temporary file left behind"


def test_refuses_to_overwrite_a_foreign_file(tmp_path: pathlib.Path) -> None:
    target = tmp_path / VENDORED_FILENAME
    target.write_text("def graceful_close(sock): ...  # hand-written\n", encoding="utf-8")
    with pytest.raises(VendorError, match="refusing to overwrite"):
        vendor_helper(tmp_path)
    assert target.read_text(encoding="utf-8") == "def graceful_close(sock): ...  # hand-written\n"


@pytest.mark.parametrize(
    ("relative", "message"),
    [
        ("missing/helper.py", "does not exist"),
        ("helper.txt", "ending in .py"),
        ("pkg.py", "not a regular file"),
    ],
)
def test_rejects_unusable_destinations(tmp_path: pathlib.Path, relative: str, message: str) -> None:
    (tmp_path / "pkg.py").mkdir()
    (tmp_path / "pkg.py" / VENDORED_FILENAME).mkdir()  # a directory where the file would go
    with pytest.raises(VendorError, match=message):
        vendor_helper(tmp_path / relative)


def test_vendor_helper_command(tmp_path: pathlib.Path, capsys: pytest.CaptureFixture[str]) -> None:
    from closelint.cli import main

    assert main(["vendor-helper", str(tmp_path)]) == 0
    assert (tmp_path / VENDORED_FILENAME).is_file()
    assert main(["vendor-helper", str(tmp_path)]) == 0  # updating its own copy is fine
    (tmp_path / "mine.py").write_text("x = 1\n", encoding="utf-8")
    capsys.readouterr()
    assert main(["vendor-helper", str(tmp_path / "mine.py")]) == 2
    error = capsys.readouterr().err
    assert error.startswith("closelint: error:") and error.count("\n") == 1
