#!/usr/bin/env bash
# On site: forecast the crack in the shipped sensor images (examples/sensor), frame by frame,
# with remaining life from the rig's cycle counter (add `--profile PROFILE_DIR` of
# `edge-shm profile` for the modelled energy per forecast).
#   bash examples/scripts/forecast_on_site.sh [OUT]        (from the repository root)
# Add `--serve 8765` to watch it on http://127.0.0.1:8765/, or replace --frames by
# `--watch DIR` to process images as a camera writes them (Ctrl-C to stop).
set -euo pipefail
OUT=${1:-examples-out/onsite}
E=.venv/bin/edge-shm
mkdir -p "$(dirname "$OUT")"
$E forecast examples/runs/forecast-snn --frames examples/sensor/frames \
    --roi center --crack dark --cycles-file examples/sensor/cycles.json \
    --stress-range-mpa 200 --plate-width-mm 10 --critical-length 8 --horizon 4 -o "$OUT"
