"""Write examples/sensor/: a crack as a camera on a test rig would deliver it (seeded).

One simulated fatigue crack (the library generator, seed 11), each frame drawn into a larger
field of view (120 x 160 px around the 96 x 132 px region the model takes), the crack dark on a
bright, unevenly lit and noisy surface, saved as 8-bit greyscale PNG in frames/, named in
order. The rig's load-cycle counter at each frame goes to cycles.json (``--cycles-file``).
Run from the repository root:

    .venv/bin/python examples/scripts/make_sensor_images.py
"""

from __future__ import annotations

import json
from pathlib import Path

import numpy as np
from PIL import Image

from edge_shm.data.generators.fcg import FCGParams, rasterize, simulate_sample

OUT = Path(__file__).resolve().parents[1] / "sensor"
PAD = (12, 14)  # rows, columns of surface around the model's region


def main(out: Path = OUT, seed: int = 11) -> None:
    p = FCGParams()
    rng = np.random.default_rng(seed)
    hist, _ = simulate_sample(rng, p)
    rows, cols = p.rows + 2 * PAD[0], p.cols + 2 * PAD[1]
    yy, xx = np.mgrid[:rows, :cols]
    light = 0.78 + 0.1 * np.sin(xx / cols * np.pi) - 0.06 * yy / rows  # uneven lighting
    (out / "frames").mkdir(parents=True, exist_ok=True)
    for old in (out / "frames").glob("*.png"):
        old.unlink()
    for t, nodes in enumerate(hist.frames_nodes):
        crack = np.zeros((rows, cols), np.float32)
        crack[PAD[0] : PAD[0] + p.rows, PAD[1] : PAD[1] + p.cols] = rasterize(nodes, p)
        img = light * (1 - 0.75 * crack) + rng.normal(0, 0.03, (rows, cols))
        name = f"frame_{t:03d}.png"
        Image.fromarray((np.clip(img, 0, 1) * 255).round().astype(np.uint8)).save(
            out / "frames" / name
        )
    cycles = {"cycles": [round(float(c), 1) for c in hist.frames_cycles], "seed": seed}
    (out / "cycles.json").write_text(json.dumps(cycles, indent=1) + "\n")
    print(f"wrote {len(hist.frames_nodes)} images to {out}")


if __name__ == "__main__":
    import sys

    main(Path(sys.argv[1]) if len(sys.argv) > 1 else OUT)
