"""Checks for the exercises of ``03b_real_hospitals``."""

from __future__ import annotations

from collections.abc import Sequence
from typing import Any

import numpy as np

from fedlite.exercises import Checked, close, unanswered, verdict


def check_federated_mean(answer: Any, shares: Sequence[tuple[int, float]]) -> Checked:
    """Exercise: the pooled mean of a feature from each hospital's ``(n_k, sum_k)`` pair."""
    if unanswered(answer):
        return Checked(False)
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


def check_federated_std(answer: Any, sums: Sequence[tuple[int, float, float]]) -> Checked:
    """Exercise: the pooled (population) standard deviation of a feature from each hospital's
    ``(n_k, s_k, q_k)`` with ``s_k = sum x`` and ``q_k = sum x^2``:
    ``std = sqrt(sum q_k / N - (sum s_k / N)^2)`` with ``N = sum n_k``."""
    if unanswered(answer):
        return Checked(False)
    table = np.asarray(sums, dtype=np.float64)
    if table.ndim != 2 or table.shape[1] != 3:
        raise ValueError("sums must be a list of (n_k, s_k, q_k) triples, one per hospital")
    if np.ndim(answer) > 0:
        return verdict(False, "", "give one number, the standard deviation of the whole federation")
    n, s, q = table.sum(axis=0)
    variance = q / n - (s / n) ** 2
    expected = float(np.sqrt(variance))
    local = np.sqrt(np.maximum(table[:, 2] / table[:, 0] - (table[:, 1] / table[:, 0]) ** 2, 0))
    if close(answer, variance, rel=1e-4) and not close(variance, expected, rel=1e-4):
        return verdict(False, "", "that is the variance; take its square root")
    if close(answer, float(np.sqrt(q / n)), rel=1e-4):
        return verdict(False, "", "sqrt(sum q_k / N) is the root mean square; subtract the squared mean "
                                  "before taking the root")
    if close(answer, float(np.average(local, weights=table[:, 0])), rel=1e-4) or close(answer, float(local.mean()),
                                                                                        rel=1e-4):
        return verdict(False, "", "an average of the hospitals' own standard deviations misses how far their "
                                  "means lie apart; pool the sums first, then apply the formula once")
    return verdict(close(answer, expected, rel=1e-4),
                   f"the federated standard deviation is {expected:.2f}, the pooled one, from three sums per hospital",
                   "N = sum of n_k, mean = (sum of s_k) / N, std = sqrt((sum of q_k) / N - mean^2)")
