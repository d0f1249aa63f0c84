"""The camera intake on the shipped camera-like sequences (examples/camera, made by
scripts/make_camera_examples.py with their exact truth): the tip within 3 px of the truth on
every frame, a measured from the mouth, the mouth and the channel found, a knock undone, the
notch, ruler and scratches kept apart; and `forecast` / `library import --camera` on them."""

from __future__ import annotations

import json
import shutil
from pathlib import Path

import numpy as np
import pytest

from edge_shm.cli import main
from edge_shm.data.frames import image_files, read_image
from edge_shm.onsite.camera import CameraView, image_point, orient
from edge_shm.vector.motion import observe

ROOT = Path(__file__).resolve().parents[2]
CAMERA = ROOT / "examples" / "camera"
MOTION = ROOT / "examples" / "runs" / "motion-snn"
CASES = sorted(p.name for p in CAMERA.iterdir() if p.is_dir())
TIP_PX = 3.0  # the acceptance tolerance: a crack drawn within a few pixels


def _truth(case: str) -> dict:
    return json.loads((CAMERA / case / "truth.json").read_text())


def _tips(case: str, **options) -> tuple[list, CameraView]:
    """(per frame: the tip found in image pixels, or None), the view after the sequence."""
    t = _truth(case)
    colour = t["channel"] != "grey"
    view = CameraView(**{"mouth": t["mouth"], "crack": t["crack"],
                         "channel": "auto" if colour else "luminance", **options})  # fmt: skip
    tips = []
    for f in image_files(CAMERA / case, sidecars=True):
        img = read_image(f, channel="rgb") if colour else read_image(f)
        crack, info = view.read(img, f.name)
        obs = observe(crack)
        if obs is None:
            tips.append(None)
            continue
        r, c = image_point(obs.tip, info["mouth"], img.shape[:2])
        tips.append((r + info["shift_px"][0], c + info["shift_px"][1]))
    return tips, view


@pytest.mark.fast
def test_every_case_is_shipped():
    assert CASES == ["colour_halo_left", "notch_bottom_dark", "notch_left_bright",
                     "notch_right_bright_jpg", "notch_top_dark", "ruler_left_bright",
                     "shifted_left_bright", "static_left_bright"]  # fmt: skip


@pytest.mark.parametrize("case", CASES)
@pytest.mark.fast
def test_the_tip_is_found_within_3_px_on_every_frame(case):
    t = _truth(case)
    tips, _ = _tips(case)
    assert len(tips) == len(t["tip_px"])
    errors = [np.hypot(*np.subtract(got, want)) for got, want in zip(tips, t["tip_px"],
                                                                    strict=True)]  # fmt: skip
    assert max(errors) <= TIP_PX, np.round(errors, 1)


@pytest.mark.parametrize("case", ["notch_right_bright_jpg", "notch_top_dark", "notch_bottom_dark",
                                  "notch_left_bright"])  # fmt: skip
@pytest.mark.fast
def test_the_mouth_is_found_and_said(case):
    tips, view = _tips(case, mouth="auto")
    assert view.mouth == _truth(case)["mouth"]
    assert any(line.startswith(f"mouth: {view.mouth}") for line in view.said)
    assert all(tip is not None for tip in tips)


@pytest.mark.fast
def test_a_crack_in_a_pale_halo_is_read_in_the_channel_that_shows_it():
    tips, view = _tips("colour_halo_left")
    assert view.channel == "b" and view.said == ["channel: b (auto: thin lines stand out most)"]
    lum, _ = _tips("colour_halo_left", channel="luminance")
    assert lum.count(None) == len(lum)  # in luminance the line is lost in its halo


@pytest.mark.fast
def test_a_knock_is_undone_and_recorded():
    t = _truth("shifted_left_bright")
    from edge_shm.onsite.intake import Intake

    intake = Intake(None, camera=CameraView())
    got = []
    for f in image_files(CAMERA / "shifted_left_bright", sidecars=True):
        intake.frame(read_image(f), f.name)
        got.append(intake.camera.last["shift_px"])
    assert got == [list(s) for s in t["shift_px"]]


@pytest.mark.fast
def test_fixed_features_are_kept_out_of_the_crack():
    """The notch and the ruler are in the first frame's fixed features, never in the crack."""
    t = _truth("ruler_left_bright")
    view = CameraView()
    files = image_files(CAMERA / "ruler_left_bright", sidecars=True)
    for f in files:
        crack, _ = view.read(read_image(f), f.name)
        r0, c0, r1, c1 = t["ruler"]["box"]
        assert not crack[r0:r1, c0:c1].any()
        assert not crack[:, : t["notch_px"][0] - 2].any()  # the notch, from the mouth edge
    grey, _, fixed = view.views["last"]
    assert fixed[r0:r1, c0:c1].mean() > 0.3 and grey.shape == orient(grey, "left").shape


@pytest.mark.fast
def test_a_static_crack_is_a_crack_and_stays():
    tips, _ = _tips("static_left_bright")
    assert all(tip is not None for tip in tips)
    assert np.ptp([tip[1] for tip in tips]) <= 2.0


def _records(out: Path) -> list[dict]:
    return [json.loads(line) for line in (out / "forecast.jsonl").read_text().splitlines()]


def test_forecast_on_a_folder_of_jpegs_named_1_to_12(tmp_path):
    """The acceptance command: JPEGs named 1.jpg ... 12.jpg (natural order), mouth right."""
    case = CAMERA / "notch_right_bright_jpg"
    t = _truth(case.name)
    out = tmp_path / "out"
    args = ["forecast", str(MOTION), "--frames", str(case), "--mouth", "right", "--crack",
            "bright", "--pixel-mm", "0.05", "--cycles-file", str(case / "cycles.json")]  # fmt: skip
    assert main([*args, "-o", str(out)]) == 0
    recs = _records(out)
    assert [r["name"] for r in recs] == [f"{i}.jpg" for i in range(1, 13)]
    for r, tip, a_mm in zip(recs, t["tip_px"], t["a_mm"], strict=True):
        assert np.hypot(*np.subtract(r["intake"]["tip_image_px"], tip)) <= TIP_PX
        assert abs(r["observed"]["a_mm"] - a_mm) <= TIP_PX * 0.05  # a from the mouth, mm
    report = (out / "REPORT.md").read_text()
    assert "![intake](intake.png)" in report and (out / "intake.png").stat().st_size > 5000


def test_forecast_reads_the_scale_from_a_ruler(tmp_path, capsys):
    out = tmp_path / "out"
    case = CAMERA / "ruler_left_bright"
    assert main(["forecast", str(MOTION), "--frames", str(case), "--ruler", "-o", str(out)]) == 0
    said = [line for line in capsys.readouterr().err.splitlines() if line.startswith("ruler:")]
    px = float(said[0].split(": ")[-1].split(" mm")[0])
    assert abs(px / _truth(case.name)["pixel_mm"] - 1) < 0.02
    assert "ruler:" in (out / "REPORT.md").read_text()


def test_no_alert_on_a_static_crack(tmp_path):
    out = tmp_path / "out"
    case = CAMERA / "static_left_bright"
    assert main(["forecast", str(MOTION), "--frames", str(case), "--pixel-mm", "0.05",
                 "-o", str(out)]) == 0  # fmt: skip
    assert {r["warning"] for r in _records(out)} <= {"ok", "unknown"}


@pytest.mark.parametrize(
    "args, words",
    [
        (["--mouth", "sideways"], "--mouth must be one of"),
        (["--channel", "uv"], "--channel must be one of"),
        (["--mask", "{mask}"], "--mask is 10 x 10 px"),
        (["--frames", "{sensor_npy}", "--mouth", "right"], "apply to image folders"),
        (["--ruler", "--pixel-mm", "0.05"], "not both"),
    ],
)
@pytest.mark.fast
def test_bad_camera_options_are_one_line(tmp_path, capsys, args, words):
    from PIL import Image

    Image.fromarray(np.zeros((10, 10), np.uint8)).save(tmp_path / "mask.png")
    np.save(tmp_path / "s.npy", np.zeros((3, 96, 132), np.float32))
    names = {"mask": tmp_path / "mask.png", "sensor_npy": tmp_path / "s.npy"}
    argv = [a.format(**names) for a in args]
    frames = [] if "--frames" in argv else ["--frames", str(CAMERA / "notch_left_bright")]
    out = tmp_path / "out"
    rc = main(["forecast", str(MOTION), *frames, *argv, "-o", str(out)])
    err = capsys.readouterr().err.strip().splitlines()
    assert rc == 2 and len(err) == 1 and words in err[-1], err
    assert not out.exists()


def test_library_import_reads_camera_folders_like_the_loop(tmp_path):
    tree = tmp_path / "tree"
    for case in ("notch_left_bright", "shifted_left_bright", "ruler_left_bright"):
        (tree / case).mkdir(parents=True)
        for f in image_files(CAMERA / case, sidecars=True):
            shutil.copy(f, tree / case / f.name)
    lib = tmp_path / "cam.h5"
    args = ["library", "import", str(tree), "--camera", "--pixel-mm", "0.05", "--n-test", "1"]
    assert main([*args, "-o", str(lib)]) == 0
    from edge_shm.data.library import read_library

    frames = read_library(lib).frames
    assert frames.shape == (3, 12, 128, 176) and set(np.unique(frames)) <= {0.0, 1.0}
    for i, case in enumerate(("notch_left_bright", "ruler_left_bright", "shifted_left_bright")):
        t = _truth(case)
        tip = observe(frames[i, -1]).tip
        assert np.hypot(*(tip - np.add(t["tip_px"][-1], np.negative(t["shift_px"][-1])))) <= 3
    # judged like a library: the forecaster beside the naive and physical forecasts
    ev = tmp_path / "ev"
    assert main(["evaluate", str(MOTION), "-l", str(lib), "-o", str(ev)]) == 0
    horizons = json.loads((ev / "evaluation.json").read_text())["forecast"]["horizons"]
    assert len(horizons) >= 1 and set(horizons[0]["methods"]) >= {
        "model", "copy_last", "constant_velocity", "constant_acceleration", "paris"}  # fmt: skip


def test_a_cycles_file_that_names_its_frames_orders_them(tmp_path):
    """Frames named so that name order is not time order: the cycles file's order wins."""
    src = CAMERA / "notch_left_bright"
    t = _truth(src.name)
    frames = tmp_path / "frames"
    frames.mkdir()
    listed = []
    for i, f in enumerate(image_files(src, sidecars=True)):
        name = f"shot_{chr(ord('z') - i)}.png"  # z, y, x ...: reverse of time in name order
        shutil.copy(f, frames / name)
        listed.append({"name": name, "cycles": t["cycles"][i]})
    (tmp_path / "cycles.json").write_text(json.dumps({"frames": listed}))
    out = tmp_path / "out"
    args = ["forecast", str(MOTION), "--frames", str(frames), "--pixel-mm", "0.05",
            "--cycles-file", str(tmp_path / "cycles.json"), "-o", str(out)]  # fmt: skip
    assert main(args) == 0
    recs = _records(out)
    assert [r["name"] for r in recs] == [e["name"] for e in listed]
    assert [r["cycles"] for r in recs] == t["cycles"]
    a = [r["observed"]["a_mm"] for r in recs]
    assert np.all(np.diff(a) >= -0.1)  # in time order the crack never shrinks


@pytest.mark.parametrize("case", CASES)
@pytest.mark.fast
def test_a_is_measured_from_the_mouth(case):
    """The crack length a (px) is the tip's distance from the mouth edge along the growth
    axis, notch included: the column of the tip once the view is turned mouth-left."""
    t = _truth(case)
    colour = t["channel"] != "grey"
    view = CameraView(t["mouth"], "auto" if colour else "luminance", t["crack"])
    for f, a_px in zip(image_files(CAMERA / case, sidecars=True), t["a_px"], strict=True):
        crack, _ = view.read(read_image(f, channel="rgb") if colour else read_image(f), f.name)
        assert abs(observe(crack).tip[1] - a_px) <= TIP_PX, (f.name, a_px)


@pytest.mark.fast
def test_a_mask_keeps_its_region_out_of_the_crack():
    files = image_files(CAMERA / "notch_left_bright", sidecars=True)
    mask = np.zeros(read_image(files[0]).shape, bool)
    mask[:, 60:] = True  # "never the crack" right of column 60
    view = CameraView(mask=mask)
    for f in files:
        crack, _ = view.read(read_image(f), f.name)
        assert not crack[:, 60:].any()


@pytest.mark.parametrize("mouth", ["top", "auto"])
@pytest.mark.fast
def test_a_crack_from_the_top_fits_a_model_of_the_turned_size(mouth):
    """176 x 128 px images of a crack growing down from the top edge, turned mouth-left, are
    128 x 176 px: with --roi none a model of that size takes them, and draws the crack."""
    from edge_shm.onsite.intake import Intake

    t = _truth("notch_top_dark")
    intake = Intake((128, 176), camera=CameraView(mouth, "luminance", t["crack"]))
    frames = [intake.frame(read_image(f), f.name)
              for f in image_files(CAMERA / "notch_top_dark", sidecars=True)]  # fmt: skip
    assert {f.shape for f in frames} == {(128, 176)}
    assert intake.camera.mouth == "top"
    assert observe(frames[-1]) is not None


@pytest.mark.fast
def test_a_model_of_the_unturned_size_is_refused_with_the_turn_said():
    from edge_shm.onsite.camera import FrameRefused
    from edge_shm.onsite.intake import Intake

    intake = Intake((176, 128), camera=CameraView("top", "luminance", "dark"))
    first = image_files(CAMERA / "notch_top_dark", sidecars=True)[0]
    with pytest.raises(FrameRefused, match=r"128 x 176 px once turned mouth-left"):
        intake.frame(read_image(first), first.name)
