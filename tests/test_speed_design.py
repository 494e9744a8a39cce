"""SPEC §6 design guarantees: the prefilter, the cache and `--jobs` never change what closelint reports.

No timings here (`benchmarks/bench.py` measures); these check that the fast paths are exact, that a warm
run parses nothing and loads neither libcst nor the analysis, and that the cache survives corruption and
concurrent runs.
"""

from __future__ import annotations

import json
import os
import shutil
import subprocess
import sys
import sysconfig
import textwrap
import time
from pathlib import Path

import pytest

from closelint import cache as cache_module
from closelint import engine, runner
from closelint.analysis import factories as F
from closelint.cli import main
from closelint.config import Settings
from closelint.registry import all_rules

REPO = Path(__file__).resolve().parent.parent
STDLIB = Path(sysconfig.get_paths()["stdlib"])

LEAK = "import socket\n\n\ndef f():\n    s = socket.socket()\n    s.connect(('h', 1))\n"
#: files the prefilter of closelint 0.1.0 skipped although the analysis reports them
EDGE_CASES = {
    # `dup()` creates a socket; no other trigger word in the file
    "dup_only.py": b"def f(listener):\n    other = listener.dup()\n    return 1\n",
    # identifiers are NFKC-normalised: LATIN SMALL LETTER LONG S + "ocket" is `socket`
    "nfkc.py": "import \u017focket\n\ndef f(a):\n    s = \u017focket.create_connection(a)\n    return 1\n".encode(),
    # UTF-7 source: the bytes never spell `socket`
    "utf7.py": b"# -*- coding: utf-7 -*-\nimport +AHM-ocket\n\ndef f(a):\n    s = +AHM-ocket.create_connection(a)\n",
    # a factory of another package, imported under a name of no trigger word
    "shortcut.py": b"from eventlet import connect as dial\n\ndef f(a):\n    s = dial(a)\n    return 1\n",
}


def _stdlib_sample(wanted: int, socket_related: bool) -> list[Path]:
    """A deterministic sample of standard-library modules that do (or do not) pass the prefilter."""
    found = []
    for path in sorted(STDLIB.rglob("*.py")):
        if "site-packages" in path.parts:
            continue
        try:
            source = path.read_bytes()
        except OSError:
            continue
        if engine.may_find(source) == socket_related:
            found.append(path)
    step = max(len(found) // wanted, 1)
    return found[::step][:wanted]


@pytest.fixture(scope="module")
def corpus(tmp_path_factory: pytest.TempPathFactory) -> Path:
    """tests/fixtures, examples, the edge cases and ~400 stdlib modules (half of them socket code), copied."""
    root = tmp_path_factory.mktemp("corpus")
    shutil.copytree(REPO / "tests" / "fixtures", root / "fixtures")
    shutil.copytree(REPO / "examples", root / "examples")
    for name, source in EDGE_CASES.items():
        (root / "edge").mkdir(exist_ok=True)
        (root / "edge" / name).write_bytes(source)
    for index, path in enumerate(_stdlib_sample(200, True) + _stdlib_sample(200, False)):
        target = root / "stdlib" / f"{index:03d}_{path.name}"
        target.parent.mkdir(exist_ok=True)
        shutil.copyfile(path, target)
    return root


def _py_files(root: Path) -> list[Path]:
    return sorted(root.rglob("*.py"))


# --- the prefilter -------------------------------------------------------------------------------------


def test_prefilter_changes_no_finding(corpus: Path) -> None:
    settings = Settings()
    files = _py_files(corpus)
    skipped = 0
    for path in files:
        source = path.read_bytes()
        skipped += not engine.may_find(source)
        fast = engine.lint_source(source, str(path), settings)
        full = engine.lint_source(source, str(path), settings, prefilter=False)
        assert fast.violations == full.violations, path
    assert skipped >= 150  # the sample really exercises files the prefilter rejects


def test_prefilter_edge_cases_are_reported() -> None:
    for name, source in EDGE_CASES.items():
        codes = [v.code for v in engine.lint_source(source, name, Settings()).violations]
        assert codes, name
        assert engine.may_find(source), name


def test_every_scope_trigger_contains_a_prefilter_word() -> None:
    """`analyse` walks only scopes naming these; the prefilter must let every file naming one through."""
    words = F.SCOPE_TRIGGERS | F.SOCKET_MODULES | {q.split(".", 1)[0] for q in F.SOCKET_FACTORIES}
    for word in words:
        assert any(trigger.decode() in word for trigger in engine.TRIGGERS), word


def test_every_rule_example_passes_the_prefilter() -> None:
    for code, rule in all_rules().items():
        for example in rule.invalid:
            assert engine.may_find(example.code.encode("utf-8")), code


# --- --jobs ---------------------------------------------------------------------------------------------


def _check(corpus: Path, capsys: pytest.CaptureFixture[str], *argv: str) -> str:
    main(["check", "--exit-zero", *argv, str(corpus)])
    out = capsys.readouterr().out
    assert "Traceback" not in out
    return out


def test_jobs_1_and_2_report_the_same(
    corpus: Path, capsys: pytest.CaptureFixture[str], monkeypatch: pytest.MonkeyPatch
) -> None:
    monkeypatch.setattr(runner, "PARALLEL_MIN_BYTES", 0)  # use the pool even for a small corpus
    for output in ("full", "json"):
        one = _check(corpus, capsys, "--no-cache", "--jobs", "1", "--output-format", output)
        two = _check(corpus, capsys, "--no-cache", "--jobs", "2", "--output-format", output)
        assert one == two
    assert "CL101" in one


# --- the cache ------------------------------------------------------------------------------------------


@pytest.fixture
def project(tmp_path: Path, corpus: Path, monkeypatch: pytest.MonkeyPatch) -> Path:
    """A copy of the corpus as a project (pyproject.toml at its root), the working directory."""
    root = tmp_path / "project"
    shutil.copytree(corpus, root)
    (root / "pyproject.toml").write_text("[tool.closelint]\n", encoding="utf-8")
    monkeypatch.chdir(root)
    monkeypatch.delenv(cache_module.ENVIRONMENT_VARIABLE, raising=False)
    return root


def _age(root: Path, seconds: float = 60.0) -> None:
    """Backdate every file, as if written a minute ago (a fresh file is checked by digest, not by stat)."""
    past = time.time() - seconds
    for path in root.rglob("*.py"):
        os.utime(path, (past, past))


def _cache_files(root: Path) -> list[Path]:
    return sorted((root / ".closelint_cache").rglob("*.json"))


def test_cache_gives_the_same_output(project: Path, capsys: pytest.CaptureFixture[str]) -> None:
    _age(project)
    for output in ("full", "concise", "json"):
        uncached = _check(project, capsys, "--no-cache", "--output-format", output)
        cold = _check(project, capsys, "--output-format", output)
        warm = _check(project, capsys, "--output-format", output)
        assert uncached == cold == warm
    assert (project / ".closelint_cache" / ".gitignore").read_text(encoding="utf-8").splitlines()[-1] == "*"
    assert len(_cache_files(project)) == 1


def test_cache_lives_next_to_pyproject(
    project: Path, capsys: pytest.CaptureFixture[str], monkeypatch: pytest.MonkeyPatch
) -> None:
    monkeypatch.chdir(project / "examples")
    _check(project, capsys, "--output-format", "concise")
    assert _cache_files(project)
    assert not (project / "examples" / ".closelint_cache").exists()


def test_no_cache_reads_and_writes_no_cache(project: Path, capsys: pytest.CaptureFixture[str]) -> None:
    _check(project, capsys, "--no-cache")
    assert not (project / ".closelint_cache").exists()


class _Counter:
    """Wraps `engine.lint_path` to record which files are linted."""

    def __init__(self, monkeypatch: pytest.MonkeyPatch) -> None:
        self.linted: list[str] = []
        real = engine.lint_path

        def counting(path: Path, settings: Settings, beneath: str | None = None) -> tuple[object, bytes | None]:
            self.linted.append(Path(path).name)
            return real(path, settings, beneath)

        monkeypatch.setattr(engine, "lint_path", counting)


def test_changing_one_file_relints_only_that_file(
    project: Path, capsys: pytest.CaptureFixture[str], monkeypatch: pytest.MonkeyPatch
) -> None:
    _age(project)
    first = _check(project, capsys, "--jobs", "1", "--output-format", "concise")
    counter = _Counter(monkeypatch)
    assert _check(project, capsys, "--jobs", "1", "--output-format", "concise") == first
    assert counter.linted == []

    target = project / "edge" / "touched.py"
    target.write_text(LEAK, encoding="utf-8")
    second = _check(project, capsys, "--jobs", "1", "--output-format", "concise")
    assert counter.linted == ["touched.py"]
    assert "touched.py:5:9: CL101" in second

    # same bytes, new timestamps: the digest matches, nothing is linted again
    counter.linted.clear()
    (project / "examples" / "echo_server.py").touch()
    assert _check(project, capsys, "--jobs", "1", "--output-format", "concise") == second
    assert counter.linted == []


def test_same_size_same_mtime_edit_is_noticed(project: Path, capsys: pytest.CaptureFixture[str]) -> None:
    target = project / "edge" / "same_size.py"
    target.write_text(LEAK, encoding="utf-8")
    _age(project)
    assert "same_size.py:5:9: CL101" in _check(project, capsys, "--output-format", "concise")
    before = target.stat()
    closed = "s.close()  #".ljust(len("s.connect(('h', 1))"), "x")
    target.write_text(LEAK.replace("s.connect(('h', 1))", closed), encoding="utf-8")  # same length
    os.utime(target, ns=(before.st_atime_ns, before.st_mtime_ns))
    assert target.stat().st_size == before.st_size
    assert "same_size.py" not in _check(project, capsys, "--output-format", "concise")


def test_settings_are_part_of_the_key(project: Path, capsys: pytest.CaptureFixture[str]) -> None:
    everything = _check(project, capsys, "--output-format", "concise", "--quiet")
    selected = _check(project, capsys, "--output-format", "concise", "--quiet", "--select", "CL101")
    wanted = [line for line in everything.splitlines() if " CL101 " in line or " CL000 " in line]  # CL000: always
    assert selected == "".join(line + "\n" for line in wanted)
    assert len(_cache_files(project)) == 2


def test_unparsable_files_are_cached_too(
    project: Path, capsys: pytest.CaptureFixture[str], monkeypatch: pytest.MonkeyPatch
) -> None:
    (project / "edge" / "broken.py").write_text("def f(:\n", encoding="utf-8")
    _age(project)
    first = _check(project, capsys, "--jobs", "1", "--output-format", "concise")
    assert "broken.py:1:" in first and "CL000" in first
    counter = _Counter(monkeypatch)
    assert _check(project, capsys, "--jobs", "1", "--output-format", "concise") == first
    assert counter.linted == []


def test_corrupt_cache_is_ignored(
    project: Path, capsys: pytest.CaptureFixture[str], monkeypatch: pytest.MonkeyPatch
) -> None:
    _age(project)
    expected = _check(project, capsys, "--no-cache", "--output-format", "json")
    _check(project, capsys, "--output-format", "json")
    (cache_file,) = _cache_files(project)
    document = json.loads(cache_file.read_text(encoding="utf-8"))
    # one entry claims a finding of a class that is not closelint's: that file is linted again
    name = next(path for path in document["entries"] if path.endswith("echo_server.py"))
    document["entries"][name][2] = [{"@": "Popen", "args": ["true"]}]
    document["entries"]["bogus.py"] = "not an entry"
    cache_file.write_text(json.dumps(document), encoding="utf-8")
    counter = _Counter(monkeypatch)
    assert _check(project, capsys, "--jobs", "1", "--output-format", "json") == expected
    assert counter.linted == ["echo_server.py"]

    for garbage in (b"", b"{", b"\x00\xff" * 100, b"[]", b'{"format": 1, "setup": 1, "entries": []}'):
        cache_file.write_bytes(garbage)
        assert _check(project, capsys, "--output-format", "json") == expected
        json.loads(cache_file.read_text(encoding="utf-8"))  # rewritten, valid


def test_concurrent_runs_are_safe(project: Path) -> None:
    _age(project)
    argv = [sys.executable, "-m", "closelint", "check", "--exit-zero", "--output-format", "concise", "--jobs", "1"]
    expected = subprocess.run([*argv, "--no-cache", "."], capture_output=True, text=True, check=True).stdout
    for _ in range(2):  # cold, then warm, four runs at a time
        runs = [subprocess.Popen([*argv, "."], stdout=subprocess.PIPE, text=True) for _ in range(4)]
        outputs = [run.communicate()[0] for run in runs]
        assert all(output == expected for output in outputs)
    (cache_file,) = _cache_files(project)
    assert json.loads(cache_file.read_text(encoding="utf-8"))["entries"]
    assert not list((project / ".closelint_cache").rglob("*.tmp"))


_PROBE = textwrap.dedent(
    """
    import ast, json, sys
    parses = []
    real_parse = ast.parse
    ast.parse = lambda *args, **kwargs: parses.append(1) or real_parse(*args, **kwargs)
    from closelint.cli import main
    code = main(sys.argv[2:])
    with open(sys.argv[1], "w") as report:
        json.dump({"code": code, "parses": len(parses), "modules": sorted(sys.modules)}, report)
    """
)


def _probe(project: Path, tmp_path: Path) -> dict[str, object]:
    report = tmp_path / "probe.json"
    argv = ["check", "--output-format", "concise", "--jobs", "1", "."]
    subprocess.run([sys.executable, "-c", _PROBE, str(report), *argv], cwd=project, capture_output=True, check=True)
    result: dict[str, object] = json.loads(report.read_text(encoding="utf-8"))
    return result


def test_warm_run_parses_nothing_and_never_loads_libcst(project: Path, tmp_path: Path) -> None:
    _age(project)
    cold = _probe(project, tmp_path)
    assert cold["parses"]
    warm = _probe(project, tmp_path)
    assert warm["code"] == cold["code"] == 1
    assert warm["parses"] == 0
    modules = warm["modules"]
    assert isinstance(modules, list)
    assert not [m for m in modules if m == "libcst" or m.startswith("libcst.")]
    assert "concurrent.futures" not in modules


def test_warm_run_never_loads_the_analysis(project: Path, tmp_path: Path) -> None:
    _age(project)
    _probe(project, tmp_path)
    modules = _probe(project, tmp_path)["modules"]
    assert isinstance(modules, list)
    assert not [m for m in modules if m.startswith("closelint.analysis")]
