"""Recording protocols as data: TOML files validated with pydantic.

A protocol is a list of prompts, each with a duration, a number of
repetitions, a rest after each repetition and a target pose for the 3D view
(a named pose from the file's ``[poses]`` table, or joint angles in degrees by
DOF name).  Built-in protocols live in ``resources/protocols/*.toml``; users
can load their own with :func:`load_protocol`.

Example::

    name = "Basic poses"
    description = "Open hand, fist, point, pinch and rest."
    countdown_s = 3.0
    order = "interleaved"        # or "blocked": all repetitions of a prompt in a row

    [poses.fist]
    index_mcp_flexion = 85.0
    ...

    [[prompts]]
    label = "fist"
    instruction = "Make a fist and hold it."
    duration_s = 4.0
    repetitions = 5
    rest_s = 3.0
    target = "fist"

Errors name the file and where: the line for TOML syntax errors, the key path
and (when it can be found) the line for invalid values.
"""

from __future__ import annotations

import re
import tomllib
from dataclasses import dataclass
from pathlib import Path
from typing import Literal

from pydantic import BaseModel, ConfigDict, Field, ValidationError, field_validator, model_validator

from asha_app.core.errors import ConfigError
from asha_app.core.paths import resources_dir

PROTOCOL_DIR_NAME = "protocols"


class WristTarget(BaseModel):
    """Wrist posture of a target, in degrees (the hand model has no wrist DOFs: the 3D view
    shows these as a global rotation of the hand).

    Attributes
    ----------
    flexion : float
        Positive = palm towards the forearm (flexion), negative = extension.
    deviation : float
        Positive = radial (towards the thumb), negative = ulnar.
    pronation : float
        Positive = pronation (palm down), negative = supination.
    """

    model_config = ConfigDict(extra="forbid")

    flexion: float = Field(default=0.0, ge=-90, le=90)
    deviation: float = Field(default=0.0, ge=-45, le=45)
    pronation: float = Field(default=0.0, ge=-90, le=90)


class PromptSpec(BaseModel):
    """One prompted movement of a protocol.

    Attributes
    ----------
    label : str
        Short name stored in the session file (``"fist"``).
    instruction : str
        Sentence shown to the participant.
    duration_s : float
        Seconds to hold/perform the movement per repetition.
    repetitions : int
        How many times.
    rest_s : float
        Rest after each repetition (s); 0 for none.
    target : str, dict or None
        Named pose (key of the protocol's ``poses``) or ``{dof_name: degrees}``
        shown in the 3D view; ``None`` for free movement.  DOF names are the
        hand model's (``asha_app.pose.hand_model.HandModel.dof_names``).
    wrist : WristTarget or None
        Wrist posture to show (wrist movements).
    """

    model_config = ConfigDict(extra="forbid")

    label: str = Field(min_length=1, max_length=100)
    instruction: str = ""
    duration_s: float = Field(gt=0, le=3600)
    repetitions: int = Field(default=1, ge=1, le=1000)
    rest_s: float = Field(default=0.0, ge=0, le=3600)
    target: str | dict[str, float] | None = None
    wrist: WristTarget | None = None


class Protocol(BaseModel):
    """A recording protocol (see the module docstring for the file format)."""

    model_config = ConfigDict(extra="forbid")

    name: str = Field(min_length=1)
    description: str = ""
    version: int = Field(default=1, ge=1)
    countdown_s: float = Field(default=3.0, ge=0, le=60)
    order: Literal["blocked", "interleaved"] = "blocked"
    poses: dict[str, dict[str, float]] = Field(default_factory=dict)
    prompts: list[PromptSpec] = Field(min_length=1)

    @field_validator("poses")
    @classmethod
    def _angles_in_range(cls, poses: dict[str, dict[str, float]]) -> dict[str, dict[str, float]]:
        for name, angles in poses.items():
            for dof, deg in angles.items():
                if not -180.0 <= deg <= 180.0:
                    raise ValueError(f"pose {name!r}: {dof} = {deg} deg is outside -180..180")
        return poses

    @model_validator(mode="after")
    def _targets_exist(self) -> Protocol:
        for i, p in enumerate(self.prompts):
            if isinstance(p.target, str) and p.target not in self.poses:
                raise ValueError(
                    f"prompts[{i}] ({p.label!r}): target pose {p.target!r} is not defined in [poses] "
                    f"(defined: {', '.join(sorted(self.poses)) or 'none'})"
                )
        return self

    def target_angles(self, prompt: PromptSpec) -> dict[str, float] | None:
        """Joint angles (deg by DOF name) of a prompt's target, or None for free movement."""
        if prompt.target is None:
            return None
        if isinstance(prompt.target, str):
            return dict(self.poses[prompt.target])
        return dict(prompt.target)

    def unknown_dofs(self, angle_names: list[str]) -> set[str]:
        """DOF names used in poses/targets that the hand model (``angle_names``) does not have."""
        used: set[str] = set()
        for angles in self.poses.values():
            used |= set(angles)
        for p in self.prompts:
            if isinstance(p.target, dict):
                used |= set(p.target)
        return used - set(angle_names)

    def expand(self) -> list[Step]:
        """The protocol as a flat list of prompt and rest steps, in order."""
        steps: list[Step] = []
        if self.order == "blocked":
            order = [(i, r) for i, p in enumerate(self.prompts) for r in range(p.repetitions)]
        else:
            n = max(p.repetitions for p in self.prompts)
            order = [(i, r) for r in range(n) for i, p in enumerate(self.prompts) if r < p.repetitions]
        for i, r in order:
            p = self.prompts[i]
            wrist = p.wrist.model_dump() if p.wrist is not None else None
            steps.append(Step("prompt", p.label, p.duration_s, r, i, self.target_angles(p), p.instruction, wrist))
            if p.rest_s > 0:
                steps.append(Step("rest", "rest", p.rest_s, r, i, self.poses.get("rest"), "Relax your hand.", None))
        return steps

    @property
    def planned_duration_s(self) -> float:
        """Countdown plus every prompt and rest (s)."""
        return self.countdown_s + sum(s.duration_s for s in self.expand())


@dataclass(frozen=True)
class Step:
    """One step of an expanded protocol.

    Attributes
    ----------
    kind : str
        ``"prompt"`` or ``"rest"``.
    label : str
    duration_s : float
    repetition : int
        0-based repetition of the prompt.
    prompt_index : int
        Index of the :class:`PromptSpec` in the protocol.
    target : dict or None
        Joint angles (deg by DOF name) for the 3D view.
    instruction : str
    wrist : dict or None
        ``{"flexion", "deviation", "pronation"}`` in degrees for the 3D view.
    """

    kind: str
    label: str
    duration_s: float
    repetition: int
    prompt_index: int
    target: dict | None
    instruction: str
    wrist: dict | None = None


def _locate(text: str, loc: tuple) -> int | None:
    """Best-effort 1-based line of a pydantic error location in TOML text."""
    lines = text.splitlines()
    if not loc:
        return None
    head = loc[0]
    if head == "prompts" and len(loc) >= 2 and isinstance(loc[1], int):
        headers = [i for i, ln in enumerate(lines) if re.match(r"^\s*\[\[\s*prompts\s*\]\]", ln)]
        if loc[1] >= len(headers):
            return None
        start = headers[loc[1]]
        if len(loc) < 3:
            return start + 1
        key = str(loc[2])
        for j in range(start + 1, len(lines)):
            if re.match(r"^\s*\[", lines[j]):
                break
            if re.match(rf"^\s*{re.escape(key)}\s*=", lines[j]):
                return j + 1
        return start + 1
    if head == "poses" and len(loc) >= 2:
        name = str(loc[1])
        for i, ln in enumerate(lines):
            if re.match(rf"^\s*\[\s*poses\.{re.escape(name)}\s*\]", ln) or re.match(rf"^\s*{re.escape(name)}\s*=\s*\{{", ln):
                return i + 1
        return None
    key = str(head)
    for i, ln in enumerate(lines):
        if re.match(r"^\s*\[", ln):
            break
        if re.match(rf"^\s*{re.escape(key)}\s*=", ln):
            return i + 1
    return None


def _format_loc(loc: tuple) -> str:
    out = ""
    for part in loc:
        out += f"[{part}]" if isinstance(part, int) else (f".{part}" if out else str(part))
    return out


def parse_protocol(text: str, source: str = "<text>", dof_names=None) -> Protocol:
    """Parse and validate protocol TOML text.

    Parameters
    ----------
    dof_names : list of str, optional
        Degrees of freedom a target pose may name (default: the built-in hand
        model's, :data:`asha_app.pose.hand_model.DEFAULT_LIMITS_DEG`).

    Raises
    ------
    ConfigError
        Naming ``source`` and the line / key of each problem, and every
        unknown degree-of-freedom name.
    """
    try:
        data = tomllib.loads(text)
    except tomllib.TOMLDecodeError as exc:
        raise ConfigError(f"{source}: not valid TOML: {exc}. Fix the file or restore the original.") from exc
    try:
        proto = Protocol.model_validate(data)
    except ValidationError as exc:
        problems = []
        for err in exc.errors():
            loc = tuple(err.get("loc", ()))
            line = _locate(text, loc)
            msg = err.get("msg", "invalid")
            if not loc:
                # model-level validator: its message names the prompt; find that prompt's line
                m = re.search(r"prompts\[(\d+)\]", msg)
                line = _locate(text, ("prompts", int(m.group(1)), "target")) if m else None
            where = (f"line {line}, " if line else "") + (f"key '{_format_loc(loc)}'" if loc else "protocol")
            problems.append(f"{where}: {msg}")
        raise ConfigError(f"{source}: invalid protocol: " + "; ".join(problems)) from exc
    _check_dof_names(proto, text, source, dof_names)
    return proto


def _check_dof_names(proto: Protocol, text: str, source: str, dof_names) -> None:
    """Refuse target poses that name a degree of freedom the hand model does not have (a typo draws nothing)."""
    if dof_names is None:
        from asha_app.pose.chain import DEFAULT_LIMITS_DEG  # noqa: PLC0415 - the pose layer only when needed

        dof_names = list(DEFAULT_LIMITS_DEG)
    unknown = proto.unknown_dofs(list(dof_names))
    if not unknown:
        return
    problems = []
    for name in sorted(unknown):
        m = re.search(rf"^\s*{re.escape(name)}\s*=", text, re.MULTILINE) or re.search(rf"\b{re.escape(name)}\s*=", text)
        line = text.count("\n", 0, m.start()) + 1 if m else None
        problems.append((f"line {line}: " if line else "") + repr(name))
    raise ConfigError(
        f"{source}: invalid protocol: unknown degree(s) of freedom in a target pose: {', '.join(problems)}. "
        f"The hand model's are: {', '.join(dof_names)}.")


def load_protocol(path: str | Path) -> Protocol:
    """Load a protocol TOML file.

    Raises
    ------
    ConfigError
        If the file is missing, unreadable or invalid (message names the file and where).
    """
    path = Path(path)
    try:
        text = path.read_text(encoding="utf-8")
    except (OSError, UnicodeDecodeError) as exc:
        raise ConfigError(f"{path}: cannot read the protocol file ({exc}).") from exc
    return parse_protocol(text, str(path))


def builtin_protocol_paths() -> list[Path]:
    """The bundled protocol files (``resources/protocols/*.toml``), sorted by name."""
    folder = resources_dir() / PROTOCOL_DIR_NAME
    return sorted(folder.glob("*.toml"))


def builtin_protocols() -> dict[str, Protocol]:
    """Bundled protocols keyed by file stem (``"basic_poses"`` ...)."""
    return {p.stem: load_protocol(p) for p in builtin_protocol_paths()}
