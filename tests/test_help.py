"""Help menu as a user meets it: the user's guide opens in the app and its links lead to the other pages; About names
the versions and the licence of every bundled data set and model; Session → Quit closes the window and saves."""

from __future__ import annotations

import re
from pathlib import Path

import pytest
from PySide6.QtCore import Qt, QUrl
from PySide6.QtGui import QTextCursor, QTextDocument

from asha_app.core.clock import SessionClock
from asha_app.core.paths import resources_dir
from asha_app.core.settings import AppSettings

REPO = Path(__file__).resolve().parents[1]


@pytest.fixture
def window(qtbot):
    from asha_app.app import install_features
    from asha_app.ui.main_window import MainWindow

    win = MainWindow(AppSettings(), SessionClock())
    qtbot.addWidget(win)
    install_features(win)
    yield win
    win.shutdown()


def _menu(window, title):
    return next(a.menu() for a in window.menuBar().actions() if a.text().replace("&", "") == title)


def _click_link(qtbot, browser, href):
    """Click the first anchor whose target is ``href``, as a mouse would."""
    block = browser.document().begin()
    while block.isValid():
        it = block.begin()
        while not it.atEnd():
            frag = it.fragment()
            if frag.charFormat().anchorHref() == href:
                cur = QTextCursor(browser.document())
                cur.setPosition(frag.position() + 1)
                browser.setTextCursor(cur)
                browser.ensureCursorVisible()
                qtbot.mouseClick(browser.viewport(), Qt.MouseButton.LeftButton, pos=browser.cursorRect(cur).center())
                return
            it += 1
        block = block.next()
    raise AssertionError(f"no link to {href} on the page")


@pytest.mark.gui
def test_users_guide_opens_and_its_links_lead_to_the_docs(qtbot, window):
    helpm = _menu(window, "Help")
    texts = [a.text() for a in helpm.actions() if not a.isSeparator()]
    assert texts == ["User's guide", "About Asha"]
    window.help_actions["guide"].trigger()
    gw = window.guide_window
    assert gw.isVisible()
    page = gw.browser.toPlainText()
    assert "User's guide" in page and "Recording sessions" in page  # README rendered (Markdown, not source)
    assert "](docs/" not in page and "### " not in page
    _click_link(qtbot, gw.browser, "docs/recording.md")
    qtbot.waitUntil(lambda: gw.browser.source().toLocalFile().endswith("docs/recording.md"), timeout=3000)
    assert gw.browser.toPlainText().startswith("Recording sessions") and "Session library" in gw.browser.toPlainText()
    assert gw.back_button.isEnabled()
    qtbot.mouseClick(gw.back_button, Qt.MouseButton.LeftButton)
    assert gw.browser.source().toLocalFile().endswith("README.md")
    # the screenshots on the page load (an image that cannot be found is drawn as an empty box by Qt)
    doc = gw.browser.document()
    for name in ("docs/screenshot-demo.png", "docs/screenshot-live.png"):
        img = doc.resource(QTextDocument.ResourceType.ImageResource, gw.browser.source().resolved(QUrl(name)))
        assert img is not None and not img.isNull() and img.width() > 100, name
    assert doc.resource(QTextDocument.ResourceType.ImageResource, QUrl("docs/no-such.png")) is None


def test_every_local_link_of_the_guide_leads_to_a_file_that_ships():
    """README.md and docs/*.md are the in-app guide: every relative link must resolve inside the repository."""
    from asha_app.ui.help import guide_pages, guide_root

    pages = guide_pages()
    assert pages[0].name == "README.md" and len(pages) >= 6
    assert guide_root() == REPO
    broken = []
    for page in pages:
        for target in re.findall(r"\]\(([^)#\s]+)(?:#[^)]*)?\)", page.read_text(encoding="utf-8")):
            if "://" in target or target.startswith("mailto:"):
                continue
            if not (page.parent / target).exists():
                broken.append(f"{page.name}: {target}")
    assert not broken, broken
    spec = (REPO / "packaging" / "asha.spec").read_text()  # the frozen bundle carries the guide beside resources/
    assert '"docs"), "docs")' in spec and '"README.md"), ".")' in spec


@pytest.mark.gui
def test_about_names_versions_and_every_bundled_licence(qtbot, window):
    import importlib.metadata

    import asha_app
    from asha_app.ui.help import BUNDLED

    window.help_actions["about"].trigger()
    text = window.about_dialog.text.toPlainText()
    assert f"Asha {asha_app.__version__}" in text
    for dist in ("torch", "mediapipe", "mindrove"):
        assert importlib.metadata.version(dist) in text
    from PySide6 import QtCore

    assert QtCore.qVersion() in text and __import__("platform").python_version() in text
    # every licence file that ships in resources/ is named in About, and its text is there
    shipped = {str(p.relative_to(resources_dir())) for p in resources_dir().rglob("LICENSE*")}
    named = {b.licence_file for b in BUNDLED if b.licence_file}
    assert shipped == named
    for rel in named:
        first = (resources_dir() / rel).read_text().strip().splitlines()[0]
        assert first.strip() in text
    for licence in ("MIT", "Apache 2.0", "Pixabay"):
        assert licence in text
    assert "MANO is never shipped" in text


@pytest.mark.gui
def test_quit_closes_the_window_and_saves_the_settings(qtbot, window):
    session = _menu(window, "Session")
    quit_action = window.help_actions["quit"]
    assert session.actions()[-1] is quit_action and quit_action.shortcut().toString() == "Ctrl+Q"
    window.show()
    window.settings.scope.window_s = 7.0
    quit_action.trigger()
    assert not window.isVisible()
    loaded, _ = AppSettings.load()
    assert loaded.scope.window_s == 7.0
