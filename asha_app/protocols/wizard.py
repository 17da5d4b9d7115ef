"""Qt-free model of the guided-session wizard.

Pages (the Qt wizard is a thin view over this)::

    participant -> device check -> protocol -> session -> summary

* **participant**: pseudonymous ID (never a name), arm wearing the band, hand
  recorded, notes, and consent (given + time).  Required before anything is
  recorded.
* **device check**: takes the per-channel quality flags
  (:func:`asha_app.dsp.quality.assess_channels`) and the camera's share of
  valid hand labels; produces warnings.  With warnings the user must
  acknowledge them to go on (a bad check is allowed, but never silently).
* **protocol**: one of the built-in protocols or a loaded file.
* **session**: :meth:`SessionWizard.start_session` returns the
  :class:`~asha_app.protocols.procedure.RecordingProcedure` to drive and the
  metadata for the session file's attributes.
* **summary**: the integrity report shown at the end.
"""

from __future__ import annotations

import re
from datetime import datetime, timezone
from enum import Enum
from typing import Literal

from pydantic import BaseModel, ConfigDict, Field, ValidationError, field_validator, model_validator

from asha_app.core.errors import AshaError
from asha_app.dsp.quality import ADVICE, Flag
from asha_app.protocols.model import Protocol
from asha_app.protocols.procedure import RecordingProcedure


class WizardInputError(AshaError):
    """The user's input on a wizard page is incomplete or invalid; the message says what to fix."""


class Participant(BaseModel):
    """Who is recorded, pseudonymously.

    Attributes
    ----------
    pseudonym : str
        1-32 letters, digits, ``-`` or ``_`` (e.g. ``"P07"``); no names.
    arm : "left" or "right"
        Forearm wearing the armband.
    hand : "left" or "right"
        Hand filmed / labelled.
    notes : str
    consent_given : bool
        Must be True.
    consent_time : datetime
        When consent was given (UTC).
    """

    model_config = ConfigDict(extra="forbid")

    pseudonym: str = Field(min_length=1, max_length=32)
    arm: Literal["left", "right"]
    hand: Literal["left", "right"]
    notes: str = ""
    consent_given: bool
    consent_time: datetime | None = None

    @field_validator("pseudonym")
    @classmethod
    def _pseudonymous(cls, v: str) -> str:
        if not re.fullmatch(r"[A-Za-z0-9_-]+", v):
            raise ValueError("use only letters, digits, '-' and '_' (a code such as P07, not a name)")
        return v

    @model_validator(mode="after")
    def _consent(self) -> Participant:
        if not self.consent_given:
            raise ValueError("consent must be given before recording")
        if self.consent_time is None:
            self.consent_time = datetime.now(timezone.utc)
        return self

    def to_attrs(self) -> dict:
        """Dict for the session file's ``participant`` attribute."""
        d = self.model_dump()
        d["consent_time"] = self.consent_time.isoformat() if self.consent_time else None
        return d


class DeviceCheckResult(BaseModel):
    """Outcome of the device/camera check page."""

    channel_flags: list[list[str]]
    label_valid_share: float | None
    warnings: list[str]

    @property
    def ok(self) -> bool:
        """True when nothing was flagged."""
        return not self.warnings


def _flag(name: str) -> Flag | None:
    try:
        return Flag(name)
    except ValueError:
        return None


def evaluate_device_check(channel_flags, label_valid_share: float | None, *, min_valid_share: float = 0.8,
                          camera_required: bool = True) -> DeviceCheckResult:
    """Turn quality flags and label validity into warnings for the user.

    Parameters
    ----------
    channel_flags : sequence
        Per EMG channel, a flag or a list of flags (:class:`asha_app.dsp.quality.Flag`
        or their string values); ``"ok"`` means fine.
    label_valid_share : float or None
        Share of valid IK labels over the last seconds of camera frames; None
        when the camera is not running.
    min_valid_share : float
        Warn below this share.
    camera_required : bool
        Warn when there is no camera check.

    Returns
    -------
    DeviceCheckResult
    """
    flags: list[list[str]] = []
    warnings: list[str] = []
    for i, f in enumerate(channel_flags):
        fl = [f] if isinstance(f, str | Enum) else list(f)
        names = [x.value if isinstance(x, Enum) else str(x) for x in fl]
        flags.append(names)
        bad = [n for n in names if n != "ok"]
        if bad:
            advice = " ".join(ADVICE.get(flag, "") for n in bad if (flag := _flag(n)) is not None).strip()
            warnings.append(f"EMG channel {i + 1}: {', '.join(bad)}" + (f". {advice}" if advice else ""))
    if not flags:
        warnings.append("no EMG signal checked: connect the armband and wait for the signal.")
    if label_valid_share is None:
        if camera_required:
            warnings.append("camera not checked: without it the session has no hand-pose labels.")
    elif label_valid_share < min_valid_share:
        warnings.append(
            f"only {100 * label_valid_share:.0f} % of camera frames gave a valid hand pose; "
            "keep the whole hand in view, with good light."
        )
    return DeviceCheckResult(channel_flags=flags, label_valid_share=label_valid_share, warnings=warnings)


class Page(str, Enum):
    """Wizard pages in order."""

    PARTICIPANT = "participant"
    DEVICE_CHECK = "device_check"
    PROTOCOL = "protocol"
    SESSION = "session"
    SUMMARY = "summary"


_ORDER = list(Page)


class SessionWizard:
    """State of the guided-session wizard, page by page (no Qt).

    Attributes
    ----------
    page : Page
    participant : Participant or None
    device_check : DeviceCheckResult or None
    warnings_acknowledged : bool
    protocol : Protocol or None
    procedure : RecordingProcedure or None
    report : object or None
        The integrity report set by :meth:`finish`.
    """

    def __init__(self) -> None:
        self.page = Page.PARTICIPANT
        self.participant: Participant | None = None
        self.device_check: DeviceCheckResult | None = None
        self.warnings_acknowledged = False
        self.protocol: Protocol | None = None
        self.procedure: RecordingProcedure | None = None
        self.report = None

    def set_participant(self, **fields) -> Participant:
        """Validate and store the participant page.

        Raises
        ------
        WizardInputError
            Naming each field to fix.
        """
        try:
            self.participant = Participant(**fields)
        except ValidationError as exc:
            parts = [f"{'.'.join(str(x) for x in e['loc']) or 'participant'}: {e['msg']}" for e in exc.errors()]
            raise WizardInputError("Please fix: " + "; ".join(parts)) from exc
        return self.participant

    def set_device_check(self, channel_flags, label_valid_share: float | None, **kw) -> DeviceCheckResult:
        """Store the device/camera check (see :func:`evaluate_device_check`); resets any acknowledgement."""
        self.device_check = evaluate_device_check(channel_flags, label_valid_share, **kw)
        self.warnings_acknowledged = False
        return self.device_check

    def acknowledge_warnings(self) -> None:
        """The user chose to go on despite the device-check warnings."""
        self.warnings_acknowledged = True

    def choose_protocol(self, protocol: Protocol) -> None:
        """Store the protocol page."""
        self.protocol = protocol

    def can_advance(self) -> tuple[bool, str]:
        """Whether the current page is complete, and if not, why (a sentence for the user)."""
        if self.page == Page.PARTICIPANT:
            return (self.participant is not None, "Enter a pseudonymous ID, arm, hand and confirm consent.")
        if self.page == Page.DEVICE_CHECK:
            if self.device_check is None:
                return False, "Run the device and camera check first."
            if not self.device_check.ok and not self.warnings_acknowledged:
                return False, "The check found problems: fix them, or confirm that you want to record anyway."
            return True, ""
        if self.page == Page.PROTOCOL:
            return (self.protocol is not None, "Choose a protocol.")
        if self.page == Page.SESSION:
            ok = self.procedure is not None and self.procedure.finished
            return ok, "Finish or abort the session first."
        return False, "This is the last page."

    def advance(self) -> Page:
        """Go to the next page.

        Raises
        ------
        WizardInputError
            If the current page is incomplete (message from :meth:`can_advance`).
        """
        ok, why = self.can_advance()
        if not ok:
            raise WizardInputError(why)
        self.page = _ORDER[_ORDER.index(self.page) + 1]
        return self.page

    def back(self) -> Page:
        """Go to the previous page (not during or after a session)."""
        if self.page in (Page.SESSION, Page.SUMMARY) and self.procedure is not None:
            raise WizardInputError("A session was recorded; start a new wizard for another session.")
        idx = _ORDER.index(self.page)
        if idx > 0:
            self.page = _ORDER[idx - 1]
        return self.page

    def start_session(self, resume_countdown_s: float | None = None) -> RecordingProcedure:
        """Create the procedure for the session page (call on the session page)."""
        if self.page != Page.SESSION:
            raise WizardInputError("Complete the participant, device check and protocol pages first.")
        assert self.protocol is not None
        self.procedure = RecordingProcedure(self.protocol, resume_countdown_s)
        return self.procedure

    def session_metadata(self) -> dict:
        """Attributes for :class:`~asha_app.data.writer.SessionWriter`.

        ``participant`` and an ``app`` entry with the protocol and check.
        """
        return {
            "participant": self.participant.to_attrs() if self.participant else {},
            "app_settings": {
                "protocol": self.protocol.model_dump() if self.protocol else None,
                "device_check": self.device_check.model_dump() if self.device_check else None,
                "warnings_acknowledged": self.warnings_acknowledged,
            },
        }

    def finish(self, report) -> None:
        """Store the end-of-session integrity report and go to the summary page."""
        self.report = report
        if self.page == Page.SESSION:
            self.advance()
