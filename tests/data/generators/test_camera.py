"""Camera-like sequences: the same seed gives the same bytes, and the truth agrees with the images
(tip contrast, growth, orientation for every mouth, camera shift, colour halo)."""

from __future__ import annotations

import json

import numpy as np
import pytest
from PIL import Image

from edge_shm.data.generators.camera import camera_sequence, write_sequence
from edge_shm.errors import UserError

pytestmark = pytest.mark.fast

MOUTHS = ("left", "right", "top", "bottom")


def _axis_length(seq) -> int:
    h, w = seq.images[0].shape[:2]
    return w if seq.mouth in ("left", "right") else h


def _surface_at(img: np.ndarray, r: int, c: int, half: int = 15) -> float:
    """Median of a (2 half + 1)^2 window: the surface (the crack and notch are a minority)."""
    win = img[max(r - half, 0) : r + half + 1, max(c - half, 0) : c + half + 1]
    return float(np.median(win))


def test_same_seed_same_bytes_and_files(tmp_path):
    opts = dict(mouth="top", ruler=True, shift=(3, 5, -4), jpeg=True)
    a, b = camera_sequence(7, **opts), camera_sequence(7, **opts)
    assert all(np.array_equal(x, y) for x, y in zip(a.images, b.images, strict=True))
    assert json.dumps(a.truth()) == json.dumps(b.truth())
    other = camera_sequence(8, **opts)
    assert not np.array_equal(a.images[0], other.images[0])
    write_sequence(a, tmp_path / "a")
    write_sequence(b, tmp_path / "b")
    names = sorted(p.name for p in (tmp_path / "a").iterdir())
    assert "12.jpg" in names and "truth.json" in names and "cycles.json" in names
    for n in names:
        assert (tmp_path / "a" / n).read_bytes() == (tmp_path / "b" / n).read_bytes(), n


@pytest.mark.parametrize("mouth", MOUTHS)
@pytest.mark.parametrize("crack", ["bright", "dark"])
def test_the_pixel_at_the_tip_shows_the_crack_and_the_a_px_definition(mouth, crack):
    seq = camera_sequence(11, mouth=mouth, crack=crack)
    assert seq.crack == crack and (seq.contrast > 0) == (crack == "bright")
    assert 0.25 <= abs(seq.contrast) <= 0.35
    sign = 1 if crack == "bright" else -1
    h, w = seq.images[0].shape
    seen = []
    for img, (r, c) in zip(seq.images, seq.tip_px, strict=True):
        ri, ci = int(round(r)), int(round(c))
        seen.append(sign * (float(img[ri, ci]) - _surface_at(img, ri, ci)) / 255)
    # the light (+-15 %), the blur and the round end leave at least half the contrast at the tip
    assert min(seen) >= 0.5 * abs(seq.contrast), seen
    r, c = seq.tip_px.T
    expected = {"left": c, "right": w - 1 - c, "top": r, "bottom": h - 1 - r}[mouth]
    np.testing.assert_allclose(seq.a_px, expected, atol=1e-9)


@pytest.mark.parametrize("mouth", MOUTHS)
def test_beyond_the_tip_is_surface(mouth):
    seq = camera_sequence(12, mouth=mouth)
    step = {"left": (0, 1), "right": (0, -1), "top": (1, 0), "bottom": (-1, 0)}[mouth]
    img = seq.images[-1]
    r, c = (np.round(seq.tip_px[-1] + 5 * np.array(step))).astype(int)  # 5 px ahead of the tip
    assert abs(float(img[r, c]) - _surface_at(img, r, c)) / 255 < 0.5 * abs(seq.contrast)


def test_growth_accelerates_with_one_pause_and_a_late_jump():
    for seed in range(6):
        seq = camera_sequence(seed, frames=12)
        da, dn = np.diff(seq.a_px), np.diff(seq.cycles)
        assert np.all(da >= 0) and np.all(dn >= 0)
        assert np.sum(da == 0) == 1 and np.array_equal(da == 0, dn == 0)  # the rig stopped
        assert 25 <= da[-1] <= 40  # the late jump
        assert np.all(da[:-1] <= 10 + 1e-9) and np.median(da[da > 0][:-1]) >= 2
        assert da[5:-1].mean() > da[:5].mean()  # Paris' law: faster as it grows
        assert seq.a_px[-1] <= 0.7 * _axis_length(seq) + 1e-9
        assert len(np.unique(dn[dn > 0])) == 1  # the camera's fixed interval
        assert np.all(np.diff(seq.tip_px[:, 1]) >= 0)  # mouth left: the tip moves right


def test_static_crack_never_moves():
    seq = camera_sequence(5, static=True, frames=6)
    assert np.all(seq.tip_px == seq.tip_px[0]) and np.all(seq.a_px == seq.a_px[0])
    assert seq.a_px[0] == pytest.approx(0.4 * 224)
    assert np.all(np.diff(seq.cycles) > 0)  # cycles go on, the crack does not
    first = seq.images[0].astype(float)
    for img in seq.images[1:]:
        diff = img.astype(float) - first
        assert abs(diff.mean()) < 0.5 and diff.std() < 10  # sensor noise only (sigma 0.02)


@pytest.mark.parametrize("mouth", ["right", "top", "bottom"])
def test_other_mouths_are_the_left_view_turned(mouth):
    # size (W, H) for top and bottom: the same canonical view as mouth left at (H, W)
    left = camera_sequence(21, mouth="left", size=(160, 224))
    size = (160, 224) if mouth == "right" else (224, 160)
    seq = camera_sequence(21, mouth=mouth, size=size)
    np.testing.assert_array_equal(seq.a_px, left.a_px)
    r, c = left.tip_px.T
    h, w = 160, 224
    expected = {"right": (h - 1 - r, w - 1 - c), "top": (c, h - 1 - r), "bottom": (w - 1 - c, r)}
    np.testing.assert_allclose(seq.tip_px, np.stack(expected[mouth], axis=1), atol=1e-9)
    k = {"right": 2, "top": -1, "bottom": 1}[mouth]
    for a, b in zip(left.images, seq.images, strict=True):
        # the same scene, the noise drawn anew: differences are noise (sigma 0.02 * sqrt 2)
        assert np.abs(np.rot90(a, k).astype(float) - b).mean() < 7.5


@pytest.mark.parametrize("mouth", MOUTHS)
def test_the_notch_touches_the_mouth_edge_at_its_middle(mouth):
    seq = camera_sequence(3, mouth=mouth, crack="bright")
    depth, width = seq.notch_px
    assert 15 <= depth <= 25 and 8 <= width <= 12
    img = seq.images[0].astype(float)
    h, w = img.shape
    edge = {
        "left": img[h // 2 - 2 : h // 2 + 2, :5],
        "right": img[h // 2 - 2 : h // 2 + 2, -5:],
        "top": img[:5, w // 2 - 2 : w // 2 + 2],
        "bottom": img[-5:, w // 2 - 2 : w // 2 + 2],
    }
    for side, strip in edge.items():
        bright = strip.mean() - np.median(img) > 0.3 * 255
        assert bright == (side == mouth), side


def test_camera_knock_moves_the_fixed_features_by_exactly_the_shift():
    k, dr, dc = 5, 15, -6
    still = camera_sequence(4, crack="bright")
    seq = camera_sequence(4, crack="bright", shift=(k, dr, dc))
    assert np.array_equal(seq.shift_px[:k], np.zeros((k, 2)))
    assert np.all(seq.shift_px[k:] == (dr, dc))
    np.testing.assert_allclose(seq.tip_px, still.tip_px + seq.shift_px, atol=1e-9)
    depth, _ = seq.notch_px
    for t, img in enumerate(seq.images):
        # the notch's slot (columns clear of the crack): its centroid row follows the shift
        slot = img[:, max(dc, 0) + 2 : max(dc, 0) + depth - 8].astype(float)
        mask = slot > np.median(img) + 0.3 * 255
        rows = np.nonzero(mask)[0]
        centre = (img.shape[0] - 1) / 2 + seq.shift_px[t, 0]
        assert rows.mean() == pytest.approx(centre, abs=0.3), t
    # the content moved: the shifted frame matches the still one moved, up to noise
    a, b = still.images[k].astype(float), seq.images[k].astype(float)
    moved = a[: a.shape[0] - dr, -dc:]
    assert np.abs(b[dr:, : b.shape[1] + dc] - moved).mean() < 7.5


def test_colour_halo_shows_the_line_only_in_blue():
    seq = camera_sequence(9, colour_halo=True)
    assert seq.images[0].shape == (160, 224, 3) and seq.channel == "b" and seq.crack == "dark"
    img = seq.images[-1].astype(float) / 255
    lum = img @ np.array([0.2125, 0.7154, 0.0721])
    blue = img[..., 2]
    for r, c in np.round(seq.tip_px[3:9]).astype(int):  # earlier tips lie on the last crack
        surface_b = _surface_at(blue, r, c)
        assert surface_b - blue[r, c] > 0.18  # blue: the line, dark
        halo_b = np.median([blue[r - 3, c], blue[r + 3, c]])
        assert abs(halo_b - surface_b) < 0.08  # blue: no halo
        halo_l = min(lum[r - 3, c], lum[r + 3, c])
        assert halo_l - lum[r, c] > 0.12  # luminance: the halo brighter than the line
        assert halo_l - _surface_at(lum, r, c) > 0.05  # and than the surface: a hollow outline


def test_ruler_truth_along_an_edge_the_crack_never_reaches():
    for mouth, edge in (("left", "bottom"), ("right", "bottom"), ("top", "right")):
        seq = camera_sequence(2, mouth=mouth, ruler=True, pixel_mm=0.05)
        r0, c0, r1, c1 = seq.ruler["box"]
        h, w = seq.images[0].shape
        assert (r1 == h - 3) if edge == "bottom" else (c1 == w - 3)
        ticks = np.array(seq.ruler["ticks_px"])
        np.testing.assert_allclose(np.diff(ticks), 20.0, atol=1e-3)
        assert seq.ruler["tick_px"] == pytest.approx(20.0)
        strip = seq.images[0][r0:r1, c0:c1].astype(float)
        assert np.median(strip) > np.median(seq.images[0]) + 0.2 * 255  # a light strip
        tips = np.round(seq.tip_px).astype(int)
        inside = (tips[:, 0] >= r0 - 5) & (tips[:, 0] < r1 + 5) & (tips[:, 1] >= c0 - 5)
        assert not np.any(inside & (tips[:, 1] < c1 + 5))


def test_names_files_and_truth_json(tmp_path):
    seq = camera_sequence(1, frames=5, names="padded")
    assert seq.names == [f"frame_{i:03d}.png" for i in range(5)]
    assert camera_sequence(1, frames=5).names == ["1.png", "2.png", "3.png", "4.png", "5.png"]
    out = write_sequence(seq, tmp_path / "jpg", fmt="jpg", quality=80)
    truth = json.loads((out / "truth.json").read_text())
    assert truth["names"][0] == "frame_000.jpg" and truth["jpeg_quality"] == 80
    assert truth["tip_px"] == np.round(seq.tip_px, 4).tolist() and truth["mouth"] == "left"
    assert json.loads((out / "cycles.json").read_text()) == {"cycles": seq.cycles.tolist()}
    decoded = np.asarray(Image.open(out / "frame_004.jpg"))
    assert decoded.shape == seq.images[4].shape
    assert 0 < np.abs(decoded.astype(float) - seq.images[4]).mean() < 6  # lossy, close


@pytest.mark.parametrize(
    "opts",
    [
        dict(mouth="up"),
        dict(crack="grey"),
        dict(frames=3),
        dict(size=(40, 224)),
        dict(shift=(0, 5, 5)),
        dict(shift=(3, 100, 0)),
        dict(names="dates"),
        dict(ruler=True, pixel_mm=0.5),
    ],
)
def test_refuses_what_it_cannot_draw(opts):
    with pytest.raises(UserError):
        camera_sequence(0, **opts)
