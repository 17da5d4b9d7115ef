"""LSL worker: publishes Asha's streams as LSL outlets and records LSL marker streams, off the GUI thread.

Every ``period_s`` it

1. reads the acquisition ``emg`` and ``imu`` rings with its own cursors and pushes
   the new samples, stamped with their session times (the board's sample times)
   on the LSL clock;
2. pushes marker codes found in the ``emg`` ring: code 100 (the user's marker key)
   to the ``markers`` outlet, every other code by its name to ``gestures``;
3. polls the camera's latest-label slot and the live model's pose slot (neither
   is drained: the recorder and the 3D view keep theirs) and pushes new poses;
4. pushes Asha's own prompts and markers queued with :meth:`LslWorker.send_marker`;
5. polls the marker inlets and signals each marker, and each stream that stops
   or comes back.

With LSL off or unavailable it signals the reason once and finishes; the app
runs as before.

Signals
-------
status(dict)
    About once a second: ``{"available", "message", "outlets": {key: samples pushed},
    "inlets": [...], "clock_offset_s"}``.
marker_received(str, str, float)
    Stream name, marker text, session time (the sender's stamp).
stream_event(str, str, float)
    ``"lost"`` / ``"back"``, a sentence, session time noticed.
"""

from __future__ import annotations

import logging
import queue
import threading
import time
from collections.abc import Callable

import numpy as np
from PySide6.QtCore import Signal

from asha_app.core.clock import SessionClock
from asha_app.core.errors import AshaError
from asha_app.core.ringbuffer import RingReader
from asha_app.devices import lsl as L
from asha_app.workers.base import Worker

log = logging.getLogger(__name__)

USER_MARKER_CODE = 100.0


class LslWorker(Worker):
    """Drive Asha's LSL outlets and marker inlets.

    Parameters
    ----------
    clock : SessionClock
    settings : asha_app.core.settings.LslSettings
        Switch, scope, outlets, marker inlet.
    dof_names : list of str
        The hand model's joint-angle names (pose outlets).
    camera_slot, pose_slot : callable, optional
        Return the camera worker's ``latest`` slot / the inference worker's ``slot`` (or None); called each
        period, so workers started later are picked up.
    period_s : float
        Loop period.
    """

    status = Signal(dict)
    marker_received = Signal(str, str, float)
    stream_event = Signal(str, str, float)

    def __init__(self, clock: SessionClock, settings, dof_names: list[str], *,
                 camera_slot: Callable[[], object] | None = None, pose_slot: Callable[[], object] | None = None,
                 period_s: float = 0.02, parent=None) -> None:
        super().__init__(parent)
        self.setObjectName("LslWorker")
        self.clock = clock
        self.settings = settings
        self.dof_names = list(dof_names)
        self.camera_slot = camera_slot
        self.pose_slot = pose_slot
        self.period_s = period_s
        self._acq_lock = threading.Lock()
        self._acq = None
        self._acq_changed = False
        self._markers: queue.Queue = queue.Queue()
        self.lsl_clock: L.LslClock | None = None
        self.outlets: dict[str, L.Outlet] = {}
        self.inlets: L.MarkerInlets | None = None
        self.available = False
        self.message = ""
        self.ready = threading.Event()

    # ------------------------------------------------------------------ any thread
    def attach(self, acquisition) -> None:
        """Publish the EMG/IMU of this acquisition worker (None: none running)."""
        with self._acq_lock:
            self._acq = acquisition
            self._acq_changed = True

    def send_marker(self, kind: str, label: str, t: float | None = None, **fields) -> None:
        """Queue one of Asha's markers (``kind``: ``prompt_start``, ``prompt_end``, ``marker``...) at session time ``t``."""
        self._markers.put((L.marker_json(kind, label, **fields), self.clock.now() if t is None else float(t)))

    def own_source_ids(self) -> set[str]:
        """Source ids of this worker's outlets (the marker inlet skips them)."""
        return {o.source_id for o in self.outlets.values()}

    # ------------------------------------------------------------------ worker thread
    def _open_static_outlets(self, pl) -> None:
        for key in ("markers", "gestures"):
            if key in self.settings.outlets:
                self.outlets[key] = L.open_outlet(key, self.lsl_clock, pl)
        for key in ("camera_pose", "predicted_pose"):
            if key in self.settings.outlets and self.dof_names:
                self.outlets[key] = L.open_outlet(key, self.lsl_clock, pl, dof_names=self.dof_names)

    def _acquisition_ready(self) -> bool:
        """The new acquisition worker has opened its source (its channels and IMU are known), or is gone."""
        with self._acq_lock:
            acq = self._acq
        return acq is None or acq.source is not None or acq.isFinished()

    def _switch_acquisition(self, pl):
        with self._acq_lock:
            acq, self._acq_changed = self._acq, False
        for key in ("emg", "imu"):
            o = self.outlets.pop(key, None)
            if o is not None:
                o.close()
        if acq is None:
            return None, None, None, {}
        src = acq.source
        names = src.channel_names() if src is not None else [f"EMG {i + 1}" for i in range(acq.n_channels)]
        device = getattr(src, "description", "") if src is not None else ""
        if "emg" in self.settings.outlets:
            self.outlets["emg"] = L.open_outlet("emg", self.lsl_clock, pl, fs=acq.fs, channel_names=names, device=device)
        imu_reader = None
        if "imu" in self.settings.outlets and src is not None and src.has_imu:
            self.outlets["imu"] = L.open_outlet("imu", self.lsl_clock, pl, fs=acq.fs, device=device)
            imu_reader = RingReader(acq.imu_ring)
        marker_names = {float(k): str(v) for k, v in getattr(src, "marker_names", {}).items()}
        return acq, RingReader(acq.emg_ring), imu_reader, marker_names

    def run(self) -> None:  # noqa: C901 - one loop, documented in the module docstring
        st = L.lsl_status(self.settings.enabled, self.settings.scope)
        self.available, self.message = st.available, st.message
        if not st.available:
            self.status.emit({"available": False, "message": st.message, "outlets": {}, "inlets": []})
            self.ready.set()
            return
        try:
            pl = L.configure(self.settings.scope)
            self.lsl_clock = L.LslClock(self.clock, pl)
            self._open_static_outlets(pl)
            if self.settings.record_markers:
                self.inlets = L.MarkerInlets(self.lsl_clock, pl, self.settings.marker_stream, self.own_source_ids())
        except (AshaError, RuntimeError, ValueError) as exc:
            self.available, self.message = False, f"LSL is off: {exc}"
            self.status.emit({"available": False, "message": self.message, "outlets": {}, "inlets": []})
            self.ready.set()
            return
        self.ready.set()
        acq = emg_reader = imu_reader = None
        marker_names: dict[float, str] = {}
        cam_seq = 0
        pose_seq = 0
        last_status = 0.0
        try:
            while not self.isInterruptionRequested():
                tick = time.monotonic()
                if self._acq_changed and self._acquisition_ready():
                    acq, emg_reader, imu_reader, marker_names = self._switch_acquisition(pl)
                if emg_reader is not None:
                    self._push_emg(emg_reader, marker_names)
                if imu_reader is not None and "imu" in self.outlets:
                    r = imu_reader.read()
                    if r.n:
                        self.outlets["imu"].push(r.data["t"][:, 0], np.hstack([r.data["accel"], r.data["gyro"]]))
                cam_seq = self._push_camera(cam_seq)
                pose_seq = self._push_pose(pose_seq)
                self._push_markers()
                if self.inlets is not None:
                    for ev in self.inlets.poll():
                        if ev.kind == "marker":
                            self.marker_received.emit(ev.stream, ev.label, ev.t)
                        else:
                            self.stream_event.emit(ev.kind, ev.label, ev.t)
                now = time.monotonic()
                if now - last_status >= 1.0:
                    last_status = now
                    self.status.emit(self.snapshot())
                spent = time.monotonic() - tick
                if spent < self.period_s:
                    self.msleep(max(1, int((self.period_s - spent) * 1000)))
        finally:
            for o in self.outlets.values():
                o.close()
            if self.inlets is not None:
                self.inlets.close()

    def snapshot(self) -> dict:
        """What the status signal carries."""
        return {"available": self.available, "message": self.message,
                "outlets": {k: o.pushed for k, o in self.outlets.items()},
                "inlets": self.inlets.summary() if self.inlets is not None else [],
                "clock_offset_s": self.lsl_clock.offset if self.lsl_clock is not None else None}

    def _push_emg(self, reader: RingReader, marker_names: dict[float, str]) -> None:
        r = reader.read()
        if r.lost:
            log.warning("LSL outlet fell behind the EMG ring: %d samples not published", r.lost)
        if not r.n:
            return
        t = r.data["t"][:, 0]
        if "emg" in self.outlets:
            self.outlets["emg"].push(t, r.data["raw"])
        codes = r.data["marker"][:, 0]
        for i in np.flatnonzero(codes):
            code = float(codes[i])
            if code == USER_MARKER_CODE:
                if "markers" in self.outlets:
                    self.outlets["markers"].push([t[i]], [L.marker_json("marker", "user marker")])
            elif "gestures" in self.outlets:
                self.outlets["gestures"].push([t[i]], [marker_names.get(code, f"{code:g}")])

    def _push_camera(self, seq: int) -> int:
        o = self.outlets.get("camera_pose")
        slot = self.camera_slot() if (o is not None and self.camera_slot is not None) else None
        if slot is None:
            return seq
        new_seq, lab = slot.get()
        if lab is None or new_seq == seq:
            return new_seq
        ik = getattr(lab, "ik", None)
        angles = getattr(ik, "angles_deg", None) if ik is not None else None
        valid = bool(getattr(lab, "valid", False))
        row = np.full(len(self.dof_names) + 1, np.nan, np.float32)
        if angles is not None and len(angles) == len(self.dof_names):
            row[:-1] = angles
        row[-1] = 1.0 if valid else 0.0
        o.push([lab.t], row[None, :])
        return new_seq

    def _push_pose(self, seq: int) -> int:
        o = self.outlets.get("predicted_pose")
        slot = self.pose_slot() if (o is not None and self.pose_slot is not None) else None
        if slot is None:
            return seq
        _, lp = slot.get()
        if lp is None or lp.seq == seq:
            return seq if lp is None else lp.seq
        if lp.angles is None or len(lp.angles) != len(self.dof_names):
            return lp.seq  # a model whose targets do not map onto the hand model: nothing to publish
        row = np.append(np.asarray(lp.angles, np.float32), np.float32(1.0))
        o.push([lp.t], row[None, :])
        return lp.seq

    def _push_markers(self) -> None:
        o = self.outlets.get("markers")
        while True:
            try:
                text, t = self._markers.get_nowait()
            except queue.Empty:
                return
            if o is not None:
                o.push([t], [text])
