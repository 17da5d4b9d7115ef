"""Training windows cut from :class:`~asha_app.data.recording.Recording` objects: filtering, labels, splits, normalisation.

The pipeline, in order:

1. **Filter** each recording's EMG with the causal chain of
   :mod:`asha_app.dsp.filters` (:func:`filter_offline` with a
   :class:`FilterSpec`), exactly as live acquisition does.  For data that is
   already processed (e.g. the ~50 Hz MiniVIE output of the paired Myo set) the
   spec may disable every stage (``FilterSpec(fs, band=None, notch_hz=None)``).
2. **Cut windows** whose length and stride are given in milliseconds and
   converted with the recording's sampling rate.  Window ``i`` covers samples
   ``end_i - W + 1 .. end_i``; windows are never copied up front but read as
   rows of a strided view (:func:`numpy.lib.stride_tricks.sliding_window_view`)
   of one concatenated ``(n_samples, n_channels)`` array.
3. **Label** each window with the label frames linearly interpolated to the
   window's END time plus an optional lag (``label_lag_ms``; positive values
   ask the model to predict the pose that far in the future).  The model sees
   EMG up to ``t`` and predicts the pose at ``t``: causal.  A window is kept
   only when its label time lies between two *valid* label frames no more
   than ``max_label_gap_ms`` apart (or exactly on a valid frame).
4. **Split** by contiguous time blocks, prompt repetitions, sessions or
   participants -- never randomly over overlapping windows.  Around every
   boundary between two different sets a gap of at least ``gap_ms`` (default
   one window) separates the windows of the two sets; windows that straddle a
   boundary or fall in a gap are dropped.
5. **Normalise** with per-channel mean/std of the filtered EMG and per-target
   mean/std, computed on the TRAINING split only (:class:`Normalizer`), stored
   in the checkpoint and applied unchanged at inference.
"""

from __future__ import annotations

import logging
from dataclasses import dataclass, field

import numpy as np
import torch

from asha_app.core.errors import AshaError
from asha_app.data.recording import Recording
from asha_app.dsp.filters import FilterSpec, filter_offline
from asha_app.pose.contract import AUTO_ORDER

log = logging.getLogger(__name__)

SET_NAMES = ("train", "val", "test")
SET_CODES = {name: i for i, name in enumerate(SET_NAMES)}
DROPPED = -1

MEDIAPIPE_JOINTS = [
    "wrist",
    "thumb_cmc", "thumb_mcp", "thumb_ip", "thumb_tip",
    "index_mcp", "index_pip", "index_dip", "index_tip",
    "middle_mcp", "middle_pip", "middle_dip", "middle_tip",
    "ring_mcp", "ring_pip", "ring_dip", "ring_tip",
    "pinky_mcp", "pinky_pip", "pinky_dip", "pinky_tip",
]


class DatasetError(AshaError):
    """The recordings cannot make a training/evaluation set (no valid labels, NaNs, empty split ...)."""


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


def select_targets(rec: Recording, kind: str = "auto") -> tuple[np.ndarray, list[str], str]:
    """The target matrix of a recording.

    Parameters
    ----------
    rec : Recording
    kind : {"auto", "joint_angles", "targets", "joints_mm"}
        ``joint_angles``: hand-model joint angles (deg), the canonical pose of
        :mod:`asha_app.pose.contract`; ``targets``: the target vector as given
        (imported data, e.g. 5 finger flexions or data-glove channels);
        ``joints_mm``: the 21 hand-frame joints flattened to 63 values (mm).
        ``auto`` picks the first kind present with at least one finite value, in
        the order joint_angles, targets, joints_mm (:data:`asha_app.pose.contract.AUTO_ORDER`),
        so an emg2pose import whose joints are all NaN falls through to its angles.

    Returns
    -------
    y : float32 array (n_frames, n_targets)
    names : list of str
    kind : str
        The kind used.

    Raises
    ------
    DatasetError
        If the recording has no target of that kind (or, for ``auto``, no finite label at all).
    """
    order = list(AUTO_ORDER) if kind == "auto" else [kind]
    for k in order:
        if k == "joints_mm" and rec.joints_mm is not None:
            y = np.asarray(rec.joints_mm, dtype=np.float32).reshape(len(rec.joints_mm), -1)
            names = [f"{j}_{a}_mm" for j in MEDIAPIPE_JOINTS for a in "xyz"]
        elif k == "joint_angles" and rec.joint_angles is not None:
            y = np.asarray(rec.joint_angles, dtype=np.float32)
            names = list(rec.angle_names) or [f"angle{i}" for i in range(y.shape[1])]
        elif k == "targets" and rec.targets is not None:
            y = np.asarray(rec.targets, dtype=np.float32)
            names = list(rec.target_names) or [f"target{i}" for i in range(y.shape[1])]
        else:
            continue
        if kind == "auto" and (y.size == 0 or not np.isfinite(y).any()):
            continue  # e.g. emg2pose joints that were never computed
        return y, names, k
    src = rec.meta.get("source_file", rec.meta.get("session", "recording"))
    if kind == "auto":
        raise DatasetError(f"{src}: has no pose labels (no finite joint angles, targets or joints); record with the "
                           "camera on so every frame gets a hand pose")
    raise DatasetError(f"{src}: has no labels of kind {kind!r}; record with the camera on or choose another target kind")


def labels_at(label_t: np.ndarray, y: np.ndarray, valid: np.ndarray, tq: np.ndarray,
              max_gap_s: float) -> tuple[np.ndarray, np.ndarray]:
    """Label values linearly interpolated at query times, and which queries have a valid label.

    Parameters
    ----------
    label_t : float array (n_frames,)
        Label frame times, seconds, non-decreasing.
    y : array (n_frames, n_targets)
    valid : bool array (n_frames,)
    tq : float array (n,)
        Query times, seconds.
    max_gap_s : float
        Largest spacing of the bracketing frames.

    Returns
    -------
    values : float32 array (n, n_targets)
        Interpolated labels (0 where not ok).
    ok : bool array (n,)
        True where both bracketing frames are valid and at most ``max_gap_s`` apart,
        or the query falls exactly on a valid frame.
    """
    n_f = len(label_t)
    out = np.zeros((len(tq), y.shape[1]), dtype=np.float32)
    if n_f == 0:
        return out, np.zeros(len(tq), dtype=bool)
    j0 = np.searchsorted(label_t, tq, side="right") - 1  # frame at or before
    inside = j0 >= 0
    j0c = np.clip(j0, 0, n_f - 1)
    exact = inside & (label_t[j0c] == tq) & valid[j0c]
    j1c = np.clip(j0 + 1, 0, n_f - 1)
    has_next = inside & (j0 + 1 < n_f)
    gap = label_t[j1c] - label_t[j0c]
    ok_interp = has_next & valid[j0c] & valid[j1c] & (gap <= max_gap_s) & (gap > 0)
    ok = exact | ok_interp
    w = np.where(ok_interp, (tq - label_t[j0c]) / np.where(gap > 0, gap, 1.0), 0.0)
    out[:] = y[j0c] * (1.0 - w[:, None]) + y[j1c] * w[:, None]
    out[~ok] = 0.0
    return out.astype(np.float32), ok


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


def ws_name(rec: Recording, i: int = 0) -> str:
    """A name for a recording in messages (source file, session or its index)."""
    return str(rec.meta.get("source_file", rec.meta.get("session", f"recording {i}")))


def check_recording(rec: Recording, fs: float | None = None, n_channels: int | None = None) -> None:
    """Raise :class:`DatasetError` naming what is wrong with a recording, before any work starts.

    Checks: non-empty EMG, finite EMG, matching channel count and sampling
    rate, monotonic times, at least one valid label frame.
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
            f"{src}: EMG holds {int(bad.sum())} NaN/inf values (first at sample {rows[0]}, t={rec.emg_t[rows[0]]:.3f} s); "
            "cut the broken stretch out or re-record before training")
    if n_channels is not None and rec.n_channels != n_channels:
        raise DatasetError(f"{src}: has {rec.n_channels} EMG channels, the others have {n_channels}")
    if fs is not None and abs(rec.fs - fs) > 1e-6:
        raise DatasetError(f"{src}: sampled at {rec.fs} Hz, the others at {fs} Hz; resample first")
    if len(rec.valid) == 0 or not np.asarray(rec.valid).any():
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
        Causal filter chain; default: the live default chain at the recording's rate.
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
        filter_spec = FilterSpec(fs=fs)
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
        y_all = np.where(valid[:, None], y_all, 0.0).astype(np.float32)
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
        target_names=list(names), target_kind=str(kind),
        channel_names=list(recs[0].channel_names) or [f"ch{i + 1}" for i in range(n_ch)],
        sessions=[str(r.meta.get("session", f"session{i}")) for i, r in enumerate(recs)],
        participants=[str(r.meta.get("participant", "unknown")) for r in recs],
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


# ----------------------------------------------------------------------------------------------------------------- splits


@dataclass
class Split:
    """Assignment of every window to train / val / test or dropped.

    Attributes
    ----------
    assign : int8 array (n_windows,)
        0 train, 1 val, 2 test, -1 dropped (straddles a boundary or lies in a gap).
    kind : str
        ``"time_blocks"``, ``"repetitions"``, ``"sessions"`` or ``"participants"``.
    info : dict
        Parameters (blocks, gap, assignment) for the checkpoint.
    """

    assign: np.ndarray
    kind: str
    info: dict = field(default_factory=dict)

    def indices(self, name: str) -> np.ndarray:
        """Window indices of one set."""
        return np.flatnonzero(self.assign == SET_CODES[name])

    def counts(self) -> dict:
        """Number of windows per set and dropped."""
        c = {n: int((self.assign == SET_CODES[n]).sum()) for n in SET_NAMES}
        c["dropped"] = int((self.assign == DROPPED).sum())
        return c

    def check(self, required: tuple[str, ...] = ("train", "val")) -> None:
        """Raise :class:`DatasetError` if a required set is empty."""
        c = self.counts()
        empty = [n for n in required if c[n] == 0]
        if empty:
            raise DatasetError(
                f"the {self.kind} split leaves the {', '.join(empty)} set empty (counts {c}); "
                "record more, use more blocks, or assign blocks/sessions differently")

    def to_dict(self) -> dict:
        """Summary for the checkpoint."""
        return {"kind": self.kind, "counts": self.counts(), **self.info}


def _apply_intervals(ws: WindowSet, rec: int, change_t: np.ndarray, set_at_end: np.ndarray, gap_s: float,
                     assign: np.ndarray) -> None:
    """Assign windows of recording ``rec``: ``set_at_end`` per window, dropped near a set change."""
    sel = np.flatnonzero(ws.rec_index == rec)
    lo = np.minimum(ws.start_t[sel], ws.label_time[sel])
    hi = np.maximum(ws.end_t[sel], ws.label_time[sel])
    codes = set_at_end.astype(np.int8)
    if len(change_t):
        # a change point inside (lo - gap/2, hi + gap/2) drops the window
        a = np.searchsorted(change_t, lo - gap_s / 2.0, side="right")
        b = np.searchsorted(change_t, hi + gap_s / 2.0, side="left")
        codes = np.where(b > a, DROPPED, codes).astype(np.int8)
    assign[sel] = codes


def _codes(names: list[str]) -> np.ndarray:
    bad = [n for n in names if n not in SET_CODES]
    if bad:
        raise DatasetError(f"unknown set name(s) {bad}; use train, val or test")
    return np.array([SET_CODES[n] for n in names], dtype=np.int8)


def default_block_pattern(n_blocks: int) -> list[str]:
    """Train/val/test per block, interleaved so every set samples the whole session.

    Every 5th block (index 4, 9, ...) is test, every 5th offset by 2 (2, 7, ...) is validation, the rest train
    (60/20/20).  Fewer than 3 blocks: ``train, val`` / ``train``.
    """
    if n_blocks < 3:
        return ["train", "val"][:n_blocks]
    out = []
    for k in range(n_blocks):
        out.append("test" if k % 5 == 4 else "val" if k % 5 == 2 else "train")
    if "test" not in out:
        out[-1] = "test"
    return out


def split_time_blocks(ws: WindowSet, n_blocks: int = 10, pattern: list[str] | None = None,
                      gap_ms: float | None = None) -> Split:
    """Contiguous time blocks per recording.

    Each recording's span is cut into ``n_blocks`` equal time blocks; block
    ``k`` goes to ``pattern[k]``.  A window belongs to the block holding its
    label time, and is dropped when it comes within ``gap_ms / 2`` of a
    boundary between blocks of different sets, so windows of different sets
    are at least ``gap_ms`` apart (default: one window length).

    Raises
    ------
    DatasetError
        Bad pattern.
    """
    pattern = pattern or default_block_pattern(n_blocks)
    if len(pattern) != n_blocks:
        raise DatasetError(f"the block pattern has {len(pattern)} entries for {n_blocks} blocks")
    codes = _codes(pattern)
    gap_s = (ws.spec.window_ms if gap_ms is None else gap_ms) / 1000.0
    if gap_s < ws.spec.window_ms / 1000.0 - 1e-9:
        raise DatasetError(f"the gap ({gap_s * 1000:g} ms) must be at least one window ({ws.spec.window_ms:g} ms)")
    assign = np.full(len(ws), DROPPED, dtype=np.int8)
    for r in range(len(ws.rec_bounds)):
        sel = ws.rec_index == r
        if not sel.any():
            continue
        t0 = ws.start_t[sel].min()
        t1 = ws.label_time[sel].max()
        edges = np.linspace(t0, t1, n_blocks + 1)
        blk = np.clip(np.searchsorted(edges, ws.label_time[sel], side="right") - 1, 0, n_blocks - 1)
        change = np.array([edges[k] for k in range(1, n_blocks) if codes[k] != codes[k - 1]])
        _apply_intervals(ws, r, change, codes[blk], gap_s, assign)
    return Split(assign, "time_blocks", {"n_blocks": n_blocks, "pattern": list(pattern), "gap_ms": gap_s * 1000})


def split_by_repetitions(ws: WindowSet, assign_rep: dict[int, str], gap_ms: float | None = None) -> Split:
    """Split by prompt repetition.

    Time from a prompt's start up to the next prompt's start belongs to that
    prompt's repetition (the rest after a movement stays with it); time before
    the first prompt to the first.  Repetitions missing from ``assign_rep`` are
    dropped.  Gaps as in :func:`split_time_blocks`.

    Raises
    ------
    DatasetError
        If a recording has no prompts with a repetition number.
    """
    gap_s = (ws.spec.window_ms if gap_ms is None else gap_ms) / 1000.0
    assign = np.full(len(ws), DROPPED, dtype=np.int8)
    for r, prompts in enumerate(ws.rec_prompts):
        ps = sorted([p for p in prompts if p.repetition >= 0], key=lambda p: p.start)
        sel = ws.rec_index == r
        if not sel.any():
            continue
        if not ps:
            raise DatasetError(f"{ws.sessions[r]}: has no prompts with repetition numbers; split by time blocks instead")
        starts = np.array([p.start for p in ps])
        set_of_p = np.array([SET_CODES[assign_rep[p.repetition]] if p.repetition in assign_rep else DROPPED
                             for p in ps], dtype=np.int8)
        k = np.clip(np.searchsorted(starts, ws.label_time[sel], side="right") - 1, 0, len(ps) - 1)
        change = np.array([starts[j] for j in range(1, len(ps)) if set_of_p[j] != set_of_p[j - 1]])
        _apply_intervals(ws, r, change, set_of_p[k], gap_s, assign)
    return Split(assign, "repetitions", {"assign": {str(k): v for k, v in assign_rep.items()}, "gap_ms": gap_s * 1000})


def _split_by_group(ws: WindowSet, groups: list[str], assign_group: dict[str, str], kind: str) -> Split:
    unknown = sorted(set(assign_group) - set(groups))
    if unknown:
        raise DatasetError(f"{kind} {unknown} are not in the data (have {sorted(set(groups))})")
    per_rec = np.array([SET_CODES[assign_group[g]] if g in assign_group else DROPPED for g in groups], dtype=np.int8)
    return Split(per_rec[ws.rec_index], kind, {"assign": dict(assign_group)})


def split_by_sessions(ws: WindowSet, assign_session: dict[str, str]) -> Split:
    """Whole sessions to sets (sessions not named are dropped)."""
    return _split_by_group(ws, ws.sessions, assign_session, "sessions")


def split_by_participants(ws: WindowSet, assign_participant: dict[str, str]) -> Split:
    """Whole participants to sets: held-out-user evaluation (participants not named are dropped)."""
    return _split_by_group(ws, ws.participants, assign_participant, "participants")


# ---------------------------------------------------------------------------------------------------------- normalising


@dataclass
class Normalizer:
    """Per-channel EMG and per-target statistics from the TRAINING split.

    Attributes
    ----------
    emg_mean, emg_std : float32 arrays (n_channels,)
        Of the filtered EMG samples covered by training windows.
    target_mean, target_std : float32 arrays (n_targets,)
        Of the training labels.
    """

    emg_mean: np.ndarray
    emg_std: np.ndarray
    target_mean: np.ndarray
    target_std: np.ndarray

    @classmethod
    def fit(cls, ws: WindowSet, train_idx: np.ndarray) -> Normalizer:
        """Statistics over the training windows only.

        Raises
        ------
        DatasetError
            If ``train_idx`` is empty.
        """
        train_idx = np.asarray(train_idx)
        if len(train_idx) == 0:
            raise DatasetError("cannot compute normalisation statistics: the training set is empty")
        cover = np.zeros(len(ws.emg) + 1, dtype=np.int32)
        ends = ws.ends[train_idx]
        np.add.at(cover, ends - ws.window + 1, 1)
        np.add.at(cover, ends + 1, -1)
        mask = np.cumsum(cover[:-1]) > 0
        xs = ws.emg[mask].astype(np.float64)
        ys = ws.y[train_idx].astype(np.float64)

        def _std(a):
            s = a.std(axis=0)
            return np.where(s > 1e-8, s, 1.0)

        return cls(xs.mean(0).astype(np.float32), _std(xs).astype(np.float32), ys.mean(0).astype(np.float32),
                   _std(ys).astype(np.float32))

    def emg(self, x: np.ndarray) -> np.ndarray:
        """Normalise EMG windows shaped (..., n_channels, n_samples)."""
        return ((x - self.emg_mean[:, None]) / self.emg_std[:, None]).astype(np.float32)

    def emg_rows(self, x: np.ndarray) -> np.ndarray:
        """Normalise EMG samples shaped (n_samples, n_channels)."""
        return ((x - self.emg_mean) / self.emg_std).astype(np.float32)

    def y(self, y: np.ndarray) -> np.ndarray:
        """Normalise targets (..., n_targets)."""
        return ((y - self.target_mean) / self.target_std).astype(np.float32)

    def y_inverse(self, yn: np.ndarray) -> np.ndarray:
        """Targets in their units from normalised values."""
        return (yn * self.target_std + self.target_mean).astype(np.float32)

    def to_dict(self) -> dict:
        """Plain lists for checkpoints."""
        return {k: getattr(self, k).tolist() for k in ("emg_mean", "emg_std", "target_mean", "target_std")}

    @classmethod
    def from_dict(cls, d: dict) -> Normalizer:
        """Inverse of :meth:`to_dict`."""
        return cls(**{k: np.asarray(d[k], dtype=np.float32) for k in ("emg_mean", "emg_std", "target_mean", "target_std")})


class WindowDataset(torch.utils.data.Dataset):
    """Torch view of some windows, normalised, for DataLoader / DistributedSampler.

    Items are ``(x, y)`` with ``x`` float32 (n_channels, length) and ``y``
    float32 (n_targets,), both normalised.  :meth:`batch` gathers many items at
    once with one fancy-index (the fast path the training loop uses).

    Parameters
    ----------
    ws : WindowSet
    indices : int array
        Window indices of this set.
    norm : Normalizer
    length : int, optional
        Samples per item (the model's history); default the window length.
    """

    def __init__(self, ws: WindowSet, indices: np.ndarray, norm: Normalizer, length: int | None = None) -> None:
        self.ws = ws
        self.indices = np.asarray(indices, dtype=np.int64)
        self.norm = norm
        self.length = ws.window if length is None else int(length)

    def __len__(self) -> int:
        return int(len(self.indices))

    def __getitem__(self, i: int):
        x, y = self.batch(np.array([i]))
        return x[0], y[0]

    def batch(self, positions: np.ndarray) -> tuple[torch.Tensor, torch.Tensor]:
        """Items at ``positions`` (positions into this dataset) as tensors (B, C, L), (B, T)."""
        idx = self.indices[np.asarray(positions)]
        x = self.norm.emg(self.ws.x(idx, self.length))
        y = self.norm.y(self.ws.y[idx])
        return torch.from_numpy(np.ascontiguousarray(x)), torch.from_numpy(y)
