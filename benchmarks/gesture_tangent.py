"""Screening: tangent-space features with a running, per-person reference for the cross-user gesture MLP.

Not the gesture benchmark (``benchmarks/gestures.py``), and not yet in the app: this script measures whether the
Riemannian re-centring that helped the pose model across people (``riemann`` + ``recenter``, docs/models.md) helps
the gesture classifier zero-shot too.  Data and protocol are those of ``gestures.py --only cross_user`` (NinaPro
DB1 development people, 13 classes, 500 ms windows every 300 ms, RunningNorm on the log envelope, τ 300 s; test =
the held-out person's repetitions 3-10; balanced accuracy per window).  Per fold the same MLP (2 x 512, GELU,
dropout 0.5, 30 epochs, AdamW) is trained on precomputed features:

* ``td`` -- the time-domain features and slopes of the ``mlp`` gesture model (its ``features``);
* ``ts_run`` -- those plus the tangent vector of each window's augmented second-moment matrix
  (:func:`asha_app.models.riemann.augmented_moments`), whitened by a *causal running reference*: an exponential
  moving average of the log matrices of the recording's windows so far (time constant ``--tau-s``), starting
  from the training windows' mean, so a new person needs no labels and no look-ahead (as RunningNorm);
* ``ts_person`` -- the same with each person's whole-recording mean as the reference (transductive: an upper
  bound, not deployable).

``--folds`` picks held-out people by index (default: all 13). ONE JSON object on the last line.
"""

from __future__ import annotations

import argparse
import sys
from functools import partial
import time
from pathlib import Path

REPO = Path(__file__).resolve().parents[1]
sys.path.insert(0, str(REPO))

from benchmarks._common import emit  # noqa: E402
from benchmarks.gestures import NINAPRO  # noqa: E402


def _tangent(S, groups, ref_fn):
    import torch

    from asha_app.models.riemann import tangent_vectors, whitening

    d = S.shape[-1]
    out = torch.zeros(len(S), d * (d + 1) // 2, dtype=torch.float64)
    for idx in groups:
        out[idx] = tangent_vectors(S[idx], whitening(ref_fn(idx)))  # references: (len(idx), D, D) or (D, D), log
    return out.float()


def _running_refs(L, idx, prior, a):
    """Causal EMA of the log matrices ``L[idx]`` (in time order), from ``prior``: one reference per window."""
    import torch

    m = prior.clone()
    refs = []
    for i in idx:
        m = (1 - a) * m + a * L[i]
        refs.append(m.clone())
    return torch.stack(refs)


def _person_ref(L, idx):
    """The whole recording's mean log matrix (transductive)."""
    return L[idx].mean(0)


def _mlp(f, y, tr, K, seed=0, epochs=30):
    import numpy as np
    import torch
    import torch.nn.functional as F
    from torch import nn

    torch.manual_seed(seed)
    rng = np.random.default_rng(seed)
    mu, sd = f[tr].mean(0), f[tr].std(0) + 1e-6
    net = nn.Sequential(nn.Linear(f.shape[1], 512), nn.GELU(), nn.Dropout(0.5), nn.Linear(512, 512), nn.GELU(),
                        nn.Dropout(0.5), nn.Linear(512, K))
    c = np.bincount(y[tr].numpy(), minlength=K).astype(float)
    w = torch.tensor(c.sum() / np.maximum(c, 1) / (c > 0).sum(), dtype=torch.float32)
    opt = torch.optim.AdamW(net.parameters(), lr=2e-3, weight_decay=1e-3)
    sch = torch.optim.lr_scheduler.CosineAnnealingLR(opt, epochs)
    fz = (f - mu) / sd
    for _ in range(epochs):
        net.train()
        order = rng.permutation(tr)
        for i in range(0, len(order), 256):
            b = order[i:i + 256]
            loss = F.cross_entropy(net(fz[b]), y[b], weight=w)
            opt.zero_grad()
            loss.backward()
            opt.step()
        sch.step()
    net.eval()
    with torch.no_grad():
        return lambda idx: net(fz[idx]).argmax(1).numpy()


def main() -> int:
    import numpy as np
    import torch

    from asha_app.data.splits import make_split
    from asha_app.data.windows import WindowSpec
    from asha_app.dsp.filters import FilterSpec
    from asha_app.gestures.datasets import read_ninapro_gestures
    from asha_app.gestures.models import FeatureMLP
    from asha_app.gestures.train import GestureJob, fit_norm
    from asha_app.gestures.windows import build_gesture_windows, window_repetitions
    from asha_app.models.riemann import augmented_moments, sym_fn

    ap = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    ap.add_argument("--variants", default="td,ts_run")
    ap.add_argument("--folds", default=None, help="held-out people by index, comma-separated (default: all)")
    ap.add_argument("--tau-s", type=float, default=300.0, help="running reference (and RunningNorm) time constant")
    ap.add_argument("--threads", type=int, default=1)
    args = ap.parse_args()
    torch.set_num_threads(args.threads)
    if not NINAPRO.exists():
        emit({"error": f"NinaPro DB1 development data missing: {NINAPRO}"})
        return 2
    t_all = time.perf_counter()
    stride_s = 0.3
    files = sorted(NINAPRO.glob("S*_A1_E1.mat"), key=lambda p: int(p.stem.split("_")[0][1:]))
    recs = [read_ninapro_gestures(f, fs=100.0) for f in files]
    people = [r.meta["participant"] for r in recs]
    ws = build_gesture_windows(recs, WindowSpec(500.0, stride_s * 1000.0), FilterSpec(fs=100.0, band=None,
                                                                                       notch_hz=None))
    reps = window_repetitions(ws)
    rec_of = np.asarray(ws.rec_index)
    y = torch.from_numpy(ws.labels.astype(np.int64))
    K = len(ws.classes)
    a = 1.0 - np.exp(-stride_s / args.tau_s)
    variants = args.variants.split(",")
    folds = [int(i) for i in args.folds.split(",")] if args.folds else list(range(len(people)))
    res: dict[str, dict[str, float]] = {v: {} for v in variants}
    for fi in folds:
        person = people[fi]
        split = make_split(ws, "participants",
                           assign_participant={p: ("test" if p == person else "train") for p in people})
        tr, te = split.indices("train"), split.indices("test")
        test_idx = te[reps[te] >= 2]
        gn = fit_norm(ws, tr, "running", args.tau_s, True)
        job = GestureJob(ws, split, gn, gn.apply_windows(ws))
        m = FeatureMLP(ws.n_channels, K, ws.fs)
        with torch.no_grad():
            X = torch.from_numpy(job.x(np.arange(len(ws.labels)), m.history))
            td = m.features(X)
            S = augmented_moments(X, 1e-3)
            L = sym_fn(S, torch.log)
        groups = []
        for r in np.unique(rec_of):
            idx = np.flatnonzero(rec_of == r)
            groups.append(idx[np.argsort(ws.ends[idx], kind="stable")])  # time order within the recording
        refs = {"ts_run": partial(_running_refs, L, prior=L[tr].mean(0), a=a),
                "ts_person": partial(_person_ref, L)}
        for v in variants:
            t0 = time.perf_counter()
            if v != "td" and v not in refs:
                raise SystemExit(f"unknown variant {v!r}: td, ts_run, ts_person")
            f = td if v == "td" else torch.cat([td, _tangent(S, groups, refs[v])], 1)
            pred = _mlp(f, y, tr, K)(test_idx)
            yt = y[test_idx].numpy()
            res[v][person] = float(np.mean([np.mean(pred[yt == k] == k) for k in np.unique(yt)]))
            print(f"{person} {v} {res[v][person]:.3f} ({time.perf_counter() - t0:.0f} s)", file=sys.stderr, flush=True)
    table = {v: {"mean": round(float(np.mean(list(r.values()))), 4), "std": round(float(np.std(list(r.values()))), 4),
                 "per_person": {k: round(x, 4) for k, x in r.items()}} for v, r in res.items()}
    emit({"benchmark": "gesture_tangent_screen", "data": "NinaPro DB1 dev, 13 classes", "window_ms": 500,
          "stride_ms": stride_s * 1000.0, "tau_s": args.tau_s, "held_out": [people[i] for i in folds],
          "metric": "balanced accuracy per 500 ms window, zero-shot", "table": table,
          "wall_s": round(time.perf_counter() - t_all, 1)})
    return 0


if __name__ == "__main__":
    raise SystemExit(main())
