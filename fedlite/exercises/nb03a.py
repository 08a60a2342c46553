"""Checks for the exercises of ``03a_non_iid_hospitals``."""

from __future__ import annotations

from typing import Any

import numpy as np

from fedlite.exercises import Checked, close, unanswered, verdict


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


def check_label_skew(answer: Any, counts: np.ndarray) -> Checked:
    """Exercise: the label skew of a partition computed by hand, the ``n_k / n``-weighted mean
    total-variation distance between each hospital's mix of labels and the federation's
    (:func:`fedlite.measure.label_skew`)::

        skew = sum_k (n_k / n) * 1/2 * sum_c |p_kc - p_c|
    """
    if unanswered(answer):
        return Checked(False)
    counts = np.asarray(counts, dtype=np.float64)
    if counts.ndim != 2 or (counts.sum(axis=1) == 0).any():
        raise ValueError("counts must be a hospitals x classes table in which every hospital holds a sample")
    if np.ndim(answer) > 0:
        return verdict(False, "", "give one number for the whole federation, not one per hospital: "
                                  "average the hospitals' distances with the weights n_k / n")
    sizes = counts.sum(axis=1)
    distances = 0.5 * np.abs(counts / sizes[:, None] - counts.sum(axis=0) / sizes.sum()).sum(axis=1)
    expected = float(np.dot(sizes / sizes.sum(), distances))
    wrong = {
        "plain": (float(distances.mean()), "that is the plain average over hospitals; weight each hospital's "
                                           "distance by n_k / n, as FedAvg weighs its update"),
        "half": (2 * expected, "that is twice the skew: the total-variation distance has a factor 1/2"),
    }
    for value, hint in wrong.values():
        if close(answer, value, rel=1e-4) and not close(value, expected, rel=1e-4):
            return verdict(False, "", hint)
    return verdict(close(answer, expected, rel=1e-4),
                   f"the label skew is {expected:.3f}; `label_skew(c)` computes the same",
                   "per hospital: p_k = row / n_k and p = column sums / n; distance = 0.5 * sum |p_k - p|; "
                   "then the n_k / n-weighted sum of the distances")
