"""Qt-free recording procedures: protocol files, the recording state machine, the session wizard model.

* :mod:`asha_app.protocols.model`: protocol TOML files validated with pydantic
  (:func:`load_protocol`, :func:`builtin_protocols`).
* :mod:`asha_app.protocols.procedure`: :class:`RecordingProcedure`, the state
  machine driven by ``tick(now)`` on the session clock.
* :mod:`asha_app.protocols.wizard`: :class:`SessionWizard`, the page model the
  Qt wizard shows.
"""

from asha_app.protocols.model import Protocol, PromptSpec, Step, builtin_protocols, load_protocol, parse_protocol
from asha_app.protocols.procedure import EventKind, ProcedureEvent, RecordingProcedure, State
from asha_app.protocols.wizard import Page, Participant, SessionWizard, WizardInputError, evaluate_device_check

__all__ = [
    "EventKind", "Page", "Participant", "ProcedureEvent", "PromptSpec", "Protocol", "RecordingProcedure",
    "SessionWizard", "State", "Step", "WizardInputError", "builtin_protocols", "evaluate_device_check",
    "load_protocol", "parse_protocol",
]
