"""Automatic checks for the notebooks' exercises.

An exercise cell in a notebook looks like::

    my_answer = ...          # replace ... with your answer
    check_something(my_answer)

A checker prints a friendly verdict and returns ``True`` only for a right
answer. It never prints the solution: a wrong answer gets a hint, and an
untouched ``...`` gets "not yet", so a notebook with unsolved exercises still
runs top to bottom. Worked solutions live in ``notebooks/solutions/``.

Each notebook's checkers are in a module of their own (``nb00``, ``nb01``,
...); this file holds the helpers they share, and the one checker two notebooks use.
"""

from __future__ import annotations

from collections.abc import Mapping, Sequence
from typing import Any

import numpy as np

NOT_YET = "not yet: replace the `...` with your answer and run the cell again"
GOT_NONE = ("your answer is None: a function that ends without `return` gives None, and so does a cell "
            "that assigns the result of print(...); return (or assign) the value itself")


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
    """True (after saying so) if there is no answer to check yet.

    An untouched ``...`` placeholder gets "not yet"; ``None`` -- usually a
    function that forgot to ``return`` -- gets a hint of its own.
    """
    if answer is ...:
        print(f"○ {NOT_YET}")
        return True
    if answer is None:
        print(f"✗ not quite. Hint: {GOT_NONE}")
        return True
    return False


def not_one_number(answer: Any, what: str = "one number") -> Checked | None:
    """The array guard: a hint (a failed check) if ``answer`` is a list, tuple or array, else ``None``."""
    if np.ndim(answer) > 0:
        return verdict(False, "", f"give {what}, not a list or an array of them")
    return None


def not_one_number_yet(answer: Any) -> Checked | None:
    """For checkers of one number: a failed check if there is no answer yet (:func:`unanswered`) or it is
    an array (:func:`not_one_number`), else ``None`` (go on checking)."""
    if unanswered(answer):
        return Checked(False)
    return not_one_number(answer)


def check_fedavg_weight(answer: Any, sizes: Sequence[int] | Mapping[str, int], client: int | str) -> Checked:
    """Exercise (notebooks 00 and 04a): the FedAvg weight ``n_k / n`` of ``client``.

    ``sizes`` holds every client's number of training samples, as a list
    (``client`` is an index) or a dict (``client`` is a name).
    """
    if unanswered(answer):
        return Checked(False)
    counts = dict(sizes) if isinstance(sizes, Mapping) else dict(enumerate(sizes))
    if client not in counts:
        raise ValueError(f"unknown client {client!r}; choose one of {', '.join(map(str, counts))}")
    if (guard := not_one_number(answer, "one number, the weight of that hospital alone")) is not None:
        return guard
    n_k, n = counts[client], sum(counts.values())
    expected, who = n_k / n, f"hospital {client}" if isinstance(client, int) else client
    if close(answer, 1 / len(counts)) and not close(expected, 1 / len(counts)):
        return verdict(False, "", "that is an equal say for every hospital; FedAvg weighs each hospital by "
                                  "its number of training samples")
    if close(answer, 100 * expected):
        return verdict(False, "", "that looks like a percentage; give the weight as a fraction between 0 and 1")
    if close(answer, n_k):
        return verdict(False, "", f"that is n_k, the number of {who}'s samples; divide it by n, the "
                                  "number of training samples of all hospitals together")
    if close(answer, n_k / (n - n_k)):
        return verdict(False, "", f"n counts every hospital's training samples, {who}'s included")
    return verdict(close(answer, expected, rel=1e-3), f"{who} has a say of n_k / n in every average, "
                   f"about {expected:.1%}", "the weight is the hospital's share of all training samples: "
                   "n_k / (n_1 + ... + n_K) (use the training sets, not the test sets)")


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
