"""EMG units as sessions store them (``/emg`` attribute ``units``) and as people should read them.

The armband (and every session Asha records) gives microvolts, stored as
``"uV"``.  Imported data keeps the unit of its source, which is often not a
physical one: ``"MiniVIE normalised"`` (the paired Myo + MediaPipe data),
``"as recorded (NinaPro)"`` (NinaPro's envelopes), ``"emg2pose (high-pass
filtered, as published)"``, ``"counts"``.  Displays must then say that unit and
never a microvolt scale, and thresholds in microvolts must not be applied.
"""

from __future__ import annotations

#: spellings of the physical units and their factor to microvolts
_TO_UV = {
    "uv": 1.0, "µv": 1.0, "μv": 1.0, "microvolt": 1.0, "microvolts": 1.0,
    "mv": 1e3, "millivolt": 1e3, "millivolts": 1e3,
    "v": 1e6, "volt": 1e6, "volts": 1e6,
}
_LABEL = {1.0: "µV", 1e3: "mV", 1e6: "V"}


def emg_unit_to_uv(units: str | None) -> float | None:
    """Factor that turns values in ``units`` into microvolts, or None when ``units`` is not a voltage.

    ``None`` or ``""`` (an EMG source that does not say) counts as microvolts,
    the unit of every live source.
    """
    key = (units or "uV").strip().lower()
    return _TO_UV.get(key)


def emg_unit_label(units: str | None) -> str:
    """The unit as shown to a person: ``"µV"``, ``"mV"``, ``"V"``, or the stored text of a non-physical unit."""
    f = emg_unit_to_uv(units)
    return _LABEL[f] if f is not None else str(units).strip()
