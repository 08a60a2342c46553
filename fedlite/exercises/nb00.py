"""Checks for the exercises of ``00_start_here``."""

from __future__ import annotations

from typing import Any

from fedlite.data import Data
from fedlite.exercises import Checked, check_fedavg_weight, close, not_one_number_yet, verdict

__all__ = ["check_fedavg_weight", "check_positive_share"]


def check_positive_share(answer: Any, train: Data) -> Checked:
    """Exercise: the fraction of training images whose label is 1 (pneumonia)."""
    if (early := not_one_number_yet(answer)) is not None:
        return early
    expected = train.y.float().mean().item()
    if close(answer, 1 - expected):
        return verdict(False, "", "that is the share of label 0 (normal); the question asks for label 1")
    if close(answer, expected * 100, rel=1e-2):
        return verdict(False, "", "give a fraction between 0 and 1, not a percentage")
    return verdict(close(answer, expected, rel=1e-2), f"{expected:.1%} of the training images show pneumonia",
                   "count the labels equal to 1 (train.y == 1) and divide by the number of images")
