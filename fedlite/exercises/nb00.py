"""Checks for the exercises of ``00_start_here``."""

from __future__ import annotations

from typing import Any

from fedlite.data import Data
from fedlite.exercises import Checked, check_fedavg_weight, close, not_one_number_yet, verdict

__all__ = ["check_fedavg_weight", "check_test_baseline"]


def check_test_baseline(answer: Any, test: Data, train: Data) -> Checked:
    """Exercise: the accuracy of the constant answer "pneumonia" on the TEST set (its share of label 1)."""
    if (early := not_one_number_yet(answer)) is not None:
        return early
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
