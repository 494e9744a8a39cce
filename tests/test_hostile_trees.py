"""closelint on trees built by someone hostile: it never hangs, never runs a command from the tree, never reads
or writes outside it, never prints a traceback, and never says "all clear" about what it could not read.

Each hostile tree is built fresh in a temporary directory; closelint runs as a user runs it, in a subprocess
with a 30 s timeout (a hang fails the test instead of stalling the suite). Permission cases need a user whom
file permissions stop: as root, the child runs without the capabilities that bypass them (`setpriv`).
A `git` that records being run is first on PATH: closelint must never call it.
"""

from __future__ import annotations

import errno
import functools
import json
import os
import shutil
import stat
import subprocess
import sys
import threading
from dataclasses import dataclass
from pathlib import Path

import pytest
from trees import LEAK, LEAK_AT, write

from closelint import __version__, cache
from closelint.analysis.budget import MAX_STEPS
from closelint.config import Settings
from closelint.engine import lint_source
from closelint.files import MAX_FILE_BYTES, read_regular_file
from closelint.fixer import SourceFile, write_atomically

RUN_TIMEOUT = 30.0
#: CL201 with a safe fix: the reply is sent, then the connection closed without draining
FIXABLE = (
    "import socket\n\n\ndef serve_once(listener):\n    conn, _ = listener.accept()\n"
    '    conn.recv(10)\n    conn.sendall(b"report")\n    conn.close()\n'
)
SECRET = "TOKEN=do-not-print-me"
ON_POSIX = pytest.mark.skipif(os.name != "posix", reason="FIFOs, links and permissions as POSIX has them")

pytestmark = ON_POSIX


@dataclass
class Outcome:
    code: int
    out: str
    err: str

    @property
    def findings(self) -> list[str]:
        return [line for line in self.out.splitlines() if ": CL" in line]

    @property
    def errors(self) -> list[str]:
        return [line for line in self.err.splitlines() if line.startswith("closelint: error: ")]

    @property
    def warnings(self) -> list[str]:
        return [line for line in self.err.splitlines() if line.startswith("closelint: warning: ")]


def unprivileged() -> list[str]:
    """A command prefix under which file permissions apply (as root: no CAP_DAC_OVERRIDE/DAC_READ_SEARCH)."""
    if os.geteuid() != 0:
        return []
    setpriv = shutil.which("setpriv")
    prefix = [setpriv or "setpriv", "--bounding-set=-dac_override,-dac_read_search", "--"]
    if setpriv is None or not _works((*prefix, "true")):
        pytest.skip("running as root and cannot drop the capabilities that bypass permissions (setpriv)")
    return prefix


@functools.cache
def _works(command: tuple[str, ...]) -> bool:
    return subprocess.run(command, capture_output=True, timeout=RUN_TIMEOUT, check=False).returncode == 0


@pytest.fixture
def spy_git(tmp_path: Path) -> Path:
    """A directory holding a `git` that records each call in `git-ran` next to it."""
    directory = tmp_path / "spy-bin"
    directory.mkdir()
    git = directory / "git"
    git.write_text(f'#!/bin/sh\necho "$@" >> "{directory / "git-ran"}"\nexit 1\n', encoding="utf-8")
    git.chmod(0o755)
    return directory


@pytest.fixture
def closelint(spy_git: Path):
    """`closelint(cwd, *argv, drop=False)`: `python -m closelint` in `cwd`, bounded by RUN_TIMEOUT seconds."""

    def call(cwd: Path, *argv: str, drop: bool = False, stdin: str | None = None) -> Outcome:
        env = {k: v for k, v in os.environ.items() if not k.startswith("CLOSELINT_")}
        env["PATH"] = f"{spy_git}{os.pathsep}{env.get('PATH', '')}"
        command = [*(unprivileged() if drop else []), sys.executable, "-m", "closelint", *argv]
        completed = subprocess.run(
            command, cwd=cwd, env=env, capture_output=True, timeout=RUN_TIMEOUT, check=False, input=stdin
        )
        out = completed.stdout.decode("utf-8", "surrogateescape")
        err = completed.stderr.decode("utf-8", "surrogateescape")
        assert "Traceback" not in out + err, err
        assert not (spy_git / "git-ran").exists(), "closelint ran git"
        return Outcome(completed.returncode, out, err)

    return call


def check(closelint, cwd: Path, *argv: str, drop: bool = False) -> Outcome:
    return closelint(cwd, "check", "--output-format", "concise", "--quiet", *argv, drop=drop)


def assert_one_error(outcome: Outcome, *mentions: str) -> None:
    assert outcome.code == 2, outcome
    assert len(outcome.errors) == 1, outcome.err
    for mention in mentions:
        assert mention in outcome.errors[0], outcome.errors[0]


# --- .gitignore without git -------------------------------------------------------------------------------


def git_work_tree(root: Path) -> None:
    """A `.git` directory whose configuration runs a command if git ever reads it."""
    (root / ".git" / "info").mkdir(parents=True)
    (root / ".git" / "config").write_text(
        f'[core]\n\tfsmonitor = "touch {root.parent / "fsmonitor-ran"}"\n', encoding="utf-8"
    )


#: path -> linted? (nested ignore files, negation, directory patterns, anchoring, info/exclude)
GITIGNORE_CASES = {
    "kept.py": True,
    "scratch.py": False,  # root .gitignore
    "generated/g.py": False,  # a directory pattern
    "pkg/generated/deep.py": False,  # an unanchored directory pattern matches at any depth
    "pkg/keep_me.py": True,  # negated below `*_me.py`
    "pkg/drop_me.py": False,
    "pkg/sub/local.py": False,  # pkg/sub/.gitignore
    "pkg/sub/inner/local.py": True,  # `/local.py` is anchored to pkg/sub
    "pkg/sub/scratch.py": True,  # a deeper file's negation overrides the root's pattern
    "top_only.py": False,  # anchored at the root
    "pkg/top_only.py": True,
    "private.py": False,  # .git/info/exclude
    "vendor/lib.py": False,  # directory excluded: a negation below it cannot bring a file back
}


def build_gitignore_tree(root: Path) -> None:
    write(root, ".gitignore", "scratch.py\ngenerated/\n*_me.py\n!keep_me.py\n/top_only.py\nvendor/\n!vendor/lib.py\n")
    write(root, "pkg/sub/.gitignore", "/local.py\n!scratch.py\n")
    write(root, ".git/info/exclude", "private.py\n")
    for relative in GITIGNORE_CASES:
        write(root, relative)


def test_gitignore_is_matched_without_running_git(closelint, tmp_path: Path) -> None:
    root = tmp_path / "repo"
    git_work_tree(root)
    build_gitignore_tree(root)
    outcome = check(closelint, root)
    linted = sorted(line.split(":")[0] for line in outcome.findings)
    assert linted == sorted(p for p, kept in GITIGNORE_CASES.items() if kept)
    assert not (tmp_path / "fsmonitor-ran").exists()


def test_gitignore_cases_agree_with_git_itself(tmp_path: Path) -> None:
    """The table above is what git says (the test runs git; closelint does not)."""
    if shutil.which("git") is None:
        pytest.skip("git is not installed")
    root = tmp_path / "repo"
    root.mkdir()
    subprocess.run(["git", "init", "-q", str(root)], check=True, timeout=RUN_TIMEOUT)
    build_gitignore_tree(root)
    completed = subprocess.run(
        ["git", "check-ignore", "--no-index", *GITIGNORE_CASES],
        cwd=root,
        capture_output=True,
        text=True,
        timeout=RUN_TIMEOUT,
        check=False,
    )
    assert set(completed.stdout.split()) == {p for p, kept in GITIGNORE_CASES.items() if not kept}


def test_a_directory_named_explicitly_is_linted_even_if_ignored(closelint, tmp_path: Path) -> None:
    root = tmp_path / "repo"
    git_work_tree(root)
    build_gitignore_tree(root)
    assert [line.split(":")[0] for line in check(closelint, root, "generated").findings] == ["generated/g.py"]


def test_symlinked_gitignore_is_not_read(closelint, tmp_path: Path) -> None:
    root = tmp_path / "repo"
    git_work_tree(root)
    write(tmp_path, "elsewhere", "*.py\n")
    (root / ".gitignore").symlink_to(tmp_path / "elsewhere")
    write(root, "leak.py")
    assert [line.split(":")[0] for line in check(closelint, root).findings] == ["leak.py"]


# --- the cache never writes through a link ----------------------------------------------------------------


@pytest.mark.parametrize(
    "linked", [".closelint_cache", f".closelint_cache/{__version__}", ".closelint_cache/CACHEDIR.TAG"]
)
def test_a_linked_cache_is_refused_and_nothing_is_written_outside(closelint, tmp_path: Path, linked: str) -> None:
    root, outside = tmp_path / "tree", tmp_path / "outside"
    outside.mkdir()
    write(root, "leak.py")
    link = root / linked
    link.parent.mkdir(parents=True, exist_ok=True)
    link.symlink_to(outside if not linked.endswith("TAG") else outside / "CACHEDIR.TAG")
    for _ in range(2):
        outcome = check(closelint, root)
        assert outcome.code == 1
        assert outcome.findings == ["leak.py" + LEAK_AT + outcome.findings[0].split(LEAK_AT)[1]]
        assert len(outcome.warnings) == 1 and "symbolic link" in outcome.warnings[0], outcome.err
    assert list(outside.iterdir()) == []


def cache_file(root: Path) -> Path:
    (found,) = (root / ".closelint_cache" / __version__).glob("*.json")
    return found


@pytest.mark.parametrize(
    "finding",
    [
        {"@": "Violation", "path": "leak.py", "line": "5", "col": 8, "code": "CL101", "message": "m"},
        {"@": "Violation", "path": "/etc/passwd", "line": 1, "col": 0, "code": "CL101", "message": "m"},
        {"@": "Fix", "applicability": {"@enum": "Applicability", "value": "safe"}, "description": "d"},
        {"@": "Violation", "path": "leak.py", "line": 5, "col": 8, "code": "CL101", "message": "m", "fix": 3},
        {"@": "Violation", "path": "leak.py", "line": 5, "col": 8, "code": "CL101", "message": "m", "bogus": 1},
        {"@enum": "Applicability", "value": "neither"},
        {"@": "Settings"},
        "deep",  # replaced by 100,000 nested lists below
    ],
    ids=["wrong-type", "other-file", "not-a-finding", "bad-fix", "unknown-field", "bad-enum", "not-model", "deep"],
)
def test_corrupt_but_valid_cache_entries_are_not_used(closelint, tmp_path: Path, finding: object) -> None:
    root = tmp_path / "tree"
    write(root, "leak.py")
    first = check(closelint, root)
    document = json.loads(cache_file(root).read_text(encoding="utf-8"))
    document["entries"]["leak.py"][2] = [finding]
    text = json.dumps(document).replace('"deep"', "[" * 100_000 + "]" * 100_000)
    cache_file(root).write_text(text, encoding="utf-8")
    again = check(closelint, root)
    assert (again.code, again.findings) == (first.code, first.findings)


@pytest.mark.parametrize("forgery", ["unknown-code", "duplicate"])
def test_cache_entries_with_unknown_codes_or_repeated_findings_are_not_used(
    closelint, tmp_path: Path, forgery: str
) -> None:
    root = tmp_path / "tree"
    write(root, "leak.py")
    first = check(closelint, root)
    document = json.loads(cache_file(root).read_text(encoding="utf-8"))
    (finding,) = document["entries"]["leak.py"][2]
    forged = [{**finding, "code": "CL999"}] if forgery == "unknown-code" else [finding, finding]
    document["entries"]["leak.py"][2] = forged
    cache_file(root).write_text(json.dumps(document), encoding="utf-8")
    again = check(closelint, root)
    assert (again.code, again.findings) == (first.code, first.findings)


@pytest.mark.skipif(not os.path.exists(cache.BOOT_ID_FILE), reason="no Linux boot id")
def test_a_cache_written_on_another_machine_never_matches(closelint, tmp_path: Path) -> None:
    """A cache committed with the tree, its findings hidden: its setup names another boot, so no run here
    looks it up."""
    root = tmp_path / "tree"
    write(root, "leak.py")
    first = check(closelint, root)
    here = cache_file(root)
    document = json.loads(here.read_text(encoding="utf-8"))
    setup = json.loads(document["setup"])
    assert setup["machine"] == Path(cache.BOOT_ID_FILE).read_text(encoding="ascii").strip()
    document["setup"] = json.dumps({**setup, "machine": "00000000-0000-4000-8000-000000000000"}, sort_keys=True)
    document["entries"]["leak.py"][2] = []  # hides the finding
    here.unlink()
    here.with_name(f"{cache._short_hash(document['setup'])}.json").write_text(json.dumps(document), encoding="utf-8")
    again = check(closelint, root)
    assert (again.code, again.findings) == (first.code, first.findings)


def test_deeply_nested_cache_file_is_ignored(closelint, tmp_path: Path) -> None:
    root = tmp_path / "tree"
    write(root, "leak.py")
    first = check(closelint, root)
    cache_file(root).write_text("[" * 200_000 + "]" * 200_000, encoding="utf-8")
    again = check(closelint, root)
    assert (again.code, again.findings) == (first.code, first.findings)


# --- reading: links out of the tree, special files, size ---------------------------------------------------


def test_link_out_of_the_tree_is_skipped_unless_named(closelint, tmp_path: Path) -> None:
    root = tmp_path / "tree"
    write(tmp_path, "secret.py", f'"""{SECRET}"""\n' + LEAK)
    write(root, "leak.py")
    (root / "stolen.py").symlink_to(tmp_path / "secret.py")
    walked = closelint(root, "check", "--output-format", "full", ".")
    assert SECRET not in walked.out + walked.err
    assert walked.code == 1 and [f.split(":")[0] for f in walked.findings] == ["leak.py"]
    assert len(walked.warnings) == 1 and "stolen.py" in walked.warnings[0] and "outside" in walked.warnings[0]
    named = check(closelint, root, "stolen.py")
    assert named.code == 1 and named.findings[0].startswith("stolen.py:")


def test_link_inside_the_tree_is_linted(closelint, tmp_path: Path) -> None:
    root = tmp_path / "tree"
    write(root, "real/leak.py")
    (root / "alias.py").symlink_to(root / "real" / "leak.py")
    assert sorted(f.split(":")[0] for f in check(closelint, root).findings) == ["alias.py", "real/leak.py"]


def swapped_tree(tmp_path: Path) -> Path:
    """A tree as a swap between discovery and reading leaves it: `victim.py` and the directory `pkg` are now
    links to a secret outside the tree."""
    write(tmp_path, "outside/victim.py", f'"""{SECRET}"""\n' + LEAK)
    root = tmp_path / "tree"
    write(root, "inner/ok.py")
    (root / "victim.py").symlink_to(tmp_path / "outside" / "victim.py")
    (root / "pkg").symlink_to(tmp_path / "outside")
    (root / "rel.py").symlink_to(Path("..", "outside", "victim.py"))
    (root / "inner" / "back.py").symlink_to(Path("..", "inner", "ok.py"))  # a relative link that stays inside
    return root


@pytest.mark.parametrize("relative", ["victim.py", "pkg/victim.py", "rel.py", "inner/../pkg/victim.py"])
def test_a_file_found_in_the_tree_is_never_read_through_a_link_out_of_it(tmp_path: Path, relative: str) -> None:
    root = swapped_tree(tmp_path)
    with pytest.raises(OSError) as raised:
        read_regular_file(root / relative, beneath=root)
    assert raised.value.errno in (errno.EXDEV, errno.ENOENT, errno.ENOTDIR)
    assert read_regular_file(root / "inner" / "back.py", beneath=root) == LEAK.encode()
    assert read_regular_file(root / "victim.py").startswith(b'"""' + SECRET.encode())  # as named: followed


def test_fixes_are_never_written_through_a_directory_swapped_for_a_link(tmp_path: Path) -> None:
    root = swapped_tree(tmp_path)
    with pytest.raises(OSError):
        write_atomically(root / "pkg" / "victim.py", "overwritten", SourceFile("", "utf-8"), str(root))
    assert SECRET in (tmp_path / "outside" / "victim.py").read_text(encoding="utf-8")
    assert os.listdir(tmp_path / "outside") == ["victim.py"]


def test_a_file_swapped_for_a_link_while_the_tree_is_linted_never_leaks(closelint, tmp_path: Path) -> None:
    """The swap races discovery and reading (a skipped link is exit 0, an unreadable file exit 2); when the
    file was checked, then opened by name, one run in ten or twenty leaked."""
    write(tmp_path, "secret.py", f'"""{SECRET}"""\n' + LEAK)
    root = tmp_path / "tree"
    write(root, "victim.py")
    (tmp_path / "link").symlink_to(tmp_path / "secret.py")
    write(tmp_path, "plain.py")
    stop = threading.Event()

    def swap() -> None:
        while not stop.is_set():
            os.link(tmp_path / "link", tmp_path / "link2", follow_symlinks=False)
            os.replace(tmp_path / "link2", root / "victim.py")
            os.link(tmp_path / "plain.py", tmp_path / "plain2.py")
            os.replace(tmp_path / "plain2.py", root / "victim.py")

    swapper = threading.Thread(target=swap)
    swapper.start()
    try:
        outcomes = [closelint(root, "check", "--no-cache", "--output-format", "full", ".") for _ in range(12)]
    finally:
        stop.set()
        swapper.join()
    assert not [o for o in outcomes if SECRET in o.out + o.err]


def test_fifo_is_not_read_and_does_not_block(closelint, tmp_path: Path) -> None:
    root = tmp_path / "tree"
    write(root, "leak.py")
    os.mkfifo(root / "x.py")
    outcome = check(closelint, root)
    assert outcome.findings[0].startswith("leak.py" + LEAK_AT)
    assert_one_error(outcome, "x.py", "not a regular file")


@pytest.mark.skipif(not os.path.exists("/dev/zero"), reason="no /dev/zero")
def test_link_to_dev_zero_is_not_read(closelint, tmp_path: Path) -> None:
    root = tmp_path / "tree"
    write(root, "leak.py")
    (root / "zero.py").symlink_to("/dev/zero")
    walked = check(closelint, root)
    assert walked.code == 1 and len(walked.warnings) == 1 and "zero.py" in walked.warnings[0]
    named = check(closelint, root, "zero.py", "leak.py")
    assert named.findings[0].startswith("leak.py" + LEAK_AT)
    assert_one_error(named, "zero.py", "character device")


def test_file_over_the_size_cap_is_an_error(closelint, tmp_path: Path) -> None:
    root = tmp_path / "tree"
    write(root, "leak.py")
    with open(root / "huge.py", "wb") as handle:
        handle.truncate(MAX_FILE_BYTES + 1)  # sparse: no disk used
    outcome = check(closelint, root)
    assert outcome.findings[0].startswith("leak.py" + LEAK_AT)
    assert_one_error(outcome, "huge.py", "limit")


def test_a_function_creating_thousands_of_sockets_is_skipped_past_the_work_budget(closelint, tmp_path: Path) -> None:
    """2,000 sockets in one function took 35 s (every statement carries the facts of every socket)."""
    lines = "".join(f"    s{i} = socket.socket()\n    s{i}.connect(('h', {i}))\n" for i in range(2000))
    write(tmp_path, "many.py", "import socket\n\n\ndef connect_all():\n" + lines)
    write(tmp_path, "leak.py")
    outcome = check(closelint, tmp_path)
    assert outcome.code == 1
    assert outcome.findings[0].startswith("leak.py" + LEAK_AT)
    assert (
        outcome.findings[1]
        == f"many.py:1:1: CL000 not analysed: too complex (more than {MAX_STEPS:,} steps of flow analysis)"
    )


def test_the_work_budget_leaves_a_function_of_a_hundred_sockets_analysed() -> None:
    lines = "".join(f"    s{i} = socket.socket()\n    s{i}.connect(('h', {i}))\n" for i in range(100))
    found = lint_source("import socket\n\n\ndef connect_all():\n" + lines, "many.py", Settings()).violations
    assert [v.code for v in found] == ["CL101"] * 100


# --- deep but valid code ------------------------------------------------------------------------------------

DEEP_SUM = "import socket\ntotal = " + " + ".join(f"a{i}" for i in range(1000)) + "\n"
DEEP_NESTING = "import socket\nvalue = " + "[" * 180 + "]" * 180 + "\n"


@pytest.mark.parametrize("prefix", [DEEP_SUM, DEEP_NESTING], ids=["1000-term-sum", "nested-lists"])
def test_deep_code_is_analysed_and_the_run_goes_on(closelint, tmp_path: Path, prefix: str) -> None:
    root = tmp_path / "tree"
    write(root, "deep.py", prefix + LEAK.replace("import socket\n", "", 1))
    write(root, "other.py")
    outcome = check(closelint, root)
    assert outcome.code == 1
    assert [f.split(":")[0] + ":" + f.split(": ")[1].split()[0] for f in outcome.findings] == [
        "deep.py:CL101",
        "other.py:CL101",
    ]


def test_a_sum_near_the_deepest_the_parser_accepts_is_analysed() -> None:
    terms = 2500  # `ast.parse` refuses about 3 x the recursion limit (1,000), less the depth it is called at
    source = "import socket\ntotal = " + " + ".join(["a"] * terms) + "\n" + LEAK.replace("import socket\n", "", 1)
    assert [v.code for v in lint_source(source, "deep.py", Settings()).violations] == ["CL101"]


def test_code_too_deep_even_for_the_deep_stack_is_skipped_with_a_message(monkeypatch: pytest.MonkeyPatch) -> None:
    from closelint import engine

    monkeypatch.setattr(engine, "DEEP_RECURSION_LIMIT", 100)
    result = lint_source(DEEP_SUM + LEAK, "deep.py", Settings())
    assert [(v.code, "nested too deeply" in v.message) for v in result.violations] == [("CL000", True)]


# --- one line and exit 2 ------------------------------------------------------------------------------------


@pytest.mark.parametrize(
    "expression",
    ["-" * 20_000 + "1", "not " * 20_000 + "ready", "lambda: " * 3_000 + "1"],
    ids=["minus", "not", "lambda"],
)
def test_code_the_parser_refuses_without_a_message_gets_a_reason(expression: str) -> None:
    (finding,) = lint_source(f"import socket\nvalue = {expression}\n", "deep.py", Settings()).violations
    # CPython 3.11 raises a bare MemoryError here, which gets closelint's reason; 3.13 gives its own
    reasons = ("too deeply nested for Python's parser", "Parser stack overflowed - Python source too complex to parse")
    assert finding.code == "CL000"
    assert finding.message in [f"cannot parse file: {reason}" for reason in reasons]


def test_path_over_the_os_limit(closelint, tmp_path: Path) -> None:
    outcome = check(closelint, tmp_path, "x" * 300 + ".py", "/".join(["d" * 200] * 30))
    assert outcome.code == 2 and len(outcome.errors) == 2, outcome.err
    assert all("too long" in line for line in outcome.errors)


def test_file_below_a_directory_without_permission(closelint, tmp_path: Path) -> None:
    write(tmp_path, "locked/x.py")
    write(tmp_path, "leak.py")
    (tmp_path / "locked").chmod(0)
    try:
        outcome = check(closelint, tmp_path, "locked/x.py", "leak.py", drop=True)
    finally:
        (tmp_path / "locked").chmod(0o755)
    assert outcome.findings[0].startswith("leak.py" + LEAK_AT)
    assert_one_error(outcome, "locked/x.py", "Permission denied")


def test_deleted_working_directory(tmp_path: Path, monkeypatch: pytest.MonkeyPatch, capsys) -> None:
    from closelint.cli import main

    gone = tmp_path / "gone"
    gone.mkdir()
    monkeypatch.chdir(gone)
    gone.rmdir()
    assert main(["check", str(tmp_path)]) == 2
    err = capsys.readouterr().err
    assert err.count("\n") == 1 and err.startswith("closelint: error: ") and "working directory" in err


def test_failed_write_during_fix_leaves_that_file_and_fixes_the_next(closelint, tmp_path: Path) -> None:
    locked = write(tmp_path, "a_locked/server.py", FIXABLE)
    later = write(tmp_path, "b_open/server.py", FIXABLE)
    locked.parent.chmod(0o555)  # the temporary file of the atomic write cannot be created
    try:
        outcome = closelint(tmp_path, "check", "--fix", "--no-cache", ".", drop=True)
    finally:
        locked.parent.chmod(0o755)
    assert locked.read_text(encoding="utf-8") == FIXABLE
    assert "graceful_close(conn)" in later.read_text(encoding="utf-8")
    assert_one_error(outcome, "a_locked/server.py", "not written")


def test_deeply_nested_pyproject(closelint, tmp_path: Path) -> None:
    write(tmp_path, "pyproject.toml", "[tool.closelint]\nselect = " + "[" * 100_000 + "]" * 100_000 + "\n")
    write(tmp_path, "leak.py")
    assert_one_error(check(closelint, tmp_path), "pyproject.toml", "nested too deeply")


@pytest.mark.parametrize("output_format", ["sarif", "gitlab", "json", "rdjson"])
def test_non_utf8_file_name_in_json_reports(closelint, tmp_path: Path, output_format: str) -> None:
    (tmp_path / os.fsdecode(b"caf\xff.py")).write_text(LEAK, encoding="utf-8")
    outcome = closelint(tmp_path, "check", "--output-format", output_format, ".")
    assert outcome.code == 1
    report = json.loads(outcome.out)
    if output_format == "sarif":
        uri = report["runs"][0]["results"][0]["locations"][0]["physicalLocation"]["artifactLocation"]["uri"]
        assert uri == "caf%FF.py"
    elif output_format == "json":
        assert report[0]["filename"] == "caf\\xff.py"
    elif output_format == "rdjson":
        assert report["diagnostics"][0]["location"]["path"] == "caf\\xff.py"
    else:
        assert report[0]["location"]["path"] == "caf\\xff.py"
    outcome.out.encode("utf-8")  # valid Unicode throughout
    assert "\\ud" not in outcome.out  # no lone surrogate written as a JSON escape either


@pytest.mark.parametrize("output_format", ["concise", "full", "github"])
@pytest.mark.parametrize(
    ("name", "shown"), [("esc\x1b[31mred.py", "esc\\x1b[31mred.py"), ("rlo\u202egp.py", "rlo\\u202egp.py")]
)
def test_control_and_bidi_characters_in_a_file_name_are_escaped(
    closelint, tmp_path: Path, output_format: str, name: str, shown: str
) -> None:
    write(tmp_path, name)
    outcome = closelint(tmp_path, "check", "--output-format", output_format, ".")
    assert outcome.code == 1
    assert "\x1b" not in outcome.out and "\u202e" not in outcome.out
    assert shown in outcome.out


def test_newline_in_a_file_name_cannot_fake_a_finding(closelint, tmp_path: Path) -> None:
    write(tmp_path, "a\nb.py:1:1: CL999 forged.py")
    outcome = closelint(tmp_path, "check", "--output-format", "concise", ".")
    assert outcome.code == 1
    assert outcome.out.splitlines()[0].startswith("a\\nb.py:1:1: CL999 forged.py" + LEAK_AT)
    assert len([line for line in outcome.out.splitlines() if ": CL" in line]) == 1


# --- no silent "all clear" ----------------------------------------------------------------------------------


def test_unreadable_directory_is_an_error(closelint, tmp_path: Path) -> None:
    write(tmp_path, "closed/leak.py")
    write(tmp_path, "clean.py", "x = 1\n")
    (tmp_path / "closed").chmod(0)
    try:
        outcome = closelint(tmp_path, "check", "--output-format", "concise", ".", drop=True)
    finally:
        (tmp_path / "closed").chmod(0o755)
    assert "All checks passed" not in outcome.out
    assert_one_error(outcome, "cannot read directory", "closed")


def test_empty_select_on_the_command_line_is_an_error(closelint, tmp_path: Path) -> None:
    write(tmp_path, "leak.py")
    assert_one_error(check(closelint, tmp_path, "--select="), "--select")


def test_empty_select_with_extend_select_is_not_an_error(closelint, tmp_path: Path) -> None:
    write(tmp_path, "leak.py")
    outcome = check(closelint, tmp_path, "--select=", "--extend-select=CL101")
    assert outcome.code == 1 and outcome.findings[0].startswith("leak.py" + LEAK_AT)


def test_empty_select_in_the_configuration_is_an_error(closelint, tmp_path: Path) -> None:
    write(tmp_path, "pyproject.toml", "[tool.closelint]\nselect = []\n")
    write(tmp_path, "leak.py")
    assert_one_error(check(closelint, tmp_path), "select")


@pytest.mark.parametrize(
    "table", ['ignore = ["CL"]', 'select = ["CL101"]\nignore = ["CL101"]', 'select = ["CL1"]\nignore = ["CL10"]']
)
def test_a_configuration_leaving_no_rule_enabled_is_an_error(closelint, tmp_path: Path, table: str) -> None:
    write(tmp_path, "pyproject.toml", f"[tool.closelint]\n{table}\n")
    write(tmp_path, "leak.py")
    assert_one_error(check(closelint, tmp_path), "no rule enabled")


def test_ignoring_every_rule_on_the_command_line_is_an_error(closelint, tmp_path: Path) -> None:
    write(tmp_path, "leak.py")
    assert_one_error(check(closelint, tmp_path, "--ignore", "CL"), "no rule enabled")
    kept = check(closelint, tmp_path, "--select", "CL101,CL201", "--ignore", "CL201")
    assert kept.code == 1 and kept.findings[0].startswith("leak.py" + LEAK_AT)


def test_excluding_every_file_warns_instead_of_passing(closelint, tmp_path: Path) -> None:
    write(tmp_path, "pyproject.toml", '[tool.closelint]\nexclude = ["*"]\n')
    write(tmp_path, "leak.py")
    outcome = closelint(tmp_path, "check")
    assert outcome.code == 0 and "All checks passed" not in outcome.out
    assert outcome.warnings == ["closelint: warning: no Python file found under the given paths"]


@pytest.mark.parametrize(
    ("table", "key"),
    [('select = "CL101"', "select"), ('per-file-ignores = {"*" = "CL101"}', "per-file-ignores.*")],
)
def test_a_string_where_a_list_is_required_is_an_error(closelint, tmp_path: Path, table: str, key: str) -> None:
    write(tmp_path, "pyproject.toml", f"[tool.closelint]\n{table}\n")
    write(tmp_path, "leak.py")
    assert_one_error(check(closelint, tmp_path), f"{key} must be a list of strings")


@pytest.mark.parametrize("kind", ["fifo", "dev-zero", "directory", "self-link", "unreadable"])
def test_an_unusable_pyproject_is_an_error(closelint, tmp_path: Path, kind: str) -> None:
    write(tmp_path, "leak.py")
    config = tmp_path / "pyproject.toml"
    if kind == "fifo":
        os.mkfifo(config)
    elif kind == "dev-zero":
        config.symlink_to("/dev/zero")
    elif kind == "directory":
        config.mkdir()
    elif kind == "self-link":
        config.symlink_to("pyproject.toml")
    else:
        write(tmp_path, "pyproject.toml", '[tool.closelint]\nignore = ["CL101"]\n').chmod(0)
    outcome = check(closelint, tmp_path, drop=kind == "unreadable")
    assert not outcome.findings
    assert_one_error(outcome, "pyproject.toml")


# --- everything at once -----------------------------------------------------------------------------------


def build_hostile_tree(root: Path, outside: Path) -> list[str]:
    """Every hostile entry above in one tree, plus ordinary files; returns the ordinary files' findings."""
    git_work_tree(root)
    write(root, ".gitignore", "ignored/\n")
    write(root, "ignored/leak.py")
    write(outside, "secret.py", f'"""{SECRET}"""\n' + LEAK)
    (root / "stolen.py").symlink_to(outside / "secret.py")
    (root / "zero.py").symlink_to("/dev/zero")
    os.mkfifo(root / "fifo.py")
    with open(root / "huge.py", "wb") as handle:
        handle.truncate(MAX_FILE_BYTES + 1)
    (root / ".closelint_cache").symlink_to(outside)
    write(root, "deep.py", DEEP_SUM + LEAK.replace("import socket\n", "", 1))
    write(root, "nested.py", DEEP_NESTING)
    write(root, "closed/leak.py")
    (root / os.fsdecode(b"caf\xff.py")).write_text("x = 1\n", encoding="utf-8")
    write(root, "new\nline.py", "x = 2\n")
    write(root, "syntax.py", "def f(:\n")
    write(root, "pkg/leak.py")
    write(root, "pkg/server.py", FIXABLE)
    write(root, "pkg/clean.py", "import socket\n\nwith socket.socket() as s:\n    pass\n")
    return ["deep.py:CL101", "pkg/leak.py:CL101", "pkg/server.py:CL102", "pkg/server.py:CL201", "syntax.py:CL000"]


def reported(output_format: str, out: str) -> set[str]:
    """`path:CODE` of every finding in a report of the given format."""
    if output_format in ("concise", "full"):
        return {f"{line.split(':')[0]}:{line.split(': ')[1].split()[0]}" for line in out.splitlines() if ": CL" in line}
    if output_format == "github":
        fields = [
            dict(item.split("=", 1) for item in line.split("::")[1].split(" ", 1)[1].split(","))
            for line in out.splitlines()
        ]
        return {f"{f['file']}:{f['title']}" for f in fields}
    report = json.loads(out)
    if output_format == "json":
        return {f"{item['filename']}:{item['code']}" for item in report}
    if output_format == "gitlab":
        return {f"{item['location']['path']}:{item['check_name'].split()[0]}" for item in report}
    results = report["runs"][0]["results"]  # sarif
    return {f"{r['locations'][0]['physicalLocation']['artifactLocation']['uri']}:{r['ruleId']}" for r in results}


@pytest.mark.parametrize("output_format", ["concise", "full", "json", "sarif", "gitlab", "github"])
def test_never_crash_on_a_tree_holding_everything(closelint, tmp_path: Path, output_format: str) -> None:
    root, outside = tmp_path / "tree", tmp_path / "outside"
    expected = build_hostile_tree(root, outside)
    before = sorted(outside.iterdir())
    (root / "closed").chmod(0)
    try:
        outcome = closelint(root, "check", "--output-format", output_format, ".", drop=True)
    finally:
        (root / "closed").chmod(0o755)
    assert sorted(outside.iterdir()) == before
    assert SECRET not in outcome.out + outcome.err
    assert outcome.code == 2
    assert reported(output_format, outcome.out) == set(expected)
    messages = "\n".join(outcome.errors)
    for problem in ("fifo.py", "huge.py", "closed"):
        assert problem in messages
    assert not (tmp_path / "fsmonitor-ran").exists()
    assert stat.S_ISLNK(os.lstat(root / ".closelint_cache").st_mode)
