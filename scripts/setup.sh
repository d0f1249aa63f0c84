#!/usr/bin/env bash
# Idempotent set-up of the two environments (docs/environments.md).
#   .venv       Python 3.11, CPU torch 2.13.0 from the wheel on disk, norse --no-deps, the toolkit.
#   .venv-lava  Python 3.10, numpy<2, lava-nc 0.10.0, nir, h5py, the toolkit without torch.
# A stamp file inside each venv records the pyproject.toml hash it was built from.
set -euo pipefail
cd "$(dirname "$0")/.."
hash=$(sha256sum pyproject.toml scripts/setup.sh | sha256sum | cut -c1-16)

find_python() {  # $1 = version, e.g. 3.11
    local prefix
    if command -v pyenv >/dev/null 2>&1 && prefix=$(pyenv prefix "$1" 2>/dev/null); then
        if [ -x "$prefix/bin/python$1" ]; then echo "$prefix/bin/python$1"; return 0; fi
    fi
    if command -v "python$1" >/dev/null 2>&1 && "python$1" -c 'import sys' 2>/dev/null; then
        command -v "python$1"; return 0
    fi
    return 1
}

quiet_resolver() {  # "$@" with pip's dependency-conflict report replaced by one note
    # norse is installed --no-deps: it declares torchvision, which edge-shm never imports, and
    # pip reports that after every later install as an ERROR although nothing is wrong.
    local log=.venv/.pip-stderr
    if ! "$@" 2>"$log"; then cat "$log" >&2; rm -f "$log"; return 1; fi
    if grep -q "requires torchvision" "$log"; then
        echo "setup: note: norse declares torchvision, which edge-shm does not use (not installed)"
    fi
    grep -v -e "dependency resolver does not currently" -e "requires torchvision" "$log" >&2 || true
    rm -f "$log"
}

if [ "$(cat .venv/.stamp 2>/dev/null)" != "$hash" ]; then
    py311=$(find_python 3.11) || { echo "error: Python 3.11 not found (pyenv or python3.11 on PATH)" >&2; exit 1; }
    echo "setup: creating .venv with $py311"
    "$py311" -m venv .venv
    .venv/bin/python -m pip install -q --upgrade pip
    .venv/bin/python -m pip install -q torch==2.13.0
    .venv/bin/python -m pip install -q --no-deps norse==1.1.0
    quiet_resolver .venv/bin/python -m pip install -q -e ".[host,dev]"
    # Test dependencies only: the frameworks that load our NIR files (tests/export/
    # test_nir_consumers.py). --no-deps: sinabs pins nir<=1.0.4 and wants samna (unused here).
    quiet_resolver .venv/bin/python -m pip install -q pbr
    quiet_resolver .venv/bin/python -m pip install -q --no-deps snntorch==1.0.0 sinabs==3.1.3
    echo "$hash" > .venv/.stamp
fi

if [ "$(cat .venv-lava/.stamp 2>/dev/null)" != "$hash" ]; then
    if py310=$(find_python 3.10); then
        echo "setup: creating .venv-lava with $py310"
        "$py310" -m venv .venv-lava
        .venv-lava/bin/python -m pip install -q --upgrade pip
        .venv-lava/bin/python -m pip install -q "numpy<2" "lava-nc==0.10.0" nir h5py
        .venv-lava/bin/python -m pip install -q --no-deps -e .
        echo "$hash" > .venv-lava/.stamp
    else
        echo "setup: Python 3.10 not found (tried 'pyenv prefix 3.10' and python3.10);" \
             "Lava features and their tests will be skipped." >&2
    fi
fi

# Debian packages the tests need beyond Python (installed once; needs root and apt, which a
# fresh CI machine has): Chromium for the dashboard's test in a real headless browser
# (tests/cli/test_forecast.py); a C compiler for the C firmware on the host, and the Arm
# cross compiler, newlib and QEMU for the firmware on an emulated Cortex-M4
# (tests/firmware_sim/c). Without them those tests fail (Chromium) or are skipped (Arm).
apt_install() {  # $1 = command that shows the package is there, $2.. = packages, last = why
    local probe=$1; shift
    local why=${*: -1}; local packages=("${@:1:$#-1}")
    command -v "$probe" >/dev/null 2>&1 && return 0
    if [ "$(id -u)" = 0 ] && command -v apt-get >/dev/null 2>&1; then
        echo "setup: installing Debian's ${packages[*]} ($why)"
        apt-get install -y -q "${packages[@]}" >/dev/null 2>&1 \
            || { apt-get update -q >/dev/null 2>&1 && apt-get install -y -q "${packages[@]}" >/dev/null; }
    else
        echo "setup: $probe is missing and cannot be installed here (no root or apt): $why" >&2
    fi
}
apt_install chromium chromium "the dashboard's headless browser test"
apt_install cc gcc "the C firmware on this machine"
apt_install arm-none-eabi-gcc gcc-arm-none-eabi libnewlib-arm-none-eabi "the C firmware for a Cortex-M4"
apt_install qemu-system-arm qemu-system-arm "the emulated Cortex-M4"
