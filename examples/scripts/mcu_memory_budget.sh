#!/usr/bin/env bash
# Will the forecasting SNN fit a 512 KiB microcontroller? The memory account at the device's
# precision (int8 weights, int16 membranes: the C firmware's buffers, scratch, input and readout
# buffers and stack, docs/profile.md), before and after calibration (the same figure). Budgets
# come from the device file (mcu-512k: 512 KiB RAM, 2 MiB flash; KiB = 1,024 B); the device
# file has no energy figures for a microcontroller.
#   bash examples/scripts/mcu_memory_budget.sh [OUT]
set -euo pipefail
OUT=${1:-examples-out/mcu}
E=.venv/bin/edge-shm
mkdir -p "$OUT"
$E library build fcg --samples 24 --seed 7 -o "$OUT/cracks.h5"
$E profile examples/runs/forecast-snn --device mcu-512k --library "$OUT/cracks.h5" \
    --max-windows 16 -o "$OUT/profile-int8-plan"
$E calibrate examples/runs/forecast-snn --library "$OUT/cracks.h5" --target int8 -o "$OUT/calib"
$E profile examples/runs/forecast-snn --device mcu-512k --library "$OUT/cracks.h5" \
    --max-windows 16 --calibration "$OUT/calib" -o "$OUT/profile-int8"
echo "reports: $OUT/profile-int8-plan/profile.md and $OUT/profile-int8/profile.md"
