#!/usr/bin/env bash
# Deploy the shipped forecasting SNN to Loihi 2 (Lava simulation), float and fixed point, each
# verified on held-out frames, and run the sensor images through the fixed-point bundle.
#   bash examples/scripts/export_lava_and_simulate.sh [OUT]   (needs .venv-lava: make setup)
set -euo pipefail
OUT=${1:-examples-out/lava}
E=.venv/bin/edge-shm
mkdir -p "$OUT"
$E library build fcg --samples 24 --seed 7 -o "$OUT/cracks.h5"   # held-out frames (seed 7)
$E export examples/runs/forecast-snn --target lava --frames "$OUT/cracks.h5" -o "$OUT/bundle"
$E calibrate examples/runs/forecast-snn --library "$OUT/cracks.h5" --target loihi -o "$OUT/calib"
$E export examples/runs/forecast-snn --target lava --fixed-point "$OUT/calib" \
    --frames "$OUT/cracks.h5" -o "$OUT/bundle-fixed"
.venv/bin/python - "$OUT" <<'PY'
import sys, numpy as np
from edge_shm.onsite.intake import Intake, read_frame
from pathlib import Path
intake = Intake((96, 132), roi="center", crack="dark")
frames = [read_frame(f, intake) for f in sorted(Path("examples/sensor/frames").glob("*.png"))]
np.save(Path(sys.argv[1]) / "sensor.npy", np.stack(frames)[None].astype(np.float32))
PY
$E simulate "$OUT/bundle-fixed" --frames "$OUT/sensor.npy" --backend lava-fixed -o "$OUT/sim-fixed"
$E simulate "$OUT/bundle" --frames "$OUT/sensor.npy" --backend lava -o "$OUT/sim-float"
echo "bundles in $OUT/bundle and $OUT/bundle-fixed; forecasts in $OUT/sim-*/predictions.png"
