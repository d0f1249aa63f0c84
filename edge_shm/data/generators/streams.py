"""Random streams of generated libraries: one per sample, from (seed, sample index) only.

Sample i of a library draws from ``SeedSequence(seed, spawn_key=(i,))``, numpy's own way of
giving independent streams to parallel workers (the i-th child of ``SeedSequence(seed).spawn``).
So any process can simulate any sample, and shards built apart hold exactly the samples of a
build in one process. Libraries written before edge-shm 0.2.0 drew all samples from one stream
``default_rng(seed)``; they still load, but the same seed now gives other samples.
"""

from __future__ import annotations

import numpy as np


def sample_rng(seed: int, index: int) -> np.random.Generator:
    """The generator of sample ``index`` of a library built with ``seed``."""
    return np.random.default_rng(np.random.SeedSequence(seed, spawn_key=(index,)))
