"""Benchmark of the session writer: cost of writing and of compression, and what a kill -9 loses.

Reads real sEMG from ../shared/data/emg_myo_gestures (Myo armband, 8 channels; its samples are replayed as
a 500 Hz MindRove-like stream without resampling: only the values matter to the writer and to compression).
Exits non-zero when that folder is missing.

Measures, for compression None / lzf / gzip(4):
  * CPU milliseconds spent in append + flush per second of recorded EMG (blocks of 10 samples every 20 ms,
    flush every 1 s of data), the slowest single flush, and the file size per minute;
and, with the real child process used by the tests (tests/fixtures/session_writer_child.py):
  * seconds of data lost by SIGKILL at random moments (SWMR on), and whether a killed non-SWMR file opens.

Usage: python benchmarks/recording.py [--quick]      (last line of output: one JSON object)
"""

from __future__ import annotations

import argparse
import os
import signal
import subprocess
import sys
import tempfile
import time
from pathlib import Path

import numpy as np

ROOT = Path(__file__).resolve().parents[1]
sys.path.insert(0, str(ROOT))

from asha_app.core.jsonout import print_line  # noqa: E402

from asha_app.core.errors import RecordingFileError  # noqa: E402
from asha_app.data.reader import SessionFile  # noqa: E402
from asha_app.data.writer import SessionWriter  # noqa: E402

DATA = ROOT.parent / "shared" / "data" / "emg_myo_gestures" / "_readings_right_hand"
CHILD = ROOT / "tests" / "fixtures" / "session_writer_child.py"


def load_real_emg() -> np.ndarray:
    files = sorted(DATA.glob("*/*.txt"))
    if not files:
        sys.stderr.write(f"real data missing: {DATA} (needs ../shared/data next to the repository)\n")
        raise SystemExit(2)
    return np.concatenate([np.loadtxt(f, delimiter=",")[:, :8] for f in files]) * 10.0


def bench_write(emg: np.ndarray, seconds: float, compression: str | None, folder: Path) -> dict:
    fs = 500.0
    n = int(seconds * fs)
    reps = int(np.ceil(n / emg.shape[0]))
    stream = np.tile(emg, (reps, 1))[:n].astype(np.float32)
    path = folder / f"bench_{compression}.h5"
    w = SessionWriter(path, 8, fs, [], compression=compression, overwrite=True)
    cpu = 0.0
    slowest_flush = 0.0
    for s in range(0, n, 10):
        t = np.arange(s, s + 10) / fs
        c0 = time.process_time()
        w.append_emg(t, stream[s:s + 10], package=np.arange(s, s + 10, dtype=float), marker=np.zeros(10),
                     board_t=t + 1.7e9)
        if (s + 10) % 500 == 0:
            f0 = time.perf_counter()
            w.flush()
            slowest_flush = max(slowest_flush, time.perf_counter() - f0)
        cpu += time.process_time() - c0
    c0 = time.process_time()
    w.close()
    cpu += time.process_time() - c0
    size = path.stat().st_size
    with SessionFile(path) as sf:
        assert sf.n_emg == n
    return {
        "compression": compression or "none",
        "cpu_ms_per_s_of_data": round(1000 * cpu / seconds, 3),
        "slowest_flush_ms": round(1000 * slowest_flush, 2),
        "mb_per_min": round(size / 1e6 / (seconds / 60), 3),
    }


def kill_once(folder: Path, i: int, swmr: bool, wait_s: float) -> dict:
    path = folder / f"kill_{i}_{swmr}.h5"
    env = dict(os.environ, PYTHONPATH=str(ROOT))
    proc = subprocess.Popen([sys.executable, str(CHILD), str(path), "kill" if swmr else "kill-noswmr"],
                            stdout=subprocess.PIPE, text=True, env=env)
    written_t = 0.0
    for line in proc.stdout:
        if line.startswith("WRITTEN"):
            written_t = float(line.split()[2])
            if written_t >= wait_s:
                break
    os.kill(proc.pid, signal.SIGKILL)
    proc.wait()
    proc.stdout.close()
    try:
        with SessionFile(path) as sf:
            last = float(sf.emg_t[-1]) if sf.n_emg else 0.0
        return {"opens": True, "lost_s": round(written_t - last, 3)}
    except RecordingFileError as exc:
        return {"opens": False, "error": str(exc)[:160]}


def main() -> int:
    ap = argparse.ArgumentParser()
    ap.add_argument("--quick", action="store_true", help="< 60 s")
    args = ap.parse_args()
    emg = load_real_emg()
    seconds = 120.0 if args.quick else 1200.0
    kills = 3 if args.quick else 10
    rng = np.random.default_rng(0)
    with tempfile.TemporaryDirectory() as tmp:
        folder = Path(tmp)
        writes = [bench_write(emg, seconds, c, folder) for c in (None, "lzf", "gzip")]
        swmr = [kill_once(folder, i, True, float(rng.uniform(1.2, 3.0))) for i in range(kills)]
        noswmr = [kill_once(folder, i, False, float(rng.uniform(1.2, 3.0))) for i in range(max(2, kills // 3))]
    for w in writes:
        print(f"write {w['compression']:>5}: {w['cpu_ms_per_s_of_data']} ms CPU per s of EMG, slowest flush "
              f"{w['slowest_flush_ms']} ms, {w['mb_per_min']} MB/min")
    print("kill -9 (SWMR):", swmr)
    print("kill -9 (no SWMR):", noswmr)
    result = {
        "benchmark": "recording", "quick": args.quick, "seconds_written": seconds, "write": writes,
        "kill_swmr_opens": sum(k["opens"] for k in swmr), "kill_swmr_total": len(swmr),
        "kill_swmr_max_lost_s": max(k.get("lost_s", float("nan")) for k in swmr),
        "kill_noswmr_opens": sum(k["opens"] for k in noswmr), "kill_noswmr_total": len(noswmr),
    }
    print_line(result)
    return 0


if __name__ == "__main__":
    raise SystemExit(main())
