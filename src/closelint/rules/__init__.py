"""Rules, one module per family; every `Rule` subclass here is registered automatically."""
