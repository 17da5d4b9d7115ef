"""Build the bundled demo gesture model (``resources/gestures/demo_gestures.pt``) from real Myo recordings.

The demo stream (``resources/demo``) replays session ``12345-1`` of the myo-readings-dataset (MIT; one person,
right forearm) resampled to 500 Hz at an assumed 5 uV per count.  The gesture model must not have seen it, so it
is trained on the *other two sessions* of the same person (``12345-2``, ``12345-3``), put through the same
resampling (200 -> 500 Hz, :func:`scipy.signal.resample_poly` 5/2) and scaling, then evaluated on the demo
recording itself (its gesture markers as labels): an across-session test, as gesture mode meets it live.

Model: ``proto`` (prototype network: any subset of its 8 gestures can be active), RunningNorm (60 s), the live
default filter chain (20-200 Hz band-pass, 50 Hz notch), 500 ms windows, 50 ms stride; the repetition split of
the training sessions gives the validation set for early stopping.

Run from the repository root (needs ../shared/data)::

    python scripts/build_gesture_demo_model.py
"""

from __future__ import annotations

import json
import sys
from pathlib import Path

import numpy as np
from scipy.signal import resample_poly

ROOT = Path(__file__).resolve().parents[1]
sys.path.insert(0, str(ROOT))
SRC = ROOT.parent / "shared" / "data" / "emg_myo_gestures" / "_readings_right_hand"
OUT = ROOT / "resources" / "gestures"
UV_PER_COUNT = 5.0  # as scripts/build_demo_recording.py
SESSIONS = ("12345-2", "12345-3")


def as_demo_rate(rec):
    """A 200 Hz Myo recording as the demo stream carries it: 500 Hz, microvolts (assumed 5 uV per count)."""
    from asha_app.data.recording import Prompt, Recording

    emg = resample_poly(rec.emg.astype(np.float64), 5, 2, axis=0) * UV_PER_COUNT
    t = np.arange(len(emg)) / 500.0
    return Recording(emg=emg.astype(np.float32), emg_t=t, fs=500.0, channel_names=list(rec.channel_names),
                     emg_units="uV", prompts=[Prompt(p.label, p.start, p.end, p.repetition) for p in rec.prompts],
                     meta={**rec.meta, "device": "Myo armband resampled to 500 Hz"})


def main() -> int:
    import torch

    from asha_app.data.windows import WindowSpec
    from asha_app.dsp.filters import FilterSpec
    from asha_app.gestures import train as G
    from asha_app.gestures.datasets import demo_gesture_recording, read_myo_gesture_session
    from asha_app.gestures.windows import build_gesture_windows
    from asha_app.models import checkpoint as C

    if not SRC.exists():
        print(f"{SRC} is missing: this script needs ../shared/data beside the repository", file=sys.stderr)
        return 2
    torch.set_num_threads(1)
    recs = [as_demo_rate(r) for s in SESSIONS for r in read_myo_gesture_session(SRC / s)]
    fspec = FilterSpec(fs=500.0)
    job = G.prepare(recs, WindowSpec(500.0, 50.0), fspec, norm="running", tau_s=60.0)
    model = G.new_model("proto", job)
    done = {}
    for ev in G.fit_events(model, job, G.TrainConfig(max_epochs=20, patience=5, seed=0)):
        if ev["kind"] == "epoch":
            print(f"epoch {ev['epoch']} loss {ev['train_loss']:.3f} val {ev['val_bacc']:.3f}", file=sys.stderr)
        done = ev
    # the demo recording itself (session 12345-1, never seen): its markers are the labels
    demo = demo_gesture_recording()
    ws = build_gesture_windows(demo, WindowSpec(500.0, 40.0), fspec, classes=job.classes)
    djob = G.GestureJob(ws, None, job.norm, job.norm.apply_windows(ws))
    demo_metrics = G.evaluate(model, djob, np.arange(len(ws)))
    test = G.evaluate(model, job, job.split.indices("test"))
    ck = G.make_checkpoint(job, model, metrics={"test": test, "demo_recording_12345-1": demo_metrics},
                           training={"best_epoch": done.get("best_epoch"), "epochs": done.get("epochs"),
                                     "stopped": done.get("stopped"),
                                     "data": f"myo-readings-dataset {', '.join(SESSIONS)} at 500 Hz (5 uV/count)"})
    OUT.mkdir(parents=True, exist_ok=True)
    C.save(ck, OUT / "demo_gestures.pt")
    info = {"model": "proto", "classes": job.classes, "trained_on": list(SESSIONS),
            "source": "myo-readings-dataset (github.com/aljazfrancic/myo-readings-dataset, commit 2630b1dd), MIT",
            "balanced_accuracy_test_repetitions": round(test["balanced_accuracy"], 3),
            "balanced_accuracy_demo_recording": round(demo_metrics["balanced_accuracy"], 3),
            "per_gesture_demo_recording": {k: (None if v is None else round(v, 3))
                                           for k, v in demo_metrics["per_class"].items()}}
    (OUT / "demo_gestures.json").write_text(json.dumps(info, indent=2) + "\n")
    print(json.dumps(info))
    return 0


if __name__ == "__main__":
    sys.exit(main())
