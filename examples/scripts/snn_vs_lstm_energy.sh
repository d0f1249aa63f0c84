#!/usr/bin/env bash
# SNN against LSTM: energy and memory per forecast on Loihi 2 and an ARM Cortex-A, beside the
# forecast skill. The LSTM here is trained for one short epoch only (its energy is dense and
# does not depend on training; its skill does: see benchmarks/results.md for a trained one).
#   bash examples/scripts/snn_vs_lstm_energy.sh [OUT]
set -euo pipefail
OUT=${1:-examples-out/energy}
E=.venv/bin/edge-shm
mkdir -p "$OUT"
$E library build fcg --samples 48 --seed 7 -o "$OUT/cracks.h5"
cp -r examples/runs/forecast-snn "$OUT/run-forecast-snn"   # evaluate writes into the run
$E train --model lstm --library "$OUT/cracks.h5" --epochs 1 --max-windows 64 --batch-size 16 \
    -o "$OUT/run-lstm"
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
