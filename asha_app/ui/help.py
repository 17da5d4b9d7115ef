"""Help feature of the main window: the user's guide, About (versions and licences), and Quit.

``install(window)`` (called by :func:`asha_app.app.install_features`, after the
other features) adds:

* a **Help** menu with **User's guide** (F1) -- :class:`GuideWindow`, an
  in-app browser over ``README.md`` and ``docs/*.md`` (Markdown rendered by
  Qt, links between the pages and the screenshots work, web links open in the
  system browser) -- and **About Asha** -- :class:`AboutDialog`: the versions of
  Asha, Python, Qt/PySide6, torch, mediapipe and mindrove, and each bundled
  data set and model with its licence (the licence texts included);
* **Quit** (Ctrl+Q) at the end of the *Session* menu (the app's first menu, where a
  File menu's Quit would be): closes the main window, which stops every worker and saves the settings.

Where the guide comes from: a clone or an editable install reads the
repository's ``README.md`` and ``docs/`` beside ``resources/``; the PyInstaller
bundle (``packaging/asha.spec``) ships both beside its ``resources/``, so
:func:`guide_root` is ``resources_dir().parent`` in both cases.

References kept on the window: ``window.help_actions`` (dict of QActions),
``window.guide_window`` and ``window.about_dialog`` (the last one opened).
"""

from __future__ import annotations

import html
import importlib.metadata
import logging
import platform
import sys
from dataclasses import dataclass
from pathlib import Path

from PySide6 import QtCore
from PySide6.QtCore import QEvent, QUrl
from PySide6.QtGui import QAction, QKeySequence, QTextCursor, QTextDocument
from PySide6.QtWidgets import QDialog, QDialogButtonBox, QHBoxLayout, QLabel, QPushButton, QTextBrowser, QVBoxLayout

from asha_app import __version__
from asha_app.core.paths import resources_dir

log = logging.getLogger(__name__)

#: Packages whose versions About shows: (shown name, distribution name, module name).
VERSION_PACKAGES = [("Qt for Python (PySide6)", "PySide6-Essentials", "PySide6"), ("torch", "torch", "torch"),
                    ("mediapipe", "mediapipe", "mediapipe"), ("mindrove (MindRove SDK)", "mindrove", "mindrove"),
                    ("vispy", "vispy", "vispy"), ("h5py", "h5py", "h5py"), ("numpy", "numpy", "numpy")]


@dataclass(frozen=True)
class BundledItem:
    """A data set or model that ships with Asha.

    Attributes
    ----------
    what : str
        What it is and where it lives (``resources/...``).
    origin : str
        Where it comes from (project, author, year).
    licence : str
        The licence's name.
    licence_file : str or None
        Path of its licence text relative to ``resources/`` (None: no file, e.g. drawn for this project).
    """

    what: str
    origin: str
    licence: str
    licence_file: str | None


#: Everything in ``resources/`` that Asha did not make itself, with its licence (README "Data and licences").
BUNDLED = [
    BundledItem("Demo sEMG recording (resources/demo/myo_gestures_500hz.*): 140 s of real 8-channel Myo sEMG, "
                "resampled to 500 Hz", "myo-readings-dataset, github.com/aljazfrancic/myo-readings-dataset, "
                "© 2021 Aljaž", "MIT", "demo/LICENSE.myo-readings-dataset"),
    BundledItem("Demo hand video (resources/demo/hand_landmarker_test_video.mp4)",
                "google-ai-edge/mediapipe-samples, © 2022 The TensorFlow Authors; footage from Pixabay "
                "(source links in resources/demo/hand_landmarker_image_link.txt)",
                "Apache 2.0 (samples); Pixabay Content License (footage)", "demo/LICENSE.upstream"),
    BundledItem("Hand meshes of the 3D view (resources/hand_model/left.glb, right.glb)",
                "WebXR generic hand (webxr-input-profiles), © 2019 Amazon", "MIT", "hand_model/LICENSE.upstream.md"),
    BundledItem("Live demo: EnvelopeTCN model, EMG and reference finger angles (resources/live_demo/)",
                "derived from the JHU-BCIS NTX 2023 paired Myo + MediaPipe session, © 2023 JHU-BCIS", "MIT",
                "live_demo/LICENSE.upstream"),
    BundledItem("Demo gesture model (resources/gestures/demo_gestures.pt): trained on two real Myo sEMG sessions",
                "myo-readings-dataset, github.com/aljazfrancic/myo-readings-dataset, © 2021 Aljaž", "MIT",
                "gestures/LICENSE.myo-readings-dataset"),
    BundledItem("MediaPipe Hands landmark models (inside the mediapipe package)", "Google, mediapipe 0.10",
                "Apache 2.0", None),
    BundledItem("Asha's icon (resources/icons/asha.svg)", "drawn for this project", "Asha's own", None),
]
#: Said in About under the table.
MANO_NOTE = ("MANO is never shipped: a user who holds a MANO licence points Asha at their own MANO_RIGHT.pkl "
             "(Settings…).")


def guide_root() -> Path:
    """Folder holding ``README.md`` and ``docs/`` (the repository root, or the frozen bundle's folder)."""
    return resources_dir().parent


def guide_pages() -> list[Path]:
    """The user's guide: ``README.md`` first, then ``docs/*.md`` (those that exist)."""
    root = guide_root()
    pages = [root / "README.md"] + sorted((root / "docs").glob("*.md"))
    return [p for p in pages if p.is_file()]


def package_version(dist: str, module: str) -> str:
    """Installed version of a package, without importing it (``"not installed"`` when absent)."""
    mod = sys.modules.get(module)
    if mod is not None and getattr(mod, "__version__", None):
        return str(mod.__version__)
    try:
        return importlib.metadata.version(dist)
    except importlib.metadata.PackageNotFoundError:
        return "not installed"


def versions() -> list[tuple[str, str]]:
    """``(name, version)`` of Asha, Python, Qt and the main libraries, for About and bug reports."""
    out = [("Asha", __version__), ("Python", f"{platform.python_version()} ({platform.platform(terse=True)})"),
           ("Qt", QtCore.qVersion())]
    out += [(name, package_version(dist, mod)) for name, dist, mod in VERSION_PACKAGES]
    return out


def about_html() -> str:
    """The About text: versions, then each bundled data set and model with its licence, then the licence texts."""
    esc = html.escape
    rows = "".join(f"<tr><td>{esc(k)}</td><td>{esc(v)}</td></tr>" for k, v in versions())
    lic_rows, texts = [], []
    for i, item in enumerate(BUNDLED):
        link = ""
        if item.licence_file:
            path = resources_dir() / item.licence_file
            link = f' (<a href="#licence-{i}">text</a>)'
            try:
                body = path.read_text(encoding="utf-8")
            except OSError as exc:
                body = f"licence file missing: {path} ({exc}); reinstall Asha"
            texts.append(f'<h4><a name="licence-{i}"></a>{esc(item.licence_file)}</h4><pre>{esc(body)}</pre>')
        lic_rows.append(f"<tr><td>{esc(item.what)}</td><td>{esc(item.origin)}</td><td>{esc(item.licence)}{link}</td></tr>")
    return (f"<h2>Asha {esc(__version__)}</h2>"
            "<p>See a hand move from forearm sEMG: MindRove acquisition, camera labels, EMG-to-pose models and a "
            "live camera-free hand.</p>"
            f"<h3>Versions</h3><table cellpadding='3'>{rows}</table>"
            "<h3>Bundled data and models</h3>"
            "<table cellpadding='3' border='1' cellspacing='0'><tr><th>What</th><th>Origin</th><th>Licence</th></tr>"
            + "".join(lic_rows) + f"</table><p>{esc(MANO_NOTE)}</p><h3>Licence texts</h3>" + "".join(texts))


class GuideWindow(QDialog):
    """The user's guide: README.md and docs/*.md rendered in an in-app browser (Back, Forward, Contents)."""

    def __init__(self, parent=None) -> None:
        super().__init__(parent)
        self.setWindowTitle("Asha user's guide")
        self.browser = QTextBrowser()
        self.browser.setOpenExternalLinks(True)  # web links go to the system browser; local pages open here
        self.browser.setSearchPaths([str(guide_root()), str(guide_root() / "docs")])
        self.back_button = QPushButton("Back")
        self.forward_button = QPushButton("Forward")
        self.home_button = QPushButton("Contents")
        self.back_button.clicked.connect(self.browser.backward)
        self.forward_button.clicked.connect(self.browser.forward)
        self.home_button.clicked.connect(self.home)
        self.browser.backwardAvailable.connect(self.back_button.setEnabled)
        self.browser.forwardAvailable.connect(self.forward_button.setEnabled)
        self.back_button.setEnabled(False)
        self.forward_button.setEnabled(False)
        self.where = QLabel("")
        self.where.setWordWrap(True)
        row = QHBoxLayout()
        for b in (self.back_button, self.forward_button, self.home_button):
            row.addWidget(b)
        row.addStretch(1)
        lay = QVBoxLayout(self)
        lay.addLayout(row)
        lay.addWidget(self.browser, 1)
        lay.addWidget(self.where)
        self.browser.sourceChanged.connect(self._on_source)
        self.browser.viewport().installEventFilter(self)  # images follow the browser's width
        self.resize(900, 700)
        self.home()

    def eventFilter(self, obj, event) -> bool:  # noqa: N802 - Qt name
        if obj is self.browser.viewport() and event.type() == QEvent.Type.Resize:
            self.fit_images(event.size().width() - 40)
        return False

    def _on_source(self, url: QUrl) -> None:
        self.where.setText(url.toLocalFile())
        self.fit_images()

    def fit_images(self, width: int | None = None) -> None:
        """Scale the page's images (the screenshots are 1560 px wide) to the browser's width, keeping their shape."""
        doc = self.browser.document()
        width = max(200, width or self.browser.viewport().width() - 40)
        block = doc.begin()
        while block.isValid():
            it = block.begin()
            while not it.atEnd():
                frag = it.fragment()
                fmt = frag.charFormat()
                if fmt.isImageFormat():
                    img_fmt = fmt.toImageFormat()
                    img = doc.resource(QTextDocument.ResourceType.ImageResource, QUrl(img_fmt.name()))
                    size = getattr(img, "size", lambda: None)()
                    if size is not None and size.width() > 0:
                        w = min(width, size.width())
                        img_fmt.setWidth(w)
                        img_fmt.setHeight(w * size.height() / size.width())
                        cur = QTextCursor(doc)
                        cur.setPosition(frag.position())
                        cur.setPosition(frag.position() + frag.length(), QTextCursor.MoveMode.KeepAnchor)
                        cur.setCharFormat(img_fmt)
                it += 1
            block = block.next()

    def home(self) -> None:
        """Show README.md (or say where the guide was looked for)."""
        pages = guide_pages()
        if not pages:
            self.browser.setPlainText(f"The user's guide is not installed here: looked for README.md and docs/ in "
                                      f"{guide_root()}. Reinstall Asha, or read it at the project's repository.")
            return
        self.open_page(pages[0])

    def open_page(self, path: str | Path) -> None:
        """Show one guide page (Markdown)."""
        self.browser.setSource(QUrl.fromLocalFile(str(Path(path).resolve())))


class AboutDialog(QDialog):
    """Versions of Asha and its main libraries, and the licences of the bundled data and models."""

    def __init__(self, parent=None) -> None:
        super().__init__(parent)
        self.setWindowTitle("About Asha")
        self.text = QTextBrowser()
        self.text.setOpenExternalLinks(True)
        self.text.setHtml(about_html())
        box = QDialogButtonBox(QDialogButtonBox.StandardButton.Close)
        box.rejected.connect(self.reject)
        lay = QVBoxLayout(self)
        lay.addWidget(self.text, 1)
        lay.addWidget(box)
        self.resize(760, 640)


def open_guide(window) -> GuideWindow:
    """Show the user's guide (one window, raised if open)."""
    gw = getattr(window, "guide_window", None)
    if gw is None:
        gw = GuideWindow(window)
        window.guide_window = gw
    gw.show()
    gw.raise_()
    return gw


def open_about(window) -> AboutDialog:
    """Show About (non-modal)."""
    dlg = AboutDialog(window)
    window.about_dialog = dlg
    dlg.show()
    return dlg


def install(window) -> None:
    """Add the Help menu and Session → Quit to ``window``."""
    window.guide_window = None
    window.about_dialog = None
    menu = window.menus.get("help") or window.menuBar().addMenu("&Help")
    window.menus["help"] = menu
    actions = {}

    def add(target, key, text, fn, shortcut=None):
        a = QAction(text, window)
        if shortcut:
            a.setShortcut(QKeySequence(shortcut))
        a.triggered.connect(fn)
        target.addAction(a)
        actions[key] = a
        return a

    add(menu, "guide", "User's guide", lambda: open_guide(window), "F1")
    add(menu, "about", "About Asha", lambda: open_about(window))
    session = window.menus.get("session")
    if session is not None:
        session.addSeparator()
    quit_action = add(session or menu, "quit", "Quit", window.close, "Ctrl+Q")
    quit_action.setMenuRole(QAction.MenuRole.QuitRole)
    window.help_actions = actions
