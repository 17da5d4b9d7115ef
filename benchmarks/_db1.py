"""NinaPro DB1 protocols shared by the benchmarks (development data in ../shared/data/ninapro_db1_dev; never committed).

DB1 (Atzori et al., 2014, Sci. Data 1, 140053): 10 Otto Bock electrodes whose
output is the device's own RMS envelope at 100 Hz (no band-pass or notch:
``FilterSpec(100, band=None, notch_hz=None)``), 22 CyberGlove channels,
exercise 1 = 12 finger movements x 10 repetitions, each movement's 10
repetitions in a row (about 5 s of movement and 3 s of rest each).

Repetitions are numbered 1-10 here as in the DB1 documentation; the importer's
prompts count from 0 (``Prompt.repetition = k - 1``).

Window assignment (:func:`label_split`): a window belongs to the repetition
that holds its LABEL time (the time from a repetition's prompt to the next
prompt belongs to it, as in :func:`asha_app.data.splits.split_by_repetitions`),
and label times within 100 ms of a change of set are dropped.  The EMG context
of a window may reach back into the previous repetition, as it would live: so
every model, whatever its history, is scored on the same samples (every
100 Hz sample of the test repetitions), and a training window never holds a
label of another set.  (The strict window rule of ``split_by_repetitions``,
which drops every window whose EMG crosses a set boundary, keeps only 7,024 of
29,862 test samples for a 3.3 s history and 27,047 for 500 ms, so models with
different histories would be scored on different samples.)
"""

from __future__ import annotations

from pathlib import Path

import numpy as np

from benchmarks._common import SHARED_DATA

DB1 = SHARED_DATA / "ninapro_db1_dev"
SUBJECTS = [8, 9, 11, 12, 14, 15, 16, 17, 18, 19, 20, 21, 22]
FS = 100.0
#: the customary within-subject protocol (DB1 repetition numbers, 1-10)
WITHIN = {"train": [1, 3, 4, 6, 8, 9], "val": [7], "test": [2, 5, 10]}


def available() -> bool:
    """True when the development data is present."""
    return DB1.is_dir() and all((DB1 / f"S{s}_A1_E1.mat").is_file() for s in SUBJECTS)


def filter_spec():
    """No filter: DB1's EMG is already an RMS envelope at 100 Hz."""
    from asha_app.dsp.filters import FilterSpec

    return FilterSpec(FS, band=None, notch_hz=None)


_RECS: dict = {}


def recording(subject: int):
    """Subject ``subject``'s exercise-1 recording (cached), with ``participant`` and ``session`` set."""
    if subject not in _RECS:
        from asha_app.data.importers.ninapro import read_ninapro

        rec = read_ninapro(DB1 / f"S{subject}_A1_E1.mat", fs=FS)
        rec.meta.update(participant=f"S{subject}", session=f"S{subject}_E1")
        _RECS[subject] = rec
    return _RECS[subject]


def sample_sets(rec, assign: dict[int, str], gap_ms: float = 200.0) -> np.ndarray:
    """Set of every EMG sample's label time: int8 (n_samples,), 0 train, 1 val, 2 test, -1 none.

    ``assign`` maps DB1 repetition numbers (1-10) to ``"train"``, ``"val"`` or
    ``"test"``; others are dropped.  Built with the app's repetition split on
    one-sample windows, with ``gap_ms`` around every change of set.
    """
    from asha_app.data.splits import split_by_repetitions
    from asha_app.data.windows import WindowSpec, build_windows

    ws = build_windows(rec, WindowSpec(1000.0 / rec.fs, 1000.0 / rec.fs), filter_spec_for(rec), "targets")
    sp = split_by_repetitions(ws, {k - 1: v for k, v in assign.items()}, gap_ms=gap_ms)
    code = np.full(len(rec.emg), -1, np.int8)
    code[ws.ends] = sp.assign
    return code


def filter_spec_for(rec):
    from asha_app.dsp.filters import FilterSpec

    return FilterSpec(rec.fs, band=None, notch_hz=None)


def label_split(ws, codes: list[np.ndarray]):
    """A :class:`~asha_app.data.windows.Split` of a WindowSet by the set of each window's label time.

    ``codes[i]`` is :func:`sample_sets` of the WindowSet's recording ``i``.
    """
    from asha_app.data.splits import Split

    assign = np.full(len(ws), -1, np.int8)
    for i, (lo, _hi) in enumerate(ws.rec_bounds):
        sel = ws.rec_index == i
        assign[sel] = codes[i][ws.ends[sel] - lo]
    return Split(assign, "repetitions (by label time)", {})


def windows(recs, window_ms: float, stride_ms: float, assign: dict[int, str]):
    """Windows of one or more DB1 recordings and their label-time split."""
    from asha_app.data.windows import WindowSpec, build_windows

    recs = list(recs)
    ws = build_windows(recs, WindowSpec(window_ms, stride_ms), filter_spec_for(recs[0]), "targets")
    return ws, label_split(ws, [sample_sets(r, assign) for r in recs])


def _pieces(rec, reps: list[int] | None = None):
    """(repetition 1-10, movement number, piece) of every repetition (prompt to next prompt) in ``reps``."""
    from asha_app.calibration.strategies import slice_recording

    ps = sorted([p for p in rec.prompts if p.repetition >= 0], key=lambda p: p.start)
    end_t = float(rec.emg_t[-1]) + 1.0 / rec.fs
    out = []
    for i, p in enumerate(ps):
        if reps is not None and p.repetition + 1 not in reps:
            continue
        t1 = ps[i + 1].start if i + 1 < len(ps) else end_t
        word = p.label.split()[-1]
        out.append((p.repetition + 1, int(word) if word.isdigit() else 0, slice_recording(rec, p.start, t1)))
    return out


def interleaved(rec, reps: list[int] | None = None, name: str | None = None):
    """The recording's repetitions (all, or ``reps``) replayed in interleaved order: every movement's first
    repetition, then every movement's second, ...

    In DB1 each movement's 10 repetitions follow one another, so a model whose
    context reaches back into the previous repetition can learn "the same
    movement again" from the protocol; in the interleaved order every
    repetition follows another movement, as in the app's calibration protocol
    (``order = "interleaved"``) and in free use.  Scoring a model on both
    orders shows how much of its figure comes from the block design.  A
    calibration recording made of repetitions 1-2 in this order is what the
    wizard records: each movement once, then each movement again.
    """
    pieces = sorted(_pieces(rec, reps), key=lambda x: (x[0], x[1]))
    return concat([pc for _, _, pc in pieces], name or f"{rec.meta.get('session', 'rec')}_interleaved")


def concat(pieces, name: str):
    """One continuous recording of pieces played back to back (times shifted; the joins fall in rest)."""
    from asha_app.data.recording import Prompt, Recording

    emg, t, lab_t, y, valid, prompts = [], [], [], [], [], []
    offset = 0.0
    for pc in pieces:
        shift = offset - float(pc.emg_t[0])
        emg.append(pc.emg)
        t.append(pc.emg_t + shift)
        lab_t.append(pc.label_t + shift)
        y.append(pc.targets)
        valid.append(pc.valid)
        prompts += [Prompt(p.label, p.start + shift, p.end + shift, p.repetition) for p in pc.prompts]
        offset = float(t[-1][-1]) + 1.0 / pc.fs
    p0 = pieces[0]
    return Recording(emg=np.concatenate(emg), emg_t=np.concatenate(t), fs=p0.fs, label_t=np.concatenate(lab_t),
                     targets=np.concatenate(y), valid=np.concatenate(valid), target_names=list(p0.target_names),
                     channel_names=list(p0.channel_names), emg_units=p0.emg_units, prompts=prompts,
                     meta={**{k: v for k, v in p0.meta.items() if k != "slice_s"}, "session": name})


def predict_sets(ckpt, rec, code: np.ndarray, which: int = 2, model=None, streamed: np.ndarray | None = None):
    """(true, predicted) targets of a checkpoint at every sample of ``rec`` whose ``code`` is ``which``.

    The model gets the EMG before each sample as context (its history), from the whole recording.
    ``streamed``: :func:`stream_all` of this checkpoint on ``rec``, when already computed.
    """
    from asha_app.data.windows import build_windows
    from asha_app.models.dataset import WindowDataset
    from asha_app.models import train as T

    ws = build_windows(rec, ckpt.window.__class__(ckpt.history * 1000.0 / rec.fs, 1000.0 / rec.fs),
                       ckpt.filter_spec, ckpt.target_kind)
    idx = np.flatnonzero(code[ws.ends] == which)
    model = model or ckpt.build_model()
    if streamed is not None or hasattr(model, "forward_chunk"):  # streaming: O(n) (streaming == batch, tested)
        full = streamed if streamed is not None else stream_all(ckpt, rec, model)
        return ws.y[idx], full[ws.ends[idx]]
    ds = WindowDataset(ws, idx, ckpt.normalizer, model.history)
    return ws.y[idx], ckpt.normalizer.y_inverse(T.predict(model, ds))


def stream_all(ckpt, rec, model=None, chunk: int = 2000) -> np.ndarray:
    """Predictions (n_samples, T) of a stateful model at every sample of ``rec``, streamed in chunks."""
    import torch

    from asha_app.models.streaming import StreamingRunner

    runner = StreamingRunner(model or ckpt.build_model(), ckpt.normalizer, ckpt.filter_spec, stride=1, jit=False)
    out = np.zeros((len(rec.emg), runner.model.n_targets), np.float32)
    with torch.no_grad():
        for i in range(0, len(rec.emg), chunk):
            j, y = runner.process(rec.emg[i:i + chunk])
            out[j] = y
    return out


def r2_mean(true: np.ndarray, pred: np.ndarray) -> float:
    """R^2 per glove channel, averaged over the channels (the project's rule: :mod:`asha_app.models.metrics`)."""
    from asha_app.models import metrics as M

    floor = M.r2_min_std(true, [f"glove_{i + 1}" for i in range(true.shape[1])], "targets")
    return float(np.nanmean(M.r2_per_target(pred, true, floor)))


def path_note() -> str:
    return str(Path(DB1))
