"""int8 ONNX for ARM CPUs: the float step graph quantised (QDQ) by ``onnxruntime.quantization``.

``edge-shm export RUN --target onnx --int8 LIB.h5 -o OUT`` (the ``onnx-int8`` row of
:mod:`edge_shm.export.targets`; :func:`prepare` and :func:`finish` are its hooks) writes
``OUT/model.onnx`` (float, verified against torch as usual) and ``OUT/model.int8.onnx``: static
QDQ quantisation (int8 weights per channel, int8 activations) calibrated on the library's
train-split sequences, the network state fed in as it evolves over each sequence. Any model
with an ONNX step graph (the LSTM too). ``export.json`` gains ``int8``: how far the int8
forecast lies from the float one on held-out frames (frame units, [0, 1]), and the step latency
of each on this CPU (ms).
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


def prepare(job) -> np.ndarray:
    """The calibration sequences (N, T, H, W) of the library ``job.options.variant_input``:
    at most :data:`CALIBRATION_SEQUENCES` of its train split, spread evenly
    (:func:`edge_shm.data.splits.calibration_samples`); one line when it is not a library, has
    no train samples or frames of another size than the model's."""
    from edge_shm.data.frames import check_frame_shape
    from edge_shm.data.library import is_library, read_library
    from edge_shm.data.splits import calibration_samples
    from edge_shm.errors import UserError

    library = job.options.variant_input
    if not is_library(library):
        raise UserError(f"{library}: --int8 takes a library (.h5) to calibrate on")
    lib = read_library(library, load_physics=False)
    pick = calibration_samples(lib, CALIBRATION_SEQUENCES)
    if not len(pick):
        raise UserError(f"{library}: the library has no train samples")
    calib = lib.frames[pick]
    check_frame_shape(calib, (job.model.height, job.model.width))
    return calib


def finish(job, folder: Path) -> dict:
    """Quantises ``folder/model.onnx`` into ``folder/model.int8.onnx`` on the prepared
    sequences; returns ``{"int8": report}`` (compared on two held-out sequences, if any)."""
    calib, library = job.prepared, job.options.variant_input
    job.note(f"int8: quantising (QDQ) on {len(calib)} train sequences of {library}")
    quantize_step_graph(folder / "model.onnx", folder / "model.int8.onnx", calib)
    rep = {"calibration_library": str(library), "calibration_sequences": len(calib)}
    if job.held is not None:
        rep.update(int8_report(folder / "model.onnx", folder / "model.int8.onnx", job.held[:2]))
        job.note(
            f"int8: largest |int8 - float| forecast {rep['max_abs_diff_vs_float']:.3g}; "
            f"{rep['int8_ms_per_step']:.2f} ms vs {rep['float_ms_per_step']:.2f} ms per step"
        )
    return {"int8": rep}


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
    """Writes the QDQ int8 model of the step graph ``onnx_path``, calibrated on the step
    inputs over ``sequences`` (N, T, H, W)."""
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
