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


def test_import_paired_folder_and_check(tmp_path):
    from pathlib import Path

    from asha_app.cli import main
    from asha_app.data.reader import SessionFile

    folder = Path(__file__).parent / "assets" / "paired_slice"
    out = tmp_path / "paired.h5"
    assert main(["import", str(folder), "-o", str(out), "-q"]) == 0
    with SessionFile(out) as sf:
        rec = sf.to_recording()
    assert rec.fs == 50.0 and rec.n_channels == 8
    assert rec.targets is not None and rec.targets.shape[1] == 5 and len(rec.label_t) > 1000
    assert main(["check", str(out)]) == 0
