"""Strict JSON for everything Asha prints or writes for other programs.

Python's :func:`json.dumps` writes ``NaN``, ``Infinity`` and ``-Infinity``,
which are not JSON: strict parsers (JavaScript's ``JSON.parse``, ``jq``,
Rust's serde_json, Python's ``json.loads`` with ``parse_constant`` raising)
reject the whole line.  :func:`dumps` writes ``null`` for every non-finite
number instead, turns numpy scalars and arrays and paths into plain JSON
values, and refuses anything else it cannot represent (``allow_nan=False``
guards against a missed case).  :func:`print_line` prints one object as the
last line of a command's output (``asha train``, ``asha evaluate``,
``asha check --json``, the benchmarks).
"""

from __future__ import annotations

import json
import math
import sys
from pathlib import PurePath
from typing import Any


def to_jsonable(value: Any) -> Any:
    """``value`` with non-finite floats as None, numpy values as Python values, paths and sets as strings/lists.

    Raises
    ------
    TypeError
        For objects that have no JSON form (the message names the type).
    """
    if value is None or isinstance(value, (bool, str)):
        return value
    if isinstance(value, int):
        return value
    if isinstance(value, float):
        return value if math.isfinite(value) else None
    if isinstance(value, dict):
        return {str(k): to_jsonable(v) for k, v in value.items()}
    if isinstance(value, (list, tuple, set, frozenset)):
        return [to_jsonable(v) for v in value]
    if isinstance(value, PurePath):
        return str(value)
    np = sys.modules.get("numpy")
    if np is not None:
        if isinstance(value, np.bool_):
            return bool(value)
        if isinstance(value, np.integer):
            return int(value)
        if isinstance(value, np.floating):
            return to_jsonable(float(value))
        if isinstance(value, np.ndarray):
            return to_jsonable(value.tolist())
    raise TypeError(f"{type(value).__name__} has no JSON form: {value!r:.80}")


def dumps(value: Any, **kwargs) -> str:
    """Strict JSON text of ``value`` (non-finite numbers as ``null``); keyword arguments go to :func:`json.dumps`."""
    return json.dumps(to_jsonable(value), allow_nan=False, **kwargs)


def print_line(value: Any, file=None, **kwargs) -> None:
    """Print ``value`` as ONE line of strict JSON (to stdout unless ``file``), flushed."""
    kwargs.pop("indent", None)
    out = file or sys.stdout
    out.write(dumps(value, **kwargs) + "\n")
    out.flush()


def _refuse(constant: str):
    raise ValueError(f"not strict JSON: {constant}")


def loads_strict(text: str) -> Any:
    """Parse JSON refusing ``NaN``/``Infinity`` (what a strict parser does); for tests and consumers."""
    return json.loads(text, parse_constant=_refuse)
