"""Argument checks shared by several modules: bad input fails where it enters, saying what was expected.

One small function per kind of value. NumPy numbers (``np.int64(3)``,
``np.float32(0.1)``) are accepted wherever a Python number is; those that
return a value return a plain Python ``int`` or ``float``. ``bool`` is
refused where a number is meant (``True`` is not a count).
"""

from __future__ import annotations

import math

import numpy as np

_WORDS = {0: "a non-negative integer", 1: "a positive integer"}


def integer(value: object, name: str, *, minimum: int | None = None) -> int:
    """``value`` as an ``int``; a Python or NumPy integer, at least ``minimum`` if given."""
    ok = isinstance(value, (int, np.integer)) and not isinstance(value, (bool, np.bool_))
    if not ok or (minimum is not None and value < minimum):  # type: ignore[operator]
        wanted = _WORDS.get(minimum, f"an integer >= {minimum}") if minimum is not None else "an integer"
        raise ValueError(f"{name} must be {wanted}, got {value!r}")
    return int(value)  # type: ignore[arg-type]


def seed(value: object) -> int:
    """A random seed: a non-negative integer (what ``numpy.random.SeedSequence`` accepts)."""
    return integer(value, "seed", minimum=0)


def number(value: object, name: str, *, above: float | None = None, at_least: float | None = None,
           below: float | None = None) -> float:
    """``value`` as a finite ``float``, optionally ``> above``, ``>= at_least`` and ``< below``."""
    x = float(value) if _is_real(value) else math.nan  # type: ignore[arg-type]
    bounds = [(above, x > above if above is not None else True, "> "),
              (at_least, x >= at_least if at_least is not None else True, ">= "),
              (below, x < below if below is not None else True, "< ")]
    if not math.isfinite(x) or not all(holds for _, holds, _ in bounds):
        wanted = " and ".join(f"{op}{b:g}" for b, _, op in bounds if b is not None)
        raise ValueError(f"{name} must be a finite number{' ' + wanted if wanted else ''}, got {value!r}")
    return x


def check_positive(value: float, name: str) -> None:
    """Raise ``ValueError`` unless ``value`` is a finite number > 0."""
    if not _is_real(value) or not (math.isfinite(value) and value > 0):  # type: ignore[arg-type]
        raise ValueError(f"{name} must be a positive number (finite, > 0), got {value!r}")


def check_probability(p: float, name: str) -> None:
    """Raise ``ValueError`` unless ``p`` is a number in ``[0, 1]``."""
    if not _is_real(p) or not 0 <= p <= 1:  # type: ignore[operator]
        raise ValueError(f"{name} must be a probability in [0, 1], got {p!r}")


def _is_real(value: object) -> bool:
    return isinstance(value, (int, float, np.integer, np.floating)) and not isinstance(value, (bool, np.bool_))
