"""MediaPipe Hands (legacy ``mp.solutions.hands`` API of mediapipe 0.10.21) behind a small, typed wrapper.

mediapipe 0.10.21 is the last release whose wheel bundles the hand models, so
detection works offline.  Per frame the wrapper returns a :class:`HandLandmarks`
(or ``None`` when no hand of the wanted side is found; such frames stay
unlabelled).

Handedness and mirroring
------------------------
MediaPipe labels handedness *assuming a mirrored (selfie) image*.  The
landmark geometry, however, has the chirality of the hand as it appears in the
image.  With ``mirrored=True`` (the frames are mirrored selfie views) the label
is the real hand and the world landmarks are flipped back (x -> -x) so that they
have the real hand's geometry; with ``mirrored=False`` (a plain camera or video)
the label is swapped and the landmarks are kept as they are.  Either way
``HandLandmarks.handedness`` is the real hand and ``HandLandmarks.world`` has its
geometry, ready for the hand model of that side.  ``HandLandmarks.image`` stays
in the coordinates of the image that was passed in (for drawing).
"""

from __future__ import annotations

import logging
from dataclasses import dataclass

import numpy as np

from asha_app.core.errors import AshaError

log = logging.getLogger(__name__)

HAND_CHOICES = ("right", "left", "any")


class LandmarkError(AshaError):
    """MediaPipe could not be started or given a usable frame."""


@dataclass
class HandLandmarks:
    """One detected hand.

    Attributes
    ----------
    image : float32 (21, 3)
        x, y normalised to the image width/height (0..1, of the image as passed
        in), z relative depth (MediaPipe's scale, roughly like x).
    world : float32 (21, 3)
        Metres, camera-aligned axes (x right, y down, z away from the camera) of
        the real, unmirrored scene; origin near the hand's geometric centre
        (not the wrist).
    handedness : str
        ``"right"`` or ``"left"``: the real hand (mirroring already accounted for).
    score : float
        MediaPipe's handedness score (0..1), used as the detection confidence.
    """

    image: np.ndarray
    world: np.ndarray
    handedness: str
    score: float


class LandmarkDetector:
    """MediaPipe Hands in tracking (video) or still-image mode.

    Parameters
    ----------
    model_complexity : int
        0 (lite, faster) or 1 (full, more accurate).
    max_num_hands : int
        Hands MediaPipe searches for (1 is fastest; 2 keeps searching for a second hand).
    hand : str
        Which hand to keep: ``"right"``, ``"left"`` or ``"any"`` (the most confident).
    mirrored : bool
        True if the frames are mirrored selfie views (see the module docstring).
    static_image_mode : bool
        False (default) tracks across frames (video); True detects in every image.
    min_detection_confidence, min_tracking_confidence : float
        MediaPipe thresholds.

    Raises
    ------
    LandmarkError
        If mediapipe cannot be imported or started, or a setting is invalid.
    """

    def __init__(
        self,
        model_complexity: int = 1,
        max_num_hands: int = 1,
        hand: str = "any",
        mirrored: bool = False,
        static_image_mode: bool = False,
        min_detection_confidence: float = 0.5,
        min_tracking_confidence: float = 0.5,
    ) -> None:
        if hand not in HAND_CHOICES:
            raise LandmarkError(f"hand must be one of {HAND_CHOICES}, got {hand!r}")
        if model_complexity not in (0, 1):
            raise LandmarkError(f"model_complexity must be 0 or 1, got {model_complexity!r}")
        self.hand = hand
        self.mirrored = bool(mirrored)
        self.model_complexity = model_complexity
        self.max_num_hands = max_num_hands
        try:
            import mediapipe as mp  # noqa: PLC0415 - mediapipe on first use

            self._hands = mp.solutions.hands.Hands(
                static_image_mode=static_image_mode,
                max_num_hands=max_num_hands,
                model_complexity=model_complexity,
                min_detection_confidence=min_detection_confidence,
                min_tracking_confidence=min_tracking_confidence,
            )
        except (ImportError, AttributeError, RuntimeError, ValueError) as exc:
            raise LandmarkError(
                f"MediaPipe Hands could not start ({exc}). Asha needs mediapipe==0.10.21, whose wheel ships the hand "
                "models."
            ) from exc

    def process(self, frame_bgr: np.ndarray) -> HandLandmarks | None:
        """Detect the hand in one BGR frame (as OpenCV delivers it).

        Parameters
        ----------
        frame_bgr : uint8 array (H, W, 3)

        Returns
        -------
        HandLandmarks or None
            None when no hand (of the wanted side) is found.
        """
        import cv2  # noqa: PLC0415 - cv2 on first use

        if frame_bgr is None or frame_bgr.ndim != 3 or frame_bgr.shape[2] != 3:
            raise LandmarkError(f"expected an (H, W, 3) BGR image, got shape {getattr(frame_bgr, 'shape', None)}")
        rgb = cv2.cvtColor(frame_bgr, cv2.COLOR_BGR2RGB)
        rgb.flags.writeable = False
        res = self._hands.process(rgb)
        if not res.multi_hand_landmarks:
            return None
        best: HandLandmarks | None = None
        for lm, wlm, hd in zip(res.multi_hand_landmarks, res.multi_hand_world_landmarks, res.multi_handedness):
            cls = hd.classification[0]
            label = cls.label.lower()  # MediaPipe's label, valid for a mirrored image
            real = label if self.mirrored else ("left" if label == "right" else "right")
            if self.hand != "any" and real != self.hand:
                continue
            image = np.array([[p.x, p.y, p.z] for p in lm.landmark], dtype=np.float32)
            world = np.array([[p.x, p.y, p.z] for p in wlm.landmark], dtype=np.float32)
            if self.mirrored:
                world[:, 0] = -world[:, 0]
            cand = HandLandmarks(image=image, world=world, handedness=real, score=float(cls.score))
            if best is None or cand.score > best.score:
                best = cand
        return best

    def close(self) -> None:
        """Release MediaPipe's graph (idempotent)."""
        if self._hands is not None:
            self._hands.close()
            self._hands = None

    def __enter__(self) -> LandmarkDetector:
        return self

    def __exit__(self, *exc) -> None:
        self.close()
