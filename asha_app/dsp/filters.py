"""Causal, stateful sEMG filters: one code path for recording, training and live inference.

Every filter here keeps its state between calls, so filtering a signal in
chunks of any size gives exactly the output of filtering it whole.  This is
the property the system we start from lacked (it ran zero-phase ``filtfilt``
on each 50-sample chunk and skipped chunks under 15 samples), and the tests
check it.

The filter chain is a Butterworth band-pass (default 20-200 Hz, order 4)
followed by an IIR notch at the mains frequency (50 or 60 Hz, a setting),
designed with :func:`scipy.signal.butter` and :func:`scipy.signal.iirnotch`
and run as second-order sections with :func:`scipy.signal.sosfilt` and its
``zi`` state.  The useful sEMG band is roughly 20-450 Hz (De Luca, 2002,
"Surface electromyography: detection and recording"); at 500 Hz sampling the
upper edge must stay under the 250 Hz Nyquist limit.
"""

from __future__ import annotations

import logging
from dataclasses import asdict, dataclass

import numpy as np
from scipy import signal

log = logging.getLogger(__name__)


@dataclass(frozen=True)
class FilterSpec:
    """Settings of the sEMG filter chain.

    Attributes
    ----------
    fs : float
        Sampling rate in Hz.
    band : tuple of float or None
        Band-pass edges ``(low, high)`` in Hz; ``None`` disables the band-pass.
        A ``high`` at or above 0.95 x Nyquist becomes a high-pass at ``low``.
    order : int
        Butterworth order of the band-pass (per edge).
    notch_hz : float or None
        Mains frequency to remove (50 or 60 Hz); ``None`` disables the notch.
    notch_q : float
        Quality factor of the notch (centre / bandwidth).
    notch_harmonics : bool
        Also notch the harmonics of the mains frequency below the band's high edge.
    """

    fs: float
    band: tuple[float, float] | None = (20.0, 200.0)
    order: int = 4
    notch_hz: float | None = 50.0
    notch_q: float = 30.0
    notch_harmonics: bool = False

    def to_dict(self) -> dict:
        """Plain dict for HDF5 attributes and checkpoints."""
        d = asdict(self)
        d["band"] = list(self.band) if self.band is not None else None
        return d

    @classmethod
    def from_dict(cls, d: dict) -> FilterSpec:
        """Inverse of :meth:`to_dict`."""
        d = dict(d)
        if d.get("band") is not None:
            d["band"] = tuple(float(x) for x in d["band"])
        return cls(**d)

    @classmethod
    def from_settings(cls, settings, fs: float) -> FilterSpec:
        """The chain the user chose in Settings, for a source sampled at ``fs`` Hz.

        Parameters
        ----------
        settings : asha_app.core.settings.FilterSettings
            ``mains_hz``, ``notch_enabled``, ``band_low_hz``, ``band_high_hz``, ``order``.
        fs : float
            Sampling rate, Hz.

        Returns
        -------
        FilterSpec
            The band's high edge clipped below Nyquist (0.95 x fs/2) and its low edge
            below half the high edge; no notch when it is off or the mains frequency
            lies above Nyquist.
        """
        high = min(settings.band_high_hz, 0.95 * fs / 2 - 1e-6)
        low = min(settings.band_low_hz, high * 0.5)
        notch = float(settings.mains_hz) if settings.notch_enabled and settings.mains_hz < fs / 2 else None
        return cls(fs=fs, band=(low, high), order=settings.order, notch_hz=notch)


def design_sos(spec: FilterSpec) -> np.ndarray:
    """Second-order sections of the whole chain described by ``spec``.

    Returns
    -------
    numpy.ndarray, shape (n_sections, 6)
        May have zero rows when every stage is disabled.

    Raises
    ------
    ValueError
        If a band edge is not inside (0, Nyquist) or ``low >= high``.
    """
    nyq = spec.fs / 2.0
    sections = []
    if spec.band is not None:
        low, high = spec.band
        if not 0 < low < nyq:
            raise ValueError(f"band-pass low edge {low} Hz must lie in (0, {nyq}) Hz at fs={spec.fs} Hz")
        if high <= low:
            raise ValueError(f"band-pass high edge {high} Hz must exceed the low edge {low} Hz")
        if high >= 0.95 * nyq:
            log.info("band-pass high edge %.1f Hz too close to Nyquist (%.1f Hz): using a high-pass at %.1f Hz", high, nyq, low)
            sections.append(signal.butter(spec.order, low, btype="highpass", fs=spec.fs, output="sos"))
        else:
            sections.append(signal.butter(spec.order, [low, high], btype="bandpass", fs=spec.fs, output="sos"))
    if spec.notch_hz is not None:
        top = spec.band[1] if (spec.band is not None and spec.notch_harmonics) else spec.notch_hz
        f = spec.notch_hz
        k = 1
        while f < min(top + 1e-9, 0.98 * nyq) or (k == 1 and f < 0.98 * nyq):
            b, a = signal.iirnotch(f, spec.notch_q, fs=spec.fs)
            sections.append(signal.tf2sos(b, a))
            k += 1
            f = spec.notch_hz * k
            if not spec.notch_harmonics:
                break
    if not sections:
        return np.zeros((0, 6))
    return np.vstack(sections)


class StreamingFilter:
    """Causal multi-channel filter whose state carries over between chunks.

    The state starts as the steady state for the first sample seen
    (:func:`scipy.signal.sosfilt_zi` scaled per channel), which avoids a large
    start-up transient from the electrode offset and depends only on that
    first sample, so chunked and whole filtering stay identical.

    Parameters
    ----------
    spec : FilterSpec
        Filter settings.
    n_channels : int
        Number of channels (columns) of every chunk.
    """

    def __init__(self, spec: FilterSpec, n_channels: int) -> None:
        self.spec = spec
        self.n_channels = int(n_channels)
        self.sos = design_sos(spec)
        self._zi_unit = signal.sosfilt_zi(self.sos) if len(self.sos) else None
        self._zi: np.ndarray | None = None

    def reset(self) -> None:
        """Forget the state (the next chunk starts a new signal)."""
        self._zi = None

    def process(self, x: np.ndarray) -> np.ndarray:
        """Filter the next chunk.

        Parameters
        ----------
        x : array (n_samples, n_channels)
            Next samples, any length (0 allowed), microvolts.

        Returns
        -------
        float64 array (n_samples, n_channels)
            Filtered samples, same units.

        Raises
        ------
        ValueError
            If the chunk has the wrong number of channels.

        Notes
        -----
        Non-finite samples (NaN, inf) would poison the filter state forever;
        they are replaced by 0 before filtering and come out as NaN in the
        output at the same positions, so a plot or quality check sees them.
        """
        x = np.asarray(x, dtype=np.float64)
        if x.ndim != 2 or x.shape[1] != self.n_channels:
            raise ValueError(f"expected a chunk of shape (n, {self.n_channels}), got {x.shape}")
        if x.shape[0] == 0 or self._zi_unit is None:
            return x.copy()
        bad = ~np.isfinite(x)
        has_bad = bool(bad.any())
        if has_bad:
            x = np.where(bad, 0.0, x)
        if self._zi is None:
            # (n_sections, 2) x first sample per channel -> (n_sections, 2, n_channels)
            self._zi = self._zi_unit[:, :, None] * x[0][None, None, :]
        y, self._zi = signal.sosfilt(self.sos, x, axis=0, zi=self._zi)
        if has_bad:
            y[bad] = np.nan
        return y


def filter_offline(x: np.ndarray, spec: FilterSpec) -> np.ndarray:
    """Filter a whole recording exactly as the live chain would (causal, same state rules).

    Parameters
    ----------
    x : array (n_samples, n_channels)
        Raw sEMG.
    spec : FilterSpec
        Filter settings.

    Returns
    -------
    float64 array (n_samples, n_channels)
    """
    x = np.asarray(x)
    return StreamingFilter(spec, x.shape[1]).process(x)


class RmsEnvelope:
    """Causal moving RMS over a window of ``window_s`` seconds, with state across chunks.

    ``y[i] = sqrt(mean(x[i-w+1 .. i]^2))``; the first ``w-1`` outputs average
    over the samples seen so far.

    Parameters
    ----------
    fs : float
        Sampling rate, Hz.
    window_s : float
        Window length, seconds (e.g. 0.1).
    n_channels : int
        Number of channels.
    """

    def __init__(self, fs: float, window_s: float, n_channels: int) -> None:
        self.w = max(1, int(round(window_s * fs)))
        self.n_channels = int(n_channels)
        self.reset()

    def reset(self) -> None:
        """Forget the history."""
        self._hist = np.zeros((0, self.n_channels))

    def process(self, x: np.ndarray) -> np.ndarray:
        """Envelope of the next chunk, shape (n_samples, n_channels), same units as ``x``.

        Non-finite inputs count as 0 in the window.
        """
        x = np.asarray(x, dtype=np.float64)
        if x.ndim != 2 or x.shape[1] != self.n_channels:
            raise ValueError(f"expected a chunk of shape (n, {self.n_channels}), got {x.shape}")
        sq = np.where(np.isfinite(x), x, 0.0) ** 2
        full = np.vstack([self._hist, sq])
        csum = np.vstack([np.zeros((1, self.n_channels)), np.cumsum(full, axis=0)])
        n_hist = self._hist.shape[0]
        idx = np.arange(n_hist, full.shape[0])  # positions of the new samples in `full`
        lo = np.maximum(0, idx - self.w + 1)
        count = idx - lo + 1  # history holds only real samples, so this is min(w, samples seen)
        total = csum[idx + 1] - csum[lo]
        y = np.sqrt(np.maximum(total, 0.0) / count[:, None])
        self._hist = full[-(self.w - 1) :] if self.w > 1 else full[:0]
        return y
