"""Run a long computation (training, fine-tuning) in a child process, with progress over a pipe.

Why: a torch training loop in a thread of the GUI process holds the GIL between
operations, and under CPU load the window stalled for over a second. In a
child process the GUI shares no interpreter with the loop; only small messages
cross the pipe.

Protocol (parent side, :class:`ChildJob`)::

    job = ChildJob("asha_app.models.jobs:run_training", {"prepared": p, ...}, threads=1)
    job.start()
    while job.alive or job.pending:
        for kind, payload in job.poll(0.1):   # ("event", obj) ... then ("result", obj) or ("error", (msg, tb))
            ...
    job.cancel()        # the target's ``cancelled()`` turns true: it stops at its next check
    job.terminate()     # last resort (window closing, a target that ignores cancel)

The target is a ``"module:function"`` name called in the child as
``function(**kwargs, emit=emit, cancelled=cancelled)``: ``emit(obj)`` sends a
picklable progress object, ``cancelled()`` polls the cancel flag; its return
value is sent as the result. An :class:`~asha_app.core.errors.AshaError` comes
back as ``("error", (message, None))``; any other exception as
``("error", (one sentence, traceback text))``. A child that dies without a word
(killed, out of memory) gives ``("error", ("... exited with code N ...", None))``.

The child is started with the ``spawn`` method (a fresh interpreter: no Qt, no
threads inherited), so kwargs must be picklable; torch uses ``threads`` threads there.
"""

from __future__ import annotations

import importlib
import logging
import multiprocessing as mp
import pickle
import traceback
from collections.abc import Callable

from asha_app.core.errors import AshaError

log = logging.getLogger(__name__)

_CTX = mp.get_context("spawn")


def _send(conn, kind: str, payload) -> None:
    """One message as plain pickle bytes.

    Not ``conn.send``: multiprocessing's pickler hands torch tensors over as shared-memory
    handles, which the parent cannot open once this process has exited.
    """
    conn.send_bytes(pickle.dumps((kind, payload), protocol=pickle.HIGHEST_PROTOCOL))


def _child_main(conn, cancel_event, target: str, kwargs_pickle: bytes, threads: int | None) -> None:  # pragma: no cover
    """Entry point of the child process (coverage does not follow it)."""
    try:
        if threads:
            import torch  # noqa: PLC0415 - torch on first use

            torch.set_num_threads(int(threads))
        kwargs = pickle.loads(kwargs_pickle)
        mod_name, fn_name = target.split(":")
        fn = getattr(importlib.import_module(mod_name), fn_name)
        result = fn(**kwargs, emit=lambda obj: _send(conn, "event", obj), cancelled=cancel_event.is_set)
        _send(conn, "result", result)
    except AshaError as exc:
        _send(conn, "error", (str(exc), None))
    except BaseException as exc:  # noqa: BLE001 - everything must reach the parent as a message
        _send(conn, "error", (f"{type(exc).__name__}: {exc}", traceback.format_exc()))
    finally:
        conn.close()


class ChildJob:
    """One computation in a spawned child process (see the module docstring).

    Parameters
    ----------
    target : str
        ``"package.module:function"``.
    kwargs : dict
        Picklable keyword arguments of the target.
    threads : int, optional
        ``torch.set_num_threads`` in the child.
    name : str
        Process name (logs, ``ps``).
    """

    def __init__(self, target: str, kwargs: dict, threads: int | None = None, name: str = "asha-job") -> None:
        self.target = target
        self._recv, send = _CTX.Pipe(duplex=False)
        self._send = send
        self._cancel = _CTX.Event()
        # plain pickle bytes (see _send): the child owns its copy of every array and tensor
        payload = pickle.dumps(kwargs, protocol=pickle.HIGHEST_PROTOCOL)
        self._proc = _CTX.Process(target=_child_main, args=(send, self._cancel, target, payload, threads),
                                  name=name, daemon=True)
        self._finished = False

    def start(self) -> None:
        """Start the child (returns at once)."""
        self._proc.start()
        self._send.close()  # the child holds the writing end now: EOF when it exits

    @property
    def alive(self) -> bool:
        """True while the child process runs."""
        return self._proc.is_alive()

    @property
    def pending(self) -> bool:
        """True while messages may still arrive (the pipe is open)."""
        return not self._finished

    @property
    def pid(self) -> int | None:
        return self._proc.pid

    def poll(self, timeout_s: float = 0.1) -> list[tuple[str, object]]:
        """Messages that arrived (waits up to ``timeout_s`` for the first); ``[]`` when none.

        After the child has exited and the pipe is drained, a child that sent neither a
        result nor an error yields one ``("error", ...)`` message saying how it ended.
        """
        out: list[tuple[str, object]] = []
        if self._finished:
            return out
        try:
            if not self._recv.poll(timeout_s):
                return out
            while True:
                kind, payload = pickle.loads(self._recv.recv_bytes())
                out.append((kind, payload))
                if kind in ("result", "error"):
                    self._finished = True
                    break
                if not self._recv.poll(0):
                    break
        except (EOFError, OSError):  # the child exited: it closed its end without a result
            self._finished = True
            self._proc.join(1.0)
            code = self._proc.exitcode
            out.append(("error", (f"the background process ended without a result (exit code {code}); "
                                  "it may have run out of memory or been killed", None)))
        return out

    def cancel(self) -> None:
        """Ask the target to stop at its next ``cancelled()`` check."""
        self._cancel.set()

    def join(self, timeout_s: float) -> bool:
        """Wait for the child to exit; True when it has."""
        self._proc.join(timeout_s)
        return not self._proc.is_alive()

    def terminate(self, grace_s: float = 2.0) -> None:
        """End the child: at once when it has exited; else cancel, wait ``grace_s``, terminate (and kill) it.

        A child that has sent its result or error is exiting by itself: it is waited for a
        moment and otherwise left to finish (a daemon: it cannot outlive the app).
        """
        if self._finished:
            self.join(1.0)
            return
        self.cancel()
        if self.join(grace_s):
            return
        log.warning("background process %s did not stop; terminating it", self._proc.pid)
        self._proc.terminate()
        if not self.join(2.0):
            self._proc.kill()
            self.join(2.0)


def run_inline(target: str, kwargs: dict, emit: Callable[[object], None] | None = None,
               cancelled: Callable[[], bool] | None = None):
    """Call a job target in this process (tests, scripts): same signature as in the child."""
    mod_name, fn_name = target.split(":")
    fn = getattr(importlib.import_module(mod_name), fn_name)
    return fn(**kwargs, emit=emit or (lambda _obj: None), cancelled=cancelled or (lambda: False))
