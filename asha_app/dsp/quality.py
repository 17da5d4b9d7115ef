"""Per-channel sEMG signal-quality flags with advice for the person at the armband.

Measured on the last second or so of raw and filtered signal.  Thresholds are
for surface EMG in microvolts from a dry-electrode armband (MindRove WiFi:
24-bit ADC, about +/-400 mV input range per its datasheet; typical sEMG at the
forearm is 10-1000 uV RMS).  They are settings, documented in README.

The checks follow the signal's unit and sampling rate:

* **Units.**  Voltages (``"uV"``, ``"mV"``, ``"V"``) are converted to microvolts
  and get the absolute thresholds.  Data in another unit (imported MiniVIE
  units, NinaPro envelopes, ADC counts; :mod:`asha_app.core.units`) cannot be
  judged in microvolts: a channel is *flat* when it is constant or more than a
  thousand times quieter than the median channel, *noisy* when its filtered
  RMS is twenty times the median channel's, and *railed* is not decided (the
  amplifier's range in that unit is unknown).
* **Sampling rate.**  The mains check needs the mains frequency below Nyquist,
  and the motion (*noisy*) check needs a sampling rate of at least
  :data:`MIN_FS_NOISY_HZ` (below it the "filtered" band lies under 20 Hz, where
  movement lives, and the data are usually envelopes, not raw sEMG).
* A channel stuck at the amplifier's limit is *railed*, not *flat*: railed is
  checked before flat.
"""

from __future__ import annotations

from dataclasses import dataclass
from enum import Enum

import numpy as np

from asha_app.core.units import emg_unit_to_uv

#: below this sampling rate (Hz) the motion-artefact (noisy) check is not made
MIN_FS_NOISY_HZ = 100.0
#: unit-free checks (data not in volts): flat below this share of the median channel's standard deviation
REL_FLAT = 1e-3
#: unit-free checks: noisy above this multiple of the median channel's filtered RMS
REL_NOISY = 20.0


class Flag(str, Enum):
    """One quality problem of one channel."""

    OK = "ok"
    NAN = "nan"
    FLAT = "flat"
    RAILED = "railed"
    MAINS = "mains"
    NOISY = "noisy"


ADVICE = {
    Flag.OK: "Signal looks like sEMG.",
    Flag.NAN: "The device sent invalid numbers (NaN). Restart the stream; if it persists, restart the armband.",
    Flag.FLAT: "No signal: the electrode is probably not touching the skin. Tighten the band or moisten the skin under "
               "it.",
    Flag.RAILED: "Saturated: the input is at the limit of the amplifier. Check the electrode sits on skin, not on hair "
                 "or the edge of the band, and wait for the offset to settle.",
    Flag.MAINS: "Mains hum dominates: the electrode contact is poor or a charger/cable is near. Improve skin contact, "
                "unplug chargers, and check the mains notch setting (50 or 60 Hz) matches your country.",
    Flag.NOISY: "Very noisy: movement of the electrode or cable. Tighten the band and keep the arm still while "
                "checking.",
}


@dataclass(frozen=True)
class QualityThresholds:
    """Thresholds of :func:`assess_channels` (microvolts unless noted).

    Attributes
    ----------
    flat_uv : float
        Raw standard deviation below which a channel is flat.
    rail_uv : float
        Absolute raw value at or above which a sample counts as railed.
    rail_fraction : float
        Share of railed (or stuck-at-extreme) samples that flags the channel.
    mains_ratio : float
        Share of raw power (after removing the mean) within +/-2 Hz of the
        mains frequency above which mains dominates.
    noisy_uv : float
        Filtered RMS above which the channel is noisy (motion artefact).
    """

    flat_uv: float = 0.5
    rail_uv: float = 390_000.0
    rail_fraction: float = 0.05
    mains_ratio: float = 0.5
    noisy_uv: float = 1500.0


def assess_channels(
    raw: np.ndarray,
    filtered: np.ndarray,
    fs: float,
    mains_hz: float = 50.0,
    thresholds: QualityThresholds = QualityThresholds(),
    units: str | None = "uV",
) -> list[Flag]:
    """Flag each channel of a recent stretch of signal.

    Parameters
    ----------
    raw, filtered : array (n_samples, n_channels)
        Raw and filtered sEMG in ``units``; at least ~0.25 s is useful.
    fs : float
        Sampling rate, Hz.
    mains_hz : float
        Mains frequency, Hz.
    thresholds : QualityThresholds
        Limits (microvolts).
    units : str, optional
        The EMG unit as sessions store it (``"uV"``, the default, for every live
        source); a unit that is not a voltage switches to the unit-free checks
        (module notes).

    Returns
    -------
    list of Flag
        One flag per channel, the most severe problem first in the order
        NaN, railed, flat, mains, noisy.
    """
    raw = np.asarray(raw, dtype=np.float64)
    filtered = np.asarray(filtered, dtype=np.float64)
    n, c = raw.shape
    to_uv = emg_unit_to_uv(units)
    if to_uv is not None and to_uv != 1.0:
        raw, filtered = raw * to_uv, filtered * to_uv
    with np.errstate(all="ignore"):
        std = np.std(raw, axis=0) if n else np.zeros(c)
        frms = np.sqrt(np.nanmean(filtered**2, axis=0)) if n else np.zeros(c)
    finite = np.isfinite(std)
    ref_std = float(np.median(std[finite])) if finite.any() else 0.0
    ref_rms = float(np.nanmedian(frms)) if np.isfinite(frms).any() else 0.0
    flags = []
    for ch in range(c):
        x = raw[:, ch]
        if n == 0:
            flags.append(Flag.OK)
            continue
        if not np.all(np.isfinite(x)):
            flags.append(Flag.NAN)
            continue
        if to_uv is not None and np.mean(np.abs(x) >= thresholds.rail_uv) >= thresholds.rail_fraction:
            flags.append(Flag.RAILED)
            continue
        if to_uv is not None:
            flat = std[ch] < thresholds.flat_uv
        else:  # no absolute scale: constant, or far quieter than the other channels
            flat = std[ch] <= 1e-12 * max(1.0, float(np.max(np.abs(x)))) or (c >= 3 and std[ch] < REL_FLAT * ref_std)
        if flat:
            flags.append(Flag.FLAT)
            continue
        if n >= int(fs * 0.25) and mains_hz < fs / 2:
            xc = x - x.mean()
            spec = np.abs(np.fft.rfft(xc * np.hanning(n))) ** 2
            freqs = np.fft.rfftfreq(n, 1.0 / fs)
            total = spec[freqs >= 1.0].sum()
            band = spec[np.abs(freqs - mains_hz) <= 2.0].sum()
            if total > 0 and band / total >= thresholds.mains_ratio:
                flags.append(Flag.MAINS)
                continue
        if fs >= MIN_FS_NOISY_HZ and np.isfinite(frms[ch]):
            if to_uv is not None:
                noisy = frms[ch] > thresholds.noisy_uv
            else:
                noisy = c >= 3 and ref_rms > 0 and frms[ch] > REL_NOISY * ref_rms
            if noisy:
                flags.append(Flag.NOISY)
                continue
        flags.append(Flag.OK)
    return flags
