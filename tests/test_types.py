"""Static types of the Qt-free packages: mypy with the settings in pyproject.toml ([tool.mypy]) finds no error.

The checked packages are those below the workers (core, dsp, data, pose, protocols, devices, models,
calibration, inference); libraries without type information are taken as Any.  A failure lists mypy's
messages: fix the type (or the bug it points at), or, for a third-party typing gap, add a
``# type: ignore[code]`` with the reason (stale ignores fail too: ``warn_unused_ignores``).
"""

import subprocess
import sys
from pathlib import Path

import pytest

ROOT = Path(__file__).resolve().parents[1]


@pytest.mark.slow
def test_qt_free_packages_type_check():
    out = subprocess.run([sys.executable, "-m", "mypy"], cwd=ROOT, capture_output=True, text=True)
    assert out.returncode == 0, out.stdout[-8000:] + out.stderr[-2000:]
