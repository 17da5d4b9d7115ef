"""MANO hand through :mod:`smplx`, from a user's own licensed model file, loaded without chumpy.

MANO (Romero, Tzionas & Black 2017, "Embodied Hands") may not be shipped: each
user downloads ``MANO_RIGHT.pkl`` / ``MANO_LEFT.pkl`` after registering at
mano.is.tue.mpg.de and points Asha's setting at it.  The official pickle holds
``chumpy`` objects, and chumpy does not import on Python 3.11, so
:func:`load_mano_arrays` reads it with a *restricted* unpickler that maps the
chumpy classes onto plain numpy arrays and refuses any other class (a pickle
can run code; this one may only build numpy/scipy arrays).  ``.npz`` files (for
example written by :func:`convert_to_npz`) are read with ``allow_pickle=False``.

The arrays go to ``smplx.MANO(..., data_struct=Struct(**arrays))``, smplx's
documented way of passing preloaded model data.

Joints: MANO's regressor gives 16 joints (0 wrist; index 1-3, middle 4-6,
little 7-9, ring 10-12, thumb 13-15, each MCP/PIP/DIP, thumb CMC/MCP/IP); the
fingertips are mesh vertices (``MANO_TIP_VERTICES``: 745, 317, 444, 556, 673
for thumb, index, middle, ring, little, the ids in common use).
:data:`MANO_TO_MEDIAPIPE` reorders the 21 into MediaPipe's order.

Any problem with the file (missing, unreadable, wrong content) raises
:class:`ManoFileError` naming the file; :func:`load_hand` turns that into a
message and falls back to the built-in hand.
"""

from __future__ import annotations

import logging
import pickle
from pathlib import Path

import numpy as np
import torch

from asha_app.core.atomic import atomic_write
from asha_app.core.errors import AshaError
from asha_app.pose.hand_model import HandModel

log = logging.getLogger(__name__)

MANO_TIP_VERTICES = {"thumb": 745, "index": 317, "middle": 444, "ring": 556, "little": 673}
#: index into [16 MANO joints + 5 tips (thumb, index, middle, ring, little)] for each MediaPipe landmark
MANO_TO_MEDIAPIPE = np.array([0, 13, 14, 15, 16, 1, 2, 3, 17, 4, 5, 6, 18, 10, 11, 12, 19, 7, 8, 9, 20])
N_VERTS = 778
N_JOINTS = 16
REQUIRED = {
    "v_template": (N_VERTS, 3),
    "shapedirs": (N_VERTS, 3, None),
    "posedirs": (N_VERTS, 3, 135),
    "J_regressor": (N_JOINTS, N_VERTS),
    "weights": (N_VERTS, N_JOINTS),
    "kintree_table": (2, N_JOINTS),
    "f": (None, 3),
    "hands_components": (45, 45),
    "hands_mean": (45,),
}


class ManoFileError(AshaError):
    """A MANO model file is missing, unreadable or not a MANO model."""


class _ChumpyStub:
    """Stands in for chumpy objects while unpickling; keeps their state dict."""

    def __init__(self, *args, **kwargs) -> None:
        self._args = args

    def __setstate__(self, state) -> None:
        self.__dict__.update(state if isinstance(state, dict) else {"x": state})

    def to_array(self) -> np.ndarray:
        for key in ("x", "a", "r"):
            if key in self.__dict__:
                v = self.__dict__[key]
                return v.to_array() if isinstance(v, _ChumpyStub) else np.asarray(v)
        raise ManoFileError("a chumpy object in the MANO file carries no array")


_ALLOWED = {
    ("numpy", "ndarray"),
    ("numpy", "dtype"),
    ("numpy.core.multiarray", "_reconstruct"),
    ("numpy.core.multiarray", "scalar"),
    ("numpy._core.multiarray", "_reconstruct"),
    ("numpy._core.multiarray", "scalar"),
    ("scipy.sparse.csc", "csc_matrix"),
    ("scipy.sparse._csc", "csc_matrix"),
    ("scipy.sparse.csr", "csr_matrix"),
    ("scipy.sparse._csr", "csr_matrix"),
    ("builtins", "object"),
    ("copy_reg", "_reconstructor"),
    ("copyreg", "_reconstructor"),
    ("__builtin__", "object"),
    ("_codecs", "encode"),  # bytes in protocol-2 pickles written by Python 3
}


class _ManoUnpickler(pickle.Unpickler):
    def find_class(self, module: str, name: str):
        if module.startswith("chumpy"):
            return _ChumpyStub
        if (module, name) in _ALLOWED:
            if module == "__builtin__":
                module = "builtins"
            if module == "copy_reg":
                module = "copyreg"
            return super().find_class(module, name)
        raise pickle.UnpicklingError(f"class {module}.{name} is not allowed in a MANO file")


def _plain(v):
    if isinstance(v, _ChumpyStub):
        return v.to_array()
    if hasattr(v, "toarray") and "scipy.sparse" in type(v).__module__:
        return np.asarray(v.toarray())
    return v


def load_mano_arrays(path: str | Path) -> dict[str, np.ndarray]:
    """Read a MANO model file (``.pkl`` official, or ``.npz``) into plain numpy arrays.

    Parameters
    ----------
    path : str or Path

    Returns
    -------
    dict[str, numpy.ndarray]
        At least the keys of :data:`REQUIRED`, shapes checked.

    Raises
    ------
    ManoFileError
        If the file is missing, cannot be read, or lacks/mis-shapes a MANO array.
    """
    path = Path(path)
    if not path.is_file():
        raise ManoFileError(f"MANO file not found: {path}. Download MANO_RIGHT.pkl from mano.is.tue.mpg.de and point "
                            "the setting at it.")
    try:
        if path.suffix.lower() == ".npz":
            with np.load(path, allow_pickle=False) as z:
                data = {k: z[k] for k in z.files}
        else:
            with open(path, "rb") as fh:
                raw = _ManoUnpickler(fh, encoding="latin1").load()
            if not isinstance(raw, dict):
                raise ManoFileError(f"{path} does not hold a MANO model (a dict of arrays), found {type(raw).__name__}")
            data = {k: _plain(v) for k, v in raw.items()}
    except ManoFileError:
        raise
    except (OSError, EOFError, ValueError, pickle.UnpicklingError, AttributeError, TypeError, KeyError) as exc:
        raise ManoFileError(f"cannot read the MANO file {path}: {exc}. Use the official MANO_RIGHT.pkl / MANO_LEFT.pkl "
                            "or an .npz made from it.") from exc
    for key, shape in REQUIRED.items():
        if key not in data:
            raise ManoFileError(f"{path} is not a MANO model: array {key!r} is missing")
        arr = np.asarray(data[key])
        if arr.ndim != len(shape) or any(s is not None and s != a for s, a in zip(shape, arr.shape)):
            raise ManoFileError(f"{path} is not a MANO model: {key!r} has shape {arr.shape}, expected {shape}")
        data[key] = arr
    return data


def convert_to_npz(pkl_path: str | Path, npz_path: str | Path) -> Path:
    """Convert an official MANO pickle to a chumpy-free ``.npz`` (for the user's own machine only)."""
    data = load_mano_arrays(pkl_path)
    npz_path = Path(npz_path)
    with atomic_write(npz_path) as tmp, open(tmp, "wb") as fh:
        np.savez(fh, **{k: np.asarray(v) for k, v in data.items() if isinstance(v, np.ndarray) and v.dtype != object})
    return npz_path


class ManoHand:
    """smplx's MANO built from preloaded arrays, returning MediaPipe-ordered joints in millimetres.

    Parameters
    ----------
    arrays : dict
        From :func:`load_mano_arrays`.
    side : str
        ``"right"`` or ``"left"``.
    source : str
        Where the arrays came from (for messages).
    """

    def __init__(self, arrays: dict, side: str = "right", source: str = "") -> None:
        import smplx  # noqa: PLC0415 - smplx on first use
        from smplx.utils import Struct  # noqa: PLC0415 - smplx on first use

        self.side = side
        self.source = source
        n_betas = int(np.asarray(arrays["shapedirs"]).shape[-1])
        self.n_betas = min(n_betas, 10)
        try:
            self.layer = smplx.MANO(
                model_path=source or "MANO",
                data_struct=Struct(**arrays),
                is_rhand=(side == "right"),
                use_pca=False,
                flat_hand_mean=True,
                num_betas=self.n_betas,
                batch_size=1,
            )
        except (ValueError, IndexError, RuntimeError, TypeError) as exc:
            raise ManoFileError(f"smplx could not build MANO from {source or 'the given arrays'}: {exc}") from exc
        self.faces = np.asarray(arrays["f"], dtype=np.int64)
        self._tips = torch.as_tensor(list(MANO_TIP_VERTICES.values()))
        self._order = torch.as_tensor(MANO_TO_MEDIAPIPE)

    @classmethod
    def from_file(cls, path: str | Path, side: str = "right") -> ManoHand:
        """Load a user's MANO file (see :func:`load_mano_arrays`)."""
        return cls(load_mano_arrays(path), side, str(path))

    def forward(
        self,
        hand_pose: torch.Tensor,
        global_orient: torch.Tensor | None = None,
        betas: torch.Tensor | None = None,
        transl_mm: torch.Tensor | None = None,
    ) -> tuple[torch.Tensor, torch.Tensor]:
        """MANO forward pass.

        Parameters
        ----------
        hand_pose : tensor (B, 45)
            Axis-angle of the 15 finger joints (rad), flat-hand mean.
        global_orient : tensor (B, 3), optional
        betas : tensor (B, n_betas), optional
        transl_mm : tensor (B, 3), optional

        Returns
        -------
        joints : tensor (B, 21, 3)
            MediaPipe order, millimetres.
        vertices : tensor (B, 778, 3)
            Millimetres.
        """
        B = hand_pose.shape[0]
        dt = self.layer.shapedirs.dtype
        go = torch.zeros(B, 3, dtype=dt) if global_orient is None else global_orient.to(dt)
        be = torch.zeros(B, self.n_betas, dtype=dt) if betas is None else betas.to(dt)
        out = self.layer(betas=be, global_orient=go, hand_pose=hand_pose.to(dt), transl=torch.zeros(B, 3, dtype=dt))
        verts = out.vertices * 1000.0
        joints16 = out.joints[:, :N_JOINTS] * 1000.0
        joints = torch.cat([joints16, verts[:, self._tips]], 1)[:, self._order]
        if transl_mm is not None:
            joints = joints + transl_mm.to(dt)[:, None]
            verts = verts + transl_mm.to(dt)[:, None]
        return joints, verts

    __call__ = forward


class ManoFitter:
    """Fit MANO pose, shape, orientation and translation to world landmarks (mm).

    A slower, optional backend to :class:`~asha_app.pose.ik.IKSolver`: a few
    L-BFGS iterations per frame on the joint distance with a small L2 prior on
    pose and shape (MANO has no joint limits), warm-started from the previous frame.

    Parameters
    ----------
    hand : ManoHand
    iters : int
        L-BFGS iterations per frame.
    pose_prior, shape_prior : float
        Weights of the L2 priors (mm^2 per rad^2 / per unit beta).
    """

    def __init__(self, hand: ManoHand, iters: int = 20, pose_prior: float = 10.0, shape_prior: float = 10.0) -> None:
        self.hand = hand
        self.iters = iters
        self.pose_prior = pose_prior
        self.shape_prior = shape_prior
        self.reset()

    def reset(self) -> None:
        dt = self.hand.layer.shapedirs.dtype
        self.pose = torch.zeros(1, 45, dtype=dt, requires_grad=True)
        self.orient = torch.zeros(1, 3, dtype=dt, requires_grad=True)
        self.betas = torch.zeros(1, self.hand.n_betas, dtype=dt, requires_grad=True)
        self.transl: torch.Tensor | None = None

    def fit(self, world_mm: np.ndarray) -> dict:
        """Fit one frame; returns ``joints_mm (21,3)``, ``vertices_mm``, ``hand_pose``, ``betas``, ``fit_error_mm``."""
        dt = self.hand.layer.shapedirs.dtype
        target = torch.as_tensor(np.asarray(world_mm), dtype=dt).reshape(1, 21, 3)
        if self.transl is None:
            self.transl = (target[:, 0] - 0).clone().detach().requires_grad_(True)
        params: list[torch.Tensor] = [self.pose, self.orient, self.betas, self.transl]
        opt = torch.optim.LBFGS(params, max_iter=self.iters, line_search_fn="strong_wolfe")

        def closure():
            opt.zero_grad()
            j, _ = self.hand(self.pose, self.orient, self.betas, self.transl)
            loss = (((j - target) ** 2).sum(-1).mean() + self.pose_prior * (self.pose**2).mean()
                    + self.shape_prior * (self.betas**2).mean())
            loss.backward()
            return loss

        opt.step(closure)
        with torch.no_grad():
            j, v = self.hand(self.pose, self.orient, self.betas, self.transl)
            err = torch.linalg.vector_norm(j - target, dim=-1).mean().item()
        return {
            "joints_mm": j[0].numpy(),
            "vertices_mm": v[0].numpy(),
            "hand_pose": self.pose.detach()[0].numpy().copy(),
            "betas": self.betas.detach()[0].numpy().copy(),
            "fit_error_mm": err,
        }


def side_from_name(path: str | Path) -> str:
    """``"left"`` if the file name says LEFT (as MANO_LEFT.pkl does), else ``"right"``."""
    return "left" if "left" in Path(path).name.lower() else "right"


def load_hand(mano_path: str | Path | None, side: str = "right"):
    """The MANO hand from ``mano_path`` if it loads, else the built-in hand.

    Returns
    -------
    hand : ManoHand or HandModel
    message : str or None
        A user-facing explanation when the MANO file was given but could not be used.
    """
    if mano_path:
        try:
            return ManoHand.from_file(mano_path, side), None
        except ManoFileError as exc:
            msg = f"{exc} Using the built-in hand model instead."
            log.warning(msg)
            return HandModel.builtin(side), msg
    return HandModel.builtin(side), None
