"""Checks for the exercises of ``03b_real_hospitals``."""

from __future__ import annotations

from collections.abc import Sequence
from typing import Any

import numpy as np

from fedlite.exercises import Checked, close, not_one_number_yet, unanswered, verdict

REMEDIES = ("fedprox", "fedavgm", "fedadam", "fedbn")


def check_federated_mean(answer: Any, shares: Sequence[tuple[int, float]]) -> Checked:
    """Exercise: the pooled mean of a feature from each hospital's ``(n_k, sum_k)`` pair."""
    if (early := not_one_number_yet(answer)) is not None:
        return early
    n = np.array([s[0] for s in shares], dtype=np.float64)
    sums = np.array([s[1] for s in shares], dtype=np.float64)
    expected = sums.sum() / n.sum()
    unweighted = float(np.mean(sums / n))
    if close(answer, unweighted, rel=1e-4) and not close(unweighted, expected, rel=1e-4):
        return verdict(False, "", "that is the plain average of the hospitals' means, so a hospital with "
                                  "30 patients counts as much as one with 199; weight each by n_k")
    if close(answer, sums.sum(), rel=1e-4):
        return verdict(False, "", "that is the total over all patients; divide by the number of patients N")
    if close(answer, sums.sum() / len(shares), rel=1e-4):
        return verdict(False, "", "divide by the number of patients N = sum of n_k, not by the number "
                                  "of hospitals")
    return verdict(close(answer, expected, rel=1e-4),
                   f"the federated mean is {expected:.2f}, exactly the pooled one, and no row left a hospital",
                   "the pooled mean is (sum of all values) / (number of patients): "
                   "(s_1 + ... + s_K) / (n_1 + ... + n_K)")


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
