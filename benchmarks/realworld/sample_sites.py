"""List candidate socket sites in the unpacked pinned packages and draw a stratified, seeded sample.

    python benchmarks/realworld/sample_sites.py --cache /work/rw-cache              # main set, TOML stubs
    python benchmarks/realworld/sample_sites.py --cache /work/rw-cache \\
        --pins benchmarks/realworld/heldout.txt --scale 0.4                          # held-out set
    python benchmarks/realworld/sample_sites.py --cache /work/rw-cache --counts     # candidates per kind

A candidate site is a line where a socket or an asyncio StreamWriter is created, stored, shut down or
closed, found with the stdlib `ast` (no closelint code is used, so the sample does not depend on what
closelint reports). Kinds, each the stratum of the codes it can carry (SPEC §2, "reported at"):

- `create`: `socket.socket`/`create_connection`/`create_server`/`socketpair`/`fromfd`/`fromshare`, through
  any alias of a module named `*socket` (CL101, CL102, CL103);
- `create-self`: such a call whose result is stored on `self.<attr>` (CL102, CL103);
- `accept`, `accept-loop`: `.accept()`, and one inside a `while`/`for` (CL101, CL102, CL401);
- `open-connection`: `open_connection`/`open_unix_connection` (CL502);
- `handler`: the `def` of a function or method passed to `start_server`/`start_unix_server` (CL502);
- `close`: `.close()` on a receiver named like a socket, connection or writer (CL201, CL202, CL501);
- `shutdown`: the `.close()` following a `.shutdown(how)` on the same receiver (CL202), or the shutdown
  itself when no close follows within 15 lines;
- `linger`: `setsockopt(..., SO_LINGER, ...)` (CL301);
- `close-sent`, `writer-close` (drawn with `--kinds`, see `teardown_sites`): closes of something the code
  sends on (CL201, CL202), and writer closes in an `async def` (CL501);
- `create-unclosed`, `serve-loop` (drawn with `--kinds`, see `rare_sites`): sockets a function never closes
  nor passes on (CL101), and accept loops that do connection I/O (CL401).

The sample is deterministic: candidates are sorted, shuffled with `random.Random(seed)`, and drawn per
kind round-robin over the packages (so that no one project fills a stratum), `QUOTAS[kind]` times
`--scale` sites each (all of them when there are fewer: `linger`, `handler`, `open-connection`). Sites
already in `--exclude` files (`FILE:N`: their first N sites) are skipped, so a sample can be extended without
relabelling, and each pass of it reproduced.
"""

from __future__ import annotations

import argparse
import ast
import random
import re
import sys
from collections import defaultdict
from collections.abc import Iterator, Sequence
from dataclasses import dataclass, field
from pathlib import Path

sys.path.insert(0, str(Path(__file__).resolve().parent))
import tomllib

from run import PACKAGES, read_pins

FACTORIES = frozenset({"socket", "create_connection", "create_server", "socketpair", "fromfd", "fromshare"})
STREAM_OPENERS = frozenset({"open_connection", "open_unix_connection"})
SERVER_STARTERS = frozenset({"start_server", "start_unix_server"})
#: receivers of `.close()` that name a socket, a connection or a stream writer
CLOSE_RECEIVER = re.compile(r"(sock|conn|writer|client|peer|request|srv|server)", re.IGNORECASE)
#: calls that send on their receiver (a socket, a makefile object, a StreamWriter)
SENDS = frozenset({"send", "sendall", "sendto", "sendmsg", "sendfile", "write", "writelines"})
#: sites drawn per kind for a sample of scale 1 (the main set); rare kinds are taken whole
QUOTAS = {
    "create": 30,
    "create-self": 14,
    "accept": 12,
    "accept-loop": 10,
    "open-connection": 8,
    "handler": 8,
    "close": 24,
    "shutdown": 12,
    "linger": 8,
    "close-sent": 24,
    "writer-close": 12,
    "create-unclosed": 16,
    "serve-loop": 10,
}
#: the SPEC §2 codes reported at a site of each kind ("reported at"): a label outside them is misplaced
CODES_OF_KIND = {
    "create": frozenset({"CL101", "CL102", "CL103"}),
    "create-self": frozenset({"CL101", "CL102", "CL103"}),
    "accept": frozenset({"CL101", "CL102", "CL401"}),
    "accept-loop": frozenset({"CL101", "CL102", "CL401"}),
    "open-connection": frozenset({"CL502"}),
    "handler": frozenset({"CL502"}),
    "close": frozenset({"CL201", "CL202", "CL501"}),
    "shutdown": frozenset({"CL201", "CL202"}),
    "linger": frozenset({"CL301"}),
    "close-sent": frozenset({"CL201", "CL202", "CL501"}),
    "writer-close": frozenset({"CL201", "CL202", "CL501"}),
    "create-unclosed": frozenset({"CL101"}),
    "serve-loop": frozenset({"CL401"}),
}
KINDS = (
    "create",
    "create-self",
    "accept",
    "accept-loop",
    "open-connection",
    "handler",
    "close",
    "shutdown",
    "linger",
)
#: strata drawn in later passes (`--kinds writer-close close-sent --exclude <labels>`, then
#: `--kinds create-unclosed serve-loop`): the sites of the teardown codes, which the receiver-name heuristic
#: of `close` rarely hits, and of the leak and serve-loop codes, which the first strata hit by chance only
EXTRA_KINDS = ("writer-close", "close-sent", "create-unclosed", "serve-loop")


@dataclass
class Site:
    package: str
    version: str
    path: str
    line: int
    kinds: set[str] = field(default_factory=set)
    text: str = ""


def socket_modules(tree: ast.Module) -> tuple[set[str], set[str]]:
    """Names bound to a module named `*socket`, and names bound to one of its factories."""
    modules: set[str] = set()
    functions: set[str] = set()
    for node in ast.walk(tree):
        if isinstance(node, ast.Import):
            for alias in node.names:
                if alias.name.split(".")[-1].endswith("socket"):
                    modules.add(alias.asname or alias.name.split(".")[0])
        elif isinstance(node, ast.ImportFrom):
            source = node.module or ""
            for alias in node.names:
                if alias.name.endswith("socket") and alias.name != "socket":
                    modules.add(alias.asname or alias.name)
                elif alias.name == "socket" and not source.split(".")[-1].endswith("socket"):
                    modules.add(alias.asname or alias.name)  # `from gevent import socket`
                elif alias.name in FACTORIES and source.split(".")[-1].endswith("socket"):
                    functions.add(alias.asname or alias.name)
    return modules, functions


def receiver_text(node: ast.expr) -> str:
    return ast.unparse(node) if isinstance(node, (ast.Name, ast.Attribute, ast.Subscript)) else ""


def is_factory(call: ast.Call, modules: set[str], functions: set[str]) -> bool:
    func = call.func
    if isinstance(func, ast.Name):
        return func.id in functions
    if isinstance(func, ast.Attribute) and func.attr in FACTORIES:
        base = func.value
        if isinstance(base, ast.Name):
            return base.id in modules or base.id.endswith("socket")
        if isinstance(base, ast.Attribute):  # self.socket_module.socket, gevent.socket.socket
            return "socket" in base.attr
    return False


def call_name(call: ast.Call) -> str:
    func = call.func
    if isinstance(func, ast.Attribute):
        return func.attr
    if isinstance(func, ast.Name):
        return func.id
    return ""


def close_after(shutdown: ast.Call, closes: dict[str, list[int]]) -> int:
    """The line of the first `.close()` on the same receiver within 15 lines after a `shutdown()`, else its own.

    The codes of a shutdown (CL202, CL201) are reported at the close that follows it.
    """
    assert isinstance(shutdown.func, ast.Attribute)
    after = [n for n in closes.get(receiver_text(shutdown.func.value), []) if 0 < n - shutdown.lineno <= 15]
    return min(after, default=shutdown.lineno)


def receivers(scope: ast.AST, methods: frozenset[str]) -> Iterator[tuple[ast.Call, str]]:
    """Every call of one of `methods` under `scope` with the source text of its receiver."""
    for node in ast.walk(scope):
        if isinstance(node, ast.Call) and isinstance(node.func, ast.Attribute) and node.func.attr in methods:
            yield node, receiver_text(node.func.value)


def teardown_sites(tree: ast.Module) -> Iterator[tuple[int, str]]:
    """`close-sent` and `writer-close` sites: the strata of CL201/CL202 and CL501.

    `close-sent`: `.close()` on a receiver that the same function sends on, or on a `self.<attr>` that a method
    of the same class sends on. `writer-close`: `.close()` in an `async def` on a receiver named `*writer*`.
    """
    scopes: list[tuple[ast.AST, set[str]]] = []
    for node in ast.walk(tree):
        if isinstance(node, ast.ClassDef):
            sent_on_self = {r for _, r in receivers(node, SENDS) if r.startswith("self.")}
            scopes += [(f, sent_on_self) for f in node.body if isinstance(f, (ast.FunctionDef, ast.AsyncFunctionDef))]
    scopes += [(f, set()) for f in tree.body if isinstance(f, (ast.FunctionDef, ast.AsyncFunctionDef))]
    for function, sent_in_class in scopes:
        sent = {r for _, r in receivers(function, SENDS)} | sent_in_class
        for call, receiver in receivers(function, frozenset({"close"})):
            if receiver and receiver in sent and not call.args:
                yield call.lineno, "close-sent"
        for inner in ast.walk(function):
            if isinstance(inner, ast.AsyncFunctionDef):
                for call, receiver in receivers(inner, frozenset({"close"})):
                    if "writer" in receiver.lower().rpartition(".")[2]:
                        yield call.lineno, "writer-close"


def escapes(function: ast.AST, name: str) -> bool:
    """Whether `name` is closed, entered with `with`, returned, yielded, or passed to a call in `function`."""
    for node in ast.walk(function):
        if isinstance(node, ast.Call):
            if isinstance(node.func, ast.Attribute) and receiver_text(node.func.value) == name:
                if node.func.attr in ("close", "detach"):
                    return True
            elif any(isinstance(a, ast.Name) and a.id == name for a in ast.walk(node) if a is not node.func):
                return True
        elif isinstance(node, (ast.Return, ast.Yield, ast.YieldFrom, ast.withitem, ast.Assign, ast.Lambda)):
            value = node.context_expr if isinstance(node, ast.withitem) else getattr(node, "value", None)
            if isinstance(node, ast.Lambda):
                value = node.body
            named = value is not None and any(isinstance(n, ast.Name) and n.id == name for n in ast.walk(value))
            if named and not isinstance(value, ast.Call):
                return True
    return False


def rare_sites(tree: ast.Module, modules: set[str], functions: set[str]) -> Iterator[tuple[int, str]]:
    """`create-unclosed` and `serve-loop` sites: the strata of CL101 and CL401.

    `create-unclosed`: a socket bound to a local name (a factory's or `accept()`'s result) that the function
    never closes, enters with `with`, returns, yields, stores or passes on. `serve-loop`: an `accept()` in a
    loop whose body also receives or sends.
    """
    for function in ast.walk(tree):
        if not isinstance(function, (ast.FunctionDef, ast.AsyncFunctionDef)):
            continue
        for node in ast.walk(function):
            if isinstance(node, ast.Assign) and isinstance(node.value, (ast.Call, ast.Await)):
                call = node.value.value if isinstance(node.value, ast.Await) else node.value
                if not isinstance(call, ast.Call):
                    continue
                accepted = call_name(call) == "accept" and not call.args
                if not (accepted or is_factory(call, modules, functions)):
                    continue
                target = node.targets[0]
                names = target.elts[:1] if accepted and isinstance(target, ast.Tuple) else [target]
                if isinstance(target, ast.Tuple) and not accepted:
                    names = target.elts
                for name in names:
                    if isinstance(name, ast.Name) and not escapes(function, name.id):
                        yield call.lineno, "create-unclosed"
            elif isinstance(node, (ast.While, ast.For, ast.AsyncFor)):
                calls = [n for n in ast.walk(node) if isinstance(n, ast.Call)]
                if any(call_name(c) in SENDS | {"recv", "recv_into", "makefile"} for c in calls):
                    for call in calls:
                        if call_name(call) == "accept" and not call.args and not call.keywords:
                            yield call.lineno, "serve-loop"


def walk_sites(tree: ast.Module) -> Iterator[tuple[int, str]]:
    """(line, kind) for every candidate site of a module."""
    yield from teardown_sites(tree)
    modules, functions = socket_modules(tree)
    yield from rare_sites(tree, modules, functions)
    defs: dict[str, int] = {}
    for node in ast.walk(tree):
        if isinstance(node, (ast.FunctionDef, ast.AsyncFunctionDef)):
            defs.setdefault(node.name, node.lineno)
    loops: list[ast.AST] = [n for n in ast.walk(tree) if isinstance(n, (ast.While, ast.For, ast.AsyncFor))]
    in_loop: set[int] = {id(inner) for loop in loops for inner in ast.walk(loop) if inner is not loop}
    stored: set[int] = set()
    for node in ast.walk(tree):
        if isinstance(node, ast.Assign) and isinstance(node.value, ast.Call):
            for target in node.targets:
                if (
                    isinstance(target, ast.Attribute)
                    and isinstance(target.value, ast.Name)
                    and target.value.id == "self"
                ):
                    stored.add(id(node.value))
    closes: dict[str, list[int]] = defaultdict(list)
    for node in ast.walk(tree):
        if isinstance(node, ast.Call) and call_name(node) == "close" and isinstance(node.func, ast.Attribute):
            closes[receiver_text(node.func.value)].append(node.lineno)
    for node in ast.walk(tree):
        if not isinstance(node, ast.Call):
            continue
        name = call_name(node)
        if is_factory(node, modules, functions):
            yield node.lineno, "create-self" if id(node) in stored else "create"
        elif name == "accept" and not node.args and not node.keywords and isinstance(node.func, ast.Attribute):
            yield node.lineno, "accept-loop" if id(node) in in_loop else "accept"
        elif name in STREAM_OPENERS:
            yield node.lineno, "open-connection"
        elif name in SERVER_STARTERS:
            handler = node.args[0] if node.args else None
            for keyword in node.keywords:
                if keyword.arg == "client_connected_cb":
                    handler = keyword.value
            if isinstance(handler, ast.Name) and handler.id in defs:
                yield defs[handler.id], "handler"
            elif isinstance(handler, ast.Attribute) and handler.attr in defs:
                yield defs[handler.attr], "handler"
        elif name == "close" and not node.args and isinstance(node.func, ast.Attribute):
            if CLOSE_RECEIVER.search(receiver_text(node.func.value)):
                yield node.lineno, "close"
        elif name == "shutdown" and len(node.args) == 1 and isinstance(node.func, ast.Attribute):
            yield close_after(node, closes), "shutdown"
        elif name == "setsockopt" and "SO_LINGER" in ast.unparse(node):
            yield node.lineno, "linger"


def module_sites(path: Path) -> dict[int, tuple[set[str], str]]:
    """The candidate sites of one module: line -> (kinds, the stripped line); empty when it does not parse."""
    source = path.read_bytes()
    try:
        tree = ast.parse(source)
    except (SyntaxError, ValueError):
        return {}
    lines = source.decode("utf-8", "replace").splitlines()
    sites: dict[int, tuple[set[str], str]] = {}
    for line, kind in walk_sites(tree):
        text = lines[line - 1].strip() if line <= len(lines) else ""
        sites.setdefault(line, (set(), text))[0].add(kind)
    return sites


def candidates(cache: Path, pins: Sequence[tuple[str, str]]) -> list[Site]:
    """Every candidate site of the unpacked packages, one per (package, path, line), sorted."""
    sites: list[Site] = []
    for name, version in pins:
        root = cache / "src" / f"{name}-{version}"
        if not (root / ".extracted").exists():
            raise SystemExit(f"{root} is not unpacked: run run.py --cache {cache} first")
        for path in sorted(root.rglob("*.py")):
            if not path.is_file() or path.is_symlink():
                continue
            relative = path.relative_to(root).as_posix()
            for line, (kinds, text) in sorted(module_sites(path).items()):
                sites.append(Site(name, version, relative, line, kinds, text))
    return sorted(sites, key=lambda s: (s.package, s.path, s.line))


def labelled(specs: Sequence[str]) -> set[tuple[str, str, str, int]]:
    """The sites of labels files given as `PATH` (all its sites) or `PATH:N` (its first N sites)."""
    keys: set[tuple[str, str, str, int]] = set()
    for spec in specs:
        path, _, count = spec.rpartition(":") if spec.rpartition(":")[2].isdigit() else (spec, "", "")
        with open(path, "rb") as handle:
            sites = tomllib.load(handle).get("site", [])
        for site in sites[: int(count)] if count else sites:
            keys.add((site["package"], site["version"], site["path"], site["line"]))
    return keys


def primary_kind(site: Site, kinds: Sequence[str]) -> str | None:
    """The stratum of a site: the first of `kinds` it has."""
    return next((k for k in kinds if k in site.kinds), None)


def sample(
    sites: Sequence[Site], kinds: Sequence[str], scale: float, seed: int, exclude: set[tuple[str, str, str, int]]
) -> list[Site]:
    """A stratified sample: `QUOTAS` times `scale` per kind, round-robin over packages in a seeded order."""
    rng = random.Random(seed)
    by_kind: dict[str, dict[str, list[Site]]] = defaultdict(lambda: defaultdict(list))
    for site in sites:
        kind = primary_kind(site, kinds)
        if kind is not None and (site.package, site.version, site.path, site.line) not in exclude:
            by_kind[kind][site.package].append(site)
    chosen: list[Site] = []
    for kind in kinds:
        packages = by_kind.get(kind, {})
        queues = {p: rng.sample(s, len(s)) for p, s in sorted(packages.items())}
        order = rng.sample(sorted(queues), len(queues))
        quota = max(1, round(QUOTAS[kind] * scale))
        taken = 0
        while taken < quota and any(queues.values()):
            for package in order:
                if queues[package] and taken < quota:
                    chosen.append(queues[package].pop())
                    taken += 1
    return chosen


def print_stub(site: Site) -> None:
    print("[[site]]")
    print(f'package = "{site.package}"')
    print(f'version = "{site.version}"')
    print(f'path = "{site.path}"')
    print(f"line = {site.line}")
    print(f"# {','.join(sorted(site.kinds))}: {site.text[:100]}")
    print("codes = []")
    print('reason = ""')
    print()


def main(argv: Sequence[str] | None = None) -> int:
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0] if __doc__ else None)
    parser.add_argument("--cache", type=Path, required=True, help="the run.py cache with src/ unpacked")
    parser.add_argument("--pins", type=Path, help="name==version lines (default: run.py's PACKAGES)")
    parser.add_argument("--scale", type=float, default=1.0, help="multiplies the per-kind quotas (default 1)")
    parser.add_argument("--seed", type=int, default=18)
    parser.add_argument(
        "--exclude", nargs="*", default=[], metavar="FILE[:N]", help="skip the sites of labels files (or their first N)"
    )
    parser.add_argument("--counts", action="store_true", help="print candidates per kind instead of stubs")
    parser.add_argument(
        "--kinds", nargs="+", choices=KINDS + EXTRA_KINDS, default=KINDS, help="strata to draw, in priority order"
    )
    args = parser.parse_args(argv)

    pins = read_pins(args.pins) if args.pins else list(PACKAGES)
    sites = candidates(args.cache.resolve(), pins)
    if args.counts:
        counts: dict[str | None, int] = defaultdict(int)
        for site in sites:
            counts[primary_kind(site, args.kinds)] += 1
        for kind in args.kinds:
            print(f"{kind:<16} {counts[kind]:>5}")
        print(f"{'all':<16} {len(sites):>5}")
        return 0
    for site in sample(sites, args.kinds, args.scale, args.seed, labelled(args.exclude)):
        print_stub(site)
    return 0


if __name__ == "__main__":
    sys.exit(main())
