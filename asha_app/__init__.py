"""Asha: see a hand move from forearm sEMG.

The package is layered so that imports point one way::

    ui -> workers -> (devices, dsp, pose, data, models, protocols) -> core

Only :mod:`asha_app.workers` and :mod:`asha_app.ui` import PySide6; only
:mod:`asha_app.ui` imports QtWidgets or vispy.  Everything else is plain Python
and can be tested without a window.
"""

__version__ = "0.1.0"
