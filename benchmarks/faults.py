"""Fault benchmark: kill -9 during recording and during finalize with the demo sources, then fuzz the readers.

Part 1, kills (the app's real parts in a child process, as the recording wizard wires them: the bundled demo
EMG through the :class:`AcquisitionWorker`, demo-video labels through the :class:`CameraWorker`, the
:class:`RecorderWorker` writing the session):

* ``N`` children are SIGKILLed at a random moment 3-9 s into the recording;
* ``N`` children stop after 4 s and are SIGKILLed at a random moment 0-0.12 s after the recorder is told to
  stop (last drain, final flush, summary, close: ``finalize``); ``finalize_kills_inside`` counts the kills
  that landed before the stop returned.

For each file: does it open (:class:`SessionFile`), seconds lost (newest sample the child reported as delivered
minus the newest sample in the file), fabricated rows (rows whose time is NaN, or zero-filled rows: time 0,
package 0 and every channel 0 after the first row), and whether ``asha check --recover`` makes a finalized copy
with the same samples.  Goals: all open, <= 1 s lost, 0 fabricated.

Part 2, fuzz: random truncations and bit flips of real files (a session file written from
``../shared/data/paired_myo_mediapipe``, its emg2pose export, NinaPro DB1 ``.mat`` files from
``../shared/data/ninapro_db1_dev``, a MindRove/BrainFlow file from the bundled demo, the paired CSV folder), each
read by the matching reader in a separate worker process with a watchdog.  A case ends "ok" (read), "refused"
(an :class:`AshaError` with a message naming the file), "crash" (any other exception, or the worker died) or
"hang" (no answer within the time limit).  Goal: 0 crashes, 0 hangs.

Usage::

    python benchmarks/faults.py [--quick] [--kills N] [--fuzz N] [--seed S]

``--quick``: 2 + 2 kills and 60 fuzz cases (a few minutes); default 10 + 10 kills and 300 fuzz cases.
The last line of stdout is one JSON object.
"""

from __future__ import annotations

import argparse
import json
import multiprocessing as mp
import os
import random
import signal
import subprocess
import sys
import tempfile
import time
from pathlib import Path

REPO = Path(__file__).resolve().parents[1]
sys.path.insert(0, str(REPO))
SHARED = REPO.parent / "shared" / "data"

LABEL_FPS = 30.0


def _log(msg: str) -> None:
    sys.stderr.write(msg + "\n")
    sys.stderr.flush()


# ---------------------------------------------------------------------- part 1: the recording child
def child(path: Path, record_s: float | None) -> int:
    """Record demo EMG + labels into ``path``; with ``record_s`` stop (finalize) after that long, else forever."""
    from PySide6.QtCore import QCoreApplication

    from asha_app.core.clock import SessionClock
    from asha_app.core.settings import AppSettings
    from asha_app.data.writer import SessionWriter
    from asha_app.devices.camera import CameraSource, demo_video_path
    from asha_app.devices.emg import DemoSource
    from asha_app.dsp.filters import FilterSpec
    from asha_app.pose.hand_model import HandModel
    from asha_app.ui.recording_wizard import camera_label_to_frame
    from asha_app.workers.acquisition import AcquisitionWorker
    from asha_app.workers.camera import CameraWorker
    from asha_app.workers.recorder import RecorderWorker, make_frame_queue

    app = QCoreApplication.instance() or QCoreApplication([])
    clock = SessionClock()
    spec = FilterSpec.from_settings(AppSettings().filter, 500.0)
    acq = AcquisitionWorker(DemoSource, clock, 500.0, 8, filter_spec=spec)
    cam = CameraWorker(CameraSource(demo_video_path(), clock, pace=True, loop=True, fps=LABEL_FPS))
    acq.start()
    cam.start()
    while acq.emg_ring.total == 0 or acq.source is None:
        app.processEvents()
        time.sleep(0.05)
    writer = SessionWriter(path, 8, 500.0, HandModel.builtin("right").dof_names, filter_spec=spec,
                           package_modulus=acq.source.package_modulus, package_restart=acq.source.package_restart,
                           session_t0_unix=clock.t0_unix, overwrite=True)
    frames = make_frame_queue(8192)
    rec = RecorderWorker(writer, acq.emg_ring, acq.imu_ring, frames, poll_ms=50)
    start_total = rec._emg_reader.cursor  # noqa: SLF001
    rec.start()
    t0 = time.monotonic()

    def report():
        newest = acq.emg_ring.latest(1)
        t_new = float(newest.data["t"][0, 0]) if newest.n else float("nan")
        print(f"DELIVERED {acq.emg_ring.total - start_total} {t_new:.6f}", flush=True)

    while record_s is None or time.monotonic() - t0 < record_s:
        app.processEvents()
        for lab in cam.labels.drain():
            frames.put_nowait(camera_label_to_frame(lab))
        report()
        time.sleep(0.05)
    acq.stop(5000)
    cam.stop(5000)
    report()
    print("FINALIZING", flush=True)
    rec.stop(60_000)
    print("DONE", flush=True)
    return 0


def _fabricated(t, raw, package) -> int:
    import numpy as np

    nan_t = ~np.isfinite(t)
    zero = (t == 0) & (package == 0) & np.all(raw == 0, axis=1)
    zero[:1] = False
    return int(np.count_nonzero(nan_t | zero))


def kill_case(folder: Path, i: int, during_finalize: bool, rng: random.Random) -> dict:
    """One child killed at a random moment; what the file holds afterwards."""
    import numpy as np

    from asha_app.core.errors import AshaError
    from asha_app.data.recovery import recover_session
    from asha_app.data.reader import SessionFile

    path = folder / f"{'fin' if during_finalize else 'rec'}_{i}.h5"
    env = dict(os.environ, PYTHONPATH=str(REPO))
    args = [sys.executable, str(Path(__file__).resolve()), "--child", str(path)]
    if during_finalize:
        args += ["--record-s", "4"]
    proc = subprocess.Popen(args, stdout=subprocess.PIPE, stderr=subprocess.DEVNULL, text=True, env=env)
    kill_after = rng.uniform(3.0, 9.0)
    delay = rng.uniform(0.0, 0.12)  # the stop of a 4 s recording takes ~0.05-0.15 s here
    reported_n, reported_t = 0, float("nan")
    for line in proc.stdout:
        if line.startswith("DELIVERED"):
            _, n, t = line.split()
            reported_n, reported_t = int(n), float(t)
            if not during_finalize and reported_n >= kill_after * 500:
                break
        elif line.startswith("FINALIZING"):
            time.sleep(delay)
            break
    os.kill(proc.pid, signal.SIGKILL)
    proc.wait()
    rest = proc.stdout.read()  # what the child printed before the kill landed
    proc.stdout.close()
    out = {"during_finalize": during_finalize, "kill_delay_s": round(delay, 3) if during_finalize else round(kill_after, 2)}
    if during_finalize:
        out["killed_before_stop_returned"] = "DONE" not in rest
    try:
        with SessionFile(path) as sf:
            t = sf.emg_t[()]
            raw = sf.emg_raw[()]
            package = sf.dataset("emg/package")[()]
            out.update(opens=True, crashed_flag=sf.crashed, finalized=sf.finalized)
    except AshaError as exc:
        out.update(opens=False, error=str(exc)[:300])
        return out
    finite = t[np.isfinite(t)]
    out.update(samples_in_file=int(t.size), reported_delivered=reported_n, fabricated_rows=_fabricated(t, raw, package),
               lost_s=round(reported_t - float(finite[-1]), 3) if finite.size else None)
    if sf.crashed or not sf.finalized:
        try:
            rec = recover_session(path)
            with SessionFile(rec) as sf2:
                out["recovered_same_samples"] = bool(sf2.finalized and np.array_equal(sf2.emg_t[()], t))
        except AshaError as exc:
            out["recovered_same_samples"] = False
            out["recover_error"] = str(exc)[:300]
    return out


# ---------------------------------------------------------------------- part 2: fuzz
def _prepare_sources(folder: Path) -> dict[str, list[Path]]:
    """Real files to damage: {kind: [paths]} (kinds: session, emg2pose, ninapro, brainflow, paired)."""
    import gzip
    import shutil

    from asha_app.data.exporters import export_emg2pose
    from asha_app.data.importers.paired_myo_mediapipe import load_paired
    from asha_app.data.importers.session import write_recording

    out: dict[str, list[Path]] = {}
    paired = SHARED / "paired_myo_mediapipe"
    if paired.is_dir():
        rec = load_paired(paired)
        session = write_recording(rec, folder / "paired.h5")
        out["session"] = [session]
        try:
            from asha_app.data.recording import Recording

            fake = Recording(emg=rec.emg, emg_t=rec.emg_t, fs=rec.fs, label_t=rec.label_t,
                             joint_angles=rec.targets, valid=rec.valid, angle_names=list(rec.target_names),
                             channel_names=rec.channel_names, meta={"file": str(session)})
            export_emg2pose(fake, folder / "paired.emg2pose.hdf5")
            out["emg2pose"] = [folder / "paired.emg2pose.hdf5"]
        except Exception as exc:  # noqa: BLE001 - the fuzz goes on without this kind
            _log(f"no emg2pose source: {exc}")
        out["paired"] = [paired]
    mats = sorted((SHARED / "ninapro_db1_dev").glob("*.mat"))[:3]
    if mats:
        out["ninapro"] = mats
    demo = REPO / "resources" / "demo" / "myo_gestures_500hz.tsv.gz"
    bf = folder / "demo_head.tsv"
    with gzip.open(demo, "rb") as fin, open(bf, "wb") as fout:
        for _ in range(20_000):
            line = fin.readline()
            if not line:
                break
            fout.write(line)
    out["brainflow"] = [bf]
    for kind, paths in out.items():
        for p in paths:
            if p.is_file():
                shutil.copy2(p, folder / f"orig_{kind}_{p.name}")
    return out


def _damage(src: Path, dst: Path, rng: random.Random) -> str:
    data = bytearray(src.read_bytes())
    how = rng.choice(["truncate", "flip", "flip", "truncate+flip"])
    if "flip" in how:
        for _ in range(rng.randint(1, 24)):
            i = rng.randrange(len(data))
            data[i] ^= 1 << rng.randrange(8)
    if "truncate" in how:
        data = data[: rng.randrange(len(data))]
    dst.write_bytes(bytes(data))
    return how


def _worker(conn) -> None:
    """Read (kind, path) cases and answer ("ok" | "refused" | "crash", text); runs in its own process."""
    import logging
    import traceback

    logging.disable(logging.CRITICAL)
    from asha_app.core.errors import AshaError
    from asha_app.data.importers import import_file
    from asha_app.data.integrity import check_session
    from asha_app.data.reader import read_recording

    while True:
        try:
            kind, path = conn.recv()
        except EOFError:
            return
        try:
            if kind == "session":
                check_session(path)
                read_recording(path)
            else:
                import_file(path, kind)
            conn.send(("ok", ""))
        except AshaError as exc:
            names = [str(path), Path(path).name] + ([p.name for p in Path(path).iterdir()] if Path(path).is_dir() else [])
            conn.send(("refused" if any(n in str(exc) for n in names) else "refused_unnamed", str(exc)[:300]))
        except Exception:  # noqa: BLE001 - that is what the fuzz looks for
            conn.send(("crash", traceback.format_exc()[-1500:]))


class _Pool:
    """One worker process with a watchdog: a case that takes longer than ``timeout_s`` is a hang."""

    def __init__(self, timeout_s: float) -> None:
        self.timeout_s = timeout_s
        self.ctx = mp.get_context("fork")
        self._start()

    def _start(self) -> None:
        self.conn, child_conn = self.ctx.Pipe()
        self.proc = self.ctx.Process(target=_worker, args=(child_conn,), daemon=True)
        self.proc.start()

    def run(self, kind: str, path: Path) -> tuple[str, str]:
        self.conn.send((kind, str(path)))
        if self.conn.poll(self.timeout_s):
            try:
                return self.conn.recv()
            except EOFError:
                pass
        alive = self.proc.is_alive()
        self.proc.kill()
        self.proc.join()
        code = self.proc.exitcode
        self._start()
        return ("hang", f"no answer in {self.timeout_s:g} s") if alive else ("crash", f"worker died (exit {code})")

    def close(self) -> None:
        self.conn.close()
        self.proc.kill()
        self.proc.join()


def fuzz(folder: Path, n_cases: int, rng: random.Random, timeout_s: float = 30.0) -> dict:
    import shutil

    sources = _prepare_sources(folder)
    kinds = sorted(sources)
    pool = _Pool(timeout_s)
    counts = {k: {"ok": 0, "refused": 0, "refused_unnamed": 0, "crash": 0, "hang": 0} for k in kinds}
    examples: list[dict] = []
    t0 = time.monotonic()
    try:
        for i in range(n_cases):
            kind = kinds[i % len(kinds)]
            src = rng.choice(sources[kind])
            if src.is_dir():  # the paired folder: damage one of its two CSV files
                case = folder / f"case_{i}"
                shutil.copytree(src, case)
                victim = rng.choice(sorted(case.glob("*.csv")))
                how = _damage(victim, victim, rng)
            else:
                case = folder / f"case_{i}{''.join(src.suffixes[-1:])}"
                how = _damage(src, case, rng)
            result, text = pool.run(kind, case)
            counts[kind][result] += 1
            if result in ("crash", "hang", "refused_unnamed") and len(examples) < 12:
                examples.append({"kind": kind, "how": how, "result": result, "text": text})
            if case.is_dir():
                shutil.rmtree(case, ignore_errors=True)
            else:
                case.unlink(missing_ok=True)
    finally:
        pool.close()
    total = {r: sum(c[r] for c in counts.values()) for r in ("ok", "refused", "refused_unnamed", "crash", "hang")}
    return {"fuzz_cases": n_cases, "fuzz_seconds": round(time.monotonic() - t0, 1), "fuzz_by_kind": counts,
            "fuzz_total": total, "fuzz_examples": examples}


def main() -> int:
    ap = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    ap.add_argument("--quick", action="store_true", help="2 + 2 kills and 60 fuzz cases")
    ap.add_argument("--kills", type=int, default=None, help="kills during recording, and as many during finalize")
    ap.add_argument("--fuzz", type=int, default=None, help="fuzz cases")
    ap.add_argument("--seed", type=int, default=11)
    ap.add_argument("--child", metavar="PATH", help=argparse.SUPPRESS)
    ap.add_argument("--record-s", type=float, default=None, help=argparse.SUPPRESS)
    args = ap.parse_args()
    os.environ.setdefault("ASHA_HOME", tempfile.mkdtemp(prefix="asha_faults_"))
    os.environ.setdefault("QT_QPA_PLATFORM", "offscreen")
    import logging

    logging.basicConfig(level=logging.ERROR)
    if args.child:
        return child(Path(args.child), args.record_s)
    rng = random.Random(args.seed)
    n_kills = args.kills if args.kills is not None else (2 if args.quick else 10)
    n_fuzz = args.fuzz if args.fuzz is not None else (60 if args.quick else 300)
    kills = []
    with tempfile.TemporaryDirectory() as tmp:
        folder = Path(tmp)
        for i in range(n_kills):
            for during_finalize in (False, True):
                k = kill_case(folder, i, during_finalize, rng)
                _log(f"kill {'finalize' if during_finalize else 'recording'} #{i + 1}: {json.dumps(k)}")
                kills.append(k)
        fz = fuzz(folder, n_fuzz, rng)
        _log(json.dumps(fz["fuzz_total"]))
    lost = [k["lost_s"] for k in kills if k.get("lost_s") is not None]
    result = {
        "benchmark": "faults", "quick": bool(args.quick), "seed": args.seed, "machine_cpus": os.cpu_count(),
        "kills_recording": sum(not k["during_finalize"] for k in kills),
        "kills_finalize": sum(k["during_finalize"] for k in kills),
        "files_open": sum(bool(k.get("opens")) for k in kills), "files_total": len(kills),
        "max_lost_s": max(lost) if lost else None,
        "fabricated_rows": sum(k.get("fabricated_rows", 0) for k in kills),
        "recovered_same_samples": sum(bool(k.get("recovered_same_samples")) for k in kills),
        "needed_recovery": sum("recovered_same_samples" in k for k in kills),
        "finalize_kills_finalized": sum(bool(k.get("finalized")) for k in kills if k["during_finalize"]),
        "finalize_kills_inside": sum(bool(k.get("killed_before_stop_returned")) for k in kills),
        **fz,
    }
    from asha_app.core.jsonout import print_line

    print_line(result)
    return 0


if __name__ == "__main__":
    raise SystemExit(main())
