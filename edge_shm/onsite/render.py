"""Pictures of a frame and its forecast (numpy RGB; PNG and GIF through Pillow)."""

from __future__ import annotations

import io

import numpy as np

# Observed crack white on dark grey; forecast pixels not yet cracked: 1 frame ahead red,
# further ahead orange, then yellow.
BACKGROUND = (40, 40, 46)
OBSERVED = (240, 240, 240)
HORIZON_COLOURS = ((230, 40, 40), (240, 140, 30), (235, 210, 50), (200, 200, 120))


def overlay(frame: np.ndarray, forecasts: list[np.ndarray], scale: int = 3) -> np.ndarray:
    """(H, W) frame and its forecasts (each (H, W)) -> (H s, W s, 3) uint8 picture.

    The farthest forecast is drawn first so that nearer ones stay visible on top."""
    seen = np.asarray(frame) > 0.5
    img = np.empty((*seen.shape, 3), np.uint8)
    img[:] = BACKGROUND
    for k in range(len(forecasts) - 1, -1, -1):
        new = (np.asarray(forecasts[k]) > 0.5) & ~seen
        img[new] = HORIZON_COLOURS[min(k, len(HORIZON_COLOURS) - 1)]
    img[seen] = OBSERVED
    return np.repeat(np.repeat(img, scale, axis=0), scale, axis=1)


def png_bytes(rgb: np.ndarray) -> bytes:
    from PIL import Image

    buf = io.BytesIO()
    Image.fromarray(rgb).save(buf, format="PNG")
    return buf.getvalue()


def unpack(bits: np.ndarray, shape: tuple[int, int]) -> np.ndarray:
    return np.unpackbits(bits, count=shape[0] * shape[1]).reshape(shape).astype(np.float32)
