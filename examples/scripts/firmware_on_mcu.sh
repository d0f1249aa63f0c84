#!/usr/bin/env bash
# The forecasting SNN as C firmware for a 512 KiB microcontroller: calibrate it for int8, export
# the C99 tree, run it on this machine (gcc; bit-exact with the integer engine) and on a
# Cortex-M4 emulated by QEMU (mps2-an386), then print the ELF's RAM and flash and the time per
# forecast at the device profile's clock.
#   bash examples/scripts/firmware_on_mcu.sh [OUT]
# Needs gcc, arm-none-eabi-gcc with newlib and qemu-system-arm (Debian: apt-get install gcc
# gcc-arm-none-eabi libnewlib-arm-none-eabi qemu-system-arm).
set -euo pipefail
OUT=${1:-examples-out/firmware}
E=.venv/bin/edge-shm
mkdir -p "$OUT"
$E library build fcg --samples 24 --seed 7 -o "$OUT/cracks.h5"
$E calibrate examples/runs/forecast-snn --library "$OUT/cracks.h5" --target int8 -o "$OUT/calib"
$E export examples/runs/forecast-snn --target c --fixed-point "$OUT/calib" --device mcu-512k \
    --frames "$OUT/cracks.h5" -o "$OUT/fw"
$E simulate "$OUT/fw" --frames "$OUT/cracks.h5" --backend c -o "$OUT/sim-host"
$E simulate "$OUT/fw" --frames "$OUT/cracks.h5" --backend cortex-m4 -o "$OUT/sim-m4"
.venv/bin/python - "$OUT/sim-m4/simulate.json" <<'PY'
import json, sys
sim = sys.argv[1]
m = json.load(open(sim))["measured"]
b, dev, n = m["elf_bytes"], m["device"], m["instructions_per_forecast"]
print(f"{dev['name']} firmware, from {sim}:")
print(f"  RAM   {b['ram']:>9,} B of {dev['ram_B']:>9,} B ({100 * b['ram'] / dev['ram_B']:4.1f} %):"
      f" .data {b['data']:,} + .bss {b['bss']:,} + stack {b['stack']:,}")
print(f"  flash {b['flash']:>9,} B of {dev['flash_B']:>9,} B "
      f"({100 * b['flash'] / dev['flash_B']:4.1f} %): .text {b['text']:,} + .data {b['data']:,}")
print(f"  per forecast: {n['mean']:,.0f} instructions (min {n['min']:,}, max {n['max']:,}),"
      f" {m['ms_per_forecast_at_clock']:.1f} ms at {m['clock_hz'] / 1e6:g} MHz,"
      " one instruction per cycle")
PY
