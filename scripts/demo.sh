#!/usr/bin/env bash
# `make demo`: the longest pipeline that works today, on a small embedded default.
# Every step is an `edge-shm` command a user can run; the report is demo-out/REPORT.md.
set -euo pipefail
cd "$(dirname "$0")/.."
E=.venv/bin/edge-shm
OUT=demo-out
SAMPLES=${DEMO_SAMPLES:-120}
EPOCHS_SNN=${DEMO_EPOCHS_SNN:-8}
EPOCHS_LSTM=${DEMO_EPOCHS_LSTM:-4}
rm -rf "$OUT"
mkdir -p "$OUT"

echo "== 1. digital library: $SAMPLES simulated fatigue cracks"
$E library build fcg --samples "$SAMPLES" --seed 0 -o "$OUT/cracks.h5"
$E library preview "$OUT/cracks.h5" -o "$OUT/library-preview.png"

echo "== 2. train the base SNN and the base LSTM"
$E train --model snn --library "$OUT/cracks.h5" -o "$OUT/run-snn" --epochs "$EPOCHS_SNN" \
    --loss weighted --batch-size 16
$E train --model lstm --library "$OUT/cracks.h5" -o "$OUT/run-lstm" --epochs "$EPOCHS_LSTM" \
    --loss weighted --batch-size 16

echo "== 3. evaluate on the test split"
$E evaluate "$OUT/run-snn" --library "$OUT/cracks.h5" > /dev/null
$E evaluate "$OUT/run-lstm" --library "$OUT/cracks.h5" > /dev/null

echo "== 4. export the SNN (each artefact verified against torch on held-out frames)"
mkdir -p "$OUT/export"
$E export "$OUT/run-snn" --target onnx -o "$OUT/export/onnx"
$E export "$OUT/run-snn" --target nir -o "$OUT/export/nir"
if [ -x .venv-lava/bin/python ]; then
    $E export "$OUT/run-snn" --target lava -o "$OUT/export/lava"
else
    echo "   (no .venv-lava: Python 3.10 missing, Lava export skipped)"
fi

echo "== 5. energy and memory per forecast (SNN vs LSTM), and the comparison"
for M in snn lstm; do
    $E profile "$OUT/run-$M" --device loihi --library "$OUT/cracks.h5" --max-windows 32 \
        -o "$OUT/profile-$M-loihi" > /dev/null
    $E profile "$OUT/run-$M" --device arm-cortex-a --library "$OUT/cracks.h5" --max-windows 32 \
        --budget-ram 512 --budget-flash 2048 -o "$OUT/profile-$M-arm" > /dev/null
done
$E compare "$OUT/run-snn" "$OUT/run-lstm" --library "$OUT/cracks.h5" -o "$OUT/comparison"

.venv/bin/python -m edge_shm.reports.demo "$OUT"
