"""The shared analysis core: which sockets a scope owns and what happens to them on every path."""
