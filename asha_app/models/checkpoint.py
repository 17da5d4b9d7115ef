"""Model checkpoints: everything inference needs, validated before anything runs.

A checkpoint is one ``torch.save`` file (``.pt``) of a plain dict (loadable
with ``weights_only=True``):

=================  ==========================================================
key                content
=================  ==========================================================
format_version     :data:`FORMAT_VERSION` (int)
model              ``{"name", "config", "history"}``
state_dict         the model's tensors
normalizer         :meth:`Normalizer.to_dict` (training-split statistics; with
                   ``kind``/``tau_s``/``log_eps`` when the EMG normalisation is
                   running or takes a log -- without them it is fixed, as in
                   files written before the choice existed)
channels           ``{"names", "n", "device"}``
fs                 EMG sampling rate, Hz
window             :meth:`WindowSpec.to_dict` (ms)
filter             :meth:`FilterSpec.to_dict`
targets            ``{"names", "kind"}``
hand_model         ``{"name", "side", "bone_lengths_mm"}`` or None
data               sessions, split, counts
metrics            test (and validation) metrics
training           epochs, best epoch, losses, fine-tuning history
versions           asha, torch, numpy, python
=================  ==========================================================
"""

from __future__ import annotations

import logging
import math
import platform
from dataclasses import dataclass, field
from pathlib import Path

import numpy as np
import torch

import asha_app
from asha_app.core.atomic import atomic_write
from asha_app.core.errors import AshaError
from asha_app.data.labels import canonical_target_names
from asha_app.data.normalisation import Normalizer
from asha_app.data.windows import WindowSpec
from asha_app.dsp.filters import FilterDesignError, FilterSpec
from asha_app.models.base import EmgModel
from asha_app.models.registry import build
from asha_app.models.streaming import StreamingRunner

log = logging.getLogger(__name__)

FORMAT_VERSION = 1


class CheckpointError(AshaError):
    """A checkpoint file is missing, corrupt, or of an unknown format version."""


class CheckpointMismatchError(CheckpointError):
    """A checkpoint does not fit the data or device it is used with (channels, rate, device)."""


def versions() -> dict:
    """Versions of the software that wrote a checkpoint."""
    return {"asha": asha_app.__version__, "torch": str(torch.__version__), "numpy": str(np.__version__),
            "python": platform.python_version()}


@dataclass
class Checkpoint:
    """In-memory checkpoint (see the module docstring for the file layout)."""

    model_name: str
    model_config: dict
    state_dict: dict
    normalizer: Normalizer
    channel_names: list[str]
    fs: float
    window: WindowSpec
    filter_spec: FilterSpec
    target_names: list[str]
    target_kind: str
    history: int
    device: str = ""
    hand_model: dict | None = None
    data: dict = field(default_factory=dict)
    metrics: dict = field(default_factory=dict)
    training: dict = field(default_factory=dict)
    versions: dict = field(default_factory=versions)
    format_version: int = FORMAT_VERSION

    @property
    def n_channels(self) -> int:
        """EMG channels the model expects."""
        return len(self.channel_names)

    @classmethod
    def from_model(cls, model: EmgModel, **kw) -> Checkpoint:
        """Checkpoint of a trained model (state dict copied to CPU)."""
        sd = {k: v.detach().cpu().clone() for k, v in model.state_dict().items()}
        return cls(model_name=model.name, model_config=model.config(), state_dict=sd, history=model.history, **kw)

    def build_model(self) -> EmgModel:
        """The model with its weights, in eval mode."""
        m = build(self.model_name, n_channels=self.n_channels, n_targets=len(self.target_names), fs=self.fs,
                  **self.model_config)
        m.load_state_dict(self.state_dict)
        return m.eval()

    def runner(self, stride: int = 1):
        """A :class:`~asha_app.models.streaming.StreamingRunner` for live inference."""
        return StreamingRunner(self.build_model(), self.normalizer, self.filter_spec, stride=stride)

    def to_dict(self) -> dict:
        """The plain dict written to disk."""
        return {
            "format_version": self.format_version,
            "model": {"name": self.model_name, "config": self.model_config, "history": self.history},
            "state_dict": self.state_dict,
            "normalizer": self.normalizer.to_dict(),
            "channels": {"names": list(self.channel_names), "n": self.n_channels, "device": self.device},
            "fs": float(self.fs),
            "window": self.window.to_dict(),
            "filter": self.filter_spec.to_dict(),
            "targets": {"names": list(self.target_names), "kind": self.target_kind},
            "hand_model": self.hand_model,
            "data": self.data,
            "metrics": self.metrics,
            "training": self.training,
            "versions": self.versions,
        }

    def check_compatible(self, *, n_channels: int | None = None, fs: float | None = None,
                         device: str | None = None, target_names: list[str] | None = None) -> None:
        """Raise :class:`CheckpointMismatchError` if the checkpoint does not fit this data/device."""
        problems = []
        if n_channels is not None and n_channels != self.n_channels:
            problems.append(f"it expects {self.n_channels} EMG channels, the data has {n_channels}")
        if fs is not None and abs(float(fs) - self.fs) > 1e-6:
            problems.append(f"it was trained at {self.fs:g} Hz, the data is sampled at {float(fs):g} Hz")
        if device is not None and self.device and device != self.device:
            problems.append(f"it was trained on device {self.device!r}, this is {device!r}")
        if target_names is not None and list(target_names) != list(self.target_names):
            problems.append(f"it predicts {self.target_names[:5]}..., the data has {list(target_names)[:5]}...")
        if problems:
            raise CheckpointMismatchError(
                "this model does not fit: " + "; ".join(problems) + ". Train or calibrate a model for this setup.")


def save(ckpt: Checkpoint, path: str | Path) -> Path:
    """Write a checkpoint (atomically: temp file then rename)."""
    path = Path(path)
    try:
        with atomic_write(path) as tmp:
            torch.save(ckpt.to_dict(), tmp)
    except OSError as exc:
        raise CheckpointError(f"could not write the checkpoint {path} ({exc.strerror or exc}); choose a writable "
                              "folder with free space. Nothing was left under that name.") from exc
    log.info("checkpoint written: %s", path)
    return path


def from_dict(d: dict) -> Checkpoint:
    """A :class:`Checkpoint` from its :meth:`Checkpoint.to_dict` form, without version checks.

    Raises
    ------
    KeyError, TypeError, ValueError
        A missing or malformed entry (callers turn these into :class:`CheckpointError`).
    """
    return Checkpoint(
        model_name=d["model"]["name"], model_config=d["model"]["config"], history=int(d["model"]["history"]),
        state_dict=d["state_dict"], normalizer=Normalizer.from_dict(d["normalizer"]),
        channel_names=list(d["channels"]["names"]), device=d["channels"].get("device", ""), fs=float(d["fs"]),
        window=WindowSpec.from_dict(d["window"]), filter_spec=FilterSpec.from_dict(d["filter"]),
        target_names=canonical_target_names(d["targets"]["kind"], d["targets"]["names"]),
        target_kind=d["targets"]["kind"], hand_model=d.get("hand_model"),
        data=d.get("data", {}), metrics=d.get("metrics", {}), training=d.get("training", {}),
        versions=d.get("versions", {}), format_version=d["format_version"])


def load(path: str | Path, *, n_channels: int | None = None, fs: float | None = None, device: str | None = None,
         target_names: list[str] | None = None) -> Checkpoint:
    """Read and validate a checkpoint.

    Parameters
    ----------
    path : path
        ``.pt`` file written by :func:`save`.
    n_channels, fs, device, target_names : optional
        What the caller will feed it; a mismatch raises before anything runs.

    Raises
    ------
    CheckpointError
        Missing or unreadable file, not an Asha checkpoint, unknown format version.
    CheckpointMismatchError
        Channel count, sampling rate, device or targets differ from what is given.
    """
    path = Path(path)
    if not path.is_file():
        raise CheckpointError(f"{path} does not exist; train a model first or pick another file")
    try:
        d = torch.load(path, map_location="cpu", weights_only=True)
    except Exception as exc:  # torch raises many types for foreign/corrupt files
        raise CheckpointError(f"{path} is not a readable model checkpoint ({type(exc).__name__}: {exc})") from exc
    if not isinstance(d, dict) or "format_version" not in d:
        raise CheckpointError(f"{path} is not an Asha model checkpoint (no format version)")
    if d["format_version"] != FORMAT_VERSION:
        raise CheckpointError(
            f"{path} has checkpoint format version {d['format_version']!r}; this Asha reads version {FORMAT_VERSION}. "
            "Use the Asha version that wrote it or retrain.")
    try:
        ckpt = from_dict(d)
    except FilterDesignError as exc:
        raise CheckpointError(f"{path} was trained with a filter that cannot exist at its sampling rate ({exc}); "
                              "earlier Asha versions replaced such a band-pass by a high-pass without a word. "
                              "Retrain the model (asha train --filter auto picks the filter the data asks for).",
                              ) from exc
    except (KeyError, TypeError, ValueError, AttributeError) as exc:
        raise CheckpointError(f"{path} is damaged: missing or bad entry {exc}") from exc
    if not (math.isfinite(ckpt.fs) and ckpt.fs > 0):
        raise CheckpointError(f"{path} is damaged: its sampling rate is {ckpt.fs!r} Hz, not a positive number. "
                              "Retrain the model.")
    try:
        ckpt.build_model()  # the weights must fit the declared architecture: refuse now, not at the first window
    except (KeyError, TypeError, ValueError, RuntimeError) as exc:
        first = str(exc).strip().splitlines()[0] if str(exc).strip() else type(exc).__name__
        raise CheckpointError(f"{path} is damaged: its weights do not fit the declared model "
                              f"{ckpt.model_name!r} ({first}). Retrain the model or pick another file.") from exc
    ckpt.check_compatible(n_channels=n_channels, fs=fs, device=device, target_names=target_names)
    return ckpt
