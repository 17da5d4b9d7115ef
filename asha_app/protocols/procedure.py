"""Qt-free state machine that runs a recording protocol on the session clock.

The caller (the wizard page's QTimer, or a unit test) passes the current
session time to every method; nothing here reads a clock or sleeps.  That
makes the procedure exactly reproducible in tests and keeps every prompt's
start and end on the same session clock as the EMG and camera streams.

States::

    idle --start--> countdown --> prompt --> rest --> prompt ... --> done
                       ^            |  pause           ^
                       |            v                  |
                       +-------- paused --resume-------+   (abort from anywhere -> aborted)

* Step boundaries fall at their planned times (``start + duration``), not at
  whatever time the next ``tick`` happens, so prompt records do not drift with
  timer jitter.
* Pausing during a prompt discards that partial repetition; ``resume`` runs a
  short countdown and repeats it in full.  Pausing during a rest or countdown
  keeps the time left.
* :meth:`RecordingProcedure.redo_last_repetition` throws away the last
  (or current) prompt repetition and runs it again after a countdown.
* Label validity fed with :meth:`RecordingProcedure.feed_labels` gives the
  share of valid hand-pose labels per prompt, live and at the end.
"""

from __future__ import annotations

import logging
from dataclasses import dataclass
from enum import Enum

import numpy as np

from asha_app.data.recording import Prompt
from asha_app.protocols.model import Protocol, Step

log = logging.getLogger(__name__)


class State(str, Enum):
    """States of :class:`RecordingProcedure`."""

    IDLE = "idle"
    COUNTDOWN = "countdown"
    PROMPT = "prompt"
    REST = "rest"
    PAUSED = "paused"
    DONE = "done"
    ABORTED = "aborted"


class EventKind(str, Enum):
    """Kinds of :class:`ProcedureEvent`."""

    COUNTDOWN = "countdown"  #: a countdown started
    PROMPT_START = "prompt_start"
    PROMPT_END = "prompt_end"  #: a repetition completed; ``prompt`` holds its record
    PROMPT_DISCARDED = "prompt_discarded"  #: a repetition was cut short (pause, redo, abort)
    REST_START = "rest_start"
    PAUSED = "paused"
    RESUMED = "resumed"
    MARKER = "marker"
    DONE = "done"
    ABORTED = "aborted"


@dataclass(frozen=True)
class ProcedureEvent:
    """Something that happened at session time ``t``.

    Attributes
    ----------
    kind : EventKind
    t : float
        Session seconds.
    step : Step or None
        The protocol step concerned.
    prompt : Prompt or None
        The prompt record (``PROMPT_END``, ``PROMPT_DISCARDED``) or marker (``MARKER``).
    """

    kind: EventKind
    t: float
    step: Step | None = None
    prompt: Prompt | None = None


class RecordingProcedure:
    """Run a :class:`~asha_app.protocols.model.Protocol`, driven by ``tick(now)``.

    Parameters
    ----------
    protocol : Protocol
        What to run.
    resume_countdown_s : float, optional
        Countdown before a repetition repeated after pause or redo (default:
        the protocol's ``countdown_s``).

    Attributes
    ----------
    state : State
    prompts : list of Prompt
        Completed prompt repetitions (what goes into ``/prompts``).
    markers : list of Prompt
        Free markers (``start == end``, repetition -1).
    """

    def __init__(self, protocol: Protocol, resume_countdown_s: float | None = None) -> None:
        self.protocol = protocol
        self.steps: list[Step] = protocol.expand()
        self.resume_countdown_s = protocol.countdown_s if resume_countdown_s is None else float(resume_countdown_s)
        self.state = State.IDLE
        self._index = 0  # current step (or the one after the countdown)
        self._step_start = 0.0
        self._step_end = 0.0
        self._paused_from: State | None = None
        self._remaining = 0.0
        self._completed: list[tuple[int, Prompt]] = []
        self.markers: list[Prompt] = []
        self._label_t: list[np.ndarray] = []
        self._label_valid: list[np.ndarray] = []
        self._total = sum(s.duration_s for s in self.steps)

    # ------------------------------------------------------------------ queries
    @property
    def prompts(self) -> list[Prompt]:
        """Completed prompt repetitions in the order they were recorded."""
        return [p for _, p in self._completed]

    @property
    def current_step(self) -> Step | None:
        """The step running (or next after a countdown / pause), None when finished."""
        return self.steps[self._index] if self._index < len(self.steps) else None

    @property
    def next_prompt(self) -> Step | None:
        """The next prompt step after the current one (for a "next:" hint)."""
        for s in self.steps[self._index + 1:]:
            if s.kind == "prompt":
                return s
        return None

    @property
    def finished(self) -> bool:
        """True in the done or aborted state."""
        return self.state in (State.DONE, State.ABORTED)

    @property
    def can_redo(self) -> bool:
        """True when :meth:`redo_last_repetition` has something to redo."""
        if self.state in (State.IDLE, State.ABORTED):
            return False
        return self.state == State.PROMPT or bool(self._completed) or (
            self.state == State.PAUSED and self._paused_from == State.PROMPT
        )

    def time_left(self, now: float) -> float:
        """Seconds left in the current countdown / prompt / rest (0 otherwise)."""
        if self.state in (State.COUNTDOWN, State.PROMPT, State.REST):
            return max(0.0, self._step_end - now)
        if self.state == State.PAUSED:
            return self._remaining
        return 0.0

    def progress(self, now: float) -> float:
        """Fraction 0..1 of the protocol's prompt and rest time done."""
        if self.state == State.DONE:
            return 1.0
        if self._total <= 0:
            return 0.0
        done = sum(s.duration_s for s in self.steps[: self._index])
        if self.state in (State.PROMPT, State.REST):
            done += min(max(now - self._step_start, 0.0), self.steps[self._index].duration_s)
        elif self.state == State.PAUSED and self._paused_from == State.REST:
            done += self.steps[self._index].duration_s - self._remaining
        return float(min(1.0, max(0.0, done / self._total)))

    # ------------------------------------------------------------------ driving
    def start(self, now: float) -> list[ProcedureEvent]:
        """Leave idle: run the protocol's countdown, then the first step.

        Raises
        ------
        RuntimeError
            If the procedure was already started.
        """
        if self.state != State.IDLE:
            raise RuntimeError(f"procedure already started (state {self.state.value})")
        self._index = 0
        return self._countdown(now, self.protocol.countdown_s) + self.tick(now)

    def _countdown(self, now: float, seconds: float) -> list[ProcedureEvent]:
        self.state = State.COUNTDOWN
        self._step_start, self._step_end = now, now + seconds
        return [ProcedureEvent(EventKind.COUNTDOWN, now, self.current_step)]

    def _enter(self, index: int, t0: float) -> list[ProcedureEvent]:
        self._index = index
        if index >= len(self.steps):
            self.state = State.DONE
            return [ProcedureEvent(EventKind.DONE, t0)]
        step = self.steps[index]
        self.state = State.PROMPT if step.kind == "prompt" else State.REST
        self._step_start, self._step_end = t0, t0 + step.duration_s
        return [ProcedureEvent(EventKind.PROMPT_START if step.kind == "prompt" else EventKind.REST_START, t0, step)]

    def tick(self, now: float) -> list[ProcedureEvent]:
        """Advance to session time ``now``; returns the events that happened, in order."""
        events: list[ProcedureEvent] = []
        while self.state in (State.COUNTDOWN, State.PROMPT, State.REST) and now >= self._step_end:
            t_end = self._step_end
            if self.state == State.COUNTDOWN:
                events += self._enter(self._index, t_end)
                continue
            step = self.steps[self._index]
            if self.state == State.PROMPT:
                rec = Prompt(step.label, self._step_start, t_end, step.repetition)
                self._completed.append((self._index, rec))
                events.append(ProcedureEvent(EventKind.PROMPT_END, t_end, step, rec))
            events += self._enter(self._index + 1, t_end)
        return events

    def _discard_current(self, now: float) -> list[ProcedureEvent]:
        step = self.steps[self._index]
        partial = Prompt(step.label, self._step_start, now, step.repetition)
        return [ProcedureEvent(EventKind.PROMPT_DISCARDED, now, step, partial)]

    def pause(self, now: float) -> list[ProcedureEvent]:
        """Pause (the participant needs a break).  A prompt in progress is discarded and repeated after resume."""
        events = self.tick(now)
        if self.state not in (State.COUNTDOWN, State.PROMPT, State.REST):
            return events
        if self.state == State.PROMPT:
            events += self._discard_current(now)
        self._paused_from = self.state
        self._remaining = max(0.0, self._step_end - now)
        self.state = State.PAUSED
        events.append(ProcedureEvent(EventKind.PAUSED, now, self.current_step))
        return events

    def resume(self, now: float) -> list[ProcedureEvent]:
        """Resume after :meth:`pause`: repeat an interrupted prompt after a countdown, or finish the rest/countdown."""
        if self.state != State.PAUSED:
            return []
        events = [ProcedureEvent(EventKind.RESUMED, now, self.current_step)]
        if self._paused_from == State.PROMPT:
            events += self._countdown(now, self.resume_countdown_s)
        else:
            self.state = self._paused_from or State.COUNTDOWN
            self._step_start = (now - (self.steps[self._index].duration_s - self._remaining)
                                if self.state == State.REST else now)
            self._step_end = now + self._remaining
            if self.state == State.COUNTDOWN:
                events.append(ProcedureEvent(EventKind.COUNTDOWN, now, self.current_step))
        self._paused_from = None
        return events + self.tick(now)

    def redo_last_repetition(self, now: float) -> list[ProcedureEvent]:
        """Throw away the current or last completed prompt repetition and run it again after a countdown.

        Works while prompting, resting, counting down, paused or done.  Returns
        no events when there is nothing to redo.
        """
        if not self.can_redo:
            return []
        events = self.tick(now) if self.state not in (State.PAUSED, State.DONE) else []
        was_paused = self.state == State.PAUSED
        if self.state == State.PROMPT:
            events += self._discard_current(now)
            target = self._index
        elif was_paused and self._paused_from == State.PROMPT:
            target = self._index  # already discarded at pause
        elif self._completed:
            target, rec = self._completed.pop()
            events.append(ProcedureEvent(EventKind.PROMPT_DISCARDED, now, self.steps[target], rec))
        else:
            return events
        self._index = target
        if was_paused:
            self._paused_from = State.PROMPT  # resume -> countdown -> this prompt
            self._remaining = self.steps[target].duration_s
            return events
        return events + self._countdown(now, self.resume_countdown_s) + self.tick(now)

    def abort(self, now: float) -> list[ProcedureEvent]:
        """Stop for good; a prompt in progress is discarded, completed ones are kept."""
        if self.finished:
            return []
        events = self.tick(now) if self.state != State.PAUSED else []
        if self.state == State.PROMPT:
            events += self._discard_current(now)
        self.state = State.ABORTED
        events.append(ProcedureEvent(EventKind.ABORTED, now, self.current_step))
        return events

    def add_marker(self, label: str, now: float) -> ProcedureEvent:
        """Set a free marker at session time ``now`` (any state)."""
        rec = Prompt(label, now, now, -1)
        self.markers.append(rec)
        return ProcedureEvent(EventKind.MARKER, now, self.current_step, rec)

    # ------------------------------------------------------------------ label validity
    def feed_labels(self, t, valid) -> None:
        """Give the procedure label frames: capture times ``t`` (session s) and their validity."""
        t = np.atleast_1d(np.asarray(t, np.float64))
        v = np.atleast_1d(np.asarray(valid, bool))
        if t.shape != v.shape:
            raise ValueError(f"{t.shape[0]} times but {v.shape[0]} validity flags")
        self._label_t.append(t)
        self._label_valid.append(v)

    def _labels(self) -> tuple[np.ndarray, np.ndarray]:
        if not self._label_t:
            return np.zeros(0), np.zeros(0, bool)
        t = np.concatenate(self._label_t)
        v = np.concatenate(self._label_valid)
        self._label_t, self._label_valid = [t], [v]
        return t, v

    def valid_share(self, start: float, end: float) -> float | None:
        """Share of valid label frames with ``start <= t < end`` (None when there is none)."""
        t, v = self._labels()
        sel = (t >= start) & (t < end)
        return float(v[sel].mean()) if sel.any() else None

    def current_valid_share(self, now: float) -> float | None:
        """Valid share so far in the prompt being recorded (None outside a prompt or without frames)."""
        if self.state != State.PROMPT:
            return None
        return self.valid_share(self._step_start, now)

    def valid_share_per_prompt(self) -> list[tuple[Prompt, float | None]]:
        """Each completed prompt repetition with its share of valid labels."""
        return [(p, self.valid_share(p.start, p.end)) for p in self.prompts]

    def valid_share_by_label(self) -> dict[str, float | None]:
        """Share of valid labels per prompt label over all its completed repetitions."""
        t, v = self._labels()
        out: dict[str, float | None] = {}
        for label in dict.fromkeys(p.label for p in self.prompts):
            sel = np.zeros(t.shape, bool)
            for p in self.prompts:
                if p.label == label:
                    sel |= (t >= p.start) & (t < p.end)
            out[label] = float(v[sel].mean()) if sel.any() else None
        return out
