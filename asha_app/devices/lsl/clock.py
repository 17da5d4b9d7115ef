"""The LSL clock: the measured offset between :func:`pylsl.local_clock` and the session clock.

Every conversion between LSL time stamps and session seconds goes through :class:`LslClock`
(see :mod:`asha_app.devices.lsl`, section *Clocks*).
"""

from __future__ import annotations


import numpy as np

from asha_app.core.clock import SessionClock
from asha_app.devices.lsl.config import configure


# ---------------------------------------------------------------------- the clock
class LslClock:
    """The offset between the LSL clock and the session clock (``lsl = session + offset``).

    Parameters
    ----------
    clock : SessionClock
        The session clock.
    pylsl : module, optional
        The configured pylsl (default: :func:`configure` with the default scope).

    Attributes
    ----------
    offset : float
        ``local_clock() - clock.now()`` (s), measured as the midpoint of the
        tightest of several brackets.
    uncertainty : float
        Half the width of that bracket (s).
    """

    def __init__(self, clock: SessionClock, pylsl=None) -> None:
        self.clock = clock
        self._pylsl = pylsl or configure()
        self.offset, self.uncertainty = self.measure()

    def measure(self, n: int = 50) -> tuple[float, float]:
        """Measure the offset ``n`` times and keep the tightest bracket; returns ``(offset, uncertainty)``."""
        best = (0.0, float("inf"))
        lc, now = self._pylsl.local_clock, self.clock.now
        for _ in range(max(1, n)):
            a = now()
            b = lc()
            c = now()
            if (c - a) / 2 < best[1]:
                best = (b - (a + c) / 2, (c - a) / 2)
        self.offset, self.uncertainty = best
        return best

    def now(self) -> float:
        """The LSL clock now (s)."""
        return float(self._pylsl.local_clock())

    def to_lsl(self, t_session):
        """Session seconds (scalar or array) -> LSL clock seconds."""
        return np.asarray(t_session, np.float64) + self.offset if np.ndim(t_session) else float(t_session) + self.offset

    def to_session(self, t_lsl):
        """LSL clock seconds (scalar or array) -> session seconds."""
        return np.asarray(t_lsl, np.float64) - self.offset if np.ndim(t_lsl) else float(t_lsl) - self.offset
