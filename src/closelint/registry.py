"""The one place rules are registered: every `Rule` subclass in the modules of `closelint.rules`."""

from __future__ import annotations

import importlib
import pkgutil
import re
from functools import cache

from closelint import rules as rules_package
from closelint.rule import Rule

CODE_PATTERN = re.compile(r"CL\d{3}")
#: the pseudo-rule for files that cannot be read or parsed
PARSE_ERROR = "CL000"
#: the pseudo-rule for a noqa directive naming a closelint code that silences nothing (ruff's RUF100)
UNUSED_NOQA = "CL001"
#: the codes of the rules below, checked by `all_rules` against the rules it finds: what a run answered from
#: the cache, which imports no rule, needs to tell a code of this closelint from a forged one
RULE_CODES = frozenset({"CL101", "CL102", "CL103", "CL201", "CL202", "CL301", "CL401", "CL501", "CL502", "CL503"})


@cache
def all_rules() -> dict[str, type[Rule]]:
    """Every rule class by code, sorted by code; codes and names are checked to be unique."""
    found: dict[str, type[Rule]] = {}
    names: set[str] = set()
    for info in pkgutil.iter_modules(rules_package.__path__):
        module = importlib.import_module(f"{rules_package.__name__}.{info.name}")
        for value in vars(module).values():
            if isinstance(value, type) and issubclass(value, Rule) and value.__module__ == module.__name__:
                if not CODE_PATTERN.fullmatch(value.code):
                    raise ValueError(f"rule {value.__name__} has a malformed code {value.code!r}")
                if value.code in found or value.name in names:
                    raise ValueError(f"rule {value.code} ({value.name}) is registered twice")
                found[value.code] = value
                names.add(value.name)
    if set(found) != RULE_CODES:
        raise ValueError(f"RULE_CODES does not list the registered rules: {sorted(set(found) ^ RULE_CODES)}")
    return dict(sorted(found.items()))


def known_codes() -> frozenset[str]:
    """Every code closelint can report, CL000 and CL001 included."""
    return frozenset(all_rules()) | {PARSE_ERROR, UNUSED_NOQA}
