"""Command-line entry point ``asha`` (also ``python -m asha_app``).

``asha`` alone starts the desktop app (``--demo`` starts straight into the
demo).  Researchers' sub-commands (``import``, ``export``, ``check``,
``train``, ``evaluate``, ``calibrate``) are registered by the feature packages that provide
them, each with ``--help``.
"""

from __future__ import annotations

import argparse
import logging
import multiprocessing
import sys

from asha_app import __version__
from asha_app.app import run_gui
from asha_app.core.crashlog import report_unexpected
from asha_app.core.errors import AshaError
from asha_app.core.plugins import available_modules

# modules exposing ``register(subparsers)``; a feature not yet installed is skipped
COMMAND_MODULES = ("asha_app.data.commands", "asha_app.devices.commands", "asha_app.models.commands",
                   "asha_app.calibration.commands")


def build_parser() -> argparse.ArgumentParser:
    """The ``asha`` argument parser with every available sub-command."""
    parser = argparse.ArgumentParser(prog="asha", description="Asha: see a hand move from forearm sEMG.")
    parser.add_argument("--version", action="version", version=f"asha {__version__}")
    parser.add_argument("--demo", action="store_true", help="start the app straight into the demo on real recordings")
    sub = parser.add_subparsers(dest="command", metavar="COMMAND")
    for module in available_modules(COMMAND_MODULES):
        module.register(sub)
    return parser


def main(argv: list[str] | None = None) -> int:
    """Parse arguments and run the GUI or a sub-command; returns the exit status.

    Exit status 2 for any error: an :class:`~asha_app.core.errors.AshaError`
    prints its message; any other exception is written with its traceback to
    the error log (:mod:`asha_app.core.crashlog`) and printed as one sentence
    naming that file (no traceback reaches the terminal).  130 after Ctrl+C.
    """
    multiprocessing.freeze_support()  # a frozen (PyInstaller) app starts its training child processes through here
    parser = build_parser()
    args = parser.parse_args(sys.argv[1:] if argv is None else argv)
    if getattr(args, "command", None):
        logging.basicConfig(level=logging.INFO, format="%(levelname)s %(name)s: %(message)s")
        try:
            return int(args.func(args) or 0)
        except AshaError as exc:
            print(f"asha {args.command}: {exc}", file=sys.stderr)
            return 2
        except KeyboardInterrupt:
            print(f"asha {args.command}: interrupted.", file=sys.stderr)
            return 130
        except Exception as exc:  # noqa: BLE001 - the boundary: log the traceback, show one sentence
            print(report_unexpected(exc, f"asha {args.command}"), file=sys.stderr)
            return 2
    return run_gui(demo=args.demo)
