"""QThread workers (QtCore only): acquisition, camera, recorder, training, inference.

Lifecycle shared by every worker: construct (cheap, in the GUI thread),
``start()`` (QThread), the ``run()`` loop checks ``isInterruptionRequested()``,
``stop(timeout_ms)`` requests interruption and waits.  High-rate results go
into ring buffers or lock-protected "latest" slots that the GUI polls on a
timer; Qt signals carry only low-rate events (errors, state changes).
"""
