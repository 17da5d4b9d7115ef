"""Evaluation report next to a checkpoint: PNG plots, JSON metrics and an HTML page.

Files written for checkpoint ``model.pt``: ``model.report.json`` (metrics),
``model.report_bars.png`` (per-finger error, R^2 and MPJPE when available;
per target when the targets have no finger), ``model.report_traces.png``
(predicted vs true, one trace per finger, for a stretch of the test set) and ``model.report.html`` (a page showing both,
which the app can display).  Plots use matplotlib's Agg backend (no display).
"""

from __future__ import annotations

import html
from pathlib import Path

import numpy as np

from asha_app.core.jsonout import dumps
from asha_app.models.fingers import finger_traces, has_fingers, units_of
from asha_app.core.atomic import atomic_write, atomic_write_text


def _fig():
    import matplotlib  # noqa: PLC0415 - matplotlib on first use

    matplotlib.use("Agg", force=False)
    import matplotlib.pyplot as plt  # noqa: PLC0415 - matplotlib on first use

    return plt


def finger_table(metrics: dict) -> tuple[list[str], list[list[float]], str]:
    """Per-finger figures of a metrics dict, as plotted and shown.

    Returns
    -------
    groups : list of str
        Groups in report order (thumb..little, then wrist / other when present).
    rows : list of [mae, r2, mpjpe]
        Per group: mean absolute error (target units), mean R^2 over its
        targets that vary (NaN: none), MPJPE wrist-relative in mm (NaN: none).
    units : str
        Units of the error.
    """
    mae = metrics.get("mae_per_finger") or {}
    r2 = metrics.get("r2_per_finger") or {}
    mp = metrics.get("hand_model_per_finger_mpjpe_wrist_rel_mm") or metrics.get("per_finger_mpjpe_wrist_rel_mm") or {}
    groups = list(mae) or list(mp)
    nan = float("nan")

    def num(v):
        return nan if v is None else float(v)

    rows = [[num(mae.get(g)), num(r2.get(g)), num(mp.get(g))] for g in groups]
    return groups, rows, metrics.get("units") or "target units"


def _bars(ax, labels, values, color, ylabel, title, r2=False):
    v = np.asarray(values, np.float64)
    x = np.arange(len(labels))
    ax.bar(x, np.nan_to_num(v), color=color, width=0.6)
    for i, val in enumerate(v):
        if not np.isfinite(val):
            ax.text(i, 0, "n/a", ha="center", va="bottom", fontsize=8, color="0.4")
    few = len(labels) <= 5
    ax.set_xticks(x, labels, rotation=0 if few else (30 if len(labels) <= 8 else 60), fontsize=9 if few else 8,
                  ha="center" if few else "right")
    ax.set_ylabel(ylabel, fontsize=9)
    ax.set_title(title, fontsize=10)
    ax.tick_params(axis="y", labelsize=8)
    if r2:
        finite = v[np.isfinite(v)]
        ax.set_ylim(min(0.0, float(finite.min()) - 0.05) if len(finite) else 0.0, 1.0)
        ax.axhline(0, color="0.5", lw=0.6)
    ax.grid(axis="y", alpha=0.3)


def write_report(ckpt_path: str | Path, metrics: dict, t: np.ndarray, y_true: np.ndarray, y_pred: np.ndarray,
                 target_names: list[str], title: str = "", units: str | None = None, stretch_s: float = 60.0) -> dict:
    """Write the report files next to ``ckpt_path``.

    The plots are per finger (thumb..little, :mod:`asha_app.models.fingers`)
    in named units, drawn 640 px wide (the width the report view shows them
    at, so their text is never scaled down); targets without a finger (NinaPro
    glove channels) are plotted per target.

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
    units : str, optional
        Target units for axis labels (default: ``metrics["units"]``).
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
    atomic_write_text(out["json"], dumps(metrics, indent=2))
    names = list(target_names)
    kind = metrics.get("target_kind", "targets")
    units = units or metrics.get("units") or units_of(names, kind)

    # -- bars: per finger (or per target when no name is a finger) ------------------------------------------------
    if has_fingers(names) and metrics.get("mae_per_finger"):
        labels, rows, _ = finger_table(metrics)
        panels = [("mae", [r[0] for r in rows], "tab:orange", f"mean abs. error ({units})", "Error per finger"),
                  ("r2", [r[1] for r in rows], "tab:blue", "R$^2$", "R$^2$ per finger (targets that vary)")]
        mp = [r[2] for r in rows]
        if np.isfinite(mp).any():
            panels.append(("mpjpe", mp, "tab:green", "MPJPE (mm)", "Joint position error per finger"))
        ncols = 2
    else:
        labels = names
        panels = [("mae", [metrics.get("mae_per_target", {}).get(n, np.nan) for n in names], "tab:orange",
                   f"mean abs. error ({units})", "Error per target"),
                  ("r2", [np.nan if metrics.get("r2_per_target", {}).get(n) is None
                          else metrics["r2_per_target"][n] for n in names], "tab:blue", "R$^2$",
                   "R$^2$ per target (targets that vary)")]
        ncols = 1 if len(names) > 6 else 2
    nrows = -(-len(panels) // ncols)
    fig, axes = plt.subplots(nrows, ncols, figsize=(6.4, 2.5 * nrows + 0.5), squeeze=False)
    for ax, (key, vals, color, ylabel, ptitle) in zip(axes.flat, panels):
        _bars(ax, labels, vals, color, ylabel, ptitle, r2=(key == "r2"))
    for ax in list(axes.flat)[len(panels):]:
        ax.axis("off")
        excl = metrics.get("r2_excluded") or {}
        if excl:
            ax.text(0.0, 0.9, exclusion_text(excl, limit=8, sep="\n"), fontsize=8, va="top", wrap=True,
                    transform=ax.transAxes)
    fig.suptitle(title or "test-set metrics", fontsize=10)
    fig.tight_layout()
    with atomic_write(out["bars"]) as tmp:
        fig.savefig(tmp, dpi=100, format="png")
    plt.close(fig)

    # -- traces: one per finger ---------------------------------------------------------------------------------
    t = np.asarray(t)
    if len(t):
        breaks = np.flatnonzero(np.diff(t) > 1.0)
        end = breaks[0] + 1 if len(breaks) else len(t)
        sel = np.flatnonzero(t[:end] <= t[0] + stretch_s)
    else:
        sel = np.zeros(0, int)
    y_true = np.asarray(y_true)
    y_pred = np.asarray(y_pred)
    tt, quantity, tunit = finger_traces(y_true[sel], names, kind)
    tp, _, _ = finger_traces(y_pred[sel], names, kind)
    k = max(1, len(tt))
    fig, axes = plt.subplots(k, 1, figsize=(6.4, 1.05 * k + 0.8), sharex=True, squeeze=False)
    for i, f in enumerate(tt):
        a = axes[i, 0]
        a.plot(t[sel], tt[f], color="k", lw=1.0, label="true")
        a.plot(t[sel], tp[f], color="tab:red", lw=1.0, label="predicted")
        a.set_ylabel(f"{f}\n({tunit})", fontsize=8)
        a.tick_params(labelsize=8)
    axes[0, 0].legend(loc="upper right", fontsize=8, ncol=2)
    axes[-1, 0].set_xlabel("session time (s)", fontsize=9)
    fig.suptitle(f"predicted vs true {quantity}, first test stretch", fontsize=10)
    fig.tight_layout()
    with atomic_write(out["traces"]) as tmp:
        fig.savefig(tmp, dpi=100, format="png")
    plt.close(fig)

    head = {k: v for k, v in metrics.items() if isinstance(v, (int, float, str))}
    rows_html = "".join(f"<tr><td>{html.escape(str(k))}</td>"
                        f"<td>{html.escape(f'{v:.4g}' if isinstance(v, float) else str(v))}</td></tr>"
                        for k, v in head.items())
    fingers_html = ""
    if metrics.get("mae_per_finger"):
        groups, frows, _ = finger_table(metrics)
        cells = "".join(f"<tr><td>{html.escape(g)}</td>" + "".join(f"<td>{_cell(v)}</td>" for v in r) + "</tr>"
                        for g, r in zip(groups, frows))
        fingers_html = (f"<h2>Per finger</h2><table border=1 cellpadding=3><tr><th></th><th>mean abs. error "
                        f"({html.escape(units)})</th><th>R<sup>2</sup></th><th>MPJPE (mm)</th></tr>{cells}</table>")
    excl = metrics.get("r2_excluded") or {}
    excl_html = f"<p>{html.escape(exclusion_text(excl))}</p>" if excl else ""
    atomic_write_text(
        out["html"],
        f"<!doctype html><html><head><meta charset='utf-8'><title>{html.escape(title or p.name)}</title></head><body>"
        f"<h1>{html.escape(title or p.name)}</h1><table border=1 cellpadding=3>{rows_html}</table>{fingers_html}"
        f"{excl_html}<p><img src='{out['bars'].name}'></p><p><img src='{out['traces'].name}'></p>"
        f"<p>Full metrics: <a href='{out['json'].name}'>{out['json'].name}</a></p></body></html>")
    return {k: str(v) for k, v in out.items()}


def _cell(v: float) -> str:
    return "n/a" if not np.isfinite(v) else f"{v:.3g}"


def exclusion_text(excluded: dict, limit: int = 12, sep: str = " ") -> str:
    """One sentence naming the targets left out of R^2 and why (the first ``limit`` names, then a count).

    Parameters
    ----------
    excluded : dict
        ``metrics["r2_excluded"]``: ``{name: reason}``.
    """
    if not excluded:
        return ""
    names = list(excluded)
    shown = ", ".join(names[:limit]) + (f" and {len(names) - limit} more" if len(names) > limit else "")
    reasons = sorted({r.split(" (")[0] for r in excluded.values()})
    return (f"Left out of R²: {len(names)} target(s) ({'; '.join(reasons)}: a tiny variance would make R² "
            f"meaningless).{sep}{shown}.")
