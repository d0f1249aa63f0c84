"""ONNX streaming step graph: ``(frame, state...) -> (prediction, state...)``.

A device feeds one sensor frame at a time and carries the state tensors between calls. Inputs
are named ``frame`` and the model's ``state_names`` (base SNN: ``v1, v2, v3``; LSTM:
``frames_prev, conv1_prev, h1, h2, c1, c2``); outputs are ``prediction`` (the forecast frame,
raw, not clipped) and ``<state>_next``. The batch axis is dynamic (named ``batch``); a device
uses batch 1. All states start at zero. Any registered model exports: the graph is the model's
own ``step``.
"""

from __future__ import annotations

import copy
import json
import warnings
from pathlib import Path

import torch
from torch import nn

OPSET = 17
EXPORTER = {"opset_version": OPSET, "dynamo": False, "do_constant_folding": True}


class StepGraph(nn.Module):
    """Wraps ``model.step`` with flat tensor arguments, as torch.onnx.export needs them."""

    def __init__(self, model):
        super().__init__()
        self.model = model

    def forward(self, frame, *state):
        out, new = self.model.step(frame, tuple(state))
        return (out, *new)


def io_names(model) -> tuple[list[str], list[str]]:
    states = list(model.state_names)
    return ["frame", *states], ["prediction", *[f"{s}_next" for s in states]]


def export_onnx(model, config: dict, path: Path) -> dict:
    """Write the step graph of ``model`` to ``path``; returns a description (names, opset)."""
    import onnx

    model = copy.deepcopy(model).cpu().eval()
    h, w = model.height, model.width
    frame = torch.zeros(1, 1, h, w)
    state = model.initial_state(1, torch.device("cpu"))
    inputs, outputs = io_names(model)
    dynamic = {name: {0: "batch"} for name in inputs + outputs}
    with torch.no_grad(), warnings.catch_warnings():
        # Norse builds constants with torch.as_tensor inside step: the tracer warns, harmlessly.
        warnings.filterwarnings("ignore", category=torch.jit.TracerWarning)
        warnings.filterwarnings("ignore", category=DeprecationWarning)
        names = {"input_names": inputs, "output_names": outputs, "dynamic_axes": dynamic}
        torch.onnx.export(StepGraph(model), (frame, *state), str(path), **names, **EXPORTER)
    proto = onnx.load(str(path))
    info = {
        "edge_shm_model": config["model"],
        "edge_shm_frame_shape": json.dumps([h, w]),
        "edge_shm_state_names": json.dumps(list(model.state_names)),
        "edge_shm_state_shapes": json.dumps([list(s.shape[1:]) for s in state]),
        "edge_shm_convention": (
            "one call per frame; inputs frame (B,1,H,W) and the states; outputs prediction "
            "(B,1,H,W, the forecast frame, raw, unclipped) and the next states; states start "
            "at zero"
        ),
    }
    if model.codec is not None:
        info["edge_shm_codec"] = json.dumps(model.codec.to_dict())
        info["edge_shm_convention"] += (
            "; the frame is the codec's feature row of the camera frames (edge_shm_codec, "
            "edge_shm.firmware_sim.codec) and the prediction its readout row"
        )
    for k, v in info.items():
        proto.metadata_props.add(key=k, value=v)
    onnx.save(proto, str(path))
    onnx.checker.check_model(str(path))
    return {
        "opset": OPSET,
        "inputs": inputs,
        "outputs": outputs,
        "state_shapes": {
            n: list(s.shape[1:]) for n, s in zip(model.state_names, state, strict=True)
        },
        "bytes": path.stat().st_size,
    }
