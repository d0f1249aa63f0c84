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
re-indexing, ...), applied identically by every backend. Every file a bundle reads (the
manifest included) must be a regular file inside it, reached without symbolic links, and the
manifest's synapses and neurons must be the NIR graph's. Field by field in docs/export.md.
"""

from __future__ import annotations

import json
import os
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
        for key in ("alignment", "probe", "extra"):
            if not isinstance(getattr(m, key), dict):
                raise TypeError(f"{key} must be an object")
        if not isinstance(m.post, list) or not isinstance(m.model, str):
            raise TypeError("post must be a list and model a string")
        if not (isinstance(m.dt, int | float) and m.dt > 0):
            raise TypeError("dt must be a positive number of seconds")
        return m

    def layer_delay(self, name: str) -> int:
        return int(self.alignment["layer_delay_steps"][name])


def inside(bundle: Path, name) -> Path:
    """``bundle / name``, refusing names that leave the bundle (absolute, ``..``) or pass
    through a symbolic link (the file itself or a folder on the way)."""
    where = f"{bundle}/{MANIFEST}"
    if not isinstance(name, str) or not name or Path(name).is_absolute():
        raise BundleError(f"{where}: file name {str(name)[:80]!r} is not a name inside the bundle")
    root = bundle.resolve()
    path = root / name
    if ".." in Path(name).parts or root not in path.parents:
        raise BundleError(f"{where}: file name {name[:80]!r} points outside the bundle")
    if os.path.realpath(path) != os.path.normpath(path):
        shown = name if name.isprintable() else repr(name)
        raise BundleError(f"{bundle}/{shown}: a symbolic link; a bundle holds regular files only")
    return path


@dataclass
class Bundle:
    path: Path
    manifest: Manifest

    def file(self, name: str) -> Path:
        """The regular file ``name`` inside the bundle (no link, no leaving it)."""
        path = inside(self.path, name)
        if not path.is_file():
            raise BundleError(f"{self.path}: bundle lacks its file {name[:80]!r} (or not a file)")
        return path

    def probe_file(self, key: str) -> Path:
        name = self.manifest.probe.get(key)
        if name is None:
            raise BundleError(f"{self.path}/{MANIFEST}: probe has no {key!r}")
        return self.file(name)

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
            pairs = g.synapse_chain()
        except (GraphError, TypeError, ValueError) as e:
            raise BundleError(f"{self.path}: {e}") from None
        self._check_manifest(g, pairs)
        return g

    def _check_manifest(self, g, pairs) -> None:
        """The manifest's synapses and neurons are the graph's (counts, names, geometry)."""
        m, where = self.manifest, f"{self.path}/{MANIFEST}"
        lifs = [lif for _, lif in pairs if lif is not None]
        if len(m.synapses) != len(pairs) or len(m.neurons) != len(lifs):
            raise BundleError(
                f"{where}: {len(m.synapses)} synapses and {len(m.neurons)} neurons, the NIR "
                f"graph has {len(pairs)} and {len(lifs)}"
            )
        if list(m.frame_shape) != list(g.input_shape[1:]):
            raise BundleError(
                f"{where}: frame_shape {m.frame_shape}, the graph takes {g.input_shape}"
            )
        shapes = dict(zip([la.name for la in g.layers], g.shapes(), strict=True))
        for spec, (conv, lif) in zip(m.synapses, pairs, strict=True):
            want = {
                "name": conv.name, "c_in": conv.c_in, "c_out": conv.c_out,
                "kernel": list(conv.kernel), "padding": list(conv.padding),
                "stride": list(conv.stride), "dilation": list(conv.dilation),
                "groups": conv.groups, "target": None if lif is None else lif.name,
            }  # fmt: skip
            for key, value in want.items():
                if getattr(spec, key) != value:
                    raise BundleError(
                        f"{where}: synapse {conv.name} {key} is {str(getattr(spec, key))[:40]}, "
                        f"the NIR graph's is {value}"
                    )
        for spec, lif in zip(m.neurons, lifs, strict=True):
            shape = list(shapes[lif.name])
            got = (spec.name, spec.channels, spec.shape)
            if got != (lif.name, shape[0], shape):
                raise BundleError(
                    f"{where}: neuron population {str(spec.name)[:40]} (channels "
                    f"{str(spec.channels)[:20]}, shape {str(spec.shape)[:40]}) is not the NIR "
                    f"graph's {lif.name} {shape}"
                )

    def probe_frames(self) -> np.ndarray:
        from edge_shm.data.frames import load_npy

        return load_npy(self.probe_file("frames"))

    def expected(self) -> dict:
        from edge_shm.data.frames import load_npy

        spikes, v = self.probe_file("spikes"), self.probe_file("v")
        with np.load(spikes, allow_pickle=False) as s, np.load(v, allow_pickle=False) as v:
            return {
                "prediction": load_npy(self.probe_file("prediction")),
                "spikes": {k: s[k].astype(bool) for k in s.files},
                "v": {k: v[k] for k in v.files},
            }


def is_bundle(path) -> bool:
    return (Path(path) / MANIFEST).is_file()


def read_bundle(path) -> Bundle:
    from edge_shm.jsonio import read_json

    path = Path(path)
    if not path.is_dir() or not (path / MANIFEST).is_file():
        raise BundleError(f"{path}: not a Lava bundle (no {MANIFEST})")
    inside(path, MANIFEST)  # not a link
    data = read_json(path / MANIFEST, "Lava bundle manifest")
    if data.get("format") != BUNDLE_FORMAT:
        raise BundleError(f"{path}/{MANIFEST}: not an edge-shm Lava bundle manifest")
    if data.get("version") not in READABLE_VERSIONS or isinstance(data.get("version"), bool):
        version = str(data.get("version"))[:20]
        raise BundleError(f"{path}/{MANIFEST}: bundle version {version} unsupported")
    try:
        manifest = Manifest.from_dict(data)
    except (TypeError, KeyError, ValueError) as e:
        why = " ".join(str(e).split())[:200]
        raise BundleError(
            f"{path}/{MANIFEST}: malformed manifest ({type(e).__name__}: {why})"
        ) from None
    bundle = Bundle(path, manifest)
    bundle.file(manifest.nir_file)
    return bundle


def write_manifest(path, manifest: Manifest) -> None:
    Path(path, MANIFEST).write_text(json.dumps(manifest.to_dict(), indent=2) + "\n")
