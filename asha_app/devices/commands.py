"""``asha lsl`` sub-command (argparse): Lab Streaming Layer from the command line.

``asha lsl status|list|selftest|stream`` checks liblsl, lists the streams on the
network, runs the synchronization self-test (:mod:`asha_app.devices.lsl_sync`)
or publishes a device (demo, synthetic or a recording file) through Asha's
outlets, headless.  Wired into ``asha`` by :mod:`asha_app.cli` (``register``).
Exit status: 0 success, 1 LSL unavailable, 2 bad arguments.
"""

from __future__ import annotations

import argparse
import sys
import time

import numpy as np

from asha_app.core.clock import BoardTimeMapper, SessionClock
from asha_app.core.jsonout import print_line
from asha_app.core.settings import AppSettings


def cmd_lsl(args: argparse.Namespace) -> int:
    """``asha lsl status|list|selftest|stream``: Lab Streaming Layer from the command line."""
    from asha_app.devices import lsl as L  # noqa: PLC0415 - the MindRove SDK on first use

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
        from asha_app.data.integrity import format_selftest  # noqa: PLC0415 - h5py on first use
        from asha_app.devices.lsl_sync import run_selftest  # noqa: PLC0415 - the MindRove SDK on first use

        res = run_selftest(SessionClock(), enabled=True, scope=scope, seconds=args.seconds)
        sys.stdout.write(format_selftest(res) + "\n")
        if args.json:
            print_line(res)
        return 0 if res["available"] else 1
    try:
        pl = L.require_lsl(True, scope)
    except L.LslUnavailableError as exc:
        sys.stderr.write(f"{exc}\n")
        return 1
    if args.action == "list":
        streams = L.list_streams(pl, args.type or "", timeout_s=args.seconds)
        if args.json:
            print_line(streams)
        else:
            for d in streams:
                sys.stdout.write(f"{d['name']}\t{d['type']}\t{d['fs']:g} Hz\t{d['channels']} "
                                 f"ch\t{d['source_id']}\t{d['hostname']}\n")
        return 0
    return _lsl_stream(args, pl)


def _lsl_stream(args: argparse.Namespace, pl) -> int:
    """Publish a device (default: the demo) through Asha's outlets for ``--seconds``, headless."""
    from asha_app.devices import lsl as L  # noqa: PLC0415 - the MindRove SDK on first use
    from asha_app.devices.emg import DemoSource, PlaybackSource, SyntheticSource  # noqa: PLC0415 - the MindRove SDK on first use

    clock = SessionClock()
    src = DemoSource() if args.source == "demo" else (SyntheticSource() if args.source == "synthetic"
                                                      else PlaybackSource(args.source))
    keys = [k.strip() for k in (args.outlets or "emg,imu,gestures").split(",") if k.strip()]
    bad = sorted(set(keys) - {"emg", "imu", "gestures"})
    if bad:
        sys.stderr.write(f"outlets {bad} need the app (camera, live model, recording); from the command line: emg, "
                         "imu, gestures\n")
        return 2
    lclock = L.LslClock(clock, pl)
    outs = {}
    if "emg" in keys:
        outs["emg"] = L.open_outlet("emg", lclock, pl, fs=src.fs, channel_names=src.channel_names(),
                                    device=src.description)
    if "imu" in keys and src.has_imu:
        outs["imu"] = L.open_outlet("imu", lclock, pl, fs=src.fs, device=src.description)
    if "gestures" in keys:
        outs["gestures"] = L.open_outlet("gestures", lclock, pl)
    names = getattr(src, "marker_names", {})
    mapper = BoardTimeMapper(clock)
    src.start()
    sys.stderr.write(f"publishing {', '.join(o.name for o in outs.values())} from {src.description} for "
                     f"{args.seconds:g} s\n")
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


def register(subparsers) -> None:
    """Add ``asha lsl`` to an argparse sub-parser collection."""
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
