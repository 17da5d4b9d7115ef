"""Where Asha finds its bundled resources and keeps user data.

Bundled files live in ``resources/`` at the top of the repository (or beside
the frozen executable when packaged with PyInstaller).  User data (settings,
sessions, profiles, unpacked demo files) lives in the per-user folders given by
:mod:`platformdirs`; ``ASHA_HOME`` overrides all of them (tests use it).
"""

from __future__ import annotations

import os
import sys
from pathlib import Path

import platformdirs

APP_NAME = "asha"


def resources_dir() -> Path:
    """Folder of bundled resources (hand meshes, protocols, demo recordings)."""
    frozen = getattr(sys, "_MEIPASS", None)
    if frozen:
        return Path(frozen) / "resources"
    return Path(__file__).resolve().parents[2] / "resources"


def resource(*parts: str) -> Path:
    """Path of one bundled resource; raises ``FileNotFoundError`` naming it if absent."""
    path = resources_dir().joinpath(*parts)
    if not path.exists():
        raise FileNotFoundError(f"bundled resource missing: {path} (reinstall Asha or restore the file)")
    return path


def unique_path(path: Path) -> Path:
    """``path`` if nothing is there yet, else ``<stem>_2<suffix>``, ``<stem>_3<suffix>``, ... (never overwrites)."""
    path = Path(path)
    out, k = path, 2
    while out.exists():
        out = path.with_name(f"{path.stem}_{k}{path.suffix}")
        k += 1
    return out


def _home() -> Path | None:
    env = os.environ.get("ASHA_HOME")
    return Path(env) if env else None


def config_dir() -> Path:
    """Per-user settings folder (created on demand)."""
    home = _home()
    path = home / "config" if home else Path(platformdirs.user_config_dir(APP_NAME))
    path.mkdir(parents=True, exist_ok=True)
    return path


def data_dir() -> Path:
    """Per-user data folder: sessions, profiles, models (created on demand)."""
    home = _home()
    path = home / "data" if home else Path(platformdirs.user_data_dir(APP_NAME))
    path.mkdir(parents=True, exist_ok=True)
    return path


def log_dir() -> Path:
    """Per-user log folder: tracebacks of unexpected errors (created on demand)."""
    home = _home()
    path = home / "logs" if home else Path(platformdirs.user_log_dir(APP_NAME))
    path.mkdir(parents=True, exist_ok=True)
    return path


def cache_dir() -> Path:
    """Per-user cache folder: unpacked demo recordings and the like (created on demand)."""
    home = _home()
    path = home / "cache" if home else Path(platformdirs.user_cache_dir(APP_NAME))
    path.mkdir(parents=True, exist_ok=True)
    return path
