"""The machine formats bots and CI read, checked against what their consumers expect.

SARIF against the official 2.1.0 schema, GitHub workflow commands parsed back the way the runner reads them,
the JSON output against `docs/json-output.schema.json`, GitLab code quality and reviewdog's rdjson by their
documented fields; `--statistics`, `--show-fixes` and `--exit-zero`. Fixes are hand-built where the rules
have none yet.
"""

from __future__ import annotations

import json
import re
from pathlib import Path
from typing import Any

import pytest

from closelint.cli import main
from closelint.model import Applicability, Edit, Fix, Violation
from closelint.output import OutputContext, formats, relative_path
from closelint.registry import all_rules
from closelint.statistics import render_fixes, render_statistics

jsonschema = pytest.importorskip("jsonschema")

ROOT = Path(__file__).resolve().parents[1]
SARIF_SCHEMA = ROOT / "tests" / "data" / "sarif-schema-2.1.0.json"
JSON_SCHEMA = ROOT / "docs" / "json-output.schema.json"

LEAK = 'import socket\n\n\ndef f():\n    s = socket.socket()\n    s.connect(("h", 1))\n'
TWO_LEAKS = (
    "import socket\n\n\n"
    'def leak():\n    s = socket.socket()\n    s.connect(("h", 1))\n\n\n'
    'def leak_on_error():\n    s = socket.socket()\n    s.connect(("h", 1))\n    s.close()\n'
)
# 'é' is two bytes in UTF-8: the call is at character column 19, byte column 21 (both 1-based)
NON_ASCII_LEAK = 'import socket\n\n\ndef f():\n    x = "\u00e9\u00e9"; s = socket.socket()\n    s.connect(("h", 1))\n'
# one finding with a safe fix (CL201 at 9:9, close() after sending) and one without (CL101 at 13:9)
FIXABLE_AND_NOT = (
    "import socket\n\n\n"
    'def send(data):\n    s = socket.create_connection(("h", 1))\n'
    "    try:\n        s.sendall(data)\n    finally:\n        s.close()\n\n\n"
    'def leak():\n    s = socket.socket()\n    s.connect(("h", 1))\n'
)
#: the edits of the CL201 fix in FIXABLE_AND_NOT: the imports, and the close in `finally` replaced on the
#: normal path only
HELPER_IMPORT = "import sys\n\nfrom closelint_graceful import graceful_close\n"
GRACEFUL_LINE = (
    "        if sys.exc_info()[1] is None:\n            graceful_close(s)\n        else:\n            s.close()\n"
)
SYNTAX_ERROR = "def (:\n"
CLEAN = 'import socket\n\n\ndef f():\n    with socket.socket() as s:\n        s.connect(("h", 1))\n'

# Hand-built fixes (the rules have none yet); the codes are registered ones, the fixes are made up.
SAFE_EDIT = Edit((9, 8), (9, 17), "graceful_close(s)")
SAFE_FIX = Fix(Applicability.SAFE, "replace close() with graceful_close(s)", "graceful", edits=(SAFE_EDIT,))
UNSAFE_FIX = Fix(Applicability.UNSAFE, "move close() into a finally block")  # no edits computed
FIXED = Violation("send.py", 9, 8, "CL102", "socket 's' leaks if an exception is raised", 9, 17, SAFE_FIX)
FIXED_NO_EDITS = Violation("send.py", 5, 8, "CL101", "socket 's' is not closed on every path", 5, 42, UNSAFE_FIX)


#: the rules the expected findings below come from; rules added later must not change them
PINNED = '[tool.closelint]\nselect = ["CL101", "CL102"]\n'


@pytest.fixture(autouse=True)
def in_tmp(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> Path:
    monkeypatch.chdir(tmp_path)
    write("pyproject.toml", PINNED)
    return tmp_path


def write(relative: str, content: str) -> Path:
    path = Path(relative)
    path.parent.mkdir(parents=True, exist_ok=True)
    path.write_text(content, encoding="utf-8", newline="")
    return path


def check(capsys: pytest.CaptureFixture[str], *argv: str) -> tuple[int, str]:
    """`closelint check *argv` in-process: exit status and stdout (stderr must be empty)."""
    code = main(["check", *argv])
    captured = capsys.readouterr()
    assert captured.err == "", captured.err
    return code, captured.out


def project() -> None:
    """Two leaks, a file that does not parse and a clean file: the findings are `PROJECT_FINDINGS`."""
    write("pkg/leaks.py", TWO_LEAKS)
    write("pkg/broken.py", SYNTAX_ERROR)
    write("clean.py", CLEAN)


#: (file, line, column, end line, end column, code, level) of what `project()` holds, 1-based columns
PROJECT_FINDINGS = [
    ("pkg/broken.py", 1, 5, 1, 5, "CL000", "error"),
    ("pkg/leaks.py", 5, 9, 5, 24, "CL101", "warning"),
    ("pkg/leaks.py", 10, 9, 10, 24, "CL102", "warning"),
]


def fixable_and_not() -> None:
    """`send.py` with `FIXABLE_AND_NOT`, linted with every rule."""
    Path("pyproject.toml").unlink()
    write("send.py", FIXABLE_AND_NOT)


def render(name: str, *violations: Violation, sources: dict[str, str] | None = None) -> str:
    return formats()[name](list(violations), OutputContext(sources=sources or {}))


def validate(instance: Any, schema: dict[str, Any]) -> None:
    """Fail with every schema violation listed."""
    cls = jsonschema.validators.validator_for(schema)
    cls.check_schema(schema)
    validator = cls(schema, format_checker=cls.FORMAT_CHECKER)
    errors = [f"{'/'.join(map(str, e.absolute_path))}: {e.message}" for e in validator.iter_errors(instance)]
    assert not errors, "\n".join(errors)


# --- discovery --------------------------------------------------------------------------------------------


def test_every_format_is_a_discovered_module() -> None:
    assert {"full", "concise", "json", "sarif", "github", "gitlab", "rdjson"} <= set(formats())


@pytest.mark.parametrize("name", sorted(formats()))
def test_every_format_renders_the_same_findings(capsys, name: str) -> None:
    project()
    code, out = check(capsys, "--output-format", name, "--quiet")
    assert code == 1
    for filename, line, _, _, _, code_, _ in PROJECT_FINDINGS:  # each finding's file, line and code appear
        assert code_ in out
        assert Path(filename).name in out
        assert str(line) in out


# --- SARIF ------------------------------------------------------------------------------------------------


@pytest.fixture(scope="module")
def sarif_schema() -> dict[str, Any]:
    schema: dict[str, Any] = json.loads(SARIF_SCHEMA.read_text(encoding="utf-8"))
    return schema


def sarif_run(capsys, expected_exit: int, *argv: str) -> dict[str, Any]:
    """The SARIF log of `closelint check --output-format sarif *argv`, which must exit with `expected_exit`."""
    code, out = check(capsys, "--output-format", "sarif", *argv)
    assert code == expected_exit
    log: dict[str, Any] = json.loads(out)
    return log


def test_sarif_with_findings_and_a_parse_error_validates(capsys, sarif_schema) -> None:
    project()
    log = sarif_run(capsys, 1)
    [run] = log["runs"]
    validate(log, sarif_schema)
    assert log["version"] == "2.1.0"
    results = run["results"]
    assert [(r["ruleId"], r["level"]) for r in results] == [
        ("CL000", "error"),
        ("CL101", "warning"),
        ("CL102", "warning"),
    ]
    location = results[1]["locations"][0]["physicalLocation"]
    assert location["artifactLocation"] == {"uri": "pkg/leaks.py", "uriBaseId": "%SRCROOT%"}
    assert location["region"] == {"startLine": 5, "startColumn": 9, "endLine": 5, "endColumn": 24}
    assert run["originalUriBaseIds"]["%SRCROOT%"]["uri"] == Path.cwd().as_uri().rstrip("/") + "/"
    rules = run["tool"]["driver"]["rules"]
    for result in results:
        assert rules[result["ruleIndex"]]["id"] == result["ruleId"]


def _fingerprints(capsys: pytest.CaptureFixture[str]) -> list[tuple[int, str]]:
    results = sarif_run(capsys, 1, "pkg")["runs"][0]["results"]
    return [
        (r["locations"][0]["physicalLocation"]["region"]["startLine"], r["partialFingerprints"]["closelintLineHash/v1"])
        for r in results
    ]


def test_sarif_fingerprints_follow_a_finding_across_edits_elsewhere(capsys, sarif_schema) -> None:
    write("pkg/leaks.py", TWO_LEAKS)
    validate(sarif_run(capsys, 1, "pkg"), sarif_schema)
    before = _fingerprints(capsys)
    write("pkg/leaks.py", "# a comment\n\n" + TWO_LEAKS.replace("def leak", "def  leak"))
    after = _fingerprints(capsys)
    assert [line + 2 for line, _ in before] == [line for line, _ in after]  # the findings moved down
    assert [f for _, f in before] == [f for _, f in after]  # and are still the same findings
    assert len({f for _, f in before}) == 2


def test_sarif_fingerprints_tell_identical_lines_apart(capsys) -> None:
    write(
        "pkg/leaks.py",
        TWO_LEAKS.replace(
            "def leak_on_error():\n    s = socket.socket()\n    s.connect",
            "def leak2():\n    s = socket.socket()\n    s.connect",
        ).replace("    s.close()\n", ""),
    )
    prints = [f for _, f in _fingerprints(capsys)]
    assert len(prints) == 2 and prints[0] != prints[1]
    assert prints[0].split(":")[0] == prints[1].split(":")[0]  # same line text, told apart by occurrence


def test_sarif_describes_every_rule(capsys) -> None:
    write("clean.py", CLEAN)
    driver = sarif_run(capsys, 0)["runs"][0]["tool"]["driver"]
    assert driver["name"] == "closelint"
    assert "informationUri" not in driver  # no home page to point at: no made-up URL
    assert driver["version"]
    described = {rule["id"]: rule for rule in driver["rules"]}
    assert set(described) == {"CL000", "CL001", *all_rules()}
    for code, cls in all_rules().items():
        rule = described[code]
        assert rule["name"] == cls.name
        assert rule["shortDescription"]["text"] and rule["fullDescription"]["text"].startswith(cls.summary)
        assert "helpUri" not in rule and rule["help"]["markdown"].startswith(f"## {code} {cls.name}")
        assert rule["defaultConfiguration"] == {"level": "warning"}
    assert described["CL000"]["defaultConfiguration"] == {"level": "error"}


def test_sarif_of_an_empty_run_validates(capsys, sarif_schema) -> None:
    write("clean.py", CLEAN)
    log = sarif_run(capsys, 0)
    validate(log, sarif_schema)
    assert log["runs"][0]["results"] == []


def test_sarif_fixes_carry_the_edits(sarif_schema) -> None:
    log = json.loads(render("sarif", FIXED, FIXED_NO_EDITS))
    validate(log, sarif_schema)
    with_edits, without_edits = log["runs"][0]["results"]
    [fix] = with_edits["fixes"]
    assert "graceful_close" in fix["description"]["text"]
    [change] = fix["artifactChanges"]
    assert change["artifactLocation"]["uri"] == "send.py"
    assert change["replacements"] == [
        {
            "deletedRegion": {"startLine": 9, "startColumn": 9, "endLine": 9, "endColumn": 18},
            "insertedContent": {"text": "graceful_close(s)"},
        }
    ]
    assert "fixes" not in without_edits  # SARIF requires at least one artifact change


def test_sarif_fixes_from_the_command_line(capsys, sarif_schema) -> None:
    fixable_and_not()
    log = sarif_run(capsys, 0, "--exit-zero")
    validate(log, sarif_schema)
    fixed, unfixed = log["runs"][0]["results"]
    assert (fixed["ruleId"], unfixed["ruleId"]) == ("CL201", "CL101")
    assert "fixes" not in unfixed
    [fix] = fixed["fixes"]
    assert fix["description"]["text"] == (
        "Replace `s.close()` with `graceful_close(s)` on the normal path (the error path keeps the plain close)"
        " (safe fix)"
    )
    [change] = fix["artifactChanges"]
    assert change["artifactLocation"]["uri"] == "send.py"
    assert change["replacements"] == [
        {
            "deletedRegion": {"startLine": 2, "startColumn": 1, "endLine": 2, "endColumn": 1},
            "insertedContent": {"text": HELPER_IMPORT},
        },
        {
            "deletedRegion": {"startLine": 9, "startColumn": 1, "endLine": 10, "endColumn": 1},
            "insertedContent": {"text": GRACEFUL_LINE},
        },
    ]


def test_sarif_uris_are_relative_and_escaped_or_absolute_outside(tmp_path: Path, sarif_schema) -> None:
    inside = Violation("dir with space/a%b.py", 1, 0, "CL101", "m", 1, 1)
    outside = Violation(str(tmp_path.parent / "elsewhere.py"), 1, 0, "CL101", "m", 1, 1)
    log = json.loads(render("sarif", inside, outside))
    validate(log, sarif_schema)
    locations = [r["locations"][0]["physicalLocation"]["artifactLocation"] for r in log["runs"][0]["results"]]
    assert locations == [
        {"uri": "dir%20with%20space/a%25b.py", "uriBaseId": "%SRCROOT%"},
        {"uri": (tmp_path.parent / "elsewhere.py").as_uri()},
    ]


# --- GitHub workflow commands -----------------------------------------------------------------------------

_COMMAND = re.compile(r"^::(?P<level>warning|error) (?P<properties>[^:]*)::(?P<message>.*)$")


def _unescape(text: str) -> str:
    """The inverse of the runner's escaping; '%25' last, so an escaped '%0A' stays literal."""
    for escaped, char in (("%0D", "\r"), ("%0A", "\n"), ("%3A", ":"), ("%2C", ","), ("%25", "%")):
        text = text.replace(escaped, char)
    return text


def parse_github(line: str) -> dict[str, str]:
    """One workflow command read as the Actions runner reads it: properties split on ',' then on the first '='."""
    match = _COMMAND.match(line)
    assert match, line
    properties = dict(item.split("=", 1) for item in match["properties"].split(","))
    parsed = {key: _unescape(value) for key, value in properties.items()}
    return {**parsed, "level": match["level"], "message": _unescape(match["message"])}


def test_github_commands_parse_back_to_the_findings(capsys) -> None:
    project()
    code, out = check(capsys, "--output-format", "github")
    assert code == 1
    parsed = [parse_github(line) for line in out.splitlines()]
    keys = ("file", "line", "col", "endLine", "endColumn", "title", "level")
    assert [tuple(p[k] for k in keys) for p in parsed] == [tuple(map(str, f)) for f in PROJECT_FINDINGS]
    assert [p["message"] for p in parsed] == [
        "SyntaxError: invalid syntax",
        "socket 's' is not closed on every path; use `with` or close it in `finally`",
        "socket 's' leaks if an exception is raised before it is closed; use `with` or close it in `finally`",
    ]


def test_github_escapes_properties_and_data_as_github_documents() -> None:
    path = "we,ird:dir/100%.py"
    message = "100% sure: a, b\nsecond line\r"
    [line] = render("github", Violation(path, 3, 4, "CL101", message, 3, 9)).splitlines()
    assert line == (
        "::warning file=we%2Cird%3Adir/100%25.py,line=3,col=5,endLine=3,endColumn=10,title=CL101"
        "::100%25 sure: a, b%0Asecond line%0D"
    )
    parsed = parse_github(line)
    assert (parsed["file"], parsed["line"], parsed["col"], parsed["title"], parsed["message"]) == (
        path,
        "3",
        "5",
        "CL101",
        message,
    )


def test_github_multi_line_spans_carry_lines_only() -> None:
    """GitHub ignores col/endColumn unless line == endLine: a multi-line span names its lines alone."""
    [line] = render("github", Violation("a.py", 3, 4, "CL201", "m", 5, 2)).splitlines()
    assert line == "::warning file=a.py,line=3,endLine=5,title=CL201::m"
    [one_line] = render("github", Violation("a.py", 3, 4, "CL201", "m", 3, 9)).splitlines()
    assert "col=5," in one_line and "endColumn=10," in one_line


def test_github_paths_are_relative_to_the_working_directory(tmp_path: Path) -> None:
    absolute = str(tmp_path / "pkg" / "a.py")
    [line] = render("github", Violation(absolute, 1, 0, "CL101", "m")).splitlines()
    assert parse_github(line)["file"] == "pkg/a.py"
    assert relative_path(absolute) == "pkg/a.py"


# --- JSON -------------------------------------------------------------------------------------------------


@pytest.fixture(scope="module")
def json_schema() -> dict[str, Any]:
    schema: dict[str, Any] = json.loads(JSON_SCHEMA.read_text(encoding="utf-8"))
    return schema


def test_json_output_validates_against_the_documented_schema(capsys, json_schema) -> None:
    project()
    findings = json.loads(check(capsys, "--output-format", "json")[1])
    validate(findings, json_schema)
    assert [item["code"] for item in findings] == ["CL000", "CL101", "CL102"]
    with_fixes = json.loads(render("json", FIXED, FIXED_NO_EDITS))
    validate(with_fixes, json_schema)
    assert [item["fix"]["applicability"] for item in with_fixes] == ["safe", "unsafe"]


def test_json_schema_rejects_what_the_output_never_contains(json_schema) -> None:
    [good] = json.loads(render("json", Violation("a.py", 1, 0, "CL101", "m", 1, 3)))
    for bad in ({**good, "line": 0}, {**good, "code": "E501"}, {**good, "fixable": True}, {**good, "extra": 1}):
        with pytest.raises(AssertionError):
            validate([bad], json_schema)


def test_json_output_is_identical_between_runs_and_job_counts(capsys) -> None:
    sources = (LEAK, TWO_LEAKS, CLEAN, SYNTAX_ERROR, NON_ASCII_LEAK)
    for i in range(45):  # more than one chunk of files, so --jobs 2 really runs in two processes
        write(f"pkg{i % 4}/m{i:02}.py", sources[i % len(sources)])
    runs = [check(capsys, "--output-format", "json", "--jobs", jobs) for jobs in ("1", "1", "2", "2")]
    assert all(run == runs[0] for run in runs)
    findings = json.loads(runs[0][1])
    assert len(findings) == 45
    keys = [(f["filename"], f["line"], f["column"], f["code"], f["message"]) for f in findings]
    assert keys == sorted(keys)


# --- GitLab code quality ----------------------------------------------------------------------------------


def test_gitlab_report_has_the_documented_fields(capsys) -> None:
    project()
    code, out = check(capsys, "--output-format", "gitlab")
    issues = json.loads(out)
    assert code == 1 and len(issues) == 3
    for issue in issues:
        assert set(issue) >= {"description", "check_name", "fingerprint", "severity", "location"}
        assert issue["severity"] in {"info", "minor", "major", "critical", "blocker"}
        assert issue["location"]["path"].startswith("pkg/")
        assert isinstance(issue["location"]["lines"]["begin"], int)
    assert len({issue["fingerprint"] for issue in issues}) == 3
    assert issues[1]["check_name"] == "CL101 socket-leaked"
    assert issues[1]["location"]["lines"]["begin"] == 5


def test_gitlab_fingerprints_are_unique_and_survive_moved_lines() -> None:
    twice = [Violation("a.py", line, 4, "CL101", "socket 's' leaks", line, 9) for line in (5, 9)]
    moved = [Violation("a.py", line + 10, 4, "CL101", "socket 's' leaks", line + 10, 9) for line in (5, 9)]
    before = [issue["fingerprint"] for issue in json.loads(render("gitlab", *twice))]
    after = [issue["fingerprint"] for issue in json.loads(render("gitlab", *moved))]
    assert len(set(before)) == 2
    assert before == after


# --- reviewdog rdjson -------------------------------------------------------------------------------------


def test_rdjson_counts_columns_in_utf8_bytes(capsys) -> None:
    write("enc.py", NON_ASCII_LEAK)
    result = json.loads(check(capsys, "--output-format", "rdjson")[1])
    assert result["source"]["name"] == "closelint"
    [diagnostic] = result["diagnostics"]
    assert diagnostic["location"] == {
        "path": "enc.py",
        "range": {"start": {"line": 5, "column": 21}, "end": {"line": 5, "column": 36}},
    }
    assert diagnostic["severity"] == "WARNING"
    assert diagnostic["code"]["value"] == "CL101"
    assert "url" not in diagnostic["code"]


def test_rdjson_from_the_command_line_suggests_the_fix_edits_only(capsys) -> None:
    fixable_and_not()
    code, out = check(capsys, "--output-format", "rdjson")
    assert code == 1
    fixed, unfixed = json.loads(out)["diagnostics"]
    assert (fixed["code"]["value"], unfixed["code"]["value"]) == ("CL201", "CL101")
    assert fixed["suggestions"] == [
        {"range": {"start": {"line": 2, "column": 1}, "end": {"line": 2, "column": 1}}, "text": HELPER_IMPORT},
        {"range": {"start": {"line": 9, "column": 1}, "end": {"line": 10, "column": 1}}, "text": GRACEFUL_LINE},
    ]
    assert "suggestions" not in unfixed


def test_rdjson_suggestions_come_from_the_edits() -> None:
    source = "\n" * 8 + "        s.close()\n"
    result = json.loads(render("rdjson", FIXED, FIXED_NO_EDITS, sources={"send.py": source}))
    with_edits, without_edits = result["diagnostics"]
    assert with_edits["suggestions"] == [
        {"range": {"start": {"line": 9, "column": 9}, "end": {"line": 9, "column": 18}}, "text": "graceful_close(s)"}
    ]
    assert "suggestions" not in without_edits


# --- --statistics, --show-fixes, --exit-zero --------------------------------------------------------------


def test_statistics_counts_per_code_and_keeps_the_exit_status(capsys) -> None:
    project()
    write("more.py", LEAK)
    code, out = check(capsys, "--statistics", "--quiet")
    assert code == 1
    assert out.splitlines() == [
        "2  CL101  socket-leaked",
        "1  CL000  parse-error",
        "1  CL102  socket-leaked-on-error",
    ]
    code, out = check(capsys, "--statistics", "--output-format", "json")
    assert code == 1
    assert json.loads(out)[0] == {"code": "CL101", "name": "socket-leaked", "count": 2, "fixable": 0}


def test_statistics_of_a_clean_run_is_empty(capsys) -> None:
    write("clean.py", CLEAN)
    assert check(capsys, "--statistics", "--quiet") == (0, "")


def test_statistics_show_how_many_are_fixable() -> None:
    leaks = [Violation("c.py", line, 0, "CL101", "m") for line in range(1, 11)]
    fixed = [FIXED, Violation("b.py", 2, 0, "CL102", "m", 2, 5, SAFE_FIX), FIXED_NO_EDITS]
    assert render_statistics([*leaks, *fixed]).splitlines() == [
        "11  CL101  socket-leaked",  # its only fix is unsafe: plain --fix does not apply it
        " 2  CL102  socket-leaked-on-error  [*] 2 fixable",
    ]


def test_show_fixes_lists_description_applicability_and_replacement() -> None:
    text = render_fixes([FIXED, FIXED_NO_EDITS, Violation("a.py", 1, 0, "CL101", "m")])
    assert "1 safe; 1 unsafe" in text
    assert "send.py:9:9: CL102 [safe] replace close() with graceful_close(s)" in text
    assert '9:9-9:18 -> "graceful_close(s)"' in text
    assert "send.py:5:9: CL101 [unsafe] move close() into a finally block" in text
    assert "a.py" not in text
    assert render_fixes([Violation("a.py", 1, 0, "CL101", "m")]) == ""


def test_show_fixes_follows_the_text_findings_only(capsys) -> None:
    fixable_and_not()
    plain_code, plain = check(capsys, "--output-format", "concise", "--quiet")
    shown_code, shown = check(capsys, "--output-format", "concise", "--quiet", "--show-fixes")
    assert plain_code == shown_code == 1
    assert plain.splitlines() == [line for line in shown.splitlines() if line.startswith("send.py:")][:2]
    assert shown.startswith(plain)
    fixes = shown[len(plain) :]
    assert "send.py:9:9: CL201 [safe] Replace `s.close()` with `graceful_close(s)`" in fixes
    assert f"2:1-2:1 -> {json.dumps(HELPER_IMPORT)}" in fixes and f"9:1-10:1 -> {json.dumps(GRACEFUL_LINE)}" in fixes
    assert "CL101" not in fixes  # the leak has no fix: it is a finding above, not a fix below
    for name in ("json", "sarif", "rdjson"):  # the machine formats carry the fixes themselves
        assert check(capsys, "--output-format", name, "--show-fixes") == check(capsys, "--output-format", name)


def test_exit_zero_keeps_the_output_and_exits_0(capsys) -> None:
    write("leak.py", LEAK)
    for name in sorted(formats()):
        with_findings = check(capsys, "--output-format", name, "--quiet")
        assert check(capsys, "--output-format", name, "--quiet", "--exit-zero") == (0, with_findings[1])
        assert with_findings[0] == 1 and "CL101" in with_findings[1]


def test_per_file_ignores_apply_to_every_format(capsys) -> None:
    write("pyproject.toml", PINNED + '\n[tool.closelint.per-file-ignores]\n"tests/*.py" = ["CL101", "CL102"]\n')
    write("tests/test_a.py", TWO_LEAKS)
    write("src/a.py", LEAK)
    for name in ("sarif", "github", "gitlab", "rdjson", "json"):
        out = check(capsys, "--output-format", name)[1]
        assert "src/a.py" in out and "tests/test_a.py" not in out, name
