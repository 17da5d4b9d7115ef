"""Range-checked argparse types: a bad number is refused by argparse (exit status 2, one line) before any work.

Each factory returns a ``type=`` callable for :meth:`argparse.ArgumentParser.add_argument`
that parses the text and raises :class:`argparse.ArgumentTypeError` with a
sentence saying what is allowed (NaN and infinity are never allowed).
"""

from __future__ import annotations

import argparse
import json
import math


def _num(kind, text: str):
    try:
        value = kind(text)
    except (TypeError, ValueError):
        raise argparse.ArgumentTypeError(f"{text!r} is not {'an integer' if kind is int else 'a number'}") from None
    if kind is float and not math.isfinite(value):
        raise argparse.ArgumentTypeError(f"{text!r} is not a finite number")
    return value


def int_range(lo: int | None = None, hi: int | None = None):
    """An integer in ``[lo, hi]`` (either bound may be None)."""

    def parse(text: str) -> int:
        v = _num(int, text)
        if (lo is not None and v < lo) or (hi is not None and v > hi):
            raise argparse.ArgumentTypeError(_range_text(v, lo, hi))
        return v

    parse.__name__ = "integer"
    return parse


def float_range(lo: float | None = None, hi: float | None = None, *, lo_open: bool = False):
    """A finite float in ``[lo, hi]`` (``(lo, hi]`` with ``lo_open``)."""

    def parse(text: str) -> float:
        v = _num(float, text)
        if lo is not None and (v < lo or (lo_open and v == lo)):
            raise argparse.ArgumentTypeError(_range_text(v, lo, hi, lo_open))
        if hi is not None and v > hi:
            raise argparse.ArgumentTypeError(_range_text(v, lo, hi, lo_open))
        return v

    parse.__name__ = "number"
    return parse


def _range_text(v, lo, hi, lo_open: bool = False) -> str:
    if lo is not None and hi is not None:
        return f"{v:g} is outside {'(' if lo_open else '['}{lo:g}, {hi:g}]"
    if lo is not None:
        return f"{v:g} must be {'greater than' if lo_open else 'at least'} {lo:g}"
    return f"{v:g} must be at most {hi:g}"


def json_object(text: str) -> dict:
    """A JSON object (``{...}``) given on the command line."""
    try:
        value = json.loads(text)
    except json.JSONDecodeError as exc:
        raise argparse.ArgumentTypeError(f"not valid JSON ({exc.msg} at character {exc.pos})") from None
    if not isinstance(value, dict):
        raise argparse.ArgumentTypeError(f"must be a JSON object like '{{\"hidden\": 48}}', got {type(value).__name__}")
    return value


POSITIVE_INT = int_range(1)
NONNEGATIVE_INT = int_range(0)
POSITIVE_FLOAT = float_range(0.0, lo_open=True)
NONNEGATIVE_FLOAT = float_range(0.0)
FRACTION = float_range(0.0, 1.0)

__all__ = ["FRACTION", "NONNEGATIVE_FLOAT", "NONNEGATIVE_INT", "POSITIVE_FLOAT", "POSITIVE_INT", "float_range",
           "int_range", "json_object"]
