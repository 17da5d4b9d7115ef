"""Command-line entry point ``asha`` (also ``python -m asha_app``)."""

from __future__ import annotations

import argparse
import sys


def build_parser() -> argparse.ArgumentParser:
    """The ``asha`` argument parser (sub-commands are added by later features)."""
    parser = argparse.ArgumentParser(prog="asha", description="Asha: see a hand move from forearm sEMG.")
    parser.add_argument("--demo", action="store_true", help="start straight into the demo on bundled real recordings")
    return parser


def main(argv: list[str] | None = None) -> int:
    """Parse arguments and run the GUI or a sub-command; returns the exit status."""
    args = build_parser().parse_args(sys.argv[1:] if argv is None else argv)
    from asha_app.app import run_gui

    return run_gui(demo=args.demo)
