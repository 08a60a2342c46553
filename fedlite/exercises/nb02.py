"""Checks for the exercises of ``02_fedavg_math``."""

from __future__ import annotations

from collections.abc import Sequence
from typing import Any

from fedlite.exercises import Checked, close, not_one_number_yet, unanswered, verdict


def _weighted(sizes: Sequence[int], values: Sequence[float]) -> float:
    return sum(n * v for n, v in zip(sizes, values)) / sum(sizes)


def check_fedavg_value(answer: Any, sizes: Sequence[int], values: Sequence[float]) -> Checked:
    """Exercise: the FedAvg aggregate ``sum_k (n_k / n) w_k`` of one parameter."""
    if (early := not_one_number_yet(answer)) is not None:
        return early
    expected = _weighted(sizes, values)
    if close(answer, sum(values) / len(values)) and not close(answer, expected):
        return verdict(False, "", "that is the plain mean, where every hospital counts the same; "
                                  "weight hospital k by its share n_k / n")
    if close(answer, sum(values)):
        return verdict(False, "", "that is the sum of the hospitals' values (the tutorial bug of this "
                                  "notebook); FedAvg takes a weighted average")
    if close(answer, sum(n * v for n, v in zip(sizes, values))):
        return verdict(False, "", "you multiplied each value by n_k; now divide by n, the total number of samples")
    return verdict(close(answer, expected), f"the server's new value is {expected:.4g}",
                   "multiply each hospital's value by n_k / n and add the products up")


def check_unweighted_bias(answer: Any, sizes: Sequence[int], values: Sequence[float]) -> Checked:
    """Exercise: how far the unweighted mean of ``values`` lies from the ``n_k / n``-weighted one."""
    if (early := not_one_number_yet(answer)) is not None:
        return early
    weighted = _weighted(sizes, values)
    unweighted = sum(values) / len(values)
    expected = unweighted - weighted
    if close(answer, -expected) and not close(answer, expected):
        return verdict(False, "", "right size, wrong sign: the question asks for unweighted minus weighted")
    if close(answer, weighted) or close(answer, unweighted):
        return verdict(False, "", "that is one of the two averages; the bias is their difference")
    return verdict(close(answer, expected, rel=1e-3, abs_=1e-6),
                   f"the unweighted mean is off by {expected:+.4f}",
                   "compute both averages, sum(values)/K and sum(n_k * value_k)/n, and subtract")


def check_most_local_steps(answer: Any, n_k: int, settings: Sequence[tuple[int, int | None]]) -> Checked:
    """Exercise: which ``(E, B)`` in ``settings`` makes a hospital of ``n_k`` samples take the most steps."""
    if unanswered(answer):
        return Checked(False)
    options = [tuple(s) for s in settings]
    try:
        choice = tuple(answer)
    except TypeError:
        choice = None
    if choice not in options:
        return verdict(False, "", f"answer with one of the listed settings, written as a tuple (E, B), "
                                  f"e.g. {options[0]}")

    def steps(setting: tuple[int, int | None]) -> int:
        epochs, batch = setting
        return epochs * (1 if batch is None else -(-n_k // batch))

    best = max(steps(s) for s in options)
    if steps(choice) == best:
        return verdict(True, f"{choice} takes {best} local steps per round: u = E * ceil(n_k / B)", "")
    if choice[1] is None:
        return verdict(False, "", "B = None means full batch: a single step per epoch, the fewest possible")
    if choice[0] == max(s[0] for s in options):
        return verdict(False, "", "more epochs is not the whole story: each epoch takes ceil(n_k / B) steps, "
                                  "so a small B multiplies them")
    if choice[1] == min(s[1] for s in options if s[1] is not None):
        return verdict(False, "", "the smallest batch is not the whole story either: the steps of one epoch "
                                  "are multiplied by E")
    return verdict(False, "", "count the steps of each setting, E * ceil(n_k / B), and take the largest")
