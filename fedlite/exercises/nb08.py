"""Checks for the exercises of ``08_from_simulation_to_hospitals``."""

from __future__ import annotations

from collections.abc import Mapping
from typing import Any

from fedlite.datasets.readers import HEART_FEATURES
from fedlite.exercises import Checked, close, not_a_complete_dict, unanswered, verdict
from fedlite.models import make_model

HOSPITALS = ("cleveland", "hungarian", "switzerland", "va")
FLOAT32_BYTES = 4


def _logreg_weights() -> int:
    """Numbers in the app's model: logistic regression on the 13 UCI features + ``chol_missing``."""
    model = make_model("logreg", seed=0, in_features=len(HEART_FEATURES) + 1)
    return sum(p.numel() for p in model.parameters())


def check_bytes_up(answer: Any) -> Checked:
    """Exercise 1: the course's ``bytes_up`` of one round with all four hospitals answering."""
    if unanswered(answer):
        return Checked(False)
    weights = _logreg_weights()
    expected = weights * FLOAT32_BYTES * len(HOSPITALS)
    if close(answer, weights * FLOAT32_BYTES):   # (also the weights x 4 hospitals, forgetting the 4 bytes)
        return verdict(False, "", "that is one hospital's upload in bytes (or four hospitals' weights counted as "
                                  "numbers); count bytes, for all four hospitals")
    if close(answer, weights):
        return verdict(False, "", "that counts one hospital's numbers; a float32 takes 4 bytes, and 4 hospitals send")
    inputs = len(HEART_FEATURES) + 1
    if close(answer, (weights - 2) * FLOAT32_BYTES * len(HOSPITALS)):   # 13 inputs + biases, or 14 without biases
        return verdict(False, "", f"count {inputs} inputs (the {inputs - 1} UCI features and the chol_missing "
                                  f"indicator) x 2 classes, plus one bias per class")
    return verdict(close(answer, expected, rel=0, abs_=0.5),
                   f"{expected} bytes: {weights} float32 weights x 4 bytes x 4 hospitals",
                   "multiply the number of weights by the bytes per float32 and by the hospitals that answer")


def check_overhead(answer: Any, runs: Mapping[str, Any]) -> Checked:
    """Exercise 2: Flower's received train bytes in round 1 over fedlite's ``bytes_up``."""
    if unanswered(answer):
        return Checked(False)
    train = [m for m in runs["deployment"]["messages"] if m["type"] == "train"]
    flower, course = train[0]["bytes_up"], runs["fedlite"]["bytes_up"][0]
    if close(answer, course / flower, rel=1e-2):
        return verdict(False, "", "that is the inverse: divide Flower's bytes by the course's")
    if close(answer, train[0]["bytes_down"] / runs["fedlite"]["bytes_down"][0], rel=1e-2) \
            and not close(answer, flower / course, rel=1e-2):
        return verdict(False, "", "that is the download direction; the exercise asks about bytes going up")
    return verdict(close(answer, flower / course, rel=1e-2),
                   f"Flower's replies were {flower / course:.1f} times the weights they carry",
                   "divide flower_up[0] (bytes Flower received in round 1) by runs['fedlite']['bytes_up'][0]")


def check_drill_weights(answer: Any, runs: Mapping[str, Any]) -> Checked:
    """Exercise 3: the FedAvg weights of the three hospitals that answered round 2 of the drill."""
    if unanswered(answer):
        return Checked(False)
    left = [h for h in HOSPITALS if h != runs["drill"]["killed"]]
    problem = not_a_complete_dict(answer, left, example='{"cleveland": 0.5, ...}',
                                  ask="give a weight for each hospital that answered")
    if problem is not None:
        return problem
    counts = {h: runs["deployment"]["loaded"][h]["n-train"] for h in HOSPITALS}
    expected = {h: counts[h] / sum(counts[h] for h in left) for h in left}
    try:
        values = {h: float(answer[h]) for h in left}
    except (TypeError, ValueError):
        return verdict(False, "", "each weight must be a number")
    with_va = {h: counts[h] / sum(counts.values()) for h in left}
    if all(close(values[h], with_va[h], rel=1e-3) for h in left):
        return verdict(False, "", "those weights still count VA's patients in n; VA's update never arrived, "
                                  "so n is the sum over the three that answered (they add up to 1)")
    if all(close(values[h], 1 / len(left), rel=1e-3) for h in left):
        return verdict(False, "", "FedAvg does not weight hospitals equally: use n_k / n")
    return verdict(all(close(values[h], expected[h], rel=1e-3) for h in left),
                   "n_k / (n_Cleveland + n_Hungarian + n_Switzerland): the three weights add up to 1",
                   "weight = that hospital's n-train divided by the sum over the hospitals that answered")
