"""Benchmark of Asha in the lab: the EMG outlet into an inlet in another process, and EMG-BIDS export.

1. **LSL outlet** (goal: samples received = samples sent, time-stamp error against the board's sample times
   p99 <= 2 ms, added CPU <= 5 % of one core).  The bundled demo (real Myo sEMG, 500 Hz x 8 channels) plays
   through the MindRove SDK's playback board, exactly as in the app; each block's board timestamps are mapped
   onto the session clock (BoardTimeMapper) and pushed on Asha's ``emg`` outlet with those times on the LSL
   clock.  A child process (this script with ``--child``) resolves the stream, receives it with liblsl's clock
   correction and saves what it got.  Error = received stamp - the board sample time sent.  CPU: this
   process's CPU time per second with the outlet, minus the same loop without it (baseline phase first).
2. **BIDS export** of a session of the given length made of real data (the demo sEMG looped, the bundled
   reference finger angles mapped onto the hand model and looped, a prompt every 5 s): export time, size,
   and a round trip through mne-bids ``read_raw_bids`` (samples within one 24-bit step, angles, events), plus
   the BIDS validator's error count when ``bids-validator-deno`` is installed.

LSL traffic stays on this computer (liblsl scope ``machine``).

Usage: python benchmarks/lsl.py [--quick] [--seconds S] [--bids-minutes M]   (last line: one JSON object)
"""

from __future__ import annotations

import argparse
import json
import os
import shutil
import subprocess
import sys
import tempfile
import time
from pathlib import Path

import numpy as np

ROOT = Path(__file__).resolve().parents[1]
sys.path.insert(0, str(ROOT))
sys.path.insert(0, str(ROOT / "tests"))
os.environ["ASHA_LSL_SCOPE"] = "machine"

from asha_app.core.jsonout import print_line  # noqa: E402


def child(out: str, source_id: str, seconds: float) -> int:
    """Receive the benchmark's EMG stream and save stamps and values (runs in another process)."""
    from asha_app.devices import lsl as L

    pl = L.configure("machine")
    found = pl.resolve_byprop("source_id", source_id, 1, 20.0)
    if not found:
        return 3
    inlet = pl.StreamInlet(found[0], max_buflen=int(seconds) + 60, processing_flags=pl.proc_clocksync)
    inlet.open_stream(20.0)
    Path(out + ".ready").write_text("1")
    stamps, values = [], []
    idle_since = None
    while True:
        d, ts = inlet.pull_chunk(timeout=0.2, max_samples=20_000)
        if ts:
            stamps.append(np.asarray(ts))
            values.append(np.asarray(d, np.float32))
            idle_since = None
        else:
            idle_since = idle_since or time.monotonic()
            if Path(out + ".done").exists() and time.monotonic() - idle_since > 1.0:
                break
    np.savez(out, t=np.concatenate(stamps) if stamps else np.zeros(0),
             x=np.concatenate(values) if values else np.zeros((0, 8), np.float32))
    return 0


def _cpu() -> float:
    t = os.times()
    return t.user + t.system


def bench_outlet(seconds: float, baseline_s: float, folder: Path) -> dict:
    from asha_app.core.clock import BoardTimeMapper, SessionClock
    from asha_app.devices import lsl as L
    from asha_app.devices.emg import DemoSource

    pl = L.configure("machine")
    clock = SessionClock()
    lc = L.LslClock(clock, pl)
    src = DemoSource()
    src.start()
    mapper = BoardTimeMapper(clock)

    def loop(duration: float, outlet) -> tuple[float, float, int]:
        sent = 0
        c0, w0 = _cpu(), time.monotonic()
        end = w0 + duration
        while time.monotonic() < end:
            pk = src.read()
            if pk is not None and pk.n:
                t = mapper.map(pk.board_t, clock.now())
                if outlet is not None:
                    outlet.push(t, pk.emg)
                    sent_t.append(lc.to_lsl(t))
                    sent_x.append(pk.emg.astype(np.float32))
                sent += pk.n
            time.sleep(0.015)  # the acquisition worker's drain period
        return _cpu() - c0, time.monotonic() - w0, sent

    sent_t: list[np.ndarray] = []
    sent_x: list[np.ndarray] = []
    base_cpu, base_wall, _ = loop(baseline_s, None)
    out = L.open_outlet("emg", lc, pl, fs=src.fs, channel_names=src.channel_names(), device=src.description,
                        tag="bench")
    rx = folder / "rx.npz"
    proc = subprocess.Popen([sys.executable, __file__, "--child", str(rx), "--source-id", out.source_id,
                             "--seconds", str(seconds)], cwd=ROOT)
    t_wait = time.monotonic() + 60
    while not Path(str(rx) + ".ready").exists() and time.monotonic() < t_wait:
        src.read()  # keep the board drained while the child starts
        time.sleep(0.05)
    mapper.reset()
    cpu, wall, n_sent = loop(seconds, out)
    Path(str(rx) + ".done").write_text("1")
    proc.wait(120)
    src.stop()
    got = np.load(rx)
    st, sx = np.concatenate(sent_t), np.concatenate(sent_x)
    gt, gx = got["t"], got["x"]
    n = min(len(st), len(gt))
    err_ms = (gt[:n] - st[:n]) * 1e3
    added = 100.0 * (cpu / wall - base_cpu / base_wall)
    return {
        "seconds": round(wall, 1), "samples_sent": int(n_sent), "samples_received": int(len(gt)),
        "values_equal": bool(n == len(st) == len(gt) and np.array_equal(gx[:n], sx[:n])),
        "rate_hz": round(n_sent / wall, 1),
        "stamp_error_ms": {"p50": float(np.percentile(np.abs(err_ms), 50)),
                           "p99": float(np.percentile(np.abs(err_ms), 99)),
                           "max": float(np.abs(err_ms).max()) if n else None},
        "cpu_pct_with_outlet": round(100 * cpu / wall, 2), "cpu_pct_baseline": round(100 * base_cpu / base_wall, 2),
        "added_cpu_pct_one_core": round(added, 2), "load_avg_1min": os.getloadavg()[0],
    }


def _long_session(path: Path, minutes: float) -> Path:
    from lab_helpers import FS, demo_emg, real_angles

    from asha_app.data.recording import Prompt
    from asha_app.data.writer import SessionWriter

    base = demo_emg(140.0)
    n = int(minutes * 60 * FS)
    reps = int(np.ceil(n / len(base)))
    emg = np.tile(base, (reps, 1))[:n]
    t = np.arange(n) / FS
    lt0, ang0, names = real_angles(2000)
    period = float(lt0[-1]) + 1 / 16
    k = int(np.ceil(minutes * 60 / period))
    lt = np.concatenate([lt0 + i * period for i in range(k)])
    ang = np.tile(ang0, (k, 1))
    keep = lt < t[-1]
    lt, ang = lt[keep], ang[keep]
    valid = np.ones(len(lt), bool)
    valid[::9] = False
    a = ang.copy()
    a[~valid] = np.nan
    w = SessionWriter(path, 8, FS, names, participant={"pseudonym": "BENCH01"}, swmr=False,
                      device={"description": "Demo: real Myo recording resampled to 500 Hz"},
                      filter_spec={"fs": FS, "band": [20.0, 200.0], "order": 4, "notch_hz": 50.0},
                      app_settings={"protocol": {"name": "free movement"}}, session_t0_unix=time.time())
    for s in range(0, n, 100_000):
        w.append_emg(t[s:s + 100_000], emg[s:s + 100_000], package=np.arange(s, min(n, s + 100_000), dtype=float))
        w.flush()
    w.append_label_arrays(lt, a, None, valid)
    for i, s0 in enumerate(np.arange(2.0, t[-1] - 3.0, 5.0)):
        w.append_prompt(Prompt(("fist", "open hand", "pinch")[i % 3], float(s0), float(s0) + 3.0, i // 3))
    w.finalize()
    return path


def bench_bids(minutes: float, folder: Path) -> dict:
    from asha_app.data import bids
    from asha_app.data.reader import read_recording

    sess = _long_session(folder / "long.h5", minutes)
    root = folder / "bids"
    t0 = time.perf_counter()
    res = bids.export_bids(sess, root)
    export_s = time.perf_counter() - t0
    size = sum(p.stat().st_size for p in root.rglob("*") if p.is_file())
    t1 = time.perf_counter()
    raw = bids.read_back(root, res["subject"], res["session"], res["task"])
    data = raw.get_data()
    read_s = time.perf_counter() - t1
    rec = read_recording(sess)
    n = rec.emg.shape[0]
    step = (rec.emg.max(0) - rec.emg.min(0)) / (2**24 - 1)
    emg_err = np.abs(data[:8, :n].T * 1e6 - rec.emg)
    v = raw.ch_names.index(bids.VALID_CHANNEL)
    prompts = sum(1 for p in rec.prompts if p.end > p.start)
    events_back = sum(1 for a in raw.annotations if a["description"] != "BAD_ACQ_SKIP")
    validator = shutil.which("bids-validator-deno") or str(Path(sys.executable).parent / "bids-validator-deno")
    errors = None
    if Path(validator).exists():
        out = subprocess.run([validator, "--format", "json", str(root)], capture_output=True, text=True, timeout=600)
        try:
            errors = sum(1 for i in json.loads(out.stdout)["issues"]["issues"] if i["severity"] == "error")
        except (ValueError, KeyError):
            errors = f"validator output unreadable (rc {out.returncode})"
    return {
        "minutes": minutes, "samples": n, "export_s": round(export_s, 2), "bdf_mb": round(res["bytes"] / 1e6, 2),
        "dataset_mb": round(size / 1e6, 2), "session_file_mb": round(sess.stat().st_size / 1e6, 2),
        "read_back_s": round(read_s, 2), "emg_within_one_step": bool(np.all(emg_err <= step + 1e-3)),
        "emg_max_err_uv": float(emg_err.max()), "valid_share": float((data[v, :n] > 0.5).mean()),
        "events_prompts": prompts, "events_read_back": events_back, "validator_errors": errors,
    }


def main() -> int:
    ap = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    ap.add_argument("--quick", action="store_true", help="30 s of streaming, a 3-minute BIDS export")
    ap.add_argument("--seconds", type=float, help="streaming time (default 600, quick 30)")
    ap.add_argument("--bids-minutes", type=float, help="length of the exported session (default 30, quick 3)")
    ap.add_argument("--child", help=argparse.SUPPRESS)
    ap.add_argument("--source-id", help=argparse.SUPPRESS)
    a = ap.parse_args()
    if a.child:
        return child(a.child, a.source_id, a.seconds or 600)
    seconds = a.seconds or (30.0 if a.quick else 600.0)
    minutes = a.bids_minutes or (3.0 if a.quick else 30.0)
    with tempfile.TemporaryDirectory(prefix="asha-lsl-bench-") as tmp:
        folder = Path(tmp)
        outlet = bench_outlet(seconds, 10.0 if a.quick else 60.0, folder)
        print(f"outlet: {json.dumps(outlet)}", flush=True)
        b = bench_bids(minutes, folder)
        print(f"bids: {json.dumps(b)}", flush=True)
    goals = {"samples_equal": outlet["samples_received"] == outlet["samples_sent"] and outlet["values_equal"],
             "stamp_error_p99_le_2ms": outlet["stamp_error_ms"]["p99"] <= 2.0,
             "added_cpu_le_5pct": outlet["added_cpu_pct_one_core"] <= 5.0,
             "bids_round_trip_clean": b["emg_within_one_step"] and b["events_read_back"] == b["events_prompts"]
             and b["validator_errors"] in (0, None)}
    print_line({"quick": a.quick, "outlet": outlet, "bids": b, "goals_met": goals})
    return 0


if __name__ == "__main__":
    raise SystemExit(main())
