"""Run an exported ONNX step graph with ONNX Runtime, one frame per call (torch-free)."""

from __future__ import annotations

from pathlib import Path

import numpy as np

from edge_shm.errors import UserError


def onnx_metadata(path) -> dict[str, str]:
    """The ``metadata_props`` of an ONNX file, read by ONNX Runtime (one-line error when it
    cannot load the file)."""
    return OnnxStepper(path).metadata


class OnnxStepper:
    """Streams frames through ``(frame, state...) -> (prediction, state...)`` (a Stepper)."""

    def __init__(self, path: str | Path, threads: int | None = None):
        import onnxruntime as ort

        opts = ort.SessionOptions()
        opts.log_severity_level = 3
        if threads:
            opts.intra_op_num_threads = threads
        try:
            self.session = ort.InferenceSession(
                str(path), sess_options=opts, providers=["CPUExecutionProvider"]
            )
        except Exception as e:  # onnxruntime raises its own types for broken files
            msg = str(e).strip().splitlines()[0][:160] if str(e).strip() else type(e).__name__
            raise UserError(f"{path}: not a loadable ONNX model ({msg})") from None
        self.inputs = [i.name for i in self.session.get_inputs()]
        self.outputs = [o.name for o in self.session.get_outputs()]
        self._shapes = {i.name: i.shape for i in self.session.get_inputs()}
        if not self.inputs or self.inputs[0] != "frame" or self.outputs[0] != "prediction":
            raise UserError(f"{path}: not an edge-shm step graph (inputs {self.inputs})")
        self.state_names = self.inputs[1:]
        dims = self._shapes["frame"][2:]
        if len(dims) != 2 or not all(isinstance(d, int) for d in dims):
            raise UserError(f"{path}: the 'frame' input has no fixed (H, W): {dims}")
        for n in self.state_names:
            if not all(isinstance(d, int) for d in self._shapes[n][1:]):
                raise UserError(f"{path}: state {n!r} has no fixed shape")
        self.frame_shape = tuple(int(d) for d in dims)
        self.metadata = dict(self.session.get_modelmeta().custom_metadata_map)

    def initial_state(self, batch: int = 1) -> list[np.ndarray]:
        return [
            np.zeros((batch, *[int(d) for d in self._shapes[n][1:]]), np.float32)
            for n in self.state_names
        ]

    def step(self, frame: np.ndarray, state: list[np.ndarray]):
        """frame (B,1,H,W) float32 -> prediction (B,1,H,W), next state."""
        feed = {"frame": np.ascontiguousarray(frame, np.float32)}
        feed.update(zip(self.state_names, state, strict=True))
        res = self.session.run(self.outputs, feed)
        return res[0], res[1:]
