"""LSL configuration and status: the resolve scope given to liblsl once per process, and whether LSL is usable here.

See :mod:`asha_app.devices.lsl` for the scopes and the environment variable ``ASHA_LSL_SCOPE``.
"""

from __future__ import annotations

import logging
import os
import socket
import threading
from dataclasses import dataclass

import psutil

from asha_app.core.errors import AshaError

log = logging.getLogger(__name__)

#: liblsl resolve scopes offered in Settings (key -> what the user reads)
SCOPES = {
    "machine": "this computer only",
    "link": "this computer and the local network segment",
    "site": "the lab's network (liblsl's default)",
}
#: environment variable that overrides the scope setting for this process
SCOPE_ENV = "ASHA_LSL_SCOPE"

_config_lock = threading.Lock()
_configured_scope: str | None = None


class LslUnavailableError(AshaError):
    """LSL cannot be used here (off in Settings, liblsl missing, or no network interface); the message says which."""


# ---------------------------------------------------------------------- configuration and status
def config_text(scope: str) -> str:
    """The ``lsl_api.cfg`` content Asha gives liblsl for ``scope`` (a key of :data:`SCOPES`)."""
    if scope not in SCOPES:
        raise ValueError(f"unknown LSL scope {scope!r}; use one of {', '.join(SCOPES)}")
    lines = ["[multicast]", f"ResolveScope = {scope}"]
    if scope == "machine":  # loopback only: no multicast or broadcast leaves this computer
        lines += ["AddressesOverride = {127.0.0.1}", "Interfaces = {127.0.0.1}", "[ports]", "IPv6 = disable"]
    lines += ["[log]",
              "level = -3"]  # liblsl logs only fatal errors (its INFO/ERR lines on every reconnect would flood)
    return "\n".join(lines) + "\n"


def effective_scope(scope: str = "site") -> str:
    """``scope``, unless ``ASHA_LSL_SCOPE`` names another one (then that)."""
    env = os.environ.get(SCOPE_ENV, "").strip()
    return env if env in SCOPES else scope


def configure(scope: str = "site"):
    """Load pylsl with Asha's configuration for ``scope`` (once per process) and return the module.

    liblsl reads its configuration once, when the first stream object is made,
    so a later call with another scope changes nothing (logged); the new scope
    applies after a restart.

    Raises
    ------
    LslUnavailableError
        If pylsl or its bundled liblsl cannot be loaded.
    """
    global _configured_scope
    scope = effective_scope(scope)
    try:
        import pylsl  # noqa: PLC0415 - optional at run time: Asha runs without LSL
    except (ImportError, OSError, RuntimeError) as exc:
        raise LslUnavailableError(f"LSL is off: the LSL library could not be loaded ({exc}). Reinstall Asha "
                             "(scripts/install.sh installs pylsl, which bundles liblsl).") from exc
    with _config_lock:
        if _configured_scope is None:
            pylsl.set_config_content(config_text(scope))
            _configured_scope = scope
        elif _configured_scope != scope:
            log.warning("LSL scope %r applies after a restart (this process uses %r)", scope, _configured_scope)
    return pylsl


def configured_scope() -> str | None:
    """The scope liblsl runs with in this process (None before :func:`configure`)."""
    return _configured_scope


def loopback_usable() -> bool:
    """True when this computer can send to itself over IP (no packet is sent: a UDP connect only routes)."""
    s = socket.socket(socket.AF_INET, socket.SOCK_DGRAM)
    try:
        s.connect(("127.0.0.1", 9))
        return True
    except OSError:
        return False
    finally:
        s.close()


def network_interfaces_up() -> list[str]:
    """Names of the network interfaces that are up, loopback excluded."""
    try:
        stats = psutil.net_if_stats()
        addrs = psutil.net_if_addrs()
    except OSError:
        return []
    out = []
    for name, st in stats.items():
        if not st.isup or name == "lo" or name.startswith("lo"):
            continue
        if any(a.family in (socket.AF_INET, socket.AF_INET6) for a in addrs.get(name, [])):
            out.append(name)
    return out


@dataclass
class LslStatus:
    """Whether LSL can run here, and what the user should read about it.

    Attributes
    ----------
    available : bool
        LSL objects can be made and reach at least this computer.
    message : str
        One sentence for the status bar / CLI ("LSL is off: ...", "LSL on: ...").
    scope : str
        The resolve scope in force (or that would be).
    version : int
        liblsl's version (e.g. 118), 0 when not loaded.
    """

    available: bool
    message: str
    scope: str = "site"
    version: int = 0


def lsl_status(enabled: bool = True, scope: str = "site") -> LslStatus:
    """Check whether LSL can run: switched on, liblsl loadable, a network interface (loopback at least) usable.

    Never raises; Asha runs as before when LSL is off, and says so.
    """
    scope = effective_scope(scope)
    if not enabled:
        return LslStatus(False, "LSL is off (Settings → Lab Streaming Layer to switch it on).", scope)
    if not loopback_usable():
        return LslStatus(False, "LSL is off: this computer has no usable network interface (not even loopback), "
                                "and LSL needs one even between programs on this computer. Asha runs without it.",
                         scope)
    try:
        pylsl = configure(scope)
    except LslUnavailableError as exc:
        return LslStatus(False, str(exc), scope)
    version = int(pylsl.library_version())
    scope = _configured_scope or scope
    if scope != "machine" and not network_interfaces_up():
        return LslStatus(True, f"LSL on (liblsl {version}); no network interface is up, so only programs on this "
                               "computer see Asha's streams.", scope, version)
    return LslStatus(True, f"LSL on (liblsl {version}), reaching {SCOPES[scope]}.", scope, version)


def require_lsl(enabled: bool = True, scope: str = "site"):
    """The configured pylsl module, or :class:`LslUnavailableError` with the reason."""
    st = lsl_status(enabled, scope)
    if not st.available:
        raise LslUnavailableError(st.message)
    return configure(scope)
