"""End-of-session integrity check of a session file (what the wizard shows at the end, and ``asha check``).

The report answers "can I trust this dataset?": how long, how many samples,
how many were dropped (from gaps in the board's package numbers, and samples
the recorder lost on the host), the EMG rate actually measured from the
board's timestamps, the share of valid hand-pose labels per prompt, and any
gap in EMG or camera times longer than a threshold.
"""

from __future__ import annotations

import logging
from dataclasses import asdict, dataclass, field
from pathlib import Path

import numpy as np

import h5py

from asha_app.core.errors import RecordingFileError
from asha_app.data import schema as S
from asha_app.data.reader import SessionFile
from asha_app.devices.drops import package_gaps

log = logging.getLogger(__name__)


def find_time_gaps(t: np.ndarray, threshold_s: float) -> list[tuple[float, float]]:
    """Intervals ``(t_before, t_after)`` where consecutive times are more than ``threshold_s`` apart."""
    t = np.asarray(t, dtype=np.float64)
    if t.size < 2:
        return []
    d = np.diff(t)
    idx = np.flatnonzero(d > threshold_s)
    return [(float(t[i]), float(t[i + 1])) for i in idx]


def valid_share_per_prompt(prompts, label_t: np.ndarray, valid: np.ndarray) -> list[dict]:
    """Share of valid label frames within each prompt.

    Parameters
    ----------
    prompts : list of Prompt
        Only prompts with ``end > start`` count (markers are skipped).
    label_t : array (m,)
        Label frame times (session s).
    valid : bool array (m,)

    Returns
    -------
    list of dict
        ``{"label", "repetition", "start", "end", "frames", "valid_share"}``;
        ``valid_share`` is None when no frame fell inside the prompt.
    """
    label_t = np.asarray(label_t, np.float64)
    valid = np.asarray(valid, bool)
    order = np.argsort(label_t, kind="stable")
    ts, vs = label_t[order], valid[order]
    out = []
    for p in prompts:
        if not p.end > p.start:
            continue
        a, b = np.searchsorted(ts, [p.start, p.end], side="left")
        n = int(b - a)
        out.append({
            "label": p.label, "repetition": p.repetition, "start": p.start, "end": p.end, "frames": n,
            "valid_share": float(vs[a:b].mean()) if n else None,
        })
    return out


@dataclass
class SessionReport:
    """Result of :func:`check_session`.

    Attributes
    ----------
    file : str
    finalized, crashed : bool
        ``crashed``: the writer never closed the file (interrupted recording).
    duration_s : float
        First to last EMG sample (s).
    n_emg, n_imu, n_frames : int
        Samples / frames stored.
    imu_all_zero : bool
        The stored IMU rows are all zero: the source had no IMU (files recorded
        from the demo before the recorder stopped storing its empty IMU rows).
    nominal_fs, measured_fs : float
        Nominal rate and ``(n - 1) / duration`` from the stored times (Hz).
    dropped_samples : int
        Missing packages found from gaps in ``/emg/package``.
    dropped_host : int
        Samples the recorder lost from the ring buffer (``/dropped`` source host).
    valid_label_share : float or None
        Share of valid label frames over the session.
    prompts : list of dict
        Per prompt repetition: see :func:`valid_share_per_prompt`.
    emg_gaps, camera_gaps : list of (float, float)
        Time gaps longer than the thresholds.
    warnings : list of str
        Sentences for the user (empty when all is well).
    nonfinite_emg : int
        EMG samples (rows) with a NaN or infinite value in any channel.
    nonfinite_t, zero_t, backward_t : int
        EMG time stamps that are NaN/infinite, exactly 0 after the first
        sample, or not after the previous one (non-monotonic).
    lsl : dict
        ``clock_offset_s`` (LSL clock minus session clock, None without LSL), ``lsl_markers`` (markers
        recorded from LSL streams), ``stream_gaps`` (``[stopped_t, back_t or None]`` per stop of a marker
        stream) and ``selftest`` (the synchronization self-test stored with the session, or None).
    """

    file: str
    finalized: bool
    crashed: bool
    duration_s: float
    n_emg: int
    n_imu: int
    n_frames: int
    nominal_fs: float
    measured_fs: float | None
    dropped_samples: int
    dropped_host: int
    valid_label_share: float | None
    prompts: list[dict] = field(default_factory=list)
    emg_gaps: list[tuple[float, float]] = field(default_factory=list)
    camera_gaps: list[tuple[float, float]] = field(default_factory=list)
    warnings: list[str] = field(default_factory=list)
    nonfinite_emg: int = 0
    nonfinite_t: int = 0
    zero_t: int = 0
    backward_t: int = 0
    imu_all_zero: bool = False
    lsl: dict = field(default_factory=dict)

    @property
    def ok(self) -> bool:
        """True when there is nothing to warn about."""
        return not self.warnings

    def to_dict(self) -> dict:
        """Plain dict (JSON-ready) of the report."""
        d = asdict(self)
        d["valid_share_by_label"] = self.per_label()
        d["emg_gaps"] = [list(g) for g in self.emg_gaps]
        d["camera_gaps"] = [list(g) for g in self.camera_gaps]
        return d

    def per_label(self) -> dict[str, float | None]:
        """Valid-label share per prompt label, over all its repetitions (frame-weighted)."""
        acc: dict[str, list[float]] = {}
        for p in self.prompts:
            if p["valid_share"] is None:
                acc.setdefault(p["label"], [0.0, 0.0])
                continue
            a = acc.setdefault(p["label"], [0.0, 0.0])
            a[0] += p["valid_share"] * p["frames"]
            a[1] += p["frames"]
        return {k: (v[0] / v[1] if v[1] else None) for k, v in acc.items()}

    def _imu_text(self) -> str:
        if self.n_imu == 0:
            return "no IMU"
        if self.imu_all_zero:
            return "no IMU (the source has none; its stored rows are all zero)"
        return f"{self.n_imu} IMU samples"

    def format_text(self) -> str:
        """Human-readable multi-line report (the CLI prints it; the wizard shows it)."""
        state = "finalized" if self.finalized else ("NOT CLOSED: interrupted (or still being recorded); readable up to the last save" if self.crashed else "not finalized")
        lines = [
            f"{self.file}: {state}",
            f"  duration {self.duration_s:.1f} s, {self.n_emg} EMG samples, {self._imu_text()}, {self.n_frames} camera frames",
            f"  EMG rate measured {self.measured_fs:.2f} Hz (nominal {self.nominal_fs:g} Hz)" if self.measured_fs else "  EMG rate: not enough samples",
            f"  dropped: {self.dropped_samples} samples by the device (package gaps), {self.dropped_host} by the recorder",
        ]
        if self.valid_label_share is not None:
            lines.append(f"  valid labels: {100 * self.valid_label_share:.1f} % of frames")
        for label, share in self.per_label().items():
            lines.append(f"    {label}: {'no frames' if share is None else f'{100 * share:.1f} % valid'}")
        if self.emg_gaps:
            lines.append(f"  EMG time gaps: {len(self.emg_gaps)} (longest {max(b - a for a, b in self.emg_gaps):.3f} s)")
        if self.camera_gaps:
            lines.append(f"  camera time gaps: {len(self.camera_gaps)} (longest {max(b - a for a, b in self.camera_gaps):.3f} s)")
        lsl = self.lsl or {}
        if lsl.get("clock_offset_s") is not None:
            lines.append(f"  LSL: clock offset {lsl['clock_offset_s']:.6f} s (LSL time = session time + offset), "
                         f"{lsl.get('lsl_markers', 0)} markers from LSL streams, {len(lsl.get('stream_gaps', []))} "
                         "marker-stream stops")
        st = lsl.get("selftest")
        if st:
            from asha_app.devices.lsl_sync import format_selftest  # noqa: PLC0415 - plain formatting, no LSL loaded

            lines.append("  synchronization self-test: " + format_selftest(st).replace("\n", "\n    "))
        for w in self.warnings:
            lines.append(f"  WARNING: {w}")
        return "\n".join(lines)


def check_session(
    path: str | Path,
    *,
    emg_gap_s: float = 0.1,
    camera_gap_s: float = 0.5,
    min_valid_share: float = 0.7,
    package_modulus: int | None = None,
) -> SessionReport:
    """Check one session file and summarise it.

    Parameters
    ----------
    path : str or Path
        Session file.
    emg_gap_s, camera_gap_s : float
        Report gaps between consecutive EMG / camera times longer than these (s).
    min_valid_share : float
        Warn for prompts whose share of valid labels is below this.
    package_modulus : int, optional
        See :func:`package_gaps`; default: the ``package_modulus`` attribute of
        ``/emg`` written by the writer (0 = unknown).

    Returns
    -------
    SessionReport

    Raises
    ------
    RecordingFileError
        If the file cannot be opened as a session file.
    """
    with SessionFile(path) as sf:
        return check_open_session(sf, emg_gap_s=emg_gap_s, camera_gap_s=camera_gap_s, min_valid_share=min_valid_share,
                                  package_modulus=package_modulus)


def _count_nonfinite_rows(ds, block: int = 262_144) -> int:
    """Rows of a 2-D dataset with any NaN or infinite value, read block by block (bounded memory)."""
    n = 0
    for s in range(0, ds.shape[0], block):
        part = ds[s:s + block]
        n += int(np.count_nonzero(~np.all(np.isfinite(part), axis=1)))
    return n


def check_open_session(sf: SessionFile, *, emg_gap_s: float = 0.1, camera_gap_s: float = 0.5,
                       min_valid_share: float = 0.7, package_modulus: int | None = None) -> SessionReport:
    """:func:`check_session` on an open :class:`SessionFile` (the writer's own, at finalize).

    Raises
    ------
    RecordingFileError
        A data block cannot be read (damaged chunk), naming the file and the dataset.
    """
    path = sf.path
    key = ""
    try:
        key = f"{S.Emg.GROUP}/{S.Emg.T}"
        t = sf.emg_t[()]
        key = f"{S.Emg.GROUP}/{S.Emg.PACKAGE}"
        package = sf.dataset(key)[()] if sf.has(key) else np.zeros(0)
        key = f"{S.Imu.GROUP}/{S.Imu.T}"
        n_imu = int(sf.dataset(key).shape[0]) if sf.has(key) else 0
        imu_all_zero = n_imu > 0 and all(
            not np.any(sf.dataset(f"{S.Imu.GROUP}/{k}")[()]) for k in (S.Imu.ACCEL, S.Imu.GYRO)
            if sf.has(f"{S.Imu.GROUP}/{k}"))
        key = f"{S.Camera.GROUP}/{S.Camera.T}"
        cam_t = sf.dataset(key)[()] if sf.n_frames else np.zeros(0)
        key = f"{S.Labels.GROUP}/{S.Labels.VALID}"
        valid = sf.dataset(key)[()].astype(bool) if sf.n_frames and sf.has(key) else np.zeros(0, bool)
        key = f"{S.Emg.GROUP}/{S.Emg.RAW}"
        nonfinite_emg = _count_nonfinite_rows(sf.emg_raw)
        key = S.Prompts.DATASET
        prompts = sf.prompts()
        key = S.Dropped.DATASET
        dropped = sf.dropped()
        nominal = sf.fs
        finalized, crashed = sf.finalized, sf.crashed
        emg_attrs = sf.dataset(S.Emg.GROUP).attrs
        attrs = sf.attrs
        off = attrs.get(S.Root.LSL_CLOCK_OFFSET_S)
        lsl_info = {"clock_offset_s": float(off) if off is not None and np.isfinite(float(off)) else None,
                    "selftest": attrs.get(S.Root.SYNC_SELFTEST) or None}
        if package_modulus is None:
            stored = int(emg_attrs.get(S.Emg.PACKAGE_MODULUS, 0))
            package_modulus = stored or None
        restart = float(emg_attrs.get(S.Emg.PACKAGE_RESTART, np.nan))
    except RecordingFileError:
        raise
    except (OSError, RuntimeError, ValueError, KeyError, TypeError) as exc:
        raise RecordingFileError(
            f"{path}: the data in /{key} cannot be read ({type(exc).__name__}: {exc}); the file is damaged "
            "(a disk or copy error). Restore it from a backup if you have one."
        ) from exc
    t = np.asarray(t, np.float64)
    finite = np.isfinite(t)
    nonfinite_t = int(t.size - finite.sum())
    tf = t[finite]
    zero_t = int(np.count_nonzero(tf[1:] == 0.0)) if tf.size > 1 else 0
    backward_t = int(np.count_nonzero(np.diff(tf) <= 0)) if tf.size > 1 else 0
    duration = float(tf[-1] - tf[0]) if tf.size > 1 else 0.0
    measured = (tf.size - 1) / duration if duration > 0 else None
    _, _, n_missing = package_gaps(package, package_modulus, restart if np.isfinite(restart) else None)
    host = int(dropped[S.Dropped.N_MISSING][dropped[S.Dropped.SOURCE] == S.Dropped.SOURCE_HOST].sum()) if dropped.size else 0
    per_prompt = valid_share_per_prompt(prompts, cam_t, valid) if cam_t.size else [
        {"label": p.label, "repetition": p.repetition, "start": p.start, "end": p.end, "frames": 0, "valid_share": None}
        for p in prompts if p.end > p.start
    ]
    report = SessionReport(
        file=str(path), finalized=finalized, crashed=crashed, duration_s=duration, n_emg=int(t.size), n_imu=n_imu,
        n_frames=int(cam_t.size), nominal_fs=nominal, measured_fs=measured, dropped_samples=int(n_missing.sum()),
        dropped_host=host, valid_label_share=float(valid.mean()) if valid.size else None, prompts=per_prompt,
        emg_gaps=find_time_gaps(tf, emg_gap_s), camera_gaps=find_time_gaps(cam_t[np.isfinite(cam_t)], camera_gap_s),
        nonfinite_emg=nonfinite_emg, nonfinite_t=nonfinite_t, zero_t=zero_t, backward_t=backward_t,
        imu_all_zero=imu_all_zero,
    )
    markers = [p for p in prompts if p.end == p.start]
    gaps: list[list] = []
    for p in markers:
        if p.label.startswith("LSL marker stream '") and p.label.endswith("stopped"):
            gaps.append([p.start, None, p.label[len("LSL marker stream '"):-len("' stopped")]])
        elif p.label.startswith("LSL marker stream '") and " is back" in p.label:
            name = p.label[len("LSL marker stream '"):p.label.index("' is back")]
            for g in gaps:
                if g[2] == name and g[1] is None:
                    g[1] = p.start
    lsl_info["lsl_markers"] = sum(1 for p in markers if p.label.startswith("LSL ") and not p.label.startswith("LSL marker stream '"))
    lsl_info["stream_gaps"] = gaps
    report.lsl = lsl_info
    w = report.warnings
    for a, b, name in gaps:
        w.append(f"LSL marker stream '{name}' stopped at {a:.1f} s" + (f" and came back at {b:.1f} s: markers sent "
                 "in between are missing." if b is not None else " and did not come back."))
    if crashed:
        w.append("the file was not closed by its writer: the recording was interrupted (data after the last save, "
                 "at most about 1 s, is missing) or is still running. 'asha check --recover' makes a closed copy.")
    if t.size == 0:
        w.append("the file holds no EMG samples.")
    if nonfinite_emg:
        w.append(f"{nonfinite_emg} EMG samples hold NaN or infinite values (invalid samples from the device, or damage).")
    if nonfinite_t:
        w.append(f"{nonfinite_t} EMG time stamps are NaN or infinite (rows never written, or damage); "
                 "readers leave trailing ones out.")
    if zero_t:
        w.append(f"{zero_t} EMG time stamps are exactly 0 after the first sample: rows that were never written "
                 "or a device without a clock.")
    if backward_t:
        w.append(f"{backward_t} EMG time stamps do not increase (non-monotonic time axis); windows and gaps "
                 "around them are unreliable.")
    if measured is not None and abs(measured - nominal) > 0.02 * nominal:
        w.append(f"measured EMG rate {measured:.1f} Hz differs from the nominal {nominal:g} Hz by more than 2 %.")
    total = report.dropped_samples + report.dropped_host
    if t.size and total > 0.01 * t.size:
        w.append(f"{total} samples ({100 * total / (t.size + total):.1f} %) were dropped; check the WiFi link and the computer's load.")
    if report.emg_gaps:
        w.append(f"{len(report.emg_gaps)} gaps longer than {emg_gap_s:g} s in the EMG stream.")
    if report.camera_gaps:
        w.append(f"{len(report.camera_gaps)} gaps longer than {camera_gap_s:g} s in the camera stream.")
    for label, share in report.per_label().items():
        if cam_t.size and (share is None or share < min_valid_share):
            shown = "no camera frames" if share is None else f"only {100 * share:.0f} % valid hand labels"
            w.append(f"prompt '{label}': {shown}; consider redoing it with the hand fully in view.")
    return report


#: groups whose datasets grow together, and the time dataset that says how far they were written


def write_summary(f: h5py.File, summary: dict) -> None:
    """Store the end-of-session summary and mark the file finalized: the one way both happen.

    Used by :meth:`asha_app.data.writer.SessionWriter.finalize` (on its own file, still
    in SWMR mode) and by :func:`asha_app.data.recovery.recover_session` (on the recovered copy).  The
    attributes are changed in place (``attrs.modify``), which SWMR mode allows.

    Parameters
    ----------
    f : h5py.File
        Open for writing.
    summary : dict
        :meth:`SessionReport.to_dict` plus what the caller adds; ``finalized`` is set to True here.

    Raises
    ------
    OSError, RuntimeError, ValueError
        From HDF5 when the attributes cannot be written (callers turn them into
        :class:`~asha_app.core.errors.RecordingFileError`).
    """
    summary["finalized"] = True
    f.attrs.modify(S.Root.SUMMARY, S.to_json(summary))
    f.attrs.modify(S.Root.FINALIZED, True)
    f.flush()
