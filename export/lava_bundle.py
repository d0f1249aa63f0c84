"""Lava bundle writer: NIR graph + manifest (format 2) + probe sequence with torch's outputs.

The bundle is read by :mod:`edge_shm.firmware_sim.bundle` and turned into a Lava process graph
by :mod:`edge_shm.firmware_sim.lava.builder` (torch-free). Format in docs/export.md.
"""

from __future__ import annotations

from pathlib import Path

import numpy as np

from edge_shm.firmware_sim.bundle import Manifest, NeuronSpec, SynapseSpec, write_manifest
from edge_shm.firmware_sim.lava.builder import plan
from edge_shm.graph.nir_io import write_nir
from edge_shm.neuro.lif import FloatLIF


def build_manifest(graph, probe: dict) -> Manifest:
    c, h, w = graph.input_shape
    neurons, synapses = [], []
    shapes = dict(zip([layer.name for layer in graph.layers], graph.shapes(), strict=True))
    for idx, (conv, lif) in enumerate(graph.synapse_chain()):
        synapses.append(
            SynapseSpec(
                name=conv.name,
                c_in=conv.c_in,
                c_out=conv.c_out,
                kernel=list(conv.kernel),
                padding=list(conv.padding),
                source=conv.source,
                graded_input=idx == 0,
                target=lif.name if lif else None,
                stride=list(conv.stride),
                dilation=list(conv.dilation),
                groups=conv.groups,
            )
        )
        if lif is not None:
            neuron = FloatLIF(lif.params(graph.dt))
            lava = neuron.lava_params()  # the LIF constants the Lava builder gives
            neurons.append(
                NeuronSpec(
                    name=lif.name,
                    channels=conv.c_out,
                    tau=lif.scalar("tau"),
                    r=lif.scalar("r"),
                    v_leak=lif.scalar("v_leak"),
                    v_threshold=lif.scalar("v_threshold"),
                    v_reset=lif.scalar("v_reset"),
                    lava_du=lava["du"],
                    lava_dv=lava["dv"],
                    lava_vth=lava["vth"],
                    input_scale=neuron.input_gain,
                    shape=list(shapes[lif.name]),
                )
            )
    delays = {(s.target or "readout"): j for j, s in enumerate(synapses, start=1)}
    depth = len(synapses)
    return Manifest(
        model=graph.model,
        frame_shape=[h, w],
        dt=float(graph.dt),
        synapses=synapses,
        neurons=neurons,
        post=[op.to_dict() for op in graph.post],
        alignment={
            "input_step_of_frame": "frame k (0-based) is sent at Lava step k + 1 (1-based)",
            "synapse_delay_steps": 1,
            "layer_delay_steps": delays,
            "rule": "the output of a layer for frame k appears at Lava step k + 1 + "
            "layer_delay_steps[layer]",
            "run_steps": f"T + {depth} for T frames (zero input in the last {depth} steps)",
            "torch_and_nir": "no delay: all layers compute within the frame's step",
        },
        input_convention={
            "frames": "float32 in [0, 1], (T, H, W), rows x columns",
            "lava_layout": f"WHC: source data (W, H, {c + 1}, steps), the frame's channels "
            "(transposed) then a constant 1 driving the bias units",
            "messages": "graded (num_message_bits=24) into the first Conv; binary spikes after",
        },
        output_convention={
            "prediction": "the forecast frame (T, H, W): the readout after the output "
            "operations in 'post', raw (not clipped); clip to [0, 1] for an image",
            "lava_layout": "readout Conv a_out -> sink (W, H, C_readout, steps)",
            "spikes": "per LIF population (W, H, C + 1, steps), the last channel the bias unit",
            "post": "fixed output operations applied in order to the aligned readout "
            "(depth_to_space: torch pixel_shuffle order), identically by every backend",
        },
        lava={
            "run_config": 'Loihi2SimCfg(select_tag="floating_pt")',
            "processes": f"RingBuffer source, Conv x {depth}, LIF x {len(neurons)}, sinks",
            "conv_weight_layout": "(C_out, W, H, C_in), true convolution: NIR kernel flipped "
            "in both spatial axes then transposed (0, 3, 2, 1); stride, padding and dilation "
            "in (x, y) order",
            "lif_mapping": "du = 1, dv = dt / tau, vth = v_threshold, bias_mant = 0; the input "
            "scale dt / tau * r is folded into the incoming Conv weights and bias",
            "bias": "one extra bias-unit channel per population, spiking every step from the "
            "step its first real input arrives; the next Conv reads it through a kernel tap "
            "that lands inside the input for every output pixel, with weight input_scale * "
            "bias (readout: bias)",
            "readout": "the last Conv runs in Lava into a non-spiking sink",
        },
        probe=probe,
        extra={} if graph.codec is None else {"codec": graph.codec},
    )


def export_bundle(model, config: dict, out: Path, probe_frames: np.ndarray, probe_source: str):
    """Write the bundle into the (empty) folder ``out``; returns the manifest. ``probe_frames``
    (T, H, W) in [0, 1] is the sequence whose torch outputs the bundle keeps as the expected
    ones; ``probe_source`` says where it came from."""
    from edge_shm.export.nir import transposed_note
    from edge_shm.export.reference import torch_trace

    out = Path(out)
    graph = model.lower()
    plan(graph)  # refuses, in one line, a graph Lava cannot run
    write_nir(graph, out / "graph.nir", transposed_note(graph))
    probe_frames = np.asarray(probe_frames, np.float32)
    ref = torch_trace(model, probe_frames)
    np.save(out / "probe_frames.npy", probe_frames)
    np.save(out / "expected_prediction.npy", ref.prediction.astype(np.float32))
    np.savez_compressed(
        out / "expected_spikes.npz", **{k: v.astype(np.uint8) for k, v in ref.spikes.items()}
    )
    np.savez_compressed(
        out / "expected_v.npz", **{k: v.astype(np.float32) for k, v in ref.v_pre.items()}
    )
    probe = {
        "frames": "probe_frames.npy",
        "prediction": "expected_prediction.npy",
        "spikes": "expected_spikes.npz",
        "v": "expected_v.npz",
        "n_frames": int(probe_frames.shape[0]),
        "source": probe_source,
        "expected_from": f"torch {type(model).__name__}.trace_step, float32, zero state",
    }
    manifest = build_manifest(graph, probe)
    write_manifest(out, manifest)
    return manifest
