"""Asha: see a hand move from forearm sEMG.

The package is layered so that imports point one way (``|``: siblings that never
import each other)::

    cli -> app -> ui -> workers -> calibration -> inference
        -> (models | protocols | devices) -> data -> (dsp | pose) -> core

Only :mod:`asha_app.workers` and :mod:`asha_app.ui` import PySide6 (workers only
QtCore); only :mod:`asha_app.ui` imports pyqtgraph or vispy.  Everything else is
plain Python and can be tested without a window.  The contracts that check this
live in ``pyproject.toml`` (``[tool.importlinter]``, run by ``lint-imports`` and
``tests/test_import_rules.py``).
"""

__version__ = "0.1.0"
