"""closelint: find socket misuse in Python source and close connections without losing data."""

__version__ = "0.1.0"
