"""The export targets: one registry, read by the export pipeline, the CLI and the docs.

Each row says what it writes into the export folder (its writer), how that is checked and how
the check is told (its :class:`Verification`), how its artefact is described in one line, and
whether the model must lower itself to the deployment graph (``nir``, ``lava``) or only stream
its step (``onnx``). A *variant* refines a target with one more input, named by a CLI option:
``onnx-int8`` (``--target onnx --int8 LIB``: model.int8.onnx beside the float graph) and
``lava-fixed`` (``--target lava --fixed-point CALIB``: the calibrated fixed-point graph). A new
target (a C firmware, say) is one more row. Which models can go where is each model's own
declaration (``capabilities.targets``).
"""

from __future__ import annotations

import functools
from collections.abc import Callable, Mapping
from dataclasses import dataclass, field
from pathlib import Path

import numpy as np

from edge_shm.errors import UserError
from edge_shm.export import c_firmware, fixed_point, int8_onnx
from edge_shm.export import verify as checks


@dataclass(frozen=True)
class ExportOptions:
    """What an export takes besides the run: ``consumer`` is the framework a NIR file is
    written for (``--for``); ``variant_input`` the file or folder a variant row needs (the
    int8 calibration library, the calibration folder), None for a target without one;
    ``device`` the memory budget a C firmware is linked for."""

    consumer: str = "generic"
    variant_input: Path | None = None
    device: tuple[str, int, int] | None = None  # c: (profile name, RAM B, flash B)


@dataclass
class Job:
    """One export in progress, as every target hook receives it.

    ``held``: held-out sequences (N, T, H, W) as the model reads them (a motion network's
    codec rows), or None; ``source``: where they came from, or why there are none;
    ``prepared``: what the row's ``prepare`` returned; ``note``: progress lines (no printing).
    """

    model: object
    config: dict
    options: ExportOptions
    held: np.ndarray | None = None
    source: str = ""
    prepared: object = None
    note: Callable[[str], None] = field(default=lambda text: None)


@dataclass(frozen=True)
class Verification:
    """How a target's artefact is checked on held-out frames.

    ``run(job, folder, frames (N, T, H, W)) -> report`` (a dict with ``ok``); ``describe``
    (report -> one line); ``failed`` (report -> the one-line error when not ok); at most
    ``sequences`` held-out sequences; ``against`` completes the progress line
    ``verifying <against>: <source>``."""

    run: Callable[[Job, Path, np.ndarray], dict]
    describe: Callable[[dict], str]
    failed: Callable[[dict], str]
    sequences: int
    against: str = "on held-out frames"


@dataclass(frozen=True)
class Target:
    """One row of the registry. ``write(job, folder) -> artefact facts`` (a dict, recorded in
    export.json ``artefact``); ``describe(facts) -> one line``; ``prepare(job)`` checks the
    row's own input before anything is written (its result is ``job.prepared``);
    ``finish(job, folder) -> dict`` adds to the folder after verification (the dict joins
    export.json); ``record(options)`` are the row's own top-level export.json fields. A
    variant names its base target (``variant_of``) and the CLI option that chooses it
    (``flag``)."""

    name: str
    artefact: str  # what the export folder holds, for people
    lowered: bool  # needs the deployment graph
    write: Callable[[Job, Path], dict]
    verification: Verification
    describe: Callable[[dict], str]
    variant_of: str | None = None
    flag: str | None = None
    prepare: Callable[[Job], object] | None = None
    finish: Callable[[Job, Path], dict] | None = None
    record: Callable[[ExportOptions], dict] = lambda options: {}
    takes_consumer: bool = False  # the writer honours ExportOptions.consumer (--for)

    @property
    def base(self) -> str:
        """The target a variant refines (itself for a plain target): the export.json
        ``target`` and the name models declare in ``capabilities.targets``."""
        return self.variant_of or self.name


def _write_onnx(job: Job, folder: Path) -> dict:
    from edge_shm.export.onnx import export_onnx

    return export_onnx(job.model, job.config, folder / "model.onnx")


def _write_nir(job: Job, folder: Path) -> dict:
    from edge_shm.export.nir import export_nir

    return export_nir(job.model, job.config, folder / "model.nir", job.options.consumer)


def _write_lava(job: Job, folder: Path) -> dict:
    """The bundle, its probe the first held-out sequence (else seeded noise, (4, H, W))."""
    from edge_shm.export.lava_bundle import export_bundle

    if job.held is not None:
        probe, probe_source = job.held[0], f"first sequence of the {job.source}"
    else:
        shape = (4, job.model.height, job.model.width)
        probe = np.random.default_rng(0).random(shape, np.float32)
        probe_source = "seeded uniform noise (no held-out frames were available)"
    export_bundle(job.model, job.config, folder, probe, probe_source)
    return {"bundle": "manifest.json", "probe_source": probe_source}


def _against_torch(name: str, check: Callable, file: str | None, sequences: int, describe):
    """A verification against torch: ``check(model, path, frames)`` on ``folder / file``
    (the folder itself when ``file`` is None)."""

    def failed(res: dict) -> str:
        return f"{name} export differs from torch beyond tolerance ({describe(res)})"

    def run(job: Job, folder: Path, frames: np.ndarray) -> dict:
        return check(job.model, folder if file is None else folder / file, frames)

    return Verification(run, describe, failed, sequences)


ONNX_CHECK = _against_torch("onnx", checks.verify_onnx, "model.onnx", 8, checks.describe_onnx)


def _describe_onnx(facts: dict) -> str:
    return f"ONNX opset {facts['opset']}, inputs {', '.join(facts['inputs'])}"


def _describe_nir(facts: dict) -> str:
    tau = f", tau {facts['tau']:g} s" if facts.get("tau") else ""
    return f"NIR graph for {facts.get('written_for', 'generic')}, dt {facts['dt']:g} s{tau}"


ROWS = (
    Target(
        "onnx",
        "model.onnx: the streaming step graph",
        lowered=False,
        write=_write_onnx,
        verification=ONNX_CHECK,
        describe=_describe_onnx,
    ),
    Target(
        "nir",
        "model.nir: the NIR graph",
        lowered=True,
        write=_write_nir,
        verification=_against_torch(
            "nir",
            checks.verify_nir,
            "model.nir",
            4,
            functools.partial(checks.describe_spikes, "nir"),
        ),
        describe=_describe_nir,
        takes_consumer=True,
    ),
    Target(
        "lava",
        "a Lava bundle (manifest.json, graph.nir, probe)",
        lowered=True,
        write=_write_lava,
        verification=_against_torch(
            "lava", checks.verify_lava, None, 1, functools.partial(checks.describe_spikes, "lava")
        ),
        describe=lambda facts: "Lava bundle (manifest.json, graph.nir, probe)",
    ),
    Target(
        "onnx-int8",
        "model.onnx and model.int8.onnx (QDQ, calibrated on a library's train split)",
        lowered=False,
        write=_write_onnx,
        verification=ONNX_CHECK,
        describe=_describe_onnx,
        variant_of="onnx",
        flag="--int8",
        prepare=int8_onnx.prepare,
        finish=int8_onnx.finish,
    ),
    Target(
        "lava-fixed",
        "a Lava fixed_pt bundle (calibration.json, tensors.npz)",
        lowered=False,
        write=fixed_point.write,
        verification=Verification(
            fixed_point.verify,
            fixed_point.describe_fixed,
            fixed_point.failed,
            fixed_point.VERIFY_SEQUENCES,
            "Lava fixed_pt against the integer engine on",
        ),
        describe=lambda facts: "Lava fixed_pt bundle (calibration.json)",
        variant_of="lava",
        flag="--fixed-point",
        prepare=fixed_point.prepare,
        record=lambda options: {"fixed_point": True, "calibration": str(options.variant_input)},
    ),
    Target(
        "c",
        "a C99 firmware tree (esf.h, engine.c, model.c, harness, cortex_m4.ld, README.md)",
        lowered=False,
        write=c_firmware.write,
        verification=Verification(
            c_firmware.verify,
            c_firmware.describe_c,
            c_firmware.failed,
            fixed_point.VERIFY_SEQUENCES,
            "the C firmware on this machine against the integer engine on",
        ),
        describe=c_firmware.describe,
        flag="--fixed-point",
        prepare=c_firmware.prepare,
        record=lambda options: {"calibration": str(options.variant_input)},
    ),
)
TARGETS: dict[str, Target] = {t.name: t for t in ROWS}
# The targets ``--target`` offers; a variant is chosen by its own option on top of its base.
TARGET_NAMES = tuple(t.name for t in ROWS if t.variant_of is None)


def get_target(name: str) -> Target:
    """The row called ``name`` (a plain target or a variant); one line when unknown."""
    if name not in TARGETS:
        raise UserError(f"unknown export target {name!r}; choose one of {', '.join(TARGET_NAMES)}")
    return TARGETS[name]


def choose_target(
    name: str, consumer: str = "generic", inputs: Mapping[str, Path | None] | None = None
) -> tuple[Target, ExportOptions]:
    """The row and options for ``--target name`` with ``--for consumer`` and the inputs given
    (CLI flag -> path or None): the row of that target which takes the flag (a variant, or the
    target itself), else one line: a flag the target does not take, ``--for`` off a NIR
    target, or a row without its input."""
    named = get_target(name)
    if consumer != "generic" and not named.takes_consumer:
        nir = ", ".join(t.name for t in ROWS if t.takes_consumer)
        raise UserError(f"--for is for --target {nir}, not {name}")
    chosen, given = named, None
    for flag, path in (inputs or {}).items():
        if path is None:
            continue
        rows = [t for t in ROWS if t.flag == flag and t.base == named.base]
        if not rows:
            owners = " or ".join(t.base for t in ROWS if t.flag == flag)
            raise UserError(f"{flag} is for --target {owners}, not {name}")
        chosen, given = rows[0], Path(path)
    if chosen.flag is not None and given is None:
        raise UserError(f"--target {name} takes {chosen.flag} (its input)")
    return chosen, ExportOptions(consumer, given)
