"""Architecture guard rails: the import-linter contracts in pyproject.toml hold, and what they cannot say.

The contracts (``[tool.importlinter]``) cover the layer order, Qt only in ui/workers, torch never in data,
core standing alone, one way into the acquisition worker, EMG sources built by the registry, and no import
cycle between sibling modules.  Here: run them (so ``scripts/test.sh`` and CI do), plus two checks
import-linter cannot express (it sees external packages only by their top-level name, and statically).
"""

import ast
import os
import subprocess
import sys
from pathlib import Path

ROOT = Path(__file__).resolve().parents[1]
PKG = ROOT / "asha_app"


def _imports(path: Path) -> set[str]:
    """Every module a file imports, at the top or inside functions."""
    names = set()
    for node in ast.walk(ast.parse(path.read_text(), filename=str(path))):
        if isinstance(node, ast.Import):
            names.update(a.name for a in node.names)
        elif isinstance(node, ast.ImportFrom) and node.module:
            names.add(node.module)
    return names


def test_import_contracts_hold():
    """``lint-imports`` on this checkout: every contract in pyproject.toml is kept."""
    code = ("import sys; from importlinter.cli import lint_imports; "
            "sys.exit(lint_imports(config_filename='pyproject.toml', no_cache=True, no_logo=True))")
    env = {**os.environ, "PYTHONPATH": os.pathsep.join([str(ROOT), os.environ.get("PYTHONPATH", "")])}
    out = subprocess.run([sys.executable, "-c", code], cwd=ROOT, env=env, capture_output=True, text=True)
    assert out.returncode == 0, out.stdout[-6000:] + out.stderr[-2000:]
    assert "0 broken" in out.stdout, out.stdout[-6000:]


def test_workers_use_only_qtcore():
    """Workers run in threads: signals and QThread, never widgets, painting or OpenGL (QtGui, QtWidgets...)."""
    offenders = {f"{f.relative_to(PKG)}: {sorted(bad)}" for f in (PKG / "workers").rglob("*.py")
                 if (bad := {n for n in _imports(f) if n.startswith("PySide6") and n != "PySide6.QtCore"})}
    assert not offenders, offenders


def test_windowing_labels_splits_and_the_hand_chain_load_without_torch():
    code = ("import sys; import asha_app.data.windows, asha_app.data.splits, asha_app.data.normalisation, "
            "asha_app.data.exporters, asha_app.data.integrity, asha_app.data.importers.session, asha_app.pose.ik; "
            "assert 'torch' not in sys.modules, 'torch was imported'")
    out = subprocess.run([sys.executable, "-c", code], capture_output=True, text=True)
    assert out.returncode == 0, out.stderr
