"""Lava bundle writer: NIR graph + manifest + probe sequence with torch's expected outputs.

The bundle is read by :mod:`edge_shm.firmware_sim.bundle` and turned into a Lava process graph
by :mod:`edge_shm.firmware_sim.lava_builder` (torch-free). Format in docs/export.md.
"""

from __future__ import annotations

from pathlib import Path

import numpy as np

from edge_shm.export.nir_export import build_graph, check_expressible, snn_layers
from edge_shm.export.reference import snn_reference
from edge_shm.firmware_sim.bundle import Manifest, NeuronSpec, SynapseSpec, write_manifest


def build_manifest(model, config: dict, probe: dict) -> Manifest:
    h, w = model.height, model.width
    dt = float(model.dt)
    layers = snn_layers(model)
    neurons, synapses = [], []
    for i, layer in enumerate(layers):
        if layer["kind"] == "lif":
            scale = dt / layer["tau"] * layer["r"]
            neurons.append(
                NeuronSpec(
                    name=layer["name"],
                    channels=layer["channels"],
                    tau=layer["tau"],
                    r=layer["r"],
                    v_leak=layer["v_leak"],
                    v_threshold=layer["v_threshold"],
                    v_reset=layer["v_reset"],
                    lava_du=1.0,
                    lava_dv=dt / layer["tau"],
                    lava_vth=layer["v_threshold"],
                    input_scale=scale,
                )
            )
        else:
            nxt = layers[i + 1]["name"] if i + 1 < len(layers) else None
            c_out, c_in, k, _ = layer["weight"].shape
            synapses.append(
                SynapseSpec(
                    name=layer["name"],
                    c_in=int(c_in),
                    c_out=int(c_out),
                    kernel=int(k),
                    padding=int(layer["padding"]),
                    source=layer["source"],
                    graded_input=i == 0,
                    target=nxt,
                )
            )
    delays = {}
    for j, s in enumerate(synapses, start=1):
        delays[s.target or "readout"] = j
    return Manifest(
        model=config["model"],
        frame_shape=[h, w],
        dt=dt,
        synapses=synapses,
        neurons=neurons,
        alignment={
            "input_step_of_frame": "frame k (0-based) is sent at Lava step k + 1 (1-based)",
            "synapse_delay_steps": 1,
            "layer_delay_steps": delays,
            "rule": "the output of a layer for frame k appears at Lava step k + 1 + "
            "layer_delay_steps[layer]",
            "run_steps": f"T + {len(synapses)} for T frames (zero input in the last "
            f"{len(synapses)} steps)",
            "torch_and_nir": "no delay: all layers compute within the frame's step",
        },
        input_convention={
            "frames": "float32 in [0, 1], (T, H, W), rows x columns",
            "lava_layout": "WHC: source data (W, H, 2, steps), channel 0 the frame "
            "(transposed), channel 1 a constant 1 driving the bias units",
            "messages": "graded (num_message_bits=24) into conv1; binary spikes after",
        },
        output_convention={
            "prediction": "raw readout (not clipped), (T, H, W); clip to [0, 1] for an image",
            "lava_layout": "readout Conv a_out -> RingBuffer sink (W, H, 1, steps)",
            "spikes": "per LIF population (W, H, C + 1, steps), the last channel the bias unit",
        },
        lava={
            "run_config": 'Loihi2SimCfg(select_tag="floating_pt")',
            "processes": "RingBuffer source, Conv x 4, LIF x 3, RingBuffer sinks",
            "conv_weight_layout": "(C_out, W, H, C_in), true convolution: NIR kernel flipped "
            "in both spatial axes then transposed (0, 3, 2, 1)",
            "lif_mapping": "du = 1, dv = dt / tau, vth = v_threshold, bias_mant = 0; the input "
            "scale dt / tau * r is folded into the incoming Conv weights and bias",
            "bias": "one extra bias-unit channel per population, spiking every step from the "
            "step its first real input arrives; the next Conv reads it through its centre tap "
            "with weight input_scale * bias (readout: bias)",
            "readout": "deconv2 runs in Lava as a Conv into a non-spiking sink",
        },
        probe=probe,
    )


def export_bundle(model, config: dict, out: Path, probe_frames: np.ndarray, probe_source: str):
    """Write the bundle into the (empty) folder ``out``; returns the manifest."""
    import nir

    check_expressible(model, "lava")
    out = Path(out)
    graph = build_graph(model, config)
    nir.write(str(out / "graph.nir"), graph)
    nir.read(str(out / "graph.nir"), type_check=True)
    probe_frames = np.asarray(probe_frames, np.float32)
    ref = snn_reference(model, probe_frames)
    np.save(out / "probe_frames.npy", probe_frames)
    np.save(out / "expected_prediction.npy", ref["prediction"].astype(np.float32))
    np.savez_compressed(
        out / "expected_spikes.npz", **{k: v.astype(np.uint8) for k, v in ref["spikes"].items()}
    )
    np.savez_compressed(
        out / "expected_v.npz", **{k: v.astype(np.float32) for k, v in ref["v"].items()}
    )
    probe = {
        "frames": "probe_frames.npy",
        "prediction": "expected_prediction.npy",
        "spikes": "expected_spikes.npz",
        "v": "expected_v.npz",
        "n_frames": int(probe_frames.shape[0]),
        "source": probe_source,
        "expected_from": "torch BaseSNN.step_trace, float32, zero initial state",
    }
    manifest = build_manifest(model, config, probe)
    write_manifest(out, manifest)
    return manifest
