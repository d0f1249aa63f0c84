"""int8 ONNX for ARM CPUs: the float step graph quantised (QDQ) by ``onnxruntime.quantization``.

``edge-shm export RUN --target onnx --int8 LIB.h5 -o OUT`` writes ``OUT/model.onnx`` (float,
verified against torch as usual) and ``OUT/model.int8.onnx``: static QDQ quantisation (int8
weights per channel, int8 activations) calibrated on the library's train-split sequences, the
network state fed in as it evolves over each sequence. Any model with an ONNX step graph (the
LSTM too). ``export.json`` gains ``int8``: how far the int8 forecast lies from the float one
on held-out frames, and the step latency of each on this CPU.
"""

from __future__ import annotations

import time
from pathlib import Path

import numpy as np

CALIBRATION_SEQUENCES = 8
# Only the synapses: their inputs (frames, spikes, LSTM hidden states) and weights go int8; the
# neuron and gate arithmetic stays float. Quantising the membrane state too moves spikes across
# the threshold (measured on the base SNN: mean |int8 - float| forecast 0.32, against 1e-2 here).
QUANTIZED_OPS = ["Conv", "ConvTranspose", "MatMul", "Gemm"]


def _feeds(onnx_path: Path, sequences: np.ndarray) -> list[dict]:
    """The step graph's inputs over each sequence from a zero state (frame and state)."""
    from edge_shm.firmware_sim.onnx_runner import OnnxStepper

    stepper = OnnxStepper(onnx_path)
    feeds = []
    for seq in sequences:
        state = stepper.initial_state(1)
        for f in seq:
            frame = np.ascontiguousarray(f[None, None], np.float32)
            feeds.append({"frame": frame, **dict(zip(stepper.state_names, state, strict=True))})
            _, state = stepper.step(frame, state)
    return feeds


def quantize_step_graph(onnx_path: Path, out_path: Path, sequences: np.ndarray) -> None:
    from onnxruntime.quantization import (
        CalibrationDataReader,
        QuantFormat,
        QuantType,
        quantize_static,
    )

    class Reader(CalibrationDataReader):
        def __init__(self, feeds):
            self.it = iter(feeds)

        def get_next(self):
            return next(self.it, None)

    import logging

    logging.getLogger().setLevel(logging.ERROR)  # onnxruntime's "consider pre-processing" advice
    quantize_static(
        str(onnx_path),
        str(out_path),
        Reader(_feeds(onnx_path, sequences)),
        quant_format=QuantFormat.QDQ,
        activation_type=QuantType.QInt8,
        weight_type=QuantType.QInt8,
        per_channel=True,
        op_types_to_quantize=QUANTIZED_OPS,
    )


def stream_timed(path: Path, seqs: np.ndarray) -> tuple[np.ndarray, float]:
    """Forecasts of a step graph over ``seqs`` (N, T, H, W) and its mean step time in ms."""
    from edge_shm.firmware_sim.onnx_runner import OnnxStepper
    from edge_shm.firmware_sim.stepper import stream

    stepper = OnnxStepper(path)
    t0 = time.perf_counter()
    pred = stream(stepper, seqs)
    return pred, 1e3 * (time.perf_counter() - t0) / (seqs.shape[0] * seqs.shape[1])


def int8_report(float_path: Path, int8_path: Path, held: np.ndarray) -> dict:
    """int8 vs float forecasts (clipped to [0, 1]) and per-step latency on this CPU."""
    f_pred, f_ms = stream_timed(float_path, held)
    q_pred, q_ms = stream_timed(int8_path, held)
    diff = np.abs(np.clip(q_pred, 0, 1) - np.clip(f_pred, 0, 1))
    return {
        "sequences": int(held.shape[0]),
        "max_abs_diff_vs_float": float(diff.max()),
        "mean_abs_diff_vs_float": float(diff.mean()),
        "float_ms_per_step": f_ms,
        "int8_ms_per_step": q_ms,
        "int8_bytes": int(int8_path.stat().st_size),
        "float_bytes": int(float_path.stat().st_size),
    }
