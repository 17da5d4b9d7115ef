"""Lab Streaming Layer (LSL): configuration, the LSL clock, outlets, marker inlets and an LSL EMG source.

One module per job; this package re-exports their public names (``from asha_app.devices import lsl as L``):

- :mod:`~asha_app.devices.lsl.config`: the resolve scope and whether LSL is usable (:func:`configure`,
  :func:`lsl_status`, :func:`require_lsl`);
- :mod:`~asha_app.devices.lsl.clock`: :class:`LslClock`, the LSL clock <-> session clock mapping;
- :mod:`~asha_app.devices.lsl.streams`: stream descriptions (:class:`ChannelDesc`, :func:`stream_info`,
  :func:`channel_labels`) and :func:`list_streams`;
- :mod:`~asha_app.devices.lsl.outlets`: the outlets Asha publishes (:data:`OUTLETS`, :func:`open_outlet`);
- :mod:`~asha_app.devices.lsl.markers`: :class:`MarkerInlets`, every marker stream on the session clock;
- :mod:`~asha_app.devices.lsl.source`: :class:`LslEmgSource`, an LSL EMG stream as an EMG source (built by the
  device registry only).

Asha talks LSL through ``pylsl``, whose wheel bundles ``liblsl`` (no system
library is needed).  Everything here is Qt-free; the worker that drives the
outlets and inlets of the running app is :mod:`asha_app.workers.lsl`.

Clocks
------
LSL stamps samples on its own clock, :func:`pylsl.local_clock` (a monotonic
clock in seconds).  Asha's session clock (:class:`asha_app.core.clock.SessionClock`)
is another monotonic clock.  :class:`LslClock` measures the offset between the
two (``lsl = session + offset``) by bracketing reads of one clock between two
reads of the other, and every conversion goes through it: the EMG outlet stamps
each sample with the board's own sample time (session time from the board's
timestamps, :class:`~asha_app.core.clock.BoardTimeMapper`) plus the offset, never
with the time the chunk was pushed; marker inlets convert the sender's time
stamps (corrected to this computer's LSL clock by liblsl's clock
synchronisation) back to session time.  Session files store the offset
(root attribute ``lsl_clock_offset_s``), so LSL times and Asha times convert
either way after the fact.

Scope
-----
liblsl finds streams by multicast.  :data:`SCOPES` are its resolve scopes:
``machine`` keeps all LSL traffic on this computer (loopback), ``link`` and
``site`` reach the lab's network (``site`` is liblsl's default).  The scope is
applied once per process, before the first LSL object is made
(:func:`configure`); the environment variable ``ASHA_LSL_SCOPE`` overrides the
setting (the test suite sets ``machine``).

Streams Asha publishes (:data:`OUTLETS`)
---------------------------------------
=================  ===============  ========  ====================================================
key                type             rate      channels
=================  ===============  ========  ====================================================
``emg``            ``EMG``          source's  sEMG, float32, microvolts, one per electrode
``imu``            ``IMU``          source's  accelerometer x/y/z (g), gyroscope x/y/z (deg/s)
``camera_pose``    ``Pose``         irregular hand-model joint angles (deg) + ``valid`` (0/1)
``predicted_pose`` ``Pose``         irregular the same angles predicted from EMG + ``valid``
``gestures``       ``Markers``      irregular string: the device's marker codes by name (the demo's gestures)
``markers``        ``Markers``      irregular string, JSON: Asha's prompts and markers
=================  ===============  ========  ====================================================

Channel labels, units, types and (EMG) electrode placement are in each
stream's XML description (``desc/channels/channel``), as the XDF meta-data
conventions have them.
"""

from asha_app.devices.lsl.clock import LslClock
from asha_app.devices.lsl.config import (SCOPE_ENV, SCOPES, LslStatus, LslUnavailableError, config_text, configure,
                                         configured_scope, effective_scope, loopback_usable, lsl_status,
                                         network_interfaces_up, require_lsl)
from asha_app.devices.lsl.markers import MarkerEvent, MarkerInlets
from asha_app.devices.lsl.outlets import DEFAULT_PLACEMENT, OUTLETS, Outlet, marker_json, open_outlet
from asha_app.devices.lsl.source import LslEmgSource, lsl_description
from asha_app.devices.lsl.streams import ChannelDesc, channel_labels, list_streams, stream_info, wait_for

__all__ = [
    "DEFAULT_PLACEMENT", "OUTLETS", "SCOPES", "SCOPE_ENV", "ChannelDesc", "LslClock", "LslEmgSource", "LslStatus",
    "LslUnavailableError", "MarkerEvent", "MarkerInlets", "Outlet", "channel_labels", "config_text", "configure",
    "configured_scope", "effective_scope", "list_streams", "loopback_usable", "lsl_description", "lsl_status",
    "marker_json", "network_interfaces_up", "open_outlet", "require_lsl", "stream_info", "wait_for",
]
