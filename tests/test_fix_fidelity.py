"""What `--fix` must never lose or break: comments, line endings, a concurrent edit, links, owners, names."""

from __future__ import annotations

import ast
import os
import subprocess
import sys
import tempfile
from pathlib import Path

import pytest

from closelint.cli import main
from closelint.config import Settings
from closelint.engine import lint_source
from closelint.fixer import fix_text, with_edits

SERVER = "import socket\n\n\ndef reply(srv):\n    conn, _ = srv.accept()\n    conn.sendall(b'bye')\n    conn.close()\n"
FIXED = (
    "import socket\n\nfrom closelint_graceful import graceful_close\n\n\ndef reply(srv):\n"
    "    conn, _ = srv.accept()\n    conn.sendall(b'bye')\n    graceful_close(conn)\n"
)
TEARDOWN = Settings(select=("CL2",))


def _fix(tmp_path: Path, name: str, data: bytes, monkeypatch: pytest.MonkeyPatch, *extra: str) -> int:
    (tmp_path / name).write_bytes(data)
    monkeypatch.chdir(tmp_path)
    return main(["check", "--fix", "--quiet", "--no-cache", "--select", "CL2", *extra, name])


# --- comments and bytes -----------------------------------------------------------------------------------


def test_comments_of_an_absorbed_shutdown_and_of_the_close_survive() -> None:
    source = (
        "import socket\n\n\ndef reply(srv):\n    conn, _ = srv.accept()\n    conn.sendall(b'bye')\n"
        "    # the reply is complete\n    conn.shutdown(socket.SHUT_RDWR)  # no more from us\n"
        "    conn.close()  # bye\n"
    )
    fixed = fix_text(source, "a.py", TEARDOWN).fixed
    assert fixed.endswith("    # the reply is complete\n    # no more from us\n    graceful_close(conn)  # bye\n"), (
        fixed
    )


def test_comments_survive_the_with_conversion() -> None:
    source = (
        "import socket\n\n\ndef fetch(addr):\n    s = socket.create_connection(addr)  # metrics port\n"
        "    data = s.recv(10)\n    # release it\n    s.close()  # done with it\n    return data\n"
    )
    fixed = fix_text(source, "a.py", Settings(select=("CL102",)), unsafe=True).fixed
    assert "    with socket.create_connection(addr) as s:  # metrics port\n" in fixed
    assert "# release it" in fixed and "# done with it" in fixed
    ast.parse(fixed)


def test_cr_only_line_endings_and_the_final_newline_are_kept(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    assert _fix(tmp_path, "a.py", SERVER.replace("\n", "\r").encode(), monkeypatch) == 0
    assert (tmp_path / "a.py").read_bytes() == FIXED.replace("\n", "\r").encode()


def test_crlf_bom_and_no_final_newline_together(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    source = b"\xef\xbb\xbf" + SERVER.rstrip("\n").replace("\n", "\r\n").encode()
    assert _fix(tmp_path, "a.py", source, monkeypatch) == 0
    assert (tmp_path / "a.py").read_bytes() == b"\xef\xbb\xbf" + FIXED.rstrip("\n").replace("\n", "\r\n").encode()


# --- what is on disk ----------------------------------------------------------------------------------------


def test_an_edit_saved_while_fixing_is_never_overwritten(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch, capsys: pytest.CaptureFixture[str]
) -> None:
    import closelint.fixer

    edited = SERVER + "\n\nEDITED = True\n"
    real = closelint.fixer.fix_text

    def fix_while_someone_saves(*args: object, **kwargs: object) -> closelint.fixer.FixResult:
        (tmp_path / "a.py").write_text(edited)
        return real(*args, **kwargs)  # type: ignore[arg-type]

    monkeypatch.setattr(closelint.fixer, "fix_text", fix_while_someone_saves)
    assert _fix(tmp_path, "a.py", SERVER.encode(), monkeypatch) == 1
    assert (tmp_path / "a.py").read_text() == edited
    assert "changed while it was being fixed" in capsys.readouterr().err
    assert [p.name for p in tmp_path.iterdir() if p.name != ".closelint_cache"] == ["a.py"]


def test_a_symlink_inside_the_tree_stays_a_symlink_and_its_target_is_fixed(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    (tmp_path / "real").mkdir()
    target = tmp_path / "real" / "server.py"
    target.write_text(SERVER)
    (tmp_path / "link.py").symlink_to(Path("real") / "server.py")
    monkeypatch.chdir(tmp_path)
    assert main(["check", "--fix", "--quiet", "--no-cache", "--select", "CL2", "link.py"]) == 0
    assert (tmp_path / "link.py").is_symlink()
    assert target.read_text() == FIXED


def test_a_symlink_leaving_the_tree_is_skipped(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch, capsys: pytest.CaptureFixture[str]
) -> None:
    outside = tmp_path / "outside"
    tree = tmp_path / "tree"
    outside.mkdir()
    tree.mkdir()
    (outside / "server.py").write_text(SERVER)
    (tree / "link.py").symlink_to(outside / "server.py")
    monkeypatch.chdir(tree)  # named on the command line, the link is linted; its target is not written
    assert main(["check", "--fix", "--quiet", "--no-cache", "--select", "CL2", "link.py"]) == 1
    assert (outside / "server.py").read_text() == SERVER
    assert (tree / "link.py").is_symlink()
    assert "outside the tree" in capsys.readouterr().err


def test_the_edits_shown_are_never_read_through_a_link_out_of_the_tree(tmp_path: Path) -> None:
    outside = tmp_path / "outside"
    outside.mkdir()
    (outside / "server.py").write_text(SERVER)
    tree = tmp_path / "tree"
    tree.mkdir()
    link = tree / "server.py"
    link.symlink_to(outside / "server.py")
    [through_link] = with_edits(lint_source(SERVER, str(link), TEARDOWN).violations, TEARDOWN, {str(link): str(tree)})
    assert through_link.fix is not None and through_link.fix.edits == ()
    [named] = with_edits(lint_source(SERVER, str(outside / "server.py"), TEARDOWN).violations, TEARDOWN, {})
    assert named.fix is not None and named.fix.edits  # the same file, named where it is, gets its edits


@pytest.mark.skipif(not hasattr(os, "geteuid") or os.geteuid() != 0, reason="only root can give a file away")
def test_owner_and_mode_are_kept(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    path = tmp_path / "a.py"
    path.write_text(SERVER)
    os.chown(path, 12345, 23456)
    path.chmod(0o640)
    monkeypatch.chdir(tmp_path)
    assert main(["check", "--fix", "--quiet", "--no-cache", "--select", "CL2", "a.py"]) == 0
    info = path.stat()
    assert (info.st_uid, info.st_gid, info.st_mode & 0o7777) == (12345, 23456, 0o640)
    assert path.read_text() == FIXED


def test_a_fix_that_does_not_clear_its_finding_is_held_back(monkeypatch: pytest.MonkeyPatch) -> None:
    import closelint.fixes

    monkeypatch.setattr(closelint.fixes, "apply_fixes", lambda text, *_: "# touched\n" + text)
    result = fix_text(SERVER, "a.py", TEARDOWN)
    assert not result.changed and result.applied == 0
    assert result.error and "would not clear its finding" in result.error


def test_only_the_fix_that_does_not_clear_its_finding_is_held_back(monkeypatch: pytest.MonkeyPatch) -> None:
    import closelint.fixes

    real = closelint.fixes.apply_fixes
    two = SERVER + CALLER.replace("def reply", "def stuck").replace("conn", "peer")  # its close: line 13
    monkeypatch.setattr(
        closelint.fixes,
        "apply_fixes",
        lambda text, found, *rest: real(text, [v for v in found if "'peer'" not in v.message], *rest),
    )
    result = fix_text(two, "a.py", TEARDOWN)
    assert result.applied == 1 and "    graceful_close(conn)\n" in result.fixed and "    peer.close()\n" in result.fixed
    assert result.error == "a.py:13:5: CL201 fix not applied: it would not clear its finding"


# --- the name of the inserted call ----------------------------------------------------------------------------

CALLER = "\n\ndef reply(srv):\n    conn, _ = srv.accept()\n    conn.sendall(b'bye')\n    conn.close()\n"


@pytest.mark.parametrize(
    "taken",
    [
        "def graceful_close(sock):\n    sock.close()\n",
        "from mylib.net import graceful_close\n",
        "class graceful_close:\n    pass\n",
        "def other(graceful_close):\n    return graceful_close\n",
        "def other():\n    graceful_close = print\n    return graceful_close\n",
        "graceful_close = None\n",
    ],
    ids=["def", "import", "class", "parameter", "local", "global"],
)
def test_the_inserted_call_never_captures_or_shadows_another_graceful_close(taken: str) -> None:
    source = "import socket\n" + taken + CALLER
    fixed = fix_text(source, "a.py", TEARDOWN).fixed
    assert "from closelint_graceful import graceful_close as graceful_close_\n" in fixed
    assert fixed.endswith("    graceful_close_(conn)\n")
    assert taken in fixed  # the module's own name is untouched
    assert fix_text(fixed, "a.py", TEARDOWN).fixed == fixed


def test_an_existing_alias_of_the_helper_is_reused() -> None:
    source = (
        "import socket\n\nfrom closelint_graceful import graceful_close as linger\n\n"
        "def graceful_close(x):\n    return x\n" + CALLER
    )
    fixed = fix_text(source, "a.py", TEARDOWN).fixed
    assert fixed == source.replace("    conn.close()\n", "    linger(conn)\n")


def test_the_alias_is_free_in_the_whole_module() -> None:
    source = "import socket\n\ndef graceful_close(x):\n    graceful_close_ = x\n    return graceful_close_\n" + CALLER
    fixed = fix_text(source, "a.py", TEARDOWN).fixed
    assert "import graceful_close as graceful_close_1\n" in fixed and "    graceful_close_1(conn)\n" in fixed


# --- applicability is said --------------------------------------------------------------------------------------


def test_diff_says_why_a_fix_was_held_back(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch, capsys: pytest.CaptureFixture[str]
) -> None:
    (tmp_path / "a.py").write_text("import socket\n\n\ndef reply(conn):\n    conn.sendall(b'bye')\n    conn.close()\n")
    monkeypatch.chdir(tmp_path)
    assert main(["check", "--diff", "--no-cache", "--select", "CL2", "a.py"]) == 0
    err = capsys.readouterr().err
    assert "a.py:6:5: CL201 fix not applied (unsafe, applied with --unsafe-fixes): " in err
    assert "comes from the caller" in err


def test_a_display_only_fix_is_shown_but_never_applied(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch, capsys: pytest.CaptureFixture[str]
) -> None:
    source = (
        "import socket\n\n\ndef ask(addr):\n    sock = socket.create_connection(addr)\n"
        "    reader = sock.makefile('rb')\n    sock.sendall(b'GET')\n    sock.close()\n    return reader.read()\n"
    )
    (tmp_path / "a.py").write_text(source)
    monkeypatch.chdir(tmp_path)
    main(["check", "--fix", "--unsafe-fixes", "--no-cache", "--select", "CL2", "--show-fixes", "a.py"])
    out = capsys.readouterr().out
    assert (tmp_path / "a.py").read_text() == source
    assert "[display-only]" in out and "makefile() object of 'sock' is not proven closed first" in out


def test_display_only_wins_over_unsafe(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    """A parameter (unsafe) closed in a selector callback (display-only): not applied by --unsafe-fixes."""
    source = (
        "import selectors\nimport socket\n\nselector = selectors.DefaultSelector()\n\n\n"
        "def on_readable(conn):\n    conn.sendall(conn.recv(100))\n    conn.close()\n\n\n"
        "def watch(conn):\n    selector.register(conn, selectors.EVENT_READ, on_readable)\n"
    )
    fixed = fix_text(source, "a.py", TEARDOWN, unsafe=True)
    assert not fixed.changed
    (finding,) = fixed.remaining
    assert finding.fix is not None and finding.fix.applicability.value == "display-only"
    assert "comes from the caller" in finding.fix.reason and "callback" in finding.fix.reason


MONKEY_PATCHED = Path(__file__).parent / "fixtures" / "fixes" / "cl201_monkey_patched_not_fixed.py"


def test_a_monkey_patched_module_gets_no_safe_fix_and_says_why(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch, capsys: pytest.CaptureFixture[str]
) -> None:
    (tmp_path / "a.py").write_bytes(MONKEY_PATCHED.read_bytes())
    monkeypatch.chdir(tmp_path)
    main(["check", "--diff", "--no-cache", "--select", "CL201", "a.py"])
    err = capsys.readouterr().err
    assert err.count("CL201 fix not applied (unsafe, applied with --unsafe-fixes): the module imports gevent") == 2


def test_the_helper_import_goes_below_the_monkey_patching() -> None:
    """With --unsafe-fixes the helper (which imports socket, ssl and selectors) is imported only after
    patch_all(), in the import block below it, sorted as ruff wants."""
    source = MONKEY_PATCHED.read_text(encoding="utf-8")
    fixed = fix_text(source, "a.py", TEARDOWN, unsafe=True).fixed
    lines = fixed.splitlines()
    assert lines.index("from closelint_graceful import graceful_close") > lines.index("monkey.patch_all()")
    assert _sorted_as_ruff_wants(fixed.encode()), fixed


def test_eventlet_monkey_patching_makes_socket_socket_green() -> None:
    """The fact behind the rule above, observed: after eventlet.monkey_patch(), socket.socket() is no
    standard socket (the interpreter is a child, so this process stays unpatched)."""
    pytest.importorskip("eventlet")
    probe = (
        "import eventlet\neventlet.monkey_patch()\nimport socket\n"
        "with socket.socket() as s:\n    print(type(s).__module__)\n"
    )
    completed = subprocess.run([sys.executable, "-c", probe], capture_output=True, text=True, timeout=60, check=True)
    assert completed.stdout.strip().startswith("eventlet."), completed.stdout


EVENT_LOOP_CLOSES = """\
import asyncore
import selectors
import socket

selector = selectors.DefaultSelector()


def push(addr, data):
    s = socket.create_connection(addr)
    s.setblocking(False)
    s.sendall(data)
    s.close()


class Relay(asyncore.dispatcher):
    def handle_read(self):
        conn, _ = self.accept()
        conn.sendall(b"x")
        conn.close()


def on_readable(listener):
    conn, _ = listener.accept()
    conn.sendall(b"x")
    conn.close()


def watch(listener):
    selector.register(listener, selectors.EVENT_READ, on_readable)


def loop(listener):
    while True:
        for key, _ in selector.select():
            conn, _ = listener.accept()
            conn.sendall(b"x")
            conn.close()
"""


def test_a_close_on_an_event_loop_says_which_loop_it_would_block() -> None:
    blocks = ": the drain would block the whole loop for up to its timeout"
    reasons = {
        v.line: v.fix.reason for v in lint_source(EVENT_LOOP_CLOSES, "a.py", TEARDOWN).violations if v.fix is not None
    }
    assert reasons == {
        12: "'s' is a non-blocking socket" + blocks,
        19: "'handle_read' is called by an event loop (Relay is a protocol/dispatcher)" + blocks,
        25: "'on_readable' is registered as an event-loop or selector callback" + blocks,
        37: "the close runs inside a selector loop" + blocks,
    }


def test_a_finally_fix_held_back_for_a_rebound_sys_says_why(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch, capsys: pytest.CaptureFixture[str]
) -> None:
    source = (
        "import socket\nimport os as sys\n\n\ndef serve(listener):\n    conn, _ = listener.accept()\n"
        "    try:\n        conn.sendall(b'hi')\n    finally:\n        conn.close()\n"
    )
    (tmp_path / "a.py").write_text(source)
    monkeypatch.chdir(tmp_path)
    main(["check", "--diff", "--no-cache", "--select", "CL2", "a.py"])
    assert "CL201 fix not applied (display-only): `sys` is bound to something other than" in capsys.readouterr().err
    main(["check", "--fix", "--unsafe-fixes", "--no-cache", "--select", "CL2", "a.py"])
    assert (tmp_path / "a.py").read_text() == source


# --- imports where the sorters want them ------------------------------------------------------------------

FIX_PAIRS = sorted((Path(__file__).parent / "fixtures" / "fixes").glob("*.py"))


def _sorted_as_ruff_wants(source: bytes) -> bool:
    """ruff's import sorting (I001, default settings) has nothing to say about `source`."""
    ruff = [sys.executable, "-m", "ruff", "check", "--isolated", "--select", "I", "--stdin-filename", "mod.py", "-"]
    # ruff takes packages under the working directory's `src/` as first-party: run it where there are none
    with tempfile.TemporaryDirectory() as empty:
        completed = subprocess.run(ruff, input=source, capture_output=True, timeout=60, check=False, cwd=empty)
    return completed.returncode == 0


#: pairs whose input has its own imports out of ruff's order (nothing to keep there)
UNSORTED_INPUTS = {"cl201_proven_closed_files_fixed.py", "cl201_star_import_alias.py"}


@pytest.mark.parametrize("before", [p for p in FIX_PAIRS if p.name not in UNSORTED_INPUTS], ids=lambda p: p.name)
def test_an_import_the_fixes_add_keeps_the_imports_sorted(before: Path) -> None:
    """What `--fix` leaves (the `.fixed` of each pair) passes ruff's I001 wherever the input did."""
    assert _sorted_as_ruff_wants(before.read_bytes()), "its input is unsorted: list it in UNSORTED_INPUTS"
    assert _sorted_as_ruff_wants(before.with_suffix(".fixed").read_bytes())


def test_the_unsorted_inputs_are_unsorted() -> None:
    for name in UNSORTED_INPUTS:
        assert not _sorted_as_ruff_wants((FIX_PAIRS[0].parent / name).read_bytes()), name


@pytest.mark.parametrize(
    ("existing", "alias"),
    [
        ("from closelint_graceful import (\n    Zeta,\n    graceful,\n    zz,\n)\n", None),
        ("from closelint_graceful import (\n    zz,\n)\n", None),
        ("from closelint_graceful import VERSION, zz  # pinned\n", None),
        ("from closelint_graceful import graceful as g\n", None),
        ("from closelint_graceful import zzz\n", "graceful_close_"),
    ],
    ids=["parenthesized", "one-per-line", "constants-first", "as-import-apart", "alias-apart"],
)
def test_the_helper_import_joins_existing_imports_as_ruff_sorts_them(existing: str, alias: str | None) -> None:
    import libcst

    from closelint.import_placement import add_import

    source = f"import os\n\n{existing}"
    assert _sorted_as_ruff_wants(source.encode())
    added = add_import(libcst.parse_module(source), "closelint_graceful", None, "graceful_close", alias).code
    assert "graceful_close" in added and _sorted_as_ruff_wants(added.encode()), added


def test_a_green_socket_is_named_as_imported_in_the_reason() -> None:
    """The reason names the green factory the code calls, not the standard one it is read as."""
    source = (Path(__file__).parent / "fixtures" / "fixes" / "cl201_green_socket_not_fixed.py").read_text()
    (finding,) = [v for v in lint_source(source, "a.py", TEARDOWN).violations if v.fix is not None]
    assert finding.fix is not None and finding.fix.reason is not None
    assert "'conn' is not proven to be a plain socket.socket (it comes from gevent.socket.create_connection())" in (
        finding.fix.reason
    )
