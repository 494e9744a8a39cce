"""Command line: `closelint check | rule | rules | vendor-helper`; `main(argv) -> int`."""

from __future__ import annotations

import argparse
import os
import sys
from collections.abc import Mapping, Sequence
from pathlib import Path

from closelint import __version__
from closelint.config import ConfigError, Settings, SettingsResolver, check_codes, parse_codes
from closelint.files import read_regular_file, shown_path
from closelint.model import Applicability, FileResult, Violation
from closelint.output import OutputContext, color_wanted, format_names, paint, renderer

EXIT_CLEAN, EXIT_FINDINGS, EXIT_ERROR = 0, 1, 2
#: formats that carry each fix's text edits
_FORMATS_WITH_EDITS = frozenset({"sarif", "rdjson"})
#: formats that read the source of the files with findings (the line under a finding, fingerprints, ranges)
_FORMATS_WITH_SOURCES = frozenset({"full", "sarif", "rdjson"})


def build_parser() -> argparse.ArgumentParser:
    parser = argparse.ArgumentParser(prog="closelint", description="Find socket misuse in Python source and fix it.")
    parser.add_argument("--version", action="version", version=f"closelint {__version__}")
    commands = parser.add_subparsers(dest="command", metavar="COMMAND")
    commands.required = True

    check = commands.add_parser("check", help="lint files and directories (default: .)")
    check.add_argument("paths", nargs="*", type=Path, metavar="PATH")
    check.add_argument(
        "--select",
        type=parse_codes,
        metavar="CODES",
        help="codes or prefixes to report, replacing the configured selection",
    )
    check.add_argument("--ignore", type=parse_codes, metavar="CODES", help="codes or prefixes not to report")
    check.add_argument("--extend-select", type=parse_codes, metavar="CODES", help="codes to add to the selection")
    check.add_argument("--fix", action="store_true", help="apply safe fixes")
    check.add_argument("--unsafe-fixes", action="store_true", help="with --fix or --diff: apply unsafe fixes too")
    check.add_argument("--diff", action="store_true", help="print the fixes as a unified diff; write nothing")
    check.add_argument("--output-format", choices=format_names(), default="full")
    check.add_argument("--exit-zero", action="store_true", help="exit 0 even when findings remain")
    check.add_argument(
        "--statistics", action="store_true", help="print the number of findings per code instead of the findings"
    )
    check.add_argument("--show-fixes", action="store_true", help="after the findings, list what --fix would change")
    check.add_argument(
        "--jobs",
        "-j",
        type=_positive_int,
        default=os.cpu_count() or 1,
        metavar="N",
        help="files linted in parallel (default: number of CPUs)",
    )
    check.add_argument("--no-cache", action="store_true", help="neither read nor write .closelint_cache/")
    check.add_argument(
        "--config",
        type=Path,
        metavar="FILE",
        help="read [tool.closelint] from FILE for every file (default: the nearest pyproject.toml above each)",
    )
    check.add_argument("--quiet", "-q", action="store_true", help="print findings only, no summary")
    check.add_argument(
        "--add-noqa", action="store_true", help="append `# noqa: CODE` to every line with a finding; report nothing"
    )
    check.add_argument(
        "--force-exclude", action="store_true", help="apply exclude/extend-exclude to files named explicitly too"
    )
    check.add_argument(
        "--stdin-filename",
        type=Path,
        metavar="PATH",
        help="with PATH `-` (or none): lint standard input as if it were PATH (its config, per-file-ignores)",
    )
    check.add_argument("--output-file", "-o", type=Path, metavar="FILE", help="write the report to FILE")

    rule = commands.add_parser("rule", help="explain one rule")
    rule.add_argument("code", metavar="CODE")

    rules = commands.add_parser("rules", help="list every rule")
    rules.add_argument("--output-format", choices=("text", "json"), default="text")

    vendor = commands.add_parser("vendor-helper", help="write a standalone copy of the graceful-close helper")
    vendor.add_argument("path", type=Path, metavar="PATH")
    return parser


def _positive_int(text: str) -> int:
    value = int(text)
    if value < 1:
        raise argparse.ArgumentTypeError("must be at least 1")
    return value


def main(argv: Sequence[str] | None = None) -> int:
    """Run closelint; returns the exit status (0 clean, 1 findings, 2 error)."""
    parser = build_parser()
    try:
        args = parser.parse_args(argv)
    except SystemExit as exit_:
        return exit_.code if isinstance(exit_.code, int) else EXIT_ERROR
    try:
        if args.command == "check":
            return run_check(args)
        if args.command == "rule":
            return show_rule(args.code)
        if args.command == "rules":
            return list_rules(args.output_format)
        return vendor_helper(args.path)
    except ConfigError as error:
        print(f"closelint: error: {error}", file=sys.stderr)
        return EXIT_ERROR
    except KeyboardInterrupt:
        return 130
    except BrokenPipeError:
        return _left_pipe()
    except OSError as error:  # an unforeseen file system error: still one line, not a traceback
        print(f"closelint: error: {shown_path(str(error))}", file=sys.stderr)
        return EXIT_ERROR


def _left_pipe() -> int:
    """`closelint ... | head`: the reader left; say nothing more."""
    devnull = os.open(os.devnull, os.O_WRONLY)
    os.dup2(devnull, sys.stdout.fileno())
    return EXIT_ERROR


def resolver_for(args: argparse.Namespace) -> SettingsResolver:
    """Per-directory settings (the nearest `[tool.closelint]`, or `--config`) with command-line overrides."""
    overrides: dict[str, tuple[str, ...]] = {}
    for option in ("select", "ignore", "extend_select"):
        value = getattr(args, option)
        if value is not None:
            check_codes(value, f"--{option.replace('_', '-')}")
            overrides[option] = tuple(value)
    resolver = SettingsResolver(args.config, overrides)
    if args.select == [] and not resolver.default.extend_select:
        raise ConfigError("--select: no rule code given, so every rule would be off")
    default = resolver.default
    if default.ignore or default.select != Settings._field_defaults["select"]:  # the rules are imported only then
        _check_some_rule_enabled(default)
    return resolver


def _check_some_rule_enabled(settings: Settings) -> None:
    """A selection that leaves no rule on (`ignore = ["CL"]`, one code both selected and ignored) would
    report nothing about any file: a ConfigError, as an empty `select` is."""
    from closelint.registry import all_rules

    if not any(settings.enabled(code) for code in all_rules()):
        chosen = ", ".join((*settings.select, *settings.extend_select))
        raise ConfigError(f"select/ignore leave no rule enabled (select {chosen}; ignore {', '.join(settings.ignore)})")


def run_check(args: argparse.Namespace) -> int:
    from closelint.discovery import discover

    if args.add_noqa and (args.fix or args.diff):
        raise ConfigError("--add-noqa cannot be combined with --fix or --diff")
    _check_working_directory()
    resolver = resolver_for(args)
    if args.stdin_filename is not None and (not str(args.stdin_filename).strip() or str(args.stdin_filename) == "."):
        raise ConfigError("--stdin-filename: the name of a file is needed")
    if args.stdin_filename is not None and any(str(p) != "-" for p in args.paths):
        raise ConfigError("--stdin-filename lints standard input only: give `-` or no path, not files")
    if args.stdin_filename is not None or [str(p) for p in args.paths] == ["-"]:
        return _check_stdin(args, resolver)
    if any(str(p) == "-" for p in args.paths):
        raise ConfigError("`-` (standard input) must be the only path")
    found = discover(args.paths or [Path(".")], resolver.for_directory, args.force_exclude)
    files, errors = found.files, found.errors
    for warning in found.warnings:
        _warn(warning)
    run = _lint_by_project(args, files, resolver, found.beneath)
    errors += run.errors
    if args.add_noqa:
        return _add_noqa(run.results, errors, found.beneath)
    if args.diff:
        _write_diff(run.held_back, run.diffs, run.fixed)
        return EXIT_ERROR if errors else EXIT_FINDINGS if run.diffs else EXIT_CLEAN
    violations = sorted(run.violations)
    sources = (
        _sources(violations, found.beneath) if args.output_format in _FORMATS_WITH_SOURCES or args.show_fixes else {}
    )
    context = OutputContext(len(files), show_fixes=args.show_fixes, sources=sources, color=_color(args.output_file))
    summary = _summary(violations, len(files), run.fixed, context.color)
    show_summary = not args.quiet and (violations or not errors) and args.output_format in ("full", "concise")
    if not files and not errors:  # ruff's behaviour: a warning and exit 0, never "All checks passed"
        _warn("no Python file found under the given paths")
        show_summary = False
    _write(args.output_file, _report(args, violations, context) + (summary + "\n" if show_summary else ""))
    for error in errors:
        print(f"closelint: error: {error}", file=sys.stderr)
    if errors:
        return EXIT_ERROR
    return EXIT_FINDINGS if violations and not args.exit_zero else EXIT_CLEAN


class _Run:
    """What linting (and fixing) every project's files produced."""

    def __init__(self) -> None:
        self.results: list[FileResult] = []
        self.violations: list[Violation] = []
        self.errors: list[str] = []
        self.diffs: list[str] = []
        self.held_back: list[str] = []
        self.fixed = 0


def _lint_by_project(
    args: argparse.Namespace, files: list[str], resolver: SettingsResolver, beneath: Mapping[str, str]
) -> _Run:
    """Lint the files of each project with its settings (and its cache), fix them if asked; `beneath` maps a
    file found by walking a directory to that directory, which reading and writing it never leave."""
    from closelint.runner import lint_paths

    projects: dict[tuple[Settings, str], list[str]] = {}
    for path in files:
        settings = resolver.for_file(path)
        projects.setdefault((settings, settings.root), []).append(path)
    run = _Run()
    for (settings, _), group in projects.items():
        if settings is not resolver.default and (
            settings.ignore or settings.select != Settings._field_defaults["select"]
        ):
            _check_some_rule_enabled(settings)
        results = lint_paths(group, settings, jobs=args.jobs, cache=not args.no_cache, warn=_warn, beneath=beneath)
        run.errors += [r.error for r in results if r.error]
        if args.fix or args.diff:
            from closelint.fixer import fix_files

            roots = [p if p.is_dir() else p.parent for p in args.paths or [Path(".")]]
            fixes = fix_files(
                results, settings, unsafe=args.unsafe_fixes, write=not args.diff, roots=roots, beneath=beneath
            )
            for warning in fixes.warnings:
                _warn(warning)
            run.errors += fixes.errors
            run.held_back += fixes.held_back
            run.diffs += fixes.diffs
            run.fixed += fixes.applied
        violations = [v for r in results for v in r.violations]
        if any(v.fix for v in violations) and (args.show_fixes or args.output_format in _FORMATS_WITH_EDITS):
            from closelint.fixer import with_edits

            violations = with_edits(violations, settings, beneath)
        run.results += results
        run.violations += violations
    return run


def _check_stdin(args: argparse.Namespace, resolver: SettingsResolver) -> int:
    """Lint standard input as the file `--stdin-filename` names: its settings, per-file-ignores and noqa.

    With `--fix` the fixed source is written to standard output and the findings that remain to standard
    error (what editors expect); with `--diff`, the diff."""
    from closelint.engine import decode, lint_source

    if args.add_noqa:
        raise ConfigError("--add-noqa cannot read standard input")
    name = args.stdin_filename or Path("-")
    settings = resolver.for_file(name)
    if args.force_exclude and args.stdin_filename is not None and settings.force_excluded(name):
        return EXIT_CLEAN
    source = sys.stdin.buffer.read()
    result = lint_source(source, str(name), settings)
    violations = sorted(result.violations)
    fixed = 0
    shown: str | None = None  # the text the remaining findings are in, when --fix changed it
    if (args.fix or args.diff) and any(v.fix for v in violations):
        from closelint.fixer import fix_text

        try:
            text = decode(source)
        except (SyntaxError, UnicodeDecodeError, LookupError):
            text = None
        if text is not None:
            fixes = fix_text(text, str(name), settings, unsafe=args.unsafe_fixes)
            if fixes.error:
                _warn(fixes.error)
            if args.diff:
                from closelint.fixer import held_back

                _write_diff(held_back(violations, args.unsafe_fixes), [fixes.diff()], fixes.applied)
                return EXIT_FINDINGS if fixes.changed else EXIT_CLEAN
            sys.stdout.write(fixes.fixed)
            sys.stdout.flush()
            violations, fixed, shown = sorted(fixes.remaining), fixes.applied, fixes.fixed
    elif args.diff and result.error is None:
        _write_diff([], [], 0)
        return EXIT_CLEAN
    elif args.fix:
        sys.stdout.buffer.write(source)
        sys.stdout.flush()
    try:
        sources = {str(name): shown if shown is not None else decode(source)}
    except (SyntaxError, UnicodeDecodeError, LookupError):
        sources = {}
    context = OutputContext(1, show_fixes=args.show_fixes, sources=sources, color=_color(args.output_file))
    report = _report(args, violations, context)
    if not args.quiet and args.output_format in ("full", "concise"):
        report += _summary(violations, 1, fixed, context.color) + "\n"
    if args.fix and args.output_file is None:
        sys.stderr.write(report)
    else:
        _write(args.output_file, report)
    return EXIT_FINDINGS if violations and not args.exit_zero else EXIT_CLEAN


def _write_diff(notes: Sequence[str], diffs: Sequence[str], fixed: int) -> None:
    """`--diff`: why fixes were held back and a tally (standard error), the unified diffs (standard output)."""
    for note in notes:
        print(f"closelint: note: {note}", file=sys.stderr)
    sys.stdout.write("".join(diffs))
    print(f"Would fix {fixed} finding{'s' if fixed != 1 else ''}.", file=sys.stderr)


def _warn(message: str) -> None:
    print(f"closelint: warning: {message}", file=sys.stderr)


def _check_working_directory() -> None:
    """Paths are reported relative to the working directory: a run without one stops with exit status 2."""
    try:
        os.getcwd()
    except OSError as error:
        raise ConfigError(f"cannot use the working directory: {error.strerror or error}") from None


def _add_noqa(results: list[FileResult], errors: list[str], beneath: Mapping[str, str]) -> int:
    """`--add-noqa`: silence every finding where it is, as ruff does; exit 0 unless a file failed."""
    from closelint.fixer import NotWritten
    from closelint.noqa import add_noqa_to_file

    added = 0
    for result in results:
        if result.violations:
            try:
                added += add_noqa_to_file(Path(result.path), result.violations, beneath.get(result.path))
            except (OSError, UnicodeError, SyntaxError, NotWritten) as problem:
                errors.append(f"{result.path}: noqa not added: {problem}")
    print(f"Added {added} noqa directive{'s' if added != 1 else ''}.", file=sys.stderr)
    for error in errors:
        print(f"closelint: error: {error}", file=sys.stderr)
    return EXIT_ERROR if errors else EXIT_CLEAN


def _color(output_file: Path | None) -> bool:
    """Colour for the report on standard output (a file never gets it)."""
    return output_file is None and color_wanted(sys.stdout, os.environ)


def _write(output_file: Path | None, text: str) -> None:
    """The report, to standard output or to `--output-file` (a one-line error when it cannot be written)."""
    if output_file is None:
        sys.stdout.write(text)
        return
    try:
        with open(output_file, "w", encoding="utf-8") as handle:
            handle.write(text)
    except OSError as error:
        raise ConfigError(f"cannot write {output_file}: {error.strerror or error}") from None


def _report(args: argparse.Namespace, violations: list[Violation], context: OutputContext) -> str:
    """The findings in the chosen format; `--statistics` replaces them, `--show-fixes` follows the text formats."""
    if args.statistics:
        from closelint.statistics import render_statistics

        return render_statistics(violations, as_json=args.output_format == "json")
    report = renderer(args.output_format)(violations, context)
    if args.show_fixes and args.output_format in ("full", "concise"):
        from closelint.statistics import render_fixes

        report += render_fixes(violations)
    return report


def _sources(violations: list[Violation], beneath: Mapping[str, str]) -> dict[str, str]:
    from closelint.engine import decode

    sources = {}
    for path in {v.path for v in violations}:
        try:
            sources[path] = decode(read_regular_file(path, beneath=beneath.get(path)))
        except (OSError, SyntaxError, UnicodeDecodeError, LookupError):
            continue
    return sources


def _summary(violations: list[Violation], files: int, fixed: int = 0, color: bool = False) -> str:
    done = f"Fixed {fixed} finding{'s' if fixed != 1 else ''}. " if fixed else ""
    if not violations:
        return f"{done}All checks passed ({files} file{'s' if files != 1 else ''} checked)."
    safe = sum(v.fixable for v in violations)
    unsafe = sum(v.fix is not None and v.fix.applicability is Applicability.UNSAFE for v in violations)
    hints = [f"{safe} fixable with `--fix`"] if safe else []
    hints += [f"{unsafe} with `--fix --unsafe-fixes`"] if unsafe else []
    noun = "finding" if len(violations) == 1 else "findings"
    found = paint(f"Found {len(violations)} {noun}", "bold", color)
    return f"{done}{found}" + (f" ({', '.join(hints)})." if hints else ".")


def show_rule(code: str) -> int:
    from closelint.registry import all_rules
    from closelint.ruledocs import render_rule

    rule = all_rules().get(code.upper())
    if rule is None:
        print(f"closelint: error: unknown rule code {code!r}", file=sys.stderr)
        return EXIT_ERROR
    sys.stdout.write(render_rule(rule))
    return EXIT_CLEAN


def list_rules(output_format: str) -> int:
    import json

    from closelint.registry import all_rules
    from closelint.ruledocs import rule_summary

    summaries = [rule_summary(rule) for rule in all_rules().values()]
    if output_format == "json":
        print(json.dumps(summaries, indent=2))
    else:
        for item in summaries:
            fix = f" [fix: {item['fix']}]" if item["fix"] else ""
            print(f"{item['code']}  {item['name']}{fix}")
    return EXIT_CLEAN


def vendor_helper(path: Path) -> int:
    from closelint.vendoring import VendorError
    from closelint.vendoring import vendor_helper as write_copy

    try:
        written = write_copy(path)
    except (VendorError, OSError) as error:
        print(f"closelint: error: {error}", file=sys.stderr)
        return EXIT_ERROR
    print(f"wrote {written}; import it with `from <your package>.{written.stem} import graceful_close`")
    return EXIT_CLEAN
