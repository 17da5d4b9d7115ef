"""Rebuild ``resources/live_demo`` from the real paired Myo + MediaPipe session in ``../shared/data``.

What it writes (see resources/live_demo/README.md):

* ``model.pt`` -- an EnvelopeTCN checkpoint (the registry's best model under 2 MB)
  trained at 50 Hz on the paired session, split into 10 contiguous time blocks
  (blocks 4 and 5 held out as the test set, block 6 validation, a gap of one
  window around every boundary);
* ``paired_emg_500hz.tsv.gz`` -- the HELD-OUT test stretch of the session's EMG laid
  out as a MindRove WiFi board recording (``DataFilter.write_file`` format, 39 rows),
  upsampled from the 50 Hz grid to the playback board's 500 Hz by repeating each
  sample 10 times (zero-order hold); the package-number row holds the sample index
  in the file (0, 1, 2, ...), so sample ``p`` of the file is 50 Hz grid sample
  ``p // 10`` of the stretch;
* ``reference_angles.csv`` -- the recorded MediaPipe finger flexion angles of that
  stretch, with their time in the file and file sample index;
* ``live_demo.json`` -- scale, rates, the stretch, the held-out metrics.

The EMG values are MiniVIE's normalised units multiplied by :data:`EMG_SCALE` (100),
so the scopes show amplitudes of a plausible size; they are NOT microvolts.

Usage::

    PYTHONPATH=$PWD python scripts/build_live_demo.py [--max-time 300] [--out resources/live_demo]
"""

from __future__ import annotations

import argparse
import csv
import json
import logging
import shutil
import sys
import time
from pathlib import Path

import numpy as np
import torch

REPO = Path(__file__).resolve().parents[1]
sys.path.insert(0, str(REPO))

from asha_app.core.jsonout import print_line  # noqa: E402

from asha_app.inference.live_demo import (  # noqa: E402
    DECIMATION, EMG_SCALE, FILE_FS, MODEL_FS, write_wifi_playback)
from asha_app.data.importers.paired_myo_mediapipe import filter_spec_hint, load_paired  # noqa: E402
from asha_app.data.windows import WindowSpec  # noqa: E402
from asha_app.dsp.filters import FilterSpec  # noqa: E402
from asha_app.models import checkpoint as C  # noqa: E402
from asha_app.models import train as T  # noqa: E402

log = logging.getLogger("build_live_demo")

PATTERN = ["train", "train", "train", "train", "test", "test", "val", "train", "train", "train"]
MODEL = "envtcn"
MODEL_CONFIG = {"hidden": 32, "dilations": [1, 2, 4, 8, 16], "dropout": 0.2}


def monitor_stats(rec, spec: FilterSpec, t_test_start: float) -> dict:
    """Input statistics (log-RMS mean/covariance) of the EMG before the held-out stretch (training data)."""
    from asha_app.inference.ood import InputMonitor

    n = int(t_test_start * MODEL_FS)
    return InputMonitor(spec, rec.n_channels).fit(rec.emg[:n]).to_dict()


def main(argv=None) -> int:
    p = argparse.ArgumentParser(description=__doc__.split("\n")[0])
    p.add_argument("--data", default=str(REPO.parent / "shared" / "data" / "paired_myo_mediapipe"))
    p.add_argument("--out", default=str(REPO / "resources" / "live_demo"))
    p.add_argument("--max-time", type=float, default=300.0, help="training wall-time budget, s")
    p.add_argument("--max-epochs", type=int, default=40)
    p.add_argument("--threads", type=int, default=1)
    p.add_argument("--monitor-only", action="store_true",
                   help="only (re)compute the input statistics in live_demo.json (model and files unchanged)")
    a = p.parse_args(argv)
    logging.basicConfig(level=logging.INFO, format="%(message)s")
    torch.set_num_threads(a.threads)
    data = Path(a.data)
    if not data.is_dir():
        log.error("%s is missing: this script needs the real paired data set (../shared/data)", data)
        return 2
    out = Path(a.out)
    out.mkdir(parents=True, exist_ok=True)

    rec = load_paired(data, fs=MODEL_FS)
    rec.emg = rec.emg * np.float32(EMG_SCALE)
    rec.emg_units = f"MiniVIE normalised x {EMG_SCALE:g}"
    rec.meta["device"] = "myo-minivie"
    spec = FilterSpec.from_dict(filter_spec_hint(MODEL_FS))
    if a.monitor_only:
        meta = json.loads((out / "live_demo.json").read_text())
        meta["monitor"] = monitor_stats(rec, spec, meta["stretch_session_s"][0])
        (out / "live_demo.json").write_text(json.dumps(meta, indent=1))
        log.info("input statistics updated in %s", out / "live_demo.json")
        return 0
    job = T.prepare(rec, model_name=MODEL, model_config=MODEL_CONFIG, window=WindowSpec(1500.0, 60.0),
                    filter_spec=spec, split_args={"n_blocks": len(PATTERN), "pattern": PATTERN})
    log.info("split %s, history %d samples", job.split.counts(), job.model.history)
    cfg = T.TrainConfig(max_epochs=a.max_epochs, batch_size=64, lr=2e-3, patience=6, progress_every=0,
                        max_time_s=a.max_time, seed=0)
    t0 = time.perf_counter()
    ev = None
    for ev in T.run(job, cfg):
        if ev.kind == "epoch":
            log.info("epoch %d train %.3f val %.3f (%.0f s)", ev.epoch, ev.train_loss, ev.val_loss, ev.elapsed_s)
    ckpt = ev.checkpoint
    train_s = time.perf_counter() - t0
    ckpt.data["live_demo"] = {"emg_scale": EMG_SCALE, "decimation": DECIMATION, "file_fs": FILE_FS}
    C.save(ckpt, out / "model.pt")
    size = (out / "model.pt").stat().st_size
    if size > 2_000_000:
        log.error("model.pt is %d bytes (> 2 MB)", size)
        return 3

    # the held-out (test) stretch, with one model history before it for warm-up
    test_idx = job.split.indices("test")
    t_a = float(job.ws.start_t[test_idx].min())
    t_b = float(job.ws.end_t[test_idx].max())
    i_a = int(round(t_a * MODEL_FS))
    i_b = int(round(t_b * MODEL_FS)) + 1
    emg50 = rec.emg[i_a:i_b]
    n_file = write_wifi_playback(emg50, out / "paired_emg_500hz.tsv.gz")
    sel = (rec.label_t >= t_a) & (rec.label_t <= t_b)
    with open(out / "reference_angles.csv", "w", newline="") as f:
        w = csv.writer(f)
        w.writerow(["t_file_s", "file_sample", "session_t_s", *rec.target_names])
        for t, y in zip(rec.label_t[sel], rec.targets[sel]):
            tf = t - i_a / MODEL_FS
            w.writerow([f"{tf:.3f}", int(round(tf * FILE_FS)), f"{t:.3f}", *[f"{v:.2f}" for v in y]])
    meta = {
        "title": "Live demo: real paired Myo EMG + MediaPipe finger angles (JHU-BCIS NTX 2023), held-out stretch",
        "source": "github.com/JHU-BCIS/NTX-Competition-2023-Public commit 45b5c7ee (MIT, LICENSE.upstream)",
        "model_fs_hz": MODEL_FS, "file_fs_hz": FILE_FS, "decimation": DECIMATION, "emg_scale": EMG_SCALE,
        "emg_units": f"MiniVIE normalised x {EMG_SCALE:g} (not microvolts)",
        "stretch_session_s": [i_a / MODEL_FS, (i_b - 1) / MODEL_FS], "file_samples": n_file,
        "model": {"name": MODEL, "config": ckpt.model_config, "bytes": size, "history_samples": ckpt.history,
                  "train_wall_s": round(train_s, 1), "epochs": ckpt.training.get("epochs_run"),
                  "best_epoch": ckpt.training.get("best_epoch")},
        "split": {"n_blocks": len(PATTERN), "pattern": PATTERN, "counts": job.split.counts()},
        "monitor": monitor_stats(rec, spec, i_a / MODEL_FS),
        "metrics_test": {k: ckpt.metrics["test"][k]
                         for k in ("r2_per_target", "r2_mean", "mae_per_target", "mae_mean")},
    }
    (out / "live_demo.json").write_text(json.dumps(meta, indent=1))
    lic = data / "LICENSE.upstream"
    if lic.is_file():
        shutil.copyfile(lic, out / "LICENSE.upstream")
    log.info("wrote %s: model %d bytes, %d file samples, test MAE %.1f deg, R2 %s", out, size, n_file,
             meta["metrics_test"]["mae_mean"],
             {k: round(v, 2) for k, v in meta["metrics_test"]["r2_per_target"].items()})
    print_line({"ok": True, **{k: meta[k] for k in ("model", "metrics_test", "file_samples")}})
    return 0


if __name__ == "__main__":
    sys.exit(main())
