"""Gesture labels from what a recording already holds: protocol prompts, gesture markers, movement labels.

A gesture label is piecewise constant in time (a :class:`GestureTimeline`): each
prompt of a recording protocol (``"fist"`` from 12.0 s to 16.0 s), each NinaPro
movement repetition (the importer turns ``restimulus`` runs into prompts named
``"movement <k>"``) or each stretch between two gesture markers (the demo marks
every change of its gesture with a code whose name the session stores) is one
segment, and **rest is a class**: time outside every prompt is ``"rest"``.

Sources
-------
``prompts``
    :attr:`Recording.prompts` with a duration (``end > start``); free markers
    (``end == start``) are not gestures.
``markers``
    Per-sample marker codes (``extras["emg/marker"]``) with names in the
    session's ``meta["device"]["marker_names"]`` (or given); a named code starts
    a segment that lasts until the next named code.  Codes without a name (the
    user's key-press marker 100) are ignored.
``auto``
    ``prompts`` when the recording has prompts with a duration, else ``markers``.

Transitions
-----------
People react to a prompt a few hundred milliseconds late and let go late, so the
first ``settle_s`` seconds of every segment are left out of training and scoring
(default :data:`SETTLE_S`; 0 for NinaPro's ``restimulus``, which was relabelled
to the actual movement).  See :func:`default_settle_s`.
"""

from __future__ import annotations

import re
from collections.abc import Iterable
from dataclasses import dataclass

import numpy as np

from asha_app.core.errors import DatasetError
from asha_app.data.recording import Recording

#: the rest class's name
REST = "rest"
#: names read as rest (lower case)
REST_SYNONYMS = frozenset({"rest", "relax", "relaxed", "hibernation", "neutral", "rest pose", "idle"})
#: seconds left out at the start of each segment for prompted gestures (reaction time)
SETTLE_S = 0.5
SOURCES = ("auto", "prompts", "markers")


def canonical_gesture(name: str) -> str:
    """A gesture's name as classes are keyed: lower case, single spaces, rest synonyms -> ``"rest"``.

    Examples: ``"Fist "`` -> ``"fist"``; ``"Hibernation"`` -> ``"rest"``; ``"wrist_flexion"`` -> ``"wrist flexion"``.
    """
    s = re.sub(r"[\s_]+", " ", str(name)).strip().lower()
    return REST if s in REST_SYNONYMS else s


def _natural_key(name: str):
    return [int(t) if t.isdigit() else t for t in re.split(r"(\d+)", name)]


def order_classes(names: Iterable[str]) -> list[str]:
    """Distinct class names in a stable order: rest first, then natural sort (``movement 2`` before ``movement 10``)."""
    uniq = sorted({canonical_gesture(n) for n in names}, key=_natural_key)
    return ([REST] if REST in uniq else []) + [n for n in uniq if n != REST]


@dataclass
class GestureTimeline:
    """A piecewise-constant gesture label over one recording.

    Attributes
    ----------
    change_t : float64 array (k,)
        Session seconds at which each segment begins, increasing; before ``change_t[0]`` the label is rest.
    labels : list of str
        Canonical gesture name of each segment (``labels[i]`` from ``change_t[i]`` to ``change_t[i + 1]``).
    source : str
        ``"prompts"`` or ``"markers"``.
    settle_s : float
        Seconds left out at the start of each segment.
    """

    change_t: np.ndarray
    labels: list[str]
    source: str
    settle_s: float = SETTLE_S

    @property
    def gestures(self) -> list[str]:
        """Classes present, rest included (see :func:`order_classes`)."""
        return order_classes([REST, *self.labels])

    def label_at(self, t: np.ndarray) -> tuple[np.ndarray, np.ndarray]:
        """Label and segment start at query times.

        Parameters
        ----------
        t : float array (n,)
            Session seconds.

        Returns
        -------
        names : object array (n,) of str
        segment_start : float64 array (n,)
            Start of the segment holding each query (``-inf`` before the first change).
        """
        t = np.asarray(t, np.float64).reshape(-1)
        k = np.searchsorted(self.change_t, t, side="right") - 1
        lab = np.array([REST, *self.labels], dtype=object)[k + 1]
        start = np.concatenate([[-np.inf], self.change_t])[k + 1]
        return lab, start

    def window_labels(self, start_t: np.ndarray, end_t: np.ndarray) -> tuple[np.ndarray, np.ndarray]:
        """Label of windows, and which windows are clean (one segment, past its settling time).

        Parameters
        ----------
        start_t, end_t : float arrays (n,)
            Session seconds of each window's first and last sample.

        Returns
        -------
        names : object array (n,)
            Label at the window's end.
        clean : bool array (n,)
            True when the whole window lies in one segment, at least ``settle_s`` after it began.
        """
        names, seg_start = self.label_at(end_t)
        clean = np.asarray(start_t, np.float64) >= seg_start + self.settle_s
        return names, clean


def _segments_to_timeline(segs: list[tuple[float, str]], source: str, settle_s: float) -> GestureTimeline:
    """(time, label) change points -> timeline; at equal times the last one wins; repeats merged."""
    segs = sorted(segs, key=lambda s: s[0])  # stable: insertion order kept at equal times
    times: list[float] = []
    labels: list[str] = []
    for t, lab in segs:
        if times and abs(t - times[-1]) <= 1e-9:
            times.pop()
            labels.pop()
        prev = labels[-1] if labels else REST
        if lab == prev:
            continue
        times.append(float(t))
        labels.append(lab)
    return GestureTimeline(np.asarray(times, np.float64), labels, source, settle_s)


def from_prompts(rec: Recording, settle_s: float | None = None) -> GestureTimeline | None:
    """Timeline from the recording's prompts with a duration; None when it has none.

    Each prompt ``[start, end)`` is its gesture; time between prompts is rest.
    """
    prompts = sorted([p for p in rec.prompts if p.end > p.start], key=lambda p: p.start)
    if not prompts:
        return None
    segs: list[tuple[float, str]] = []
    for p in prompts:
        segs.append((float(p.start), canonical_gesture(p.label)))
        segs.append((float(p.end), REST))
    return _segments_to_timeline(segs, "prompts", default_settle_s(rec, "prompts") if settle_s is None else settle_s)


def marker_names_of(rec: Recording) -> dict[float, str]:
    """Marker code -> name as stored with a session (``meta["device"]["marker_names"]``)."""
    dev = rec.meta.get("device")
    names = dev.get("marker_names", {}) if isinstance(dev, dict) else rec.meta.get("marker_names", {})
    out: dict[float, str] = {}
    for k, v in names.items() if isinstance(names, dict) else []:
        try:
            out[float(k)] = str(v)
        except (TypeError, ValueError):
            continue
    return out


def from_markers(
    rec: Recording, names: dict[float, str] | None = None, settle_s: float | None = None
) -> GestureTimeline | None:
    """Timeline from named per-sample marker codes; None when the recording has no named code.

    Parameters
    ----------
    rec : Recording
        Needs ``extras["emg/marker"]`` (one code per EMG sample, 0 = none).
    names : dict, optional
        Code -> gesture name; default :func:`marker_names_of`.
    settle_s : float, optional
        Default :func:`default_settle_s`.
    """
    names = marker_names_of(rec) if names is None else {float(k): str(v) for k, v in names.items()}
    codes = rec.extras.get("emg/marker")
    if not names or codes is None or len(codes) != len(rec.emg_t):
        return None
    codes = np.nan_to_num(np.asarray(codes, np.float64).reshape(-1))
    idx = [i for i in np.flatnonzero(codes) if float(codes[i]) in names]
    if not idx:
        return None
    segs = [(float(rec.emg_t[i]), canonical_gesture(names[float(codes[i])])) for i in idx]
    return _segments_to_timeline(segs, "markers", default_settle_s(rec, "markers") if settle_s is None else settle_s)


def default_settle_s(rec: Recording, source: str) -> float:
    """Seconds left out at each segment's start: 0 for NinaPro ``restimulus`` (already aligned), else
    :data:`SETTLE_S`."""
    if source == "prompts" and rec.meta.get("source_format") == "ninapro" and rec.meta.get("label_key") == "restimulus":
        return 0.0
    return SETTLE_S


def has_gesture_labels(rec: Recording) -> bool:
    """Whether :func:`gesture_timeline` finds labels (prompts with a duration or named markers)."""
    return from_prompts(rec) is not None or from_markers(rec) is not None


def gesture_timeline(
    rec: Recording, source: str = "auto", settle_s: float | None = None, marker_names: dict[float, str] | None = None
) -> GestureTimeline:
    """The gesture labels of a recording.

    Parameters
    ----------
    rec : Recording
    source : {"auto", "prompts", "markers"}
        See the module docstring.
    settle_s : float, optional
        Seconds left out at each segment's start (default :func:`default_settle_s`).
    marker_names : dict, optional
        Code -> name for ``markers`` when the session did not store them.

    Returns
    -------
    GestureTimeline

    Raises
    ------
    DatasetError
        No gesture labels from that source: the message says what the recording lacks and offers the pose task.
    """
    if source not in SOURCES:
        raise DatasetError(f"unknown gesture label source {source!r}; use {', '.join(SOURCES)}")
    tl = None
    if source in ("auto", "prompts"):
        tl = from_prompts(rec, settle_s)
    if tl is None and source in ("auto", "markers"):
        tl = from_markers(rec, marker_names, settle_s)
    if tl is None:
        src = rec.meta.get("source_file", rec.meta.get("session", "the recording"))
        what = {
            "prompts": "no prompts from a recording protocol",
            "markers": "no named gesture markers",
            "auto": "no prompts from a recording protocol and no named gesture markers",
        }[source]
        raise DatasetError(
            f"{src}: has no gesture labels ({what}). Record it with a protocol (Session → New recording…) so each "
            "prompt becomes a gesture, or train a pose model on it instead (the pose task: 'asha train' without "
            "'--task gesture')."
        )
    return tl
