"""Gesture mode, Qt-free: discrete gestures from sEMG beside the continuous hand.

* :mod:`~asha_app.gestures.labels`: gesture labels from protocol prompts, the demo's markers and NinaPro movement
  labels (rest is a class);
* :mod:`~asha_app.gestures.windows`: gesture windows on the shared :class:`~asha_app.data.windows.WindowSet`;
* :mod:`~asha_app.gestures.models`: LDA on classic features (the field's baseline), a multi-horizon CNN (MHCNN) and a
  prototype network whose active gesture subset can change at run time; registered in the model registry;
* :mod:`~asha_app.gestures.train`, :mod:`~asha_app.gestures.streaming` (live runner, majority vote),
  :mod:`~asha_app.gestures.calibrate`, :mod:`~asha_app.gestures.report`, :mod:`~asha_app.gestures.commands`
  (``asha train --task gesture``), :mod:`~asha_app.gestures.datasets` (benchmark readers).
"""
