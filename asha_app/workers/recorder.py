"""Recorder worker: the only writer of a session file while recording.

The acquisition worker fills the ``emg`` and ``imu`` ring buffers (fields in
the house layout: ``emg`` {t, raw, filtered, package, marker[, board_t]},
``imu`` {t, accel, gyro}); the camera worker puts one
:class:`~asha_app.workers.camera.CameraLabel` per processed frame into its
``labels`` :class:`~asha_app.core.ringbuffer.ItemRing`; the wizard sends prompts
and markers with :meth:`RecorderWorker.add_prompt` /
:meth:`RecorderWorker.add_marker`.  The worker reads the rings with its own
cursors (the labels straight from the camera worker: no GUI thread in between,
so a busy GUI never holds labels back) every ``poll_ms``, hands them to a
:class:`~asha_app.data.writer.SessionWriter`, and flushes at least every
``flush_interval_s`` (<= 1 s).  EMG samples it lost because it fell behind the
ring are recorded in ``/dropped`` (source host); camera labels it lost are
counted in ``status``.

Signals
-------
error(str, str)
    A user-facing message (disk full, folder not writable) and a traceback text
    (the base's one error path, :mod:`asha_app.workers.base`); the worker has
    stopped and the file is valid up to its last flush.
status(dict)
    At most ``status_hz`` per second: ``{"emg": n, "frames": m, "dropped_device": k,
    "dropped_host": h, "seconds": s, "camera_behind": q, "camera_dropped": c}`` (labels not read yet, labels
    overwritten before the recorder read them).
finished_file(dict)
    After a clean stop: the integrity summary written by ``finalize()``.
"""

from __future__ import annotations

import logging
import queue
import threading
import time
import traceback
from dataclasses import dataclass

from PySide6.QtCore import Signal

from asha_app.core.errors import AshaError
from asha_app.core.ringbuffer import ItemReader, ItemRing, RingBuffer, RingReader
from asha_app.data.recording import Prompt
from asha_app.data.schema import Dropped
from asha_app.data.writer import SessionWriter
from asha_app.workers.base import Worker

log = logging.getLogger(__name__)


@dataclass(frozen=True)
class AddPrompt:
    """Command: store a prompt record (``discarded``: cut short or redone)."""

    prompt: Prompt
    discarded: bool = False


@dataclass(frozen=True)
class AddMarker:
    """Command: store a free marker."""

    label: str
    t: float


class RecorderWorker(Worker):
    """Drain rings and the camera queue into a session file.

    Parameters
    ----------
    writer : SessionWriter
        Opened by the caller (so that "cannot create file" errors reach the
        caller at once, before the thread starts), with the EMG source's
        ``package_modulus``, the filter spec, participant and device
        attributes.  The worker owns it from ``start()`` on and finalizes it
        at a clean stop.
    emg_ring : RingBuffer
        The acquisition ``emg`` ring.
    imu_ring : RingBuffer, optional
        The acquisition ``imu`` ring.
    labels : ItemRing, optional
        The camera worker's ``labels`` ring, read from its current end (items are
        ``CameraLabel`` or :class:`~asha_app.data.schema.CameraLabelFrame` objects);
        :meth:`set_labels` switches to another camera's while recording.
    poll_ms : int
        Drain period.
    finalize_on_stop : bool
        Write the summary attributes when stopped without error.
    """

    status = Signal(dict)
    finished_file = Signal(dict)

    task = "recording"

    def __init__(self, writer: SessionWriter, emg_ring: RingBuffer, imu_ring: RingBuffer | None = None,
                 labels: ItemRing | None = None, *, poll_ms: int = 50, status_hz: float = 2.0,
                 finalize_on_stop: bool = True, parent=None) -> None:
        super().__init__(parent)
        self.writer = writer
        self.poll_ms = int(poll_ms)
        self.status_hz = float(status_hz)
        self.finalize_on_stop = finalize_on_stop
        self._emg_reader = RingReader(emg_ring)  # from the current end: records what comes after start
        self._imu_reader = RingReader(imu_ring) if imu_ring is not None else None
        self._label_reader: ItemReader | None = labels.reader() if labels is not None else None
        self._next_labels: list[ItemReader | None] = []  # handed over by set_labels, taken in the thread
        self._labels_lost = 0
        self._commands: queue.Queue = queue.Queue()
        self._lock = threading.Lock()
        self._last_t = 0.0
        self.summary: dict | None = None

    # ------------------------------------------------------------------ thread-safe API
    def add_prompt(self, prompt: Prompt, discarded: bool = False) -> None:
        """Queue a prompt record for the file (any thread): completed, or ``discarded`` (PROMPT_DISCARDED events)."""
        self._commands.put(AddPrompt(prompt, discarded))

    def add_marker(self, label: str, t: float) -> None:
        """Queue a free marker at session time ``t`` (any thread)."""
        self._commands.put(AddMarker(label, float(t)))

    def set_labels(self, labels: ItemRing | None) -> None:
        """Read camera labels from ``labels`` from now on (a camera started or restarted while recording; any
        thread).  What the previous ring still holds unread is written first; None stops reading labels."""
        reader = labels.reader() if labels is not None else None
        with self._lock:
            self._next_labels.append(reader)

    @property
    def failed(self) -> str | None:
        """The user-facing message of the failure that stopped the recording (None while none)."""
        return self.failure

    def stop(self, timeout_ms: int | None = None) -> bool:
        """Ask the thread to drain, flush, finalize and finish; returns True if it finished in time."""
        return super().stop(timeout_ms)

    # ------------------------------------------------------------------ loop
    def _drain(self) -> None:
        w = self.writer
        res = self._emg_reader.read()
        if res.lost:
            t = float(res.data["t"][0, 0]) if res.n else self._last_t
            w.append_dropped(t, float("nan"), int(res.lost), Dropped.SOURCE_HOST)
            log.warning("recorder fell behind the EMG ring: %d samples lost", res.lost)
        if res.n:
            d = res.data
            w.append_emg(d["t"][:, 0], d["raw"], package=d["package"][:, 0] if "package" in d else None,
                         marker=d["marker"][:, 0] if "marker" in d else None,
                         board_t=d["board_t"][:, 0] if "board_t" in d else None)
            self._last_t = float(d["t"][-1, 0])
        if self._imu_reader is not None:
            r = self._imu_reader.read()
            if r.n:
                w.append_imu(r.data["t"][:, 0], r.data["accel"], r.data["gyro"])
        with self._lock:
            switches, self._next_labels = self._next_labels, []
        self._read_labels()
        for reader in switches:  # another camera: the old ring was read to its end, now the new one
            self._label_reader = reader
            self._read_labels()
        while True:
            try:
                cmd = self._commands.get_nowait()
            except queue.Empty:
                break
            if isinstance(cmd, AddPrompt):
                w.append_prompt(cmd.prompt, cmd.discarded)
            elif isinstance(cmd, AddMarker):
                w.append_marker(cmd.label, cmd.t)

    def _read_labels(self) -> None:
        reader = self._label_reader
        if reader is None:
            return
        frames = reader.read()
        if reader.lost:
            self._labels_lost += reader.lost
            log.warning("recorder fell behind the camera labels: %d lost", reader.lost)
        if frames:
            self.writer.append_frames(frames)

    def _status(self) -> dict:
        w = self.writer
        c, p = w.counts, w.pending
        return {
            "emg": c["emg"] + p["emg"], "frames": c["frames"] + p["frames"], "dropped_device": w.dropped_device,
            "dropped_host": w.dropped_host, "seconds": self._last_t,
            "camera_behind": self._label_reader.available if self._label_reader is not None else 0,
            "camera_dropped": self._labels_lost,
        }

    def work(self) -> None:
        """Drain every ``poll_ms`` until interrupted; flush <= 1 s; finalize at a clean stop."""
        last_status = 0.0
        try:
            while not self.isInterruptionRequested():
                self._drain()
                self.writer.maybe_flush()
                now = time.monotonic()
                if now - last_status >= 1.0 / self.status_hz:
                    self.status.emit(self._status())
                    last_status = now
                self.msleep(self.poll_ms)
            self._drain()
            if self.finalize_on_stop:
                self.summary = self.writer.finalize()
                self.finished_file.emit(self.summary)
            else:
                self.writer.close()
        except AshaError:
            raise  # the writer's message names the file; the base reports it
        except (ValueError, OSError) as exc:  # bad block shape from a source, an I/O error the writer did not name
            msg = f"recording stopped: {exc}"
            if self.writer.is_open:
                try:
                    self.writer.close()
                except AshaError as close_exc:
                    msg += f" ({close_exc})"
            log.exception("recorder stopped")
            self.fail(msg, traceback.format_exc())
        except BaseException:  # anything else: close what can be closed, the base reports it
            if self.writer.is_open:
                try:
                    self.writer.close()
                except Exception:  # the first error is the one to report
                    log.exception("closing the session file after a failure")
            raise


__all__ = ["AddMarker", "AddPrompt", "RecorderWorker"]
