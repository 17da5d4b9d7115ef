"""EMG-to-pose networks, their training loop, metrics, checkpoints and reports (Qt-free).

Entry points: :func:`asha_app.models.registry.build` (every model by name),
:func:`asha_app.models.train.train` (a generator of progress events),
:mod:`asha_app.models.checkpoint` (save / load / validate),
:mod:`asha_app.models.metrics`, :mod:`asha_app.models.report` and
:class:`asha_app.models.streaming.StreamingRunner` (live inference).
"""
