"""Honest splits of training windows: by time blocks, prompt repetitions, sessions or participants.

Never random over overlapping windows.  Around every boundary between two
different sets a gap of at least ``gap_ms`` (default one window) separates the
windows of the two sets; windows that straddle a boundary or fall in a gap are
dropped (:data:`DROPPED`).

This is the one split module: the API (:func:`asha_app.models.train.prepare`),
the command line (``asha train``) and the training wizard all go through
:func:`make_split`, which knows every kind in :data:`SPLIT_KINDS`.  The group
helpers (:func:`group_names`, :func:`repetitions_of`, :func:`default_group_assignment`)
name the groups exactly as :func:`asha_app.data.windows.build_windows` does, so a
choice made in the wizard splits the windows the same way.
"""

from __future__ import annotations

from dataclasses import dataclass, field

import numpy as np

from asha_app.core.errors import DatasetError
from asha_app.data.windows import WindowSet

SET_NAMES = ("train", "val", "test")
SET_CODES = {name: i for i, name in enumerate(SET_NAMES)}
DROPPED = -1

#: every split kind :func:`make_split` knows, with the keyword arguments it takes
SPLIT_KINDS = ("time_blocks", "repetitions", "sessions", "participants")
#: a group left out of every set (the wizard offers it beside train, val and test)
UNUSED = "unused"


@dataclass
class Split:
    """Assignment of every window to train / val / test or dropped.

    Attributes
    ----------
    assign : int8 array (n_windows,)
        0 train, 1 val, 2 test, -1 dropped (straddles a boundary or lies in a gap).
    kind : str
        ``"time_blocks"``, ``"repetitions"``, ``"sessions"`` or ``"participants"``.
    info : dict
        Parameters (blocks, gap, assignment) for the checkpoint.
    """

    assign: np.ndarray
    kind: str
    info: dict = field(default_factory=dict)

    def indices(self, name: str) -> np.ndarray:
        """Window indices of one set."""
        return np.flatnonzero(self.assign == SET_CODES[name])

    def counts(self) -> dict:
        """Number of windows per set and dropped."""
        c = {n: int((self.assign == SET_CODES[n]).sum()) for n in SET_NAMES}
        c["dropped"] = int((self.assign == DROPPED).sum())
        return c

    def check(self, required: tuple[str, ...] = ("train", "val")) -> None:
        """Raise :class:`DatasetError` if a required set is empty."""
        c = self.counts()
        empty = [n for n in required if c[n] == 0]
        if empty:
            raise DatasetError(
                f"the {self.kind} split leaves the {', '.join(empty)} set empty (counts {c}); "
                "record more, use more blocks, or assign blocks/sessions differently")

    def to_dict(self) -> dict:
        """Summary for the checkpoint."""
        return {"kind": self.kind, "counts": self.counts(), **self.info}


def _apply_intervals(ws: WindowSet, rec: int, change_t: np.ndarray, set_at_end: np.ndarray, gap_s: float,
                     assign: np.ndarray) -> None:
    """Assign windows of recording ``rec``: ``set_at_end`` per window, dropped near a set change."""
    sel = np.flatnonzero(ws.rec_index == rec)
    lo = np.minimum(ws.start_t[sel], ws.label_time[sel])
    hi = np.maximum(ws.end_t[sel], ws.label_time[sel])
    codes = set_at_end.astype(np.int8)
    if len(change_t):
        # a change point inside (lo - gap/2, hi + gap/2) drops the window
        a = np.searchsorted(change_t, lo - gap_s / 2.0, side="right")
        b = np.searchsorted(change_t, hi + gap_s / 2.0, side="left")
        codes = np.where(b > a, DROPPED, codes).astype(np.int8)
    assign[sel] = codes


def _codes(names: list[str]) -> np.ndarray:
    bad = [n for n in names if n not in SET_CODES]
    if bad:
        raise DatasetError(f"unknown set name(s) {bad}; use train, val or test")
    return np.array([SET_CODES[n] for n in names], dtype=np.int8)


def default_block_pattern(n_blocks: int) -> list[str]:
    """Train/val/test per block, interleaved so every set samples the whole session.

    Every 5th block (index 4, 9, ...) is test, every 5th offset by 2 (2, 7, ...) is validation, the rest train
    (60/20/20).  Fewer than 3 blocks: ``train, val`` / ``train``.
    """
    if n_blocks < 3:
        return ["train", "val"][:n_blocks]
    out = []
    for k in range(n_blocks):
        out.append("test" if k % 5 == 4 else "val" if k % 5 == 2 else "train")
    if "test" not in out:
        out[-1] = "test"
    return out


def split_time_blocks(ws: WindowSet, n_blocks: int = 10, pattern: list[str] | None = None,
                      gap_ms: float | None = None) -> Split:
    """Contiguous time blocks per recording.

    Each recording's span is cut into ``n_blocks`` equal time blocks; block
    ``k`` goes to ``pattern[k]``.  A window belongs to the block holding its
    label time, and is dropped when it comes within ``gap_ms / 2`` of a
    boundary between blocks of different sets, so windows of different sets
    are at least ``gap_ms`` apart (default: one window length).

    Raises
    ------
    DatasetError
        Bad pattern.
    """
    pattern = pattern or default_block_pattern(n_blocks)
    if len(pattern) != n_blocks:
        raise DatasetError(f"the block pattern has {len(pattern)} entries for {n_blocks} blocks")
    codes = _codes(pattern)
    gap_s = (ws.spec.window_ms if gap_ms is None else gap_ms) / 1000.0
    if gap_s < ws.spec.window_ms / 1000.0 - 1e-9:
        raise DatasetError(f"the gap ({gap_s * 1000:g} ms) must be at least one window ({ws.spec.window_ms:g} ms)")
    assign = np.full(len(ws), DROPPED, dtype=np.int8)
    for r in range(len(ws.rec_bounds)):
        sel = ws.rec_index == r
        if not sel.any():
            continue
        t0 = ws.start_t[sel].min()
        t1 = ws.label_time[sel].max()
        edges = np.linspace(t0, t1, n_blocks + 1)
        blk = np.clip(np.searchsorted(edges, ws.label_time[sel], side="right") - 1, 0, n_blocks - 1)
        change = np.array([edges[k] for k in range(1, n_blocks) if codes[k] != codes[k - 1]])
        _apply_intervals(ws, r, change, codes[blk], gap_s, assign)
    return Split(assign, "time_blocks", {"n_blocks": n_blocks, "pattern": list(pattern), "gap_ms": gap_s * 1000})


def split_by_repetitions(ws: WindowSet, assign_rep: dict[int, str], gap_ms: float | None = None) -> Split:
    """Split by prompt repetition.

    Time from a prompt's start up to the next prompt's start belongs to that
    prompt's repetition (the rest after a movement stays with it); time before
    the first prompt to the first.  Repetitions missing from ``assign_rep`` are
    dropped.  Gaps as in :func:`split_time_blocks`.

    Raises
    ------
    DatasetError
        If a recording has no prompts with a repetition number.
    """
    gap_s = (ws.spec.window_ms if gap_ms is None else gap_ms) / 1000.0
    assign = np.full(len(ws), DROPPED, dtype=np.int8)
    for r, prompts in enumerate(ws.rec_prompts):
        ps = sorted([p for p in prompts if p.repetition >= 0], key=lambda p: p.start)
        sel = ws.rec_index == r
        if not sel.any():
            continue
        if not ps:
            raise DatasetError(f"{ws.sessions[r]}: has no prompts with repetition numbers; split by time blocks instead")
        starts = np.array([p.start for p in ps])
        set_of_p = np.array([SET_CODES[assign_rep[p.repetition]] if p.repetition in assign_rep else DROPPED
                             for p in ps], dtype=np.int8)
        k = np.clip(np.searchsorted(starts, ws.label_time[sel], side="right") - 1, 0, len(ps) - 1)
        change = np.array([starts[j] for j in range(1, len(ps)) if set_of_p[j] != set_of_p[j - 1]])
        _apply_intervals(ws, r, change, set_of_p[k], gap_s, assign)
    return Split(assign, "repetitions", {"assign": {str(k): v for k, v in assign_rep.items()}, "gap_ms": gap_s * 1000})


def _split_by_group(ws: WindowSet, groups: list[str], assign_group: dict[str, str], kind: str) -> Split:
    unknown = sorted(set(assign_group) - set(groups))
    if unknown:
        raise DatasetError(f"{kind} {unknown} are not in the data (have {sorted(set(groups))})")
    per_rec = np.array([SET_CODES[assign_group[g]] if g in assign_group else DROPPED for g in groups], dtype=np.int8)
    return Split(per_rec[ws.rec_index], kind, {"assign": dict(assign_group)})


def split_by_sessions(ws: WindowSet, assign_session: dict[str, str]) -> Split:
    """Whole sessions to sets (sessions not named are dropped)."""
    return _split_by_group(ws, ws.sessions, assign_session, "sessions")


def split_by_participants(ws: WindowSet, assign_participant: dict[str, str]) -> Split:
    """Whole participants to sets: held-out-user evaluation (participants not named are dropped)."""
    return _split_by_group(ws, ws.participants, assign_participant, "participants")


def make_split(ws: WindowSet, kind: str = "time_blocks", **kw) -> Split:
    """Split windows by ``kind`` with that kind's keyword arguments.

    Parameters
    ----------
    ws : WindowSet
    kind : {"time_blocks", "repetitions", "sessions", "participants"}
        ``time_blocks``: :func:`split_time_blocks` (``n_blocks``, ``pattern``, ``gap_ms``);
        ``repetitions``: :func:`split_by_repetitions` (``assign_rep`` {repetition: set},
        ``gap_ms``); ``sessions``: :func:`split_by_sessions` (``assign_session``);
        ``participants``: :func:`split_by_participants` (``assign_participant``).
        A group assigned :data:`UNUSED` is left out, like one not named.
    **kw
        The kind's keyword arguments.

    Returns
    -------
    Split

    Raises
    ------
    DatasetError
        An unknown kind, an argument the kind does not take, or a bad assignment.
    """
    takes = {"time_blocks": {"n_blocks", "pattern", "gap_ms"}, "repetitions": {"assign_rep", "gap_ms"},
             "sessions": {"assign_session"}, "participants": {"assign_participant"}}
    if kind not in takes:
        raise DatasetError(f"unknown split kind {kind!r}: use {', '.join(SPLIT_KINDS)}")
    extra = sorted(set(kw) - takes[kind])
    if extra:
        raise DatasetError(f"the {kind} split takes {', '.join(sorted(takes[kind]))}, not {', '.join(extra)}")
    if kind == "time_blocks":
        return split_time_blocks(ws, **kw)

    def used(assign: dict | None) -> dict:
        out = {k: v for k, v in (assign or {}).items() if v != UNUSED}
        _codes(list(out.values()))  # a set name that is not train/val/test: a clear error
        return out

    if kind == "repetitions":
        return split_by_repetitions(ws, {int(k): v for k, v in used(kw.get("assign_rep")).items()},
                                    gap_ms=kw.get("gap_ms"))
    if kind == "sessions":
        return split_by_sessions(ws, used(kw.get("assign_session")))
    return split_by_participants(ws, used(kw.get("assign_participant")))


# ------------------------------------------------------------------------------------------------ group helpers


def group_names(recordings: list) -> tuple[list[str], list[str]]:
    """Session and participant keys of recordings, exactly as :func:`asha_app.data.windows.build_windows` names them."""
    sessions = [str(r.meta.get("session", f"session{i}")) for i, r in enumerate(recordings)]
    participants = [str(r.meta.get("participant", "unknown")) for r in recordings]
    return sessions, participants


def repetitions_of(recordings: list) -> list[int] | None:
    """Repetition numbers present in EVERY recording's prompts (sorted), or None if one recording has none."""
    common = None
    for r in recordings:
        reps = {int(p.repetition) for p in r.prompts if p.repetition >= 0}
        if not reps:
            return None
        common = reps if common is None else common & reps
    return sorted(common or [])


def default_group_assignment(keys: list) -> dict:
    """Default train/val/test of distinct groups (sessions, participants, repetitions): last test, one before val.

    Needs at least 3 distinct keys; fewer leave a set empty (the split check then says so).
    """
    keys = list(dict.fromkeys(keys))
    out = {k: "train" for k in keys}
    if len(keys) >= 2:
        out[keys[-1]] = "test"
    if len(keys) >= 3:
        out[keys[-2]] = "val"
    return out
