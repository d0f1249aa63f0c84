"""A tiny Lava process graph that proves the Lava environment works, and its numpy reference.

Graph: RingBuffer source (binary spikes) -> Dense -> LIF -> RingBuffer sink, run with
``Loihi2SimCfg(select_tag="floating_pt")``. Lava delivers a Dense output one step after its input
(one step of latency per synapse layer); :func:`reference_lif` models that explicitly.

Run ``python -m edge_shm.firmware_sim.lava.probe`` inside ``.venv-lava``: it prints JSON with the
input, the weights and the spikes Lava produced.
"""

from __future__ import annotations

import json
import sys

import numpy as np

from edge_shm.neuro.lif import FloatLIF, LIFParams


def probe_inputs(seed: int = 0, n_in: int = 6, n_out: int = 4, steps: int = 20):
    """Seeded binary input spikes (n_in, steps) and weights (n_out, n_in)."""
    rng = np.random.default_rng(seed)
    spikes = (rng.random((n_in, steps)) < 0.4).astype(float)
    weights = rng.uniform(-0.2, 0.9, (n_out, n_in)).round(3)
    return spikes, weights


def reference_lif(
    spikes_in: np.ndarray,
    weights: np.ndarray,
    du: float,
    dv: float,
    vth: float,
    synapse_delay: int = 1,
) -> tuple[np.ndarray, np.ndarray]:
    """Lava's floating-point LIF fed through Dense, by the shared LIF step
    (:func:`edge_shm.neuro.lif.lif_step` with ``scale = 1``, Lava's current-based form).

    a_in at step t is the Dense output of the input at step t - ``synapse_delay``.
    Returns spikes (n_out, steps) and v after each step (n_out, steps).
    """
    neuron = FloatLIF(LIFParams(dv=dv, du=du, scale=1.0, v_th=vth))
    n_out, steps = weights.shape[0], spikes_in.shape[1]
    state = neuron.initial_state((n_out,))
    out, vs = np.zeros((n_out, steps)), np.zeros((n_out, steps))
    for t in range(steps):
        a = weights @ spikes_in[:, t - synapse_delay] if t >= synapse_delay else np.zeros(n_out)
        z, _, state = neuron.step(a, state)
        out[:, t], vs[:, t] = z, state.v
    return out, vs


def probe_in_lava(spikes_in: np.ndarray, weights: np.ndarray, du: float, dv: float, vth: float):
    """Run the probe graph in Lava (floating_pt); returns output spikes (n_out, steps)."""
    from lava.magma.core.run_conditions import RunSteps
    from lava.magma.core.run_configs import Loihi2SimCfg
    from lava.proc.dense.process import Dense
    from lava.proc.io.sink import RingBuffer as Sink
    from lava.proc.io.source import RingBuffer as Source
    from lava.proc.lif.process import LIF

    steps = spikes_in.shape[1]
    src = Source(data=spikes_in)
    dense = Dense(weights=weights)
    lif = LIF(shape=(weights.shape[0],), du=du, dv=dv, vth=vth, bias_mant=0.0)
    sink = Sink(shape=(weights.shape[0],), buffer=steps)
    src.s_out.connect(dense.s_in)
    dense.a_out.connect(lif.a_in)
    lif.s_out.connect(sink.a_in)
    sink.run(condition=RunSteps(num_steps=steps), run_cfg=Loihi2SimCfg(select_tag="floating_pt"))
    spikes = sink.data.get().copy()
    sink.stop()
    return spikes


def main() -> int:
    spikes_in, weights = probe_inputs()
    params = {"du": 0.5, "dv": 0.5, "vth": 0.6}
    out = probe_in_lava(spikes_in, weights, **params)
    print(
        json.dumps(
            {
                "params": params,
                "spikes_in": spikes_in.tolist(),
                "weights": weights.tolist(),
                "spikes_out": out.tolist(),
            }
        )
    )
    return 0


if __name__ == "__main__":
    sys.exit(main())
