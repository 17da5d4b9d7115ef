"""Page 4: the honest evaluation split (time blocks, repetitions, sessions or participants), never random."""

from __future__ import annotations

from typing import TYPE_CHECKING

from PySide6.QtWidgets import (QButtonGroup, QComboBox, QDoubleSpinBox, QFormLayout, QGroupBox, QLabel, QRadioButton,
                               QSpinBox, QTableWidget, QTableWidgetItem, QVBoxLayout, QWizardPage)

from asha_app.core.errors import AshaError
from asha_app.data.splits import (choose_split_kind, default_group_assignment, default_repetition_assignment,
                                  group_names, repetitions_of)
from asha_app.gestures.jobs import prepare_gesture_plan
from asha_app.ui.training_wizard.common import NextAfterLoad, busy_label, error_label, set_busy, show_error
from asha_app.ui.training_wizard.gesture import SPLIT_TEXT as GESTURE_SPLIT_TEXT
from asha_app.ui.training_wizard.gesture import per_gesture_counts
from asha_app.workers.export import BackgroundLoad
from asha_app.workers.training import prepare_plan

if TYPE_CHECKING:
    from asha_app.ui.training_wizard.wizard import TrainingWizard


SPLIT_TEXT = {
    "time_blocks": "Contiguous time blocks (interleaved 60/20/20) with a gap between sets",
    "repetitions": "By prompt repetitions (whole repetitions per set)",
    "sessions": "By sessions (whole sessions per set)",
    "participants": "By participants (held-out user)",
}
SETS = ("train", "val", "test", "unused")


class SplitPage(NextAfterLoad, QWizardPage):
    """How windows are split into training, validation and test sets (never randomly)."""

    def __init__(self, wizard: TrainingWizard) -> None:
        super().__init__()
        self.wiz = wizard
        self.setTitle("Evaluation split")
        self.setSubTitle("Sets are separated in time (or by repetition, session, participant) so overlapping "
                         "windows never leak between them. There is no random split.")
        lay = QVBoxLayout(self)
        self.radios: dict[str, QRadioButton] = {}
        self.reasons: dict[str, QLabel] = {}
        grp = QButtonGroup(self)
        for kind, text in SPLIT_TEXT.items():
            r = QRadioButton(text)
            grp.addButton(r)
            r.toggled.connect(self._update)
            why = QLabel()
            why.setWordWrap(True)
            why.setStyleSheet("color: #666; margin-left: 22px;")
            self.radios[kind], self.reasons[kind] = r, why
            lay.addWidget(r)
            lay.addWidget(why)
        box = QGroupBox("Time blocks")
        f = QFormLayout(box)
        self.blocks_spin = QSpinBox()
        self.blocks_spin.setRange(3, 100)
        self.blocks_spin.setValue(10)
        self.gap_spin = QDoubleSpinBox()
        self.gap_spin.setRange(0.0, 60000.0)
        self.gap_spin.setDecimals(0)
        self.gap_spin.setSuffix(" ms")
        self.gap_spin.setSpecialValueText("one window")
        f.addRow("Blocks per session", self.blocks_spin)
        f.addRow("Gap between sets", self.gap_spin)
        self.blocks_box = box
        lay.addWidget(box)
        self.assign_table = QTableWidget(0, 2)
        self.assign_table.setHorizontalHeaderLabels(["Group", "Set"])
        self.assign_table.horizontalHeader().setStretchLastSection(True)
        self.assign_table.verticalHeader().hide()
        lay.addWidget(self.assign_table, 1)
        lay.addStretch(1)
        self.counts_label = QLabel()
        self.counts_label.setWordWrap(True)
        lay.addWidget(self.counts_label)
        self.busy = busy_label()
        lay.addWidget(self.busy)
        self.error = error_label()
        lay.addWidget(self.error)
        self._assign_kind = None
        self._task = "pose"  # the task the page was last shown for
        #: the run is prepared (filtered, windowed, split) here, off the GUI thread
        self.loader = BackgroundLoad("preparing the training windows", self)
        self._loaded = None  # (plan, prepared) from the last Next, not yet taken

    def initializePage(self) -> None:  # noqa: N802 - Qt name
        recs = self.wiz.recordings
        sessions, participants = group_names(recs)
        reps = repetitions_of(recs)
        fine = self.wiz.checkpoint is not None
        gesture = self.wiz.task == "gesture"
        self.radios["repetitions"].setText(GESTURE_SPLIT_TEXT if gesture else SPLIT_TEXT["repetitions"])
        reasons = {"time_blocks": ""}
        if fine:
            why = "Fine-tuning calibrates on the new data with contiguous time blocks (train + validation only)."
            reasons.update(repetitions=why, sessions=why, participants=why)
            self.blocks_spin.setValue(5)
        else:
            if reps is None:
                reasons["repetitions"] = "Not available: a chosen session has no prompts with repetition numbers."
            elif len(reps) < 3:
                reasons["repetitions"] = (f"Not available: only {len(reps)} repetition(s) common to all sessions; "
                                          "train, validation and test need 3.")
            else:
                reasons["repetitions"] = ""
            if gesture:  # each gesture's repetitions (its r-th occurrence), counted when the windows are cut
                reasons["repetitions"] = ""
            n_s = len(set(sessions))
            reasons["sessions"] = "" if n_s >= 3 else (
                f"Not available: {n_s} session(s) chosen; a session split needs 3 (train, validation, test).")
            n_p = len(set(participants))
            reasons["participants"] = "" if n_p >= 3 else (
                f"Not available: the sessions come from {n_p} participant(s); a held-out-user split needs 3.")
        if gesture and self._task != "gesture":  # the gesture task's default, as asha train --task gesture
            self.radios["repetitions"].setChecked(True)
        self._task = self.wiz.task
        for kind, r in self.radios.items():
            ok = not reasons.get(kind)
            r.setEnabled(ok)
            self.reasons[kind].setText(reasons.get(kind) or "")
            self.reasons[kind].setVisible(bool(reasons.get(kind)))
            if not ok and r.isChecked():
                self.radios["time_blocks"].setChecked(True)
        if not any(r.isChecked() for r in self.radios.values()):
            # the same choice as `asha train --split auto`: repetitions when every session repeats its prompts
            auto = "time_blocks" if fine else choose_split_kind([r.prompts for r in recs])[0]
            self.radios[auto if self.radios[auto].isEnabled() else "time_blocks"].setChecked(True)
        self._assign_kind = None
        self._update()

    def kind(self) -> str:
        """The chosen split kind."""
        return next(k for k, r in self.radios.items() if r.isChecked())

    def _update(self, *_a) -> None:
        if not any(r.isChecked() for r in self.radios.values()) or not self.wiz.recordings:
            return
        kind = self.kind()
        per_gesture = kind == "repetitions" and self.wiz.task == "gesture"  # no table: assigned per gesture
        self.blocks_box.setVisible(kind == "time_blocks")
        self.assign_table.setVisible(kind != "time_blocks" and not per_gesture)
        show_error(self.error, "")
        self.counts_label.setText("")
        if per_gesture:
            self._assign_kind = None
            return
        if kind == self._assign_kind or kind == "time_blocks":
            return
        self._assign_kind = kind
        sessions, participants = group_names(self.wiz.recordings)
        keys = {"sessions": sessions, "participants": participants,
                # repetitions are numbered from 1 here, as everywhere a person sees them (stored from 0)
                "repetitions": [str(k + 1) for k in (repetitions_of(self.wiz.recordings) or [])]}[kind]
        keys = list(dict.fromkeys(keys))
        if kind == "repetitions":  # the same default as the API and `asha train --split repetitions`
            default = {str(k + 1): v for k, v in
                       default_repetition_assignment(repetitions_of(self.wiz.recordings) or []).items()}
        else:
            default = default_group_assignment(keys)
        self.assign_table.setHorizontalHeaderLabels([{"sessions": "Session", "participants": "Participant",
                                                      "repetitions": "Repetition"}[kind], "Set"])
        self.assign_table.setRowCount(len(keys))
        for i, k in enumerate(keys):
            self.assign_table.setItem(i, 0, QTableWidgetItem(k))
            combo = QComboBox()
            combo.addItems(list(SETS))
            combo.setCurrentText(default[k])
            self.assign_table.setCellWidget(i, 1, combo)

    def assignment(self) -> dict[str, str]:
        """Group -> set from the table."""
        return {self.assign_table.item(i, 0).text(): self.assign_table.cellWidget(i, 1).currentText()
                for i in range(self.assign_table.rowCount())}

    def set_assignment(self, assign: dict[str, str]) -> None:
        """Set the table's choices (groups not named keep theirs)."""
        for i in range(self.assign_table.rowCount()):
            k = self.assign_table.item(i, 0).text()
            if k in assign:
                self.assign_table.cellWidget(i, 1).setCurrentText(assign[k])

    def split_args(self) -> dict:
        """Arguments of the chosen split."""
        kind = self.kind()
        if kind == "time_blocks":
            a = {"n_blocks": self.blocks_spin.value()}
            if self.gap_spin.value() > 0:
                a["gap_ms"] = self.gap_spin.value()
            return a
        assign = self.assignment()
        if kind == "repetitions":
            # shown from 1, stored from 0
            a = {"assign_rep": {int(k) - 1: v for k, v in assign.items() if v != "unused"}}
            if self.gap_spin.value() > 0:
                a["gap_ms"] = self.gap_spin.value()
            return a
        return {"assign_session" if kind == "sessions" else "assign_participant": assign}

    def isComplete(self) -> bool:  # noqa: N802 - Qt name
        return super().isComplete() and not self.loader.busy

    def validatePage(self) -> bool:  # noqa: N802 - Qt name
        """Next: the run is prepared in the background (the model layer's checks); the wizard moves on when it is."""
        if self._loaded is not None:  # prepared in the background: take it and go on
            (self.wiz.plan, self.wiz.prepared), self._loaded = self._loaded, None
            c = self.wiz.prepared.counts()
            warn = self.wiz.prepared.job.split.warnings
            self.counts_label.setText(f"Windows: {c['train']} train, {c['val']} validation, {c['test']} test, "
                                      f"{c['dropped']} dropped in gaps." + "".join(f"\nWarning: {w}" for w in warn)
                                      + (f"\n{per_gesture_counts(self.wiz.prepared)}" if self.wiz.task == "gesture"
                                         else ""))
            return True
        show_error(self.error, "")
        if self.loader.busy:
            return False
        try:
            plan = self.wiz.build_plan()
        except AshaError as exc:
            show_error(self.error, str(exc))
            return False
        prepare = prepare_gesture_plan if self.wiz.task == "gesture" else prepare_plan
        self.loader.start(lambda: (plan, prepare(plan)), self._on_loaded, self._on_load_failed)
        set_busy(self, self.busy, "reading and windowing the sessions…")
        return False

