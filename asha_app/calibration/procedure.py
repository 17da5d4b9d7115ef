"""Per-user calibration, Qt-free: protocol, quality gate, fine-tuning, before/after evaluation, report card, profile.

Flow (the wizard in :mod:`asha_app.ui.calibration_wizard` is a thin view over it)::

    settings (participant, base model or none, placement notes, strategy)
      -> record :func:`calibration_protocol` (~2.5 min) with the recording machinery
         (RecordingProcedure + RecorderWorker, camera labels)
      -> :func:`check_quality`: no EMG / no hand / prompts with too few valid labels -> redo those prompts
      -> :func:`calibrate` (generator of :class:`CalibrationEvent`):
           split the recording in time: calibration part | gap | held-out block (last 25 %)
           base model (given checkpoint, or trained from scratch on the calibration part)
           evaluate base on the held-out block, fine-tune (strategy), evaluate again
           report card PNG, input statistics, profile written atomically

Every failure raises :class:`CalibrationError` (an :class:`AshaError`) saying
what to do, and nothing is written before the profile is complete.
"""

from __future__ import annotations

import logging
import time
from collections.abc import Iterator
from dataclasses import dataclass, field
from pathlib import Path
from typing import Literal

import numpy as np

from asha_app.calibration import strategies as S
from asha_app.calibration.parts import as_list, duration_s, has_valid_labels
from asha_app.inference.ood import InputMonitor
from asha_app.calibration.profile import UserProfile, default_path, save_profile
from asha_app.calibration.report import render_report_card
from asha_app.core.errors import AshaError, DatasetError
from asha_app.data.labels import select_targets
from asha_app.data.recording import Recording
from asha_app.data.windows import WindowSpec, device_name
from asha_app.models import checkpoint as C
from asha_app.models import train as T
from asha_app.models.fingers import FINGERS, units_of
from asha_app.pose.contract import PoseContractError, check_drives_hand
from asha_app.protocols.model import parse_protocol

log = logging.getLogger(__name__)

#: registry model used when no base model is given ("train from scratch"): the best small model
SCRATCH_MODEL = "envtcn"

CALIBRATION_PROTOCOL_TOML = """
name = "Calibration"
description = "Short per-user calibration: rest, fist, open hand and each finger, with the camera on."
version = 1
countdown_s = 3.0
order = "interleaved"

# target hands shown in the 3D view (joint angles in degrees by the hand model's DOF names, as in
# resources/protocols/*.toml: 0 = straight, flexion positive towards the palm)
[poses]
rest = { thumb_cmc_flexion = 10.0, thumb_cmc_abduction = 10.0, thumb_mcp_flexion = 10.0, thumb_ip_flexion = 10.0, index_mcp_flexion = 15.0, index_pip_flexion = 20.0, index_dip_flexion = 10.0, middle_mcp_flexion = 15.0, middle_pip_flexion = 20.0, middle_dip_flexion = 10.0, ring_mcp_flexion = 15.0, ring_pip_flexion = 20.0, ring_dip_flexion = 10.0, little_mcp_flexion = 15.0, little_pip_flexion = 20.0, little_dip_flexion = 10.0 }
fist = { thumb_cmc_flexion = 40.0, thumb_cmc_abduction = 10.0, thumb_mcp_flexion = 50.0, thumb_ip_flexion = 40.0, index_mcp_flexion = 85.0, index_pip_flexion = 100.0, index_dip_flexion = 60.0, middle_mcp_flexion = 85.0, middle_pip_flexion = 100.0, middle_dip_flexion = 60.0, ring_mcp_flexion = 85.0, ring_pip_flexion = 100.0, ring_dip_flexion = 60.0, little_mcp_flexion = 85.0, little_pip_flexion = 100.0, little_dip_flexion = 60.0 }
open = { thumb_cmc_flexion = 0.0, thumb_cmc_abduction = 30.0, thumb_mcp_flexion = 0.0, thumb_ip_flexion = 0.0, index_mcp_flexion = 0.0, index_pip_flexion = 0.0, index_dip_flexion = 0.0, middle_mcp_flexion = 0.0, middle_pip_flexion = 0.0, middle_dip_flexion = 0.0, ring_mcp_flexion = 0.0, ring_pip_flexion = 0.0, ring_dip_flexion = 0.0, little_mcp_flexion = 0.0, little_pip_flexion = 0.0, little_dip_flexion = 0.0, index_mcp_abduction = 10.0, ring_mcp_abduction = 8.0, little_mcp_abduction = 15.0 }
thumb_flexed = { thumb_cmc_flexion = 45.0, thumb_cmc_abduction = 20.0, thumb_mcp_flexion = 55.0, thumb_ip_flexion = 60.0, index_mcp_flexion = 15.0, index_pip_flexion = 20.0, index_dip_flexion = 10.0, middle_mcp_flexion = 15.0, middle_pip_flexion = 20.0, middle_dip_flexion = 10.0, ring_mcp_flexion = 15.0, ring_pip_flexion = 20.0, ring_dip_flexion = 10.0, little_mcp_flexion = 15.0, little_pip_flexion = 20.0, little_dip_flexion = 10.0 }
index_flexed = { thumb_cmc_flexion = 10.0, thumb_cmc_abduction = 10.0, thumb_mcp_flexion = 10.0, thumb_ip_flexion = 10.0, index_mcp_flexion = 80.0, index_pip_flexion = 95.0, index_dip_flexion = 55.0, middle_mcp_flexion = 15.0, middle_pip_flexion = 20.0, middle_dip_flexion = 10.0, ring_mcp_flexion = 15.0, ring_pip_flexion = 20.0, ring_dip_flexion = 10.0, little_mcp_flexion = 15.0, little_pip_flexion = 20.0, little_dip_flexion = 10.0 }
middle_flexed = { thumb_cmc_flexion = 10.0, thumb_cmc_abduction = 10.0, thumb_mcp_flexion = 10.0, thumb_ip_flexion = 10.0, index_mcp_flexion = 15.0, index_pip_flexion = 20.0, index_dip_flexion = 10.0, middle_mcp_flexion = 80.0, middle_pip_flexion = 95.0, middle_dip_flexion = 55.0, ring_mcp_flexion = 15.0, ring_pip_flexion = 20.0, ring_dip_flexion = 10.0, little_mcp_flexion = 15.0, little_pip_flexion = 20.0, little_dip_flexion = 10.0 }
ring_little_flexed = { thumb_cmc_flexion = 10.0, thumb_cmc_abduction = 10.0, thumb_mcp_flexion = 10.0, thumb_ip_flexion = 10.0, index_mcp_flexion = 15.0, index_pip_flexion = 20.0, index_dip_flexion = 10.0, middle_mcp_flexion = 15.0, middle_pip_flexion = 20.0, middle_dip_flexion = 10.0, ring_mcp_flexion = 80.0, ring_pip_flexion = 95.0, ring_dip_flexion = 55.0, little_mcp_flexion = 80.0, little_pip_flexion = 95.0, little_dip_flexion = 55.0 }

[[prompts]]
label = "rest"
instruction = "Relax your hand, fingers loosely curled."
duration_s = 5.0
repetitions = 3
rest_s = 2.0
target = "rest"

[[prompts]]
label = "fist"
instruction = "Close your hand into a fist, then hold."
duration_s = 5.0
repetitions = 3
rest_s = 2.0
target = "fist"

[[prompts]]
label = "open hand"
instruction = "Spread your fingers wide open, then hold."
duration_s = 5.0
repetitions = 3
rest_s = 2.0
target = "open"

[[prompts]]
label = "thumb flexion"
instruction = "Bend your thumb slowly across the palm and back."
duration_s = 4.0
repetitions = 2
rest_s = 1.5
target = "thumb_flexed"

[[prompts]]
label = "index flexion"
instruction = "Bend your index finger slowly and back."
duration_s = 4.0
repetitions = 2
rest_s = 1.5
target = "index_flexed"

[[prompts]]
label = "middle flexion"
instruction = "Bend your middle finger slowly and back."
duration_s = 4.0
repetitions = 2
rest_s = 1.5
target = "middle_flexed"

[[prompts]]
label = "ring and little flexion"
instruction = "Bend your ring and little fingers slowly and back."
duration_s = 4.0
repetitions = 2
rest_s = 1.5
target = "ring_little_flexed"

[[prompts]]
label = "free movement"
instruction = "Move your fingers freely, slowly, in any combination."
duration_s = 20.0
repetitions = 1
rest_s = 0.0
"""  # noqa: E501 - a TOML inline table (a pose) is one line


class CalibrationError(AshaError):
    """Calibration cannot go on (no EMG, no hand seen, too few labels, mismatched model)."""


def calibration_protocol():
    """The calibration protocol (a :class:`asha_app.protocols.model.Protocol`, about 2.5 minutes)."""
    return parse_protocol(CALIBRATION_PROTOCOL_TOML, "calibration protocol")


@dataclass
class CalibrationSettings:
    """What the first wizard page asks.

    Attributes
    ----------
    participant : str
    base_checkpoint : path or None
        Model to adapt; None trains :data:`SCRATCH_MODEL` from scratch on the calibration data.
    placement_notes : str
    strategy : str
        Key of :data:`asha_app.calibration.strategies.STRATEGIES`.
    holdout_fraction : float
        Last share of the recording kept for the before/after evaluation.
    min_valid_share : float
        Quality gate: a prompt needs at least this share of valid camera labels.
    max_time_s : float
        Fine-tuning time budget.
    device : dict
        ``{"name", "fs", "n_channels", "channel_names", "channel_map", "decimation"}`` of the live stream.
    bone_lengths_mm : list or None
        From the IK calibration, when available.
    """

    participant: str
    base_checkpoint: str | Path | None = None
    placement_notes: str = ""
    strategy: str = S.DEFAULT_STRATEGY
    holdout_fraction: float = 0.25
    min_valid_share: float = 0.6
    max_time_s: float = 45.0
    scratch_time_s: float = 60.0
    device: dict = field(default_factory=dict)
    bone_lengths_mm: list | None = None


@dataclass
class QualityReport:
    """Outcome of :func:`check_quality`.

    ``shares``: label -> share of valid labels (None: no frame at all); ``redo``: labels below the gate.
    """

    ok: bool
    shares: dict
    redo: list[str]
    message: str


#: shortest held-out block (s) the before/after evaluation needs
MIN_HELDOUT_S = 2.0


def check_quality(rec: Recording, min_valid_share: float = 0.6, holdout_fraction: float = 0.25,
                  held=None) -> QualityReport:
    """The quality gate of a calibration recording.

    Passes when every prompt has at least ``min_valid_share`` valid hand labels and the
    held-out block that :func:`calibrate` evaluates on (the last ``holdout_fraction`` of
    the recording, after a gap; or ``held``, a recording or list of pieces, when given) is at
    least :data:`MIN_HELDOUT_S` long with valid labels, so a recording that passes here never
    fails later in fine-tuning for its length.

    Raises
    ------
    CalibrationError
        No EMG at all (armband disconnected) or not one valid hand label (no hand visible).
    """
    if rec.emg.ndim != 2 or len(rec.emg) < max(10, int(rec.fs)):
        raise CalibrationError("no EMG data arrived during calibration: check that the armband is switched on, "
                               "connected (Device → Start shows its signal) and worn, then record again")
    valid = np.asarray(rec.valid, bool)
    if len(valid) == 0 or not valid.any():
        raise CalibrationError("no hand was seen by the camera during calibration: put your hand in view "
                               "(palm towards the camera, good light), check the camera preview, and record again")
    t = np.asarray(rec.label_t)
    shares: dict[str, float | None] = {}
    for label in dict.fromkeys(p.label for p in rec.prompts):
        sel = np.zeros(len(t), bool)
        for p in rec.prompts:
            if p.label == label:
                sel |= (t >= p.start) & (t < p.end)
        shares[label] = float(valid[sel].mean()) if sel.any() else None
    redo = [k for k, v in shares.items() if v is None or v < min_valid_share]
    if held is None:
        _, held = S.split_holdout(rec, holdout_fraction)
    held_s = duration_s(held)
    held_valid = has_valid_labels(held)
    held_ok = held_s >= MIN_HELDOUT_S and held_valid
    if redo:
        msg = ("too few valid hand labels in: " + ", ".join(
            f"{k} ({0 if (s := shares[k]) is None else round(100 * s)} %)" for k in redo)
            + f". Redo these prompts with the whole hand in view (need {round(100 * min_valid_share)} %).")
    elif not held_ok:
        msg = (f"the recording ({rec.duration:.0f} s) leaves {held_s:.1f} s of held-out test data with "
               f"{'no' if not held_valid else 'some'} valid labels at its end; the "
               f"before/after test needs at least {MIN_HELDOUT_S:g} s with the hand in view: record the whole protocol "
               "and keep the hand in view until the end")
    else:
        msg = f"label quality ok ({round(100 * float(valid.mean()))} % valid overall)"
    return QualityReport(not redo and held_ok, shares, redo, msg)


@dataclass
class CalibrationEvent:
    """Progress of :func:`calibrate`: ``stage`` in check/base/finetune/evaluate/report/saved/done, ``fraction`` 0..1."""

    stage: str
    fraction: float
    message: str
    progress: T.ProgressEvent | None = None
    result: CalibrationResult | None = None


@dataclass
class CalibrationResult:
    """What a finished calibration produced."""

    profile: UserProfile
    profile_path: Path | None
    before: dict
    after: dict
    report_png: Path | None
    quality: QualityReport
    finetune_s: float
    #: ``"calibrated"``: the profile holds the fine-tuned model; ``"base"``: fine-tuning did not lower the
    #: held-out error, so the profile holds the base model unchanged (:func:`keep_better`)
    kept: str = "calibrated"

    def summary(self) -> str:
        """The wizard's line for this result (:func:`summary`)."""
        return summary(self.before, self.after, self.kept)


def scratch_checkpoint(rec, settings: CalibrationSettings, cancel=None,
                       model_name: str = SCRATCH_MODEL) -> Iterator[T.ProgressEvent]:
    """Train a model from scratch on the calibration recording (the wizard's path without a base model).

    Parameters
    ----------
    rec : Recording or list of Recording
        The calibration recording (or its pieces).
    settings : CalibrationSettings
        Its ``scratch_time_s`` bounds the training time.
    cancel : callable, optional
    model_name : str
        Registry model (default :data:`SCRATCH_MODEL`; benchmarks compare others).

    Yields
    ------
    ProgressEvent
        :func:`asha_app.models.train.run`'s events; the last carries the checkpoint.
    """
    recs = as_list(rec)  # no filter given: the one the recording's signal kind asks for (auto_filter_spec)
    job = T.prepare(recs, model_name=model_name, window=WindowSpec(1500.0, max(20.0, 3000.0 / recs[0].fs)),
                    filter_spec=None,
                    split_args={"n_blocks": 5, "pattern": ["train", "train", "train", "val", "train"]},
                    require_test=False)
    cfg = T.TrainConfig(max_epochs=30, lr=2e-3, patience=5, progress_every=10, max_time_s=settings.scratch_time_s)
    yield from T.run(job, cfg, cancel)


def load_base_model(path: str | Path, *, n_channels: int | None = None, fs: float | None = None) -> C.Checkpoint:
    """A base model for calibration: a checkpoint that fits the device and can drive the live hand.

    Parameters
    ----------
    path : path
        Checkpoint file (``.pt``).
    n_channels, fs : optional
        The calibration data's channels and sampling rate (Hz).

    Raises
    ------
    CheckpointError
        Unreadable, or does not fit the device (channels, rate).
    PoseContractError
        Its targets cannot drive the hand model (see :mod:`asha_app.pose.contract`);
        the message says what to pick instead.
    """
    ckpt = C.load(path, n_channels=n_channels, fs=fs)
    check_drives_hand(ckpt)
    return ckpt


def calibrate(rec: Recording, settings: CalibrationSettings, cancel=None,  # noqa: C901 - one linear procedure
              profile_path: str | Path | Literal[False] | None = None,
              report_dir: str | Path | None = None, hand_model=None, parts: tuple | None = None,
              require_hand: bool = True) -> Iterator[CalibrationEvent]:
    """Run the calibration on a recorded calibration session, yielding progress; the last event has the result.

    Parameters
    ----------
    rec : Recording
        The calibration recording (EMG + camera labels + prompts).
    settings : CalibrationSettings
    cancel : callable or threading.Event, optional
        Stops fine-tuning early (best weights kept); nothing is saved when cancelled.
    profile_path : path, optional
        Where to save; default :func:`asha_app.calibration.profile.default_path`.  ``False`` to not save.
    report_dir : path, optional
        Folder of the report card PNG (default: beside the profile).
    hand_model : HandModel, optional
        The hand the model drives, for MPJPE of the driven hand (default: the built-in right hand).
    parts : (calibration, held_out), optional
        The two parts of ``rec``, each a Recording or a list of contiguous pieces
        (:func:`asha_app.calibration.parts.calibration_parts`, ``asha calibrate --calib-reps``);
        default: the first ``1 - holdout_fraction`` and the rest
        (:func:`~asha_app.calibration.strategies.split_holdout`).
    require_hand : bool
        Refuse targets that cannot drive the live hand (the wizard).  False (``asha calibrate``)
        calibrates any targets, e.g. NinaPro glove channels; the profile then serves evaluation only.

    Raises
    ------
    CalibrationError
        Bad recording (see :func:`check_quality`), incompatible base model, or a base model
        (or recording) whose targets cannot drive the live hand (:mod:`asha_app.pose.contract`).
    """
    yield CalibrationEvent("check", 0.0, "checking the recording")
    calib, held = parts if parts is not None else S.split_holdout(rec, settings.holdout_fraction)
    quality = check_quality(rec, settings.min_valid_share, settings.holdout_fraction, held=held)
    if not quality.ok:
        raise CalibrationError(quality.message)
    first = as_list(calib)[0]
    if not has_valid_labels(held) or duration_s(held) < 2.0:
        raise CalibrationError("the held-out block at the end of the recording has no valid labels; record again "
                               "and keep the hand in view until the end")
    if settings.base_checkpoint:
        yield CalibrationEvent("base", 0.05, f"loading base model {Path(settings.base_checkpoint).name}")
        try:
            base = (load_base_model(settings.base_checkpoint, n_channels=rec.n_channels, fs=rec.fs) if require_hand
                    else C.load(settings.base_checkpoint, n_channels=rec.n_channels, fs=rec.fs))
            _, names, _ = select_targets(first, base.target_kind)
            base.check_compatible(target_names=names)
        except (C.CheckpointError, DatasetError, PoseContractError) as exc:
            raise CalibrationError(f"the base model cannot be used: {exc}") from exc
    else:
        yield CalibrationEvent("base", 0.05, f"no base model: training {SCRATCH_MODEL} from scratch")
        last = None
        for ev in scratch_checkpoint(calib, settings, cancel):
            last = ev
            if ev.kind in ("epoch", "batch"):
                yield CalibrationEvent("base", 0.05 + 0.3 * ev.epoch / max(1, ev.max_epochs), "training base model", ev)
        assert last is not None and last.checkpoint is not None, "training always ends with a done event"
        base = last.checkpoint
    try:  # (a scratch model predicts the data's own labels: the canonical joint angles, or imported flexions)
        hand_model = check_drives_hand(base, hand_model).hand_model
    except PoseContractError as exc:
        if require_hand:
            raise CalibrationError(f"this recording cannot calibrate a live hand: {exc}") from exc
        log.info("the targets cannot drive the live hand (%s); calibrating them as they are", exc)
        hand_model = None
    yield CalibrationEvent("evaluate", 0.35, "evaluating the base model on the held-out block")
    stride = base.window.stride_ms  # before and after on the same held-out windows
    before = S.evaluate_on(base, held, hand_model, stride)
    yield CalibrationEvent("finetune", 0.4, f"fine-tuning ({S.STRATEGIES[settings.strategy]['label']})")
    t0 = time.perf_counter()
    new = None
    for ev in S.run_strategy(base, calib, settings.strategy, cancel, settings.max_time_s):
        if ev.kind == "done":
            new = ev.checkpoint
        elif ev.kind in ("epoch", "batch"):
            frac = min(1.0, ev.elapsed_s / max(1e-6, settings.max_time_s))
            yield CalibrationEvent("finetune", 0.4 + 0.45 * frac,
                                   f"fine-tuning ({S.STRATEGIES[settings.strategy]['label']}), epoch {ev.epoch}", ev)
        elif ev.kind == "cancelled":
            raise CalibrationError("calibration cancelled; no profile was written")
    assert new is not None, "a strategy ends with a done event unless cancelled"
    ft_s = time.perf_counter() - t0
    yield CalibrationEvent("evaluate", 0.87, "evaluating the calibrated model on the held-out block")
    after = S.evaluate_on(new, held, hand_model, stride)
    kept = keep_better(before, after, new)
    calibrated = new
    if kept == "base":
        new = base
    monitor = InputMonitor(new.filter_spec, new.n_channels).fit(np.vstack([r.emg for r in as_list(calib)]))
    dev = {"name": device_name(rec.meta) or new.device, "fs": rec.fs, "n_channels": rec.n_channels,
           "channel_names": list(rec.channel_names), "channel_map": rec.meta.get("channel_map"), "decimation": 1,
           **settings.device}
    pieces = as_list(held)
    metrics = {"before": before, "after": after, "held_out_s": [float(pieces[0].emg_t[0]), float(pieces[-1].emg_t[-1])],
               "kept": kept}
    profile = UserProfile(participant=settings.participant, checkpoint=new, device=dev,
                          placement_notes=settings.placement_notes, bone_lengths_mm=settings.bone_lengths_mm,
                          metrics=metrics, monitor=monitor.to_dict(),
                          calibration={"strategy": settings.strategy, "finetune_s": ft_s, "quality": quality.shares,
                                       "kept": kept,
                                       "base": str(settings.base_checkpoint or f"scratch:{SCRATCH_MODEL}"),
                                       "recording_s": rec.duration, "session": rec.meta.get("session")})
    path = None
    if profile_path is not False:
        path = Path(profile_path) if profile_path else default_path(settings.participant)
    png = None
    yield CalibrationEvent("report", 0.92, "drawing the report card")
    rdir = Path(report_dir) if report_dir else (path.parent if path else None)
    if rdir is not None:
        t, y, p_after = S.predict_recording(calibrated, held, stride)
        _, _, p_before = S.predict_recording(base, held, stride)
        png = render_report_card(rdir / f"{path.stem if path else 'calibration'}_report.png", settings.participant,
                                new.target_names, before, after, t, y, p_before, p_after)
    if path is not None:
        save_profile(profile, path)
        yield CalibrationEvent("saved", 0.98, f"profile saved: {path}")
    res = CalibrationResult(profile, path, before, after, png, quality, ft_s, kept)
    yield CalibrationEvent("done", 1.0, res.summary(), result=res)


_KIND_WORDS = {"joint_angles": "joint angles", "joints_mm": "joint coordinates"}


def keep_better(before: dict, after: dict, calibrated: C.Checkpoint | None = None) -> str:
    """Which model a profile keeps: ``"calibrated"`` when its held-out error is lower than the base model's, else
    ``"base"`` (also when fine-tuning itself already kept the base, see
    :func:`asha_app.calibration.strategies.safeguard_check`).  Calibration never leaves a person worse off."""
    if calibrated is not None and calibrated.training.get("calibration_kept") == "base":
        return "base"
    a, b = after.get("mae_mean"), before.get("mae_mean")
    if a is None or not np.isfinite(a):
        return "base"
    if b is None or not np.isfinite(b):
        return "calibrated"
    return "calibrated" if a < b else "base"


def summary(before: dict, after: dict, kept: str = "calibrated") -> str:
    """One line in plain words: held-out error before -> after in named units, how much lower, R² over the targets
    that vary; when fine-tuning did not help (``kept == "base"``), says that the profile keeps the base model."""
    names = list(after.get("mae_per_target") or [])
    kind = after.get("target_kind", "targets")
    units = after.get("units") or units_of(names, kind)
    what = _KIND_WORDS.get(kind, "finger flexions" if units == "deg" else "targets")
    b, a = before["mae_mean"], after["mae_mean"]
    rb, ra = before.get("r2_mean"), after.get("r2_mean")
    if rb is not None and ra is not None and np.isfinite(rb) and np.isfinite(ra):
        n_scored = len(names) - len(after.get("r2_excluded") or {})
        r2 = f"R² {rb:.2f} → {ra:.2f} (mean over the {n_scored} that vary)"
    else:
        r2 = "R² n/a (no target varies enough in the held-out block)"
    if kept == "base":
        return (f"Calibration did not help: held-out error with the base model {b:.1f} {units}, fine-tuned {a:.1f} "
                f"{units} (mean absolute error over {len(names)} {what}); {r2}. So the profile keeps the base "
                "model unchanged. To try again, record a longer calibration with more varied movements")
    gain = f", {100.0 * (b - a) / b:.0f} % lower than the base model without calibration" if b > 0 else ""
    return f"held-out error {b:.1f} → {a:.1f} {units} (mean absolute error over {len(names)} {what}){gain}; {r2}"


def finger_summary(before: dict, after: dict) -> str:
    """One line: held-out error per finger, base -> calibrated, e.g. ``thumb 9.1 → 3.0, index 9.3 → 3.3 (deg)``.

    Empty when the targets have no finger (glove channels).
    """
    mb, ma = before.get("mae_per_finger") or {}, after.get("mae_per_finger") or {}
    parts = [f"{f} {mb[f]:.1f} → {ma[f]:.1f}" for f in FINGERS if f in mb and f in ma]
    return f"Per finger: {', '.join(parts)} {after.get('units') or ''}".rstrip() if parts else ""
