"""How many torch threads to train with: the cores that are actually free, not the cores that exist.

torch sizes its intra-op thread pool to every core of the machine.  When
other processes keep some of those cores busy, the pool's threads wait for
each other at every parallel region and an epoch gets many times slower
(measured here: one EnvelopeTCN epoch on 26k windows took 6 s on a quiet
2-core machine and over 200 s with the cores loaded; ``benchmarks/train_threads.py``).
:func:`free_cores` measures the idle share of the CPUs this process may run
on (``os.sched_getaffinity``; psutil's per-CPU utilisation over a short
interval), and :func:`training_threads` turns it into a thread count.
"""

from __future__ import annotations

import logging
import os

import psutil

log = logging.getLogger(__name__)

#: never more torch threads than this (small models gain nothing beyond)
MAX_THREADS = 8


def usable_cpus() -> list[int]:
    """CPU numbers this process may run on (all CPUs where affinity is not supported)."""
    try:
        return sorted(os.sched_getaffinity(0))
    except (AttributeError, OSError):
        return list(range(os.cpu_count() or 1))


def free_cores(interval_s: float = 0.2) -> float:
    """Idle cores among :func:`usable_cpus`, measured over ``interval_s`` seconds (0 .. number of CPUs).

    ``interval_s = 0`` does not block: the usable cores less the 1-minute load
    average (runnable processes; it lags changes by tens of seconds), the
    estimate also used when psutil cannot measure.
    """
    cpus = usable_cpus()
    if interval_s <= 0:
        return _from_load_average(len(cpus))
    try:

        busy = psutil.cpu_percent(interval=interval_s, percpu=True)
        return float(sum(max(0.0, 100.0 - busy[c]) for c in cpus if c < len(busy)) / 100.0)
    except Exception as exc:  # noqa: BLE001 (psutil missing or no /proc: estimate from the load average)
        log.debug("psutil could not measure CPU use (%s); using the load average", exc)
        return _from_load_average(len(cpus))


def _from_load_average(n_cpus: int) -> float:
    try:
        return float(min(n_cpus, max(0.0, n_cpus - os.getloadavg()[0])))
    except (AttributeError, OSError):
        return float(n_cpus)


def training_threads(reserve: int = 0, interval_s: float = 0.2) -> int:
    """Torch threads for a training run: the free cores (rounded), less ``reserve``, at least 1, at most 8.

    Parameters
    ----------
    reserve : int
        Cores to leave for something else (the GUI).
    interval_s : float
        Measuring time, seconds (0: do not block, estimate from the load average).
    """
    free = free_cores(interval_s)
    n = int(free + 0.25) - int(reserve)  # a core more than 3/4 idle counts as free
    n = max(1, min(MAX_THREADS, len(usable_cpus()) - int(reserve), n))
    log.info("training threads: %d (%.1f of %d usable cores free)", n, free, len(usable_cpus()))
    return n
