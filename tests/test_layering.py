"""Imports point one way: only workers/ and ui/ may import Qt; only ui/ may import QtWidgets or vispy."""

import ast
from pathlib import Path

PKG = Path(__file__).resolve().parents[1] / "asha_app"
QT_FREE = ["core", "devices", "dsp", "pose", "data", "models", "protocols", "calibration", "gestures"]


def _imports(path: Path) -> set[str]:
    tree = ast.parse(path.read_text(), filename=str(path))
    names = set()
    for node in ast.walk(tree):
        if isinstance(node, ast.Import):
            names.update(a.name for a in node.names)
        elif isinstance(node, ast.ImportFrom) and node.module:
            names.add(node.module)
    return names


def test_qt_free_packages_do_not_import_qt():
    offenders = []
    for sub in QT_FREE:
        for f in (PKG / sub).rglob("*.py"):
            bad = {n for n in _imports(f) if n.split(".")[0] in ("PySide6", "pyqtgraph", "vispy")
                   or n.startswith(("asha_app.ui", "asha_app.workers"))}
            if bad:
                offenders.append(f"{f.relative_to(PKG)}: {sorted(bad)}")
    assert not offenders, offenders


def test_workers_use_qtcore_only():
    offenders = []
    for f in (PKG / "workers").rglob("*.py"):
        bad = {n for n in _imports(f) if n.startswith(("PySide6.QtWidgets", "PySide6.QtGui", "pyqtgraph", "vispy",
                                                        "asha_app.ui"))}
        if bad:
            offenders.append(f"{f.relative_to(PKG)}: {sorted(bad)}")
    assert not offenders, offenders
