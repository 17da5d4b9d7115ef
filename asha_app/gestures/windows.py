"""Gesture windows: filtered EMG windows, each labelled with the gesture at its end.

Windows are cut exactly as for pose models (:mod:`asha_app.data.windows`: the
same causal filter chain, window and stride in milliseconds, one concatenated
array read through a strided view), so a :class:`GestureWindowSet` *is* a
:class:`~asha_app.data.windows.WindowSet` and every honest split of
:mod:`asha_app.data.splits` applies.  Differences:

* ``y`` holds the class index (float32 column) and ``classes`` the names; the
  label comes from a :class:`~asha_app.gestures.labels.GestureTimeline`, not from pose frames;
* only *clean* windows are kept for training and scoring: the whole window
  inside one gesture segment, past its settling time (``keep_unclean=True``
  keeps all, e.g. to score a live stream decision by decision);
* ``rec_prompts`` are the timeline's segments with a repetition number = the
  occurrence of that gesture in its recording (0, 1, ...), so
  ``make_split(ws, "repetitions", ...)`` works for marker-labelled data too.
"""

from __future__ import annotations

import logging
from dataclasses import dataclass, field

import numpy as np

from asha_app.core.errors import DatasetError
from asha_app.data.recording import Prompt, Recording
from asha_app.data.windows import WindowSet, WindowSpec, device_name, ws_name
from asha_app.dsp.filters import FilterSpec, filter_offline
from asha_app.gestures.labels import REST, GestureTimeline, gesture_timeline, order_classes

log = logging.getLogger(__name__)

#: fewest clean windows a class needs in a training set
MIN_WINDOWS = 8


@dataclass
class GestureWindowSet(WindowSet):
    """A :class:`WindowSet` whose target is a gesture class.

    Attributes
    ----------
    classes : list of str
        Class names; ``y[:, 0]`` indexes into it.
    timelines : list of GestureTimeline
        One per recording.
    unknown : dict
        Gestures outside ``classes`` whose windows were left out, with their window counts.
    """

    classes: list[str] = field(default_factory=list)
    timelines: list[GestureTimeline] = field(default_factory=list)
    unknown: dict[str, int] = field(default_factory=dict)

    @property
    def labels(self) -> np.ndarray:
        """Class index of every window (int64 (n_windows,))."""
        return self.y[:, 0].astype(np.int64)

    def counts(self, idx: np.ndarray | None = None) -> dict[str, int]:
        """Windows per class (over ``idx``, default all)."""
        lab = self.labels if idx is None else self.labels[np.asarray(idx)]
        c = np.bincount(lab, minlength=len(self.classes))
        return {name: int(c[i]) for i, name in enumerate(self.classes)}

    def summary(self) -> dict:
        """Counts and names for the checkpoint's data summary."""
        return {
            **super().summary(),
            "classes": list(self.classes),
            "per_class": self.counts(),
            "label_source": sorted({t.source for t in self.timelines}),
        }


def timeline_prompts(tl: GestureTimeline, t_end: float, t_start: float = 0.0) -> list[Prompt]:
    """The timeline's gesture segments as prompts, repetition = occurrence of that gesture (rest segments left out).

    A recording of rest only (e.g. the myo-readings-dataset's ``0.txt``) becomes five rest "repetitions" of equal
    length, so a repetition split puts some of it in every set.
    """
    seen: dict[str, int] = {}
    out = []
    ends = np.concatenate([tl.change_t[1:], [t_end]]) if len(tl.change_t) else np.zeros(0)
    for t0, t1, lab in zip(tl.change_t, ends, tl.labels, strict=True):
        if lab == REST:
            continue
        rep = seen.get(lab, 0)
        seen[lab] = rep + 1
        out.append(Prompt(lab, float(t0), float(max(t1, t0)), rep))
    if not out and t_end > t_start:  # a rest-only recording: 5 equal stretches, so every split gets some rest
        edges = np.linspace(t_start, t_end, 6)
        out = [Prompt(REST, float(a), float(b), k) for k, (a, b) in enumerate(zip(edges[:-1], edges[1:], strict=True))]
    return out


def build_gesture_windows(
    recordings: list[Recording] | Recording,
    spec: WindowSpec,
    filter_spec: FilterSpec | None = None,
    *,
    source: str = "auto",
    settle_s: float | None = None,
    classes: list[str] | None = None,
    keep_unclean: bool = False,
    min_windows: int = 0,
) -> GestureWindowSet:
    """Filter, window and label recordings with gesture classes.

    Parameters
    ----------
    recordings : Recording or list of Recording
        Same channel count and sampling rate.
    spec : WindowSpec
        Window length and stride (ms); ``label_lag_ms`` and ``max_label_gap_ms`` are not used.
    filter_spec : FilterSpec, optional
        Default: the live default chain at the recordings' rate.
    source, settle_s
        See :func:`asha_app.gestures.labels.gesture_timeline`.
    classes : list of str, optional
        The class list (a trained model's): windows of other gestures are left out and
        logged.  Default: every gesture found, rest first.
    keep_unclean : bool
        Keep windows that straddle a change or fall in a settling time.
    min_windows : int
        Fewest windows each class must have (0: no check); see :func:`check_class_counts`.

    Returns
    -------
    GestureWindowSet

    Raises
    ------
    DatasetError
        A recording without gesture labels (offering the pose task), bad EMG, mismatched
        recordings, no window at all, or a class with too few windows (named).
    """
    recs = [recordings] if isinstance(recordings, Recording) else list(recordings)
    if not recs:
        raise DatasetError("no recordings given")
    fs = float(recs[0].fs)
    n_ch = recs[0].n_channels
    for i, r in enumerate(recs):
        if r.emg.ndim != 2 or r.emg.shape[0] == 0:
            raise DatasetError(f"{ws_name(r, i)}: holds no EMG samples")
        if r.n_channels != n_ch:
            raise DatasetError(f"{ws_name(r, i)}: has {r.n_channels} EMG channels, the others have {n_ch}")
        if abs(r.fs - fs) > 1e-6:
            raise DatasetError(f"{ws_name(r, i)}: sampled at {r.fs:g} Hz, the others at {fs:g} Hz; resample first")
        if not np.isfinite(r.emg).all():
            raise DatasetError(f"{ws_name(r, i)}: EMG holds NaN/inf values; cut the broken stretch out before training")
    filter_spec = filter_spec or FilterSpec(fs=fs)
    if abs(filter_spec.fs - fs) > 1e-6:
        raise DatasetError(
            f"the filter is designed for {filter_spec.fs:g} Hz but the recordings are sampled at {fs:g} Hz"
        )
    timelines = [gesture_timeline(r, source, settle_s) for r in recs]
    if classes is None:
        classes = order_classes(g for tl in timelines for g in tl.gestures)
        if len(classes) < 2:
            raise DatasetError(
                f"the recordings' prompts name only {classes}; a gesture classifier needs at least two "
                "classes (rest counts as one). Record a protocol with gestures."
            )
    index = {c: i for i, c in enumerate(classes)}
    W, S = spec.window_samples(fs), spec.stride_samples(fs)
    emgs, ends, end_t, start_t, ys, rix, bounds, prompts = [], [], [], [], [], [], [], []
    unknown: dict[str, int] = {}
    offset = 0
    for i, (r, tl) in enumerate(zip(recs, timelines, strict=True)):
        xf = filter_offline(r.emg, filter_spec).astype(np.float32)
        n = len(xf)
        e = np.arange(W - 1, n, S)
        names, clean = tl.window_labels(r.emg_t[e - W + 1], r.emg_t[e])
        known = np.array([nm in index for nm in names], bool)
        for nm in names[~known]:
            unknown[nm] = unknown.get(nm, 0) + 1
        ok = known & (clean | keep_unclean)
        emgs.append(xf)
        ends.append(e[ok] + offset)
        end_t.append(r.emg_t[e[ok]])
        start_t.append(r.emg_t[e[ok] - W + 1])
        ys.append(np.array([index[nm] for nm in names[ok]], np.float32).reshape(-1, 1))
        rix.append(np.full(int(ok.sum()), i, np.int32))
        bounds.append((offset, offset + n))
        prompts.append(timeline_prompts(tl, float(r.emg_t[-1]), float(r.emg_t[0])))
        offset += n
    if unknown:
        log.warning("windows of gestures outside the class list left out: %s (classes: %s)", unknown, classes)
    ws = GestureWindowSet(
        emg=np.concatenate(emgs),
        ends=np.concatenate(ends).astype(np.int64),
        end_t=np.concatenate(end_t),
        start_t=np.concatenate(start_t),
        label_time=np.concatenate(end_t),
        y=np.concatenate(ys),
        rec_index=np.concatenate(rix),
        window=W,
        fs=fs,
        spec=spec,
        filter_spec=filter_spec,
        target_names=["gesture"],
        target_kind="gesture",
        channel_names=list(recs[0].channel_names) or [f"ch{i + 1}" for i in range(n_ch)],
        sessions=[str(r.meta.get("session", f"session{i}")) for i, r in enumerate(recs)],
        participants=[str(r.meta.get("participant", "unknown")) for r in recs],
        rec_bounds=bounds,
        rec_prompts=prompts,
        device=device_name(recs[0].meta),
        classes=list(classes),
        timelines=timelines,
        unknown=unknown,
    )
    if len(ws) == 0:
        raise DatasetError(
            f"no clean window of {spec.window_ms:g} ms lies inside one gesture (recordings too short, "
            "or every gesture shorter than the window plus its settling time)"
        )
    if min_windows:
        check_class_counts(ws, np.arange(len(ws)), min_windows)
    return ws


def check_class_counts(
    ws: GestureWindowSet, idx: np.ndarray, min_windows: int = MIN_WINDOWS, what: str = "training"
) -> None:
    """Raise :class:`DatasetError` naming every class with fewer than ``min_windows`` windows in ``idx``.

    The message gives each such class's count and the seconds of clean data it stands for, and what to do.
    """
    counts = ws.counts(idx)
    few = {c: n for c, n in counts.items() if n < min_windows}
    if few:
        stride_s = ws.spec.stride_ms / 1000.0
        parts = [f"'{c}' has {n} window(s) (~{n * stride_s:.1f} s)" for c, n in few.items()]
        raise DatasetError(
            f"too little {what} data for some gestures: {'; '.join(parts)}; each needs at least {min_windows}. "
            "Record more repetitions of them, use a shorter window or stride, or leave them out of the gesture set."
        )


def window_repetitions(ws: WindowSet) -> np.ndarray:
    """Repetition of every window: that of the last prompt starting at or before its label time (-1 before any).

    The rest after a movement belongs to that movement's repetition, as in
    :func:`asha_app.data.splits.split_by_repetitions`.

    Returns
    -------
    int64 array (n_windows,)
    """
    out = np.full(len(ws), -1, np.int64)
    for r, prompts in enumerate(ws.rec_prompts):
        ps = sorted([p for p in prompts if p.repetition >= 0], key=lambda p: p.start)
        sel = np.flatnonzero(ws.rec_index == r)
        if not ps or not len(sel):
            continue
        starts = np.array([p.start for p in ps])
        k = np.searchsorted(starts, ws.label_time[sel], side="right") - 1
        reps = np.array([p.repetition for p in ps])
        out[sel] = np.where(k >= 0, reps[np.clip(k, 0, None)], -1)
    return out
