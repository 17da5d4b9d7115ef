"""Import XDF recordings (LabRecorder and other LSL recorders) with pyxdf.

An XDF file holds several LSL streams on the recording computer's LSL clock.
pyxdf reads it with clock-offset correction (each stream's recorded clock
offsets map its time stamps onto the recorder's clock), clock-reset handling
and dejittering of regular streams (``load_xdf(..., synchronize_clocks=True,
dejitter_timestamps=True)``), and Asha keeps three kinds of stream:

* **EMG** (one stream): the stream picked by name, source id or stream id, or
  the one whose type is ``EMG``.  Values are scaled to microvolts when the
  channels' units say volts or millivolts.
* **markers** (any number): string streams (type ``Markers`` unless picked),
  stored as session markers ``"LSL <stream>: <marker>"``, as Asha records LSL
  markers live.  Asha's own marker stream (JSON ``{"event": "prompt_end", ...}``)
  becomes prompts again, with their duration and repetition.
* **pose** (optional): a stream whose channel labels are hand-model joint angles
  (Asha's ``Pose`` outlets) becomes camera labels (joint angles, degrees;
  ``valid`` from its ``valid`` channel); another numeric stream picked as pose
  becomes imported targets.

The session clock's origin is the first EMG time stamp; the LSL time of that
origin is stored as ``lsl_clock_offset_s`` (``t_lsl = t_session + offset``).
"""

from __future__ import annotations

import json
import logging
from pathlib import Path

import numpy as np

from asha_app.core.errors import RecordingFileError
from asha_app.data.recording import Prompt, Recording
from asha_app.pose.hand_model import HandModel

log = logging.getLogger(__name__)

_SCALE_TO_UV = {"microvolts": 1.0, "microvolt": 1.0, "uv": 1.0, "µv": 1.0, "μv": 1.0, "millivolts": 1e3,
                "millivolt": 1e3, "mv": 1e3, "volts": 1e6, "volt": 1e6, "v": 1e6}


def _first(d: dict, key: str, default=""):
    v = d.get(key, [default])
    return v[0] if isinstance(v, list) and v else (v if v is not None else default)


def _channels(info: dict) -> list[dict]:
    try:
        desc = info["desc"][0]
        chans = desc["channels"][0]["channel"]
    except (KeyError, IndexError, TypeError):
        return []
    return [{k: _first(c, k) for k in ("label", "unit", "type")} for c in chans]


def describe_stream(s: dict) -> dict:
    """``{"stream_id", "name", "type", "channels", "fs", "format", "source_id"}`` of a pyxdf stream (or stream info)."""
    info = s.get("info", s)
    fs = float(_first(info, "nominal_srate", 0) or 0)
    return {"stream_id": int(_first(info, "stream_id", 0) or 0), "name": str(_first(info, "name")),
            "type": str(_first(info, "type")), "channels": int(_first(info, "channel_count", 0) or 0), "fs": fs,
            "format": str(_first(info, "channel_format")), "source_id": str(_first(info, "source_id"))}


def _summary(streams: list[dict]) -> str:
    parts = []
    for d in streams:
        rate = f"{d['fs']:g} Hz" if d["fs"] > 0 else "irregular"
        parts.append(f"'{d['name']}' (type {d['type'] or '?'}, {rate}, {d['channels']} ch, id {d['stream_id']})")
    return "; ".join(parts) if parts else "no streams at all"


def list_streams(path: str | Path) -> list[dict]:
    """The streams of an XDF file (headers only; fast).

    Raises
    ------
    RecordingFileError
        Missing or unreadable file.
    """
    import pyxdf  # noqa: PLC0415 - pyxdf on first use

    path = Path(path)
    if not path.is_file():
        raise RecordingFileError(f"{path}: no such file.")
    try:
        infos = pyxdf.resolve_streams(str(path))
    except Exception as exc:  # pyxdf raises many types on a damaged file
        raise RecordingFileError(f"{path}: not a readable XDF file ({exc}).") from exc
    return [{"stream_id": int(i.get("stream_id", 0)), "name": str(i.get("name", "")), "type": str(i.get("type", "")),
             "channels": int(i.get("channel_count", 0) or 0), "fs": float(i.get("nominal_srate", 0) or 0),
             "format": str(i.get("channel_format", "")), "source_id": str(i.get("source_id", ""))} for i in infos]


def _matches(d: dict, key: str | int) -> bool:
    k = str(key).strip()
    return k in (d["name"], d["source_id"], str(d["stream_id"]))


def pick_streams(streams: list[dict], emg: str | int | None = None, markers: list[str] | None = None,
                 pose: str | int | None = None, path: str | Path = "recording") -> dict:
    """Choose the EMG, marker and pose streams (see the module docstring for the defaults).

    Returns
    -------
    dict
        ``{"emg": desc, "markers": [desc...], "pose": desc or None}``.

    Raises
    ------
    RecordingFileError
        No EMG stream (the message lists the streams the file has), or a picked stream that is not there.
    """
    name = Path(path).name
    if emg is not None:
        found = [d for d in streams if _matches(d, emg)]
        if not found:
            raise RecordingFileError(f"{name}: no stream {emg!r}; it holds: {_summary(streams)}.")
        e = found[0]
    else:
        found = [d for d in streams if d["type"].lower() == "emg"]
        if not found:
            raise RecordingFileError(
                f"{name} has no EMG stream; it holds: {_summary(streams)}. If one of them is EMG, pick it: "
                "asha import FILE --emg-stream NAME (or choose it in the import dialog).")
        e = found[0]
    if e["format"] == "string" or e["channels"] < 1:
        raise RecordingFileError(f"{name}: stream '{e['name']}' holds no numeric channels; it cannot be the EMG.")
    if markers is not None:
        mk = []
        for m in markers:
            f = [d for d in streams if _matches(d, m)]
            if not f:
                raise RecordingFileError(f"{name}: no marker stream {m!r}; it holds: {_summary(streams)}.")
            mk.append(f[0])
    else:
        mk = [d for d in streams if d is not e and (d["type"].lower() == "markers" or d["format"] == "string")]
    p = None
    if pose is not None:
        f = [d for d in streams if _matches(d, pose)]
        if not f:
            raise RecordingFileError(f"{name}: no pose stream {pose!r}; it holds: {_summary(streams)}.")
        p = f[0]
    else:
        f = [d for d in streams if d["type"].lower() in ("pose", "mocap") and d is not e and d["format"] != "string"]
        p = f[0] if f else None
    return {"emg": e, "markers": mk, "pose": p}


def read_xdf(path: str | Path, *, emg_stream: str | int | None = None, marker_streams: list[str] | None = None,  # noqa: C901
             pose_stream: str | int | None = None, dejitter: bool = True) -> Recording:
    """Read an XDF recording as a :class:`Recording` (see the module docstring).

    Parameters
    ----------
    path : str or Path
    emg_stream, pose_stream : str or int, optional
        Name, source id or stream id (default: type ``EMG``; type ``Pose``/``MoCap`` if any).
    marker_streams : list of str, optional
        Marker streams to keep (default: every string stream).
    dejitter : bool
        Dejitter regular streams' time stamps (pyxdf).

    Raises
    ------
    RecordingFileError
        Unreadable file, no EMG stream (says which streams the file has), an EMG stream without samples.
    """
    import pyxdf  # noqa: PLC0415 - pyxdf on first use

    path = Path(path)
    streams_desc = list_streams(path)
    pick = pick_streams(streams_desc, emg_stream, marker_streams, pose_stream, path)
    wanted = [pick["emg"]["stream_id"]] + [m["stream_id"] for m in pick["markers"]]
    if pick["pose"] is not None:
        wanted.append(pick["pose"]["stream_id"])
    try:
        streams, header = pyxdf.load_xdf(str(path), select_streams=wanted, synchronize_clocks=True,
                                         dejitter_timestamps=dejitter, handle_clock_resets=True, verbose=False)
    except Exception as exc:
        raise RecordingFileError(f"{path}: reading the XDF file failed ({exc}).") from exc
    by_id = {describe_stream(s)["stream_id"]: s for s in streams}
    es = by_id[pick["emg"]["stream_id"]]
    ts = np.asarray(es["time_stamps"], np.float64)
    x = np.asarray(es["time_series"], np.float64)
    if ts.size == 0 or x.ndim != 2:
        raise RecordingFileError(f"{path.name}: the EMG stream '{pick['emg']['name']}' holds no samples.")
    chans = _channels(es["info"])
    units = {(c.get("unit") or "").strip().lower() for c in chans} - {""}
    scale, emg_units = 1.0, "uV"
    if len(units) == 1 and next(iter(units)) in _SCALE_TO_UV:
        scale = _SCALE_TO_UV[next(iter(units))]
    elif units:
        emg_units = "/".join(sorted(units))
    fs = pick["emg"]["fs"] or float(es["info"].get("effective_srate", 0) or 0)
    if fs <= 0:
        fs = float((ts.size - 1) / (ts[-1] - ts[0])) if ts.size > 1 and ts[-1] > ts[0] else 1.0
    origin = float(ts[0])
    names = [c["label"] or f"ch{i + 1}" for i, c in enumerate(chans)] if len(chans) == x.shape[1] else \
        [f"ch{i + 1}" for i in range(x.shape[1])]
    prompts: list[Prompt] = []
    for m in pick["markers"]:
        ms = by_id.get(m["stream_id"])
        if ms is None:
            continue
        for t, v in zip(np.asarray(ms["time_stamps"], np.float64), ms["time_series"]):
            text = str(v[0]) if isinstance(v, list | tuple | np.ndarray) and len(v) else str(v)
            ev = None
            if text.startswith("{"):
                try:
                    ev = json.loads(text)
                except ValueError:
                    ev = None
            ts_s = float(t) - origin
            if isinstance(ev, dict) and ev.get("event") == "prompt_end" and "duration_s" in ev:
                prompts.append(Prompt(str(ev.get("label", "")), ts_s - float(ev["duration_s"]), ts_s,
                                      int(ev.get("repetition", -1))))
            elif isinstance(ev, dict) and ev.get("event") == "prompt_start":
                continue  # its prompt_end carries the whole prompt
            elif isinstance(ev, dict) and "label" in ev:
                prompts.append(Prompt(f"LSL {m['name']}: {ev['label']}", ts_s, ts_s))
            else:
                prompts.append(Prompt(f"LSL {m['name']}: {text}", ts_s, ts_s))
    prompts.sort(key=lambda p: p.start)
    labels: dict = {}
    if pick["pose"] is not None and pick["pose"]["stream_id"] in by_id:
        ps = by_id[pick["pose"]["stream_id"]]
        pt = np.asarray(ps["time_stamps"], np.float64) - origin
        pv = np.asarray(ps["time_series"], np.float64)
        plabels = [c["label"] for c in _channels(ps["info"])]
        if len(plabels) != pv.shape[1]:
            plabels = [f"pose{i + 1}" for i in range(pv.shape[1])]
        valid = np.ones(pt.size, bool)
        if "valid" in plabels:
            k = plabels.index("valid")
            valid = pv[:, k] > 0.5
            pv = np.delete(pv, k, axis=1)
            plabels = [p for p in plabels if p != "valid"]
        dofs = set(HandModel.builtin("right").dof_names)
        valid &= np.all(np.isfinite(pv), axis=1)
        if plabels and set(plabels) <= dofs:
            labels = {"label_t": pt, "joint_angles": pv.astype(np.float32), "angle_names": plabels, "valid": valid}
        else:
            labels = {"label_t": pt, "targets": pv.astype(np.float32), "target_names": plabels, "valid": valid}
    meta = {
        "source_format": "xdf", "source_file": str(path), "lsl_clock_offset_s": origin,
        "xdf_streams": {"emg": pick["emg"]["name"], "markers": [m["name"] for m in pick["markers"]],
                        "pose": pick["pose"]["name"] if pick["pose"] else None, "all": streams_desc},
        "device": {"kind": "xdf", "description": f"XDF stream '{pick['emg']['name']}'", "fs": fs},
        "participant": {"pseudonym": ""},
    }
    if emg_units == "uV":  # volts of some scale: raw sEMG; other units leave the kind to be inferred from the rate
        meta["signal_kind"] = "raw_semg"
    return Recording(emg=(x * scale).astype(np.float32), emg_t=ts - origin, fs=fs, channel_names=names,
                     emg_units=emg_units, prompts=prompts, meta=meta, **labels)
