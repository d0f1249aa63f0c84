"""Write examples/camera/: camera-like crack sequences with their exact truth (seeded).

Each case is one folder of 12 images named 1..12 (no zero padding: natural order), with
``truth.json`` (tip, length, shift, cycles, notch, ruler: edge_shm.data.generators.camera) and
``cycles.json`` (``edge-shm forecast --cycles-file``). The same command writes the same bytes.
Run from the repository root:

    .venv/bin/python scripts/make_camera_examples.py [OUT]
"""

from __future__ import annotations

import sys
from pathlib import Path

from edge_shm.data.generators.camera import camera_sequence, write_sequence

OUT = Path(__file__).resolve().parents[1] / "examples" / "camera"
COMMAND = ".venv/bin/python scripts/make_camera_examples.py"

WIDE, TALL = (128, 176), (176, 128)  # (rows, cols): the growth axis is 176 px for every mouth

# name: (seed, options of camera_sequence, what the case tests)
CASES = {
    "notch_left_bright": (101, {"size": WIDE}, "the reference: a notch and a bright crack, left"),
    "notch_right_bright_jpg": (
        102,
        {"mouth": "right", "jpeg": True},
        "JPEG (quality 85) at 160 x 224 px, mouth on the right: the acceptance example",
    ),
    "notch_top_dark": (103, {"size": TALL, "mouth": "top", "crack": "dark"}, "dark, from the top"),
    "notch_bottom_dark": (
        104,
        {"size": TALL, "mouth": "bottom", "crack": "dark"},
        "dark, from the bottom",
    ),
    "ruler_left_bright": (
        105,
        {"size": WIDE, "ruler": True},
        "a ruler (1 mm ticks, 20 px) along the bottom edge",
    ),
    "shifted_left_bright": (
        106,
        {"size": WIDE, "shift": (4, 15, 0)},
        "a camera knock: from 5.png (index 4) on, the view moved 15 px down",
    ),
    "colour_halo_left": (
        107,
        {"size": WIDE, "frames": 8, "colour_halo": True},
        "RGB, 8 frames: a rust line in a pale halo; only the blue channel shows the line (dark)",
    ),
    "static_left_bright": (
        108,
        {"size": WIDE, "frames": 8, "static": True},
        "8 frames: a crack that never grows",
    ),
}


def main(out: Path = OUT) -> None:
    out.mkdir(parents=True, exist_ok=True)
    rows = []
    for name, (seed, options, what) in CASES.items():
        folder = out / name
        if folder.is_dir():
            for old in folder.iterdir():
                if old.suffix in (".png", ".jpg", ".json"):
                    old.unlink()
        seq = camera_sequence(seed, **options)
        write_sequence(seq, folder)
        args = ", ".join(f"{k}={v!r}" for k, v in options.items())
        rows.append(f"| `{name}` | {seed} | `{args or '(defaults)'}` | {what} |")
        print(f"{folder}: {len(seq.images)} images, a = {seq.a_px[0]:.1f} -> {seq.a_px[-1]:.1f} px")
    (out / "README.md").write_text(README.format(command=COMMAND, rows="\n".join(rows)))


README = """# Camera examples

Crack sequences as a camera on a fatigue rig delivers them, with their exact truth, for the
image intake (`edge-shm forecast RUN --frames FOLDER`). Written by

    {command}

from `edge_shm.data.generators.camera.camera_sequence(seed, **options)` (module docstring: the
look, the growth, the ruler, the colour halo); the same command writes the same bytes.

Every case: 12 images (8 for the colour halo and the static crack) named `1.png` ... (no
zero padding: sort them naturally) of 128 x 176 px (rows x columns; 176 x 128 for the mouths
top and bottom, so that the growth axis is 176 px long; the JPEG case 160 x 224 px), 0.05 mm
per pixel, a machined notch at the mouth, uneven light, faint scratches, sensor noise (sigma
0.02). `truth.json`: per frame the tip (row, col) in the image, the length `a_px` from the
mouth edge along the growth axis, the camera shift, the load cycles; the notch, the ruler, the
crack's polarity and channel; units in `units`. `cycles.json`: `{{"cycles": [...]}}`, for
`--cycles-file`. The crack advances 2-10 px per frame with one pause (the rig stopped: same
cycles) and a last jump of 25-40 px.

| case | seed | options | what it tests |
|---|---|---|---|
{rows}

Acceptance example:

    edge-shm forecast RUN --frames examples/camera/notch_right_bright_jpg \\
        --mouth right --crack bright
"""


if __name__ == "__main__":
    main(Path(sys.argv[1]) if len(sys.argv) > 1 else OUT)
