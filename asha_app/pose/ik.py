"""Inverse kinematics: fit the hand model to MediaPipe world landmarks, frame by frame.

Method
------
Per frame a box-constrained Levenberg-Marquardt solver (Levenberg 1944,
Marquardt 1963; Nocedal & Wright, *Numerical Optimization*, ch. 10) minimises

    sum_i || s R p_i(theta) + t - y_i ||^2  +  (w (s - 1))^2

over the joint angles ``theta`` (inside their anatomical limits), the global
rotation ``R``, the translation ``t`` (MediaPipe's world origin is the hand
centre, not the wrist, so ``t`` is solved for) and a per-frame size factor ``s``
(MediaPipe's world landmarks change their overall size by up to +-15 % with the
view; ``w`` keeps ``s`` near 1).  ``p_i`` are the 21 landmarks of the person's
skeleton (:class:`~asha_app.pose.hand_model.HandModel` with calibrated bones),
``y_i`` MediaPipe's world landmarks in millimetres.

* The Jacobian is analytic: for a revolute joint with world axis ``w`` at
  position ``c``, every landmark ``p`` it moves has ``dp/dtheta = w x (p - c)``;
  the rotation is updated on the manifold (``R <- exp([d]x) R``, ``dp/dd = -[p - t]x``),
  translation and size enter linearly.  The forward kinematics of the inner
  loop is the numpy twin of the torch FK (:meth:`HandModel.fk_nodes_np`).
* Limits: variables at a bound whose gradient points outwards are held fixed
  for that step (an active set) and every step is projected onto the box, so
  no returned angle ever leaves its limits.
* Warm start from the previous frame; a frame whose warm fit is poor is also
  solved from a cold start (rotation from a Kabsch/Umeyama alignment of the
  palm points, angles at the rest pose) and the better fit is kept.
* Skeleton calibration: over the first ``calib_frames`` frames with a hand, the
  median length of each of the 20 bones measured in MediaPipe's world landmarks,
  divided by the model's rest length, gives that bone's scale; at the end the
  palm (thumb CMC and MCP positions) is replaced by the median palm of those
  frames in the fitted hand frame.  Then the skeleton stays fixed until
  :meth:`IKSolver.reset`.

A frame whose fit error (mean distance over the 21 joints) exceeds
``valid_threshold_mm``, or that has no hand, is returned **invalid** and is
never replaced by a neutral pose.
"""

from __future__ import annotations

import logging
import dataclasses
from dataclasses import dataclass, field

import numpy as np

from asha_app.pose.chain import LANDMARK_PARENTS, matrix_to_axis_angle
from asha_app.pose.hand_model import HandModel

log = logging.getLogger(__name__)

PALM = [0, 1, 5, 9, 13, 17]


@dataclass
class IKResult:
    """The fit of one frame.

    Attributes
    ----------
    angles_deg : float32 (n_dof,)
        Joint angles in degrees (order ``HandModel.dof_names``); NaN when there was no hand.
    joints_hand_mm : float32 (21, 3)
        Fitted landmarks in the hand frame (wrist origin, palm axes; see hand_model), mm.
    joints_world_mm : float32 (21, 3)
        Fitted landmarks in MediaPipe's world frame (camera axes, origin near the hand centre), mm.
    global_rot : float32 (3,)
        Axis-angle (rad) of the hand frame in the world frame.
    translation_mm : float32 (3,)
        World position of the wrist (MediaPipe's world frame), mm.
    fit_error_mm : float
        Mean Euclidean distance between fitted and MediaPipe world landmarks (NaN without a hand).
    per_joint_error_mm : float32 (21,)
    valid : bool
        False when there was no hand or ``fit_error_mm`` exceeded the threshold.
    side : str
        Hand model used (``"right"``/``"left"``).
    iterations : int
        Levenberg-Marquardt iterations spent.
    bone_scale : float32 (20,)
        Bone scales used for this frame.
    size_factor : float
        Per-frame overall size of the fit in the world frame (1 = the calibrated skeleton);
        ``joints_world_mm = size_factor * R joints_hand_mm + translation_mm``.
    status : str
        ``"ok"``, ``"poor_fit"`` (error above the threshold), ``"no_hand"``, or
        ``"handedness_flip"`` (MediaPipe briefly called the tracked hand the other
        side; its landmarks then have the other hand's geometry, so the frame is not fitted).
    """

    angles_deg: np.ndarray
    joints_hand_mm: np.ndarray
    joints_world_mm: np.ndarray
    global_rot: np.ndarray
    translation_mm: np.ndarray
    fit_error_mm: float
    per_joint_error_mm: np.ndarray
    valid: bool
    side: str
    iterations: int = 0
    bone_scale: np.ndarray = field(default_factory=lambda: np.ones(20, dtype=np.float32))
    size_factor: float = 1.0
    status: str = "ok"

    @classmethod
    def from_labels(cls, angles_deg, joints_hand_mm, joints_world_mm, fit_error_mm: float, valid: bool, *,
                    side: str = "", global_rot=None, translation_mm=None) -> IKResult:
        """A fit given as label arrays (a stored session frame, a test), the details it lacks set to NaN.

        Parameters
        ----------
        angles_deg : array (n_dof,)
        joints_hand_mm, joints_world_mm : arrays (21, 3)
        fit_error_mm : float
        valid : bool
        side : str
        global_rot, translation_mm : arrays (3,), optional
            NaN when not given.

        Returns
        -------
        IKResult
            Arrays as float32 copies; ``per_joint_error_mm`` NaN; ``status`` ``"ok"`` or ``"poor_fit"``.
        """
        def f32(x, shape):
            return np.full(shape, np.nan, np.float32) if x is None else np.array(x, np.float32, copy=True)

        return cls(angles_deg=f32(angles_deg, 0), joints_hand_mm=f32(joints_hand_mm, (21, 3)),
                   joints_world_mm=f32(joints_world_mm, (21, 3)), global_rot=f32(global_rot, 3),
                   translation_mm=f32(translation_mm, 3), fit_error_mm=float(fit_error_mm),
                   per_joint_error_mm=np.full(21, np.nan, np.float32), valid=bool(valid), side=side,
                   status="ok" if valid else "poor_fit")

    def copy(self) -> IKResult:
        """A copy whose arrays are not shared (the camera thread reuses its own)."""
        return dataclasses.replace(self, **{f.name: np.array(getattr(self, f.name), copy=True)
                                            for f in dataclasses.fields(self)
                                            if isinstance(getattr(self, f.name), np.ndarray)})

    @classmethod
    def no_hand(cls, n_dof: int, side: str = "", status: str = "no_hand") -> IKResult:
        """An invalid, unlabelled frame (all NaN), for frames without a (usable) hand."""
        nan3 = np.full((21, 3), np.nan, dtype=np.float32)
        return cls(
            angles_deg=np.full(n_dof, np.nan, dtype=np.float32),
            joints_hand_mm=nan3,
            joints_world_mm=nan3.copy(),
            global_rot=np.full(3, np.nan, dtype=np.float32),
            translation_mm=np.full(3, np.nan, dtype=np.float32),
            fit_error_mm=float("nan"),
            per_joint_error_mm=np.full(21, np.nan, dtype=np.float32),
            valid=False,
            side=side,
            status=status,
        )


def kabsch(src: np.ndarray, dst: np.ndarray) -> tuple[np.ndarray, np.ndarray]:
    """Rotation ``R`` and translation ``t`` minimising ``sum ||R src_i + t - dst_i||^2``.

    Kabsch (1976) / Umeyama (1991) without scale, through the SVD of the cross-covariance.

    Parameters
    ----------
    src, dst : array (N, 3)

    Returns
    -------
    R : (3, 3), t : (3,)
    """
    ms, md = src.mean(0), dst.mean(0)
    H = (src - ms).T @ (dst - md)
    U, _, Vt = np.linalg.svd(H)
    d = np.sign(np.linalg.det(Vt.T @ U.T))
    D = np.diag([1.0, 1.0, d])
    R = Vt.T @ D @ U.T
    return R, md - R @ ms


def _exp_so3(w: np.ndarray) -> np.ndarray:
    th = float(np.linalg.norm(w))
    K = np.array([[0, -w[2], w[1]], [w[2], 0, -w[0]], [-w[1], w[0], 0]])
    if th < 1e-12:
        return np.eye(3) + K
    K /= th
    return np.eye(3) + np.sin(th) * K + (1 - np.cos(th)) * (K @ K)


class IKSolver:
    """Stateful per-frame IK for one hand model (warm start, bone-scale calibration).

    Parameters
    ----------
    model : HandModel
        The hand to fit (its side must match the landmarks' real hand).
    max_iter : int
        Levenberg-Marquardt iterations per warm-started frame; a fit still improving
        by more than 5 % per step (a fast movement) may go on up to ``cold_iter``.
    cold_iter : int
        Iterations for a cold start (first frame, after a lost hand, or a poor warm fit).
    valid_threshold_mm : float
        Frames whose mean per-joint fit error exceeds this are invalid.
    calib_frames : int
        Frames with a hand over which bone scales are estimated (0 keeps scale 1).
    scale_range : (float, float)
        Bone scales are clipped into this range.
    tol : float
        Stop when a step lowers the cost by less than this fraction.
    retry_threshold_mm : float
        A warm-started fit worse than this is solved again from a cold start.
    calibrate_palm : bool
        Also replace the palm (thumb CMC and MCP positions) by the median palm of the
        calibration frames (see ``docs/hand_model.md`` for the measured effect).
    fit_global_scale : bool
        Also fit one size factor per frame (``IKResult.size_factor``): MediaPipe's
        world landmarks change their overall size with the view by several percent.
        The factor applies to the world-frame fit only; ``joints_hand_mm`` keep the
        person's calibrated skeleton, so labels keep constant bone lengths.
    scale_prior_mm : float
        Weight of the prior keeping the size factor near 1: a residual of
        ``scale_prior_mm * (factor - 1)`` mm is added (100: 1 % costs like 1 mm).
    """

    def __init__(
        self,
        model: HandModel,
        max_iter: int = 5,
        cold_iter: int = 30,
        valid_threshold_mm: float = 15.0,
        calib_frames: int = 60,
        scale_range: tuple[float, float] = (0.5, 2.0),
        tol: float = 1e-2,
        retry_threshold_mm: float = 10.0,
        calibrate_palm: bool = True,
        fit_global_scale: bool = True,
        scale_prior_mm: float = 100.0,
    ) -> None:
        self.model = model
        self.max_iter = max_iter
        self.cold_iter = cold_iter
        self.valid_threshold_mm = valid_threshold_mm
        self.calib_frames = calib_frames
        self.scale_range = scale_range
        self.tol = tol
        self.retry_threshold_mm = retry_threshold_mm
        self.calibrate_palm = calibrate_palm
        self.fit_global_scale = fit_global_scale
        self.scale_prior_mm = scale_prior_mm
        n = model.n_dof
        self._lo = model.lower_rad
        self._hi = model.upper_rad
        self._rest = np.clip(np.radians(model.rest_deg), self._lo, self._hi)
        self._dof_node = model.dof_node
        self._dof_slot = model.dof_slot
        self._dof_parent = model.parents[model.dof_node]
        self._axes0 = model.axes[model.dof_node, 0]
        self._axes1 = model.axes[model.dof_node, 1]
        self._mask = model.node_moves_landmark[model.dof_node].astype(np.float64)  # (n, 21)
        self._lm_nodes = model.landmark_nodes
        self.n_dof = n
        self.reset()

    # ------------------------------------------------------------------ state
    def reset(self) -> None:
        """Forget the previous frame and the bone-scale calibration (a new session or person)."""
        self._state: tuple[np.ndarray, np.ndarray, np.ndarray] | None = None
        self._lengths: list[np.ndarray] = []
        self._palm_samples: list[np.ndarray] = []
        self._set_offsets(self.model.offsets_mm.copy())
        self.scales_frozen = self.calib_frames <= 0

    def lose_track(self) -> None:
        """Drop the warm start (the hand was lost) but keep the bone scales."""
        self._state = None

    def set_bone_scale(self, scale: np.ndarray) -> None:
        """Use known bone scales (e.g. from a profile) on the built-in skeleton and stop calibrating."""
        scale = np.clip(np.asarray(scale, dtype=np.float64).reshape(HandModel.N_BONES), *self.scale_range)
        self._set_offsets(self.model.offsets_mm * scale[np.maximum(self.model.node_bone, 0)][:, None])
        self.scales_frozen = True

    @property
    def skeleton_offsets_mm(self) -> np.ndarray:
        """The person's rest skeleton in use: (25, 3) node offsets from their parents, mm."""
        return self._offsets.copy()

    def set_skeleton(self, offsets_mm: np.ndarray) -> None:
        """Use a stored skeleton (from :attr:`skeleton_offsets_mm`) and stop calibrating."""
        self._set_offsets(np.asarray(offsets_mm, dtype=np.float64).reshape(-1, 3).copy())
        self.scales_frozen = True

    def _set_offsets(self, offsets: np.ndarray) -> None:
        self._offsets = offsets
        m = self.model
        nodes = np.zeros_like(offsets)
        for j in range(1, len(nodes)):
            nodes[j] = nodes[m.parents[j]] + offsets[j]
        lm = nodes[m.landmark_nodes]
        lengths = np.linalg.norm(lm[1:] - lm[LANDMARK_PARENTS[1:]], axis=1)
        self.bone_scale = lengths / m.bone_lengths_mm
        self.rest_landmarks_mm = lm

    def _update_scales(self, target: np.ndarray) -> None:
        if self.scales_frozen:
            return
        par = LANDMARK_PARENTS[1:]
        lengths = np.linalg.norm(target[1:] - target[par], axis=1)
        self._lengths.append(lengths)
        med = np.median(np.stack(self._lengths), 0)
        scale = np.clip(med / self.model.bone_lengths_mm, *self.scale_range)
        self._set_offsets(self.model.offsets_mm * scale[np.maximum(self.model.node_bone, 0)][:, None])

    def _calibrate_palm(self) -> None:
        """Give the skeleton the person's palm (median over the calibration frames), then freeze it.

        The palm points (wrist, thumb CMC, four MCPs) of every calibration frame,
        taken into the fitted hand frame, give a median palm.  Re-expressed in the
        hand-frame convention (wrist origin, +y to the middle MCP, +x to the index
        side), it becomes the rest position of the thumb CMC and MCP nodes; the
        finger bones keep their median-length scales.
        """
        m = self.model
        q = np.median(np.stack(self._palm_samples), 0)
        q = q - q[0]
        y = q[9] / np.linalg.norm(q[9])
        x = q[5] - q[13]
        x = x - (x @ y) * y
        x /= np.linalg.norm(x)
        F = np.stack([x, y, np.cross(x, y)], 0)
        q = q @ F.T
        offs = self._offsets.copy()
        for li in (1, 5, 9, 13, 17):
            node = m.landmark_nodes[li]
            par = m.parents[node]
            base = offs[par] if par != 0 else np.zeros(3)  # metacarpal base hangs off the wrist
            offs[node] = q[li] - base
        self._set_offsets(offs)
        self.scales_frozen = True
        self._state = None
        log.info("skeleton calibrated over %d frames; bone scales %s", len(self._palm_samples), np.round(self.bone_scale, 2))

    # ------------------------------------------------------------------ model evaluation
    def _fk(self, theta: np.ndarray, R: np.ndarray):
        return self.model.fk_nodes_np(theta, R, self._offsets)

    def _jacobian(self, pos, rot, slot0, lm, t, sigma) -> np.ndarray:
        # joint columns: w x (p - c) for the landmarks the joint moves
        v = np.where(self._dof_slot[:, None] == 0, self._axes0, np.einsum("nij,nj->ni", slot0[self._dof_node], self._axes1))
        w = np.einsum("nij,nj->ni", rot[self._dof_parent], v)  # (n, 3) world axes
        c = sigma * pos[self._dof_node] + t  # (n, 3) joint centres, world
        diff = lm[None, :, :] - c[:, None, :]  # (n, 21, 3)
        Jq = np.cross(w[:, None, :], diff) * self._mask[..., None]
        q = lm - t  # (21, 3) (positions relative to the wrist, world axes)
        eye = np.eye(3)
        Jr = np.cross(eye[:, None, :], q[None, :, :])  # (3, 21, 3)
        Jt = np.broadcast_to(eye[:, None, :], (3, 21, 3))
        cols = [Jq, Jr, Jt]
        if self.fit_global_scale:
            cols.append((q / sigma)[None])  # d(sigma p + t)/d sigma = p
        J = np.concatenate(cols, 0).reshape(-1, 63).T
        return J

    # ------------------------------------------------------------------ solve
    @staticmethod
    def _free_solve(A: np.ndarray, b: np.ndarray, free: np.ndarray) -> np.ndarray:
        """Solve ``A x = b`` over the free variables; fixed variables get 0."""
        x = np.zeros(len(b))
        x[free] = np.linalg.solve(A[np.ix_(free, free)], b[free])
        return x

    def _residual(self, pos, t, sigma, target):
        lm = sigma * pos[self._lm_nodes] + t
        r = (lm - target).reshape(-1)
        cost = r @ r
        if self.fit_global_scale:
            cost += (self.scale_prior_mm * (sigma - 1.0)) ** 2
        return lm, r, cost

    def _lm(self, target, theta, R, t, sigma, iters):
        """Box-constrained Levenberg-Marquardt from (theta, R, t, sigma); returns the fit and iterations."""
        pos, rot, slot0 = self._fk(theta, R)
        lm, r, cost = self._residual(pos, t, sigma, target)
        lam = 1e-3
        n = self.n_dof
        n_par = n + 6 + int(self.fit_global_scale)
        it = 0
        eps = 1e-9
        rel = 1.0
        hard = max(iters, self.cold_iter)
        while it < hard:
            if it >= iters and rel < 0.05:
                break  # the soft limit is reached and progress has slowed
            it += 1
            J = self._jacobian(pos, rot, slot0, lm, t, sigma)
            g = J.T @ r
            H = J.T @ J
            if self.fit_global_scale:
                w = self.scale_prior_mm
                g[-1] += w * w * (sigma - 1.0)
                H[-1, -1] += w * w
            free = np.ones(n_par, dtype=bool)
            free[:n] = ~(((theta <= self._lo + eps) & (g[:n] > 0)) | ((theta >= self._hi - eps) & (g[:n] < 0)))
            diag = np.diag(H).copy()
            improved = False
            for _ in range(6):
                A = H + np.diag(lam * (diag + 1e-6))
                try:
                    full = self._free_solve(A, -g, free)
                except np.linalg.LinAlgError:
                    lam *= 10
                    continue
                th_new = np.clip(theta + full[:n], self._lo, self._hi)
                R_new = _exp_so3(full[n : n + 3]) @ R
                t_new = t + full[n + 3 : n + 6]
                s_new = sigma + full[n + 6] if self.fit_global_scale else sigma
                pos_n, rot_n, slot0_n = self._fk(th_new, R_new)
                lm_n, r_n, cost_n = self._residual(pos_n, t_new, s_new, target)
                if cost_n < cost:
                    improved = True
                    rel = (cost - cost_n) / max(cost, 1e-12)
                    theta, R, t, sigma = th_new, R_new, t_new, s_new
                    pos, rot, slot0, lm, r, cost = pos_n, rot_n, slot0_n, lm_n, r_n, cost_n
                    lam = max(lam * 0.3, 1e-7)
                    break
                lam *= 10
            if not improved or rel < self.tol:
                break
        U, _, Vt = np.linalg.svd(R)  # re-orthonormalise after the exp updates
        R = U @ Vt
        return theta, R, t, sigma, lm, pos, it

    def _cold_start(self, target):
        theta = self._rest.copy()
        p0 = self._fk(theta, np.eye(3))[0][self._lm_nodes]
        R, t = kabsch(p0[PALM], target[PALM])
        return theta, R, t, 1.0

    def solve(self, world_mm: np.ndarray) -> IKResult:
        """Fit one frame.

        Parameters
        ----------
        world_mm : array (21, 3)
            MediaPipe world landmarks of the real hand, in **millimetres**, with the
            chirality of ``self.model.side`` (see :mod:`asha_app.pose.landmarks`).

        Returns
        -------
        IKResult
        """
        target = np.asarray(world_mm, dtype=np.float64).reshape(21, 3)
        if not np.all(np.isfinite(target)):
            self.lose_track()
            return IKResult.no_hand(self.n_dof, self.model.side)
        self._update_scales(target)
        if self._state is None:
            theta, R, t, sigma, lm, pos, it = self._lm(target, *self._cold_start(target), self.cold_iter)
        else:
            theta, R, t, sigma, lm, pos, it = self._lm(target, *self._state, self.max_iter)
            err = np.linalg.norm(lm - target, axis=1).mean()
            if err > self.retry_threshold_mm:
                cold = self._lm(target, *self._cold_start(target), self.cold_iter)
                it += cold[6]
                if np.linalg.norm(cold[4] - target, axis=1).mean() < err:
                    theta, R, t, sigma, lm, pos, _ = cold
        self._state = (theta, R, t, sigma)
        if not self.scales_frozen:
            self._palm_samples.append((target - t) @ R / sigma)
            if len(self._palm_samples) >= self.calib_frames:
                if self.calibrate_palm:
                    self._calibrate_palm()
                else:
                    self.scales_frozen = True
                    log.info("bone scales calibrated over %d frames: %s", self.calib_frames, np.round(self.bone_scale, 2))
        per_joint = np.linalg.norm(lm - target, axis=1)
        fit = float(per_joint.mean())
        hand = (pos[self._lm_nodes]) @ R  # back into the hand frame: R^T p
        return IKResult(
            angles_deg=np.degrees(theta).astype(np.float32),
            joints_hand_mm=hand.astype(np.float32),
            joints_world_mm=lm.astype(np.float32),
            global_rot=matrix_to_axis_angle(R).astype(np.float32),
            translation_mm=t.astype(np.float32),
            fit_error_mm=fit,
            per_joint_error_mm=per_joint.astype(np.float32),
            valid=bool(fit <= self.valid_threshold_mm),
            status="ok" if fit <= self.valid_threshold_mm else "poor_fit",
            side=self.model.side,
            iterations=it,
            bone_scale=self.bone_scale.astype(np.float32),
            size_factor=float(sigma),
        )


class HandTracker:
    """IK for the hand MediaPipe reports: one :class:`IKSolver` per side, with handedness hysteresis.

    MediaPipe's handedness sometimes flips for a few frames while the same hand
    stays in view, and its landmarks then take the other hand's geometry.  The
    tracker keeps the side it is tracking until the other side has been reported
    for ``switch_frames`` frames in a row; frames in between are returned invalid
    (status ``"handedness_flip"``), never fitted with the wrong hand.

    Parameters
    ----------
    models : dict[str, HandModel], optional
        Hand model per side (default: the built-in right and left hands).
    switch_frames : int
        Consecutive frames of the other side needed to switch sides.
    **solver_kwargs
        Passed to each :class:`IKSolver`.
    """

    def __init__(self, models: dict[str, HandModel] | None = None, switch_frames: int = 15, **solver_kwargs) -> None:
        if models is None:
            models = {"right": HandModel.builtin("right"), "left": HandModel.builtin("left")}
        self.solvers = {side: IKSolver(m, **solver_kwargs) for side, m in models.items()}
        self.switch_frames = switch_frames
        self.n_dof = next(iter(self.solvers.values())).n_dof
        self.side: str | None = None
        self._other = 0

    def reset(self) -> None:
        """Forget the tracked side, warm starts and bone scales of both hands."""
        for s in self.solvers.values():
            s.reset()
        self.side = None
        self._other = 0

    def update(self, world_m: np.ndarray | None, side: str | None) -> IKResult:
        """Fit one frame of MediaPipe world landmarks in **metres** (None: no hand).

        Returns an invalid all-NaN result when there is no hand, no model for
        that side, or a handedness flip (see the class docstring).
        """
        if world_m is None or side is None:
            for s in self.solvers.values():
                s.lose_track()
            return IKResult.no_hand(self.n_dof)
        solver = self.solvers.get(side)
        if solver is None:
            return IKResult.no_hand(self.n_dof, side, status="no_model")
        if self.side is None:
            self.side = side
        if side != self.side:
            self._other += 1
            if self._other < self.switch_frames:
                return IKResult.no_hand(self.n_dof, side, status="handedness_flip")
            log.info("tracked hand switched from %s to %s", self.side, side)
            self.solvers[self.side].lose_track()
            self.side = side
        self._other = 0
        return solver.solve(np.asarray(world_m, dtype=np.float64) * 1000.0)
