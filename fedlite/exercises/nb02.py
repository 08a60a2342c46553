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
    """Exercise: the largest number of local SGD steps per round, tau = E * ceil(n_k / B), that any
    ``(E, B)`` in ``settings`` gives a hospital of ``n_k`` samples (``B = None``: the full batch).

    The answer is a number the learner computes, so it cannot be found by trying the options; a wrong
    number that belongs to one of the settings gets an explanation of why that setting is not the one."""
    if unanswered(answer):
        return Checked(False)
    options = [tuple(s) for s in settings]

    def steps(setting: tuple[int, int | None]) -> int:
        epochs, batch = setting
        return epochs * (1 if batch is None else -(-n_k // batch))

    if not isinstance(answer, (int, float)) or isinstance(answer, bool):
        try:
            answer = float(answer)  # numpy and torch scalars
        except (TypeError, ValueError):
            return verdict(False, "", "give the number of steps (an integer), not the setting: compute "
                                      "E * ceil(n_k / B) for every setting and keep the largest")
    best = max(steps(s) for s in options)
    if close(answer, best, rel=0, abs_=1e-9):
        return verdict(True, f"{best} local steps per round: τ = E * ceil(n_k / B); the most epochs or the "
                             "smallest batch alone does not decide it", "")
    for setting in options:
        if close(answer, steps(setting), rel=0, abs_=1e-9):
            why = ("B = None is the full batch: one step per epoch, the fewest possible" if setting[1] is None
                   else f"that is the count of {setting}, but another setting takes more steps")
            return verdict(False, "", why)
    if any(b is not None and close(answer, e * n_k / b, rel=1e-6) for e, b in options):
        return verdict(False, "", "round n_k / B up: a last, smaller batch is one more step")
    return verdict(False, "", "count the steps of each setting, E * ceil(n_k / B) (one step per epoch for "
                              "B = None), and give the largest")
