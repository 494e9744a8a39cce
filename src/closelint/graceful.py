"""The graceful-close helper under its former name, for code that was fixed to import it from here.

The helper itself is the stdlib-only `closelint_graceful` (distribution `closelint-graceful`), which
`closelint check --fix` now imports, so that fixed code does not depend on closelint at run time.
"""

from closelint_graceful import *  # noqa: F403  # every public name, as closelint_graceful.__all__ lists them
from closelint_graceful import __all__ as __all__
