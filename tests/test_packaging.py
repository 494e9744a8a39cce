"""Packaging: the sdist carries what its tests need and they collect there; PEP 639 license metadata; the
Python versions claimed are the ones CI runs; no made-up URLs; README links that work on an index page."""

from __future__ import annotations

import email
import re
import subprocess
import sys
import tarfile
import tomllib
from pathlib import Path

import closelint_graceful
import pytest

import closelint

ROOT = Path(__file__).resolve().parents[1]
#: the repository URL docs once pointed at, which does not exist (spelled in two parts not to match itself)
PLACEHOLDER = "github.com/" + "closelint"
PYPROJECT = tomllib.loads((ROOT / "pyproject.toml").read_text(encoding="utf-8"))
HELPER_PYPROJECT = tomllib.loads((ROOT / "closelint-graceful" / "pyproject.toml").read_text(encoding="utf-8"))


def _tracked() -> list[str] | None:
    try:
        listed = subprocess.run(
            ["git", "ls-files", "-z"], cwd=ROOT, capture_output=True, text=True, check=True, timeout=60
        ).stdout
    except (OSError, subprocess.CalledProcessError):
        return None  # an unpacked sdist: no git work tree
    return [name for name in listed.split("\0") if name and (ROOT / name).is_file()]


@pytest.fixture(scope="module")
def sdist(tmp_path_factory: pytest.TempPathFactory) -> Path:
    """The sdist built from this tree (setuptools' PEP 517 hook, no network), unpacked."""
    out = tmp_path_factory.mktemp("sdist")
    build = f"from setuptools import build_meta; print(build_meta.build_sdist({str(out)!r}))"
    completed = subprocess.run(
        [sys.executable, "-c", build], cwd=ROOT, capture_output=True, text=True, timeout=300, check=False
    )
    assert completed.returncode == 0, completed.stderr[-2000:]
    archive = out / completed.stdout.strip().splitlines()[-1]
    with tarfile.open(archive) as tar:
        tar.extractall(out, filter="data")
    [unpacked] = [p for p in out.iterdir() if p.is_dir()]
    return unpacked


def test_sdist_carries_every_tracked_file(sdist: Path) -> None:
    tracked = _tracked()
    if tracked is None:
        pytest.skip("not a git work tree")
    missing = [name for name in tracked if not (sdist / name).is_file()]
    assert not missing


def test_sdist_metadata_has_a_pep_639_license_and_the_helper_pinned(sdist: Path) -> None:
    metadata = email.message_from_string((sdist / "PKG-INFO").read_text(encoding="utf-8"))
    assert metadata["License-Expression"] == "MIT"
    assert metadata.get_all("License-File") == ["LICENSE"]
    assert (sdist / "LICENSE").read_text(encoding="utf-8").startswith("MIT License")
    assert f"closelint-graceful=={closelint_graceful.__version__}" in metadata.get_all("Requires-Dist")
    assert closelint_graceful.__version__ == closelint.__version__


def test_sdist_tests_collect_from_its_own_sources(sdist: Path) -> None:
    paths = f"{sdist / 'src'}:{sdist / 'closelint-graceful' / 'src'}"
    probe = [sys.executable, "-c", "import closelint, closelint_graceful as g; print(closelint.__file__, g.__file__)"]
    env = {"PYTHONPATH": paths, "PATH": "/usr/bin:/bin"}
    located = subprocess.run(probe, cwd=sdist, env=env, capture_output=True, text=True, check=True, timeout=60)
    assert all(Path(p).is_relative_to(sdist) for p in located.stdout.split()), located.stdout
    # syrupy takes every snapshot for unread when nothing runs: a warning, not a failure, here
    collect = [
        sys.executable,
        "-m",
        "pytest",
        "--collect-only",
        "-q",
        "-p",
        "no:cacheprovider",
        "--snapshot-warn-unused",
    ]
    completed = subprocess.run(collect, cwd=sdist, env=env, capture_output=True, text=True, timeout=300, check=False)
    assert completed.returncode == 0, completed.stdout[-3000:] + completed.stderr[-2000:]
    collected = re.search(r"(\d+) tests? collected", completed.stdout)
    assert collected and int(collected.group(1)) > 500, completed.stdout[-500:]


def test_claimed_python_versions_are_the_ones_ci_runs() -> None:
    ci = (ROOT / ".ci" / "run").read_text(encoding="utf-8")
    assert "newest" in ci and '-m "not slow"' in ci  # the fast suite on the newest Python found
    for project in (PYPROJECT["project"], HELPER_PYPROJECT["project"]):
        assert project["requires-python"] == ">=3.11"
        claimed = sorted(
            c for c in project["classifiers"] if re.fullmatch(r"Programming Language :: Python :: 3\.\d+", c)
        )
        assert claimed == ["Programming Language :: Python :: 3.11", "Programming Language :: Python :: 3.13"]


def test_readme_setup_is_one_command_line_and_ci_runs_exactly_it() -> None:
    readme = (ROOT / "README.md").read_text(encoding="utf-8")
    setup = 'pip install -e ./closelint-graceful -e ".[test]" && closelint check examples/'
    assert f"```bash\n{setup}\n```" in readme
    ci = (ROOT / ".ci" / "run").read_text(encoding="utf-8")
    install, check = setup.split(" && ")
    assert f"\n{install}\n" in ci and f"\n{check} || status=$?\n" in ci and "\npytest\n" in ci


def test_readme_links_work_on_an_index_page() -> None:
    """An index page renders the README without the repository beside it: only absolute links work."""
    for readme in (ROOT / "README.md", ROOT / "closelint-graceful" / "README.md"):
        links = re.findall(r"\]\(([^)]+)\)", readme.read_text(encoding="utf-8"))
        assert all(link.startswith("https://") for link in links), links


def test_no_placeholder_urls() -> None:
    tracked = _tracked()
    if tracked is None:
        pytest.skip("not a git work tree")
    texts = [
        name
        for name in tracked
        if not name.startswith("tests/fixtures/")
        and Path(name).suffix in {".py", ".md", ".toml", ".yaml", ".json", ".txt", ""}
    ]
    for name in texts:
        text = (ROOT / name).read_text(encoding="utf-8", errors="replace")
        assert PLACEHOLDER not in text, name
