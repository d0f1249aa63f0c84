"""The ``edge-shm`` command line: one app, one thin module per command group."""

from edge_shm.cli.main import app, main

__all__ = ["app", "main"]
