"""Helpers for the lab tests (LSL, BIDS, XDF): a session file made of real bundled data, and an XDF writer.

The session: the bundled demo sEMG (real Myo recording, 500 Hz, µV) and, as labels, the bundled live-demo
reference finger flexions (real MediaPipe angles, ~17 Hz) mapped onto the hand model's 22 joint angles;
every 9th frame invalid, three prompts with repetitions, two markers and one LSL marker.

The XDF writer follows the XDF 1.0 chunk layout (magic, FileHeader, StreamHeader, Samples, ClockOffset,
StreamFooter chunks with variable-length sizes) so that pyxdf reads it; the tests use it because no LSL
recorder runs here.
"""

from __future__ import annotations

import csv
import struct
from pathlib import Path
from xml.sax.saxutils import escape

import numpy as np

from asha_app.core import paths
from asha_app.data.recording import Prompt
from asha_app.data.writer import SessionWriter

FS = 500.0


def demo_emg(seconds: float) -> np.ndarray:
    """The first ``seconds`` of the bundled demo sEMG, (n, 8) float32 µV."""
    from mindrove.board_shim import BoardIds
    from mindrove.data_filter import DataFilter

    from asha_app.devices.emg import BoardLayout, unpack_demo_recording

    lay = BoardLayout.from_board(BoardIds.MINDROVE_WIFI_BOARD)
    data = DataFilter.read_file(str(unpack_demo_recording()))
    n = int(seconds * FS)
    return data[lay.emg_rows, :n].T.astype(np.float32)


def real_angles(n_frames: int):
    """``(t_rel, angles (m, 22) deg, dof_names)`` from the bundled reference finger flexions."""
    from asha_app.pose.hand_model import HandModel

    hm = HandModel.builtin("right")
    rows = list(csv.DictReader(open(paths.resource("live_demo", "reference_angles.csv"))))[:n_frames]
    t = np.array([float(r["t_file_s"]) for r in rows])
    flex = np.array([[float(r[k]) for k in ("thumb", "index", "middle", "ring", "little")] for r in rows])
    ang = np.stack([hm.angles_from_finger_flexion(f) for f in flex]).astype(np.float32)
    return t - t[0], ang, list(hm.dof_names)


def write_real_session(path: Path, seconds: float = 12.0, participant: str = "P-01_a", t_start: float = 3.0,
                       lsl_clock_offset_s: float | None = None) -> Path:
    """A finalized session of real data (see the module docstring); EMG starts at session time ``t_start``."""
    emg = demo_emg(seconds)
    n = emg.shape[0]
    t = t_start + np.arange(n) / FS
    lt, ang, names = real_angles(int(seconds * 16))
    keep = lt < seconds
    lt, ang = lt[keep] + t_start, ang[keep]
    valid = np.ones(len(lt), bool)
    valid[::9] = False
    kw = {}
    if lsl_clock_offset_s is not None:
        kw["lsl_clock_offset_s"] = lsl_clock_offset_s
    w = SessionWriter(path, 8, FS, names, participant={"pseudonym": participant, "arm": "right", "hand": "right"},
                      device={"kind": "demo", "description": "Demo: real Myo recording resampled to 500 Hz"},
                      filter_spec={"fs": FS, "band": [20.0, 200.0], "order": 4, "notch_hz": 50.0},
                      app_settings={"protocol": {"name": "basic poses"}}, session_t0_unix=1_700_000_000.0, **kw)
    w.append_emg(t, emg, package=np.arange(n, dtype=float), marker=np.zeros(n))
    a = ang.copy()
    a[~valid] = np.nan
    w.append_label_arrays(lt, a, None, valid)
    for rep in range(2):
        for k, label in enumerate(("fist", "open hand")):
            s = t_start + 1.0 + rep * 4.0 + k * 2.0
            w.append_prompt(Prompt(label, s, s + 1.5, rep))
    w.append_marker("marker", t_start + 0.5)
    w.append_marker("LSL PsychoPy: trial 1", t_start + 2.25)
    w.finalize()
    return path


# ---------------------------------------------------------------------- a minimal XDF writer (tests only)
def _varlen(n: int) -> bytes:
    if n < 256:
        return bytes([1, n])
    if n < 2**32:
        return bytes([4]) + struct.pack("<I", n)
    return bytes([8]) + struct.pack("<Q", n)


def _chunk(tag: int, payload: bytes) -> bytes:
    body = struct.pack("<H", tag) + payload
    return _varlen(len(body)) + body


def _header_xml(stream: dict) -> bytes:
    chans = "".join(f"<channel><label>{escape(c)}</label><unit>{escape(u)}</unit><type>{escape(ty)}</type></channel>"
                    for c, u, ty in stream.get("channels", []))
    fmt = stream["format"]
    xml = (f"<?xml version=\"1.0\"?><info><name>{escape(stream['name'])}</name><type>{escape(stream['type'])}</type>"
           f"<channel_count>{stream['n']}</channel_count><nominal_srate>{stream['fs']}</nominal_srate>"
           f"<channel_format>{fmt}</channel_format><source_id>{escape(stream.get('source_id', ''))}</source_id>"
           f"<created_at>0</created_at><desc><channels>{chans}</channels></desc></info>")
    return xml.encode()


def write_xdf(path: Path, streams: list[dict]) -> Path:
    """Write ``streams`` (dicts: name, type, n, fs, format ``float32``/``string``, time_stamps, values,
    channels [(label, unit, type)], clock_offsets [(collection_time, offset)]) as an XDF file."""
    out = bytearray(b"XDF:")
    out += _chunk(1, b"<?xml version=\"1.0\"?><info><version>1.0</version></info>")
    for sid, s in enumerate(streams, start=1):
        out += _chunk(2, struct.pack("<I", sid) + _header_xml(s))
    for sid, s in enumerate(streams, start=1):
        ts = np.asarray(s["time_stamps"], np.float64)
        for a in range(0, ts.size, 256):
            b = min(ts.size, a + 256)
            payload = bytearray(struct.pack("<I", sid)) + _varlen(b - a)
            for i in range(a, b):
                payload += bytes([8]) + struct.pack("<d", ts[i])
                if s["format"] == "string":
                    v = str(s["values"][i]).encode()
                    payload += _varlen(len(v)) + v
                else:
                    payload += np.asarray(s["values"][i], np.float32).tobytes()
            out += _chunk(3, bytes(payload))
        for ct, off in s.get("clock_offsets", []):
            out += _chunk(4, struct.pack("<I", sid) + struct.pack("<dd", ct, off))
    for sid, s in enumerate(streams, start=1):
        ts = np.asarray(s["time_stamps"], np.float64)
        footer = (f"<?xml version=\"1.0\"?><info><first_timestamp>{ts[0] if ts.size else 0}</first_timestamp>"
                  f"<last_timestamp>{ts[-1] if ts.size else 0}</last_timestamp><sample_count>{ts.size}</sample_count>"
                  "</info>").encode()
        out += _chunk(6, struct.pack("<I", sid) + footer)
    Path(path).write_bytes(bytes(out))
    return Path(path)
