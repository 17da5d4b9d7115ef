"""Pose-estimation metrics, in the field's standard definitions.

* **MPJPE** (mean per-joint position error): mean Euclidean distance over the
  21 joints, millimetres, in the HAND frame, WRIST-RELATIVE (both skeletons
  translated so the wrist, joint 0, is the origin; no rotation or Procrustes
  alignment).  Names carry ``wrist_rel_mm``.
* **PCK@d**: fraction of joints whose wrist-relative error is below ``d`` mm (10 and 20 mm).
* **Mean joint-angle error**: mean absolute difference in degrees (emg2pose's angular error).
* **R^2** per target: ``1 - SS_res / SS_tot`` over the evaluated set (NinaPro literature),
  only for targets with real variance there: a target whose true values have a
  standard deviation below :data:`R2_MIN_STD` (2 deg for angles, 2 mm for
  joints: about the camera labels' own noise -- the IK fit error's median is
  3.6 mm, docs/hand_model.md; for other units, numerically constant) gets no
  R^2 and is listed in ``r2_excluded`` with the reason.  Near-constant targets (the wrist in the hand
  frame, a metacarpal joint fixed by the hand model, a locked CMC) would
  otherwise give R^2 of -1e25 from a tiny error over a variance of rounding
  noise, and turn the mean into nonsense.  ``r2_mean`` is over the scored targets.
* **Per finger** (thumb, index, middle, ring, little; :mod:`asha_app.models.fingers`
  groups the target names): MAE and R^2 averaged over each finger's targets, in
  the targets' named unit (``units``); MPJPE per finger for joints.

Finger-flexion targets (imported data, no hand model) get angle errors and
R^2; with a hand model whose ``angles_from_finger_flexion`` and ``forward``
drive the 21 joints, they also get MPJPE of the driven hand (predicted vs
true flexion through the same model).  Hand-model joint angles
(``joint_angles`` named like the model's ``dof_names``) with that hand model
get the MPJPE of its forward kinematics the same way.
"""

from __future__ import annotations

import numpy as np

from asha_app.models.fingers import group_by_finger, target_unit, units_of
from asha_app.pose.chain import LANDMARK_NAMES

#: landmark indices of each finger (MediaPipe order)
FINGER_LANDMARKS = {"thumb": [1, 2, 3, 4], "index": [5, 6, 7, 8], "middle": [9, 10, 11, 12], "ring": [13, 14, 15, 16],
           "little": [17, 18, 19, 20]}


#: smallest standard deviation (over the evaluated set, in the target's unit) for a target to get an R^2
R2_MIN_STD = {"deg": 2.0, "mm": 2.0}
#: other units: a target is constant when its std is below this fraction of its largest magnitude (at least 1)
R2_MIN_REL_STD = 1e-6


def r2_min_std(true: np.ndarray, names: list[str], kind: str) -> np.ndarray:
    """Per-target variance floor of the R^2 rule (see :data:`R2_MIN_STD`), array (T,) in target units."""
    true = np.asarray(true, np.float64)
    floor = np.empty(true.shape[1])
    for i, n in enumerate(names):
        unit = target_unit(n, kind)
        if unit in R2_MIN_STD:
            floor[i] = R2_MIN_STD[unit]
        else:
            col = np.abs(true[:, i])
            top = float(np.nanmax(col)) if len(col) and np.isfinite(col).any() else 0.0
            floor[i] = R2_MIN_REL_STD * max(1.0, top)
    return floor


def r2_exclusions(true: np.ndarray, names: list[str], kind: str) -> dict[str, str]:
    """Targets that get no R^2 on this evaluated set, with the reason in words.

    Parameters
    ----------
    true : array (N, T)
        True targets of the evaluated set, in their units.
    names : list of str
        Target names (T).
    kind : {"joints_mm", "joint_angles", "targets"}

    Returns
    -------
    dict
        ``{name: reason}``; e.g. ``"near-constant in the evaluated set (std 0.0003 mm < 1 mm)"``.
    """
    true = np.asarray(true, np.float64)
    if len(true) < 2:
        return {n: f"only {len(true)} evaluated window(s)" for n in names}
    with np.errstate(invalid="ignore"):
        std = true.std(0)
    floor = r2_min_std(true, names, kind)
    out = {}
    for i, n in enumerate(names):
        unit = target_unit(n, kind)
        if not np.isfinite(std[i]):
            out[n] = "no finite values in the evaluated set"
        elif std[i] < floor[i]:
            out[n] = f"near-constant in the evaluated set (std {std[i]:.2g} {unit} < {floor[i]:.2g} {unit})"
    return out


def r2_per_target(pred: np.ndarray, true: np.ndarray, min_std: np.ndarray | float = 0.0) -> np.ndarray:
    """Coefficient of determination per column, arrays (N, T) -> (T,).

    NaN where the true target's standard deviation is at most ``min_std``
    (scalar or (T,), target units): a target without variance has no R^2.
    """
    pred = np.asarray(pred, np.float64)
    true = np.asarray(true, np.float64)
    ss_res = ((true - pred) ** 2).sum(0)
    ss_tot = ((true - true.mean(0)) ** 2).sum(0)
    scored = (ss_tot > 0) & (np.sqrt(ss_tot / max(1, len(true))) >= np.asarray(min_std, np.float64))
    with np.errstate(invalid="ignore", divide="ignore"):
        return np.where(scored, 1.0 - ss_res / ss_tot, np.nan)


def _nanmean(values) -> float:
    v = np.asarray(list(values), np.float64)
    v = v[np.isfinite(v)]
    return float(v.mean()) if len(v) else float("nan")


def mae_per_target(pred: np.ndarray, true: np.ndarray) -> np.ndarray:
    """Mean absolute error per column (units of the targets: degrees for angles)."""
    return np.abs(np.asarray(pred, np.float64) - np.asarray(true, np.float64)).mean(0)


def wrist_relative(joints: np.ndarray) -> np.ndarray:
    """Joints (N, 21, 3) translated so joint 0 (wrist) is the origin."""
    joints = np.asarray(joints, np.float64)
    return joints - joints[:, :1]


def joint_errors_wrist_rel_mm(pred: np.ndarray, true: np.ndarray) -> np.ndarray:
    """Per-joint Euclidean errors (N, 21), mm, hand frame, wrist-relative."""
    return np.linalg.norm(wrist_relative(pred) - wrist_relative(true), axis=-1)


def mpjpe_wrist_rel_mm(pred: np.ndarray, true: np.ndarray) -> float:
    """MPJPE in mm, hand frame, wrist-relative, over the 21 joints (wrist error is 0 by construction and counted)."""
    return float(joint_errors_wrist_rel_mm(pred, true).mean())


def pck_wrist_rel(pred: np.ndarray, true: np.ndarray, threshold_mm: float) -> float:
    """Fraction of (frame, joint) pairs with wrist-relative error below ``threshold_mm``."""
    return float((joint_errors_wrist_rel_mm(pred, true) < threshold_mm).mean())


def joint_metrics(pred_j: np.ndarray, true_j: np.ndarray, prefix: str = "") -> dict:
    """MPJPE, PCK@10/20 mm, per-finger and per-joint errors of (N, 21, 3) joints in mm."""
    e = joint_errors_wrist_rel_mm(pred_j, true_j)
    return {
        f"{prefix}mpjpe_wrist_rel_mm": float(e.mean()),
        f"{prefix}pck10_wrist_rel": float((e < 10).mean()),
        f"{prefix}pck20_wrist_rel": float((e < 20).mean()),
        f"{prefix}per_finger_mpjpe_wrist_rel_mm": {f: float(e[:, idx].mean()) for f, idx in FINGER_LANDMARKS.items()},
        f"{prefix}per_joint_mpjpe_wrist_rel_mm": {n: float(e[:, i].mean()) for i, n in enumerate(LANDMARK_NAMES)},
    }



def evaluate(pred: np.ndarray, true: np.ndarray, target_names: list[str], target_kind: str,
             hand_model=None) -> dict:
    """All metrics for one evaluated set, in target units.

    Parameters
    ----------
    pred, true : arrays (N, T)
        Predictions and labels (degrees for angles, mm for joints).
    target_names : list of str
    target_kind : {"joints_mm", "joint_angles", "targets"}
    hand_model : optional
        Hand model: drives the 21 joints from 5 finger flexions
        (``angles_from_finger_flexion``) or from joint angles named like its
        ``dof_names`` (``forward``), for MPJPE/PCK with the prefix ``hand_model_``.

    Returns
    -------
    dict
        ``n``, ``target_kind``, ``units`` (``"deg"``, ``"mm"``, ``"glove units"`` ...);
        ``r2_per_target`` (NaN where excluded), ``r2_excluded`` (``{name: reason}``),
        ``r2_mean`` (over the scored targets; NaN when none); ``mae_per_target``
        and ``mae_mean``; ``finger_targets`` (``{group: [names]}``, groups
        thumb..little, then ``wrist`` / ``other`` when present),
        ``mae_per_finger`` and ``r2_per_finger`` (means over each group's
        targets); ``mean_angle_error_deg`` for angle targets; and for joints (or
        a hand model) MPJPE / PCK / per-finger / per-joint errors.  Strict JSON
        output (NaN as null) is :func:`asha_app.core.jsonout.dumps`.
    """
    pred = np.asarray(pred, np.float64)
    true = np.asarray(true, np.float64)
    names = list(target_names)
    excluded = r2_exclusions(true, names, target_kind)
    r2 = r2_per_target(pred, true, r2_min_std(true, names, target_kind))
    r2[[i for i, n in enumerate(names) if n in excluded]] = np.nan
    mae = mae_per_target(pred, true)
    groups = group_by_finger(names)
    units = units_of(names, target_kind)
    out = {"n": int(len(true)), "target_kind": target_kind, "units": units,
           "r2_per_target": {n: float(v) for n, v in zip(names, r2)}, "r2_excluded": excluded,
           "r2_mean": _nanmean(r2),
           "mae_per_target": {n: float(v) for n, v in zip(names, mae)}, "mae_mean": float(mae.mean()),
           "finger_targets": {g: [names[i] for i in idx] for g, idx in groups.items()},
           "mae_per_finger": {g: float(mae[idx].mean()) for g, idx in groups.items()},
           "r2_per_finger": {g: _nanmean(r2[idx]) for g, idx in groups.items()}}
    if target_kind == "joint_angles" or (target_kind == "targets" and units == "deg"):
        out["mean_angle_error_deg"] = float(mae.mean())
    if target_kind == "joints_mm" and len(names) == 63:
        out.update(joint_metrics(pred.reshape(-1, 21, 3), true.reshape(-1, 21, 3)))
    elif hand_model is not None:
        from asha_app.pose.contract import PoseContractError, hand_mapper

        try:
            mapper = hand_mapper(target_kind, target_names, hand_model)
        except PoseContractError:
            return out  # no mapping onto the hand model (e.g. data-glove channels): no joint metrics
        out.update(joint_metrics(mapper.joints_mm(pred), mapper.joints_mm(true), prefix="hand_model_"))
    return out
