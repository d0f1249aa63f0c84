"""Lava (Loihi 2 simulation): the process-graph builder, its sinks, the host-side runner and
the probe that proves the Lava environment works. Imports lava-nc only inside functions, so the
host (Python 3.11, no Lava) can import this package and run Lava through ``.venv-lava``."""
