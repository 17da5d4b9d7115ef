"""Calibrate a gesture classifier to a person from a short labelled recording (Qt-free).

The same 2-3 minutes the pose calibration records (a protocol's prompts) adapt the
gesture classifier: a prototype model moves each gesture's prototype towards the
person's mean embedding (no gradient steps, a fraction of a second), an MHCNN
fine-tunes its output layer, an LDA is refit on the person's windows
(:func:`asha_app.gestures.train.adapt`).  The last repetition of every gesture is
held out; accuracy per gesture is reported on it before and after.

When the recording's gestures and the model's differ, nothing is refused
silently: gestures only in the recording cannot be learned by adaptation and
are left out; gestures only in the model keep what they were trained with;
:attr:`GestureCalibration.notes` says which, in words.
"""

from __future__ import annotations

import copy
from dataclasses import dataclass, field

import numpy as np

from asha_app.data.recording import Recording
from asha_app.data.windows import WindowSpec
from asha_app.gestures import train as G
from asha_app.gestures.labels import gesture_timeline, order_classes
from asha_app.gestures.windows import build_gesture_windows, window_repetitions
from asha_app.models.checkpoint import Checkpoint
from asha_app.core.errors import DatasetError


@dataclass
class GestureCalibration:
    """Result of :func:`calibrate_gestures`.

    Attributes
    ----------
    checkpoint : Checkpoint
        The adapted classifier (the base checkpoint is not changed).
    method : str
        ``prototypes``, ``head`` or ``refit``.
    before, after : dict
        :func:`~asha_app.gestures.train.classification_metrics` on the held-out repetitions.
    notes : list of str
        Differences between the model's gesture set and the recording's, explained.
    n_calibration, n_heldout : int
        Windows used to adapt and to score.
    """

    checkpoint: Checkpoint
    method: str
    before: dict
    after: dict
    notes: list[str] = field(default_factory=list)
    n_calibration: int = 0
    n_heldout: int = 0

    def summary(self) -> str:
        """One paragraph: balanced accuracy before -> after, then per gesture."""
        b, a = self.before["balanced_accuracy"], self.after["balanced_accuracy"]
        per = ", ".join(f"{c} {100 * (self.before['per_class'][c] or 0):.0f} → {100 * (v or 0):.0f} %"
                        for c, v in self.after["per_class"].items() if v is not None)
        return (f"Gesture accuracy on the held-out repetition: {100 * b:.0f} % → {100 * a:.0f} % "
                f"({self.method}). Per gesture: {per}." + (" " + " ".join(self.notes) if self.notes else ""))


def gesture_set_notes(model_classes: list[str], recorded: list[str]) -> list[str]:
    """Sentences explaining how a model's gesture set and a recording's differ (empty when they match)."""
    only_rec = [g for g in recorded if g not in model_classes]
    only_model = [g for g in model_classes if g not in recorded]
    notes = []
    if only_rec:
        notes.append(f"The recording has gestures the model was not trained on ({', '.join(only_rec)}); calibration "
                     "cannot add gestures, so they were left out. Train a new gesture model to recognise them.")
    if only_model:
        notes.append(f"The model knows gestures the recording did not prompt ({', '.join(only_model)}); they keep "
                     "what the model learned and were not adapted or scored.")
    return notes


def calibrate_gestures(base: Checkpoint, rec: Recording, method: str = "auto", stride_ms: float = 50.0,
                       source: str = "auto") -> GestureCalibration:
    """Adapt a gesture checkpoint to the person in ``rec``; score before and after on held-out repetitions.

    Parameters
    ----------
    base : Checkpoint
        A gesture classifier.
    rec : Recording
        The calibration recording (prompts or gesture markers), same channels and rate as the model.
    method : str
        See :func:`asha_app.gestures.train.adapt`.
    stride_ms : float
        Window stride, ms.
    source : str
        Gesture label source.

    Returns
    -------
    GestureCalibration

    Raises
    ------
    GestureError
        Not a gesture checkpoint, or the recording shares fewer than two gestures with the model.
    DatasetError
        No gesture labels, or too little data (fewer than two repetitions of the shared gestures).
    CheckpointMismatchError
        Channels or rate differ.
    """
    if not G.is_gesture_checkpoint(base):
        raise G.GestureError(f"{base.model_name} is a pose model; gesture calibration needs a gesture classifier")
    base.check_compatible(n_channels=rec.n_channels, fs=rec.fs)
    classes = list(base.target_names)
    recorded = order_classes(gesture_timeline(rec, source).gestures)
    notes = gesture_set_notes(classes, recorded)
    shared = [g for g in recorded if g in classes]
    if len(shared) < 2:
        raise G.GestureError(f"the recording's gestures ({', '.join(recorded)}) share fewer than two with the model's "
                             f"({', '.join(classes)}); record the model's gestures to calibrate it")
    window = WindowSpec(base.window.window_ms, stride_ms)
    ws = build_gesture_windows(rec, window, base.filter_spec, source=source, classes=classes)
    reps = window_repetitions(ws)
    last = {}
    for k in np.unique(ws.labels):
        r = reps[ws.labels == k]
        last[int(k)] = int(r.max()) if len(r) else -1
    held = np.array([reps[i] >= 1 and reps[i] == last[int(ws.labels[i])] for i in range(len(ws))], bool)
    cal_idx, test_idx = np.flatnonzero(~held & (reps >= 0)), np.flatnonzero(held)
    if len(test_idx) == 0 or len(cal_idx) == 0:

        raise DatasetError("the calibration recording needs at least two repetitions of each gesture (one to adapt "
                           "with, one to check on); record the protocol through")
    norm = G.norm_of(base)
    job = G.GestureJob(ws, None, norm, norm.apply_windows(ws))  # type: ignore[arg-type]
    model = base.build_model()
    before = G.evaluate(model, job, test_idx)
    used = G.adapt(model, job, cal_idx, method)
    after = G.evaluate(model, job, test_idx)
    ck = copy.copy(base)
    ck.state_dict = {k: v.detach().cpu().clone() for k, v in model.state_dict().items()}
    ck.training = {**base.training, "calibration": {"method": used, "before": before["balanced_accuracy"],
                                                    "after": after["balanced_accuracy"],
                                                    "recording": str(rec.meta.get("source_file", ""))}}
    return GestureCalibration(ck, used, before, after, notes, len(cal_idx), len(test_idx))
