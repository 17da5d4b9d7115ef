"""Optional feature modules: import the ones that exist, skip the ones that do not."""

from __future__ import annotations

import importlib
from collections.abc import Iterable, Iterator
from types import ModuleType


def available_modules(names: Iterable[str]) -> Iterator[ModuleType]:
    """Yield each module of ``names`` that can be imported.

    A module that is absent is skipped; an error *inside* a module that exists
    (including a missing dependency of it) is raised, never hidden.
    """
    for name in names:
        try:
            yield importlib.import_module(name)
        except ModuleNotFoundError as exc:
            if exc.name != name:
                raise
