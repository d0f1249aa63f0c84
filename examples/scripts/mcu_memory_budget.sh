#!/usr/bin/env bash
# Will the forecasting SNN fit a 512 KB microcontroller? Memory budget report at float and at
# the deployed int8 precision (weights int8, membranes int16), and energy per forecast.
#   bash examples/scripts/mcu_memory_budget.sh [OUT]
set -euo pipefail
OUT=${1:-examples-out/mcu}
E=.venv/bin/edge-shm
mkdir -p "$OUT"
$E library build fcg --samples 24 --seed 7 -o "$OUT/cracks.h5"
$E profile examples/runs/forecast-snn --device mcu-512k --library "$OUT/cracks.h5" \
    --max-windows 16 --budget-ram 512 --budget-flash 1024 -o "$OUT/profile-float"
$E calibrate examples/runs/forecast-snn --library "$OUT/cracks.h5" --target int8 -o "$OUT/calib"
$E profile examples/runs/forecast-snn --device mcu-512k --library "$OUT/cracks.h5" \
    --max-windows 16 --budget-ram 512 --budget-flash 1024 --calibration "$OUT/calib" \
    -o "$OUT/profile-int8"
echo "reports: $OUT/profile-float/profile.md and $OUT/profile-int8/profile.md"
