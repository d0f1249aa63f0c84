"""The pixel size read from a ruler: within 2 % of the truth on generated camera images (PNG and
JPEG, 0.03 to 0.1 mm per pixel, every ruler edge), its ticks where they were drawn; refused
where there is no ruler."""

from __future__ import annotations

import numpy as np
import pytest
from PIL import Image

from edge_shm.data.generators.camera import camera_sequence, write_sequence
from edge_shm.errors import UserError
from edge_shm.onsite.ruler import read_ruler

pytestmark = pytest.mark.fast

# measured on these cases (edge-shm 0.3.0): largest error 0.12 %, mean 0.02 %
TOLERANCE = 0.02


def _frames(seq, tmp_path, fmt: str) -> list[np.ndarray]:
    """The images as a reader gets them back from the files (JPEG: decoded, lossy)."""
    folder = write_sequence(seq, tmp_path / fmt, fmt=fmt)
    return [np.asarray(Image.open(folder / f"{n.rsplit('.', 1)[0]}.{fmt}")) for n in seq.names]


def _check(scale, seq) -> None:
    true_mm = seq.pixel_mm
    assert abs(scale.pixel_mm / true_mm - 1) < TOLERANCE, (scale.pixel_mm, true_mm)
    assert scale.tick_px == pytest.approx(seq.ruler["tick_px"], rel=TOLERANCE)
    assert scale.axis == seq.ruler["axis"]
    truth = np.array(seq.ruler["ticks_px"])
    # every tick found is a drawn tick, within half a pixel; most drawn ticks are found
    nearest = np.abs(scale.ticks[:, None] - truth[None]).min(axis=1)
    assert nearest.max() < 0.5 and len(scale.ticks) >= len(truth) - 1
    r0, c0, r1, c1 = seq.ruler["box"]
    b0, d0, b1, d1 = scale.box
    assert b0 <= r0 and d0 <= c0 and b1 >= r1 and d1 >= c1  # the band holds the ruler
    assert 0 < scale.confidence <= 1


@pytest.mark.parametrize("fmt", ["png", "jpg"])
@pytest.mark.parametrize("pixel_mm", [0.03, 0.05, 0.07, 0.1])
def test_scale_within_2_percent_along_the_bottom(pixel_mm, fmt, tmp_path):
    seq = camera_sequence(31, ruler=True, pixel_mm=pixel_mm, frames=4, crack="dark")
    for img in _frames(seq, tmp_path, fmt)[::3]:
        _check(read_ruler(img), seq)


@pytest.mark.parametrize("mouth", ["right", "top", "bottom"])
@pytest.mark.parametrize("pixel_mm", [0.03, 0.1])
def test_scale_on_the_other_edges_in_jpeg(mouth, pixel_mm, tmp_path):
    seq = camera_sequence(32, mouth=mouth, ruler=True, pixel_mm=pixel_mm, frames=4)
    _check(read_ruler(_frames(seq, tmp_path, "jpg")[-1]), seq)


def test_a_given_box_and_a_colour_image(tmp_path):
    seq = camera_sequence(33, ruler=True, colour_halo=True, frames=4, pixel_mm=0.04)
    img = seq.images[-1]
    assert img.ndim == 3
    _check(read_ruler(img), seq)
    r0, c0, r1, c1 = seq.ruler["box"]
    boxed = read_ruler(img, box=(r0 - 2, c0, r1 + 2, c1))
    _check(boxed, seq)
    assert boxed.box == (r0 - 2, c0, r1 + 2, c1)
    assert read_ruler(img, tick_mm=0.5).pixel_mm == pytest.approx(0.02, rel=TOLERANCE)


def test_after_a_camera_knock_the_ruler_reads_the_same(tmp_path):
    seq = camera_sequence(34, ruler=True, shift=(2, -6, 4), frames=4)
    before, after = read_ruler(seq.images[0]), read_ruler(seq.images[3])
    assert after.pixel_mm == pytest.approx(before.pixel_mm, rel=0.005)
    assert after.ticks[0] - before.ticks[0] == pytest.approx(4, abs=0.3)


@pytest.mark.parametrize("mouth", ["left", "right", "top", "bottom"])
def test_no_ruler_is_refused(mouth, tmp_path):
    for seed, opts in ((41, {}), (42, {"colour_halo": True}), (43, {"static": True})):
        seq = camera_sequence(seed, mouth=mouth, frames=4, **opts)
        for img in (seq.images[0], _frames(seq, tmp_path / str(seed), "jpg")[-1]):
            with pytest.raises(UserError, match="no ruler of regular ticks found"):
                read_ruler(img)


def test_noise_flat_and_irregular_marks_are_refused():
    rng = np.random.default_rng(0)
    cases = [rng.integers(0, 256, (160, 224), dtype=np.uint8), np.full((160, 224), 128, np.uint8)]
    marks = camera_sequence(44, frames=4).images[-1].copy()
    for x in np.sort(rng.uniform(5, 219, 11)).astype(int):  # 11 marks at random places
        marks[140:150, x] = 30
    cases.append(marks)
    for img in cases:
        with pytest.raises(UserError, match="no ruler of regular ticks found"):
            read_ruler(img)


def test_bad_arguments_are_refused():
    img = camera_sequence(45, ruler=True, frames=4).images[0]
    for box in ((0, 0, 500, 10), (10, 10, 5, 20), "bottom"):
        with pytest.raises(UserError, match="box"):
            read_ruler(img, box=box)
    with pytest.raises(UserError, match="tick spacing"):
        read_ruler(img, tick_mm=0)
    with pytest.raises(UserError):
        read_ruler(np.zeros((4, 4, 4, 4)))
