"""Automatic checks for the notebooks' exercises.

An exercise cell in a notebook looks like::

    my_answer = ...          # replace ... with your answer
    check_something(my_answer)

A checker prints a friendly verdict and returns ``True`` only for a right
answer. It never prints the solution: a wrong answer gets a hint, and an
untouched ``...`` gets "not yet", so a notebook with unsolved exercises still
runs top to bottom. Worked solutions live in ``notebooks/solutions/``.

Each notebook's checkers are in a module of their own (``nb00``, ``nb01``,
...); this file holds the two helpers they share.
"""

from __future__ import annotations

from collections.abc import Mapping, Sequence
from typing import Any

NOT_YET = "not yet: replace the `...` with your answer and run the cell again"


class Checked:
    """The result of a check: true only for a right answer. Jupyter shows nothing
    for it (the printed verdict is the message), but code can test it."""

    def __init__(self, ok: bool) -> None:
        self.ok = bool(ok)

    def __bool__(self) -> bool:
        return self.ok

    def __repr__(self) -> str:
        return f"Checked(ok={self.ok})"

    def _ipython_display_(self) -> None:
        pass


def unanswered(answer: Any) -> bool:
    """True (after saying so) if the learner has not replaced the ``...`` placeholder."""
    if answer is ... or answer is None:
        print(f"○ {NOT_YET}")
        return True
    return False


def verdict(ok: bool, praise: str, hint: str) -> Checked:
    """Print ``✓ praise`` or ``✗ hint``; the result is true only if ``ok``."""
    print(f"✓ correct: {praise}" if ok else f"✗ not quite. Hint: {hint}")
    return Checked(ok)


def close(answer: Any, expected: float, rel: float = 1e-3, abs_: float = 1e-9) -> bool:
    """``answer`` is a number within ``rel`` (relative) or ``abs_`` of ``expected``."""
    try:
        value = float(answer)
    except (TypeError, ValueError):
        return False
    return abs(value - expected) <= max(rel * abs(expected), abs_)


def not_a_complete_dict(answer: Any, keys: Sequence[str], *, example: str, ask: str) -> Checked | None:
    """For answers that label several items: a hint (a failed check) if ``answer`` is not a dict with
    every one of ``keys``, else ``None`` (go on checking). ``example`` shows the expected form; ``ask``
    says what each key needs, e.g. "give a letter for every fedlite name"."""
    if not isinstance(answer, Mapping):
        return verdict(False, "", f"answer with a dict, e.g. {example}")
    missing = [key for key in keys if key not in answer]
    if missing:
        return verdict(False, "", f"{ask}; missing: {', '.join(missing)}")
    return None
