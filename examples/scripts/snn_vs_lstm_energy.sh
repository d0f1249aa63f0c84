#!/usr/bin/env bash
# SNN against LSTM: energy and memory per forecast on Loihi 2 (the SNN only: an LSTM cannot run
# there) and an ARM Cortex-A, beside the forecast skill. The LSTM is trained with train's
# defaults for it (the bench's: MSE, batch 16) for 5 epochs on 120 samples (about 5 min on
# 2 cores). On the demo's library (seed 7) such a run beat copy-last at every horizon
# (median tip error 0.69 mm against 1.24 one frame ahead) and lost to constant velocity
# (0.15 mm); the bench's LSTM: benchmarks/results.md.
# Energies are modelled from operation counts and per-operation figures, not measured.
#   bash examples/scripts/snn_vs_lstm_energy.sh [OUT]
set -euo pipefail
OUT=${1:-examples-out/energy}
E=.venv/bin/edge-shm
mkdir -p "$OUT"
$E library build fcg --samples 120 --seed 7 -o "$OUT/cracks.h5"
[ -d "$OUT/run-forecast-snn" ] || cp -r examples/runs/forecast-snn "$OUT/run-forecast-snn"
$E train --model lstm --library "$OUT/cracks.h5" --epochs 5 -o "$OUT/run-lstm"
for M in "$OUT/run-forecast-snn" "$OUT/run-lstm"; do
    N=$(basename "$M")
    $E evaluate "$M" --library "$OUT/cracks.h5" --into-run > /dev/null
    $E profile "$M" --device loihi2 --library "$OUT/cracks.h5" --max-windows 16 -o "$OUT/$N-loihi2"
    $E profile "$M" --device arm-cortex-a --library "$OUT/cracks.h5" --max-windows 16 \
        -o "$OUT/$N-arm"
done
$E compare "$OUT/run-forecast-snn" "$OUT/run-lstm" --library "$OUT/cracks.h5" \
    -o "$OUT/comparison"
echo "comparison: $OUT/comparison"
