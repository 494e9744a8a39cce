"""The graceful-close helper under its former name, for code that was fixed to import it from here.

The helper itself is the stdlib-only `closelint_graceful` (distribution `closelint-graceful`), which
`closelint check --fix` now imports, so that fixed code does not depend on closelint at run time.
"""

from closelint_graceful import (
    DEFAULT_MAX_DRAIN_BYTES,
    DEFAULT_TIMEOUT,
    CloseOutcome,
    CloseStatus,
    graceful,
    graceful_aclose,
    graceful_close,
)

__all__ = [
    "DEFAULT_MAX_DRAIN_BYTES",
    "DEFAULT_TIMEOUT",
    "CloseOutcome",
    "CloseStatus",
    "graceful",
    "graceful_aclose",
    "graceful_close",
]
