"""MediaPipe wrapper on a real photo (tests/assets): detection, units, mirroring, hand selection."""

from pathlib import Path

import cv2
import numpy as np
import pytest

from asha_app.pose.hand_model import HandModel
from asha_app.pose.ik import IKSolver
from asha_app.pose.landmarks import LandmarkDetector, LandmarkError

PHOTO = Path(__file__).parent / "assets" / "gesture_hand_thumb_up.jpg"


@pytest.fixture(scope="module")
def photo():
    img = cv2.imread(str(PHOTO))
    assert img is not None, f"test photo missing: {PHOTO}"
    return img


def test_finds_the_hand_in_a_real_photo(photo):
    with LandmarkDetector(static_image_mode=True, model_complexity=1) as det:
        hand = det.process(photo)
    assert hand is not None
    assert hand.image.shape == (21, 3) and hand.world.shape == (21, 3)
    assert hand.score > 0.5 and hand.handedness in ("right", "left")
    # image landmarks are normalised; world landmarks are metres around the hand centre
    assert np.all((hand.image[:, :2] > 0) & (hand.image[:, :2] < 1))
    assert np.abs(hand.world.mean(0)).max() < 0.05
    span = np.linalg.norm(hand.world[12] - hand.world[0])  # wrist to middle tip, straight-ish hand
    assert 0.05 < span < 0.30


def test_mirroring_keeps_the_real_hand(photo):
    with LandmarkDetector(static_image_mode=True, mirrored=False) as det:
        plain = det.process(photo)
    with LandmarkDetector(static_image_mode=True, mirrored=True) as det:
        mirrored = det.process(cv2.flip(photo, 1))
    assert plain is not None and mirrored is not None
    # the same real hand, whichever way the image was delivered
    assert plain.handedness == mirrored.handedness
    # same geometry (x flipped back); MediaPipe's depth differs a little between the two images
    assert np.linalg.norm(plain.world - mirrored.world, axis=1).mean() < 0.015
    assert np.corrcoef(plain.world[:, 0], mirrored.world[:, 0])[0, 1] > 0.9
    # and the geometry fits the model of that side much better than the other side
    errs = {}
    for side in ("right", "left"):
        res = IKSolver(HandModel.builtin(side), calib_frames=0, cold_iter=60).solve(plain.world * 1000.0)
        errs[side] = res.fit_error_mm
    assert errs[plain.handedness] < errs["left" if plain.handedness == "right" else "right"]


def test_hand_selection(photo):
    with LandmarkDetector(static_image_mode=True) as det:
        side = det.process(photo).handedness
    other = "left" if side == "right" else "right"
    with LandmarkDetector(static_image_mode=True, hand=other) as det:
        assert det.process(photo) is None
    with LandmarkDetector(static_image_mode=True, hand=side) as det:
        assert det.process(photo) is not None


def test_blank_image_has_no_hand_and_bad_settings_fail():
    with LandmarkDetector(static_image_mode=True) as det:
        assert det.process(np.full((240, 320, 3), 127, np.uint8)) is None
        with pytest.raises(LandmarkError):
            det.process(np.zeros((10, 10), np.uint8))
    with pytest.raises(LandmarkError):
        LandmarkDetector(hand="both")
