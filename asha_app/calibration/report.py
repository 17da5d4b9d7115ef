"""Calibration report card (matplotlib, Agg).

Drawing the card in the calibration worker thread can hold the GIL for a
few hundred ms at a time on a loaded machine (measured on the 2-core dev box
at load 10: up to 0.9 s without a thread switch, first figure of a process
worst); :func:`render_report_card` can draw it in a spawned child process
instead (``separate_process=True``; needs an importable ``__main__``).
"""

from __future__ import annotations

import logging
import multiprocessing as mp
from pathlib import Path

import numpy as np

log = logging.getLogger(__name__)


def render_report_card(path: str | Path, *args, separate_process: bool = False, timeout_s: float = 120.0) -> Path | None:
    """:func:`write_report_card` in a spawned process (or here); returns the PNG path, None if it failed."""
    path = Path(path)
    if not separate_process:
        return write_report_card(path, *args)
    ctx = mp.get_context("spawn")
    proc = ctx.Process(target=write_report_card, args=(path, *args), daemon=True)
    proc.start()
    proc.join(timeout_s)
    if proc.is_alive():
        proc.terminate()
        proc.join(5)
    if proc.exitcode != 0 or not path.is_file():
        log.warning("the report card could not be drawn (exit code %s)", proc.exitcode)
        return None
    return path


def write_report_card(path: str | Path, participant: str, names: list[str], before: dict, after: dict,
                      t: np.ndarray, y: np.ndarray, p_before: np.ndarray, p_after: np.ndarray) -> Path:
    """Report card PNG (matplotlib Agg): per-target error before/after, and held-out traces. Written atomically."""
    import matplotlib

    matplotlib.use("Agg", force=False)
    from matplotlib.figure import Figure

    path = Path(path)
    path.parent.mkdir(parents=True, exist_ok=True)
    n = len(names)
    fig = Figure(figsize=(10, 2.2 + 1.3 * n), dpi=90)
    gs = fig.add_gridspec(n + 1, 1, height_ratios=[2.2] + [1.3] * n)
    ax = fig.add_subplot(gs[0])
    x = np.arange(n)
    mb = [before["mae_per_target"][k] for k in names]
    ma = [after["mae_per_target"][k] for k in names]
    ax.bar(x - 0.2, mb, 0.4, label=f"base (mean {before['mae_mean']:.1f})", color="#999")
    ax.bar(x + 0.2, ma, 0.4, label=f"calibrated (mean {after['mae_mean']:.1f})", color="#2b6cb0")
    ax.set_xticks(x, names)
    ax.set_ylabel("held-out MAE")
    ax.set_title(f"Calibration of {participant}: error on the held-out block")
    ax.legend(fontsize=8)
    for i, k in enumerate(names):
        a = fig.add_subplot(gs[i + 1])
        a.plot(t, y[:, i], color="k", lw=1, label="camera")
        a.plot(t, p_before[:, i], color="#999", lw=0.8, label="base")
        a.plot(t, p_after[:, i], color="#2b6cb0", lw=1, label="calibrated")
        a.set_ylabel(k, fontsize=8)
        if i == 0:
            a.legend(fontsize=7, ncol=3, loc="upper right")
    fig.axes[-1].set_xlabel("session time, s")
    fig.tight_layout()
    from asha_app.core.atomic import atomic_write

    with atomic_write(path) as tmp:
        fig.savefig(tmp, format="png")
    return path
