"""What a recording's EMG is (raw sEMG, a device's RMS envelope, normalised units) and the filter chain that suits it.

Public datasets call very different signals "EMG" (see ``docs/training.md``):
NinaPro DB1's Otto Bock electrodes deliver their own RMS envelope at 100 Hz,
NinaPro DB2/DB3 and emg2pose raw sEMG at 2 kHz, the paired Myo + MediaPipe
session values the MiniVIE tool already decimated and normalised.  A
20-200 Hz band-pass and a 50 Hz notch belong to raw sEMG sampled at 500 Hz or
more; on an envelope they destroy the signal (measured on NinaPro DB1 with a
ridge model: held-out R^2 0.35 without the chain, 0.22 with it).

Importers record the kind in ``Recording.meta["signal_kind"]`` (one of
:data:`SIGNAL_KINDS`; a session file keeps it in its ``source`` attribute),
and a ``filter_hint`` (:meth:`FilterSpec.to_dict`) when the dataset asks for a
particular chain.  :func:`auto_filter_spec` turns that into the chain that
``asha train --filter auto``, the training wizard's recommended choice and
:func:`asha_app.data.windows.build_windows` (no filter given) all use.
Recordings without the attribute (files written before it existed, Asha's own
MindRove sessions) get the kind inferred from the sampling rate
(:func:`infer_signal_kind`), and the log says so.
"""

from __future__ import annotations

import logging
from dataclasses import dataclass

from asha_app.core.errors import DatasetError
from asha_app.dsp.filters import FilterDesignError, FilterSpec

log = logging.getLogger(__name__)

RAW_SEMG = "raw_semg"
RMS_ENVELOPE = "rms_envelope"
NORMALISED = "normalised"
#: every signal kind an importer may record
SIGNAL_KINDS = (RAW_SEMG, RMS_ENVELOPE, NORMALISED)
#: plain words for messages and the wizard
KIND_WORDS = {RAW_SEMG: "raw sEMG", RMS_ENVELOPE: "an RMS envelope (already rectified and smoothed)",
              NORMALISED: "normalised values (already processed)"}
#: at or below this rate (Hz) a recording without a recorded kind is taken for an envelope: raw sEMG holds
#: energy up to 450 Hz and is sampled at 500 Hz or more by every device Asha knows (the Myo's 200 Hz is the
#: exception; NinaPro DB5 files record their kind)
ENVELOPE_MAX_FS = 200.0


def infer_signal_kind(fs: float) -> str:
    """The kind a recording without a recorded one most likely holds: an envelope at ``fs <= 200`` Hz, else raw sEMG."""
    return RMS_ENVELOPE if float(fs) <= ENVELOPE_MAX_FS else RAW_SEMG


def filter_for_kind(kind: str, fs: float, mains_hz: float | None = 50.0) -> FilterSpec:
    """The filter chain that suits a signal kind at ``fs`` Hz.

    Raw sEMG gets the live default chain (:meth:`FilterSpec.raw_semg_default`: band-pass
    20 Hz to min(200 Hz, 0.45 fs), mains notch when below Nyquist); an envelope or
    normalised values get no filtering at all.

    Raises
    ------
    DatasetError
        An unknown kind.
    """
    if kind == RAW_SEMG:
        return FilterSpec.raw_semg_default(fs, mains_hz)
    if kind in (RMS_ENVELOPE, NORMALISED):
        return FilterSpec(float(fs), band=None, notch_hz=None)
    raise DatasetError(f"unknown EMG signal kind {kind!r}; use one of {', '.join(SIGNAL_KINDS)}")


@dataclass(frozen=True)
class SignalInfo:
    """What one recording's EMG is, and whether that was recorded or inferred.

    Attributes
    ----------
    kind : str
        One of :data:`SIGNAL_KINDS`.
    inferred : bool
        True when the recording did not say and the kind was guessed from the rate.
    fs : float
        Sampling rate, Hz.
    """

    kind: str
    inferred: bool
    fs: float

    def describe(self) -> str:
        """E.g. ``"an RMS envelope (...) at 100 Hz (inferred: the recording does not say)"``."""
        how = " (inferred from the rate: the recording does not say)" if self.inferred else ""
        return f"{KIND_WORDS.get(self.kind, self.kind)} at {self.fs:g} Hz{how}"


def signal_info(rec) -> SignalInfo:
    """The signal kind of a :class:`~asha_app.data.recording.Recording` (``meta["signal_kind"]``, else inferred).

    A recorded value that is not one of :data:`SIGNAL_KINDS` is ignored with a warning and the kind inferred.
    """
    kind = rec.meta.get("signal_kind")
    if kind in SIGNAL_KINDS:
        return SignalInfo(str(kind), False, float(rec.fs))
    if kind is not None:
        log.warning("%s: unknown signal kind %r recorded; inferring it from the rate",
                    rec.meta.get("file", rec.meta.get("source_file", "recording")), kind)
    return SignalInfo(infer_signal_kind(rec.fs), True, float(rec.fs))


def auto_filter_spec(recordings, mains_hz: float | None = 50.0) -> tuple[FilterSpec, str]:
    """The filter chain the recordings' signal asks for, and one sentence saying why.

    The dataset's own ``filter_hint`` wins when the first recording has one; otherwise
    :func:`filter_for_kind` of its :func:`signal_info`.  Used by ``asha train --filter auto``,
    the training wizard's recommended choice and :func:`asha_app.data.windows.build_windows`.

    Parameters
    ----------
    recordings : Recording or list of Recording
        Same sampling rate.
    mains_hz : float or None
        Mains frequency for the notch of raw sEMG.

    Returns
    -------
    (FilterSpec, str)

    Raises
    ------
    DatasetError
        The recordings hold different kinds of signal (one filter cannot suit both), or
        a hint that cannot be built at the rate.
    """
    recs = [recordings] if not isinstance(recordings, (list, tuple)) else list(recordings)
    if not recs:
        raise DatasetError("no recordings given")
    infos = [signal_info(r) for r in recs]
    kinds = {i.kind for i in infos}
    if len(kinds) > 1:
        raise DatasetError("the recordings hold different kinds of EMG (" + ", ".join(
            f"{_name(r, k)}: {i.kind}" for k, (r, i) in enumerate(zip(recs, infos))) + "); one filter chain cannot "
            "suit them all: train on one kind at a time")
    info = infos[0]
    if info.inferred:
        log.info("%s: no signal kind recorded; taken for %s", _name(recs[0], 0), info.describe())
    hint = recs[0].meta.get("filter_hint")
    if isinstance(hint, dict):
        try:
            spec = FilterSpec.from_dict(hint)
        except (TypeError, FilterDesignError) as exc:
            raise DatasetError(f"{_name(recs[0], 0)}: its recorded filter hint {hint} cannot be used ({exc}); "
                               "give a filter explicitly (--filter none or --band)") from exc
        if abs(spec.fs - info.fs) < 1e-6:
            return spec, f"the data set's own filter for {info.describe()}"
        log.warning("%s: the filter hint is for %g Hz but the data is at %g Hz; ignored", _name(recs[0], 0),
                    spec.fs, info.fs)
    spec = filter_for_kind(info.kind, info.fs, mains_hz)
    why = "the live sEMG chain" if info.kind == RAW_SEMG else "no filtering"
    return spec, f"{why} for {info.describe()}"


def _name(rec, i: int) -> str:
    m = rec.meta
    return str(m.get("source_file") or m.get("file") or m.get("session") or f"recording {i}")
