"""The `deflect` command line: one module per command group, each a thin composition of the layers below."""
