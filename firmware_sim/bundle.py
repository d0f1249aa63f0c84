"""The Lava bundle: a folder a device-side runtime reads without torch.

    BUNDLE/
      manifest.json         the :class:`Manifest` below (plain JSON)
      graph.nir             the NIR graph (nir.read(..., type_check=True) loads it)
      probe_frames.npy      (T, H, W) float32 probe sequence (held-out frames when known)
      expected_prediction.npy  (T, H, W) float32: torch's raw prediction after each probe frame
      expected_spikes.npz   lif1, lif2, lif3: (T, C, H, W) uint8 torch spikes
      expected_v.npz        lif1, lif2, lif3: (T, C, H, W) float32 torch membrane potential
                            before the threshold (to judge spikes that sit on the threshold)

Every field is documented in docs/export.md.
"""

from __future__ import annotations

import json
from dataclasses import asdict, dataclass, field
from pathlib import Path

import numpy as np

BUNDLE_FORMAT = "edge-shm-lava-bundle"
BUNDLE_VERSION = 1
MANIFEST = "manifest.json"


class BundleError(ValueError):
    """A folder that is not a readable bundle (the host CLI turns it into a one-line error)."""


@dataclass
class NeuronSpec:
    """One LIF population: NIR parameters and their Lava floating-point mapping."""

    name: str
    channels: int
    tau: float  # s (NIR)
    r: float
    v_leak: float
    v_threshold: float
    v_reset: float
    lava_du: float  # 1: no current memory (Norse box LIF has no synaptic current)
    lava_dv: float  # dt / tau
    lava_vth: float
    input_scale: float  # dt / tau * r, folded into the incoming synaptic weights and bias


@dataclass
class SynapseSpec:
    """One convolution (cross-correlation in NIR; Lava Conv is a true convolution, WHC)."""

    name: str
    c_in: int
    c_out: int
    kernel: int
    padding: int
    source: str  # the torch layer type it came from
    graded_input: bool  # True: real-valued messages (num_message_bits > 0), False: spikes
    target: str | None  # the LIF population it feeds, or None for the readout


@dataclass
class Manifest:
    model: str
    frame_shape: list[int]  # [H, W]
    dt: float  # s; NIR has no dt
    synapses: list[SynapseSpec]
    neurons: list[NeuronSpec]
    alignment: dict
    input_convention: dict
    output_convention: dict
    lava: dict
    probe: dict
    nir_file: str = "graph.nir"
    format: str = BUNDLE_FORMAT
    version: int = BUNDLE_VERSION
    extra: dict = field(default_factory=dict)

    def to_dict(self) -> dict:
        return asdict(self)

    @classmethod
    def from_dict(cls, d: dict) -> Manifest:
        d = dict(d)
        d["synapses"] = [SynapseSpec(**s) for s in d["synapses"]]
        d["neurons"] = [NeuronSpec(**n) for n in d["neurons"]]
        return cls(**d)

    def layer_delay(self, name: str) -> int:
        return int(self.alignment["layer_delay_steps"][name])


@dataclass
class Bundle:
    path: Path
    manifest: Manifest

    def graph(self):
        import nir

        return nir.read(str(self.path / self.manifest.nir_file), type_check=True)

    def probe_frames(self) -> np.ndarray:
        return np.load(self.path / self.manifest.probe["frames"], allow_pickle=False)

    def expected(self) -> dict:
        p = self.manifest.probe
        with np.load(self.path / p["spikes"]) as s, np.load(self.path / p["v"]) as v:
            return {
                "prediction": np.load(self.path / p["prediction"], allow_pickle=False),
                "spikes": {k: s[k].astype(bool) for k in s.files},
                "v": {k: v[k] for k in v.files},
            }


def is_bundle(path) -> bool:
    return (Path(path) / MANIFEST).is_file()


def read_bundle(path) -> Bundle:
    path = Path(path)
    if not path.is_dir() or not (path / MANIFEST).is_file():
        raise BundleError(f"{path}: not a Lava bundle (no {MANIFEST})")
    try:
        data = json.loads((path / MANIFEST).read_text())
    except (OSError, UnicodeDecodeError, json.JSONDecodeError) as e:
        raise BundleError(f"{path}/{MANIFEST}: unreadable JSON ({type(e).__name__})") from None
    if data.get("format") != BUNDLE_FORMAT:
        raise BundleError(f"{path}/{MANIFEST}: not an edge-shm Lava bundle manifest")
    if data.get("version") != BUNDLE_VERSION:
        raise BundleError(f"{path}/{MANIFEST}: bundle version {data.get('version')} unsupported")
    try:
        manifest = Manifest.from_dict(data)
    except TypeError as e:
        raise BundleError(f"{path}/{MANIFEST}: malformed manifest ({e})") from None
    if not (path / manifest.nir_file).is_file():
        raise BundleError(f"{path}: bundle lacks its NIR graph {manifest.nir_file}")
    return Bundle(path, manifest)


def write_manifest(path, manifest: Manifest) -> None:
    Path(path, MANIFEST).write_text(json.dumps(manifest.to_dict(), indent=2) + "\n")
