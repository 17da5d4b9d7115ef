"""Synchronization self-test: what this computer's LSL setup actually delivers.

Three measurements (``asha lsl selftest``, and *Settings → Synchronization
self-test…*):

1. **EMG loopback** (:func:`emg_loopback`): an EMG-shaped outlet (8 channels,
   float32, 500 Hz, chunks every ~20 ms as the acquisition worker drains the
   armband) stamps each sample with its nominal sample time on the LSL clock;
   an inlet on another thread receives it.  Reported: samples received / sent,
   the time-stamp error (received stamp minus sent stamp, after liblsl's clock
   correction), and the latency (arrival on the LSL clock minus the stamp of
   the chunk's newest sample) with its jitter.
2. **Marker offset** (:func:`marker_offset`): markers sent from Asha's
   marker outlet at known session times, received by a marker inlet and put
   back on the session clock, exactly as the app records LSL markers into a
   session.  Reported: offset (recorded minus sent session time) and arrival
   delay.
3. **EMG-to-video offset** (:func:`tap_offset`, with a camera running): a
   deliberate sharp tap shows as a burst in the EMG and as a jolt in the
   landmarks' motion; the difference of the two onsets is the offset of the
   two streams on the session clock *plus* the electromechanical delay of the
   muscle (EMG precedes movement by roughly 10-100 ms), so it bounds the
   camera's timing rather than measuring it alone.

Results are plain dicts (JSON-ready) with units in the key names; the app
stores the last result in new session files (root attribute ``sync_selftest``)
and the session summary shows it; :func:`asha_app.data.integrity.format_selftest`
turns a result into lines for the user (the data layer reads stored results
without importing this module).
"""

from __future__ import annotations

import threading
import time
from typing import Any

import numpy as np

from asha_app.core.clock import SessionClock
from asha_app.devices import lsl as L


def _stats_ms(x_s: np.ndarray) -> dict:
    x = np.asarray(x_s, np.float64) * 1e3
    if x.size == 0:
        return {"n": 0}
    return {"n": int(x.size), "mean_ms": float(x.mean()), "p50_ms": float(np.percentile(x, 50)),
            "p95_ms": float(np.percentile(x, 95)), "p99_ms": float(np.percentile(x, 99)),
            "max_abs_ms": float(np.abs(x).max()), "std_ms": float(x.std())}


def emg_loopback(pl, seconds: float = 3.0, fs: float = 500.0, n_channels: int = 8, chunk_s: float = 0.02) -> dict:
    """EMG outlet -> inlet on this computer: samples, time-stamp error, latency and jitter.

    Parameters
    ----------
    pl : module
        The configured pylsl (:func:`asha_app.devices.lsl.configure`).
    seconds : float
        How long to stream.
    fs, n_channels : float, int
        Shape of the test stream (the armband's by default).
    chunk_s : float
        Push period.

    Returns
    -------
    dict
        ``sent``, ``received``, ``stamp_error`` (stats, ms), ``latency`` (stats, ms), ``jitter_ms`` (std of
        the latency).
    """
    sid = f"asha-selftest-emg-{time.monotonic_ns()}"
    chans = [L.ChannelDesc(f"EMG {i + 1}", "microvolts", "EMG") for i in range(n_channels)]
    info = L.stream_info(pl, "Asha self-test EMG", "EMG", chans, fs, pl.cf_float32, sid)
    outlet = pl.StreamOutlet(info, 0, 30)
    found = pl.resolve_byprop("source_id", sid, 1, 5.0)
    if not found:
        raise L.LslUnavailableError("the self-test's own EMG stream could not be found: "
                                    "LSL cannot reach this computer.")
    inlet = pl.StreamInlet(found[0], max_buflen=30, processing_flags=pl.proc_clocksync)
    inlet.open_stream(5.0)
    got_ts: list[np.ndarray] = []
    got_vals: list[np.ndarray] = []
    arrivals: list[tuple[float, float]] = []  # (arrival on LSL clock, newest stamp of the chunk)
    stop = threading.Event()

    def receive() -> None:
        while not stop.is_set():
            first, t_first = inlet.pull_sample(timeout=0.05)  # blocks until a sample arrives: its arrival time
            if first is None:
                continue
            arrived = pl.local_clock()
            data, ts = inlet.pull_chunk(timeout=0.0, max_samples=10_000)  # the rest of that chunk
            ts = [t_first, *ts]
            arrivals.append((arrived, ts[-1]))
            got_ts.append(np.asarray(ts))
            got_vals.append(np.asarray([first, *data], np.float32)[:, 0])

    th = threading.Thread(target=receive, name="lsl-selftest-inlet", daemon=True)
    th.start()
    rng = np.random.default_rng(0)
    n_total = int(seconds * fs)
    t0 = pl.local_clock()
    sent_ts = t0 + np.arange(n_total) / fs
    values = rng.normal(0.0, 50.0, (n_total, n_channels)).astype(np.float32)
    values[:, 0] = np.arange(n_total, dtype=np.float32)  # sample index in channel 1: received = sent, in order
    done = 0
    while done < n_total:
        now = pl.local_clock()
        upto = min(n_total, int(np.floor((now - t0) * fs)) + 1)
        if upto > done:
            outlet.push_chunk(values[done:upto], sent_ts[done:upto].tolist())
            done = upto
        time.sleep(chunk_s)
    deadline = time.monotonic() + 2.0
    while time.monotonic() < deadline and sum(len(t) for t in got_ts) < n_total:
        time.sleep(0.02)
    stop.set()
    th.join(2.0)
    del outlet
    ts = np.concatenate(got_ts) if got_ts else np.zeros(0)
    idx = np.concatenate(got_vals).astype(np.int64) if got_vals else np.zeros(0, np.int64)
    ok = (idx >= 0) & (idx < n_total)
    err = ts[ok] - sent_ts[idx[ok]]
    lat = np.array([a - b for a, b in arrivals])
    return {"sent": n_total, "received": int(ts.size),
            "in_order": bool(np.all(np.diff(idx) == 1)) if idx.size else False,
            "fs_hz": fs, "channels": n_channels, "chunk_ms": chunk_s * 1e3,
            "stamp_error": _stats_ms(err), "latency": _stats_ms(lat),
            "jitter_ms": float(lat.std() * 1e3) if lat.size else None}


def marker_offset(pl, clock: SessionClock, n: int = 10, gap_s: float = 0.05) -> dict:
    """Markers from Asha's marker outlet, received by a marker inlet and put on the session clock.

    Returns
    -------
    dict
        ``sent``, ``received``, ``offset`` (recorded minus sent session time, stats in ms) and ``delay``
        (arrival minus sent, stats in ms).
    """
    lsl_clock = L.LslClock(clock, pl)
    outlet = L.open_outlet("markers", lsl_clock, pl, tag=f"selftest{time.monotonic_ns()}")
    inlets = L.MarkerInlets(lsl_clock, pl, stream=outlet.source_id)
    L.wait_for(lambda: bool(inlets.poll()) or bool(inlets.tracked), 5.0)
    if not inlets.tracked:
        outlet.close()
        raise L.LslUnavailableError("the self-test's marker stream could not be found: LSL cannot reach this computer.")
    sent: dict[str, float] = {}
    events = []
    for i in range(n):
        label = L.marker_json("selftest", f"sync {i}")
        t = clock.now()
        outlet.push([t], [label])
        sent[label] = t
        end = time.monotonic() + gap_s
        while time.monotonic() < end:
            events += [e for e in inlets.poll() if e.kind == "marker"]
            time.sleep(0.002)
    end = time.monotonic() + 2.0
    while len(events) < n and time.monotonic() < end:
        events += [e for e in inlets.poll() if e.kind == "marker"]
        time.sleep(0.005)
    inlets.close()
    outlet.close()
    got = [e for e in events if e.label in sent]
    off = np.array([e.t - sent[e.label] for e in got])
    delay = np.array([e.arrival - sent[e.label] for e in got])
    return {"sent": n, "received": len(got), "offset": _stats_ms(off), "delay": _stats_ms(delay),
            "clock_offset_s": lsl_clock.offset, "clock_offset_uncertainty_ms": lsl_clock.uncertainty * 1e3}


def _onsets(t: np.ndarray, x: np.ndarray, k: float = 6.0, refractory_s: float = 0.4) -> np.ndarray:
    """Times where ``x`` rises above median + k * MAD (robust), at most one per ``refractory_s``."""
    if x.size < 5:
        return np.zeros(0)
    med = np.median(x)
    mad = np.median(np.abs(x - med)) * 1.4826 + 1e-12
    above = x > med + k * mad
    rises = np.flatnonzero(above[1:] & ~above[:-1]) + 1
    out: list[float] = []
    for i in rises:
        if not out or t[i] - out[-1] >= refractory_s:
            out.append(float(t[i]))
    return np.asarray(out)


def tap_offset(emg_t: np.ndarray, emg: np.ndarray, label_t: np.ndarray, joints_mm: np.ndarray,
               fs: float, max_offset_s: float = 0.3) -> dict:
    """EMG-to-video offset from deliberate sharp taps seen in both streams.

    Parameters
    ----------
    emg_t : float array (n,)
        Session seconds of the EMG samples.
    emg : float array (n, C)
        sEMG (µV), band-passed (the live filter) or raw.
    label_t : float array (m,)
        Session seconds of the camera frames (capture time).
    joints_mm : float array (m, 21, 3)
        Landmarks or fitted joints (mm; NaN where the frame has no hand).
    fs : float
        EMG sampling rate (Hz).
    max_offset_s : float
        Pair an EMG onset with a motion onset only within this distance.

    Returns
    -------
    dict
        ``taps`` (pairs found), ``offset_ms`` (median of video onset minus EMG onset; positive: the video
        shows the tap later), ``spread_ms`` (their range), ``emg_onsets``, ``video_onsets`` (counts) and a
        ``message`` for the user.  With no clear tap in both streams ``offset_ms`` is None and the message
        says what to do.
    """
    emg_t = np.asarray(emg_t, np.float64)
    x = np.abs(np.asarray(emg, np.float64) - np.nanmedian(emg, axis=0))
    w = max(1, int(round(0.01 * fs)))  # 10 ms moving average of the rectified sum
    env = np.convolve(np.nansum(x, axis=1), np.ones(w) / w, mode="same")
    e_on = _onsets(emg_t, env)
    lt = np.asarray(label_t, np.float64)
    j = np.asarray(joints_mm, np.float64).reshape(len(lt), -1)
    speed = np.full(lt.size, np.nan)
    if lt.size > 2:
        d = np.linalg.norm(np.diff(j, axis=0), axis=1) / np.maximum(np.diff(lt), 1e-3)
        speed[1:] = d
    okv = np.isfinite(speed)
    v_on = _onsets(lt[okv], speed[okv]) if okv.sum() > 5 else np.zeros(0)
    pairs = []
    for te in e_on:
        if v_on.size:
            k = int(np.argmin(np.abs(v_on - te)))
            if abs(v_on[k] - te) <= max_offset_s:
                pairs.append(v_on[k] - te)
    res: dict[str, Any] = {"taps": len(pairs), "emg_onsets": int(e_on.size), "video_onsets": int(v_on.size)}
    if not pairs:
        res.update(offset_ms=None, spread_ms=None,
                   message="No tap showed clearly in both the EMG and the camera: tap the table sharply with the "
                           "hand in view, 3 times about a second apart, and run the test again.")
        return res
    p = np.asarray(pairs) * 1e3
    res.update(offset_ms=float(np.median(p)), spread_ms=float(p.max() - p.min()),
               message=f"{len(pairs)} taps: the camera shows them {np.median(p):.0f} ms after the EMG burst "
                       "(includes the muscle's electromechanical delay of roughly 10-100 ms).")
    return res


def run_selftest(clock: SessionClock, *, enabled: bool = True, scope: str = "site", seconds: float = 3.0,
                 markers: int = 10, camera: dict | None = None) -> dict:
    """All measurements that the setup allows; never raises for an unavailable LSL (says so instead).

    Parameters
    ----------
    camera : dict, optional
        ``{"emg_t", "emg", "label_t", "joints_mm", "fs"}`` recorded while the user tapped (the GUI collects
        it with a camera running); without it the EMG-to-video part is skipped and says why.

    Returns
    -------
    dict
        ``{"available", "message", "when_unix", "scope", "emg_loopback", "marker", "emg_video"}``.
    """
    st = L.lsl_status(enabled, scope)
    out = {"available": st.available, "message": st.message, "when_unix": time.time(), "scope": st.scope,
           "liblsl": st.version}
    if st.available:
        pl = L.configure(scope)
        out["emg_loopback"] = emg_loopback(pl, seconds=seconds)
        out["marker"] = marker_offset(pl, clock, n=markers)
    if camera is not None:
        out["emg_video"] = tap_offset(camera["emg_t"], camera["emg"], camera["label_t"], camera["joints_mm"],
                                      camera["fs"])
    else:
        out["emg_video"] = {"offset_ms": None, "message": "not measured: start the camera and the EMG, then run the "
                                                          "test from Settings and tap the table when asked."}
    return out
