"""The main window: device picker, EMG scopes, RMS bars, IMU, status bar, and docks for later panels.

Assembled in named steps (``_setup_central``, ``_setup_docks``,
``_setup_toolbar``, ``_setup_statusbar``, ``_connect``) with all signal wiring
in one place.  The window owns no acquisition logic: its session
(:class:`~asha_app.workers.session.QtSession`, the session controller) starts and
stops the stream from the device registry, and the window shows what the session
tells it (:meth:`MainWindow._on_starting`, :meth:`MainWindow._on_started`) and polls
the rings and stats on timers.  The banner is the one sink of user-facing messages
(:class:`~asha_app.ui.banner.WindowSink`).
"""

from __future__ import annotations

import logging
import time
from typing import TYPE_CHECKING

from PySide6.QtCore import QRect, QSettings, Qt, QTimer, Signal
from PySide6.QtGui import QAction, QGuiApplication, QKeySequence
from PySide6.QtWidgets import (QCheckBox, QComboBox, QDockWidget, QDoubleSpinBox, QFileDialog, QInputDialog, QLabel,
                               QMainWindow, QMessageBox, QToolBar, QVBoxLayout, QWidget)

from asha_app import __version__
from asha_app.core import paths
from asha_app.core.clock import SessionClock
from asha_app.core.settings import AppSettings
from asha_app.core.units import emg_unit_label, emg_unit_to_uv
from asha_app.devices import lsl as L
from asha_app.devices.registry import DEVICES, SourceInfo
from asha_app.dsp.filters import FilterSpec
from asha_app.dsp.quality import Flag
from asha_app.pose.scene import HandScene
from asha_app.ui.banner import Banner, WindowSink
from asha_app.ui.camera_panel import CameraPanel, default_worker_factory
from asha_app.ui.hand_view import HandView
from asha_app.ui.pacing import TICK_S, ScopePacer
from asha_app.ui.scopes import EmgScopes, ImuPlot, RmsBars
from asha_app.ui.settings_dialog import SettingsDialog
from asha_app.ui.widgets import ElidedLabel
from asha_app.workers.session import QtSession

if TYPE_CHECKING:  # the window never builds one: the session controller does
    from asha_app.workers.acquisition import AcquisitionWorker

log = logging.getLogger(__name__)

NO_SOURCE_TEXT = "No device running. Pick a device and press Start."
NO_RATE_TEXT = "rate: —"
#: 3D hand slots drawn from the EMG stream (live model, live-demo reference, replayed labels): Stop clears them
STREAM_HAND_SLOTS = ("emg", "reference", "replay")
#: the main window's first size; :meth:`MainWindow.fit_to_screen` shrinks it to a smaller screen
DEFAULT_SIZE = (1560, 960)

#: the device picker: ``(kind, label)`` of every registered device meant for it (the device registry's order)
DEVICE_CHOICES = DEVICES.picker()


def create_hand_view(hands: HandScene | None = None) -> QWidget:
    """The vispy 3D hand view of ``hands``, or a label saying why it cannot be shown (no OpenGL here)."""
    try:
        return HandView(hands)
    except Exception as exc:  # noqa: BLE001 - vispy/OpenGL failures come in many types; the rest of the app must run
        log.info("3D hand view unavailable: %s", exc)
        lab = QLabel(f"3D view unavailable: {exc}")
        lab.setWordWrap(True)
        lab.setAlignment(Qt.AlignmentFlag.AlignCenter)
        return lab


class MainWindow(QMainWindow):
    """Asha's main window.

    Parameters
    ----------
    settings : AppSettings
        Loaded settings (saved again on close).
    clock : SessionClock
        The session clock shared by every worker.

    Attributes
    ----------
    session : QtSession
        The session controller: the one way to start and stop the EMG stream.
    last_error : tuple of (str, str) or None
        The last error shown (message, traceback text).

    Signals
    -------
    acquisition_started(object)
        A new :class:`AcquisitionWorker` was started (its source opens in its thread; features that can wait
        for it, like the LSL outlets, attach here).
    acquisition_opened(object)
        That worker's source is open: its rings, rate and channels are final and ``window.session.info``
        describes it (features that read the rings attach here).
    acquisition_stopped()
        The stream was stopped.
    settings_changed()
        The user changed the settings (features re-read theirs, e.g. LSL).
    """

    acquisition_started = Signal(object)
    acquisition_opened = Signal(object)
    acquisition_stopped = Signal()
    settings_changed = Signal()

    def __init__(self, settings: AppSettings, clock: SessionClock, parent=None) -> None:
        super().__init__(parent)
        self.settings = settings
        self.clock = clock
        self.last_error: tuple[str, str] | None = None
        self.sink = WindowSink(self)
        self.session = QtSession(settings, clock, self.sink, parent=self)
        self.panels: dict[str, QDockWidget] = {}
        self._shutdown_hooks: list = []
        self.setWindowTitle(f"Asha {__version__}")
        self.resize(*DEFAULT_SIZE)
        self._default_state = None  # the dock layout before any saved one is restored (View > Reset layout)
        self._setup_central()
        self._setup_docks()
        self._setup_toolbar()
        self._setup_statusbar()
        self._connect()
        self._restore_geometry()
        self._apply_scope_settings()

    # ------------------------------------------------------------------ assembly
    def _setup_central(self) -> None:
        central = QWidget()
        lay = QVBoxLayout(central)
        lay.setContentsMargins(4, 4, 4, 4)
        self.banner = Banner()
        lay.addWidget(self.banner)
        self.source_label = QLabel(NO_SOURCE_TEXT)
        self.source_label.setWordWrap(True)  # a long description or warning wraps instead of widening the window
        self.source_label.setObjectName("sourceLabel")
        self.source_label.setStyleSheet("#sourceLabel { font-weight: bold; padding: 2px; }")
        lay.addWidget(self.source_label)
        self.scopes = EmgScopes(8)
        lay.addWidget(self.scopes, 1)
        self.setCentralWidget(central)

    def _setup_docks(self) -> None:
        self.rms = RmsBars(8)
        self.add_panel("levels", "EMG levels (RMS, 200 ms)", self.rms, Qt.DockWidgetArea.RightDockWidgetArea)
        self.imu = ImuPlot()
        self.add_panel("imu", "IMU", self.imu, Qt.DockWidgetArea.RightDockWidgetArea)
        self.camera_panel = CameraPanel(self.clock, probe_cameras=False, worker_factory=self._make_camera_worker)
        self.camera_panel.mano_path = self.settings.camera.mano_path or None
        self.add_panel("camera", "Camera labels (MediaPipe + IK)", self.camera_panel,
                       Qt.DockWidgetArea.LeftDockWidgetArea)
        #: the hands the 3D view shows (a Qt-free model every feature changes; the view observes it)
        self.hands = HandScene()
        self.hand_view = create_hand_view(self.hands)
        self.add_panel("hand3d", "3D hand", self.hand_view, Qt.DockWidgetArea.LeftDockWidgetArea)
        self.camera_panel.hands = self.hands
        self.camera_panel.error.connect(self.show_error)
        self.splitDockWidget(self.panels["camera"], self.panels["hand3d"], Qt.Orientation.Vertical)
        self.tabifyDockWidget(self.panels["levels"], self.panels["imu"])
        self.panels["levels"].raise_()
        self.resizeDocks([self.panels["camera"], self.panels["levels"]], [380, 300], Qt.Orientation.Horizontal)

    def _setup_toolbar(self) -> None:
        tb = QToolBar("Acquisition")
        tb.setObjectName("acquisitionToolbar")
        self.addToolBar(tb)
        tb.addWidget(QLabel(" Device: "))
        self.device_combo = QComboBox()
        for kind, label in DEVICE_CHOICES:
            self.device_combo.addItem(label, kind)
        self.device_combo.setCurrentIndex(max(0, self.device_combo.findData(self.settings.device.kind)))
        tb.addWidget(self.device_combo)
        self.start_action = QAction("Start", self)
        self.start_action.setShortcut(QKeySequence("Ctrl+R"))
        tb.addAction(self.start_action)
        self.stop_action = QAction("Stop", self)
        self.stop_action.setEnabled(False)
        tb.addAction(self.stop_action)
        tb.addSeparator()
        self.filtered_check = QCheckBox("Filtered")
        self.filtered_check.setToolTip("Show the band-pass + notch filtered signal (unchecked: raw)")
        tb.addWidget(self.filtered_check)
        tb.addWidget(QLabel(" Window "))
        self.window_spin = QDoubleSpinBox()
        self.window_spin.setRange(1.0, 10.0)
        self.window_spin.setSingleStep(1.0)
        self.window_spin.setSuffix(" s")
        tb.addWidget(self.window_spin)
        self.autoscale_check = QCheckBox("Auto scale")
        tb.addWidget(self.autoscale_check)
        self.range_spin = QDoubleSpinBox()
        self.range_spin.setRange(10.0, 500000.0)
        self.range_spin.setDecimals(0)
        self.range_spin.setPrefix("± ")
        self.range_spin.setSuffix(" µV")
        tb.addWidget(self.range_spin)
        tb.addSeparator()
        self.marker_action = QAction("Marker", self)
        self.marker_action.setShortcut(QKeySequence("M"))
        self.marker_action.setToolTip("Stamp a marker on the stream (key M)")
        tb.addAction(self.marker_action)
        self.settings_action = QAction("Settings…", self)
        tb.addAction(self.settings_action)
        # menus that feature modules (recording, training, live) extend in their install(window)
        self.menus = {key: self.menuBar().addMenu(title) for key, title in
                      (("session", "&Session"), ("model", "&Model"), ("live", "&Live"), ("view", "&View"))}
        self.view_menu = self.menus["view"]
        self.reset_layout_action = QAction("Reset layout", self)
        self.reset_layout_action.setToolTip("Put every panel back where it was at the first start and fit the window "
                                            "to the screen")
        self.view_menu.addAction(self.reset_layout_action)
        self.view_menu.addSeparator()
        for dock in self.panels.values():
            self.view_menu.addAction(dock.toggleViewAction())

    def _setup_statusbar(self) -> None:
        sb = self.statusBar()
        # every part elides: device names, marker names and quality lists must never widen the window
        self.status_device = ElidedLabel("—", min_chars=8)
        self.status_rate = ElidedLabel(NO_RATE_TEXT, min_chars=10)
        self.status_dropped = ElidedLabel("dropped: 0", min_chars=10)
        self.status_battery = ElidedLabel("battery: —", min_chars=6)
        self.status_quality = ElidedLabel("", min_chars=8)
        self.status_state = ElidedLabel("idle", min_chars=6)
        self.status_marker = ElidedLabel("", min_chars=6)
        for w in (self.status_marker, self.status_device, self.status_state, self.status_rate, self.status_dropped,
                  self.status_battery, self.status_quality):
            sb.addPermanentWidget(w)

    def _connect(self) -> None:
        self.start_action.triggered.connect(self.start_acquisition)
        self.stop_action.triggered.connect(self.stop_acquisition)
        self.device_combo.activated.connect(self._device_chosen)
        self.filtered_check.toggled.connect(self._scope_controls_changed)
        self.window_spin.valueChanged.connect(self._scope_controls_changed)
        self.autoscale_check.toggled.connect(self._scope_controls_changed)
        self.range_spin.valueChanged.connect(self._scope_controls_changed)
        self.settings_action.triggered.connect(self.open_settings)
        self.marker_action.triggered.connect(self.add_marker)
        self.reset_layout_action.triggered.connect(lambda: self.reset_layout())
        #: decides on each draw-timer tick whether the scopes redraw (while live: between the hand's frames)
        self.scope_pacer = ScopePacer()
        self.session.starting.connect(self._on_starting)
        self.session.started.connect(self._on_opened)
        self.session.finished.connect(self._on_worker_finished)
        self.session.stopped.connect(self._on_stopped)
        self.draw_timer = QTimer(self)
        self.draw_timer.setInterval(round(TICK_S * 1000))  # fine ticks; the pacer sets the scopes' rate
        self.draw_timer.timeout.connect(self._draw_tick)
        self.draw_timer.start()
        self.status_timer = QTimer(self)
        self.status_timer.setInterval(250)
        self.status_timer.timeout.connect(self._update_status)
        self.status_timer.start()

    # ------------------------------------------------------------------ panels (later features)
    def add_panel(self, key: str, title: str, widget: QWidget,
                  area: Qt.DockWidgetArea = Qt.DockWidgetArea.RightDockWidgetArea) -> QDockWidget:
        """Put ``widget`` in a dock titled ``title`` (camera, 3D hand, training ... add themselves here)."""
        dock = QDockWidget(title, self)
        dock.setObjectName(f"dock_{key}")
        dock.setWidget(widget)
        self.addDockWidget(area, dock)
        self.panels[key] = dock
        if hasattr(self, "view_menu"):
            self.view_menu.addAction(dock.toggleViewAction())
        return dock

    def _make_camera_worker(self, spec, clock):
        cam = self.settings.camera
        return default_worker_factory(spec, clock, hand=cam.hand, model_complexity=cam.model_complexity,
                                      mirror_webcam=cam.mirror_webcam)

    # ------------------------------------------------------------------ acquisition
    @property
    def device_kind(self) -> str:
        """Kind selected in the device picker."""
        return self.device_combo.currentData()

    def _device_chosen(self, _index: int) -> None:
        kind = self.device_kind
        if kind == "file":
            path, _ = QFileDialog.getOpenFileName(self, "Open a MindRove/BrainFlow recording", "",
                                                  "Recordings (*.csv *.tsv *.txt);;All files (*)")
            if not path:
                self.device_combo.setCurrentIndex([k for k, _ in DEVICE_CHOICES].index(self.settings.device.kind))
                return
            self.settings.device.playback_file = path
        if kind == "lsl" and not self._choose_lsl_stream():
            self.device_combo.setCurrentIndex([k for k, _ in DEVICE_CHOICES].index(self.settings.device.kind))
            return
        self.settings.device.kind = kind
        if self.worker is not None:
            self.start_acquisition()

    def _choose_lsl_stream(self) -> bool:
        """Pick the LSL EMG stream (a short look on the network); False when LSL is off or the user cancels."""
        s = self.settings.lsl
        try:
            pl = L.require_lsl(s.enabled, s.scope)
        except L.LslUnavailableError as exc:
            self.show_error(f"{exc} Switch LSL on in Settings… to use an LSL EMG stream.")
            return False
        streams = [d for d in L.list_streams(pl, timeout_s=0.5) if d["fs"] > 0]  # a short, bounded look (0.5 s)
        items = ["first stream of type EMG"] + [f"{d['name']}  ({d['type']}, {d['fs']:g} Hz, {d['channels']} ch, "
                                                 f"{d['hostname']})" for d in streams]
        choice, ok = QInputDialog.getItem(self, "LSL EMG stream", "Stream (regular-rate streams seen on "
                                          f"{L.SCOPES[L.configured_scope() or s.scope]}):", items, 0, False)
        if not ok:
            return False
        idx = items.index(choice)
        self.settings.device.lsl_stream = "" if idx == 0 else streams[idx - 1]["name"]
        return True

    @property
    def worker(self) -> AcquisitionWorker | None:
        """The session's acquisition worker (None when nothing runs); its rings are final once
        ``acquisition_opened`` has been emitted for it (:attr:`QtSession.ready`)."""
        return self.session.worker

    def start_demo(self, with_camera: bool = False) -> None:
        """Switch to the demo EMG source and start it; ``with_camera`` also labels the bundled hand video."""
        self.device_combo.setCurrentIndex(self.device_combo.findData("demo"))
        self.settings.device.kind = "demo"
        self.start_acquisition()
        if with_camera:
            self.camera_panel.start("demo")

    def start_acquisition(self) -> bool:
        """Start streaming from the selected device (stopping any running one); False if it cannot be tried
        (the banner says why).  The source itself is built and opened in the acquisition thread."""
        return self.session.start(self.device_kind)

    def _on_starting(self, info: SourceInfo) -> None:
        """The session starts a source: show what is known of it before its first sample (``acquisition_started``)."""
        worker = self.worker
        self.scopes.attach(worker.emg_ring, worker.fs, info.units or "uV")
        self.scopes.marker_names = {100.0: "user marker", **dict(info.marker_names)}
        self.imu.attach(worker.imu_ring, worker.fs, bool(info.has_imu))
        self._show_units(info.units or "uV")
        self.source_label.setText(info.source_line)
        self.status_device.setText(info.description.split(" (")[0])
        self.start_action.setEnabled(False)
        self.stop_action.setEnabled(True)
        self.acquisition_started.emit(worker)

    def _on_opened(self, worker: AcquisitionWorker) -> None:
        """The source is open (rings final): show what it is, and tell the features (``acquisition_opened``)."""
        info = worker.info
        if self.scopes.ring is not worker.emg_ring or self.scopes.fs != worker.fs:
            self.scopes.attach(worker.emg_ring, worker.fs, info.units)
        self.scopes.marker_names = {100.0: "user marker", **dict(info.marker_names)}
        self.imu.attach(worker.imu_ring, worker.fs, bool(info.has_imu))
        self.set_emg_units(info.units)
        self.source_label.setText(info.source_line)
        self.status_device.setText(info.description.split(" (")[0])
        self.acquisition_opened.emit(worker)

    def _show_units(self, units: str) -> None:
        units = str(units or "uV")
        self.scopes.set_units(units)
        self.rms.set_units(units)
        label = emg_unit_label(units)
        self.range_spin.setSuffix(f" {label}" if emg_unit_to_uv(units) is not None else "")
        self.range_spin.setToolTip(f"Fixed range of every scope, in {label}")

    def set_emg_units(self, units: str | None) -> None:
        """The running stream's EMG unit as stored ("uV" for live boards; :mod:`asha_app.core.units`): labels the
        scopes, the RMS bars and the fixed range, and sets the unit the quality check assumes."""
        units = str(units or "uV")
        self._show_units(units)
        if self.worker is not None:
            self.worker.units = units

    def stop_acquisition(self) -> bool:
        """Stop the running stream (waits up to 5 s) and clear what it showed: source line, rate, quality,
        last marker, levels, and the 3D hands drawn from the stream.  False when the worker did not stop in
        time (the banner says so; it finishes in the background)."""
        return self.session.stop()

    def _on_stopped(self) -> None:
        self.start_action.setEnabled(True)
        self.stop_action.setEnabled(False)
        self._clear_stream_state()
        self.acquisition_stopped.emit()

    def _clear_stream_state(self) -> None:
        self.source_label.setText(NO_SOURCE_TEXT)
        self.status_device.setText("—")
        self.status_state.setText("stopped")
        self.status_rate.setText(NO_RATE_TEXT)
        self.status_dropped.setText("dropped: 0")
        self.status_dropped.setStyleSheet("")
        self.status_battery.setText("battery: —")
        self.status_quality.setText("")
        self.status_marker.setText("")
        self.scopes.clear_flags()
        self.rms.clear()
        with self.hands.batch():
            for slot in STREAM_HAND_SLOTS:
                self.hands.clear(slot)

    def _on_worker_finished(self, worker: AcquisitionWorker) -> None:
        if worker is self.worker:  # ended by itself (unreachable, an error): it can be started again
            self.start_action.setEnabled(True)
            self.stop_action.setEnabled(False)

    def show_error(self, message: str, traceback: str = "") -> None:
        """Show a user-facing error in the banner (non-blocking); every worker's ``error(message, traceback)``
        comes here."""
        self.sink.show(message, traceback)

    def add_marker(self) -> None:
        """Stamp marker code 100 (user key press) on the stream."""
        if self.worker is not None:
            self.worker.insert_marker(100.0)
            self.statusBar().showMessage(f"Marker at {self.clock.now():.2f} s", 2000)

    # ------------------------------------------------------------------ scope controls and settings
    def _apply_scope_settings(self) -> None:
        s = self.settings.scope
        for w in (self.filtered_check, self.window_spin, self.autoscale_check, self.range_spin):
            w.blockSignals(True)
        self.filtered_check.setChecked(s.show_filtered)
        self.window_spin.setValue(s.window_s)
        self.autoscale_check.setChecked(s.autoscale)
        self.range_spin.setValue(s.fixed_range_uv)
        self.range_spin.setEnabled(not s.autoscale)
        for w in (self.filtered_check, self.window_spin, self.autoscale_check, self.range_spin):
            w.blockSignals(False)
        self.scopes.show_filtered = s.show_filtered
        self.scopes.set_window(s.window_s)
        self.imu.window_s = s.window_s
        self.scopes.set_scale(s.autoscale, s.fixed_range_uv)

    def _scope_controls_changed(self, *_args) -> None:
        s = self.settings.scope
        s.show_filtered = self.filtered_check.isChecked()
        s.window_s = self.window_spin.value()
        s.autoscale = self.autoscale_check.isChecked()
        s.fixed_range_uv = self.range_spin.value()
        self._apply_scope_settings()

    def open_settings(self) -> None:
        """Edit connection and filter settings; filter changes apply to the running stream."""
        dlg = SettingsDialog(self.settings, self)
        if dlg.exec() != SettingsDialog.DialogCode.Accepted:
            return
        try:
            new = dlg.result_settings()
        except ValueError as exc:
            QMessageBox.warning(self, "Invalid settings", str(exc))
            return
        self.settings.device = new.device
        self.settings.filter = new.filter
        self.settings.camera = new.camera
        lsl_changed = new.lsl != self.settings.lsl
        self.settings.lsl = new.lsl
        self.camera_panel.mano_path = new.camera.mano_path or None
        if self.worker is not None:
            self.worker.set_filter_spec(FilterSpec.from_settings(self.settings.filter, self.worker.fs))
        if lsl_changed:
            self.settings_changed.emit()

    # ------------------------------------------------------------------ drawing
    def _draw_tick(self) -> None:
        """The draw timer: redraw the scopes when the pacer says so (always, unless a live hand runs)."""
        if self.worker is not None and self.scope_pacer.scopes_due(time.perf_counter()):
            self.refresh_scopes()

    def refresh_scopes(self) -> None:
        """Redraw the EMG scopes and IMU plot from the rings now."""
        if self.worker is None:
            return
        t0 = time.perf_counter()
        self.scopes.refresh()
        self.imu.refresh()
        self.scope_pacer.scopes_drawn(t0, time.perf_counter() - t0)

    def _update_status(self) -> None:
        w = self.worker
        if w is None:
            self.status_state.setText("stopped")
            return
        s = w.stats()
        self.status_state.setText(s.state)
        self.status_rate.setText(f"rate: {s.rate_hz:5.1f} Hz (nominal {s.fs_nominal:.0f})")
        dropped = f"dropped: {s.dropped}"
        if s.reconnects:
            dropped += f", reconnects: {s.reconnects}"
        self.status_dropped.setText(dropped)
        self.status_dropped.setStyleSheet("color: #b00;" if s.dropped else "")
        info = self.session.info
        self.status_battery.setText(f"battery: {s.battery:.0f}%" if s.battery and info is not None and info.opened
                                    and info.kind != "demo" else "battery: —")
        bad = [f"{i + 1}:{f.value}" for i, f in enumerate(s.quality) if f != Flag.OK]
        self.status_quality.setText(("quality: " + ", ".join(bad)) if bad else ("quality: ok" if s.quality else ""))
        self.scopes.set_flags(s.quality)
        if s.last_marker:
            name = self.scopes.marker_names.get(s.last_marker, f"{s.last_marker:g}")
            self.status_marker.setText("last marker: " + name)
        self.rms.set_values(s.rms)  # (a lost connection is said in the banner by the session controller)

    # ------------------------------------------------------------------ persistence
    def _qsettings(self) -> QSettings:
        return QSettings(str(paths.config_dir() / "window.ini"), QSettings.Format.IniFormat)

    def _restore_geometry(self) -> None:
        geo = self._qsettings().value("geometry")
        if geo is not None:
            self.restoreGeometry(geo)

    def showEvent(self, event) -> None:  # noqa: N802 - Qt name
        if self._default_state is None:
            self._balance_right_column()
            # the first show: every feature has added its docks by now, so the layout seen here is the default
            # (View > Reset layout), and the saved one can be restored for all of them (restoreState ignores
            # docks that do not exist yet)
            self._default_state = self.saveState()
            state = self._qsettings().value("state")
            if state is not None:
                self.restoreState(state)
            self.fit_to_screen()
        super().showEvent(event)

    def _balance_right_column(self) -> None:
        """The RMS bars need less height than a panel a feature adds below them (the Live hand's figures)."""
        levels = self.panels["levels"]
        below = [d for k, d in self.panels.items() if k not in ("levels", "imu") and not d.isHidden()
                 and self.dockWidgetArea(d) == Qt.DockWidgetArea.RightDockWidgetArea]
        if below:
            self.resizeDocks([levels, *below], [2] + [3] * len(below), Qt.Orientation.Vertical)

    def reset_layout(self, available: QRect | None = None) -> None:
        """View > Reset layout: every dock back to its first-start place and visibility, the window fitted to the
        screen (or to ``available``, see :meth:`fit_to_screen`)."""
        if self._default_state is not None:
            for dock in self.panels.values():
                dock.setFloating(False)
            self.restoreState(self._default_state)
        self.resize(*DEFAULT_SIZE)
        self.fit_to_screen(available)

    def fit_to_screen(self, available: QRect | None = None) -> QRect:
        """Shrink and move the window so that it lies inside ``available`` (default: its screen's available area).

        Returns
        -------
        QRect
            The area used.  The window frame is counted where the window system
            reports it (else 40 px for a title bar is assumed).
        """
        if available is None:
            screen = self.screen() or QGuiApplication.primaryScreen()
            if screen is None:
                return QRect()
            available = screen.availableGeometry()
        frame = self.frameGeometry()
        extra_w = frame.width() - self.width() if self.isVisible() and frame.width() > self.width() else 0
        extra_h = frame.height() - self.height() if self.isVisible() and frame.height() > self.height() else 40
        w = min(self.width(), available.width() - extra_w)
        h = min(self.height(), available.height() - extra_h)
        if (w, h) != (self.width(), self.height()):
            # the side docks give up width in proportion, so that the scopes keep their share of a smaller window
            beside = (Qt.DockWidgetArea.LeftDockWidgetArea, Qt.DockWidgetArea.RightDockWidgetArea)
            side = [d for d in self.panels.values()
                    if not d.isHidden() and not d.isFloating() and self.dockWidgetArea(d) in beside]
            widths = [max(1, round(d.width() * w / self.width())) for d in side]
            self.resize(w, h)
            if side:
                self.resizeDocks(side, widths, Qt.Orientation.Horizontal)
        x = min(max(self.x(), available.left()), available.left() + max(0, available.width() - w - extra_w))
        y = min(max(self.y(), available.top()), available.top() + max(0, available.height() - h - extra_h))
        if (x, y) != (self.x(), self.y()):
            self.move(x, y)
        return available

    def closeEvent(self, event) -> None:  # noqa: N802 - Qt name
        self.shutdown()
        super().closeEvent(event)

    def add_shutdown_hook(self, fn) -> None:
        """Call ``fn()`` first when the window shuts down (features stop their workers there)."""
        self._shutdown_hooks.append(fn)

    def shutdown(self) -> None:
        """Stop every worker and save settings and geometry (idempotent)."""
        for fn in self._shutdown_hooks:
            try:
                fn()
            except Exception:  # one feature failing to stop must not keep the others running
                log.exception("shutdown hook %r failed", fn)
        self.draw_timer.stop()
        self.status_timer.stop()
        if not self.session.shutdown():
            log.warning("an EMG acquisition thread was still running at shutdown")
        if not self.camera_panel.stop():
            log.warning("the camera worker was still running at shutdown")
        if isinstance(self.hand_view, HandView):
            self.hand_view.close_canvas()  # frees the 3D view's OpenGL context and buffers
        try:
            self.settings.save()
            qs = self._qsettings()
            qs.setValue("geometry", self.saveGeometry())
            qs.setValue("state", self.saveState())
            qs.sync()
        except OSError as exc:
            log.warning("could not save settings: %s", exc)
