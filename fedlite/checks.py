"""Argument checks shared by several modules: bad input fails where it enters, saying what was expected."""

from __future__ import annotations

import math


def check_positive(value: float, name: str) -> None:
    """Raise ``ValueError`` unless ``value`` is a finite number > 0."""
    if isinstance(value, bool) or not (isinstance(value, (int, float)) and math.isfinite(value) and value > 0):
        raise ValueError(f"{name} must be a positive number, got {value!r}")


def check_probability(p: float, name: str) -> None:
    """Raise ``ValueError`` unless ``p`` is a number in ``[0, 1]``."""
    if isinstance(p, bool) or not (isinstance(p, (int, float)) and 0 <= p <= 1):
        raise ValueError(f"{name} must be a probability in [0, 1], got {p!r}")
