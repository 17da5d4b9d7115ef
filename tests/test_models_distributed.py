"""Data-parallel training under torchrun (2 CPU processes, gloo) matches one process.

Same seed, same effective batch (64 = 2 x 32), EnvelopeTCN with per-sample
LayerNorm and no dropout (BatchNorm statistics and dropout masks are per
process by design, see asha_app.models.distributed).  Tolerance: weights
within 1e-4 absolute after 2 epochs (gradient all-reduce changes the float32
summation order only).
"""

import json
import os
import shutil
import subprocess
import sys
from pathlib import Path

import pytest

from asha_app.models import checkpoint as C
from asha_app.models.distributed import main

ROOT = Path(__file__).resolve().parents[1]
SLICE = Path(__file__).parent / "assets" / "paired_slice"
ARGS = [str(SLICE), "--config", json.dumps({"norm": "layer", "dropout": 0.0, "hidden": 16}), "--epochs", "2",
        "--blocks", "5", "--stride-ms", "60", "--batch-size", "64", "--seed", "3"]


def _run(cmd, tmp_path):
    env = dict(os.environ, PYTHONPATH=str(ROOT), OMP_NUM_THREADS="1")
    env.pop("WORLD_SIZE", None)
    r = subprocess.run(cmd, cwd=ROOT, env=env, capture_output=True, text=True, timeout=120)
    assert r.returncode == 0, r.stderr[-2000:]
    return json.loads(r.stdout.strip().splitlines()[-1])


@pytest.mark.timeout(180)
def _free_port() -> int:
    """A TCP port nobody listens on now (a fixed one collides with another run on the same machine)."""
    import socket

    with socket.socket() as sock:
        sock.bind(("127.0.0.1", 0))
        return sock.getsockname()[1]


def test_two_process_torchrun_matches_single_process(tmp_path, capsys):
    torchrun = shutil.which("torchrun", path=str(Path(sys.executable).parent))
    if torchrun is None:
        pytest.skip("torchrun not installed next to this Python")
    # the single-process reference runs in this process (no WORLD_SIZE: no process group)
    assert "WORLD_SIZE" not in os.environ
    assert main([*ARGS, "--out", str(tmp_path / "one.pt")]) == 0
    one = json.loads(capsys.readouterr().out.strip().splitlines()[-1])
    two = _run([torchrun, "--nproc_per_node=2", f"--master_port={_free_port()}", "-m", "asha_app.models.distributed", *ARGS,
                "--out", str(tmp_path / "two.pt")], tmp_path)
    assert one["world_size"] == 1 and two["world_size"] == 2
    for h1, h2 in zip(one["history"], two["history"]):
        assert h1["train_loss"] == pytest.approx(h2["train_loss"], rel=1e-4)
        assert h1["val_loss"] == pytest.approx(h2["val_loss"], rel=1e-4)
    a = C.load(tmp_path / "one.pt").state_dict
    b = C.load(tmp_path / "two.pt").state_dict
    assert a.keys() == b.keys()
    worst = max(float((a[k].float() - b[k].float()).abs().max()) for k in a)
    assert worst < 1e-4, worst
    # and training did move the weights (the comparison is not trivially equal)
    assert one["history"][1]["train_loss"] < one["history"][0]["train_loss"]
