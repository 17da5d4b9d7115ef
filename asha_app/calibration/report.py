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

from asha_app.core.atomic import atomic_write
from asha_app.models.fingers import FINGERS, finger_traces, units_of

log = logging.getLogger(__name__)


def render_report_card(path: str | Path, *args, separate_process: bool = False,
                       timeout_s: float = 120.0) -> Path | None:
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


#: size of the card in inches at :data:`CARD_DPI`: 960 x 600 px, fits a 1366 x 768 screen unscaled
CARD_SIZE_IN = (9.6, 6.0)
CARD_DPI = 100


def _per_group(metrics: dict, key: str, groups: list[str], names: list[str]) -> list[float]:
    """Per-finger values of ``metrics[key + "_per_finger"]``, else per target (older profiles)."""
    src = metrics.get(f"{key}_per_finger") or {}
    per_target = metrics.get(f"{key}_per_target") or {}
    out = []
    for g in groups:
        v = src.get(g, per_target.get(g))
        out.append(float("nan") if v is None else float(v))
    return out


def write_report_card(path: str | Path, participant: str, names: list[str], before: dict, after: dict,
                      t: np.ndarray, y: np.ndarray, p_before: np.ndarray, p_after: np.ndarray) -> Path:
    """Report card PNG (matplotlib Agg), per finger: error before/after, and one held-out trace per finger.

    The card is 960 x 600 px whatever the target kind (5 finger flexions,
    22 joint angles or 63 joint coordinates are all shown as five fingers,
    :mod:`asha_app.models.fingers`); targets without a finger (glove
    channels) show their first five.  Written atomically.

    Parameters
    ----------
    path : path
        The PNG to write.
    participant : str
    names : list of str
        Target names (T).
    before, after : dict
        :func:`asha_app.models.metrics.evaluate` of the base and the calibrated
        model on the held-out block.
    t : array (N,)
        Label times (s) of the held-out windows.
    y, p_before, p_after : arrays (N, T)
        Camera labels and the two models' predictions, target units.
    """
    import matplotlib  # noqa: PLC0415 - matplotlib on first use

    matplotlib.use("Agg", force=False)
    from matplotlib.figure import Figure  # noqa: PLC0415 - matplotlib on first use

    path = Path(path)
    path.parent.mkdir(parents=True, exist_ok=True)
    names = list(names)
    kind = before.get("target_kind", "targets")
    units = before.get("units") or units_of(names, kind)
    ty, quantity, tunit = finger_traces(y, names, kind)
    tb, _, _ = finger_traces(p_before, names, kind)
    ta, _, _ = finger_traces(p_after, names, kind)
    groups = list(ty)  # the fingers (or the first five targets)
    mb = _per_group(before, "mae", groups, names)
    ma = _per_group(after, "mae", groups, names)
    rb = _per_group(before, "r2", groups, names)
    ra = _per_group(after, "r2", groups, names)

    fig = Figure(figsize=CARD_SIZE_IN, dpi=CARD_DPI)
    gs = fig.add_gridspec(3, 2, hspace=0.75, wspace=0.28, left=0.08, right=0.98, top=0.9, bottom=0.08)
    fig.suptitle(f"Calibration of {participant}: held-out block (last 25 % of the recording)", fontsize=11,
                 x=0.02, ha="left")
    ax = fig.add_subplot(gs[0, 0])
    x = np.arange(len(groups))
    ax.bar(x - 0.2, np.nan_to_num(mb), 0.4, label=f"base (mean {before['mae_mean']:.1f} {units})", color="#999")
    ax.bar(x + 0.2, np.nan_to_num(ma), 0.4, label=f"calibrated (mean {after['mae_mean']:.1f} {units})",
           color="#2b6cb0")
    ax.set_xticks(x, groups, fontsize=8, rotation=0 if set(groups) <= set(FINGERS) else 30)
    ax.set_ylabel(f"mean abs. error ({units})", fontsize=8)
    ax.tick_params(axis="y", labelsize=8)
    ax.set_title("Error per finger", fontsize=9)
    top = np.nanmax([*mb, *ma, 0.0])
    ax.set_ylim(0, 1.45 * top if top > 0 else 1.0)  # room for the legend above the bars
    ax.legend(fontsize=7, loc="upper center", ncol=2, frameon=False)

    def r2(v: float) -> str:
        return f"{v:.2f}" if np.isfinite(v) else "n/a"

    for i, g in enumerate(groups[:5]):
        a = fig.add_subplot(gs[(i + 1) // 2, (i + 1) % 2])
        a.plot(t, ty[g], color="k", lw=1.0, label="camera")
        a.plot(t, tb[g], color="#999", lw=0.8, label="base")
        a.plot(t, ta[g], color="#2b6cb0", lw=1.0, label="calibrated")
        a.set_title(f"{g}: error {mb[i]:.1f} → {ma[i]:.1f} {units}, R² {r2(rb[i])} → {r2(ra[i])}", fontsize=8.5)
        a.set_ylabel(f"{quantity}\n({tunit})" if len(quantity) < 12 else f"({tunit})", fontsize=7.5)
        a.tick_params(labelsize=7)
        if i == 0:
            fig.legend(*a.get_legend_handles_labels(), fontsize=8, ncol=3, loc="upper right", frameon=False)
        if i >= 3:
            a.set_xlabel("session time, s", fontsize=7.5)
    if quantity and len(quantity) >= 12:
        fig.text(0.5, 0.005, f"traces: {quantity} ({tunit}) per finger", ha="center", fontsize=7.5, color="0.3")
    with atomic_write(path) as tmp:
        fig.savefig(tmp, format="png")
    return path
