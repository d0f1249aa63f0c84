"""How sure a forecast is: the tip-error band of a run, calibrated on samples it never saw.

After training, the run forecasts every window of its held-out validation samples (the last
tenth of the train split, :data:`~edge_shm.data.splits.VALIDATION_SHARE`) 1 to
:data:`HORIZONS` frames ahead, exactly as ``evaluate`` does, and records per horizon the
:data:`QUANTILE` quantile of the tip error divided by ``S + 1 px`` (S: the window's mean tip
advance per frame) over the windows of a moving crack (S >= :data:`MOVING_PX`). On site the
band of a forecast k frames ahead is that ratio times ``S + 1 px``. A window of a still crack
forecasts no growth and has no band: that a crack at rest starts again is not forecast (the
mixed library holds such late starts; they would make every band tens of px wide).
``band.json`` in the run folder::

    {"format": "edge-shm-band", "format_version": 1, "quantile": 0.9,
     "ratio": [q_1, ..., q_K], "unit": "tip error / (S + 1 px)", "windows": [n_1, ...]}
"""

from __future__ import annotations

from pathlib import Path

import numpy as np

from edge_shm.errors import UserError
from edge_shm.evaluation.band import FILE, FORMAT_NAME, FORMAT_VERSION, MOVING_PX

QUANTILE = 0.9
HORIZONS = 4
MAX_SAMPLES = 120


def calibrate_band(model, lib, progress=None) -> dict:
    """The band of a motion network (see the module text) on ``lib``'s validation samples."""
    from edge_shm.data.splits import library_cycles, train_and_validation
    from edge_shm.evaluation.evaluate import test_context
    from edge_shm.evaluation.forecast import frame_forecaster
    from edge_shm.evaluation.horizons import rollouts
    from edge_shm.evaluation.skill import encode_all, geometry_arrays
    from edge_shm.vector import motion

    held = train_and_validation(lib)[1][:MAX_SAMPLES]
    if len(held) == 0:
        raise UserError(f"{lib.path}: too few train samples to hold some out for the band")
    n_in = model.codec.n_in
    frames = np.asarray(lib.frames[held])
    cycles = library_cycles(lib)
    _, context = test_context(lib)
    preds, truth, valid = rollouts(
        {"m": frame_forecaster(model)},
        frames,
        n_in,
        lib.window_skip,
        HORIZONS,
        True,
        None if cycles is None else cycles[held],
        context,
    )
    first = frames[:, lib.window_skip :]
    scale = np.array(
        [
            motion.scale_px([motion.observe(f) for f in first[i, s : s + n_in]])
            if all(motion.observe(f) is not None for f in first[i, s : s + n_in])
            else np.nan
            for i in range(first.shape[0])
            for s in range(first.shape[1] - n_in)
        ]
    )
    ratio, counts = [], []
    for k in range(truth.shape[1]):
        ok = valid[:, k]
        tips, _ = geometry_arrays(preds["m"][ok, k], encode_all(truth[ok, k], 1.0), 1.0)
        r = tips / (scale[ok] + 1.0)
        r = r[np.isfinite(r) & (scale[ok] >= MOVING_PX)]
        ratio.append(float(np.quantile(r, QUANTILE)) if len(r) else float("nan"))
        counts.append(int(len(r)))
        if progress is not None:
            progress(1)
    return {
        "format": FORMAT_NAME,
        "format_version": FORMAT_VERSION,
        "quantile": QUANTILE,
        "ratio": ratio,
        "unit": "tip error / (S + 1 px), S the window's mean tip advance per frame (px)",
        "windows": counts,
        "samples": [int(i) for i in held],
    }


def write_band(run_dir, lib, progress=None) -> dict:
    """Calibrate the band of the motion run ``run_dir`` on ``lib`` and write its band.json."""
    from edge_shm.jsonio import write_json
    from edge_shm.outputs import record_written
    from edge_shm.runs import load_run

    model, _ = load_run(run_dir, "cpu")
    band = calibrate_band(model, lib, progress)
    write_json(Path(run_dir) / FILE, band)
    record_written(Path(run_dir), [FILE])
    return band
