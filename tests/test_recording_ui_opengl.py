"""With a real 3D view (OpenGL, under xvfb-run): the wizard draws the prompt's target pose, the library draws the
replayed label frame, both from the hand model's joint angles."""

from __future__ import annotations

import os

import numpy as np
import pytest

pytestmark = pytest.mark.opengl

if not os.environ.get("DISPLAY"):
    pytest.skip("needs an X display with OpenGL (run under xvfb-run -a)", allow_module_level=True)


def test_target_pose_and_replay_pose_in_the_hand_view(qtbot, tmp_path):
    from asha_app.core.clock import SessionClock
    from asha_app.core.settings import AppSettings
    from asha_app.data.writer import SessionWriter
    from asha_app.pose.hand_model import HandModel
    from asha_app.protocols.model import load_protocol
    from asha_app.ui.hand_view import HandView
    from asha_app.ui.main_window import MainWindow
    from asha_app.ui.recording import install, open_wizard
    from asha_app.ui.session_library import sessions_dir
    from tests.recording_helpers import short_protocol

    win = MainWindow(AppSettings(), SessionClock())
    qtbot.addWidget(win)
    install(win)
    try:
        if not isinstance(win.hand_view, HandView):
            pytest.skip(f"no OpenGL 3D view here: {win.hand_view.text()}")
        model = HandModel.builtin("right")
        wiz = open_wizard(win)
        view = wiz.session_page.view  # the prompt view shared with the calibration wizard
        view.attach(None, list(model.dof_names), model.rest_deg, "right")
        proto = load_protocol(short_protocol(tmp_path / "p.toml"))
        step = proto.expand()[0]
        view.show_target(step)
        hv = win.hand_view
        assert "target" in hv.slots and hv._hands["target"].drawn
        # the target's fist: index MCP flexed 85 deg -> the index tip is much nearer the palm than in the rest pose
        fist = hv._hands["target"].joints
        torch = __import__("torch")
        open_joints = model.forward(torch.zeros(1, len(model.dof_names), dtype=torch.float64))[0].numpy()
        assert np.linalg.norm(fist[8] - fist[0]) < 0.8 * np.linalg.norm(open_joints[8] - open_joints[0])
        view.show_target(None)
        assert not hv._hands["target"].drawn

        # replay: a session whose labels are joint angles of the hand model
        path = sessions_dir() / "P02_gl.h5"
        n = 1500
        w = SessionWriter(path, 8, 500.0, model.dof_names, participant={"pseudonym": "P02", "hand": "right"})
        w.append_emg(np.arange(n) / 500.0, np.random.default_rng(0).normal(size=(n, 8)) * 20)
        lt = np.arange(0, 3.0, 1 / 30)
        ang = np.tile(model.rest_deg, (len(lt), 1)).astype(np.float32)
        w.append_label_arrays(lt, ang, None, np.ones(len(lt), bool))
        w.finalize()
        lib = win.session_library
        lib.refresh()
        assert lib.start_replay(path)
        qtbot.waitUntil(lambda: "label frame" in lib.label_status.text(), timeout=5000)
        assert "replay" in hv.slots and hv._hands["replay"].drawn
        lib.stop_replay()
        wiz.shutdown()
    finally:
        win.shutdown()
