"""Code fixed by `closelint check --fix`, with its real consumers: a fresh virtual environment holding only
the `closelint-graceful` distribution (no closelint, libcst or flake8) runs it, `mypy --strict` type-checks
it against that environment (`py.typed`), and ruff's import sorting (I001) accepts the added import."""

from __future__ import annotations

import json
import subprocess
import sys
import venv
from pathlib import Path

import pytest
from netutil import IO_TIMEOUT, PEEK_SIZE, RESPONSE_SIZE, loss_client

from closelint.cli import main

ROOT = Path(__file__).resolve().parents[1]
HELPER_PROJECT = ROOT / "closelint-graceful"

#: a typed one-shot server that answers before reading the whole request, then closes: CL201, fixed safely
SERVER = f'''\
"""Answer one request on a loopback port printed on standard output."""

import socket
import sys


def answer(srv: socket.socket) -> None:
    conn, _ = srv.accept()
    conn.recv({PEEK_SIZE})
    conn.sendall(b"r" * {RESPONSE_SIZE})
    conn.close()


def main() -> None:
    with socket.create_server(("127.0.0.1", 0)) as srv:
        srv.settimeout({IO_TIMEOUT})
        print(srv.getsockname()[1], flush=True)
        answer(srv)
    sys.exit(0)


if __name__ == "__main__":
    main()
'''
#: run with -I: what the environment can import, whatever PYTHONPATH the tests run with
PROBE = "import importlib.util, json; print(json.dumps({n: bool(importlib.util.find_spec(n)) for n in %r}))"


@pytest.fixture(scope="module")
def fresh_python(tmp_path_factory: pytest.TempPathFactory) -> Path:
    """The interpreter of a new virtual environment with the closelint-graceful wheel installed, nothing else."""
    work = tmp_path_factory.mktemp("runtime")
    wheels = work / "wheels"
    pip = [sys.executable, "-m", "pip", "--disable-pip-version-check", "--no-input", "-q"]
    build = [*pip, "wheel", "--no-deps", "--no-build-isolation", "-w", str(wheels), str(HELPER_PROJECT)]
    subprocess.run(build, check=True, timeout=300, cwd=work)
    environment = work / "venv"
    venv.EnvBuilder(with_pip=False).create(environment)
    python = environment / "bin" / "python"
    install = [*pip, "--python", str(python), "install", "--no-index", "--no-deps", *map(str, wheels.glob("*.whl"))]
    subprocess.run(install, check=True, timeout=300, cwd=work)
    return python


@pytest.fixture(scope="module")
def fixed_server(tmp_path_factory: pytest.TempPathFactory) -> Path:
    project = tmp_path_factory.mktemp("project")
    target = project / "server.py"
    target.write_text(SERVER, encoding="utf-8")
    fix = ["check", "--fix", "--quiet", "--no-cache", "--output-format", "concise", "--select", "CL2", str(target)]
    assert main(fix) == 0, target.read_text(encoding="utf-8")
    return target


def test_the_fix_imports_the_helper_distribution(fixed_server: Path) -> None:
    text = fixed_server.read_text(encoding="utf-8")
    assert "import socket\nimport sys\n\nfrom closelint_graceful import graceful_close\n\n\ndef answer" in text
    assert "    graceful_close(conn)\n" in text


def test_fresh_environment_has_the_helper_but_not_the_linter(fresh_python: Path) -> None:
    names = ("closelint_graceful", "closelint", "libcst", "flake8")
    probe = subprocess.run(
        [str(fresh_python), "-I", "-c", PROBE % (names,)], capture_output=True, text=True, timeout=60, check=True
    )
    assert json.loads(probe.stdout) == {
        "closelint_graceful": True,
        "closelint": False,
        "libcst": False,
        "flake8": False,
    }


@pytest.mark.network
def test_fixed_server_runs_in_the_fresh_environment_and_delivers_every_byte(
    fresh_python: Path, fixed_server: Path
) -> None:
    with subprocess.Popen(
        [str(fresh_python), "-I", str(fixed_server)], stdout=subprocess.PIPE, stderr=subprocess.PIPE, text=True
    ) as server:
        try:
            assert server.stdout is not None
            port = int(server.stdout.readline())
            delivery = loss_client(("127.0.0.1", port))
            assert server.wait(timeout=IO_TIMEOUT) == 0, server.stderr.read() if server.stderr else ""
        finally:
            server.kill()
    assert (delivery.received, delivery.clean_eof) == (RESPONSE_SIZE, True)


def test_mypy_strict_accepts_the_fixed_code_against_the_fresh_environment(
    fresh_python: Path, fixed_server: Path
) -> None:
    pytest.importorskip("mypy")
    completed = subprocess.run(
        [
            sys.executable,
            "-m",
            "mypy",
            "--strict",
            "--no-incremental",
            "--cache-dir",
            str(fixed_server.parent / ".mypy_cache"),
            "--python-executable",
            str(fresh_python),
            str(fixed_server),
        ],
        capture_output=True,
        text=True,
        timeout=300,
        cwd=fixed_server.parent,
    )
    assert completed.returncode == 0, completed.stdout + completed.stderr


@pytest.mark.parametrize(
    ("name", "source"),
    [
        (
            "plain.py",
            "import socket\n\n\ndef f(s: socket.socket) -> None:\n"
            "    c, _ = s.accept()\n    c.sendall(b'x')\n    c.close()\n",
        ),
        (
            "sections.py",
            '"""Doc."""\n\nfrom __future__ import annotations\n\nimport socket\n\nimport attr\nimport zlib_ng\n'
            "from yaml import dump\n\nfrom mypkg import util\n\n\n"
            "def f(s: socket.socket) -> None:\n    c, _ = s.accept()\n    c.sendall(b'x')\n    c.close()\n",
        ),
        ("bare.py", "def f(s):\n    c, _ = s.accept()\n    c.sendall(b'x')\n    c.close()\n"),
    ],
)
def test_ruff_import_sorting_accepts_the_added_import(tmp_path: Path, name: str, source: str) -> None:
    pytest.importorskip("ruff")
    (tmp_path / "mypkg").mkdir()  # a first-party package, for ruff and for closelint alike
    target = tmp_path / name
    target.write_text(source, encoding="utf-8")
    main(["check", "--fix", "--quiet", "--no-cache", "--output-format", "concise", str(target)])
    fixed = target.read_text(encoding="utf-8")
    assert "from closelint_graceful import graceful_close\n" in fixed
    completed = subprocess.run(
        [sys.executable, "-m", "ruff", "check", "--isolated", "--select", "I", "--output-format", "concise", name],
        capture_output=True,
        text=True,
        timeout=60,
        cwd=tmp_path,
    )
    assert completed.returncode == 0, fixed + completed.stdout + completed.stderr


def test_a_vendored_helper_joins_the_first_party_section(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    pytest.importorskip("ruff")
    monkeypatch.chdir(tmp_path)
    (tmp_path / "pyproject.toml").write_text('[tool.closelint]\nhelper-module = "mypkg.graceful_close"\n')
    (tmp_path / "mypkg").mkdir()
    (tmp_path / "mypkg" / "__init__.py").write_text("")
    assert main(["vendor-helper", "mypkg"]) == 0
    target = tmp_path / "mypkg" / "server.py"
    target.write_text(
        "import socket\n\nimport requests\n\nfrom mypkg import util\n\n\n"
        "def f(s: socket.socket) -> None:\n    c, _ = s.accept()\n    c.sendall(b'x')\n    c.close()\n",
        encoding="utf-8",
    )
    main(["check", "--fix", "--quiet", "--no-cache", "--output-format", "concise", str(target)])
    fixed = target.read_text(encoding="utf-8")
    assert "\n\nfrom mypkg import util\nfrom mypkg.graceful_close import graceful_close\n\n\n" in fixed
    completed = subprocess.run(
        [
            sys.executable,
            "-m",
            "ruff",
            "check",
            "--isolated",
            "--select",
            "I",
            "--output-format",
            "concise",
            "mypkg/server.py",
        ],
        capture_output=True,
        text=True,
        timeout=60,
        cwd=tmp_path,
    )
    assert completed.returncode == 0, fixed + completed.stdout + completed.stderr


def test_the_former_module_name_still_imports_the_helper() -> None:
    """Code fixed when the helper lived in closelint.graceful keeps working."""
    import closelint_graceful

    from closelint import graceful

    assert graceful.graceful_close is closelint_graceful.graceful_close
    assert set(graceful.__all__) == set(closelint_graceful.__all__)
