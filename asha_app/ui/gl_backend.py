"""OpenGL for the 3D hand view: which backend can draw here, and the EGL/Qt context hand-over between them.

``"offscreen"`` renders through vispy's EGL backend (:func:`offscreen_gl_app`), ``"widget"`` through vispy's
``QOpenGLWidget`` canvas; :func:`choose_backend` picks one (``ASHA_3D_BACKEND`` forces it).  Why the
off-screen path is preferred is in :mod:`asha_app.ui.hand_view`.  An EGL context and a Qt (GLX) context
must not both be current in one thread: :func:`release_qt_gl` and :func:`release_egl` hand over.
"""

from __future__ import annotations

import logging
import os

from PySide6.QtGui import QGuiApplication, QOpenGLContext
from vispy import app as vispy_app

log = logging.getLogger(__name__)


_EGL: dict = {}


def offscreen_gl_app():
    """vispy's EGL application for off-screen rendering, or None when EGL cannot start here.

    Mesa needs ``EGL_PLATFORM=surfaceless`` to give a display without a window
    system; the variable is set only while vispy opens the EGL display.  The
    reason for a failure is kept in :func:`offscreen_gl_error`.
    """
    if "app" not in _EGL:
        old = os.environ.get("EGL_PLATFORM")
        if old is None:
            os.environ["EGL_PLATFORM"] = "surfaceless"
        try:
            _EGL["app"] = vispy_app.Application("egl")
            _EGL["error"] = ""
        except Exception as exc:  # noqa: BLE001 - ImportError, RuntimeError: no libEGL, no usable display
            _EGL["app"] = None
            _EGL["error"] = str(exc).strip().splitlines()[-1] if str(exc).strip() else type(exc).__name__
            log.info("off-screen OpenGL (EGL) unavailable: %s", _EGL["error"])
        finally:
            if old is None:
                os.environ.pop("EGL_PLATFORM", None)
    return _EGL["app"]


def offscreen_gl_error() -> str:
    """Why :func:`offscreen_gl_app` gave None ("" when it works or was not tried)."""
    return _EGL.get("error", "")


def release_qt_gl() -> None:
    """Release a Qt (GLX) context current in this thread: glvnd refuses an EGL context while one is current."""
    ctx = QOpenGLContext.currentContext()
    if ctx is not None:
        ctx.doneCurrent()


def release_egl() -> None:
    """Release an EGL context that off-screen rendering left current in this thread: Qt's own OpenGL contexts
    (the widget canvas) then fail to become current ("QOpenGLWidget: Failed to make context current")."""
    if _EGL.get("app") is None:
        return
    try:
        from vispy.app.backends import _egl  # noqa: PLC0415 - loads libEGL: inside the guard for its absence
        from vispy.ext import egl  # noqa: PLC0415 - loads libEGL: inside the guard for its absence

        egl.eglMakeCurrent(_egl._EGL_DISPLAY, egl.EGL_NO_SURFACE, egl.EGL_NO_SURFACE, egl.EGL_NO_CONTEXT)  # noqa: SLF001 - vispy keeps its EGL display private
    except Exception as exc:  # noqa: BLE001 - never fatal: at worst the widget canvas reports its own error
        log.debug("could not release the EGL context: %s", exc)


def widget_gl_possible() -> bool:
    """True when this Qt platform can show OpenGL windows (not the ``offscreen`` or ``minimal`` platform)."""
    return QGuiApplication.platformName() not in ("offscreen", "minimal")


def choose_backend(requested: str | None = None) -> str:
    """The backend a new :class:`~asha_app.ui.hand_view.HandView` uses.

    ``requested``, else ``$ASHA_3D_BACKEND``, else the best available.

    Raises
    ------
    RuntimeError
        No OpenGL at all here (no EGL and a window system without OpenGL), with the reason.
    ValueError
        An unknown backend name.
    """
    want = requested or os.environ.get("ASHA_3D_BACKEND") or None
    if want not in (None, "offscreen", "widget"):
        raise ValueError(f"3D backend must be 'offscreen' or 'widget', got {want!r}")
    if want in (None, "offscreen") and offscreen_gl_app() is not None:
        return "offscreen"
    if want in (None, "widget") and widget_gl_possible():
        return "widget"
    raise RuntimeError("no OpenGL for the 3D view: EGL failed (" + (offscreen_gl_error() or "not tried")
                       + ") and this display has no OpenGL windows")
