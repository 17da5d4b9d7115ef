"""Per-channel sEMG signal-quality flags with advice for the person at the armband.

Measured on the last second or so of raw and filtered signal.  Thresholds are
for surface EMG in microvolts from a dry-electrode armband (MindRove WiFi:
24-bit ADC, about +/-400 mV input range per its datasheet; typical sEMG at the
forearm is 10-1000 uV RMS).  They are settings, documented in README.
"""

from __future__ import annotations

from dataclasses import dataclass
from enum import Enum

import numpy as np


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
    Flag.FLAT: "No signal: the electrode is probably not touching the skin. Tighten the band or moisten the skin under it.",
    Flag.RAILED: "Saturated: the input is at the limit of the amplifier. Check the electrode sits on skin, not on hair or the edge of the band, and wait for the offset to settle.",
    Flag.MAINS: "Mains hum dominates: the electrode contact is poor or a charger/cable is near. Improve skin contact, unplug chargers, and check the mains notch setting (50 or 60 Hz) matches your country.",
    Flag.NOISY: "Very noisy: movement of the electrode or cable. Tighten the band and keep the arm still while checking.",
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
) -> list[Flag]:
    """Flag each channel of a recent stretch of signal.

    Parameters
    ----------
    raw, filtered : array (n_samples, n_channels)
        Raw and filtered sEMG, microvolts; at least ~0.25 s is useful.
    fs : float
        Sampling rate, Hz.
    mains_hz : float
        Mains frequency, Hz.
    thresholds : QualityThresholds
        Limits.

    Returns
    -------
    list of Flag
        One flag per channel, the most severe problem first in the order
        NaN, flat, railed, mains, noisy.
    """
    raw = np.asarray(raw, dtype=np.float64)
    filtered = np.asarray(filtered, dtype=np.float64)
    n, c = raw.shape
    flags = []
    for ch in range(c):
        x = raw[:, ch]
        if n == 0:
            flags.append(Flag.OK)
            continue
        if not np.all(np.isfinite(x)):
            flags.append(Flag.NAN)
            continue
        if np.std(x) < thresholds.flat_uv:
            flags.append(Flag.FLAT)
            continue
        ext = np.abs(x)
        if np.mean(ext >= thresholds.rail_uv) >= thresholds.rail_fraction:
            flags.append(Flag.RAILED)
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
        f = filtered[:, ch]
        f = f[np.isfinite(f)]
        if f.size and np.sqrt(np.mean(f**2)) > thresholds.noisy_uv:
            flags.append(Flag.NOISY)
            continue
        flags.append(Flag.OK)
    return flags
