"""Rooms with one job: core depends on nothing else of Asha, the data package never imports torch, no cycle in data."""

import ast
import subprocess
import sys
from pathlib import Path

PKG = Path(__file__).resolve().parents[1] / "asha_app"


def _imports(path: Path) -> set[str]:
    """Every module a file imports, at the top or inside functions."""
    names = set()
    for node in ast.walk(ast.parse(path.read_text(), filename=str(path))):
        if isinstance(node, ast.Import):
            names.update(a.name for a in node.names)
        elif isinstance(node, ast.ImportFrom) and node.module:
            names.add(node.module)
    return names


def test_core_imports_nothing_else_of_asha():
    offenders = {f"{f.relative_to(PKG)}: {sorted(bad)}" for f in (PKG / "core").rglob("*.py")
                 if (bad := {n for n in _imports(f) if n.startswith("asha_app.") and not n.startswith("asha_app.core")})}
    assert not offenders, offenders


def test_data_modules_never_import_torch():
    offenders = {f"{f.relative_to(PKG)}: {sorted(bad)}" for f in (PKG / "data").rglob("*.py")
                 if (bad := {n for n in _imports(f) if n.split(".")[0] == "torch"})}
    assert not offenders, offenders


def test_integrity_does_not_import_the_writer():
    """The writer uses the integrity check at finalize; the check (and recovery) never reach back into the writer."""
    assert "asha_app.data.writer" not in _imports(PKG / "data" / "integrity.py")


def test_windowing_labels_splits_and_the_hand_chain_load_without_torch():
    code = ("import sys; import asha_app.data.windows, asha_app.data.splits, asha_app.data.normalisation, "
            "asha_app.data.exporters, asha_app.data.integrity, asha_app.data.importers.session, asha_app.pose.ik; "
            "assert 'torch' not in sys.modules, 'torch was imported'")
    out = subprocess.run([sys.executable, "-c", code], capture_output=True, text=True)
    assert out.returncode == 0, out.stderr
