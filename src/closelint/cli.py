"""Command line: `closelint check | rule | rules | vendor-helper`; `main(argv) -> int`."""

from __future__ import annotations

import argparse
import json
import os
import sys
from collections.abc import Sequence
from dataclasses import replace
from pathlib import Path

from closelint import __version__
from closelint.config import ConfigError, Settings, check_codes, load_settings, parse_codes
from closelint.files import read_regular_file, shown_path
from closelint.model import Applicability, Violation
from closelint.output import OutputContext, formats
from closelint.registry import all_rules

EXIT_CLEAN, EXIT_FINDINGS, EXIT_ERROR = 0, 1, 2
#: formats that carry each fix's text edits
_FORMATS_WITH_EDITS = frozenset({"sarif", "rdjson"})


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
    check.add_argument("--output-format", choices=sorted(formats()), default="full")
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
    check.add_argument("--config", type=Path, metavar="FILE", help="read [tool.closelint] from FILE")
    check.add_argument("--quiet", "-q", action="store_true", help="print findings only, no summary")

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


def settings_for(args: argparse.Namespace) -> Settings:
    """Configuration file settings with command-line overrides applied."""
    settings = load_settings(args.config)
    for option in ("select", "ignore", "extend_select"):
        value = getattr(args, option)
        if value is not None:
            check_codes(value, f"--{option.replace('_', '-')}")
            settings = replace(settings, **{option: tuple(value)})  # type: ignore[arg-type]
    if args.select == [] and not settings.extend_select:
        raise ConfigError("--select: no rule code given, so every rule would be off")
    if settings.ignore or settings.select != Settings.select:  # the rules are imported only then
        _check_some_rule_enabled(settings)
    return settings


def _check_some_rule_enabled(settings: Settings) -> None:
    """A selection that leaves no rule on (`ignore = ["CL"]`, one code both selected and ignored) would
    report nothing about any file: a ConfigError, as an empty `select` is."""
    from closelint.registry import all_rules

    if not any(settings.enabled(code) for code in all_rules()):
        chosen = ", ".join((*settings.select, *settings.extend_select))
        raise ConfigError(f"select/ignore leave no rule enabled (select {chosen}; ignore {', '.join(settings.ignore)})")


def run_check(args: argparse.Namespace) -> int:
    from closelint.discovery import discover
    from closelint.runner import lint_paths

    _check_working_directory()
    settings = settings_for(args)
    found = discover(args.paths or [Path(".")], settings)
    files, errors = found.files, found.errors
    for warning in found.warnings:
        _warn(warning)
    fixed = 0
    beneath = found.beneath
    results = lint_paths(files, settings, jobs=args.jobs, cache=not args.no_cache, warn=_warn, beneath=beneath)
    errors += [r.error for r in results if r.error]
    if args.fix or args.diff:
        from closelint.fixer import fix_files

        roots = [p if p.is_dir() else p.parent for p in args.paths or [Path(".")]]
        fixes = fix_files(
            results, settings, unsafe=args.unsafe_fixes, write=not args.diff, roots=roots, beneath=beneath
        )
        for warning in fixes.warnings:
            _warn(warning)
        errors += fixes.errors
        if args.diff:
            for note in fixes.held_back:
                print(f"closelint: note: {note}", file=sys.stderr)
            sys.stdout.write("".join(fixes.diffs))
            print(f"Would fix {fixes.applied} finding{'s' if fixes.applied != 1 else ''}.", file=sys.stderr)
            return EXIT_ERROR if errors else EXIT_FINDINGS if fixes.diffs else EXIT_CLEAN
        fixed = fixes.applied
    violations = sorted(v for r in results for v in r.violations)
    if any(v.fix for v in violations) and (args.show_fixes or args.output_format in _FORMATS_WITH_EDITS):
        from closelint.fixer import with_edits

        violations = with_edits(violations, settings, beneath)
    context = OutputContext(len(files), show_fixes=args.show_fixes, sources=_sources(violations, beneath))
    sys.stdout.write(_report(args, violations, context))
    if not files and not errors:  # ruff's behaviour: a warning and exit 0, never "All checks passed"
        _warn("no Python file found under the given paths")
    elif not args.quiet and (violations or not errors) and args.output_format in ("full", "concise"):
        print(_summary(violations, len(files), fixed))
    for error in errors:
        print(f"closelint: error: {error}", file=sys.stderr)
    if errors:
        return EXIT_ERROR
    return EXIT_FINDINGS if violations and not args.exit_zero else EXIT_CLEAN


def _warn(message: str) -> None:
    print(f"closelint: warning: {message}", file=sys.stderr)


def _check_working_directory() -> None:
    """Paths are reported relative to the working directory: a run without one stops with exit status 2."""
    try:
        os.getcwd()
    except OSError as error:
        raise ConfigError(f"cannot use the working directory: {error.strerror or error}") from None


def _report(args: argparse.Namespace, violations: list[Violation], context: OutputContext) -> str:
    """The findings in the chosen format; `--statistics` replaces them, `--show-fixes` follows the text formats."""
    from closelint.statistics import render_fixes, render_statistics

    if args.statistics:
        return render_statistics(violations, as_json=args.output_format == "json")
    report = formats()[args.output_format](violations, context)
    if args.show_fixes and args.output_format in ("full", "concise"):
        report += render_fixes(violations)
    return report


def _sources(violations: list[Violation], beneath: dict[str, str]) -> dict[str, str]:
    from closelint.engine import decode

    sources = {}
    for path in {v.path for v in violations}:
        try:
            sources[path] = decode(read_regular_file(path, beneath=beneath.get(path)))
        except (OSError, SyntaxError, UnicodeDecodeError, LookupError):
            continue
    return sources


def _summary(violations: list[Violation], files: int, fixed: int = 0) -> str:
    done = f"Fixed {fixed} finding{'s' if fixed != 1 else ''}. " if fixed else ""
    if not violations:
        return f"{done}All checks passed ({files} file{'s' if files != 1 else ''} checked)."
    safe = sum(v.fixable for v in violations)
    unsafe = sum(v.fix is not None and v.fix.applicability is Applicability.UNSAFE for v in violations)
    hints = [f"{safe} fixable with `--fix`"] if safe else []
    hints += [f"{unsafe} with `--fix --unsafe-fixes`"] if unsafe else []
    noun = "finding" if len(violations) == 1 else "findings"
    return f"{done}Found {len(violations)} {noun}" + (f" ({', '.join(hints)})." if hints else ".")


def show_rule(code: str) -> int:
    from closelint.ruledocs import render_rule

    rule = all_rules().get(code.upper())
    if rule is None:
        print(f"closelint: error: unknown rule code {code!r}", file=sys.stderr)
        return EXIT_ERROR
    sys.stdout.write(render_rule(rule))
    return EXIT_CLEAN


def list_rules(output_format: str) -> int:
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
