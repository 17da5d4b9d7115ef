"""Qt-free camera sources: a webcam by index or a video file, through the same ``cv2.VideoCapture`` path.

Every frame is stamped with :meth:`SessionClock.now` right after ``read()``
returns it (capture time on the session clock), never after processing.

Video files either pace themselves at the file's frame rate (as a live camera
would deliver them) or run as fast as they decode (benchmarks), and can loop
(the demo).
"""

from __future__ import annotations

import logging
import time
from dataclasses import dataclass
from pathlib import Path
from typing import Any

import numpy as np

from asha_app.core.clock import SessionClock
from asha_app.core.errors import DeviceError, DeviceNotFoundError
from asha_app.core.paths import resource

log = logging.getLogger(__name__)


class CameraNotFoundError(DeviceNotFoundError):
    """No camera at that index (unplugged, or no permission)."""


class CameraBusyError(DeviceError):
    """The camera opened but delivers no frames (another program holds it)."""


class VideoFileError(DeviceError):
    """A video file is missing or cannot be decoded."""


@dataclass
class Frame:
    """One captured frame.

    Attributes
    ----------
    image : uint8 (H, W, 3)
        BGR image (OpenCV's order), already mirrored when the source mirrors.
    t : float
        Capture time, session seconds (stamped right after the frame was read).
    index : int
        Frame counter of this source (0-based, counts every frame read).
    """

    image: np.ndarray
    t: float
    index: int


def demo_video_path() -> Path:
    """The bundled demo hand video (``resources/demo/hand_landmarker_test_video.mp4``)."""
    return resource("demo", "hand_landmarker_test_video.mp4")


class CameraSource:
    """A webcam (``int`` index) or a video file (path), read with ``cv2.VideoCapture``.

    Parameters
    ----------
    source : int or str or Path
        Camera index or video file path.
    clock : SessionClock
        Stamps each frame at capture.
    width, height : int, optional
        Requested capture size (cameras) / resize target (files and cameras that ignore the request).
    mirror : bool
        Flip frames horizontally (selfie view).  Default: True for cameras, False for files.
    pace : bool
        Video files only: deliver frames at the file's frame rate (True) or as fast as
        they decode (False).
    loop : bool
        Video files only: start over at the end instead of stopping.
    fps : float, optional
        Video files only: pace at this rate instead of the file's own (e.g. to offer
        frames faster than the pipeline can take them, like a 60 Hz camera).

    Raises
    ------
    CameraNotFoundError, CameraBusyError, VideoFileError
        On :meth:`open`, with a message saying what to do.
    """

    def __init__(
        self,
        source: int | str | Path,
        clock: SessionClock,
        width: int | None = None,
        height: int | None = None,
        mirror: bool | None = None,
        pace: bool = True,
        loop: bool = False,
        fps: float | None = None,
    ) -> None:
        self.is_file = not isinstance(source, int)
        self.source: int | Path = source if isinstance(source, int) else Path(source)
        self.clock = clock
        self.width = width
        self.height = height
        self.mirror = (not self.is_file) if mirror is None else bool(mirror)
        self.pace = pace
        self.loop = loop
        self._fps_override = fps
        self.fps = 0.0
        self._cap: Any = None  # cv2.VideoCapture once open
        self._index = 0
        self._t_start: float | None = None
        self._file_frame = 0

    @property
    def name(self) -> str:
        """Human-readable name (``"Camera 0"`` or the file name)."""
        return self.source.name if isinstance(self.source, Path) else f"Camera {self.source}"

    def open(self) -> CameraSource:
        """Open the device or file and read a first frame to prove it works."""
        import cv2  # noqa: PLC0415 - cv2 on first use

        if isinstance(self.source, Path):
            path = self.source
            if not path.is_file():
                raise VideoFileError(f"video file not found: {path}. Choose an existing video file.")
            cap = cv2.VideoCapture(str(path))
            if not cap.isOpened():
                cap.release()
                raise VideoFileError(f"cannot open {path} as a video (unknown or damaged format). Try an MP4/H.264 "
                                     "file.")
            ok, frame = cap.read()
            if not ok or frame is None:
                cap.release()
                raise VideoFileError(f"{path} opens but no frame can be decoded; the file is damaged or not a video.")
            cap.set(cv2.CAP_PROP_POS_FRAMES, 0)
            self.fps = self._fps_override or float(cap.get(cv2.CAP_PROP_FPS)) or 25.0
        else:
            cap = cv2.VideoCapture(int(self.source))
            if not cap.isOpened():
                cap.release()
                raise CameraNotFoundError(
                    f"no camera at index {self.source}. Plug a camera in, check the operating system's camera "
                    "permission, or pick another camera."
                )
            if self.width:
                cap.set(cv2.CAP_PROP_FRAME_WIDTH, self.width)
            if self.height:
                cap.set(cv2.CAP_PROP_FRAME_HEIGHT, self.height)
            ok = False
            for _ in range(10):
                ok, frame = cap.read()
                if ok and frame is not None:
                    break
                time.sleep(0.05)
            if not ok:
                cap.release()
                raise CameraBusyError(
                    f"camera {self.source} opened but delivers no frames; another program may be using it. "
                    "Close it and try again."
                )
            self.fps = float(cap.get(cv2.CAP_PROP_FPS)) or 30.0
        self._cap = cap
        self._index = 0
        self._file_frame = 0
        self._t_start = None
        log.info("opened %s at %.1f fps", self.name, self.fps)
        return self

    def read(self) -> Frame | None:
        """Next frame, or None at the end of a non-looping file.

        Raises
        ------
        CameraBusyError
            If a camera stops delivering frames.
        DeviceError
            If the source is not open.
        """
        import cv2  # noqa: PLC0415 - cv2 on first use

        if self._cap is None:
            raise DeviceError(f"{self.name} is not open; call open() first")
        if self.is_file and self.pace:
            now = time.perf_counter()
            if self._t_start is None:
                self._t_start = now
            due = self._t_start + self._file_frame / self.fps
            if due > now:
                time.sleep(due - now)
        ok, frame = self._cap.read()
        t = self.clock.now()
        if not ok or frame is None:
            if self.is_file:
                if not self.loop:
                    return None
                self._cap.set(cv2.CAP_PROP_POS_FRAMES, 0)
                ok, frame = self._cap.read()
                t = self.clock.now()
                if not ok:
                    return None
            else:
                raise CameraBusyError(f"{self.name} stopped delivering frames (unplugged or taken by another program).")
        self._file_frame += 1
        if self.mirror:
            frame = cv2.flip(frame, 1)
        if self.width and self.height and (frame.shape[1] != self.width or frame.shape[0] != self.height):
            frame = cv2.resize(frame, (self.width, self.height), interpolation=cv2.INTER_AREA)
        out = Frame(image=frame, t=t, index=self._index)
        self._index += 1
        return out

    def close(self) -> None:
        """Release the device (idempotent)."""
        if self._cap is not None:
            self._cap.release()
            self._cap = None

    def __enter__(self) -> CameraSource:
        return self.open()

    def __exit__(self, *exc) -> None:
        self.close()


def list_cameras(max_index: int = 5) -> list[int]:
    """Camera indices 0..max_index-1 that open and deliver a frame.

    Probing stops at the first two consecutive indices that fail to open (device
    numbers are mostly contiguous), so a machine without cameras answers quickly.
    """
    import cv2  # noqa: PLC0415 - cv2 on first use

    found: list[int] = []
    misses = 0
    for i in range(max_index):
        cap = cv2.VideoCapture(i)
        try:
            if cap.isOpened():
                ok, _ = cap.read()
                if ok:
                    found.append(i)
                misses = 0
            else:
                misses += 1
        finally:
            cap.release()
        if misses >= 2:
            break
    return found
