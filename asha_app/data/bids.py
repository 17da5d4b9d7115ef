"""EMG-BIDS export of session files (BIDS 1.11, BEP042), readable by mne-bids.

One session becomes::

    DIR/
      dataset_description.json, participants.tsv (+ .json), README
      sub-<id>/ses-<n>/
        sub-<id>_ses-<n>_scans.tsv
        emg/sub-<id>_ses-<n>_task-<protocol>_emg.bdf       BDF, 24-bit (edfio)
            sub-<id>_ses-<n>_task-<protocol>_emg.json      rate, reference, placement, device, filters, software
            sub-<id>_ses-<n>_task-<protocol>_channels.tsv  names, type (EMG / MISC), units, status
            sub-<id>_ses-<n>_task-<protocol>_events.tsv    prompts (with duration and repetition), markers
            sub-<id>_ses-<n>_task-<protocol>_events.json   what the extra columns mean

The BDF file is written with edfio (a maintained EDF/BDF writer); mne-bids
(``write_raw_bids``) then files it into the dataset and writes the sidecars,
the participants and scans tables and the dataset description, which Asha
completes with what only it knows (placement, device, software, units of the
joint angles, repetitions).

Joint angles
------------
The camera's joint angles (hand-model DOFs, degrees) go into the **same BDF
file as MISC channels**, as emg2pose's EMG-BIDS release does: they are put on
the EMG sample times (linear interpolation between valid camera frames at most
100 ms apart, :func:`asha_app.data.labels.pose_labels`), so one
``read_raw_bids`` gives EMG and pose on one clock, sample for sample.  BIDS-motion
files would need a second recording with its own time base, and every reader
would have to align the two again.  BDF cannot hold NaN: samples without a
valid label carry 0 in the angle channels and 0 in the MISC channel
``pose_valid`` (1 = labelled).  BDF labels have at most 16 characters, so
``_flexion`` is written ``_fl`` and ``_abduction`` ``_ab``
(``index_mcp_flexion`` -> ``index_mcp_fl``); the channels table's
``description`` column keeps the full name.

Times
-----
BDF has one uniform sample clock: sample ``i`` is at ``i / fs`` after the
recording's start (the first EMG sample's time, ``session_t0_unix`` +
``emg_t[0]``).  Events are placed on the sample nearest to their session time,
so they stay on the right sample even when the board's timing jittered.  BDF
stores whole data records (1 s): the last record is padded with the last
sample's values and marked by a ``BAD_ACQ_SKIP`` event (MNE's convention).

Pseudonymity
------------
Only the session's pseudonymous participant ID is written (``participants.tsv``
has no age, sex or name).  BIDS labels hold letters and digits only; any other
character is dropped, and :func:`bids_label` says how an ID will be written.
"""

from __future__ import annotations

import csv
import datetime as dt
import json
import logging
import re
import shutil
import tempfile
import warnings
from collections.abc import Callable
from pathlib import Path

import numpy as np

from asha_app.core.errors import AshaError
from asha_app.data.labels import pose_labels
from asha_app.data.reader import read_recording
from asha_app.data.recording import Recording

log = logging.getLogger(__name__)

ProgressCallback = Callable[[int, int], None]

#: BIDS version the export follows
BIDS_VERSION = "1.11.0"
#: the MISC channel that says whether the joint angles of a sample are a valid label
VALID_CHANNEL = "pose_valid"
#: physical range written for joint-angle channels (deg); 24 bits give 2e-5 deg steps
ANGLE_RANGE = (-360.0, 360.0)
_EDF_LABEL_MAX = 16


class BidsExportError(AshaError):
    """The export cannot go ahead (existing data, unusable folder or ID); the message says what to do."""


def bids_label(raw: str) -> tuple[str, str | None]:
    """A BIDS-safe label (letters and digits only) for ``raw``, and a note when it had to change.

    Returns
    -------
    label : str
        ``raw`` without the characters BIDS does not allow in labels (may be empty).
    note : str or None
        ``"participant ID 'P-01' is not BIDS-safe (letters and digits only); it will be written as sub-P01"``
        when the label differs from ``raw``.
    """
    raw = str(raw or "").strip()
    label = re.sub(r"[^A-Za-z0-9]", "", raw)
    if label == raw:
        return label, None
    return label, (f"'{raw}' is not BIDS-safe (BIDS labels hold letters and digits only); "
                   f"it will be written as '{label}'" if label else f"'{raw}' has no letter or digit BIDS could keep")


def short_channel_name(name: str) -> str:
    """A BDF label (at most 16 characters) for a joint-angle name: ``_flexion`` -> ``_fl``, ``_abduction`` -> ``_ab``."""
    s = str(name).replace("_flexion", "_fl").replace("_abduction", "_ab").replace("_extension", "_ex")
    return s[:_EDF_LABEL_MAX]


def _unique(labels: list[str]) -> list[str]:
    seen: dict[str, int] = {}
    out = []
    for lab in labels:
        base = lab[:_EDF_LABEL_MAX]
        k = seen.get(base, 0)
        seen[base] = k + 1
        out.append(base if k == 0 else f"{base[:_EDF_LABEL_MAX - 3]}_{k:02d}")
    return out


def _protocol_name(rec: Recording) -> str:
    app = rec.meta.get("app") or rec.meta.get("app_settings") or {}
    proto = app.get("protocol") if isinstance(app, dict) else None
    name = proto.get("name") if isinstance(proto, dict) else None
    return str(name or rec.meta.get("task") or "emg")


def _participant_id(rec: Recording) -> str:
    p = rec.meta.get("participant") or {}
    if isinstance(p, dict):
        return str(p.get("pseudonym") or p.get("id") or "")
    return str(p)


def _mains_hz(rec: Recording) -> float | None:
    f = rec.meta.get("filter") or {}
    if isinstance(f, dict) and f.get("notch_hz"):
        return float(f["notch_hz"])
    return None


def _next_session(root: Path, subject: str) -> str:
    sub = root / f"sub-{subject}"
    nums = []
    if sub.is_dir():
        for d in sub.glob("ses-*"):
            m = re.fullmatch(r"ses-(\d+)", d.name)
            if m:
                nums.append(int(m.group(1)))
    return str(max(nums) + 1 if nums else 1)


def check_target(root: str | Path) -> str:
    """What exporting into ``root`` means: ``"new"`` (empty or missing) or ``"add"`` (an existing BIDS dataset).

    Raises
    ------
    BidsExportError
        ``root`` is a file, or a folder holding other files but no ``dataset_description.json``.
    """
    root = Path(root)
    if root.exists() and not root.is_dir():
        raise BidsExportError(f"{root} is a file; a BIDS export needs a folder (an empty one, or an existing BIDS dataset).")
    if not root.exists() or not any(root.iterdir()):
        return "new"
    if (root / "dataset_description.json").is_file():
        return "add"
    raise BidsExportError(f"{root} holds other files and no dataset_description.json, so it is not a BIDS dataset. "
                          "Choose an empty folder, or an existing BIDS dataset to add this session to.")


def plan_export(source: str | Path | Recording, root: str | Path, *, subject: str | None = None,
                session: str | None = None, task: str | None = None) -> dict:
    """Where the export would go and what the user should know, without writing anything.

    Returns
    -------
    dict
        ``subject``, ``session``, ``task`` (BIDS labels), ``mode`` (``"new"``/``"add"``), ``exists``
        (that subject/session/task is already in the dataset), ``notes`` (sentences, e.g. how a
        participant ID that is not BIDS-safe will be written) and ``path`` (the BDF file).
    """
    rec = source if isinstance(source, Recording) else read_recording(source)
    root = Path(root)
    mode = check_target(root)
    notes = []
    raw_sub = subject if subject is not None else _participant_id(rec)
    sub, note = bids_label(raw_sub)
    if note:
        notes.append("participant ID " + note + (f" (sub-{sub})" if sub else ""))
    if not sub:
        raise BidsExportError(f"the session has no participant ID BIDS can use ({raw_sub!r}); give one with --subject "
                              "(letters and digits).")
    raw_task = task if task is not None else _protocol_name(rec)
    tsk, note = bids_label(raw_task)
    if note and tsk:
        notes.append("task " + note)
    tsk = tsk or "emg"
    if session is None:
        ses = _next_session(root, sub)
    else:
        ses, note = bids_label(session)
        if note:
            notes.append("session " + note)
        if not ses:
            raise BidsExportError(f"session label {session!r} has no letter or digit; use e.g. --session 2.")
    path = root / f"sub-{sub}" / f"ses-{ses}" / "emg" / f"sub-{sub}_ses-{ses}_task-{tsk}_emg.bdf"
    return {"subject": sub, "session": ses, "task": tsk, "mode": mode, "exists": path.exists(), "notes": notes,
            "path": str(path)}


def _write_bdf(path: Path, rec: Recording, names: list[str], units: list[str], data_fn, n: int, fs: int,
               ranges: list[tuple[float, float]], start: dt.datetime | None, progress: ProgressCallback | None,
               n_pad: int) -> None:
    from edfio import Bdf, BdfSignal, Patient, Recording as EdfRecording  # noqa: PLC0415

    signals = []
    total = len(names)
    for i, (name, unit, rng) in enumerate(zip(names, units, ranges)):
        x = data_fn(i)
        if n_pad:
            x = np.concatenate([x, np.full(n_pad, x[-1] if x.size else 0.0)])
        signals.append(BdfSignal(x.astype(np.float64), fs, label=name, physical_dimension=unit,
                                 physical_range=rng, transducer_type="sEMG electrode" if unit == "uV" else ""))
        if progress is not None:
            progress(i + 1, total + 2)
    rec_hdr = EdfRecording(startdate=start.date() if start else None, equipment_code="Asha")
    with warnings.catch_warnings():
        warnings.simplefilter("ignore")  # microsecond start times: edfio notes it stores them as BDF+C
        bdf = Bdf(signals, patient=Patient(code="X"), recording=rec_hdr,
                  starttime=start.time().replace(microsecond=0) if start else None, data_record_duration=1)
        bdf.write(path)


def export_bids(
    source: str | Path | Recording,
    root: str | Path,
    *,
    subject: str | None = None,
    session: str | None = None,
    task: str | None = None,
    overwrite: bool = False,
    max_label_gap_s: float = 0.1,
    progress: ProgressCallback | None = None,
) -> dict:
    """Write one session into an EMG-BIDS dataset at ``root`` (created, or added to).

    Parameters
    ----------
    source : path or Recording
        Session file (or a loaded recording).
    root : path
        Dataset folder: missing or empty (a new dataset), or an existing BIDS dataset (this session is added;
        its other subjects and sessions are kept).
    subject : str, optional
        Participant label (default: the session's pseudonymous ID), made BIDS-safe (see :func:`bids_label`).
    session : str, optional
        Session label (default: the next free number of that subject).
    task : str, optional
        Task label (default: the protocol's name).
    overwrite : bool
        Replace that subject/session/task when it is already in the dataset (default: refuse).
    max_label_gap_s : float
        Longest gap between valid camera frames bridged when putting joint angles on EMG samples.

    Returns
    -------
    dict
        ``path`` (the BDF), ``subject``, ``session``, ``task``, ``notes``, ``samples``, ``padded``,
        ``channels`` (EMG, MISC), ``events``, ``bytes`` (of the BDF).

    Raises
    ------
    BidsExportError
        The folder is not usable, the subject/session already exists and ``overwrite`` is False, or the
        session cannot be written as BDF (non-integer sampling rate, no EMG).
    asha_app.core.errors.RecordingFileError
        The session file cannot be read.
    """
    import mne  # noqa: PLC0415 - heavy, only for this export
    from mne_bids import BIDSPath, make_dataset_description, write_raw_bids  # noqa: PLC0415

    from asha_app import __version__  # noqa: PLC0415

    rec = source if isinstance(source, Recording) else read_recording(source)
    root = Path(root)
    plan = plan_export(rec, root, subject=subject, session=session, task=task)
    if plan["exists"] and not overwrite:
        raise BidsExportError(f"sub-{plan['subject']} ses-{plan['session']} task-{plan['task']} is already in {root}. "
                              "Nothing was changed. Export it as another session (--session), or replace it on purpose "
                              "(--overwrite / 'Replace existing').")
    n, c = rec.emg.shape
    if n == 0:
        raise BidsExportError(f"{rec.meta.get('file', 'the session')} holds no EMG samples; there is nothing to export.")
    fs = float(rec.fs)
    if abs(fs - round(fs)) > 1e-6:
        raise BidsExportError(f"BDF needs a whole-number sampling rate; this session has {fs:g} Hz.")
    fs_i = int(round(fs))
    n_pad = (-n) % fs_i
    emg = np.asarray(rec.emg, np.float64)
    if not np.all(np.isfinite(emg)):
        emg = np.where(np.isfinite(emg), emg, 0.0)
        plan["notes"].append("non-finite EMG samples were written as 0 µV")
    # pose channels (joint angles, or imported targets) on the EMG sample times
    if rec.joint_angles is not None:
        pose_names, pose_unit = list(rec.angle_names), "deg"
    elif rec.targets is not None:
        pose_names, pose_unit = list(rec.target_names), ("deg" if rec.meta.get("targets_units") == "deg" else "n/a")
    else:
        pose_names, pose_unit = [], ""
    if pose_names:
        angles, valid = pose_labels(rec, rec.emg_t, max_label_gap_s)
        angles = np.where(valid[:, None], angles, 0.0).astype(np.float64)
    else:
        angles, valid = np.zeros((n, 0)), np.zeros(n, bool)
    emg_units = "uV" if rec.emg_units in ("uV", "µV") else rec.emg_units
    emg_labels = _unique([str(x) for x in (rec.channel_names or [f"EMG{i + 1}" for i in range(c)])])
    pose_channels = _unique([short_channel_name(p) for p in pose_names])
    names = emg_labels + pose_channels + ([VALID_CHANNEL] if pose_names else [])
    if len(set(names)) != len(names):
        raise BidsExportError(f"channel names clash after shortening to 16 characters: {names}")
    units = [emg_units] * c + [pose_unit if pose_unit != "n/a" else ""] * len(pose_names) + ([""] if pose_names else [])
    ranges = []
    for i in range(c):
        lo, hi = float(emg[:, i].min()), float(emg[:, i].max())
        if hi - lo < 1e-6:
            lo, hi = lo - 1.0, hi + 1.0
        ranges.append((lo, hi))
    for j in range(len(pose_names)):
        lo, hi = ANGLE_RANGE if pose_unit == "deg" else (float(angles[:, j].min()) - 1.0, float(angles[:, j].max()) + 1.0)
        if pose_unit == "deg" and (angles[:, j].min() < lo or angles[:, j].max() > hi):
            lo, hi = float(angles[:, j].min()) - 1.0, float(angles[:, j].max()) + 1.0
        ranges.append((lo, hi))
    if pose_names:
        ranges.append((0.0, 1.0))

    def column(i: int) -> np.ndarray:
        if i < c:
            return emg[:, i]
        if i < c + len(pose_names):
            return angles[:, i - c]
        return valid.astype(np.float64)

    t0 = rec.meta.get("session_t0_unix")
    start = None
    if t0 is not None and np.isfinite(float(t0)):
        start = dt.datetime.fromtimestamp(float(t0) + float(rec.emg_t[0]), tz=dt.timezone.utc)
    # events: on the sample nearest to their session time
    idx_of = lambda t: int(np.clip(np.searchsorted(rec.emg_t, t), 0, n - 1))  # noqa: E731
    events = []  # onset_s, duration_s, trial_type, repetition, kind
    for p in rec.prompts:
        i0 = idx_of(p.start)
        if p.end > p.start:
            i1 = idx_of(p.end)
            events.append((i0 / fs_i, max(0, i1 - i0) / fs_i, p.label, p.repetition if p.repetition >= 0 else None, "prompt"))
        else:
            kind = "lsl_marker" if p.label.startswith("LSL ") else "marker"
            events.append((i0 / fs_i, 0.0, p.label, None, kind))
    if n_pad:
        events.append((n / fs_i, n_pad / fs_i, "BAD_ACQ_SKIP", None, "padding"))

    root.mkdir(parents=True, exist_ok=True)
    tmpdir = Path(tempfile.mkdtemp(prefix=".asha-bids-", dir=root))
    try:
        bdf_tmp = tmpdir / "export_emg.bdf"
        _write_bdf(bdf_tmp, rec, names, units, column, n, fs_i, ranges, start, progress, n_pad)
        raw = mne.io.read_raw_bdf(bdf_tmp, preload=False, infer_types=False, verbose="error")
        raw.set_channel_types({**{nm: "emg" for nm in emg_labels}, **{nm: "misc" for nm in names[c:]}}, verbose="error")
        raw.info["line_freq"] = _mains_hz(rec) or 50.0
        if events:
            raw.set_annotations(mne.Annotations([e[0] for e in events], [e[1] for e in events], [e[2] for e in events]))
        if plan["mode"] == "new":
            make_dataset_description(
                path=root, name="Asha sEMG sessions", dataset_type="raw", overwrite=False, verbose="error",
                generated_by=[{"Name": "Asha", "Version": __version__,
                               "Description": "sEMG with camera hand-pose labels (joint angles as MISC channels)"}],
            )
            desc_path = root / "dataset_description.json"
            d = json.loads(desc_path.read_text(encoding="utf-8"))
            d["BIDSVersion"] = BIDS_VERSION  # EMG-BIDS entered the specification in 1.11
            _write_json(desc_path, d)
        bids_path = BIDSPath(subject=plan["subject"], session=plan["session"], task=plan["task"], datatype="emg",
                             root=root)
        with warnings.catch_warnings():
            warnings.simplefilter("ignore")  # "no electrode locations": placement is described in _emg.json
            write_raw_bids(raw, bids_path, emg_placement="Other", overwrite=overwrite, verbose="error")
        del raw
    except FileExistsError as exc:
        raise BidsExportError(f"{exc}. Nothing was replaced; export as another session or choose overwrite.") from exc
    except (OSError, ValueError, RuntimeError) as exc:
        raise BidsExportError(f"writing the BIDS export into {root} failed: {exc}") from exc
    finally:
        shutil.rmtree(tmpdir, ignore_errors=True)
    base = bids_path.copy().update(suffix=None, extension=None)
    _complete_sidecars(base, rec, emg_labels, pose_names, pose_channels, pose_unit, events, __version__)
    bdf = Path(plan["path"])
    if progress is not None:
        progress(len(names) + 2, len(names) + 2)
    return {"path": str(bdf), "subject": plan["subject"], "session": plan["session"], "task": plan["task"],
            "notes": plan["notes"], "samples": n, "padded": n_pad, "channels": {"EMG": c, "MISC": len(names) - c},
            "events": len(events), "bytes": bdf.stat().st_size, "root": str(root)}


def _sidecar(base, suffix: str, ext: str) -> Path:
    return base.copy().update(suffix=suffix, extension=ext).fpath


def _read_tsv(path: Path) -> tuple[list[str], list[dict]]:
    with open(path, newline="", encoding="utf-8") as fh:
        rd = csv.DictReader(fh, delimiter="\t")
        return list(rd.fieldnames or []), list(rd)


def _write_tsv(path: Path, fields: list[str], rows: list[dict]) -> None:
    tmp = path.with_name(path.name + ".tmp")
    with open(tmp, "w", newline="", encoding="utf-8") as fh:
        w = csv.DictWriter(fh, fieldnames=fields, delimiter="\t", lineterminator="\n")
        w.writeheader()
        for r in rows:
            w.writerow({k: r.get(k, "n/a") for k in fields})
    tmp.replace(path)


def _write_json(path: Path, obj: dict) -> None:
    tmp = path.with_name(path.name + ".tmp")
    tmp.write_text(json.dumps(obj, indent=4, ensure_ascii=False) + "\n", encoding="utf-8")
    tmp.replace(path)


def _complete_sidecars(base, rec: Recording, emg_labels, pose_names, pose_channels, pose_unit, events, version) -> None:
    """Add what mne-bids cannot know: units and full names of the pose channels, placement, device, repetitions."""
    # channels.tsv
    ch_path = _sidecar(base, "channels", ".tsv")
    fields, rows = _read_tsv(ch_path)
    if "description" not in fields:
        fields.append("description")
    full = dict(zip(pose_channels, pose_names))
    for r in rows:
        name = r.get("name", "")
        if name in emg_labels:
            r["units"] = "uV" if rec.emg_units in ("uV", "µV") else rec.emg_units
            r["description"] = "surface EMG (raw, unfiltered by Asha)"
        elif name in full:
            r["units"] = pose_unit
            r["description"] = (f"joint angle {full[name]} of the hand model (camera label)" if pose_unit == "deg"
                                else f"imported target {full[name]}")
        elif name == VALID_CHANNEL:
            r["units"] = "n/a"
            r["description"] = "1 where the joint angles are a valid camera label, 0 where there is none (angles 0)"
    _write_tsv(ch_path, fields, rows)
    # emg.json
    js_path = _sidecar(base, "emg", ".json")
    meta = json.loads(js_path.read_text(encoding="utf-8")) if js_path.exists() else {}
    dev = rec.meta.get("device") or {}
    desc = str(dev.get("description", "")) if isinstance(dev, dict) else str(dev)
    flt = rec.meta.get("filter") or {}
    meta.update({
        "TaskName": base.task,
        "SamplingFrequency": float(rec.fs),
        "EMGReference": "the armband's own reference electrode (device default)",
        "EMGGround": "the armband's own ground electrode",
        "EMGPlacementScheme": "Other",
        "EMGPlacementSchemeDescription": ("armband of evenly spaced bipolar electrodes around the proximal forearm; "
                                          "channel 1 over the wrist extensors"),
        "Manufacturer": "MindRove" if "MindRove" in desc else ("Thalmic Labs (Myo), replayed by Asha's demo"
                                                             if "Myo" in desc else "n/a"),
        "ManufacturersModelName": desc or "n/a",
        "SoftwareVersions": f"Asha {version}",
        "SoftwareFilters": "n/a",
        "HardwareFilters": "n/a",
        "EMGChannelCount": len(emg_labels),
        "MiscChannelCount": len(pose_names) + (1 if pose_names else 0),
        "RecordingDuration": float(rec.emg.shape[0] / rec.fs),
        "RecordingType": "continuous",
        "AshaLiveFilter": flt if isinstance(flt, dict) and flt else "n/a",
        "AshaPose": ("joint angles of Asha's hand model (degrees) from the camera, on the EMG sample times; "
                     f"'{VALID_CHANNEL}' marks valid samples") if pose_names else "n/a",
    })
    for k, key in (("session_t0_unix", "AshaSessionT0Unix"), ("lsl_clock_offset_s", "AshaLslClockOffsetS")):
        v = rec.meta.get(k)
        if isinstance(v, int | float) and np.isfinite(v):  # JSON has no NaN
            meta[key] = float(v)
    _write_json(js_path, meta)
    # events.tsv: repetitions and the kind of each event
    ev_path = _sidecar(base, "events", ".tsv")
    if ev_path.exists():
        fields, rows = _read_tsv(ev_path)
        for extra in ("repetition", "asha_kind"):
            if extra not in fields:
                fields.append(extra)
        pool = [list(e) for e in events]
        for r in rows:
            try:
                onset = float(r.get("onset", "nan"))
            except ValueError:
                continue
            for e in pool:
                if e[2] == r.get("trial_type") and abs(e[0] - onset) < 1e-3:
                    r["repetition"] = "n/a" if e[3] is None else str(int(e[3]) + 1)
                    r["asha_kind"] = e[4]
                    pool.remove(e)
                    break
        _write_tsv(ev_path, fields, rows)
        ej = _sidecar(base, "events", ".json")
        desc_ev = json.loads(ej.read_text(encoding="utf-8")) if ej.exists() else {}
        desc_ev.update({
            "repetition": {"Description": "repetition of the prompt within the protocol, counted from 1"},
            "asha_kind": {"Description": "what the event is",
                          "Levels": {"prompt": "a prompted movement (duration = how long it was held)",
                                     "marker": "a marker set in Asha", "lsl_marker": "a marker from an LSL marker stream",
                                     "padding": "padding of the last BDF data record (not recorded data)"}},
        })
        _write_json(ej, desc_ev)


def read_back(root: str | Path, subject: str, session: str, task: str):
    """The export read with mne-bids' ``read_raw_bids`` (what the round-trip test and benchmark use)."""
    from mne_bids import BIDSPath, read_raw_bids  # noqa: PLC0415

    bp = BIDSPath(subject=subject, session=session, task=task, datatype="emg", root=Path(root))
    with warnings.catch_warnings():
        warnings.simplefilter("ignore")
        return read_raw_bids(bp, verbose="error")


__all__ = ["BidsExportError", "bids_label", "check_target", "export_bids", "plan_export", "read_back",
           "short_channel_name"]
