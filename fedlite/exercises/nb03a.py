"""Checks for the exercises of ``03a_non_iid_hospitals``."""

from __future__ import annotations

from typing import Any

import numpy as np

from fedlite.exercises import Checked, close, unanswered, verdict

REMEDIES = ("fedprox", "fedavgm", "fedadam", "fedbn")


def check_single_class_hospitals(answer: Any, counts: np.ndarray) -> Checked:
    """Exercise: how many hospitals of a partition hold samples of only one class?

    ``counts`` is the hospitals x classes table of :func:`fedlite.heterogeneity.partition.label_counts`.
    """
    if unanswered(answer):
        return Checked(False)
    counts = np.asarray(counts)
    classes_held = (counts > 0).sum(axis=1)
    expected = int((classes_held == 1).sum())
    if np.ndim(answer) > 0:
        return verdict(False, "", "give one number (how many hospitals), not one value per hospital; "
                                  "sum up a True/False test over the hospitals")
    if close(answer, len(counts) - expected) and expected != len(counts) - expected:
        return verdict(False, "", "that counts the hospitals that hold *both* classes; the question "
                                  "asks for those with a single class")
    if close(answer, int((counts == 0).sum())) and int((counts == 0).sum()) != expected:
        return verdict(False, "", "that counts the empty cells of the table; count hospitals (rows) "
                                  "with exactly one non-zero cell instead")
    return verdict(close(answer, expected), f"{expected} of {len(counts)} hospitals see only one diagnosis",
                   "for every row of `counts`, count the non-zero cells, e.g. (counts > 0).sum(axis=1); "
                   "then count the rows where that is 1")


def check_remedy(answer: Any) -> Checked:
    """Exercise: the remedy for hospitals whose patients are alike but whose scanners differ."""
    if unanswered(answer):
        return Checked(False)
    if not isinstance(answer, str):
        return verdict(False, "", f"answer with a string, one of {', '.join(map(repr, REMEDIES))}")
    choice = answer.strip().lower().replace(" ", "").replace("-", "")
    hints = {
        "fedprox": "FedProx pulls every local model back towards the global one; it fights drift from "
                   "*label* skew, but the scanners would still produce different pixel statistics",
        "fedavgm": "server momentum smooths the global model's path from round to round; it does not "
                   "know that each hospital's images look different",
        "fedadam": "FedAdam adapts the server's step size per weight; it does not know that each "
                   "hospital's images look different",
    }
    if choice in hints:
        return verdict(False, "", hints[choice])
    if choice not in REMEDIES:
        return verdict(False, "", f"pick one of {', '.join(map(repr, REMEDIES))}")
    return verdict(True, "a feature shift (same diseases, different pixels) is what local "
                         "batch-norm statistics absorb", "")
