"""Pose-estimation metrics, in the field's standard definitions.

* **MPJPE** (mean per-joint position error): mean Euclidean distance over the
  21 joints, millimetres, in the HAND frame, WRIST-RELATIVE (both skeletons
  translated so the wrist, joint 0, is the origin; no rotation or Procrustes
  alignment).  Names carry ``wrist_rel_mm``.
* **PCK@d**: fraction of joints whose wrist-relative error is below ``d`` mm (10 and 20 mm).
* **Mean joint-angle error**: mean absolute difference in degrees (emg2pose's angular error).
* **R^2** per target: ``1 - SS_res / SS_tot`` over the evaluated set (NinaPro literature).

Finger-flexion targets (imported data, no hand model) get angle errors and
R^2; with a hand model whose ``angles_from_finger_flexion`` and ``forward``
drive the 21 joints, they also get MPJPE of the driven hand (predicted vs
true flexion through the same model).
"""

from __future__ import annotations

import numpy as np

from asha_app.data.windows import MEDIAPIPE_JOINTS

FINGERS = {"thumb": [1, 2, 3, 4], "index": [5, 6, 7, 8], "middle": [9, 10, 11, 12], "ring": [13, 14, 15, 16],
           "little": [17, 18, 19, 20]}


def r2_per_target(pred: np.ndarray, true: np.ndarray) -> np.ndarray:
    """Coefficient of determination per column, arrays (N, T) -> (T,) (NaN where the target is constant)."""
    pred = np.asarray(pred, np.float64)
    true = np.asarray(true, np.float64)
    ss_res = ((true - pred) ** 2).sum(0)
    ss_tot = ((true - true.mean(0)) ** 2).sum(0)
    with np.errstate(invalid="ignore", divide="ignore"):
        return np.where(ss_tot > 0, 1.0 - ss_res / ss_tot, np.nan)


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
        f"{prefix}per_finger_mpjpe_wrist_rel_mm": {f: float(e[:, idx].mean()) for f, idx in FINGERS.items()},
        f"{prefix}per_joint_mpjpe_wrist_rel_mm": {n: float(e[:, i].mean()) for i, n in enumerate(MEDIAPIPE_JOINTS)},
    }


def flexion_to_joints(hand_model, flexion_deg: np.ndarray) -> np.ndarray:
    """Drive a hand model with per-finger flexion angles (N, 5) deg -> joints (N, 21, 3) mm, hand frame.

    Uses ``hand_model.angles_from_finger_flexion`` (deg, numpy) and
    ``hand_model.forward`` (rad, torch) of :class:`asha_app.pose.hand_model.HandModel`.
    """
    import torch

    ang_deg = np.asarray(hand_model.angles_from_finger_flexion(np.asarray(flexion_deg, np.float64)), np.float64)
    with torch.no_grad():
        out = hand_model.forward(torch.as_tensor(np.radians(ang_deg)))
    return np.asarray(out.detach().cpu().numpy(), dtype=np.float64)


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
        Hand model for flexion targets (``meta target_kind finger_flexion_deg`` data).

    Returns
    -------
    dict
        ``n``, ``r2_per_target`` and ``r2_mean``, ``mae_per_target`` and
        ``mae_mean`` (deg for angles), and for joints (or hand-model-driven
        flexion) MPJPE / PCK / per-finger / per-joint errors.
    """
    pred = np.asarray(pred, np.float64)
    true = np.asarray(true, np.float64)
    r2 = r2_per_target(pred, true)
    mae = mae_per_target(pred, true)
    out = {"n": int(len(true)), "target_kind": target_kind,
           "r2_per_target": {n: float(v) for n, v in zip(target_names, r2)}, "r2_mean": float(np.nanmean(r2)),
           "mae_per_target": {n: float(v) for n, v in zip(target_names, mae)}, "mae_mean": float(mae.mean())}
    if target_kind in ("joint_angles", "targets"):
        out["mean_angle_error_deg"] = float(mae.mean())
    if target_kind == "joints_mm":
        out.update(joint_metrics(pred.reshape(-1, 21, 3), true.reshape(-1, 21, 3)))
    elif hand_model is not None:
        from asha_app.pose.contract import PoseContractError, hand_mapper

        try:
            mapper = hand_mapper(target_kind, target_names, hand_model)
        except PoseContractError:
            return out  # no mapping onto the hand model (e.g. data-glove channels): no joint metrics
        out.update(joint_metrics(mapper.joints_mm(pred), mapper.joints_mm(true), prefix="hand_model_"))
    return out
