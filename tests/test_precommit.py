"""The pre-commit hooks (`.pre-commit-hooks.yaml`), through the real `pre-commit try-repo`.

pre-commit builds the hook environment itself (a fresh virtualenv, `pip install` of this repository), so the
try-repo tests need PyPI and take a few seconds: they are marked `slow` and share one environment build.

What is tried is a commit of the working tree as it would be committed: tracked and untracked files, minus
what `.gitignore` ignores. `try-repo` on the checkout itself would shadow-commit only the changes to files
git already tracks (`git add -u`), so a new, not yet committed file (the manifest itself, a new module) would
be missing from the hook's environment.
"""

from __future__ import annotations

import os
import shutil
import subprocess
import sys
from pathlib import Path

import pytest

ROOT = Path(__file__).resolve().parents[1]
MANIFEST = ROOT / ".pre-commit-hooks.yaml"
LEAK = 'import socket\n\n\ndef f():\n    s = socket.socket()\n    s.connect(("h", 1))\n'
CLEAN = 'import socket\n\n\ndef f():\n    with socket.socket() as s:\n        s.connect(("h", 1))\n'
FIX_HOOK_NAME = "closelint (apply safe fixes)"

pytestmark = pytest.mark.skipif(shutil.which("git") is None, reason="git is not installed")


def _environment(pre_commit_home: Path | None = None) -> dict[str, str]:
    """The caller's environment without GIT_* (set when the tests run inside a git hook)."""
    env = {key: value for key, value in os.environ.items() if not key.startswith("GIT_")}
    if pre_commit_home is not None:
        env["PRE_COMMIT_HOME"] = str(pre_commit_home)
    return env


def git(cwd: Path, *args: str) -> str:
    identity = ("-c", "user.name=closelint tests", "-c", "user.email=tests@closelint.invalid")
    completed = subprocess.run(
        ["git", *identity, "-c", "commit.gpgsign=false", *args],
        cwd=cwd,
        env=_environment(),
        capture_output=True,
        text=True,
        check=True,
    )
    return completed.stdout


def pre_commit(*args: str, cwd: Path, env: dict[str, str]) -> subprocess.CompletedProcess[str]:
    return subprocess.run(
        [sys.executable, "-m", "pre_commit", *args],
        cwd=cwd,
        env=env,
        capture_output=True,
        text=True,
        check=False,
        timeout=600,
    )


def has_fix_option() -> bool:
    completed = subprocess.run(
        [sys.executable, "-m", "closelint", "check", "--help"], capture_output=True, text=True, check=False
    )
    return "--fix" in completed.stdout


# --- the manifest (fast, no network) ----------------------------------------------------------------------


def test_manifest_is_valid() -> None:
    pytest.importorskip("pre_commit")
    completed = pre_commit("validate-manifest", str(MANIFEST), cwd=ROOT, env=_environment())
    assert completed.returncode == 0, completed.stdout + completed.stderr


def test_manifest_declares_check_and_fix_hooks() -> None:
    yaml = pytest.importorskip("yaml")
    hooks = {hook["id"]: hook for hook in yaml.safe_load(MANIFEST.read_text(encoding="utf-8"))}
    assert hooks["closelint"]["entry"] == "closelint check --force-exclude"
    assert hooks["closelint-fix"]["entry"] == "closelint check --fix --force-exclude"
    assert hooks["closelint-fix"]["name"] == FIX_HOOK_NAME
    for hook in hooks.values():
        assert hook["language"] == "python"
        assert hook["types"] == ["python"]
        assert hook["require_serial"] is False
        assert hook.get("pass_filenames", True) is True


# --- pre-commit try-repo (slow: builds the hook's virtualenv) ---------------------------------------------


@pytest.fixture(scope="module")
def hook_repo(tmp_path_factory: pytest.TempPathFactory) -> Path:
    """A git repository whose HEAD is the working tree of ROOT as it would be committed."""
    pytest.importorskip("pre_commit")
    try:
        listed = git(ROOT, "ls-files", "-z", "--cached", "--others", "--exclude-standard")
    except subprocess.CalledProcessError:
        pytest.skip(f"{ROOT} is not a git work tree")
    snapshot = tmp_path_factory.mktemp("closelint-snapshot")
    for name in filter(None, listed.split("\0")):
        source = ROOT / name
        if source.is_file():  # tracked but deleted in the working tree: not committed
            (snapshot / name).parent.mkdir(parents=True, exist_ok=True)
            shutil.copy2(source, snapshot / name)
    git(snapshot, "init", "-q")
    git(snapshot, "add", "-A")
    git(snapshot, "commit", "-q", "--no-verify", "-m", "working tree snapshot")
    return snapshot


@pytest.fixture(scope="module")
def project(tmp_path_factory: pytest.TempPathFactory) -> Path:
    """A user's repository with one leaky and one clean file, staged."""
    root = tmp_path_factory.mktemp("precommit-project")
    git(root, "init", "-q")
    (root / "leak.py").write_text(LEAK, encoding="utf-8")
    (root / "clean.py").write_text(CLEAN, encoding="utf-8")
    # excluded by the project's configuration: pre-commit names it, --force-exclude keeps it out
    (root / "pyproject.toml").write_text('[tool.closelint]\nextend-exclude = ["legacy"]\n', encoding="utf-8")
    (root / "legacy").mkdir()
    (root / "legacy" / "old.py").write_text(LEAK, encoding="utf-8")
    git(root, "add", "leak.py", "clean.py", "pyproject.toml", "legacy/old.py")
    return root


@pytest.fixture(scope="module")
def try_repo(hook_repo: Path, project: Path, tmp_path_factory: pytest.TempPathFactory):
    """`try_repo(*args)`: run `pre-commit try-repo HOOK_REPO *args` in the project; one shared PRE_COMMIT_HOME."""
    env = _environment(pre_commit_home=tmp_path_factory.mktemp("pre-commit-home"))

    def call(*args: str) -> subprocess.CompletedProcess[str]:
        return pre_commit("try-repo", "--color", "never", str(hook_repo), *args, cwd=project, env=env)

    return call


@pytest.fixture(scope="module")
def all_files_run(try_repo) -> subprocess.CompletedProcess[str]:
    return try_repo("closelint", "--all-files")


@pytest.fixture(scope="module")
def clean_file_run(try_repo) -> subprocess.CompletedProcess[str]:
    """Both hooks when `--fix` exists, else only `closelint`, on the clean file."""
    hook = () if has_fix_option() else ("closelint",)
    return try_repo(*hook, "--files", "clean.py")


def _status_line(completed: subprocess.CompletedProcess[str], name: str) -> str:
    lines = [line for line in completed.stdout.splitlines() if line.startswith(name + ".")]
    assert len(lines) == 1, completed.stdout + completed.stderr
    return lines[0]


@pytest.mark.slow
def test_closelint_hook_fails_on_a_leak_and_shows_the_finding(all_files_run) -> None:
    output = all_files_run.stdout + all_files_run.stderr
    assert all_files_run.returncode == 1, output
    assert _status_line(all_files_run, "closelint").endswith("Failed")
    assert "- exit code: 1" in output  # closelint reported findings (2 would be a usage error)
    assert "leak.py:5:9: CL101 " in output
    assert "clean.py:" not in output
    assert "legacy/old.py" not in output  # named by pre-commit, excluded by the hook's --force-exclude


@pytest.mark.slow
def test_closelint_hook_passes_on_a_clean_file(clean_file_run) -> None:
    assert clean_file_run.returncode == 0, clean_file_run.stdout + clean_file_run.stderr
    assert _status_line(clean_file_run, "closelint").endswith("Passed")


@pytest.mark.slow
def test_closelint_fix_hook_passes_on_a_clean_file(clean_file_run) -> None:
    if not has_fix_option():
        pytest.skip("`closelint check --help` has no --fix yet: the closelint-fix hook cannot run")
    assert clean_file_run.returncode == 0, clean_file_run.stdout + clean_file_run.stderr
    assert _status_line(clean_file_run, FIX_HOOK_NAME).endswith("Passed")
