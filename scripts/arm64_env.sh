#!/usr/bin/env bash
# An aarch64 (ARM64) Debian root with ONNX Runtime, for the bench's int8-on-ARM figures when no
# ARM board is at hand. Runs ARM binaries under qemu-user (software emulation): the kernels are
# ONNX Runtime's real aarch64 ones (NEON), so their outputs are ARM's, but their timings are the
# emulator's, not a device's. Needs root (debootstrap, chroot, binfmt_misc) and apt.
#   bash scripts/arm64_env.sh [ROOT]      (default .arm64/rootfs; idempotent)
# Prints the root's path on success; exits 3 with one line when this machine cannot do it.
set -euo pipefail
cd "$(dirname "$0")/.."
root=${1:-.arm64/rootfs}
ort=$(.venv/bin/python -c 'import onnxruntime; print(onnxruntime.__version__)')
want="ort=$ort numpy=$(.venv/bin/python -c 'import numpy; print(numpy.__version__)')"

cannot() { echo "arm64: $1" >&2; exit 3; }
[ "$(id -u)" = 0 ] || cannot "needs root (debootstrap, chroot) to build an ARM64 root"
if [ ! -x /usr/bin/qemu-aarch64-static ] || ! command -v debootstrap >/dev/null; then
    apt-get install -y -q qemu-user-static debootstrap >/dev/null 2>&1 \
        || cannot "apt could not install qemu-user-static and debootstrap"
fi
if [ ! -e /proc/sys/fs/binfmt_misc/register ]; then
    mount -t binfmt_misc binfmt_misc /proc/sys/fs/binfmt_misc 2>/dev/null \
        || cannot "binfmt_misc cannot be mounted (no ARM binaries can run here)"
fi
if [ ! -e /proc/sys/fs/binfmt_misc/qemu-aarch64 ]; then
    cat /usr/lib/binfmt.d/qemu-aarch64.conf > /proc/sys/fs/binfmt_misc/register \
        || cannot "could not register qemu-aarch64 with binfmt_misc"
fi

if [ ! -x "$root/usr/bin/python3" ]; then
    echo "arm64: building a Debian bookworm arm64 root in $root (about 10 min)" >&2
    rm -rf "$root"
    mkdir -p "$root"
    debootstrap --arch=arm64 --foreign --variant=minbase \
        --include=python3,python3-venv,python3-pip,ca-certificates \
        bookworm "$root" http://deb.debian.org/debian >/dev/null
    cp /usr/bin/qemu-aarch64-static "$root/usr/bin/"
    chroot "$root" /debootstrap/debootstrap --second-stage >/dev/null
fi
if [ "$(cat "$root/opt/venv/.stamp" 2>/dev/null)" != "$want" ]; then
    cp /etc/resolv.conf "$root/etc/resolv.conf"
    # This host's CA bundle (a TLS-inspecting proxy may sit between it and PyPI).
    cp /etc/ssl/certs/ca-certificates.crt "$root/etc/ssl/certs/ca-certificates.crt"
    chroot "$root" /usr/bin/python3 -m venv /opt/venv
    chroot "$root" /opt/venv/bin/pip install -q "onnxruntime==$ort" numpy
    echo "$want" > "$root/opt/venv/.stamp"
fi
# The toolkit itself, torch-free (like the Lava env), from this checkout.
src=$(mktemp -d "$root/tmp/edge-shm.XXXX")
cp -r pyproject.toml README.md edge_shm export firmware_sim calibration "$src/"
chroot "$root" /opt/venv/bin/pip install -q --no-deps "/tmp/$(basename "$src")"
rm -rf "$src"
echo "$root"
