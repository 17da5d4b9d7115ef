"""QThread workers (QtCore only): acquisition and its session adapter, camera, recorder, training, fine-tuning,
inference, file jobs, LSL.

Every worker follows one lifecycle, documented with its state diagram in :mod:`asha_app.workers.base`:
construct (cheap, in the GUI thread), ``start()``, the subclass's ``work()`` loop checks ``stop_requested``,
``stop(timeout_ms)`` returns whether the thread finished (callers check it), and every failure goes out on the
one ``error(message, traceback)`` signal.  High-rate results go into ring buffers or lock-protected "latest"
slots that the GUI polls on a timer; Qt signals carry only low-rate events (errors, state changes).
"""
