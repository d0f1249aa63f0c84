#!/usr/bin/env bash
# `make demo`: the longest pipeline that works today, on a small embedded default.
# Every step is an `edge-shm` command a user can run; the report is demo-out/REPORT.md.
set -euo pipefail
cd "$(dirname "$0")/.."
E=.venv/bin/edge-shm
OUT=demo-out
SAMPLES=${DEMO_SAMPLES:-120}
EPOCHS_SNN=${DEMO_EPOCHS_SNN:-8}
EPOCHS_LSTM=${DEMO_EPOCHS_LSTM:-5}
rm -rf "$OUT"
mkdir -p "$OUT"

# Seed 7, not 0: the shipped forecasting SNN (examples/runs/forecast-snn) was trained on a
# seed-0 library; seed 7 keeps the demo's test samples unseen by it.
echo "== 1. digital library: $SAMPLES simulated fatigue cracks (seed 7), built as 2 shards at once"
mkdir -p "$OUT/shards"
PIDS=()
for I in 0 1; do
    # each shard's progress bar to its own log: two live bars on one terminal overwrite each
    # other and one is left showing a step short of its end
    $E library build fcg --samples "$SAMPLES" --seed 7 --shard $I/2 -o "$OUT/shards/cracks-$I.h5" \
        > /dev/null 2> "$OUT/shards/build-$I.log" &
    PIDS+=($!)
done
for I in 0 1; do   # a failed shard stops the demo (set -e) after showing its error
    wait "${PIDS[$I]}" || { tail -n 3 "$OUT/shards/build-$I.log" >&2; exit 1; }
    echo "   shard $I/2 built: $(grep -o '[0-9]*/[0-9]*' "$OUT/shards/build-$I.log" | tail -n 1) samples"
done
$E library merge "$OUT"/shards/cracks-*.h5 -o "$OUT/cracks.h5"
$E library preview "$OUT/cracks.h5" -o "$OUT/library-preview.png"

echo "== 2. the shipped motion SNN (the default forecaster) and pixel forecasting SNN, and the"
echo "      paper's base SNN (2 processes, torchrun) and base LSTM trained here with train's"
echo "      defaults (the bench's settings: SNN weighted loss, LSTM MSE, batch 16)"
cp -r examples/runs/motion-snn "$OUT/run-motion-snn"
cp -r examples/runs/forecast-snn "$OUT/run-forecast-snn"
OMP_NUM_THREADS=1 .venv/bin/torchrun --standalone --nproc-per-node 2 -m edge_shm train \
    --model snn --library "$OUT/cracks.h5" -o "$OUT/run-snn" --epochs "$EPOCHS_SNN"
$E train --model lstm --library "$OUT/cracks.h5" -o "$OUT/run-lstm" --epochs "$EPOCHS_LSTM"

echo "== 3. evaluate on the test split: tip error (mm) 1 to 4 frames ahead, beside the baselines"
for M in motion-snn forecast-snn snn lstm; do
    $E evaluate "$OUT/run-$M" --library "$OUT/cracks.h5" --into-run > /dev/null
done

echo "== 4. every frame timing a camera gives, on seeds no run was trained on"
mkdir -p "$OUT/timing"
$E library build fcg --samples 20 --seed 21 --timing cycles -o "$OUT/timing/cycles.h5" > /dev/null
$E library build fcg --samples 12 --seed 22 --frames 15 -o "$OUT/timing/slices14.h5" > /dev/null
$E library build fcg --samples 20 --seed 23 --timing mixed -o "$OUT/timing/mixed.h5" > /dev/null
$E library build fcg --samples 12 --seed 24 --timing static -o "$OUT/timing/static.h5" > /dev/null
for T in cycles slices14 mixed static; do
    mkdir -p "$OUT/timing/$T"
    for M in motion-snn forecast-snn; do
        $E evaluate "$OUT/run-$M" --library "$OUT/timing/$T.h5" --split all \
            -o "$OUT/timing/$T/$M" > /dev/null
    done
done

echo "== 5. deploy the motion SNN (each artefact verified against torch on held-out frames),"
echo "      calibrate it to int8 and run the integer engine on camera frames"
mkdir -p "$OUT/export"
for T in onnx nir lava; do
    if [ "$T" = lava ] && [ ! -x .venv-lava/bin/python ]; then
        echo "   (no .venv-lava: Python 3.10 missing, Lava export skipped)"
        continue
    fi
    $E export "$OUT/run-motion-snn" --target "$T" --frames "$OUT/cracks.h5" -o "$OUT/export/$T"
done
$E calibrate "$OUT/run-motion-snn" --library "$OUT/cracks.h5" --target int8 -o "$OUT/calib-int8"
$E simulate "$OUT/calib-int8" --frames "$OUT/cracks.h5" --backend int -o "$OUT/simulate-int8"

echo "== 6. energy (modelled) and memory per forecast, on Loihi 2, an ARM core and a 512 KiB"
echo "      microcontroller"
for M in motion-snn forecast-snn; do
    $E profile "$OUT/run-$M" --device loihi2 --library "$OUT/cracks.h5" --max-windows 32 \
        -o "$OUT/profile-$M-loihi2" > /dev/null
    $E profile "$OUT/run-$M" --device mcu-512k --library "$OUT/cracks.h5" \
        --max-windows 32 -o "$OUT/profile-$M-mcu" > /dev/null
done
for M in motion-snn forecast-snn snn lstm; do
    $E profile "$OUT/run-$M" --device arm-cortex-a --library "$OUT/cracks.h5" --max-windows 32 \
        -o "$OUT/profile-$M-arm" > /dev/null
done
$E compare "$OUT/run-motion-snn" "$OUT/run-forecast-snn" "$OUT/run-snn" "$OUT/run-lstm" \
    --library "$OUT/cracks.h5" -o "$OUT/comparison"

echo "== 7. on site: the shipped sensor images, frame by frame, with remaining life"
# the images show 14 px of surface left of the crack's mouth: a = tip x - 1.05 mm
$E forecast "$OUT/run-motion-snn" --frames examples/sensor/frames --crack dark \
    --a-offset-mm -1.05 --cycles-file examples/sensor/cycles.json --stress-range-mpa 200 \
    --plate-width-mm 10 --critical-length 8 --profile "$OUT/profile-motion-snn-loihi2" \
    -o "$OUT/onsite"

.venv/bin/python -m edge_shm.reports.demo "$OUT"
