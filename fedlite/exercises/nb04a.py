"""Checks for the exercises of ``04a_cross_silo_use_cases``."""

from __future__ import annotations

from collections.abc import Mapping
from typing import Any

import numpy as np

from fedlite.exercises import Checked, close, unanswered, verdict


def check_fedavg_weight(answer: Any, train_sizes: Mapping[str, int], hospital: str = "switzerland") -> Checked:
    """Exercise: the weight ``n_k / n`` of ``hospital`` in FedAvg, from the training-set sizes."""
    if unanswered(answer):
        return Checked(False)
    if hospital not in train_sizes:
        raise ValueError(f"unknown hospital {hospital!r}; choose one of {', '.join(train_sizes)}")
    if np.ndim(answer) > 0:
        return verdict(False, "", f"give one number, the weight of {hospital} alone, not one per hospital")
    n_k, n = train_sizes[hospital], sum(train_sizes.values())
    expected = n_k / n
    if close(answer, 1 / len(train_sizes)) and not close(expected, 1 / len(train_sizes)):
        return verdict(False, "", "that is an equal say for every hospital; FedAvg weighs each hospital by "
                                  "its number of training patients")
    if close(answer, 100 * expected):
        return verdict(False, "", "that looks like a percentage; give the weight as a fraction between 0 and 1")
    if close(answer, n_k):
        return verdict(False, "", f"that is n_k, the number of {hospital}'s patients; divide it by n, the "
                                  "number of training patients of all hospitals together")
    if close(answer, n_k / (n - n_k)):
        return verdict(False, "", f"n counts every hospital's training patients, {hospital}'s included")
    return verdict(close(answer, expected, rel=1e-3),
                   f"{hospital} has a say of n_k / n in every average, about {expected:.1%}",
                   "the weight is n_k / n: the hospital's training patients over all hospitals' "
                   "training patients (use the training sets, not the test sets)")


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
