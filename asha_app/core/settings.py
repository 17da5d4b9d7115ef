"""Typed, versioned application settings, persisted as JSON in the user's config folder.

Validation is done by pydantic: a settings file with wrong values is reported
(and the defaults used) instead of crashing the app.  Window geometry lives
apart, in a QSettings ini file next to this one (see :mod:`asha_app.ui`).
"""

from __future__ import annotations

import json
import logging
import os
from pathlib import Path
from typing import Literal

from pydantic import BaseModel, Field, ValidationError, field_validator, model_validator

from asha_app.core import paths

log = logging.getLogger(__name__)

SETTINGS_VERSION = 1
DeviceKind = Literal["armband", "demo", "synthetic", "file", "lsl"]


class DeviceSettings(BaseModel):
    """Which EMG source to use and how to reach it."""

    kind: DeviceKind = "armband"
    armband_ip: str = ""
    armband_port: int = Field(0, ge=0, le=65535)
    armband_timeout_s: float = Field(3.0, gt=0.5, le=30.0)
    playback_file: str = ""
    lsl_stream: str = ""  # name or source id of the LSL EMG stream ("" = the first of type EMG)

    @field_validator("armband_ip")
    @classmethod
    def _ipv4_or_empty(cls, value: str) -> str:
        value = value.strip()
        if value:
            parts = value.split(".")
            if len(parts) != 4 or not all(p.isdigit() and int(p) <= 255 for p in parts):
                raise ValueError(f"'{value}' is not an IP address: write four numbers from 0 to 255 separated by "
                                 "dots (the armband's own network uses 192.168.4.1), or leave it empty for the "
                                 "SDK's default")
        return value


class FilterSettings(BaseModel):
    """sEMG filter chain the user chose; :meth:`asha_app.dsp.filters.FilterSpec.from_settings` makes the filter."""

    mains_hz: Literal[50, 60] = 50
    notch_enabled: bool = True
    band_low_hz: float = Field(20.0, gt=0)
    band_high_hz: float = Field(200.0, gt=0)
    order: int = Field(4, ge=1, le=8)

    @model_validator(mode="after")
    def _band_order(self):
        if self.band_high_hz <= self.band_low_hz:
            raise ValueError(f"the high edge of the band-pass ({self.band_high_hz:g} Hz) must be above its low edge "
                             f"({self.band_low_hz:g} Hz)")
        return self


class ScopeSettings(BaseModel):
    """How the EMG scopes draw."""

    window_s: float = Field(5.0, ge=1.0, le=10.0)
    show_filtered: bool = True
    autoscale: bool = True
    fixed_range_uv: float = Field(500.0, gt=0)


class CameraSettings(BaseModel):
    """Camera labelling: which hand MediaPipe keeps, its model, mirroring, and an optional MANO file."""

    hand: Literal["any", "right", "left"] = "any"
    model_complexity: Literal[0, 1] = 1
    mirror_webcam: bool = True
    mano_path: str = ""


class LslSettings(BaseModel):
    """Lab Streaming Layer: the switch, the resolve scope, which outlets to publish, and the marker inlet."""

    enabled: bool = False
    scope: Literal["machine", "link", "site"] = "site"
    outlets: list[Literal["emg", "imu", "camera_pose", "predicted_pose", "gestures", "markers"]] = Field(
        default_factory=lambda: ["emg", "imu", "camera_pose", "predicted_pose", "gestures", "markers"])
    record_markers: bool = True
    marker_stream: str = ""  # name or source id; "" = every marker stream except Asha's own


class AppSettings(BaseModel):
    """Everything the app remembers between runs."""

    version: int = SETTINGS_VERSION
    device: DeviceSettings = DeviceSettings()
    filter: FilterSettings = FilterSettings()
    scope: ScopeSettings = ScopeSettings()
    camera: CameraSettings = CameraSettings()
    lsl: LslSettings = LslSettings()

    @staticmethod
    def path() -> Path:
        """Location of the settings file."""
        return paths.config_dir() / "settings.json"

    @classmethod
    def load(cls, path: Path | None = None) -> tuple[AppSettings, str | None]:
        """Load settings; returns ``(settings, problem)`` where ``problem`` says why defaults were used.

        Never raises: a file that cannot be read, is not JSON, is not a JSON
        object, has no usable ``version`` or holds invalid values is moved
        aside to ``settings.json.bad`` (kept for the user to look at) and the
        defaults are used; ``problem`` says so in one sentence.
        """
        path = path or cls.path()
        if not path.exists():
            return cls(), None
        try:
            data = json.loads(path.read_text(encoding="utf-8"))
            if not isinstance(data, dict):
                raise ValueError(f"the file holds a JSON {type(data).__name__}, not an object of settings")
            version = data.get("version", SETTINGS_VERSION)
            if isinstance(version, bool) or not isinstance(version, int):
                raise ValueError(f"'version' is {version!r}, not a whole number")
            if version > SETTINGS_VERSION:
                return cls(), f"{path} was written by a newer Asha (settings version {version}); using defaults."
            return cls.model_validate(data), None
        except (OSError, ValueError, ValidationError, UnicodeDecodeError) as exc:
            reason = f"{exc.__class__.__name__}: {str(exc).splitlines()[0] if str(exc) else ''}"
            backup = cls._back_up(path)
            kept = f" The old file is kept as {backup}." if backup else ""
            return cls(), f"Settings file {path} is invalid ({reason}); using defaults.{kept}"

    @staticmethod
    def _back_up(path: Path) -> Path | None:
        backup = path.with_name(path.name + ".bad")
        try:
            os.replace(path, backup)
            return backup
        except OSError as exc:
            log.warning("could not move the invalid settings file %s aside: %s", path, exc)
            return None

    def save(self, path: Path | None = None) -> None:
        """Write atomically (temporary file in the same folder, then rename)."""
        from asha_app.core.atomic import atomic_write_text

        atomic_write_text(path or self.path(), self.model_dump_json(indent=2))
