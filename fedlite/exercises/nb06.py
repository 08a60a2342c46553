"""Checks for the exercises of ``06_systems_and_robustness``."""

from __future__ import annotations

from collections.abc import Mapping, Sequence
from typing import Any

import numpy as np
from torch import Tensor

from fedlite.exercises import Checked, close, not_one_number_yet, unanswered, verdict


def check_quantized_upload(answer: Any, state: Mapping[str, Tensor], bits: int) -> Checked:
    """Exercise: bytes one hospital uploads when every tensor of its update is quantized to ``bits`` bits.

    Per tensor: ``ceil(numel * bits / 8)`` bytes of levels plus 8 bytes (``lo`` and the step, 2 x float32).
    """
    if (early := not_one_number_yet(answer)) is not None:
        return early
    sizes = [t.numel() for t in state.values()]
    expected = sum((n * bits + 7) // 8 + 8 for n in sizes)
    levels_only = sum((n * bits + 7) // 8 for n in sizes)
    if close(answer, levels_only):
        return verdict(False, "", "almost: each tensor also sends its minimum lo and its step size, "
                                  "two float32 numbers (8 bytes) per tensor")
    in_bits = sum(n * bits for n in sizes)
    if close(answer, 4 * sum(sizes)) and close(answer, in_bits):
        return verdict(False, "", "that is 4 x the number of values: the float32 update in bytes, or the levels "
                                  "counted in *bits*; a byte holds 8 bits")
    if close(answer, in_bits) or close(answer, in_bits + 64 * len(sizes)):
        return verdict(False, "", "that counts bits; a byte holds 8 bits")
    if close(answer, 4 * sum(sizes)):
        return verdict(False, "", "that is the uncompressed float32 update (4 bytes a number)")
    if close(answer, sum(n + 8 for n in sizes)) and bits != 8:
        return verdict(False, "", f"that is the 8-bit size; the question asks for {bits} bits a number")
    return verdict(close(answer, expected, rel=0, abs_=0.5),
                   f"{expected:,} bytes, {4 * sum(sizes) / expected:.1f}x less than float32",
                   "for every tensor: numel * bits / 8 bytes (rounded up) plus 8 bytes for lo and the step; "
                   "then sum over the tensors of the state")


def _names(answer: Any, names: Sequence[str]) -> set[str] | None:
    """The answer as a set of hospital names (indices are accepted too), or ``None`` if it is not one."""
    if isinstance(answer, (str, bytes)) or not hasattr(answer, "__iter__"):
        return None
    out = set()
    for item in answer:
        if isinstance(item, (int, np.integer)) and 0 <= int(item) < len(names):
            out.add(names[int(item)])
        elif isinstance(item, str) and item.strip().lower() in {n.lower() for n in names}:
            out.add(next(n for n in names if n.lower() == item.strip().lower()))
        else:
            return None
    return out


def check_on_time(answer: Any, sizes: Sequence[int], speeds: Sequence[float], deadline: float,
                  names: Sequence[str]) -> Checked:
    """Exercise: which hospitals finish a round (``n_k / speed_k`` seconds) within the deadline?"""
    if unanswered(answer):
        return Checked(False)
    chosen = _names(answer, names)
    if chosen is None:
        return verdict(False, "", f"answer with a list of hospital names, e.g. [{names[0]!r}]")
    times = [n / s for n, s in zip(sizes, speeds)]
    expected = {h for h, t in zip(names, times) if t <= deadline}
    if chosen == expected:
        return verdict(True, f"{', '.join(sorted(expected))} report in time; the others are dropped this round", "")
    if chosen == {h for h, n, s in zip(names, sizes, speeds) if s / n <= deadline} and chosen != expected:
        return verdict(False, "", "time is work divided by speed: n_k / speed_k, not speed_k / n_k")
    if chosen == set(names) - expected:
        return verdict(False, "", "those are the hospitals that miss the deadline; the question asks who arrives")
    by_speed = {h for h, _ in sorted(zip(names, speeds), key=lambda p: -p[1])[:len(expected)]}
    by_size = {h for h, _ in sorted(zip(names, sizes), key=lambda p: p[1])[:len(expected)]}
    if chosen == by_speed != expected:
        return verdict(False, "", "a fast machine is not enough: a hospital with many patients has more work; "
                                  "compare n_k / speed_k with the deadline")
    if chosen == by_size != expected:
        return verdict(False, "", "few patients are not enough: a slow machine takes long even for them; "
                                  "compare n_k / speed_k with the deadline")
    return verdict(False, "", "for each hospital compute seconds = n_k / speed_k and keep those with "
                              "seconds <= deadline")


def check_robust_by_hand(answer: Any, values: Sequence[float], beta: float) -> Checked:
    """Exercise: the coordinate-wise ``(median, trimmed mean)`` of one weight sent by several hospitals."""
    if unanswered(answer):
        return Checked(False)
    try:
        med, trimmed = (float(a) for a in answer)
    except (TypeError, ValueError):
        return verdict(False, "", "answer with a pair of numbers: (median, trimmed_mean)")
    ordered = sorted(values)
    cut = int(beta * len(values))
    expected = (float(np.median(values)), float(np.mean(ordered[cut:len(values) - cut])))
    right = [close(med, expected[0], rel=1e-6), close(trimmed, expected[1], rel=1e-6)]
    if all(right):
        return verdict(True, f"median {expected[0]:g}, trimmed mean {expected[1]:.4g}: the attacker's value "
                             "moves neither far, while the plain mean would be dragged along", "")
    if not right[0]:
        if close(med, values[len(values) // 2], rel=1e-6):
            return verdict(False, "", "the median is the middle value after *sorting*, not the middle of the list")
        if close(med, float(np.mean(values)), rel=1e-6):
            return verdict(False, "", "that is the plain mean for the median; sort the values and take the middle one")
        return verdict(False, "", "the median: sort the values and take the middle one")
    worst = max(values, key=lambda v: abs(v - expected[0]))
    without_worst = [v for v in values if v != worst]
    if close(trimmed, float(np.mean(values)), rel=1e-6):
        return verdict(False, "", "the median is right; the second number is the plain mean, nothing trimmed")
    if close(trimmed, float(np.mean(without_worst)), rel=1e-6):
        return verdict(False, "", "the median is right; trimming removes the floor(beta * K) smallest *and* as many "
                                  "largest values, not only the suspicious one")
    return verdict(False, "", "the median is right; for the trimmed mean sort the values, drop floor(beta * K) "
                              "from each end and average the rest")
