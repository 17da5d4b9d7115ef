"""Calibration measured on people the base model never saw (NinaPro DB1 development subjects).

For every fold of people (k-fold over the subjects; ``--folds`` equal to the
number of subjects is leave-one-subject-out):

1. **Population base model** trained on the other subjects' 10 repetitions
   (repetition 7 validates), with the app's trainer (:func:`asha_app.models.train.train`).
   ``--person-norm`` (default on) standardises each training subject's EMG and
   glove with the statistics of their own repetitions 1-2, and a held-out
   person with theirs (what a calibration recording gives); ``--augment``
   trains with electrode-shift augmentation (per-channel gains, the ring of 8
   electrodes rotated by one).
2. For each held-out person, **calibration** with only the first ``--calib-reps``
   repetitions of every movement (1-2: about 3 minutes, played back as one
   recording in the wizard's interleaved order: every movement once, then every
   movement again), through the app's own code
   (:func:`asha_app.calibration.strategies.run_strategy`, with its safeguard),
   evaluated on the person's remaining repetitions (3-10), every 100 Hz sample:
   (a) zero-shot (the base model, only the person's normalisation),
   (b) each strategy (head, bn_head, all),
   (c) the same network trained from scratch on the same minutes (the wizard's scratch path),
   (d) the within-subject ceiling: trained on repetitions 1, 3, 4, 6, 8, 9 (7 validates), tested on 2, 5, 10.
   Every method is also scored on repetitions 5 and 10, which none of them trained on (``common``).

EMG normalisation of the base model (``--norm``, issue 14): ``fixed`` (the
training split's statistics) or ``running``
(:class:`asha_app.dsp.running_norm.RunningNorm` from each recording's first
sample, ``--tau-s``; the held-out person's stream normalises itself as it
would live).  ``--norm fixed,running`` trains one base per kind on the same
folds, with the same model, seed and epochs, and reports each one's zero-shot
R^2 side by side (rows ``zero_shot_fixed``, ``zero_shot_running``); the
calibration strategies, scratch and ceiling use the first kind.  With
``--person-norm 0`` zero-shot means no data of the held-out person at all
beyond the stream being scored; ``--person-norm 1 --person-norm-emg 0``
standardises only the glove per person (its calibration differs between
people and dominates a zero-shot R^2) and leaves the EMG to ``--norm``: the
comparison of what each EMG normalisation buys a new person.

Figures: R^2 per glove channel averaged over the 22 channels (:mod:`benchmarks._db1`),
per held-out person and mean +- std.  Needs ../shared/data/ninapro_db1_dev
(exit 2 without it).  ``--quick``: 3 subjects (each held out once, the base trained
on the other two), few epochs, strided windows: under a minute on a quiet machine.
ONE JSON object on the last line.
"""

from __future__ import annotations

import argparse
import logging
import os
import sys
import time
from dataclasses import replace
from pathlib import Path

REPO = Path(__file__).resolve().parents[1]
sys.path.insert(0, str(REPO))

from benchmarks import _db1  # noqa: E402
from benchmarks._common import emit  # noqa: E402

log = logging.getLogger("cross_user")


def person_stats(calib, emg: bool = True):
    """Per-channel EMG RMS and per-channel glove mean/std of a person's calibration recording.

    ``emg=False``: the glove's statistics only (the RMS is 1: the EMG is left as recorded).
    """
    import numpy as np

    rms = np.sqrt((calib.emg.astype(np.float64) ** 2).mean(0)) if emg else np.ones(calib.emg.shape[1])
    sd = calib.targets.std(0)
    return (np.where(rms > 1e-8, rms, 1.0).astype(np.float32), calib.targets.mean(0).astype(np.float32),
            np.where(sd > 1e-8, sd, 1.0).astype(np.float32))


def person_scaled(rec, stats):
    """``rec`` with each EMG channel divided by the person's RMS and the glove standardised with their statistics."""
    import numpy as np

    rms, ym, ys = stats
    return replace(rec, emg=(rec.emg / rms).astype(np.float32), targets=((rec.targets - ym) / ys).astype(np.float32))


def person_normalizer(base_norm, stats):
    """The base normaliser composed with a person's scaling: raw person data in, the base's normalised units out.

    The base model was trained on per-person-scaled data (``x / rms_p``, ``(y - m_p) / s_p``), so for a new person
    ``(x / rms - mu) / sd == (x - mu * rms) / (sd * rms)`` and ``y = (yn * sd_y + mu_y) * s + m``.
    """
    import numpy as np
    rms, ym, ys = stats
    if base_norm.log_eps is not None:  # log(x / rms) = log(x) - log(rms) (up to the small offset)
        emg = {"emg_mean": (base_norm.emg_mean + np.log(rms)).astype(np.float32)}
    else:
        emg = {"emg_mean": base_norm.emg_mean * rms, "emg_std": base_norm.emg_std * rms}
    return replace(base_norm, **emg, target_mean=ym + ys * base_norm.target_mean,
                   target_std=ys * base_norm.target_std)  # the kind (fixed/running) is kept


def train_checkpoint(recs, assign, model_name: str, model_cfg: dict, tcfg, stride_ms: float, norm=None,
                     seed: int = 0, norm_kind: str = "fixed", tau_s: float = 60.0, log_input: bool = False):
    """Train a registry model on DB1 recordings with a label-time repetition split; returns (checkpoint, result).

    ``norm_kind``, ``tau_s``, ``log_input``: the EMG normalisation (:meth:`Normalizer.fit`) when ``norm`` is None.
    """
    import torch

    from asha_app.data.normalisation import Normalizer
    from asha_app.models import train as T
    from asha_app.models.registry import build

    torch.manual_seed(seed)
    r0 = recs[0]
    model = build(model_name, n_channels=r0.n_channels, n_targets=r0.targets.shape[1], fs=r0.fs, **model_cfg)
    ws, split = _db1.windows(recs, model.history * 1000.0 / r0.fs, stride_ms, assign)
    norm = norm or Normalizer.fit(ws, split.indices("train"), norm_kind, tau_s, log_input)
    job = T.Job(ws, split, norm, model)
    ev = None
    for ev in T.train(model, job.dataset("train"), job.dataset("val"), tcfg):
        if ev.kind == "epoch":
            log.info("  %s epoch %d train %.4f val %.4f (%.0f s)", model_name, ev.epoch, ev.train_loss, ev.val_loss,
                     ev.elapsed_s)
    return T.make_checkpoint(job, tcfg, ev.result, {}), ev.result


def score(ckpt, rec, codes: dict) -> dict:
    """R^2 of a checkpoint on the named sample sets of a full recording."""
    out = {}
    model = ckpt.build_model()
    full = _db1.stream_all(ckpt, rec, model) if hasattr(model, "forward_chunk") else None
    for name, code in codes.items():
        y, p = _db1.predict_sets(ckpt, rec, code, 2, model=model, streamed=full)
        out[name] = round(_db1.r2_mean(y, p), 4)
    return out


def scratch_checkpoint(calib, model_name: str, model_cfg: dict, quick: bool):
    """The wizard's from-scratch path on the calibration recording (procedure.scratch_checkpoint's settings)."""
    from asha_app.calibration import procedure as PR
    from asha_app.data.windows import WindowSpec
    from asha_app.models import train as T
    from asha_app.models.registry import build

    hist = build(model_name, n_channels=calib.n_channels, n_targets=calib.targets.shape[1], fs=calib.fs,
                 **model_cfg).history
    job = T.prepare(calib, model_name=model_name, model_config=model_cfg,
                    window=WindowSpec(hist * 1000.0 / calib.fs, 10.0 if not quick else 50.0),
                    filter_spec=_db1.filter_spec_for(calib), target_kind="targets",
                    split_args={"n_blocks": 5, "pattern": ["train", "train", "train", "val", "train"]},
                    require_test=False)
    cfg = T.TrainConfig(max_epochs=3 if quick else 30, lr=2e-3, patience=5, progress_every=0,
                        max_time_s=PR.CalibrationSettings("x").scratch_time_s)
    last = None
    for ev in T.run(job, cfg):
        last = ev
    return last.checkpoint


def calibrate_person(base, rec, calib, strategies: list[str], codes: dict, person_norm: bool, max_time_s: float,
                     quick: bool, ft_epochs: int = 15, person_norm_emg: bool = True) -> dict:
    from asha_app.calibration import strategies as S

    res = {}
    if person_norm:
        base = replace(base, normalizer=person_normalizer(base.normalizer, person_stats(calib, person_norm_emg)))
    res["zero_shot"] = score(base, rec, codes)
    for name in strategies:
        t0 = time.perf_counter()
        new = None
        for ev in S.run_strategy(base, calib, name, max_time_s=max_time_s, max_epochs=2 if quick else ft_epochs):
            if ev.kind == "done":
                new = ev.checkpoint
        res[name] = {**score(new, rec, codes), "finetune_s": round(time.perf_counter() - t0, 1),
                     "kept": (new.training.get("calibration_kept") or "calibrated")}
        log.info("    %s %s", name, res[name])
    return res


def main() -> int:  # noqa: C901 - one linear benchmark script
    ap = argparse.ArgumentParser(description=__doc__.split("\n")[0])
    ap.add_argument("--quick", action="store_true", help="3 subjects, few epochs, strided windows (< 60 s)")
    ap.add_argument("--subjects", default=None, help="comma-separated DB1 subject numbers (default: all 13)")
    ap.add_argument("--folds", type=int, default=0, help="k-fold over people (default: leave one subject out)")
    ap.add_argument("--model", default="msenv", help="registry model (msenv: the one whose settings include the "
                                                    "electrode-shift augmentation of --augment)")
    ap.add_argument("--config", default="{}", help="model settings as JSON")
    ap.add_argument("--only-folds", default=None, help="run only these folds (comma-separated indices; screening)")
    ap.add_argument("--calib-reps", default="1,2", help="repetitions of every movement used for calibration")
    ap.add_argument("--strategies", default="head,bn_head,all")
    ap.add_argument("--extra-strategies", default="{}",
                    help='screening: strategies to add, JSON, e.g. \'{"all_hi": {"mode": "all", "lr": 1e-3}}\'')
    ap.add_argument("--ft-epochs", type=int, default=15, help="fine-tuning epochs at most (gradient strategies)")
    ap.add_argument("--person-norm", type=int, default=1, help="1: per-person standardisation (EMG and glove)")
    ap.add_argument("--person-norm-emg", type=int, default=1,
                    help="0 with --person-norm 1: standardise only the glove per person, leave the EMG to --norm "
                         "(zero-shot for the EMG side; the glove's per-person calibration is taken out of R^2)")
    ap.add_argument("--norm", default="fixed",
                    help="EMG normalisation of the base model: fixed, running, or both as fixed,running (one base "
                         "per kind, same folds/model/seed/epochs; zero-shot of each reported side by side)")
    ap.add_argument("--tau-s", type=float, default=300.0,
                    help="RunningNorm time constant, s (--norm running; default: the pose models' default)")
    ap.add_argument("--log-input", type=int, default=0, help="1: normalise the log of the EMG envelope")
    ap.add_argument("--base-epochs", type=int, default=0, help="base model epochs at most (0: 2 quick, else 40)")
    ap.add_argument("--augment", type=int, default=1, help="1: electrode-shift augmentation in the base model")
    ap.add_argument("--no-scratch", action="store_true")
    ap.add_argument("--no-ceiling", action="store_true")
    ap.add_argument("--base-stride-ms", type=float, default=50.0)
    ap.add_argument("--max-time-s", type=float, default=45.0, help="fine-tuning budget per strategy")
    ap.add_argument("--threads", type=int, default=0, help="torch threads (0: from the free cores)")
    ap.add_argument("--bases", default=None, help="folder to keep trained base models in and reuse them from "
                                                    "(screening calibration strategies; keyed by their settings)")
    ap.add_argument("--verbose", action="store_true")
    args = ap.parse_args()
    logging.basicConfig(level=logging.INFO if args.verbose else logging.WARNING, format="%(message)s")
    if not _db1.available():
        emit({"ok": False, "error": f"NinaPro DB1 development data missing: {_db1.DB1}"})
        return 2
    import hashlib
    import json

    import numpy as np
    import torch

    from asha_app.models import checkpoint as C
    from asha_app.models import train as T
    from asha_app.models.registry import DEFAULT_MODEL
    from asha_app.models.threads import training_threads

    threads = args.threads or training_threads()
    torch.set_num_threads(threads)
    model_name = args.model or DEFAULT_MODEL
    from asha_app.calibration import strategies as S

    for name, spec in json.loads(args.extra_strategies).items():
        S.STRATEGIES[name] = {"label": name, **spec}
    model_cfg = json.loads(args.config)
    base_cfg = dict(model_cfg)
    if args.augment:
        base_cfg.update({"gain_std": 0.3, "ring": 8, "rotate_p": 0.3})
    norm_kinds = [k for k in args.norm.split(",") if k]
    if not norm_kinds or any(k not in ("fixed", "running") for k in norm_kinds):
        ap.error(f"--norm {args.norm!r}: give fixed, running or fixed,running")
    subjects = [int(s) for s in args.subjects.split(",")] if args.subjects else (
        [8, 12, 21] if args.quick else list(_db1.SUBJECTS))
    k = args.folds or len(subjects)
    folds = [subjects[i::k] for i in range(k)]
    calib_reps = [int(r) for r in args.calib_reps.split(",")]
    rest_reps = [r for r in range(1, 11) if r not in calib_reps]
    strategies = [s for s in args.strategies.split(",") if s]
    quick = args.quick
    t_all = time.perf_counter()
    # --base-epochs: no wall-time stop, so every kind of --norm trains exactly as many epochs (a time stop depends on
    # the machine's load)
    base_tcfg = T.TrainConfig(max_epochs=args.base_epochs or (2 if quick else 40), patience=5, batch_size=256,
                              lr=1e-3, progress_every=0,
                              max_time_s=None if args.base_epochs else (20.0 if quick else 1200.0))
    ceil_tcfg = T.TrainConfig(max_epochs=2 if quick else 40, patience=6, batch_size=256, progress_every=0,
                              max_time_s=10.0 if quick else 900.0)
    per_person = {}
    only = {int(f) for f in args.only_folds.split(",")} if args.only_folds else None
    for fi, held in enumerate(folds):
        if only is not None and fi not in only:
            continue
        train_subj = [s for s in subjects if s not in held]
        log.info("fold %d: held out %s, base on %s", fi, held, train_subj)
        recs = []
        for s in train_subj:
            r = _db1.recording(s)
            if args.person_norm:
                calib_s = _db1.interleaved(r, calib_reps, f"S{s}_calib")
                r = person_scaled(r, person_stats(calib_s, bool(args.person_norm_emg)))
            recs.append(r)
        bases = {}
        for kind in norm_kinds:
            t0 = time.perf_counter()
            norm_key = [] if kind == "fixed" and not args.log_input else [kind, args.tau_s, args.log_input]
            pn = args.person_norm if args.person_norm_emg or not args.person_norm else "glove"
            key = hashlib.sha1(json.dumps([model_name, base_cfg, train_subj, pn, quick, calib_reps,
                                           args.base_stride_ms, base_tcfg.max_epochs, *norm_key]).encode()
                               ).hexdigest()[:10]
            cached = Path(args.bases) / f"base_{key}.pt" if args.bases else None
            if cached is not None and cached.is_file():
                kb = C.load(cached)
                bres = kb.training
                base_s = float(kb.training.get("wall_s", 0.0))
            else:
                kb, bres = train_checkpoint(recs, {r: ("val" if r == 7 else "train") for r in range(1, 11)},
                                            model_name, base_cfg, base_tcfg, 200.0 if quick else args.base_stride_ms,
                                            norm_kind=kind, tau_s=args.tau_s, log_input=bool(args.log_input))
                base_s = time.perf_counter() - t0
                kb.training["wall_s"] = base_s
                if cached is not None:
                    cached.parent.mkdir(parents=True, exist_ok=True)
                    C.save(kb, cached)
            bases[kind] = (kb, base_s, {"epochs_run": bres["epochs_run"], "best_epoch": bres["best_epoch"]})
            log.info("  base (%s): %d epochs (best %d), %.0f s", kind, bres["epochs_run"], bres["best_epoch"], base_s)
        base, base_s, _ = bases[norm_kinds[0]]
        for s in held:
            rec = _db1.recording(s)
            calib = _db1.interleaved(rec, calib_reps, f"S{s}_calib")
            codes = {"rest": _db1.sample_sets(rec, {r: "test" for r in rest_reps}),
                     "common": _db1.sample_sets(rec, {5: "test", 10: "test"})}
            out = {"fold": fi, "base_trained_on": [f"S{x}" for x in train_subj], "base_train_s": round(base_s, 1),
                   "calibration_s": round(calib.duration, 1)}
            out.update(calibrate_person(base, rec, calib, strategies, codes, bool(args.person_norm),
                                        args.max_time_s, quick, args.ft_epochs, bool(args.person_norm_emg)))
            out["base_epochs"] = {kind: b[2] for kind, b in bases.items()}
            for kind, (kb, _, _) in bases.items():
                out[f"zero_shot_{kind}"] = out["zero_shot"] if kind == norm_kinds[0] else \
                    score(replace(kb, normalizer=person_normalizer(
                        kb.normalizer, person_stats(calib, bool(args.person_norm_emg))))
                          if args.person_norm else kb, rec, codes)
            if not args.no_scratch:
                t1 = time.perf_counter()
                sc = scratch_checkpoint(calib, model_name, model_cfg, quick)
                out["scratch"] = {**score(sc, rec, codes), "train_s": round(time.perf_counter() - t1, 1)}
            if not args.no_ceiling:
                t1 = time.perf_counter()
                assign = {r: k for k, rs in _db1.WITHIN.items() for r in rs}
                ck, _ = train_checkpoint([rec], assign, model_name, model_cfg, ceil_tcfg, 50.0 if quick else 20.0)
                within = _db1.sample_sets(rec, {r: "test" for r in _db1.WITHIN["test"]})
                out["ceiling"] = {**score(ck, rec, {"within_test": within, "common": codes["common"]}),
                                  "train_s": round(time.perf_counter() - t1, 1)}
            per_person[f"S{s}"] = out
            log.info("  S%d: %s", s, json.dumps(out))

    def col(method, key):
        vals = [p[method][key] for p in per_person.values() if method in p and key in p[method]]
        return vals

    methods = ["zero_shot", *[f"zero_shot_{k}" for k in norm_kinds], *strategies] + (
        [] if args.no_scratch else ["scratch"])
    table = {}
    for m in methods:
        for key in ("rest", "common"):
            v = np.asarray(col(m, key))
            if len(v):
                table.setdefault(m, {})[key] = {"mean": round(float(v.mean()), 4), "std": round(float(v.std()), 4),
                                                "min": round(float(v.min()), 4)}
    if not args.no_ceiling:
        for key in ("within_test", "common"):
            v = np.asarray(col("ceiling", key))
            table.setdefault("ceiling", {})[key] = {"mean": round(float(v.mean()), 4), "std": round(float(v.std()), 4),
                                                    "min": round(float(v.min()), 4)}
    checks = {}
    if len(norm_kinds) > 1:
        gain = [p[f"zero_shot_{norm_kinds[1]}"]["rest"] - p[f"zero_shot_{norm_kinds[0]}"]["rest"]
                for p in per_person.values()]
        checks["norm"] = {f"{norm_kinds[1]}_minus_{norm_kinds[0]}_rest_mean": round(float(np.mean(gain)), 4),
                          "people_better": int(sum(g > 0 for g in gain)), "people": len(gain)}
    for m in strategies:
        beats = [p[m]["rest"] > p["zero_shot"]["rest"] and ("scratch" not in p or p[m]["rest"] > p["scratch"]["rest"])
                 for p in per_person.values()]
        checks[m] = {"beats_zero_shot_and_scratch_for_every_person": all(beats),
                     "people_beaten": int(sum(beats))}
        if not args.no_ceiling:
            gap = table["ceiling"]["common"]["mean"] - table[m]["common"]["mean"]
            checks[m]["gap_to_ceiling_common"] = round(gap, 4)
    emit({"benchmark": "cross_user_db1", "ok": True, "quick": quick, "model": model_name, "model_config": model_cfg,
          "base_config": base_cfg, "person_norm": bool(args.person_norm),
          "person_norm_emg": bool(args.person_norm and args.person_norm_emg), "augment": bool(args.augment),
          "norm": norm_kinds, "tau_s": args.tau_s, "log_input": bool(args.log_input),
          "base_max_epochs": base_tcfg.max_epochs, "base_stride_ms": 200.0 if quick else args.base_stride_ms,
          "subjects": [f"S{s}" for s in subjects], "folds": [[f"S{s}" for s in f] for f in folds],
          "calibration_reps": calib_reps, "evaluated_reps": {"rest": rest_reps, "common": [5, 10]},
          "metric": "R^2 per glove channel, mean over 22 channels", "table": table, "checks": checks,
          "per_person": per_person, "threads": threads, "load_avg_1min": round(os.getloadavg()[0], 2),
          "wall_s": round(time.perf_counter() - t_all, 1)})
    return 0


if __name__ == "__main__":
    raise SystemExit(main())
