"""Training windows cut from :class:`~asha_app.data.recording.Recording` objects: filtering, windowing, labels.

The pipeline, in order (each step in its own module):

1. **Filter** each recording's EMG with the causal chain of
   :mod:`asha_app.dsp.filters` (:func:`filter_offline` with a
   :class:`FilterSpec`), exactly as live acquisition does.  For data that is
   already processed (e.g. the ~50 Hz MiniVIE output of the paired Myo set) the
   spec may disable every stage (``FilterSpec(fs, band=None, notch_hz=None)``).
2. **Cut windows** (here) whose length and stride are given in milliseconds and
   converted with the recording's sampling rate.  Window ``i`` covers samples
   ``end_i - W + 1 .. end_i``; windows are never copied up front but read as
   rows of a strided view (:func:`numpy.lib.stride_tricks.sliding_window_view`)
   of one concatenated ``(n_samples, n_channels)`` array.
3. **Label** each window (here, with :func:`asha_app.data.labels.labels_at`) with the
   label frames linearly interpolated to the window's END time plus an optional lag
   (``label_lag_ms``; positive values ask the model to predict the pose that far in
   the future).  The model sees EMG up to ``t`` and predicts the pose at ``t``:
   causal.  A window is kept only when its label time lies between two *valid*
   label frames no more than ``max_label_gap_ms`` apart (or on a valid frame).
4. **Split** by contiguous time blocks, prompt repetitions, sessions or
   participants (:mod:`asha_app.data.splits`) -- never randomly over overlapping windows.
5. **Normalise** with statistics of the TRAINING split only
   (:mod:`asha_app.data.normalisation`); the torch view of the windows is
   :class:`asha_app.models.dataset.WindowDataset`.
"""

from __future__ import annotations

import logging
from dataclasses import dataclass, field

import numpy as np

from asha_app.core.errors import DatasetError
from asha_app.data.labels import labels_at, select_targets
from asha_app.data.recording import Recording
from asha_app.dsp.filters import FilterSpec, filter_offline

log = logging.getLogger(__name__)


@dataclass(frozen=True)
class WindowSpec:
    """How windows are cut.

    Attributes
    ----------
    window_ms : float
        Window length in milliseconds (converted with each recording's rate).
    stride_ms : float
        Step between window ends in milliseconds.
    label_lag_ms : float
        The label is taken at ``window end + label_lag_ms`` (0: pose at the
        last EMG sample; positive: predict ahead; negative: the pose lags).
    max_label_gap_ms : float
        Largest spacing of the two label frames a label is interpolated between.
    """

    window_ms: float
    stride_ms: float
    label_lag_ms: float = 0.0
    max_label_gap_ms: float = 250.0

    def window_samples(self, fs: float) -> int:
        """Window length in samples at ``fs`` Hz (at least 1)."""
        return max(1, int(round(self.window_ms * fs / 1000.0)))

    def stride_samples(self, fs: float) -> int:
        """Stride in samples at ``fs`` Hz (at least 1)."""
        return max(1, int(round(self.stride_ms * fs / 1000.0)))

    def to_dict(self) -> dict:
        """Plain dict for checkpoints."""
        return {"window_ms": self.window_ms, "stride_ms": self.stride_ms, "label_lag_ms": self.label_lag_ms,
                "max_label_gap_ms": self.max_label_gap_ms}

    @classmethod
    def from_dict(cls, d: dict) -> WindowSpec:
        """Inverse of :meth:`to_dict`."""
        return cls(**{k: float(v) for k, v in d.items()})


@dataclass
class WindowSet:
    """Windows over one or more recordings, cut lazily from one filtered array.

    Attributes
    ----------
    emg : float32 array (n_samples_total, n_channels)
        Filtered (not normalised) EMG of all recordings, concatenated.
    ends : int64 array (n_windows,)
        Index into ``emg`` of each window's LAST sample.
    end_t, label_time : float64 arrays (n_windows,)
        Session seconds of the last sample and of the label (``end_t + lag``).
    start_t : float64 array (n_windows,)
        Session seconds of the window's first sample.
    y : float32 array (n_windows, n_targets)
        Labels (not normalised).
    rec_index : int32 array (n_windows,)
        Which recording each window comes from.
    window : int
        Window length in samples.
    """

    emg: np.ndarray
    ends: np.ndarray
    end_t: np.ndarray
    start_t: np.ndarray
    label_time: np.ndarray
    y: np.ndarray
    rec_index: np.ndarray
    window: int
    fs: float
    spec: WindowSpec
    filter_spec: FilterSpec
    target_names: list[str]
    target_kind: str
    channel_names: list[str]
    sessions: list[str]
    participants: list[str]
    rec_bounds: list[tuple[int, int]]
    rec_prompts: list[list] = field(default_factory=list)
    device: str = ""
    hand_model_meta: dict | None = None

    def __len__(self) -> int:
        return int(len(self.ends))

    @property
    def n_channels(self) -> int:
        """Number of EMG channels."""
        return int(self.emg.shape[1])

    def x(self, idx: np.ndarray, length: int | None = None) -> np.ndarray:
        """EMG of the windows ``idx``, channels first.

        Parameters
        ----------
        idx : int array (n,)
            Window indices.
        length : int, optional
            Return only the last ``length`` samples of each window (models with a shorter history).

        Returns
        -------
        float32 array (n, n_channels, length)
            A copy (fancy indexing of the strided view).
        """
        length = self.window if length is None else int(length)
        if length > self.window:
            raise DatasetError(f"a model needs {length} samples of history but the windows hold {self.window}")
        view = np.lib.stride_tricks.sliding_window_view(self.emg, length, axis=0)  # (N-L+1, C, L)
        return view[self.ends[np.asarray(idx)] - length + 1]

    def summary(self) -> dict:
        """Counts and names for the checkpoint's data summary."""
        return {"n_windows": len(self), "window_samples": self.window, "fs": self.fs, "sessions": list(self.sessions),
                "participants": list(self.participants), "target_kind": self.target_kind,
                "window": self.spec.to_dict(), "filter": self.filter_spec.to_dict()}


def device_name(meta: dict) -> str:
    """The EMG device's name from a recording's meta (a string, or a dict with ``name``/``board_id``)."""
    d = meta.get("device", "")
    if isinstance(d, dict):
        return str(d.get("name") or d.get("board_name") or d.get("board_id") or "")
    return str(d or "")


def participant_key(meta: dict) -> str:
    """A recording's participant as a short key: the pseudonym (or id/name) of a participant record, else the
    string; ``"unknown"`` when none is recorded."""
    p = meta.get("participant")
    if isinstance(p, dict):
        p = p.get("pseudonym") or p.get("id") or p.get("name")
    return str(p) if p not in (None, "") else "unknown"


def ws_name(rec: Recording, i: int = 0) -> str:
    """A name for a recording in messages (source file, session or its index)."""
    return str(rec.meta.get("source_file", rec.meta.get("session", f"recording {i}")))


def check_recording(rec: Recording, fs: float | None = None, n_channels: int | None = None, *,
                    need_labels: bool = True) -> None:
    """Raise :class:`DatasetError` naming what is wrong with a recording, before any work starts.

    Checks: non-empty EMG, finite EMG, matching channel count and sampling
    rate, monotonic times, and (``need_labels``, the pose task) at least one valid label frame.
    The gesture task passes ``need_labels=False``: its labels are the prompts or markers.
    """
    src = rec.meta.get("source_file", rec.meta.get("session", "recording"))
    if rec.emg.ndim != 2 or rec.emg.shape[0] == 0:
        raise DatasetError(f"{src}: holds no EMG samples")
    if len(rec.emg_t) != rec.emg.shape[0]:
        raise DatasetError(f"{src}: {rec.emg.shape[0]} EMG samples but {len(rec.emg_t)} time stamps")
    bad = ~np.isfinite(rec.emg)
    if bad.any():
        rows = np.flatnonzero(bad.any(axis=1))
        raise DatasetError(
            f"{src}: EMG holds {int(bad.sum())} NaN/inf values "
            f"(first at sample {rows[0]}, t={rec.emg_t[rows[0]]:.3f} s); "
            "cut the broken stretch out or re-record before training")
    if n_channels is not None and rec.n_channels != n_channels:
        raise DatasetError(f"{src}: has {rec.n_channels} EMG channels, the others have {n_channels}")
    if fs is not None and abs(rec.fs - fs) > 1e-6:
        raise DatasetError(f"{src}: sampled at {rec.fs} Hz, the others at {fs} Hz; resample first")
    if need_labels and (len(rec.valid) == 0 or not np.asarray(rec.valid).any()):
        raise DatasetError(f"{src}: has no valid label frames (no pose was fitted); it cannot be used for training")


def build_windows(recordings: list[Recording] | Recording, spec: WindowSpec, filter_spec: FilterSpec | None = None,
                  target_kind: str = "auto") -> WindowSet:
    """Filter, window and label recordings.

    Parameters
    ----------
    recordings : Recording or list of Recording
        Same channel count and sampling rate.
    spec : WindowSpec
    filter_spec : FilterSpec, optional
        Causal filter chain; default: the one the recordings' signal kind asks for
        (:func:`asha_app.data.signal_kind.auto_filter_spec`: the live chain for raw sEMG,
        none for an envelope or normalised values).
    target_kind : str
        See :func:`select_targets`.

    Returns
    -------
    WindowSet

    Raises
    ------
    DatasetError
        NaNs, no valid labels, mismatched recordings, filter rate mismatch or no window at all.
    """
    recs = [recordings] if isinstance(recordings, Recording) else list(recordings)
    if not recs:
        raise DatasetError("no recordings given")
    fs = float(recs[0].fs)
    n_ch = recs[0].n_channels
    for r in recs:
        check_recording(r, fs, n_ch)
    if filter_spec is None:
        from asha_app.data.signal_kind import auto_filter_spec  # noqa: PLC0415

        filter_spec, why = auto_filter_spec(recs)
        log.info("filter: %s", why)
    if abs(filter_spec.fs - fs) > 1e-6:
        raise DatasetError(f"the filter is designed for {filter_spec.fs} Hz but the recordings are sampled at {fs} Hz")
    W = spec.window_samples(fs)
    S = spec.stride_samples(fs)
    lag = spec.label_lag_ms / 1000.0
    emgs, ends, end_t, start_t, lab_t, ys, rix, bounds = [], [], [], [], [], [], [], []
    names = kind = None
    offset = 0
    for i, r in enumerate(recs):
        y_all, nm, kd = select_targets(r, target_kind)
        if names is None:
            names, kind = nm, kd
        elif nm != names:
            raise DatasetError(f"recording {i} has targets {nm[:5]}..., the first has {names[:5]}...")
        valid = np.asarray(r.valid, bool) & np.isfinite(y_all).all(axis=1)  # invalid frames may hold NaN
        if not valid.any():
            raise DatasetError(f"{ws_name(r, i)}: has no valid label frames with finite {kd} values")
        xf = filter_offline(r.emg, filter_spec).astype(np.float32)
        n = len(xf)
        e = np.arange(W - 1, n, S)
        tq = r.emg_t[e] + lag
        vals, ok = labels_at(np.asarray(r.label_t, float), y_all, valid, tq,
                             spec.max_label_gap_ms / 1000.0)
        emgs.append(xf)
        ends.append(e[ok] + offset)
        end_t.append(r.emg_t[e[ok]])
        start_t.append(r.emg_t[e[ok] - W + 1])
        lab_t.append(tq[ok])
        ys.append(vals[ok])
        rix.append(np.full(int(ok.sum()), i, dtype=np.int32))
        bounds.append((offset, offset + n))
        offset += n
    ws = WindowSet(
        emg=np.concatenate(emgs), ends=np.concatenate(ends).astype(np.int64), end_t=np.concatenate(end_t),
        start_t=np.concatenate(start_t), label_time=np.concatenate(lab_t), y=np.concatenate(ys),
        rec_index=np.concatenate(rix), window=W, fs=fs, spec=spec, filter_spec=filter_spec,
        target_names=list(names or []), target_kind=str(kind),
        channel_names=list(recs[0].channel_names) or [f"ch{i + 1}" for i in range(n_ch)],
        sessions=[str(r.meta.get("session", f"session{i}")) for i, r in enumerate(recs)],
        participants=[participant_key(r.meta) for r in recs],
        rec_bounds=bounds, rec_prompts=[list(r.prompts) for r in recs],
        device=device_name(recs[0].meta),
        hand_model_meta=recs[0].meta.get("hand_model") if isinstance(recs[0].meta.get("hand_model"), dict) else None,
    )
    if len(ws) == 0:
        raise DatasetError(
            f"no window of {spec.window_ms:g} ms has a valid label (recordings too short or labels missing)")
    log.info("windows: %d of %d samples (%.0f ms, stride %.0f ms) from %d recording(s)", len(ws), W,
             spec.window_ms, spec.stride_ms, len(recs))
    return ws
