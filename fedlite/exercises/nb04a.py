"""Checks for the exercises of ``04a_cross_silo_use_cases``."""

from __future__ import annotations

from typing import Any

import numpy as np

from fedlite.exercises import Checked, check_fedavg_weight, close, unanswered, verdict

__all__ = ["check_constant_accuracy", "check_fedavg_weight"]


def check_constant_accuracy(answer: Any, labels: Any, answer_label: int = 1) -> Checked:
    """Exercise: the accuracy of a "model" that answers ``answer_label`` for every test sample; it is the
    share of that label among ``labels`` (the baseline any real model must beat)."""
    if unanswered(answer):
        return Checked(False)
    y = np.asarray(labels).reshape(-1)
    if y.size == 0:
        raise ValueError("labels is empty; pass the test set's labels, e.g. us_test.y")
    if np.ndim(answer) > 0:
        return verdict(False, "", "give one number: the accuracy of the constant answer on the whole test set")
    expected = float((y == answer_label).mean())
    if close(answer, 1 - expected) and not close(expected, 0.5):
        return verdict(False, "", "that is the share of the other label; the constant answer is right exactly "
                                  f"for the test samples whose label is {answer_label}")
    if close(answer, 100 * expected):
        return verdict(False, "", "that looks like a percentage; give the accuracy as a fraction between 0 and 1")
    if close(answer, float((y == answer_label).sum())):
        return verdict(False, "", "that is a count of test samples; divide by the size of the test set")
    return verdict(close(answer, expected, rel=1e-4),
                   f"saying {answer_label} every time scores {expected:.3f}: a model must beat that before its "
                   "accuracy means anything",
                   f"the constant answer is right for every test sample whose label is {answer_label}: "
                   "count those and divide by the number of test samples")
