#!/usr/bin/env bash
# Deploy the shipped forecasting SNN to Loihi 2 (Lava simulation), float and fixed point, each
# verified on held-out frames, both simulated in Lava, and run the sensor images through the
# fixed-point network. Simulation only: docs/journeys.md says what real Loihi 2 would need.
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
# Lava runs both bundles on the held-out library's test split (simulation on this CPU); the
# sensor images go through the on-site loop as a user would run it: the fixed-point network on
# the integer engine (the export proved it identical to Lava fixed_pt, spike for spike).
$E simulate "$OUT/bundle-fixed" --frames "$OUT/cracks.h5" --backend lava-fixed -o "$OUT/sim-fixed"
$E simulate "$OUT/bundle" --frames "$OUT/cracks.h5" --backend lava -o "$OUT/sim-float"
# --roi center cuts the 120 x 160 px images to the network's 96 x 132 px: 14 px off each side,
# which is the surface left of the crack's mouth, so no --a-offset-mm here
$E forecast "$OUT/bundle-fixed" --frames examples/sensor/frames --roi center --crack dark \
    --cycles-file examples/sensor/cycles.json --critical-length 8 -o "$OUT/onsite-fixed"
echo "bundles in $OUT/bundle and $OUT/bundle-fixed; Lava forecasts in $OUT/sim-*/; the sensor"
echo "images through the fixed-point network: $OUT/onsite-fixed/REPORT.md (all simulated)"
