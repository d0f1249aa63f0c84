"""A calibrated (integer) deployment graph and its folder format.

A :class:`FixedGraph` is the deployment graph with every number an integer of the deployed
precision: kernels, biases, decays and thresholds, plus the scales that tie them to the float
model. The integer engine (``firmware_sim/int_engine.py``) and the Lava fixed-point runner
(``firmware_sim/lava/fixed.py``) consume it; ``calibrate`` (``calibration/calibrate.py``) makes it.

Folder ``CALIB/`` (format ``edge-shm-calibration`` version 3)::

    calibration.json   this dataclass without the arrays, plus the calibration report,
                       ``tensors_sha256`` (of tensors.npz) and ``values_sha256`` (of every
                       other value in calibration.json, :func:`values_sha256`)
    tensors.npz        integer kernels and biases ``LAYER.weight`` / ``LAYER.bias``
                       (numpy archive, read with allow_pickle=False)

Version 3 adds ``window`` and ``pixel_mm`` (what the calibration was made for). Version 2 lacks
them and version 1 (edge-shm 0.3 to 0.4) also ``values_sha256``; both are still read, with
``window`` and ``pixel_mm`` None. Every field is checked on reading (``fixed_checks.py``); a
folder that fails is a one-line error.
"""

from __future__ import annotations

import hashlib
import json
import zipfile
from dataclasses import asdict, dataclass, field
from pathlib import Path

import numpy as np

from edge_shm.errors import UserError
from edge_shm.firmware_sim.fixed_checks import TensorError, build, validate

FORMAT_NAME = "edge-shm-calibration"
FORMAT_VERSION = 3
READABLE_VERSIONS = (1, 2, 3)  # 1: no values_sha256; 1 and 2: no window, pixel_mm


@dataclass
class FixedLayer:
    """One synapse layer (and the LIF population it feeds, unless it is the readout).

    ``weight`` (C_out, C_in, kh, kw) and ``bias`` (C_out,) are integers, cross-correlation like
    the float graph; ``scale``: integer units of this layer's synaptic sum per float unit of
    its current (the readout's float value is the sum / ``scale``). LIF constants: ``dv``
    (of 4096), ``vth`` (loihi: the mantissa compared as ``vth << 6``; int8: the int16 value);
    int8 only: the requantisation ``multiplier`` and ``shift`` from accumulator to membrane.
    """

    name: str
    lif: str | None
    weight: np.ndarray
    bias: np.ndarray
    in_shape: tuple
    out_shape: tuple
    stride: tuple
    padding: tuple
    dilation: tuple
    scale: float
    weight_exp: int = 0
    bias_exp: int = 0
    dv: int = 0
    vth: int = 0
    multiplier: int = 1
    shift: int = 1

    def meta(self) -> dict:
        d = asdict(self)
        d.pop("weight")
        d.pop("bias")
        return d


@dataclass
class FixedGraph:
    """``target`` "loihi" or "int8"; frames (H, W) in [0, 1] enter as round(x ``input_scale``)
    into a graph of ``input_shape`` (1, H, W). ``window``: frames per forecast (n_in) and
    ``pixel_mm``: the model frame's pixel edge (mm) the run was trained for; None when unknown
    (folders of format versions 1 and 2)."""

    model: str
    target: str
    input_shape: tuple
    input_scale: int
    dt: float
    layers: list[FixedLayer]
    post: list[dict] = field(default_factory=list)
    run_sha256: str = ""
    report: dict = field(default_factory=dict)
    codec: dict | None = None  # frame codec of a network over feature rows (graph.codec)
    window: int | None = None
    pixel_mm: float | None = None

    def integer_forecast(self, readout: np.ndarray, pixels: np.ndarray) -> np.ndarray:
        """The output operations in integers, as the C firmware runs them.

        ``readout`` (C, Hr, Wr) and ``pixels`` (1, H, W), the frame as the device received it
        (``round(x input_scale)``), both integers; returns the integer forecast z (C', H', W')
        int64: depth-to-space re-indexes; keep-cracked (always the last operation) multiplies
        by ``input_scale - pixel`` (the frame's own share is added by :meth:`decode`)."""
        from edge_shm.graph import post_op_from_dict

        z = np.asarray(readout, np.int64)[None]
        for d in self.post:
            if d["op"] == "keep_cracked":
                z = z * (self.input_scale - np.asarray(pixels, np.int64)[None])
            else:
                z = post_op_from_dict(d).apply(z, None)
        return z[0]

    def decode(self, z: np.ndarray, pixels: np.ndarray) -> np.ndarray:
        """The forecast (C', H', W') float64 in frame units from the integer forecast ``z``:
        ``z / (Q scale)`` plus, after keep-cracked, the frame's share ``pixel / Q`` (Q the
        input scale, so ``f + (1 - f) x`` with f the frame the device saw and x the readout
        over its scale; without keep-cracked Q is 1)."""
        scale = float(self.layers[-1].scale)
        if not self.keeps_cracked:
            return np.asarray(z, np.int64) / scale
        q = self.input_scale
        return np.asarray(pixels, np.int64) / q + np.asarray(z, np.int64) / (q * scale)

    @property
    def keeps_cracked(self) -> bool:
        return any(d.get("op") == "keep_cracked" for d in self.post)

    def forecast(self, readout: np.ndarray, pixels: np.ndarray) -> np.ndarray:
        """The forecast (C', H', W') float64 of an integer readout (C, Hr, Wr) and the frame's
        integer pixels (1, H, W): :meth:`decode` of :meth:`integer_forecast`."""
        return self.decode(self.integer_forecast(readout, pixels), pixels)

    def quantize(self, frame: np.ndarray) -> np.ndarray:
        """Frame (H, W) in [0, 1] -> the integer pixels (1, H, W) the device receives:
        ``round(clip(x, 0, 1) input_scale)``."""
        f = np.asarray(frame, np.float64)
        return np.rint(np.clip(f, 0, 1) * self.input_scale).astype(np.int64)[None]

    @property
    def frame_shape(self) -> tuple[int, int]:
        return tuple(self.input_shape[1:])

    # --- folder -----------------------------------------------------------------------------
    def save(self, folder: Path) -> None:
        """Write calibration.json and tensors.npz into ``folder`` (which must exist)."""
        from edge_shm.jsonio import finite, write_json

        try:
            validate(self)
        except UserError as e:
            raise UserError(f"{folder}: the calibration cannot be written: {e}") from None
        tensors = {}
        for layer in self.layers:
            tensors[f"{layer.name}.weight"] = layer.weight.astype(np.int32)
            tensors[f"{layer.name}.bias"] = layer.bias.astype(np.int32)
        with open(folder / "tensors.npz", "wb") as f:
            np.savez(f, **tensors)
        meta = finite(
            {
                "format": FORMAT_NAME,
                "format_version": FORMAT_VERSION,
                **{k: v for k, v in asdict(self).items() if k != "layers"},
                "layers": [layer.meta() for layer in self.layers],
                "tensors_sha256": _sha(folder / "tensors.npz"),
            }
        )
        meta["values_sha256"] = values_sha256(meta)
        write_json(folder / "calibration.json", meta)

    @classmethod
    def load(cls, folder: str | Path) -> FixedGraph:
        from edge_shm.jsonio import read_json

        folder = Path(folder)
        meta_path, npz = folder / "calibration.json", folder / "tensors.npz"
        if not meta_path.is_file() or not npz.is_file():
            raise UserError(f"{folder}: not a calibration folder (calibration.json, tensors.npz)")
        meta = read_json(meta_path, "calibration file")
        if meta.get("format") != FORMAT_NAME:
            raise UserError(f"{meta_path}: not an edge-shm calibration")
        version = meta.get("format_version")
        if (
            not isinstance(version, int)
            or isinstance(version, bool)
            or version not in READABLE_VERSIONS
        ):
            raise UserError(f"{meta_path}: format version {version!r} unknown")
        if meta.get("tensors_sha256") != _sha(npz):
            raise UserError(f"{npz}: checksum differs from calibration.json (tampered)")
        if version >= 2 and meta.get("values_sha256") != values_sha256(meta):
            raise UserError(f"{meta_path}: values_sha256 differs from its values (tampered)")
        try:
            with np.load(npz, allow_pickle=False) as z:
                arrays = {k: z[k] for k in z.files}
        except (OSError, ValueError, EOFError, zipfile.BadZipFile) as e:
            raise UserError(f"{npz}: unreadable ({type(e).__name__}: {_line(e)})") from None
        try:
            return build(cls, FixedLayer, meta, arrays, version)
        except TensorError as e:
            raise UserError(f"{npz}: {e}") from None
        except UserError as e:
            raise UserError(f"{meta_path}: {e}") from None
        except (KeyError, TypeError, ValueError) as e:
            raise UserError(f"{meta_path}: malformed ({type(e).__name__}: {_line(e)})") from None


def values_sha256(meta: dict) -> str:
    """SHA-256 of calibration.json's values but ``values_sha256`` itself (canonical JSON:
    sorted keys, no spaces), so that a changed scale or threshold is seen as tampering."""
    rest = {k: v for k, v in meta.items() if k != "values_sha256"}
    try:
        text = json.dumps(rest, sort_keys=True, separators=(",", ":"), ensure_ascii=True)
    except (TypeError, ValueError, RecursionError):
        return "not hashable"
    return hashlib.sha256(text.encode()).hexdigest()


def _line(e: Exception) -> str:
    return " ".join(str(e).split())[:200]


def _sha(path: Path) -> str:
    return hashlib.sha256(path.read_bytes()).hexdigest()


def is_calibration(path: Path) -> bool:
    return (Path(path) / "calibration.json").is_file()
