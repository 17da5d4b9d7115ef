"""Evaluation report next to a checkpoint: PNG plots, JSON metrics and an HTML page.

Files written for checkpoint ``model.pt``: ``model.report.json`` (metrics),
``model.report_bars.png`` (per-target R^2 and error bars, per-finger MPJPE when
available), ``model.report_traces.png`` (predicted vs true traces for a
stretch of the test set) and ``model.report.html`` (a page showing both,
which the app can display).  Plots use matplotlib's Agg backend (no display).
"""

from __future__ import annotations

import html
import json
from pathlib import Path

import numpy as np

from asha_app.core.atomic import atomic_write, atomic_write_text


def _fig():
    import matplotlib

    matplotlib.use("Agg", force=False)
    import matplotlib.pyplot as plt

    return plt


def write_report(ckpt_path: str | Path, metrics: dict, t: np.ndarray, y_true: np.ndarray, y_pred: np.ndarray,
                 target_names: list[str], title: str = "", units: str = "deg", stretch_s: float = 60.0) -> dict:
    """Write the report files next to ``ckpt_path``.

    Parameters
    ----------
    ckpt_path : path
        The checkpoint the report belongs to (files share its stem).
    metrics : dict
        From :func:`asha_app.models.metrics.evaluate`.
    t : array (N,)
        Label times (s) of the evaluated windows.
    y_true, y_pred : arrays (N, T)
        In target units.
    target_names : list of str
    title : str
    units : str
        Target units for axis labels.
    stretch_s : float
        Length of the trace stretch shown (the first contiguous test stretch).

    Returns
    -------
    dict
        Paths of the written files (``json``, ``bars``, ``traces``, ``html``).
    """
    plt = _fig()
    p = Path(ckpt_path)
    stem = p.with_suffix("")
    out = {"json": Path(f"{stem}.report.json"), "bars": Path(f"{stem}.report_bars.png"),
           "traces": Path(f"{stem}.report_traces.png"), "html": Path(f"{stem}.report.html")}
    atomic_write_text(out["json"], json.dumps(metrics, indent=2, default=float))

    names = list(target_names)
    show = names if len(names) <= 12 else names[:12]
    r2 = [metrics.get("r2_per_target", {}).get(n, np.nan) for n in show]
    mae = [metrics.get("mae_per_target", {}).get(n, np.nan) for n in show]
    finger = metrics.get("hand_model_per_finger_mpjpe_wrist_rel_mm") or metrics.get("per_finger_mpjpe_wrist_rel_mm")
    ncols = 3 if finger else 2
    fig, axes = plt.subplots(1, ncols, figsize=(4.5 * ncols, 3.6))
    axes[0].bar(show, r2, color="tab:blue")
    axes[0].set_ylabel("R$^2$ (test)")
    axes[0].set_ylim(min(0.0, np.nanmin(r2) if len(r2) else 0), 1)
    axes[1].bar(show, mae, color="tab:orange")
    axes[1].set_ylabel(f"mean abs error ({units})")
    if finger:
        axes[2].bar(list(finger), list(finger.values()), color="tab:green")
        axes[2].set_ylabel("MPJPE wrist-relative (mm)")
    for a in axes:
        a.tick_params(axis="x", rotation=45)
    fig.suptitle(title or "test-set metrics")
    fig.tight_layout()
    with atomic_write(out["bars"]) as tmp:
        fig.savefig(tmp, dpi=90, format="png")
    plt.close(fig)

    t = np.asarray(t)
    if len(t):
        breaks = np.flatnonzero(np.diff(t) > 1.0)
        end = breaks[0] + 1 if len(breaks) else len(t)
        sel = np.flatnonzero(t[:end] <= t[0] + stretch_s)
    else:
        sel = np.zeros(0, int)
    k = min(len(names), 5)
    fig, axes = plt.subplots(k, 1, figsize=(10, 1.6 * k + 0.6), sharex=True, squeeze=False)
    for i in range(k):
        a = axes[i, 0]
        a.plot(t[sel], y_true[sel, i], color="k", lw=1.0, label="true")
        a.plot(t[sel], y_pred[sel, i], color="tab:red", lw=1.0, label="predicted")
        a.set_ylabel(f"{names[i]}\n({units})", fontsize=8)
    axes[0, 0].legend(loc="upper right", fontsize=8)
    axes[-1, 0].set_xlabel("session time (s)")
    fig.suptitle("predicted vs true, first test stretch")
    fig.tight_layout()
    with atomic_write(out["traces"]) as tmp:
        fig.savefig(tmp, dpi=90, format="png")
    plt.close(fig)

    head = {k: v for k, v in metrics.items() if isinstance(v, (int, float, str))}
    rows = "".join(f"<tr><td>{html.escape(str(k))}</td><td>{html.escape(f'{v:.4g}' if isinstance(v, float) else str(v))}</td></tr>"
                   for k, v in head.items())
    atomic_write_text(
        out["html"],
        f"<!doctype html><html><head><meta charset='utf-8'><title>{html.escape(title or p.name)}</title></head><body>"
        f"<h1>{html.escape(title or p.name)}</h1><table border=1 cellpadding=3>{rows}</table>"
        f"<p><img src='{out['bars'].name}'></p><p><img src='{out['traces'].name}'></p>"
        f"<p>Full metrics: <a href='{out['json'].name}'>{out['json'].name}</a></p></body></html>")
    return {k: str(v) for k, v in out.items()}
