"""Benchmark: a whole guided-recording pipeline writing a session file, and what a kill -9 loses.

What runs (the app's real parts, in one process, as the wizard wires them):

* EMG: the bundled demo (real Myo sEMG resampled to 500 Hz, replayed by the
  MindRove SDK's playback board) through the real :class:`AcquisitionWorker`
  (filter, rings);
* labels: the real :class:`CameraWorker` (MediaPipe Hands + IK) on the bundled
  demo hand video, paced at 30 frames/s (the file is 25 fps; it is played
  1.2x fast so that the pipeline is offered 30 frames/s);
* the wizard's adapter (:func:`asha_app.ui.recording_wizard.camera_label_to_frame`)
  moving camera labels into the recorder's queue every 50 ms, as the session page does;
* the :class:`RecorderWorker` writing the session file (gzip, SWMR, flush <= 1 s).

Reported (last line of stdout: one JSON object):

* ``mb_per_min``: file size per minute of session;
* ``recorder_cpu_ms_per_s``: CPU time of the recorder thread (``time.thread_time`` at the end of
  its ``run``) per second of session, and ``recorder_cpu_percent`` of one core;
* ``rss_mb_start/end/max``: resident memory of the process over the session (sampled every 2 s,
  start = after the recorder started);
* ``samples_in_file`` vs ``samples_delivered`` (to the EMG ring after the recorder started): equal
  when nothing is lost; ``frames_in_file`` and ``label_fps`` (what the camera pipeline achieved);
* kill -9: the same recording in a child process, SIGKILLed in the middle; the file must open and
  ``lost_s`` (newest sample the child reported as delivered just before the kill minus the newest
  sample in the file) should be < 1 s.

Usage::

    python benchmarks/recording_session.py [--quick] [--seconds N]

``--quick``: a 25 s session and one kill (about a minute); default: a 30-minute session and three kills.
"""

from __future__ import annotations

import argparse
import json
import os
import signal
import subprocess
import sys
import tempfile
import time
from pathlib import Path

REPO = Path(__file__).resolve().parents[1]
sys.path.insert(0, str(REPO))

from asha_app.core.jsonout import print_line  # noqa: E402

LABEL_FPS = 30.0


def _log(msg: str) -> None:
    sys.stderr.write(msg + "\n")
    sys.stderr.flush()


def run_session(path: Path, seconds: float, child: bool = False) -> dict:
    """Record ``seconds`` of demo EMG + demo-video labels into ``path``; returns the figures."""
    import numpy as np
    import psutil
    from PySide6.QtCore import QCoreApplication

    from asha_app.core.clock import SessionClock
    from asha_app.core.settings import AppSettings
    from asha_app.data.reader import SessionFile
    from asha_app.data.writer import SessionWriter
    from asha_app.devices.camera import CameraSource, demo_video_path
    from asha_app.devices.emg import DemoSource
    from asha_app.dsp.filters import FilterSpec
    from asha_app.pose.hand_model import HandModel
    from asha_app.ui.recording_wizard import camera_label_to_frame
    from asha_app.workers.acquisition import AcquisitionWorker
    from asha_app.workers.camera import CameraWorker
    from asha_app.workers.recorder import RecorderWorker, make_frame_queue

    class TimedRecorder(RecorderWorker):
        """The real recorder; remembers its thread's CPU time."""

        cpu_s = 0.0

        def run(self) -> None:
            try:
                super().run()
            finally:
                self.cpu_s = time.thread_time()

    app = QCoreApplication.instance() or QCoreApplication([])
    proc = psutil.Process()
    clock = SessionClock()
    spec = FilterSpec.from_settings(AppSettings().filter, 500.0)
    acq = AcquisitionWorker(DemoSource, clock, 500.0, 8, filter_spec=spec)
    cam = CameraWorker(CameraSource(demo_video_path(), clock, pace=True, loop=True, fps=LABEL_FPS))
    acq.start()
    cam.start()
    t_wait = time.monotonic()
    while (acq.emg_ring.total == 0 or cam.snapshot()["labelled"] + cam.snapshot()["invalid"] < 5) and time.monotonic() - t_wait < 90:
        app.processEvents()
        time.sleep(0.05)
    if acq.emg_ring.total == 0:
        raise SystemExit("the demo EMG source delivered nothing within 90 s")
    dof = HandModel.builtin("right").dof_names
    writer = SessionWriter(path, 8, 500.0, dof, filter_spec=spec, package_modulus=None, session_t0_unix=clock.t0_unix,
                           participant={"pseudonym": "BENCH"}, device={"kind": "demo"}, camera={"name": "demo video"},
                           emg_to_video_offset_s=0.0, offset_source="assumed", overwrite=True)
    frames = make_frame_queue(8192)
    cam.labels.drain()
    rec = TimedRecorder(writer, acq.emg_ring, acq.imu_ring, frames, poll_ms=50)
    start_total = rec._emg_reader.cursor  # the recorder records every sample written after this counter
    cam_start = cam.snapshot()
    cpu0 = time.process_time()
    rec.start()
    t0 = time.monotonic()
    rss = [proc.memory_info().rss]
    last_rss = last_print = last_log = t0
    frames_sent = 0
    while True:
        now = time.monotonic()
        if now - t0 >= seconds or not rec.isRunning():
            break
        app.processEvents()
        for lab in cam.labels.drain():
            frames.put_nowait(camera_label_to_frame(lab))
            frames_sent += 1
        if child and now - last_print >= 0.05:
            last_print = now
            total = acq.emg_ring.total
            newest = acq.emg_ring.latest(1)
            t_new = float(newest.data["t"][0, 0]) if newest.n else float("nan")
            print(f"DELIVERED {total - start_total} {t_new:.6f}", flush=True)
        if now - last_rss >= 2.0:
            last_rss = now
            rss.append(proc.memory_info().rss)
        if not child and now - last_log >= 30.0:
            last_log = now
            _log(f"  {now - t0:6.0f} s: {acq.emg_ring.total - start_total} samples, {frames_sent} frames, "
                 f"RSS {rss[-1] / 1e6:.0f} MB")
        time.sleep(0.05)
    wall = time.monotonic() - t0
    acq.stop(5000)
    cam.stop(5000)
    for lab in cam.labels.drain():
        frames.put_nowait(camera_label_to_frame(lab))
        frames_sent += 1
    delivered = acq.emg_ring.total - start_total
    rec.stop(60_000)
    rss.append(proc.memory_info().rss)
    cpu_proc = time.process_time() - cpu0
    cam_end = cam.snapshot()
    with SessionFile(path) as sf:
        n_file, n_frames = sf.n_emg, sf.n_frames
        valid = sf.dataset("labels/valid")[()] if n_frames else np.zeros(0, bool)
        cam_t = sf.dataset("camera/t")[()] if n_frames else np.zeros(0)
    size = path.stat().st_size
    labelled = (cam_end["labelled"] + cam_end["invalid"] + cam_end["no_hand"]) - (
        cam_start["labelled"] + cam_start["invalid"] + cam_start["no_hand"])
    return {
        "seconds": round(wall, 1),
        "mb_per_min": round(size / 1e6 / (wall / 60), 3),
        "recorder_cpu_ms_per_s": round(1000 * rec.cpu_s / wall, 2),
        "recorder_cpu_percent": round(100 * rec.cpu_s / wall, 2),
        "process_cpu_percent": round(100 * cpu_proc / wall, 1),
        "rss_mb_start": round(rss[0] / 1e6, 1), "rss_mb_end": round(rss[-1] / 1e6, 1),
        "rss_mb_max": round(max(rss) / 1e6, 1),
        "samples_delivered": int(delivered), "samples_in_file": int(n_file),
        "frames_sent": int(frames_sent), "frames_in_file": int(n_frames),
        "label_fps": round(labelled / wall, 1),
        "label_fps_in_file": round((len(cam_t) - 1) / (cam_t[-1] - cam_t[0]), 1) if len(cam_t) > 1 else 0.0,
        "camera_skipped_frames": int(cam_end["skipped"] - cam_start["skipped"]),
        "valid_label_share": round(float(valid.mean()), 3) if valid.size else None,
        "recorder_error": rec.failed,
    }


def kill_once(folder: Path, i: int, kill_after_s: float) -> dict:
    """Run the recording in a child, SIGKILL it after ``kill_after_s`` of recorded EMG, open the file."""
    from asha_app.core.errors import RecordingFileError
    from asha_app.data.reader import SessionFile

    path = folder / f"kill_{i}.h5"
    env = dict(os.environ, PYTHONPATH=str(REPO))
    proc = subprocess.Popen([sys.executable, str(Path(__file__).resolve()), "--child", str(path)],
                            stdout=subprocess.PIPE, text=True, env=env)
    reported_n, reported_t = 0, float("nan")
    for line in proc.stdout:
        if line.startswith("DELIVERED"):
            _, n, t = line.split()
            reported_n, reported_t = int(n), float(t)
            if reported_n >= kill_after_s * 500:
                break
    os.kill(proc.pid, signal.SIGKILL)
    proc.wait()
    proc.stdout.close()
    try:
        with SessionFile(path) as sf:
            n = sf.n_emg
            last = float(sf.emg_t[-1]) if n else float("nan")
            crashed = sf.crashed
    except RecordingFileError as exc:
        return {"opens": False, "error": str(exc)[:200]}
    return {"opens": True, "crashed_flag": crashed, "reported_delivered": reported_n, "samples_in_file": n,
            "lost_samples": reported_n - n, "lost_s": round(reported_t - last, 3)}


def main() -> int:
    ap = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    ap.add_argument("--quick", action="store_true", help="25 s session and one kill (about a minute)")
    ap.add_argument("--seconds", type=float, default=None, help="session length (overrides --quick)")
    ap.add_argument("--kills", type=int, default=None)
    ap.add_argument("--child", metavar="PATH", help=argparse.SUPPRESS)
    args = ap.parse_args()
    os.environ.setdefault("ASHA_HOME", tempfile.mkdtemp(prefix="asha_bench_"))
    os.environ.setdefault("QT_QPA_PLATFORM", "offscreen")
    import logging

    logging.basicConfig(level=logging.WARNING)
    if args.child:
        run_session(Path(args.child), 3600.0, child=True)
        return 0
    import torch

    torch.set_num_threads(1)
    seconds = args.seconds or (25.0 if args.quick else 1800.0)
    kills = args.kills if args.kills is not None else (1 if args.quick else 3)
    with tempfile.TemporaryDirectory() as tmp:
        folder = Path(tmp)
        _log(f"recording {seconds:.0f} s of demo EMG + 30 frames/s demo-video labels ...")
        session = run_session(folder / "session.h5", seconds)
        _log(json.dumps(session))
        kill = []
        for i in range(kills):
            k = kill_once(folder, i, kill_after_s=6.0 + 4.0 * i)
            _log(f"kill -9 #{i + 1}: {k}")
            kill.append(k)
    result = {
        "benchmark": "recording_session", "quick": bool(args.quick), "machine_cpus": os.cpu_count(),
        **session,
        "samples_equal": session["samples_in_file"] == session["samples_delivered"],
        "kill_opens": sum(k["opens"] for k in kill), "kill_total": len(kill),
        "kill_max_lost_s": max((k.get("lost_s", float("inf")) for k in kill), default=None),
        "kill_max_lost_samples": max((k.get("lost_samples", 0) for k in kill), default=None),
    }
    print_line(result)
    return 0


if __name__ == "__main__":
    raise SystemExit(main())
