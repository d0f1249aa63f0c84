"""The step and sequence traces (defined in :mod:`edge_shm.neuro.trace`, where the chain
stepper that fills them lives)."""

from edge_shm.neuro.trace import SequenceTrace, Trace

__all__ = ["SequenceTrace", "Trace"]
