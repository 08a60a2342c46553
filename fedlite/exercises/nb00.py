"""Checks for the exercises of ``00_start_here``."""

from __future__ import annotations

from collections.abc import Sequence
from typing import Any

from fedlite.data import Data
from fedlite.exercises import Checked, close, unanswered, verdict


def check_fedavg_weight(answer: Any, sizes: Sequence[int], hospital: int) -> Checked:
    """Exercise: the FedAvg weight ``n_k / n`` of one hospital, given every hospital's size."""
    if unanswered(answer):
        return Checked(False)
    expected = sizes[hospital] / sum(sizes)
    if close(answer, sizes[hospital]):
        return verdict(False, "", "that is n_k, the hospital's own count; divide it by n, the total of all hospitals")
    return verdict(close(answer, expected), f"hospital {hospital} gets {expected:.4f} of the say in the average",
                   "the weight is the hospital's share of all training samples: n_k / (n_1 + ... + n_K)")


def check_test_baseline(answer: Any, test: Data, train: Data) -> Checked:
    """Exercise: the accuracy of the constant answer "pneumonia" on the TEST set (its share of label 1)."""
    if unanswered(answer):
        return Checked(False)
    expected = (test.y == 1).float().mean().item()
    on_train = (train.y == 1).float().mean().item()
    if close(answer, on_train, rel=1e-2) and not close(on_train, expected, rel=1e-2):
        return verdict(False, "", "that is the share in the training images; models are judged on the test set, "
                                  "whose mix of diagnoses differs, so count pneumonia cases in test.y")
    if close(answer, 1 - expected):
        return verdict(False, "", "that is the share of label 0 (normal); the constant answer is 'pneumonia' (1)")
    if close(answer, expected * 100, rel=1e-2):
        return verdict(False, "", "give a fraction between 0 and 1, not a percentage")
    return verdict(close(answer, expected, rel=1e-3),
                   f"always saying 'pneumonia' is right on {expected:.1%} of the test X-rays; "
                   "read every accuracy in the course against that",
                   "count the labels equal to 1 in test.y and divide by the number of test images")
