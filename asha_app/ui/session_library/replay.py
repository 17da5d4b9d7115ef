"""Replay of a listed session through the window's session controller: the transport controls and the
label frame shown at the replay position.
"""

from __future__ import annotations

import logging
import time
from pathlib import Path

import numpy as np

log = logging.getLogger(__name__)


#: The 3D view's slot for the replayed label frames.
REPLAY_SLOT = "replay"


class ReplayControls:
    """Replay of a listed session as a live source: Replay, Play/Pause, Stop and the scrubber (seek).

    Mixed into :class:`~asha_app.ui.session_library.library.SessionLibrary`, which builds the buttons,
    the slider, the labels and the 40 ms timer these methods drive, and gives ``window``, ``message``,
    ``selected_paths``, ``entry`` and ``recording_path``.
    """

    def start_replay(self, path: Path | None = None, speed: float = 1.0) -> bool:
        """Replay ``path`` (default: the selected session) through the window's session controller.

        Returns False (message in the dock) when it cannot be tried; a file that turns out unreadable is
        reported by the acquisition thread in the window's banner.  The transport controls come alive
        once the file is open.
        """
        if self.recording_path() is not None:
            self.message.setText("A recording is running: finish it before replaying (replay replaces the live EMG "
                                 "stream).")
            return False
        if path is None:
            sel = self.selected_paths()
            if not sel:
                self.message.setText("Select a session to replay.")
                return False
            path = sel[0]
        e = self.entry(path) or {}
        known = {k: e[k] for k in ("fs", "n_channels", "units", "duration_s") if not e.get("error") and e.get(k)}
        self.stop_replay()
        session = self.window.session
        if not session.start("replay", path=str(path), speed=speed, **known):
            self.message.setText(self.window.last_error[0] if self.window.last_error else "The replay could not start.")
            return False
        self.message.setText("")
        self._replay_worker = session.worker
        self._replay_path = Path(path)
        self.stop_button.setEnabled(True)
        self._last_label = -2
        return True

    def _on_acquisition_opened(self, worker) -> None:
        """The replay's file is open: its source (position, labels, transport) drives the controls."""
        if worker is not self._replay_worker or worker.source is None:
            return
        source = worker.source
        self.replay = source
        self.slider.setRange(0, int(round(1000 * source.duration)))
        self.slider.setEnabled(True)
        self.play_button.setEnabled(True)
        self.play_button.setText("Pause")
        self.timer.start()

    def _on_acquisition_finished(self, worker) -> None:
        """The replay's thread ended by itself (e.g. the file could not be read): the controls go back."""
        if worker is not self._replay_worker or self.window.worker is not worker:
            return
        if worker.failure:
            self.message.setText(worker.failure)
        self.stop_replay()

    def _replay_worker_alive(self) -> bool:
        w = self.window.worker
        return self._replay_worker is not None and w is not None and w is self._replay_worker

    def toggle_play(self) -> None:
        """Pause or continue the replay."""
        if self.replay is None:
            return
        if self.replay.playing:
            self.replay.pause()
            self.play_button.setText("Play")
        else:
            self.replay.play()
            self.play_button.setText("Pause")

    def seek(self, t_rel: float) -> None:
        """Jump to ``t_rel`` seconds after the start of the replayed session."""
        if self.replay is None:
            return
        self.replay.seek(self.replay.t_start + float(t_rel))
        self._last_label = -2
        self.poll_replay()

    def _on_slider_moved(self, value: int) -> None:
        """Seek while the user drags (at most every 80 ms, so a fast drag does not flood the replay)."""
        now = time.perf_counter()
        if self.slider.isSliderDown() and now - self._scrub_t < 0.08:
            return
        self._scrub_t = now
        self.seek(value / 1000.0)

    def stop_replay(self) -> None:
        """Stop the replay (and its acquisition worker)."""
        if self._replay_worker_alive():
            self.window.stop_acquisition()
        self._replay_worker = None
        self.timer.stop()
        self.replay = None
        self.slider.setEnabled(False)
        self.play_button.setEnabled(False)
        self.stop_button.setEnabled(False)
        hv = self._hands()
        if hv is not None:
            hv.clear(REPLAY_SLOT)

    def _hands(self):
        """The window's HandScene (what the 3D view shows), None for a window without one."""
        return getattr(self.window, "hands", None)

    def poll_replay(self) -> None:
        """Move the scrubber and draw the label frame at the replay position (timer, GUI thread)."""
        src = self.replay
        if src is None:
            return
        if not self._replay_worker_alive():  # another device was started: the replay is over
            self.stop_replay()
            return
        pos = src.position - src.t_start
        if not self.slider.isSliderDown():
            self.slider.blockSignals(True)
            self.slider.setValue(int(round(1000 * pos)))
            self.slider.blockSignals(False)
        self.time_label.setText(f"{pos:6.1f} / {src.duration:.1f} s")
        if not src.playing and self.play_button.text() == "Pause":
            self.play_button.setText("Play")
        i = src.label_index_at(src.position)
        if i == self._last_label:
            return
        self._last_label = i
        hv = self._hands()
        if i is None:
            self.label_status.setText("label: no camera frame here")
            if hv is not None:
                hv.clear(REPLAY_SLOT)
            return
        valid = bool(src.valid[i])
        state = "valid" if valid else "no valid hand pose"
        self.label_status.setText(f"label frame {i} at {src.label_t[i] - src.t_start:.2f} s: {state}")
        if hv is None:
            return
        if valid and src.joint_angles is not None:
            side = src.participant.get("hand", "right") if src.participant.get("hand") in ("left", "right") else "right"
            joints = src.joints_mm[i] if src.joints_mm is not None else None
            if joints is not None and not np.all(np.isfinite(joints)):
                joints = None  # imported labels without joints: the view computes them from the angles
            try:
                hv.set_pose(REPLAY_SLOT, joints_mm=joints, angles_deg=src.joint_angles[i], side=side)
            except (ValueError, RuntimeError) as exc:  # angles of another hand model: draw the skeleton only
                log.debug("replay pose: %s", exc)
                hv.set_pose(REPLAY_SLOT, joints_mm=joints)
        else:
            hv.clear(REPLAY_SLOT)
