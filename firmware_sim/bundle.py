"""The Lava bundle: a folder a device-side runtime reads without torch.

    BUNDLE/
      manifest.json            the :class:`Manifest` below (plain JSON, format version 2)
      graph.nir                the NIR graph of the deployment graph (type-checked)
      probe_frames.npy         (T, H, W) float32 probe sequence (held-out frames when known)
      expected_prediction.npy  (T, H, W) float32: torch's forecast after each probe frame
      expected_spikes.npz      per LIF layer: (T, C, H, W) uint8 torch spikes
      expected_v.npz           per LIF layer: (T, C, H, W) float32 torch membrane before the
                               threshold (to judge spikes that sit on it)

Format 2 adds, over format 1 (edge-shm 0.1.0, still read): strided and dilated convolutions
(``kernel``, ``stride``, ``padding``, ``dilation`` as [rows, columns]), each population's
``shape``, and ``post``, the fixed output operations after the readout (a depth-to-space
re-indexing, ...), applied identically by every backend. Every path inside a bundle must stay
inside it. Field by field in docs/export.md.
"""

from __future__ import annotations

import json
from dataclasses import asdict, dataclass, field
from pathlib import Path

import numpy as np

from edge_shm.errors import UserError

BUNDLE_FORMAT = "edge-shm-lava-bundle"
BUNDLE_VERSION = 2
READABLE_VERSIONS = (1, 2)
MANIFEST = "manifest.json"


class BundleError(UserError):
    """A folder that is not a readable bundle (one line)."""


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
    shape: list[int] = field(default_factory=list)  # [C, H, W]


@dataclass
class SynapseSpec:
    """One convolution (cross-correlation in NIR; Lava Conv is a true convolution, WHC)."""

    name: str
    c_in: int
    c_out: int
    kernel: list[int]  # [rows, columns]
    padding: list[int]
    source: str  # the torch layer type it came from
    graded_input: bool  # True: real-valued messages (num_message_bits > 0), False: spikes
    target: str | None  # the LIF population it feeds, or None for the readout
    stride: list[int] = field(default_factory=lambda: [1, 1])
    dilation: list[int] = field(default_factory=lambda: [1, 1])
    groups: int = 1


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
    post: list[dict] = field(default_factory=list)
    nir_file: str = "graph.nir"
    format: str = BUNDLE_FORMAT
    version: int = BUNDLE_VERSION
    extra: dict = field(default_factory=dict)

    def to_dict(self) -> dict:
        return asdict(self)

    @classmethod
    def from_dict(cls, d: dict) -> Manifest:
        """Format 2, or format 1 upgraded in memory (stride 1, no output operations)."""
        d = dict(d)
        version = d.get("version")
        if version == 1:
            for s in d.get("synapses", []):
                s["kernel"], s["padding"] = [s["kernel"]] * 2, [s["padding"]] * 2
            h, w = d["frame_shape"]
            for n in d.get("neurons", []):
                n["shape"] = [n["channels"], h, w]
            d["version"] = BUNDLE_VERSION
        d["synapses"] = [SynapseSpec(**s) for s in d["synapses"]]
        d["neurons"] = [NeuronSpec(**n) for n in d["neurons"]]
        m = cls(**d)
        if not (isinstance(m.frame_shape, list) and len(m.frame_shape) == 2):
            raise TypeError("frame_shape must be [H, W]")
        if not (isinstance(m.dt, int | float) and m.dt > 0):
            raise TypeError("dt must be a positive number of seconds")
        return m

    def layer_delay(self, name: str) -> int:
        return int(self.alignment["layer_delay_steps"][name])


def inside(bundle: Path, name) -> Path:
    """``bundle / name``, refusing names that leave the bundle (absolute, ``..``, links)."""
    if not isinstance(name, str) or not name or Path(name).is_absolute():
        raise BundleError(
            f"{bundle}/{MANIFEST}: file name {name!r} is not a name inside the bundle"
        )
    path = (bundle / name).resolve()
    if bundle.resolve() not in path.parents:
        raise BundleError(f"{bundle}/{MANIFEST}: file name {name!r} points outside the bundle")
    return path


@dataclass
class Bundle:
    path: Path
    manifest: Manifest

    def file(self, name: str) -> Path:
        path = inside(self.path, name)
        if not path.is_file():
            raise BundleError(f"{self.path}: bundle lacks its file {name}")
        return path

    def graph(self):
        """The :class:`~edge_shm.graph.DeploymentGraph` (weights from the NIR file; dt and the
        output operations from the manifest)."""
        from edge_shm.graph import GraphError, post_op_from_dict
        from edge_shm.graph.nir_io import read_nir

        try:
            g = read_nir(self.file(self.manifest.nir_file), dt=self.manifest.dt)
            g.post = [post_op_from_dict(d) for d in self.manifest.post]
            extra = self.manifest.extra if isinstance(self.manifest.extra, dict) else {}
            g.codec = extra.get("codec")
            g.model = self.manifest.model
            g.validate()
        except (GraphError, TypeError, ValueError) as e:
            raise BundleError(f"{self.path}: {e}") from None
        return g

    def probe_frames(self) -> np.ndarray:
        from edge_shm.data.frames import load_npy

        return load_npy(self.file(self.manifest.probe["frames"]))

    def expected(self) -> dict:
        from edge_shm.data.frames import load_npy

        p = self.manifest.probe
        with np.load(self.file(p["spikes"])) as s, np.load(self.file(p["v"])) as v:
            return {
                "prediction": load_npy(self.file(p["prediction"])),
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
    if not isinstance(data, dict) or data.get("format") != BUNDLE_FORMAT:
        raise BundleError(f"{path}/{MANIFEST}: not an edge-shm Lava bundle manifest")
    if data.get("version") not in READABLE_VERSIONS:
        raise BundleError(f"{path}/{MANIFEST}: bundle version {data.get('version')!r} unsupported")
    try:
        manifest = Manifest.from_dict(data)
    except (TypeError, KeyError, ValueError) as e:
        raise BundleError(
            f"{path}/{MANIFEST}: malformed manifest ({type(e).__name__}: {e})"
        ) from None
    inside(path, manifest.nir_file)
    if not (path / manifest.nir_file).is_file():
        raise BundleError(f"{path}: bundle lacks its NIR graph {manifest.nir_file}")
    return Bundle(path, manifest)


def write_manifest(path, manifest: Manifest) -> None:
    Path(path, MANIFEST).write_text(json.dumps(manifest.to_dict(), indent=2) + "\n")
