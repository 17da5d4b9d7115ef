"""What a person sees while a recording protocol runs, shared by the recording and the calibration wizards.

:class:`ProcedureView` shows a running
:class:`~asha_app.protocols.procedure.RecordingProcedure`: the prompt in large
type, its instruction with the repetition (numbered from 1, "repetition 2 of
3"), the seconds left in the countdown, prompt or rest, the overall progress,
the next prompt, the share of valid hand labels in the repetition being
recorded, and the buttons **Pause/Resume**, **Redo last repetition** and
**Abort**.  It shows the prompt's target pose in the ``"target"`` slot of the
window's :class:`~asha_app.pose.scene.HandScene` (the 3D view draws it).

The view owns no recorder: the page that embeds it drives the procedure on its
timer (``procedure.tick(now)``), passes the events it gets from the buttons to
its own handler (``on_events``: prompt records to the recorder, discarded ones
marked as such), and calls :meth:`ProcedureView.draw` after each tick.

Camera labels reach the recorder straight from the camera worker's labels ring
(the recorder reads it with its own cursor); the page reads the same ring with a
:class:`CameraLabelFeed` of its own, for the valid-label share it shows, and
tells the recorder when the window's camera changed (started again while
recording).
"""

from __future__ import annotations

import logging
from collections.abc import Callable

import numpy as np
from PySide6.QtCore import Qt
from PySide6.QtGui import QFont
from PySide6.QtWidgets import QHBoxLayout, QLabel, QProgressBar, QPushButton, QVBoxLayout, QWidget

from asha_app.pose.scene import HandScene
from asha_app.protocols.procedure import RecordingProcedure, State

log = logging.getLogger(__name__)

#: Slot of the 3D view that shows the prompt's target pose.
TARGET_SLOT = "target"


def target_angle_array(target: dict | None, dof_names: list[str], rest: np.ndarray | None = None) -> np.ndarray | None:
    """Joint angles (deg) in ``dof_names`` order from a protocol target ``{dof: deg}``.

    DOFs not named keep ``rest`` (0).
    """
    if target is None:
        return None
    out = np.zeros(len(dof_names)) if rest is None else np.array(rest, np.float64, copy=True)
    for i, name in enumerate(dof_names):
        if name in target:
            out[i] = float(target[name])
    return out


def repetition_text(procedure: RecordingProcedure, step) -> str:
    """``"repetition 2 of 3"`` for a prompt step (numbered from 1, as everywhere a person sees repetitions)."""
    total = procedure.protocol.prompts[step.prompt_index].repetitions
    return f"repetition {step.repetition + 1} of {total}"


class CameraLabelFeed:
    """The window's camera labels, read on the GUI thread with a cursor of its own (never taken from the recorder).

    Parameters
    ----------
    window : MainWindow
        Its ``camera_panel.worker`` is the camera followed.

    Attributes
    ----------
    ring : ItemRing or None
        The followed camera worker's ``labels`` ring (None: no camera).
    """

    def __init__(self, window) -> None:
        self.window = window
        self.ring = None
        self._reader = None

    def _current(self):
        panel = getattr(self.window, "camera_panel", None)
        cam = getattr(panel, "worker", None) if panel is not None else None
        return getattr(cam, "labels", None)

    def follow(self) -> bool:
        """Follow the window's camera now; True when it changed (a new cursor at the new ring's end)."""
        ring = self._current()
        if ring is self.ring:
            return False
        self.ring = ring
        self._reader = ring.reader() if ring is not None else None
        return True

    def read(self) -> list:
        """The labels put since the last read (oldest first)."""
        return self._reader.read() if self._reader is not None else []


class ProcedureView(QWidget):
    """Prompt, instruction, countdown, progress, next prompt, valid labels; Pause/Resume, Redo, Abort; target hand.

    Parameters
    ----------
    now : callable () -> float
        Session time in seconds (the window's ``clock.now``).
    on_events : callable (list of ProcedureEvent) -> None
        Receives the events that a button produced (the page sends prompt
        records, completed or discarded, to its recorder).
    hands : HandScene, optional
        The hands the 3D view shows; the target pose goes into its ``"target"`` slot (None: no target hand).
    parent : QWidget, optional

    Attributes
    ----------
    procedure : RecordingProcedure or None
        Set by :meth:`attach`.
    active : bool
        True between :meth:`set_active` (True) and (False): the buttons work only then.
    """

    def __init__(self, now: Callable[[], float], on_events: Callable[[list], None],
                 hands: HandScene | None = None, parent=None) -> None:
        super().__init__(parent)
        self._now = now
        self._on_events = on_events
        self.hands = hands
        self.procedure: RecordingProcedure | None = None
        self.active = False
        self.dof_names: list[str] = []
        self.rest_deg = None
        self.side = "right"
        self._shown = None  # (step, finished) whose target the 3D view shows
        self.prompt_label = QLabel("")
        f = QFont()
        f.setPointSize(22)
        f.setBold(True)
        self.prompt_label.setFont(f)
        self.prompt_label.setAlignment(Qt.AlignmentFlag.AlignCenter)
        self.prompt_label.setWordWrap(True)
        self.instruction = QLabel("")
        self.instruction.setWordWrap(True)
        self.instruction.setAlignment(Qt.AlignmentFlag.AlignCenter)
        self.countdown = QLabel("")
        f2 = QFont()
        f2.setPointSize(16)
        self.countdown.setFont(f2)
        self.countdown.setAlignment(Qt.AlignmentFlag.AlignCenter)
        self.progress = QProgressBar()
        self.progress.setRange(0, 1000)
        self.progress.setFormat("%p %")
        self.next_label = QLabel("")
        self.valid_label = QLabel("")
        self.pause_button = QPushButton("Pause")
        self.pause_button.setToolTip("Pause (Space). A repetition in progress is thrown away "
                                     "and repeated after Resume.")
        self.redo_button = QPushButton("Redo last repetition")
        self.redo_button.setToolTip("Throw away the current or last repetition and record it again after a countdown.")
        self.abort_button = QPushButton("Abort")
        self.abort_button.setToolTip("Stop for good; completed repetitions stay in the file.")
        self.buttons = QHBoxLayout()
        for b in (self.pause_button, self.redo_button, self.abort_button):
            b.setEnabled(False)
            b.setFocusPolicy(Qt.FocusPolicy.NoFocus)  # keys go to the page, never click a focused Abort
            self.buttons.addWidget(b)
        lay = QVBoxLayout(self)
        lay.setContentsMargins(0, 0, 0, 0)
        lay.addWidget(self.prompt_label)
        lay.addWidget(self.instruction)
        lay.addWidget(self.countdown)
        lay.addWidget(self.progress)
        lay.addWidget(self.next_label)
        lay.addWidget(self.valid_label)
        lay.addLayout(self.buttons)
        self.pause_button.clicked.connect(self.toggle_pause)
        self.redo_button.clicked.connect(self.redo)
        self.abort_button.clicked.connect(self.abort)

    # ------------------------------------------------------------------ set-up
    def attach(self, procedure: RecordingProcedure | None, dof_names: list[str] | None = None, rest_deg=None,
               side: str = "right") -> None:
        """Show ``procedure`` (not started yet); the target hand uses ``dof_names`` / ``rest_deg`` of the hand model."""
        self.procedure = procedure
        self.dof_names = list(dof_names or [])
        self.rest_deg = rest_deg
        self.side = side if side in ("left", "right") else "right"
        self._shown = None
        self.progress.setValue(0)
        for lab in (self.countdown, self.next_label, self.valid_label):
            lab.setText("")

    def set_active(self, active: bool) -> None:
        """Enable the buttons while the procedure runs with a recorder; disabling also clears the target hand."""
        self.active = bool(active)
        for b in (self.pause_button, self.redo_button, self.abort_button):
            b.setEnabled(self.active)
        if not self.active:
            self.show_target(None)

    # ------------------------------------------------------------------ user actions
    def _running(self) -> bool:
        return self.active and self.procedure is not None and not self.procedure.finished

    def toggle_pause(self) -> None:
        """Pause (a prompt in progress is discarded and repeated) or resume."""
        if not self._running():
            return
        p, now = self.procedure, self._now()
        self._on_events(p.resume(now) if p.state == State.PAUSED else p.pause(now))
        self.draw(now)

    def redo(self) -> None:
        """Throw away the current or last repetition and record it again."""
        if not self._running():
            return
        now = self._now()
        self._on_events(self.procedure.redo_last_repetition(now))
        self.draw(now)

    def abort(self) -> None:
        """Stop for good (completed repetitions are kept)."""
        if not self.active or self.procedure is None or self.procedure.finished:
            return
        now = self._now()
        self._on_events(self.procedure.abort(now))
        self.draw(now)

    # ------------------------------------------------------------------ drawing
    def draw(self, now: float) -> None:
        """Redraw from the procedure's state at session time ``now`` (call after each ``tick``)."""
        p = self.procedure
        if p is None:
            return
        step = p.current_step
        st = p.state
        self.prompt_label.setText({
            State.COUNTDOWN: f"Get ready: {step.label}" if step is not None else "Get ready",
            State.PROMPT: step.label if step is not None else "",
            State.REST: "Rest", State.PAUSED: "Paused", State.DONE: "Done", State.ABORTED: "Aborted",
        }.get(st, self.prompt_label.text()))
        if step is not None and st in (State.PROMPT, State.COUNTDOWN, State.REST):
            text = step.instruction
            if step.wrist:
                text += "  (wrist: " + ", ".join(f"{k} {v:g}°" for k, v in step.wrist.items() if v) + ")"
            if step.kind == "prompt":
                text += f"  — {repetition_text(p, step)}"
            self.instruction.setText(text)
        elif st == State.PAUSED:
            self.instruction.setText("Press Resume (or Space) to go on.")
            self.valid_label.setText("")
        tl = p.time_left(now) if not p.finished else 0.0
        self.countdown.setText(f"{tl:4.1f} s" if st in (State.COUNTDOWN, State.PROMPT, State.REST) else "")
        self.progress.setValue(int(1000 * p.progress(now)))
        nxt = p.next_prompt
        self.next_label.setText(f"next: {nxt.label}" if nxt is not None and not p.finished else "")
        if st == State.PROMPT:
            share = p.current_valid_share(now)
            if share is None:
                self.valid_label.setText("valid hand labels in this repetition: no camera frames")
                self.valid_label.setStyleSheet("color: #8a5a00;")
            else:
                self.valid_label.setText(f"valid hand labels in this repetition: {100 * share:.0f} %")
                self.valid_label.setStyleSheet("color: #1b7f3b;" if share >= 0.7 else "color: #b00020;")
        self.pause_button.setText("Resume" if st == State.PAUSED else "Pause")
        self.pause_button.setEnabled(self.active and not p.finished)
        self.redo_button.setEnabled(self.active and p.can_redo and not p.finished)
        self.abort_button.setEnabled(self.active and not p.finished)
        shown = (step, p.finished)
        if self._shown is None or shown[0] is not self._shown[0] or shown[1] != self._shown[1]:
            self._shown = shown
            self.show_target(step if st != State.PAUSED and not p.finished else None)

    def show_target(self, step) -> None:
        """Show ``step``'s target pose in the target slot (None, or a step without target, clears it)."""
        hv = self.hands
        if hv is None:
            return
        try:
            if step is None or step.target is None or (self.procedure is not None and self.procedure.finished):
                hv.clear(TARGET_SLOT)
                return
            angles = target_angle_array(step.target, self.dof_names, self.rest_deg)
            hv.set_pose(TARGET_SLOT, angles_deg=angles, side=self.side)
        except Exception as exc:  # noqa: BLE001 - the 3D view is a help, never a reason to lose the recording
            log.warning("could not draw the target pose: %s", exc)


__all__ = ["TARGET_SLOT", "CameraLabelFeed", "ProcedureView", "repetition_text", "target_angle_array"]
