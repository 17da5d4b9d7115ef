"""EMG scopes, RMS bars and IMU plot (pyqtgraph), polling the acquisition rings on a GUI timer.

Workers never push per-chunk signals to these widgets; the widgets pull the
newest window from the ring buffers at their own frame rate (the pattern of
ScopeFoundry's ``display_update_period`` and pyqtgraph's MultiPlotSpeedTest),
with peak downsampling, clip-to-view and no finite check on the hot path.
NaN samples break the trace (``connect="finite"``) instead of crashing it.

Units: each scope's axis names its unit.  Voltages are given to pyqtgraph in
volts (the axis scale turns microvolts into volts), so its SI prefix reads µV or
mV and never "kµV"; data in another unit (imported MiniVIE units, NinaPro
envelopes) has no prefix, and the unit is written above the scopes.

Height: a scope shorter than :data:`LEGIBLE_PX` switches the layout to two
columns of four (the Sessions dock open on a small screen), and an axis title
longer than its scope is shortened ("EMG 3 (µV)" -> "3 (µV)" -> "3"), so titles
never overlap.

Axes cost more to paint than the traces (tick text), so they are cached as
pixmaps (``DeviceCoordinateCache``) and the y autoscale has hysteresis, like a
bench oscilloscope: a channel's range grows at once when the signal leaves it
and shrinks only when the signal has used less than a third of it for 2 s.
The axes are then repainted only when a range really changes, and the traces
do not breathe with every burst.
"""

from __future__ import annotations

import numpy as np
import pyqtgraph as pg
from PySide6.QtCore import Qt, QTimer
from PySide6.QtGui import QFontMetricsF
from PySide6.QtWidgets import QGraphicsItem, QLabel, QVBoxLayout, QWidget

from asha_app.core.ringbuffer import RingBuffer
from asha_app.core.units import emg_unit_label, emg_unit_to_uv
from asha_app.dsp.quality import ADVICE, Flag
from asha_app.ui.widgets import ElidedLabel

CHANNEL_COLOURS = ["#1f77b4", "#ff7f0e", "#2ca02c", "#d62728", "#9467bd", "#8c564b", "#e377c2", "#17becf"]
#: the narrowest the scopes get (the side docks shrink first)
MIN_WIDTH_PX = 360
#: a scope's plot area at least this tall stays in one column; shorter ones switch the layout to two columns
LEGIBLE_PX = 56
#: two columns need at least this width (px) for the scopes
TWO_COLUMNS_MIN_WIDTH_PX = 640
#: height of the time axis under the bottom scope (px, with its title)
_TIME_AXIS_PX = 45


def set_axis_unit(axis: pg.AxisItem, text: str, units: str | None) -> None:
    """Title ``axis`` with ``text`` and the EMG unit ``units`` (as stored: "uV", "mV", "MiniVIE normalised" ...).

    Voltages: the axis shows volts with pyqtgraph's SI prefix (µV, mV), the data
    staying in their own unit (axis scale).  Any other unit: no prefix and no
    scaling, and the unit is left out of the title (too long for an axis; the
    caller shows it elsewhere); ``units=""``: the same, values as they are.
    """
    to_uv = emg_unit_to_uv(units) if units else None
    if to_uv is not None:
        axis.setScale(to_uv * 1e-6)
        axis.enableAutoSIPrefix(True)
        axis.setLabel(text, units="V")
        axis.updateAutoSIPrefix()
    else:
        axis.setScale(1.0)
        axis.enableAutoSIPrefix(False)
        axis.setLabel(text)
    axis.resizeEvent()  # pyqtgraph centres the title only on a resize: centre the new text now
FLAG_COLOURS = {Flag.OK: "#2ca02c", Flag.NAN: "#d62728", Flag.FLAT: "#7f7f7f", Flag.RAILED: "#d62728",
                Flag.MAINS: "#ff7f0e", Flag.NOISY: "#ff7f0e"}


class EmgScopes(QWidget):
    """Eight stacked scrolling scopes of raw or filtered sEMG, in the source's unit (microvolts when live).

    Parameters
    ----------
    n_channels : int
        Channels to draw.

    Attributes
    ----------
    units : str
        The EMG unit as stored (:meth:`set_units`).
    columns : int
        1, or 2 when the scopes are too short for one column.
    unit_label : ElidedLabel
        The line above the scopes that names the unit.
    """

    def __init__(self, n_channels: int = 8, parent=None) -> None:
        super().__init__(parent)
        self.n_channels = n_channels
        self.window_s = 5.0
        self.show_filtered = True
        self.autoscale = True
        self.fixed_range_uv = 500.0
        self.frames_drawn = 0
        self.ring: RingBuffer | None = None
        self.fs = 500.0
        self.units = "uV"
        self.columns = 1
        lay = QVBoxLayout(self)
        lay.setContentsMargins(0, 0, 0, 0)
        lay.setSpacing(0)
        self.unit_label = ElidedLabel("", min_chars=12)
        self.unit_label.setStyleSheet("color: #555; padding: 0 4px;")
        lay.addWidget(self.unit_label)
        self.glw = pg.GraphicsLayoutWidget()
        self.glw.setBackground("w")
        # the docks beside give way first: a scope narrower than this is unreadable
        self.glw.setMinimumWidth(MIN_WIDTH_PX)
        lay.addWidget(self.glw)
        self.plots, self.curves, self.flag_labels = [], [], []
        self.flag_widgets: list[QLabel] = []
        for ch in range(n_channels):
            p = self.glw.addPlot(row=ch, col=0)
            p.setMenuEnabled(False)
            p.setMouseEnabled(x=False, y=False)
            p.hideButtons()
            p.showGrid(x=True, y=False, alpha=0.2)
            p.getAxis("left").setWidth(70)
            for ax in ("left", "bottom"):
                p.getAxis(ax).setCacheMode(QGraphicsItem.CacheMode.DeviceCoordinateCache)
            p.disableAutoRange()
            p.setYRange(-100.0, 100.0, padding=0.06)  # centred on zero until the first data set the scale
            p.setClipToView(True)
            p.setDownsampling(auto=True, mode="peak")
            if self.plots:
                p.setXLink(self.plots[0])
            c = p.plot(pen=pg.mkPen(CHANNEL_COLOURS[ch % len(CHANNEL_COLOURS)], width=1), connect="finite",
                       skipFiniteCheck=True)
            flag = pg.TextItem("●", color=FLAG_COLOURS[Flag.OK], anchor=(0, 0))
            p.addItem(flag, ignoreBounds=True)
            self.plots.append(p)
            self.curves.append(c)
            self.flag_labels.append(flag)
        self.plots[0].setXRange(-self.window_s, 0, padding=0)
        #: per-channel y range shown by the autoscale (None: not set yet), and when each channel last needed it
        self._range: list[tuple[float, float] | None] = [None] * n_channels
        self._needed_t = np.zeros(n_channels)
        self.current_flags: list[Flag] = [Flag.OK] * n_channels
        self.marker_names: dict[float, str] = {}
        # a small pool of marker lines on the top scope, reused every frame
        self._marker_lines = []
        for _ in range(12):
            line = pg.InfiniteLine(angle=90, movable=False, pen=pg.mkPen("#444", style=Qt.PenStyle.DashLine),
                                   label="", labelOpts={"position": 0.9, "color": "#222", "fill": "#ffffffc0"})
            line.hide()
            self.plots[0].addItem(line, ignoreBounds=True)
            self._marker_lines.append(line)
        self._titles: list[tuple[str, bool] | None] = [None] * n_channels
        self._fit_pending = False
        for p in self.plots:  # a scope that changes height re-fits its title
            p.getAxis("left").geometryChanged.connect(self._schedule_fit_titles)
        self._set_time_axes()
        self.set_units("uV")

    # ------------------------------------------------------------------ units, titles, layout
    def set_units(self, units: str | None) -> None:
        """Label every scope with the EMG unit ``units`` as stored ("uV" for live sources, an imported file's own)."""
        self.units = str(units or "uV")
        self._titles = [None] * self.n_channels
        self.fit_titles()

    def fit_titles(self) -> None:
        """Title each scope "EMG n (unit)", or "n (unit)" when that is longer than the scope is tall, or "n" alone
        (the unit then written above the scopes), so titles never overlap their neighbours."""
        si = emg_unit_to_uv(self.units) is not None
        for ch, p in enumerate(self.plots):
            ax = p.getAxis("left")
            room = ax.geometry().height()
            fm = QFontMetricsF(ax.label.font())
            margin = 2 * ax.label.document().documentMargin() + 4
            unit = f" ({ax.labelUnitPrefix or 'µ'}V)" if si else ""
            if room <= 0:
                chosen = (f"EMG {ch + 1}", si)
            elif fm.horizontalAdvance(f"EMG {ch + 1}{unit}") + margin <= room:
                chosen = (f"EMG {ch + 1}", si)
            elif fm.horizontalAdvance(f"{ch + 1}{unit}") + margin <= room:
                chosen = (f"{ch + 1}", si)
            else:
                chosen = (f"{ch + 1}", False)
            if self._titles[ch] != chosen:
                self._titles[ch] = chosen
                set_axis_unit(ax, chosen[0], self.units if chosen[1] else "")
        if si and all(t is None or t[1] for t in self._titles):
            self.unit_label.setText("")
            self.unit_label.hide()
        else:
            label = emg_unit_label(self.units)
            note = "" if si or "microvolt" in label.lower() else " (the source's unit, not microvolts)"
            self.unit_label.setText(f"EMG in {label}{note}")
            self.unit_label.show()

    def _schedule_fit_titles(self) -> None:
        if not self._fit_pending:
            self._fit_pending = True
            QTimer.singleShot(0, self._fit_titles_now)

    def _fit_titles_now(self) -> None:
        self._fit_pending = False
        self.fit_titles()

    def title_rects(self) -> list:
        """Scene rectangles of the axis titles (tests: they must not overlap)."""
        return [p.getAxis("left").label.mapRectToScene(p.getAxis("left").label.boundingRect()) for p in self.plots]

    def plot_heights(self) -> list[float]:
        """Height (px) of each scope's plot area."""
        return [float(p.getViewBox().height()) for p in self.plots]

    def set_columns(self, columns: int) -> None:
        """Lay the scopes out in 1 column, or 2 columns of ``ceil(n / 2)``."""
        columns = 2 if columns >= 2 and self.n_channels > 1 else 1
        if columns == self.columns:
            return
        ci = self.glw.ci
        for p in self.plots:
            ci.removeItem(p)
        rows = -(-self.n_channels // columns)
        for ch, p in enumerate(self.plots):
            ci.addItem(p, row=ch % rows, col=ch // rows)
        self.columns = columns
        self._set_time_axes()
        self._titles = [None] * self.n_channels

    def _set_time_axes(self) -> None:
        rows = -(-self.n_channels // self.columns)
        for ch, p in enumerate(self.plots):
            bottom = ch % rows == rows - 1 or ch == self.n_channels - 1
            p.getAxis("bottom").setStyle(showValues=bottom)
            p.setLabel("bottom", "time" if bottom else None, units="s" if bottom else None)
            p.getAxis("bottom").showLabel(bottom)

    def fit_layout(self) -> None:
        """Two columns when one column leaves a scope less than :data:`LEGIBLE_PX` tall (and there is the width)."""
        h, w = self.glw.height(), self.glw.width()
        one_col = (h - _TIME_AXIS_PX) / self.n_channels
        if self.columns == 1 and one_col < LEGIBLE_PX and w >= TWO_COLUMNS_MIN_WIDTH_PX:
            self.set_columns(2)
        elif self.columns == 2 and (one_col >= LEGIBLE_PX + 8 or w < TWO_COLUMNS_MIN_WIDTH_PX - 40):
            self.set_columns(1)
        self.glw.ci.layout.activate()
        self.fit_titles()

    def resizeEvent(self, event) -> None:  # noqa: N802 - Qt naming
        super().resizeEvent(event)
        QTimer.singleShot(0, self.fit_layout)  # after the graphics view has taken its new size

    def attach(self, ring: RingBuffer | None, fs: float, units: str | None = None) -> None:
        """Draw from ``ring`` (an acquisition ``emg`` ring) sampled at ``fs`` Hz in ``units`` (default
        microvolts); None detaches."""
        self.ring = ring
        self.fs = fs
        if ring is not None and str(units or "uV") != self.units:
            self.set_units(units)
        self._range = [None] * self.n_channels  # a new source: autoscale starts afresh
        if ring is None:
            for c in self.curves:
                c.setData([], [])

    def set_window(self, seconds: float) -> None:
        """Visible time span, 1-10 s."""
        self.window_s = float(min(10.0, max(1.0, seconds)))
        self.plots[0].setXRange(-self.window_s, 0, padding=0)

    def set_scale(self, autoscale: bool, fixed_range_uv: float) -> None:
        """Auto-range each channel (with hysteresis), or fix every channel to +/- ``fixed_range_uv``."""
        self.autoscale = autoscale
        self.fixed_range_uv = fixed_range_uv
        self._range = [None] * self.n_channels
        if not autoscale:
            for p in self.plots:
                p.setYRange(-fixed_range_uv, fixed_range_uv, padding=0)

    def _autoscale(self, y: np.ndarray, now: float) -> None:
        """Hysteresis autoscale of each channel: grow at once, shrink after 2 s at under a third of the range.

        Filtered sEMG (zero-mean after the band-pass) is centred on 0; raw sEMG on its
        median, since it may sit on an electrode offset.
        """
        with np.errstate(all="ignore"):
            lo, hi = np.nanmin(y, axis=0), np.nanmax(y, axis=0)
            centre = np.zeros(y.shape[1]) if self.show_filtered else np.nanmedian(y, axis=0)
        for ch, p in enumerate(self.plots[: y.shape[1]]):
            if not (np.isfinite(lo[ch]) and np.isfinite(hi[ch])):
                continue
            need = max(hi[ch] - centre[ch], centre[ch] - lo[ch], 1e-6)
            cur = self._range[ch]
            grow = cur is None or lo[ch] < cur[0] or hi[ch] > cur[1]
            if not grow and need > (cur[1] - cur[0]) / 6:  # uses more than a third of the range
                self._needed_t[ch] = now
            if grow or now - self._needed_t[ch] > 2.0:
                half = _nice(1.25 * need)
                self._range[ch] = (centre[ch] - half, centre[ch] + half)
                self._needed_t[ch] = now
                p.setYRange(*self._range[ch], padding=0.06)  # the end ticks stay inside the plot

    def set_flags(self, flags: list[Flag]) -> None:
        """Show the per-channel quality flags (colour dot + tooltip with what to do)."""
        for ch, flag in enumerate(flags[: self.n_channels]):
            item = self.flag_labels[ch]
            if not item.isVisible():
                item.show()
            if flag == self.current_flags[ch]:
                continue
            self.current_flags[ch] = flag
            item.setColor(FLAG_COLOURS[flag])
            item.setText("●" if flag == Flag.OK else f"● {flag.value}")
            item.setToolTip(ADVICE[flag])
            self.plots[ch].setToolTip(f"EMG {ch + 1}: {flag.value}. {ADVICE[flag]}")

    def clear_flags(self) -> None:
        """No quality to show (the source stopped): the flags are hidden until the next :meth:`set_flags`."""
        for ch, (item, p) in enumerate(zip(self.flag_labels, self.plots)):
            item.hide()
            self.current_flags[ch] = None
            p.setToolTip("")

    def refresh(self) -> bool:
        """Redraw from the ring; returns True when a frame was drawn."""
        if self.ring is None or self.ring.total == 0:
            return False
        res = self.ring.latest(int(self.window_s * self.fs))
        if res.n == 0:
            return False
        t = res.data["t"][:, 0]
        t = t - t[-1]
        y = res.data["filtered" if self.show_filtered else "raw"]
        for ch, curve in enumerate(self.curves):  # a source with fewer channels leaves the others empty
            if ch < y.shape[1]:
                curve.setData(t, y[:, ch])
            else:
                curve.setData([], [])
        if self.autoscale:
            self._autoscale(y, float(res.data["t"][-1, 0]))
        for ch, flag in enumerate(self.flag_labels):
            rng = self.plots[ch].getViewBox().viewRange()
            flag.setPos(-self.window_s, rng[1][1])
        self._draw_markers(t, res.data["marker"][:, 0])
        self.frames_drawn += 1
        return True


    def _draw_markers(self, t: np.ndarray, marker: np.ndarray) -> None:
        idx = np.flatnonzero(marker)[-len(self._marker_lines):]
        for line, i in zip(self._marker_lines, idx):
            code = float(marker[i])
            line.setPos(float(t[i]))
            line.label.setFormat(self.marker_names.get(code, f"marker {code:g}"))
            line.show()
        for line in self._marker_lines[len(idx):]:
            line.hide()


def _nice(x: float) -> float:
    """The next value >= x of the form 1, 2 or 5 times a power of ten (axis-friendly ranges)."""
    e = 10.0 ** np.floor(np.log10(x))
    for m in (1.0, 2.0, 5.0):
        if m * e >= x:
            return float(m * e)
    return float(10.0 * e)


class RmsBars(QWidget):
    """Per-channel RMS of the filtered sEMG over the last 200 ms, in the source's unit (microvolts when live)."""

    def __init__(self, n_channels: int = 8, parent=None) -> None:
        super().__init__(parent)
        lay = QVBoxLayout(self)
        lay.setContentsMargins(0, 0, 0, 0)
        self.unit_label = QLabel("")
        self.unit_label.setWordWrap(True)
        self.unit_label.setStyleSheet("color: #555; padding: 0 4px;")
        self.unit_label.hide()
        lay.addWidget(self.unit_label)
        self.plot = pg.PlotWidget(background="w")
        self.plot.setMenuEnabled(False)
        self.plot.setMouseEnabled(x=False, y=False)
        self.units = "uV"
        set_axis_unit(self.plot.getAxis("left"), "RMS", self.units)
        self.plot.getAxis("bottom").setTicks([[(i, str(i + 1)) for i in range(n_channels)]])
        self.n_channels = n_channels
        self.bars = pg.BarGraphItem(x=np.arange(n_channels), height=np.zeros(n_channels), width=0.7,
                                    brushes=[pg.mkBrush(c) for c in CHANNEL_COLOURS[:n_channels]])
        self.plot.addItem(self.bars)
        self.plot.setYRange(0, 100)
        lay.addWidget(self.plot)
        self._peak = 100.0

    def set_units(self, units: str | None) -> None:
        """The EMG unit as stored ("uV" for live sources); another unit than a voltage is named above the bars."""
        self.units = str(units or "uV")
        set_axis_unit(self.plot.getAxis("left"), "RMS", self.units)
        si = emg_unit_to_uv(self.units) is not None
        self.unit_label.setText("" if si else f"RMS in {emg_unit_label(self.units)}")
        self.unit_label.setVisible(not si)
        self._peak = 0.0  # the next values set the scale

    def clear(self) -> None:
        """No values (the source stopped)."""
        self.bars.setOpts(height=np.zeros(len(self.bars.opts["height"])))

    def set_values(self, rms: np.ndarray) -> None:
        """Update the bars (NaN shown as 0)."""
        if rms is None or len(rms) == 0:
            return
        vals = np.nan_to_num(np.asarray(rms, dtype=float))
        vals = np.pad(vals, (0, max(0, self.n_channels - len(vals))))[: self.n_channels]  # fewer channels: zero bars
        self.bars.setOpts(height=vals)
        to_uv = emg_unit_to_uv(self.units)
        top = max(50.0 / to_uv if to_uv else 1e-9, float(vals.max()) * 1.2)  # at least 50 µV
        # rise fast, fall slowly, so the scale does not flicker
        self._peak = top if top > self._peak else 0.85 * self._peak + 0.15 * top
        self.plot.setYRange(0, self._peak, padding=0)


class ImuPlot(QWidget):
    """Accelerometer (g) and gyroscope (deg/s) traces of the last few seconds."""

    def __init__(self, parent=None) -> None:
        super().__init__(parent)
        lay = QVBoxLayout(self)
        lay.setContentsMargins(0, 0, 0, 0)
        self.note = QLabel("")
        self.note.setAlignment(Qt.AlignmentFlag.AlignCenter)
        lay.addWidget(self.note)
        self.glw = pg.GraphicsLayoutWidget()
        self.glw.setBackground("w")
        lay.addWidget(self.glw)
        self.acc = self.glw.addPlot(row=0, col=0)
        self.acc.setLabel("left", "accel", units="g")
        self.gyr = self.glw.addPlot(row=1, col=0)
        self.gyr.setLabel("left", "gyro", units="°/s")
        for p in (self.acc, self.gyr):  # no SI prefix on g or °/s ("kg", "k°/s")
            p.getAxis("left").enableAutoSIPrefix(False)
        self.gyr.setLabel("bottom", "time", units="s")
        colours = ["#d62728", "#2ca02c", "#1f77b4"]
        self.acc_curves = [self.acc.plot(pen=pg.mkPen(c), name=a, connect="finite") for c, a in zip(colours, "xyz")]
        self.gyr_curves = [self.gyr.plot(pen=pg.mkPen(c), name=a, connect="finite") for c, a in zip(colours, "xyz")]
        self.ring: RingBuffer | None = None
        self.fs = 500.0
        self.window_s = 5.0

    def attach(self, ring: RingBuffer | None, fs: float, available: bool) -> None:
        """Draw from an acquisition ``imu`` ring; ``available`` False shows a note instead."""
        self.ring = ring if available else None
        self.fs = fs
        self.note.setText("" if available else "This source has no IMU data.")
        self.note.setVisible(not available)
        self.glw.setVisible(available)

    def refresh(self) -> None:
        """Redraw from the ring (decimated to ~100 Hz, plenty for IMU)."""
        if self.ring is None or self.ring.total == 0:
            return
        res = self.ring.latest(int(self.window_s * self.fs))
        step = max(1, int(self.fs // 100))
        t = res.data["t"][::step, 0]
        if len(t) == 0:
            return
        t = t - t[-1]
        for i in range(3):
            self.acc_curves[i].setData(t, res.data["accel"][::step, i])
            self.gyr_curves[i].setData(t, res.data["gyro"][::step, i])
