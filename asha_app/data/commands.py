"""``asha import``, ``asha export``, ``asha check`` and ``asha lsl`` sub-commands (argparse).

Wire into the main parser with::

    sub = parser.add_subparsers(dest="command")
    asha_app.data.commands.register(sub)
    args = parser.parse_args()
    if getattr(args, "func", None):
        return args.func(args)

Each command returns a process exit status: 0 success, 1 a problem found
(``check`` with warnings when ``--strict``), 2 a file could not be read or
written (the message goes to stderr).
"""

from __future__ import annotations

import argparse
import logging
import sys
from pathlib import Path

import numpy as np

from asha_app.core.cli_args import FRACTION, POSITIVE_FLOAT, POSITIVE_INT, int_range
from asha_app.core.errors import AshaError
from asha_app.core.jsonout import print_line

log = logging.getLogger(__name__)


def _progress_printer(label: str, quiet: bool):
    if quiet:
        return None
    state = {"last": -1}

    def report(done: int, total: int) -> None:
        pct = int(100 * done / total) if total else 100
        if pct // 10 != state["last"] // 10 or done == total:
            state["last"] = pct
            sys.stderr.write(f"\r{label}: {pct:3d} %")
            if done >= total:
                sys.stderr.write("\n")
            sys.stderr.flush()

    return report


def _for_people(report: dict) -> dict:
    """The report as ``asha check --json`` prints it: repetitions numbered from 1 (the file stores them from 0)."""
    report["prompts"] = [{**p, "repetition": p["repetition"] + 1 if p["repetition"] >= 0 else None}
                         for p in report.get("prompts", [])]
    return report


def cmd_check(args: argparse.Namespace) -> int:
    """Print the integrity report of each file."""
    from asha_app.data.integrity import check_session  # noqa: PLC0415

    status = 0
    reports = []
    for path in args.files:
        try:
            rep = check_session(path, emg_gap_s=args.emg_gap, camera_gap_s=args.camera_gap, min_valid_share=args.min_valid)
        except AshaError as exc:
            if args.recover and "--recover" in str(exc):  # a file HDF5 will not open, which recovery can repair
                from asha_app.data.recovery import recover_session  # noqa: PLC0415

                try:
                    sys.stdout.write(f"{path}: could not be opened as it is; recovered into {recover_session(path)}\n")
                    continue
                except AshaError as rexc:
                    exc = rexc
            sys.stderr.write(f"{exc}\n")
            status = 2
            continue
        reports.append(_for_people(rep.to_dict()))
        if not args.json:
            sys.stdout.write(rep.format_text() + "\n")
        if args.recover and (rep.crashed or not rep.finalized):
            from asha_app.data.recovery import recover_session  # noqa: PLC0415

            try:
                out = recover_session(path)
            except AshaError as exc:
                sys.stderr.write(f"{exc}\n")
                status = 2
                continue
            sys.stdout.write(f"  recovered into {out}\n")
        if args.strict and not rep.ok and status == 0:
            status = 1
    if args.json:
        print_line(reports)  # one line of strict JSON (NaN as null), the command's last line
    return status


def cmd_import(args: argparse.Namespace) -> int:
    """Import an external file as a session file."""
    from asha_app.data.importers import import_to_session  # noqa: PLC0415

    src = Path(args.file)
    out = Path(args.output) if args.output else (src.parent / (src.name + ".asha.h5") if src.is_dir()
                                                 else src.with_suffix(".asha.h5"))
    problem = _output_problem(out, args.overwrite, src)
    if problem:
        sys.stderr.write(f"{problem}\n")
        return 2
    options = {}
    if args.fs is not None:
        options["fs"] = args.fs
    if args.board_id is not None:
        options["board_id"] = args.board_id
    for key in ("emg_stream", "marker_streams", "pose_stream"):
        if getattr(args, key, None) is not None:
            options[key] = getattr(args, key)
    if getattr(args, "list_streams", False):
        from asha_app.data.importers.xdf import list_streams  # noqa: PLC0415

        try:
            streams = list_streams(src)
        except AshaError as exc:
            sys.stderr.write(f"{exc}\n")
            return 2
        for d in streams:
            rate = f"{d['fs']:g} Hz" if d["fs"] > 0 else "irregular"
            sys.stdout.write(f"{d['stream_id']}\t{d['name']}\t{d['type']}\t{rate}\t{d['channels']} ch\t{d['format']}\n")
        return 0
    try:
        import_to_session(src, out, args.format, overwrite=args.overwrite, progress=_progress_printer("import", args.quiet), **options)
    except AshaError as exc:
        sys.stderr.write(f"{exc}\n")
        return 2
    sys.stdout.write(f"{out}\n")
    return 0


def cmd_export(args: argparse.Namespace) -> int:
    """Export a session file as windows (.npz), emg2pose HDF5, CSV or into an EMG-BIDS dataset."""
    from asha_app.data import exporters  # noqa: PLC0415

    src = Path(args.file)
    progress = _progress_printer("export", args.quiet)
    try:
        if args.format == "npz":
            out = Path(args.output or src.with_suffix(".windows.npz"))
            if out.suffix != ".npz":
                out = out.with_name(out.name + ".npz")  # numpy's rule; the path printed is the one written
            exporters.check_output(src, out, overwrite=args.overwrite)
            spec = None
            if args.filtered:
                from asha_app.data.reader import SessionFile  # noqa: PLC0415
                from asha_app.dsp.filters import FilterSpec  # noqa: PLC0415

                with SessionFile(src) as sf:
                    fdict = sf.attrs.get("filter") or {}
                    spec = FilterSpec.from_dict(fdict) if fdict else FilterSpec(sf.fs)
            info = exporters.export_windows_npz(src, out, window=args.window, stride=args.stride, filter_spec=spec,
                                                progress=progress, overwrite=args.overwrite, allow_large=args.allow_large)
            out = Path(info["path"])
        elif args.format == "bids":
            from asha_app.data.bids import export_bids, plan_export  # noqa: PLC0415

            out = Path(args.output or src.parent / "bids")
            plan = plan_export(src, out, subject=args.subject, session=args.session, task=args.task)
            for note in plan["notes"]:
                sys.stderr.write(f"note: {note}\n")
            if plan["mode"] == "add" and not plan["exists"]:
                sys.stderr.write(f"note: adding sub-{plan['subject']} ses-{plan['session']} to the BIDS dataset in {out}\n")
            res = export_bids(src, out, subject=args.subject, session=args.session, task=args.task,
                              overwrite=args.overwrite, progress=progress)
            out = Path(res["path"])
        elif args.format == "emg2pose":
            out = Path(args.output or src.with_suffix(".emg2pose.hdf5"))
            exporters.export_emg2pose(src, out, progress=progress, overwrite=args.overwrite)
        else:
            out = Path(args.output or src.with_suffix(""))
            exporters.export_csv(src, out, progress=progress, overwrite=args.overwrite)
    except AshaError as exc:
        sys.stderr.write(f"{exc}\n")
        return 2
    sys.stdout.write(f"{out}\n")
    return 0


def _output_problem(out: Path, overwrite: bool, src: Path | None = None) -> str | None:
    """Why ``out`` cannot be written (checked before any work), or None."""
    if src is not None and out.exists() and src.exists():
        try:
            if out.samefile(src):
                return f"{out}: is the input file; choose another output name."
        except OSError:
            pass
    if out.is_dir():
        return f"{out}: is a folder; give a file name for the output."
    if out.exists() and not overwrite:
        return f"{out}: already exists; choose another name or pass --overwrite to replace it."
    probe = out.parent
    while not probe.exists() and probe != probe.parent:
        probe = probe.parent
    import os  # noqa: PLC0415

    if not probe.is_dir() or not os.access(probe, os.W_OK | os.X_OK):
        return f"{out}: the folder {probe} is not writable; choose another output folder."
    return None


def register(subparsers) -> None:
    """Add ``import``, ``export`` and ``check`` to an argparse sub-parser collection.

    Each sub-parser sets ``func`` (taking the parsed namespace, returning an exit status).
    """
    p = subparsers.add_parser("check", help="check session files: duration, dropped samples, EMG rate, valid labels, gaps")
    p.add_argument("files", nargs="+", metavar="FILE")
    p.add_argument("--emg-gap", type=POSITIVE_FLOAT, default=0.1, help="report EMG time gaps longer than this (s)")
    p.add_argument("--camera-gap", type=POSITIVE_FLOAT, default=0.5, help="report camera time gaps longer than this (s)")
    p.add_argument("--min-valid", type=FRACTION, default=0.7, help="warn for prompts with a smaller share of valid labels (0-1)")
    p.add_argument("--json", action="store_true", help="print the reports as JSON")
    p.add_argument("--strict", action="store_true", help="exit with status 1 when any report has warnings")
    p.add_argument("--recover", action="store_true", help="copy interrupted (or never finalized) sessions into finalized FILE.recovered.h5 files")
    p.set_defaults(func=cmd_check)

    p = subparsers.add_parser("import", help="import emg2pose HDF5, NinaPro .mat, MindRove/BrainFlow or XDF files as a session file")
    p.add_argument("file", metavar="FILE")
    p.add_argument("-o", "--output", help="session file to write (default FILE.asha.h5)")
    p.add_argument("--format", choices=("emg2pose", "ninapro", "brainflow", "paired", "xdf"),
                   help="input format (guessed when omitted; a folder is the paired Myo+MediaPipe CSV pair)")
    p.add_argument("--fs", type=POSITIVE_FLOAT, help="EMG sampling rate in Hz (NinaPro files without 'frequency')")
    p.add_argument("--board-id", type=int_range(-100, 10_000), help="MindRove/BrainFlow board id (default: MindRove WiFi)")
    p.add_argument("--emg-stream", help="XDF: the EMG stream (name, source id or stream id; default: type EMG)")
    p.add_argument("--marker-stream", dest="marker_streams", action="append",
                   help="XDF: a marker stream to keep (repeat; default: every string stream)")
    p.add_argument("--pose-stream", help="XDF: the pose stream (default: type Pose or MoCap, if any)")
    p.add_argument("--list-streams", action="store_true", help="XDF: list the file's streams and exit")
    p.add_argument("--overwrite", action="store_true", help="replace an existing output file")
    p.add_argument("-q", "--quiet", action="store_true")
    p.set_defaults(func=cmd_import)

    p = subparsers.add_parser("export", help="export a session file as training windows (.npz), emg2pose HDF5, CSV "
                                             "or into an EMG-BIDS dataset")
    p.add_argument("file", metavar="FILE")
    p.add_argument("--format", choices=("npz", "emg2pose", "csv", "bids"), default="npz")
    p.add_argument("-o", "--output", help="output file (folder for csv; the BIDS dataset folder for bids)")
    p.add_argument("--subject", help="bids: participant label (default: the session's pseudonymous ID, made BIDS-safe)")
    p.add_argument("--session", help="bids: session label (default: the subject's next free number)")
    p.add_argument("--task", help="bids: task label (default: the protocol's name)")
    p.add_argument("--window", type=int_range(1, 1_000_000), default=100, help="window length in EMG samples (npz)")
    p.add_argument("--stride", type=POSITIVE_INT, default=25, help="window hop in EMG samples (npz)")
    p.add_argument("--filtered", action="store_true", help="filter EMG with the session's filter first (npz)")
    p.add_argument("--overwrite", action="store_true", help="replace an existing output (never the session itself)")
    p.add_argument("--allow-large", action="store_true", help="write an npz export larger than 2 GB")
    p.add_argument("-q", "--quiet", action="store_true")
    p.set_defaults(func=cmd_export)
    register_lsl(subparsers)


# ---------------------------------------------------------------------- asha lsl
def cmd_lsl(args: argparse.Namespace) -> int:
    """``asha lsl status|list|selftest|stream``: Lab Streaming Layer from the command line."""
    from asha_app.core.settings import AppSettings  # noqa: PLC0415
    from asha_app.devices import lsl as L  # noqa: PLC0415

    settings, _ = AppSettings.load()
    scope = args.scope or settings.lsl.scope
    if args.action == "status":
        st = L.lsl_status(True, scope)
        if args.json:
            print_line({"available": st.available, "message": st.message, "scope": st.scope, "liblsl": st.version})
        else:
            sys.stdout.write(st.message + "\n")
        return 0 if st.available else 1
    if args.action == "selftest":
        from asha_app.core.clock import SessionClock  # noqa: PLC0415
        from asha_app.devices.lsl_sync import format_selftest, run_selftest  # noqa: PLC0415

        res = run_selftest(SessionClock(), enabled=True, scope=scope, seconds=args.seconds)
        sys.stdout.write(format_selftest(res) + "\n")
        if args.json:
            print_line(res)
        return 0 if res["available"] else 1
    try:
        pl = L.require_lsl(True, scope)
    except L.LslUnavailable as exc:
        sys.stderr.write(f"{exc}\n")
        return 1
    if args.action == "list":
        streams = L.list_streams(pl, args.type or "", timeout_s=args.seconds)
        if args.json:
            print_line(streams)
        else:
            for d in streams:
                sys.stdout.write(f"{d['name']}\t{d['type']}\t{d['fs']:g} Hz\t{d['channels']} ch\t{d['source_id']}\t{d['hostname']}\n")
        return 0
    return _lsl_stream(args, pl)


def _lsl_stream(args: argparse.Namespace, pl) -> int:
    """Publish a device (default: the demo) through Asha's outlets for ``--seconds``, headless."""
    import time  # noqa: PLC0415

    from asha_app.core.clock import BoardTimeMapper, SessionClock  # noqa: PLC0415
    from asha_app.devices import lsl as L  # noqa: PLC0415
    from asha_app.devices.emg import DemoSource, PlaybackSource, SyntheticSource  # noqa: PLC0415

    clock = SessionClock()
    src = DemoSource() if args.source == "demo" else (SyntheticSource() if args.source == "synthetic"
                                                      else PlaybackSource(args.source))
    keys = [k.strip() for k in (args.outlets or "emg,imu,gestures").split(",") if k.strip()]
    bad = sorted(set(keys) - {"emg", "imu", "gestures"})
    if bad:
        sys.stderr.write(f"outlets {bad} need the app (camera, live model, recording); from the command line: emg, imu, gestures\n")
        return 2
    lclock = L.LslClock(clock, pl)
    outs = {}
    if "emg" in keys:
        outs["emg"] = L.open_outlet("emg", lclock, pl, fs=src.fs, channel_names=src.channel_names(), device=src.description)
    if "imu" in keys and src.has_imu:
        outs["imu"] = L.open_outlet("imu", lclock, pl, fs=src.fs, device=src.description)
    if "gestures" in keys:
        outs["gestures"] = L.open_outlet("gestures", lclock, pl)
    names = getattr(src, "marker_names", {})
    mapper = BoardTimeMapper(clock)
    src.start()
    sys.stderr.write(f"publishing {', '.join(o.name for o in outs.values())} from {src.description} for {args.seconds:g} s\n")
    end = time.monotonic() + args.seconds
    try:
        while time.monotonic() < end:
            pk = src.read()
            if pk is not None and pk.n:
                t = mapper.map(pk.board_t, clock.now())
                if "emg" in outs:
                    outs["emg"].push(t, pk.emg)
                if "imu" in outs and pk.accel is not None and pk.gyro is not None:
                    outs["imu"].push(t, np.hstack([pk.accel, pk.gyro]))
                for i in np.flatnonzero(pk.marker):
                    if "gestures" in outs:
                        outs["gestures"].push([t[i]], [names.get(float(pk.marker[i]), f"{pk.marker[i]:g}")])
            time.sleep(0.015)
    finally:
        src.stop()
    print_line({k: o.pushed for k, o in outs.items()})
    return 0


def register_lsl(subparsers) -> None:
    """Add ``asha lsl``."""
    p = subparsers.add_parser("lsl", help="Lab Streaming Layer: status, list streams, synchronization self-test, "
                                          "publish a device")
    p.add_argument("action", choices=("status", "list", "selftest", "stream"))
    p.add_argument("--scope", choices=("machine", "link", "site"), help="LSL resolve scope (default: Settings)")
    p.add_argument("--seconds", type=float, default=3.0, help="how long to look, test or stream")
    p.add_argument("--type", help="list: only streams of this type (EMG, Markers ...)")
    p.add_argument("--source", default="demo", help="stream: demo, synthetic or a MindRove/BrainFlow recording file")
    p.add_argument("--outlets", help="stream: comma-separated outlets (emg, imu, gestures; default all three)")
    p.add_argument("--json", action="store_true", help="print the result as one line of JSON (last line)")
    p.set_defaults(func=cmd_lsl)
