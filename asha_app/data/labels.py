"""Pose labels of a recording: which target to learn, its names, and its value at any time.

* :func:`select_targets` picks the target matrix of a :class:`~asha_app.data.recording.Recording`
  (hand-model joint angles, imported targets or the 21 hand-frame joints) with its names.
* :func:`labels_at` is THE interpolation of label frames at query times, used by training
  windows (:mod:`asha_app.data.windows`) and by every export (:mod:`asha_app.data.exporters`,
  :mod:`asha_app.data.bids`) through :func:`pose_labels`.
* Names: Asha's joint names are the hand model's (:data:`asha_app.pose.chain.LANDMARK_NAMES`,
  ``little`` for the fifth finger).  MediaPipe and checkpoints written before this
  module say ``pinky``; :func:`canonical_target_names` reads them as ``little``.

Missing labels
--------------
A query time has a label only when it falls on a valid frame, or between two
consecutive valid frames at most ``max_gap_s`` apart (linear interpolation).  A
frame is valid when its ``valid`` flag is set and every value is finite.  Anywhere
else the value is **NaN** and ``ok`` is False: a missing label is never a number
that could be read as a pose (0 deg is a straight finger).  Callers that need a
fill value (the emg2pose export writes 0 where ``valid`` is False) apply it
themselves, next to the validity flag they store.
"""

from __future__ import annotations

from collections.abc import Sequence

import numpy as np

from asha_app.core.errors import DatasetError
from asha_app.data.recording import Recording
from asha_app.pose.chain import LANDMARK_NAMES
from asha_app.pose.contract import AUTO_ORDER

#: the same instant, in seconds: a query this close to a frame is "on" it
EXACT_S = 1e-9

#: target kinds whose names are Asha's own (hand model), as opposed to an imported file's
ASHA_NAMED_KINDS = ("joint_angles", "joints_mm")


def joint_target_names() -> list[str]:
    """Names of the 63 ``joints_mm`` targets: ``wrist_x_mm`` .. ``little_tip_z_mm`` (MediaPipe order, x y z)."""
    return [f"{j}_{a}_mm" for j in LANDMARK_NAMES for a in "xyz"]


def canonical_target_names(kind: str, names: Sequence[str]) -> list[str]:
    """Target names in Asha's vocabulary: a leading ``pinky_`` (MediaPipe's word) becomes ``little_``.

    Only for Asha's own kinds (``joint_angles``, ``joints_mm``): an imported file's
    ``targets`` keep the names the file gives (the pose contract reads ``pinky`` there too).
    Checkpoints saved before the rename stored ``pinky_mcp_x_mm`` ...; they load with
    these names so they stay compatible with new data.
    """
    if kind not in ASHA_NAMED_KINDS:
        return list(names)
    return ["little_" + n[len("pinky_"):] if n.startswith("pinky_") else n for n in names]


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
            names = joint_target_names()
        elif k == "joint_angles" and rec.joint_angles is not None:
            y = np.asarray(rec.joint_angles, dtype=np.float32)
            names = canonical_target_names(k, list(rec.angle_names) or [f"angle{i}" for i in range(y.shape[1])])
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


def labels_at(label_t: np.ndarray, y: np.ndarray, valid: np.ndarray | None, tq: np.ndarray,
              max_gap_s: float) -> tuple[np.ndarray, np.ndarray]:
    """Label values linearly interpolated at query times, and which queries have a label.

    Parameters
    ----------
    label_t : float array (n_frames,)
        Label frame times, seconds (sorted here when they are not).
    y : array (n_frames, n_targets)
        Label values; NaN/inf in a frame makes that frame invalid.
    valid : bool array (n_frames,) or None
        Validity flag of each frame (None or a length mismatch: every frame with finite values).
    tq : float array (n,)
        Query times, seconds.
    max_gap_s : float
        Largest spacing of the two frames a label is interpolated between, seconds.

    Returns
    -------
    values : float32 array (n, n_targets)
        Interpolated labels; **NaN** where ``ok`` is False (see the module docstring).
    ok : bool array (n,)
        True where the query lies within :data:`EXACT_S` of a valid frame, or between two
        consecutive valid frames at most ``max_gap_s`` apart.
    """
    lt = np.asarray(label_t, dtype=np.float64).reshape(-1)
    vals = np.asarray(y, dtype=np.float64)
    vals = vals.reshape(len(lt), -1) if vals.ndim != 2 else vals
    tq = np.asarray(tq, dtype=np.float64).reshape(-1)
    out = np.full((tq.size, vals.shape[1]), np.nan)
    ok = np.zeros(tq.size, dtype=bool)
    n_f = lt.size
    if n_f == 0:
        return out.astype(np.float32), ok
    good = np.ones(n_f, bool) if valid is None or len(valid) != n_f else np.asarray(valid, bool).copy()
    good &= np.isfinite(vals).all(axis=1) & np.isfinite(lt)
    if np.any(np.diff(lt) < 0):
        order = np.argsort(lt, kind="stable")
        lt, vals, good = lt[order], vals[order], good[order]
    lo = np.searchsorted(lt, tq, side="right") - 1  # frame at or before the query
    hi = lo + 1
    loc, hic = np.clip(lo, 0, n_f - 1), np.clip(hi, 0, n_f - 1)
    has_lo, has_hi = lo >= 0, hi < n_f
    on_lo = has_lo & good[loc] & (np.abs(tq - lt[loc]) <= EXACT_S)
    on_hi = ~on_lo & has_hi & good[hic] & (np.abs(lt[hic] - tq) <= EXACT_S)
    gap = lt[hic] - lt[loc]
    between = ~on_lo & ~on_hi & has_lo & has_hi & good[loc] & good[hic] & (gap > 0) & (gap <= max_gap_s)
    a, b = loc[between], hic[between]
    w = ((tq[between] - lt[a]) / gap[between])[:, None]
    out[between] = vals[a] * (1.0 - w) + vals[b] * w
    out[on_lo] = vals[loc[on_lo]]
    out[on_hi] = vals[hic[on_hi]]
    ok = on_lo | on_hi | between
    return out.astype(np.float32), ok


def pose_labels(rec: Recording, t: np.ndarray, max_gap_s: float = 0.1) -> tuple[np.ndarray, np.ndarray]:
    """A recording's pose at times ``t``: its joint angles (else its imported targets) through :func:`labels_at`.

    Parameters
    ----------
    rec : Recording
    t : array (k,)
        Session seconds.
    max_gap_s : float
        See :func:`labels_at`.

    Returns
    -------
    values : float32 array (k, d)
        Degrees for joint angles, the targets' own units otherwise; NaN where ``ok`` is False
        (``d`` is 0 when the recording has neither).
    ok : bool array (k,)
    """
    t = np.asarray(t, dtype=np.float64).reshape(-1)
    values = rec.joint_angles if rec.joint_angles is not None else rec.targets
    if values is None:
        return np.full((t.size, 0), np.nan, np.float32), np.zeros(t.size, bool)
    return labels_at(rec.label_t, values, rec.valid, t, max_gap_s)
