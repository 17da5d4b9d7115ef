"""Gesture evaluation report next to a checkpoint: JSON metrics, a confusion-matrix PNG and an HTML page.

Files for checkpoint ``model.pt``: ``model.report.json`` (metrics from
:func:`asha_app.gestures.train.classification_metrics`), ``model.report_confusion.png``
(rows: true gesture, columns: decided gesture, each row in percent of that
gesture's windows, so every gesture reads the same however long it was held) and
``model.report_bars.png`` (per-gesture accuracy; before and after when a
calibration is reported), and ``model.report.html`` showing them with a table.
"""

from __future__ import annotations

import html
from pathlib import Path

import numpy as np

from asha_app.core.atomic import atomic_write, atomic_write_text
from asha_app.core.jsonout import dumps


def _plt():
    import matplotlib  # noqa: PLC0415 - matplotlib on first use

    matplotlib.use("Agg", force=False)
    import matplotlib.pyplot as plt  # noqa: PLC0415 - matplotlib on first use

    return plt


def _save_png(plt, fig, path: str | Path) -> Path:
    """Lay ``fig`` out, write it as a PNG at ``path`` (atomically) and close it; returns the path."""
    fig.tight_layout()
    path = Path(path)
    with atomic_write(path) as tmp:
        fig.savefig(tmp, format="png")
    plt.close(fig)
    return path


def confusion_figure(path: str | Path, confusion: list[list[int]], classes: list[str], title: str = "") -> Path:
    """Write a row-normalised confusion matrix (percent) as PNG; returns the path."""
    plt = _plt()
    cm = np.asarray(confusion, float)
    pct = 100.0 * cm / np.maximum(cm.sum(1, keepdims=True), 1)
    k = len(classes)
    size = max(4.5, 0.45 * k + 2.0)
    fig, ax = plt.subplots(figsize=(size, size), dpi=100)
    ax.imshow(pct, cmap="Blues", vmin=0, vmax=100)
    ax.set_xticks(range(k), classes, rotation=45, ha="right", fontsize=8)
    ax.set_yticks(range(k), classes, fontsize=8)
    ax.set_xlabel("decided gesture")
    ax.set_ylabel("true gesture")
    for i in range(k):
        for j in range(k):
            if cm[i].sum() > 0:
                ax.text(
                    j,
                    i,
                    f"{pct[i, j]:.0f}",
                    ha="center",
                    va="center",
                    fontsize=7,
                    color="white" if pct[i, j] > 55 else "black",
                )
    ax.set_title(title or "Confusion matrix (% of each true gesture's windows)", fontsize=9)
    return _save_png(plt, fig, path)


def accuracy_bars(path: str | Path, per_class: dict, before: dict | None = None, title: str = "") -> Path:
    """Per-gesture accuracy bars (percent), with a 'before' series when given; returns the path."""
    plt = _plt()
    names = list(per_class)
    after = [np.nan if per_class[n] is None else 100 * per_class[n] for n in names]
    fig, ax = plt.subplots(figsize=(6.4, 3.2), dpi=100)
    x = np.arange(len(names))
    if before is not None:
        b = [np.nan if before.get(n) is None else 100 * before[n] for n in names]
        ax.bar(x - 0.2, b, 0.4, color="tab:gray", label="before")
        ax.bar(x + 0.2, after, 0.4, color="tab:blue", label="after")
        ax.legend(fontsize=8)
    else:
        ax.bar(x, after, 0.6, color="tab:blue")
    ax.set_xticks(x, names, rotation=45, ha="right", fontsize=8)
    ax.set_ylim(0, 100)
    ax.set_ylabel("accuracy (%)")
    ax.set_title(title or "Accuracy per gesture", fontsize=9)
    return _save_png(plt, fig, path)


def write_gesture_report(ckpt_path: str | Path, metrics: dict, title: str = "", before: dict | None = None) -> dict:
    """Write the report files next to ``ckpt_path``.

    Parameters
    ----------
    ckpt_path : path
    metrics : dict
        :func:`~asha_app.gestures.train.classification_metrics` (``confusion``, ``classes``, ``per_class`` ...).
    title : str
    before : dict, optional
        Metrics before calibration (same classes): bars show both.

    Returns
    -------
    dict
        Paths (``json``, ``confusion``, ``bars``, ``html``) as strings.
    """
    stem = Path(ckpt_path).with_suffix("")
    out = {
        "json": Path(f"{stem}.report.json"),
        "confusion": Path(f"{stem}.report_confusion.png"),
        "bars": Path(f"{stem}.report_bars.png"),
        "html": Path(f"{stem}.report.html"),
    }
    atomic_write_text(out["json"], dumps({"before": before, **metrics} if before else metrics, indent=2))
    confusion_figure(out["confusion"], metrics["confusion"], metrics["classes"])
    accuracy_bars(out["bars"], metrics["per_class"], before["per_class"] if before else None)
    rows = []
    for c in metrics["classes"]:
        acc = metrics["per_class"].get(c)
        b = before["per_class"].get(c) if before else None
        cells = (
            [html.escape(c), str(metrics["support"].get(c, 0)), "–" if b is None else f"{100 * b:.1f} %"]
            if before
            else [html.escape(c), str(metrics["support"].get(c, 0))]
        )
        cells.append("–" if acc is None else f"{100 * acc:.1f} %")
        rows.append("<tr>" + "".join(f"<td>{v}</td>" for v in cells) + "</tr>")
    head = "<th>gesture</th><th>windows</th>" + ("<th>before</th><th>after</th>" if before else "<th>accuracy</th>")
    bacc = metrics["balanced_accuracy"]
    page = (
        f"<html><head><meta charset='utf-8'><title>{html.escape(title or 'Gesture report')}</title></head><body>"
        f"<h2>{html.escape(title or 'Gesture classifier')}</h2>"
        f"<p>Balanced accuracy (mean of the per-gesture accuracies): <b>{100 * bacc:.1f} %</b>; "
        f"accuracy over all windows {100 * metrics['accuracy']:.1f} %; {metrics['n']} windows.</p>"
        f"<img src='{out['confusion'].name}'><br><img src='{out['bars'].name}'>"
        f"<table border='1' cellspacing='0' cellpadding='3'><tr>{head}</tr>{''.join(rows)}</table>"
        "</body></html>"
    )
    atomic_write_text(out["html"], page)
    return {k: str(v) for k, v in out.items()}
