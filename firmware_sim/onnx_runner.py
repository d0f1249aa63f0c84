"""Run an exported ONNX step graph with ONNX Runtime, one frame per call (torch-free)."""

from __future__ import annotations

from pathlib import Path

import numpy as np


class OnnxStepper:
    """Streams frames through ``(frame, state...) -> (prediction, state...)``."""

    def __init__(self, path: str | Path, threads: int | None = None):
        import onnxruntime as ort

        opts = ort.SessionOptions()
        if threads:
            opts.intra_op_num_threads = threads
        self.session = ort.InferenceSession(
            str(path), sess_options=opts, providers=["CPUExecutionProvider"]
        )
        self.inputs = [i.name for i in self.session.get_inputs()]
        self.outputs = [o.name for o in self.session.get_outputs()]
        self._shapes = {i.name: i.shape for i in self.session.get_inputs()}
        if self.inputs[0] != "frame" or self.outputs[0] != "prediction":
            raise ValueError(f"{path}: not an edge-shm step graph (inputs {self.inputs})")
        self.state_names = self.inputs[1:]
        self.frame_shape = tuple(int(d) for d in self._shapes["frame"][2:])

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

    def rollout(self, frames: np.ndarray) -> np.ndarray:
        """frames (N,T,H,W) -> predictions (N,T,H,W), one per input frame."""
        frames = np.asarray(frames, np.float32)
        n, t = frames.shape[:2]
        state = self.initial_state(n)
        outs = []
        for k in range(t):
            pred, state = self.step(frames[:, k, None], state)
            outs.append(pred[:, 0])
        return np.stack(outs, axis=1)
