"""Qt-free live inference: what the inference worker computes for every chunk of the EMG ring.

* :mod:`~asha_app.inference.runner`: :class:`DecimatedRunner`, the live stream's
  feed into a model's :class:`~asha_app.models.streaming.StreamingRunner` (rows
  picked by package number, a new signal when a playback file loops);
* :mod:`~asha_app.inference.pipeline`: :class:`PoseStream`, one chunk in, the
  newest :class:`LivePose` out (runner, One Euro smoothing, input monitor, hand
  mapping, the live demo's reference hand), which the worker publishes in a
  :class:`~asha_app.core.slot.LatestSlot`;
* :mod:`~asha_app.inference.hands`: :class:`LiveHands`, a model output as a
  drawable hand (:class:`~asha_app.pose.scene.HandPose`: joint angles, joints,
  the person's bone scale: what skinning needs) through the pose contract's
  :class:`~asha_app.pose.contract.HandMapper`, and the recorded reference hand;
* :mod:`~asha_app.inference.ood`: :class:`InputMonitor` (is the input like the
  calibration data?);
* :mod:`~asha_app.inference.drift`: :class:`DriftMonitor` (shadow mode: has the
  EMG hand drifted from the camera's?);
* :mod:`~asha_app.inference.live_demo`: the bundled live demo's assets.

The streaming runner itself stays with the models
(:mod:`asha_app.models.streaming`): how a model runs chunk by chunk with its
state carried (``forward_chunk``, the frozen TorchScript step, the history
buffer) is part of each model family's contract, tested as streaming == batch
next to the models and built by :meth:`Checkpoint.runner`; this package adds
what a *live stream* needs on top of it.
"""
