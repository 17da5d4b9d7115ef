"""The ``asha`` command line: help, version, and ``python -m asha_app``."""

import subprocess
import sys

from asha_app.cli import build_parser


def test_help_lists_demo_flag():
    text = build_parser().format_help()
    assert "--demo" in text and "asha" in text


def test_python_m_entry_point_runs():
    out = subprocess.run([sys.executable, "-m", "asha_app", "--version"], capture_output=True, text=True, timeout=120)
    assert out.returncode == 0 and out.stdout.strip().startswith("asha ")
