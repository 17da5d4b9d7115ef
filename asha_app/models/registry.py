"""Every model by name: ``build(name, n_channels=..., n_targets=..., fs=..., **config)``.

Pose models (ridge, riemann, seed, envtcn, msenv, msriem) and gesture classifiers (lda, mlp, mlpx, mhcnn, proto:
:mod:`asha_app.gestures.models`) share the registry; a model class's ``task``
attribute (``"pose"`` when absent) says which, and :func:`available` lists one task's.
"""

from __future__ import annotations

from collections.abc import Iterable

from asha_app.core.errors import ConfigError
from asha_app.models import msenv, msriem, ridge, riemann, seed, tcn
from asha_app.models.base import EmgModel

_REGISTRY: dict[str, tuple[type, dict]] = {}

#: the model ``asha train``, the training wizard and calibration from scratch use unless told otherwise
DEFAULT_MODEL = "envtcn"
#: the default for recordings of one signal kind (:mod:`asha_app.data.signal_kind`) where another model was
#: measured better on such data: on RMS envelopes (NinaPro DB1, within subject) msriem R^2 0.803 against
#: envtcn's 0.67 and msenv's 0.795 (docs/models.md); raw sEMG and normalised values keep envtcn (the paired
#: Myo session: docs/models.md)
DEFAULT_BY_KIND = {"rms_envelope": "msriem"}


def default_model(kinds: Iterable[str] = ()) -> str:
    """The default pose model for recordings whose signal kinds are ``kinds`` (``SignalInfo.kind`` of each).

    :data:`DEFAULT_BY_KIND`'s model when every recording is of that kind, else :data:`DEFAULT_MODEL` (also for
    no recordings, or a mix of kinds).
    """
    found = set(kinds)
    if len(found) == 1:
        return DEFAULT_BY_KIND.get(found.pop(), DEFAULT_MODEL)
    return DEFAULT_MODEL


def register(name: str, cls: type, defaults: dict) -> None:
    """Add a model class with its default configuration."""
    _REGISTRY[name] = (cls, dict(defaults))


def _load_builtin() -> None:
    if _REGISTRY:
        return
    register("ridge", ridge.RidgeRegressor, ridge.DEFAULTS)
    register("seed", seed.SeedConvLSTM, seed.DEFAULTS)
    register("envtcn", tcn.EnvelopeTCN, tcn.DEFAULTS)
    register("msenv", msenv.MultiScaleEnvelopeNet, msenv.DEFAULTS)
    register("riemann", riemann.RiemannRegressor, riemann.DEFAULTS)
    register("msriem", msriem.MsRiemNet, msriem.DEFAULTS)
    from asha_app.gestures import models as gesture_models  # noqa: PLC0415 - torch on first use

    gesture_models.register_all(register)


def task_of(name: str) -> str:
    """``"pose"`` or ``"gesture"``: what the named model predicts."""
    _load_builtin()
    if name not in _REGISTRY:
        raise ConfigError(f"unknown model {name!r}; available: {', '.join(available(None))}")
    return getattr(_REGISTRY[name][0], "task", "pose")


def available(task: str | None = "pose") -> list[str]:
    """Names of the registered models of one task (``"pose"``, ``"gesture"``; None: all)."""
    _load_builtin()
    return sorted(n for n, (cls, _) in _REGISTRY.items() if task is None or getattr(cls, "task", "pose") == task)


def default_config(name: str) -> dict:
    """Default configuration of a model (a copy)."""
    _load_builtin()
    if name not in _REGISTRY:
        raise ConfigError(f"unknown model {name!r}; available: {', '.join(available(None))}")
    return dict(_REGISTRY[name][1])


def build(name: str, *, n_channels: int, n_targets: int, fs: float, **config) -> EmgModel:
    """Build a model.

    Parameters
    ----------
    name : str
        ``"ridge"``, ``"seed"``, ``"envtcn"`` (pose) or ``"lda"``, ``"mhcnn"``, ``"proto"`` (gesture);
        see :func:`available`.
    n_channels, n_targets : int
    fs : float
        Sampling rate, Hz.
    **config
        Overrides of the defaults.

    Raises
    ------
    ConfigError
        Unknown model or configuration key.
    """
    cfg = default_config(name)
    unknown = sorted(set(config) - set(cfg))
    if unknown:
        raise ConfigError(f"model {name!r} has no setting(s) {unknown}; settings: {sorted(cfg)}")
    cfg.update(config)
    cls = _REGISTRY[name][0]
    return cls(n_channels=n_channels, n_targets=n_targets, fs=fs, **cfg)
