"""Every snippet of docs/integrations.md works: parsed by its consumer's parser, and every command run.

A snippet is a fenced block with a language (`shell`, `yaml`, `toml`, `ini`, `json`) and, for a file, a
`title="path"`. The configuration files are written into a small project with a leaked socket, and each
`closelint`/`flake8` command of the page (shell blocks, workflow `run:` steps, GitLab `script:` lines) runs
there; what a command writes is parsed as its format says (SARIF is validated against the official schema).
"""

from __future__ import annotations

import configparser
import json
import os
import re
import shlex
import subprocess
import sys
import tomllib
from collections.abc import Iterator
from dataclasses import dataclass
from pathlib import Path
from typing import Any

import pytest

from closelint import __version__
from closelint.config import settings_from_table

yaml = pytest.importorskip("yaml")

ROOT = Path(__file__).resolve().parents[1]
DOC = ROOT / "docs" / "integrations.md"
MANIFEST = ROOT / ".pre-commit-hooks.yaml"
SARIF_SCHEMA = ROOT / "tests" / "data" / "sarif-schema-2.1.0.json"
LEAK = 'import socket\n\n\ndef f():\n    s = socket.socket()\n    s.connect(("h", 1))\n'
CLEAN = 'import socket\n\n\ndef f():\n    with socket.socket() as s:\n        s.connect(("h", 1))\n'
FENCE = re.compile(r'^```(?P<language>\w*)(?: title="(?P<title>[^"]+)")?[^\n]*\n(?P<body>.*?)^```\s*$', re.M | re.S)
LANGUAGES = ("shell", "yaml", "toml", "ini", "json")
#: formats whose output is one JSON document
JSON_FORMATS = ("json", "sarif", "gitlab", "rdjson")
UPLOAD_SARIF = "github/codeql-action/upload-sarif@"


@dataclass(frozen=True)
class Snippet:
    language: str
    title: str | None
    body: str
    line: int

    def __str__(self) -> str:
        return f"{self.title or self.language}@{self.line}"


def read_snippets() -> list[Snippet]:
    text = DOC.read_text(encoding="utf-8")
    return [
        Snippet(m["language"], m["title"], m["body"], text.count("\n", 0, m.start()) + 1) for m in FENCE.finditer(text)
    ]


SNIPPETS = read_snippets()


def titled(name: str) -> list[Snippet]:
    return [s for s in SNIPPETS if s.title == name]


def parse(snippet: Snippet) -> Any:
    """The snippet as its consumer reads it."""
    if snippet.language == "yaml":
        return yaml.safe_load(snippet.body)
    if snippet.language == "toml":
        return tomllib.loads(snippet.body)
    if snippet.language == "json":
        return json.loads(snippet.body)
    if snippet.language == "ini":
        parser = configparser.ConfigParser()
        parser.read_string(snippet.body)
        return {name: dict(parser[name]) for name in parser.sections()}
    return snippet.body


def _yaml_commands(node: Any) -> Iterator[str]:
    """Workflow `run:` steps and GitLab `script:` lines, anywhere in a YAML document."""
    if isinstance(node, dict):
        for key, value in node.items():
            if key == "run" and isinstance(value, str):
                yield from value.splitlines()
            elif key == "script" and isinstance(value, list):
                yield from value
            else:
                yield from _yaml_commands(value)
    elif isinstance(node, list):
        for item in node:
            yield from _yaml_commands(item)


def commands() -> list[str]:
    found: list[str] = []
    for snippet in SNIPPETS:
        if snippet.language == "shell":
            found += snippet.body.splitlines()
        elif snippet.language == "yaml":
            found += _yaml_commands(parse(snippet))
    stripped = (c.strip() for c in found)
    return list(dict.fromkeys(c for c in stripped if c and not c.startswith("#")))


COMMANDS = commands()


# --- the snippets parse -----------------------------------------------------------------------------------


def test_the_page_has_every_kind_of_snippet() -> None:
    assert {s.language for s in SNIPPETS} == set(LANGUAGES), [str(s) for s in SNIPPETS]
    for title in (".pre-commit-config.yaml", ".github/workflows/closelint.yml", ".gitlab-ci.yml", "pyproject.toml"):
        assert titled(title), title
    assert DOC.read_text(encoding="utf-8").count("```") == 2 * len(SNIPPETS), "a fence the test does not read"


@pytest.mark.parametrize("snippet", [s for s in SNIPPETS if s.language != "shell"], ids=str)
def test_snippet_parses(snippet: Snippet) -> None:
    parsed = parse(snippet)
    assert isinstance(parsed, (dict, list)) and parsed, "an empty document configures nothing"
    if snippet.language == "ini":
        assert all(parsed.values()), "a section without a key"


def test_pyproject_snippet_is_a_valid_closelint_configuration() -> None:
    for snippet in titled("pyproject.toml"):
        table = parse(snippet)["tool"]["closelint"]
        settings = settings_from_table(table, source=str(snippet))
        assert settings.per_file_ignores


def test_flake8_snippet_selects_the_plugin() -> None:
    [snippet] = titled(".flake8")
    section = parse(snippet)["flake8"]
    assert "CL" in section["extend-select"].split(",")


def test_vscode_snippet_uses_the_environments_flake8() -> None:
    [snippet] = titled(".vscode/settings.json")
    assert parse(snippet)["flake8.importStrategy"] == "fromEnvironment"


def test_pre_commit_configs_validate_and_name_real_hooks(tmp_path: Path) -> None:
    pytest.importorskip("pre_commit")
    hook_ids = {hook["id"] for hook in yaml.safe_load(MANIFEST.read_text(encoding="utf-8"))}
    for i, snippet in enumerate(titled(".pre-commit-config.yaml")):
        path = tmp_path / f"config{i}.yaml"
        path.write_text(snippet.body, encoding="utf-8")
        completed = subprocess.run(
            [sys.executable, "-m", "pre_commit", "validate-config", str(path)],
            capture_output=True,
            text=True,
            check=False,
        )
        assert completed.returncode == 0, completed.stdout + completed.stderr
        for repo in parse(snippet)["repos"]:
            if repo["repo"] == "local":
                for hook in repo["hooks"]:
                    assert hook["id"] in hook_ids
                    assert hook["entry"] == "closelint check --force-exclude"
            else:
                assert f"closelint=={__version__}" in repo["hooks"][0]["additional_dependencies"]


def test_github_workflow_uploads_sarif_written_by_closelint() -> None:
    [snippet] = titled(".github/workflows/closelint.yml")
    workflow = parse(snippet)
    assert workflow.get("on", workflow.get(True))  # YAML 1.1 reads a bare `on` as true
    [job] = workflow["jobs"].values()
    assert job["permissions"]["security-events"] == "write"
    steps = job["steps"]
    uploads = [i for i, step in enumerate(steps) if step.get("uses", "").startswith(UPLOAD_SARIF)]
    assert len(uploads) == 1
    upload = uploads[0]
    sarif_file = steps[upload]["with"]["sarif_file"]
    writers = [step["run"] for step in steps[:upload] if "run" in step and f"> {sarif_file}" in step["run"]]
    assert writers and "--output-format sarif" in writers[0]
    assert any("--output-format github" in step.get("run", "") for step in steps)


def test_gitlab_job_publishes_the_code_quality_report() -> None:
    [snippet] = titled(".gitlab-ci.yml")
    [job] = parse(snippet).values()
    report = job["artifacts"]["reports"]["codequality"]
    assert any(f"--output-format gitlab --exit-zero > {report}" in line for line in job["script"])


def test_installs_pin_this_version() -> None:
    installs = [c for c in COMMANDS if c.startswith("pip ")]
    assert installs
    assert all(c == f"pip install closelint=={__version__}" for c in installs), installs


# --- the commands run -------------------------------------------------------------------------------------


@pytest.fixture
def project(tmp_path: Path) -> Path:
    """A project with a leak, a clean file, an excluded vendored leak and the page's configuration files."""
    if os.name == "nt":
        pytest.skip("the page's commands are POSIX shell")
    root = tmp_path / "project"
    for relative, content in (("leak.py", LEAK), ("clean.py", CLEAN), ("vendored/lib.py", LEAK)):
        (root / relative).parent.mkdir(parents=True, exist_ok=True)
        (root / relative).write_text(content, encoding="utf-8")
    for snippet in SNIPPETS:
        if snippet.title in ("pyproject.toml", ".flake8"):
            (root / snippet.title).write_text(snippet.body, encoding="utf-8")
    return root


def shell_environment(tmp_path: Path) -> dict[str, str]:
    """PATH starts with `closelint` and `flake8` scripts that run this interpreter's modules."""
    bin_dir = tmp_path / "bin"
    bin_dir.mkdir()
    for tool in ("closelint", "flake8"):
        script = bin_dir / tool
        script.write_text(f'#!/bin/sh\nexec {shlex.quote(sys.executable)} -m {tool} "$@"\n', encoding="utf-8")
        script.chmod(0o755)
    return {**os.environ, "PATH": f"{bin_dir}{os.pathsep}{os.environ.get('PATH', '')}"}


@pytest.mark.parametrize("command", [c for c in COMMANDS if not c.startswith("pip ")])
def test_command_runs(command: str, project: Path, tmp_path: Path) -> None:
    tool = command.split()[0]
    assert tool in ("closelint", "flake8"), f"the test cannot run {command!r}"
    ours = command.split("|")[0].strip()  # what closelint pipes into (reviewdog) is not run
    completed = subprocess.run(
        ["/bin/sh", "-c", ours],
        cwd=project,
        env=shell_environment(tmp_path),
        capture_output=True,
        text=True,
        check=False,
        timeout=60,
    )
    assert completed.stderr == ""
    assert completed.returncode == (0 if "--exit-zero" in ours else 1), completed.stdout
    redirect = re.search(r">\s*(\S+)$", ours)
    output = (project / redirect[1]).read_text(encoding="utf-8") if redirect else completed.stdout
    assert "--statistics" in ours or "leak.py" in output
    if tool == "closelint":
        assert "vendored" not in output  # the pyproject snippet's extend-exclude applies
    check_output(ours, output)


def check_output(command: str, output: str) -> None:
    """Parse what a command printed as its format says."""
    form = re.search(r"--output-format[ =](\w+)", command)
    name = form[1] if form else "full"
    if "--statistics" in command:
        if name == "json":
            assert "CL101" in {row["code"] for row in json.loads(output)}
        else:
            assert re.search(r"^\s*1  CL101  socket-leaked$", output, re.M), output
    elif name in JSON_FORMATS:
        document = json.loads(output)
        if name == "sarif":
            jsonschema = pytest.importorskip("jsonschema")
            jsonschema.validate(document, json.loads(SARIF_SCHEMA.read_text(encoding="utf-8")))
    elif name == "github":
        assert all(line.startswith("::warning file=leak.py,") for line in output.splitlines()), output
    else:
        assert re.search(r"^\S*leak\.py:5:9: CL101 ", output, re.M), output
