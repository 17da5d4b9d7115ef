"""Unexpected errors at the app's boundaries: traceback to a log file, one sentence to the user.

The command line (:func:`asha_app.cli.main`) and the GUI (``sys.excepthook``
and the worker/dialog boundaries) catch every exception that is not an
:class:`~asha_app.core.errors.AshaError`, append its traceback to
``<log folder>/asha-errors.log`` (:func:`asha_app.core.paths.log_dir`) and show
the sentence returned by :func:`report_unexpected`, which names that file.
No traceback reaches the user's terminal or a dialog.
"""

from __future__ import annotations

import datetime
import logging
import os
import sys
import traceback
from pathlib import Path

from asha_app import __version__
from asha_app.core import paths

log = logging.getLogger(__name__)

LOG_NAME = "asha-errors.log"
#: the log is started afresh (the old one kept as ``.1``) past this size
MAX_BYTES = 2_000_000


def error_log_path() -> Path:
    """The file that receives the tracebacks (in the user's log folder)."""
    return paths.log_dir() / LOG_NAME


def log_exception(exc: BaseException, context: str = "") -> Path | None:
    """Append ``exc``'s traceback (with time, context and versions) to the error log; returns its path.

    Returns None when the log cannot be written either (the traceback then goes
    to the ``logging`` module only).
    """
    text = "".join(traceback.format_exception(type(exc), exc, exc.__traceback__))
    head = (f"==== {datetime.datetime.now().isoformat(timespec='seconds')} asha {__version__} "
            f"python {sys.version.split()[0]} pid {os.getpid()} {context}\n")
    try:
        path = error_log_path()
        if path.exists() and path.stat().st_size > MAX_BYTES:
            os.replace(path, path.with_name(path.name + ".1"))
        with open(path, "a", encoding="utf-8") as fh:
            fh.write(head + text + "\n")
        return path
    except OSError as log_exc:
        log.error("could not write the error log (%s); the error was:\n%s", log_exc, text)
        return None


def report_unexpected(exc: BaseException, context: str = "") -> str:
    """Log ``exc`` (see :func:`log_exception`) and return one sentence for the user naming the log file."""
    path = log_exception(exc, context)
    what = f"{context}: " if context else ""
    where = f"the details are in {path}" if path is not None else "the details could not be saved"
    return (f"{what}an unexpected error occurred ({type(exc).__name__}: "
            f"{str(exc).splitlines()[0] if str(exc) else 'no message'}); "
            f"{where}. Please include that file when you report the problem.")


__all__ = ["error_log_path", "log_exception", "report_unexpected"]
