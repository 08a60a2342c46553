"""Checks for the exercises of ``05_privacy_attacks_and_defenses``."""

from __future__ import annotations

import math
from collections.abc import Sequence
from typing import Any

from fedlite.exercises import Checked, close, not_one_number_yet, unanswered, verdict
from fedlite.privacy.dp import dp_epsilon


def check_psnr(answer: Any, mse: float) -> Checked:
    """Exercise: the PSNR in dB of a reconstruction in ``[0, 1]`` whose MSE is ``mse``."""
    if (early := not_one_number_yet(answer)) is not None:
        return early
    expected = 10 * math.log10(1 / mse)
    if close(answer, -expected):
        return verdict(False, "", "right size, wrong sign: it is 10 log10(1 / MSE), and an MSE below 1 "
                                  "gives a positive number of dB")
    if close(answer, 2 * expected):
        return verdict(False, "", "that is 20 log10(1 / MSE); the 20 is for amplitudes (e.g. an RMSE), "
                                  "the MSE is already a power, so use 10")
    if close(answer, math.log(1 / mse)) or close(answer, 10 * math.log(1 / mse)):
        return verdict(False, "", "decibels use the base-10 logarithm: np.log10, not np.log")
    if close(answer, 1 / mse):
        return verdict(False, "", "that is the ratio 1 / MSE itself; convert it to decibels with 10 * log10(...)")
    return verdict(close(answer, expected, rel=1e-3), f"PSNR = 10 log10(1 / {mse:g}) = {expected:.2f} dB",
                   "PSNR = 10 * log10(peak^2 / MSE) with peak = 1 for images in [0, 1]")


def _pairs(answer: Any) -> set[frozenset[str]] | None:
    """``{("A", "C"), ...}`` as a set of unordered pairs, or ``None`` if it is not one."""
    try:
        pairs = {frozenset(str(name).strip().upper() for name in pair) for pair in answer}
    except TypeError:
        return None
    return pairs if all(len(p) == 2 for p in pairs) else None


def check_dangling_masks(answer: Any, hospitals: Sequence[str], dropped: Sequence[str]) -> Checked:
    """Exercise: which pairwise masks stay in the survivors' sum when ``dropped`` leave after masking."""
    if unanswered(answer):
        return Checked(False)
    pairs = _pairs(answer)
    if pairs is None:
        return verdict(False, "", 'answer with a set of pairs of hospital names, in the form {("X", "Y"), ("Y", "Z")}')
    gone = set(dropped)
    survivors = [h for h in hospitals if h not in gone]
    expected = {frozenset((s, d)) for s in survivors for d in gone}
    if pairs == expected:
        return verdict(True, "exactly the masks a survivor shares with a dropped hospital dangle; the "
                             "survivors reveal those seeds so the server can remove them", "")
    between_survivors = {p for p in pairs if p <= set(survivors)}
    if between_survivors:
        return verdict(False, "", "a mask shared by two survivors is added by one and subtracted by the other, "
                                  "so it cancels in their sum")
    if any(p <= gone for p in pairs):
        return verdict(False, "", "a mask between two dropped hospitals never reaches the server at all")
    if pairs < expected:
        return verdict(False, "", "some are missing: every survivor shares one mask with each dropped hospital")
    return verdict(False, "", "list the pairs (survivor, dropped hospital): those masks were added or "
                              "subtracted by a survivor, but their partner's copy never arrived")


def check_noise_std(answer: Any, clip: float, noise_multiplier: float, clients: int) -> Checked:
    """Exercise: the std of the Gaussian noise DP-FedAvg adds to each coordinate of the *mean* update."""
    if (early := not_one_number_yet(answer)) is not None:
        return early
    expected = noise_multiplier * clip / clients
    if close(answer, noise_multiplier * clip) and clients != 1:
        return verdict(False, "", "that is the noise std on the *sum* of the updates; the mean divides the "
                                  "sum, noise included, by the number of clients m")
    if close(answer, noise_multiplier * clip / clients**2):
        return verdict(False, "", "dividing a Gaussian by m divides its std by m (its variance by m^2); "
                                  "you divided the std twice")
    if close(answer, noise_multiplier / clients) or close(answer, noise_multiplier):
        return verdict(False, "", "the noise is measured in units of the clip norm S: multiply by S")
    if close(answer, noise_multiplier * clip / math.sqrt(clients)):
        return verdict(False, "", "the noise is added once, to the sum, not once per client: divide by m, not sqrt(m)")
    return verdict(close(answer, expected), f"each coordinate of the mean gets N(0, {expected:g}^2) noise",
                   "noise of std sigma * S on the sum; the mean is the sum divided by m")


def check_smallest_sigma(answer: Any, candidates: Sequence[float], *, target_epsilon: float,
                         rounds: int, sample_rate: float, delta: float) -> Checked:
    """Exercise: the smallest noise multiplier in ``candidates`` whose epsilon stays <= ``target_epsilon``."""
    if unanswered(answer):
        return Checked(False)
    try:
        sigma = float(answer)
    except (TypeError, ValueError):
        return verdict(False, "", "answer with one number from the list of candidates")
    if not any(close(sigma, c) for c in candidates):
        return verdict(False, "", f"pick one of the candidates {list(candidates)}")
    eps = {c: dp_epsilon(c, sample_rate, rounds, delta) for c in candidates}
    good = [c for c in candidates if eps[c] <= target_epsilon]
    if not good:
        raise ValueError("no candidate reaches the target epsilon; the exercise is set up wrongly")
    best = min(good)
    if close(sigma, best):
        return verdict(True, f"sigma = {best:g} spends epsilon = {eps[best]:.2f} <= {target_epsilon:g} "
                             f"in {rounds} rounds", "")
    if eps[min(candidates, key=lambda c: abs(c - sigma))] > target_epsilon:
        return verdict(False, "", "with that little noise epsilon goes over the target: more noise, smaller epsilon")
    return verdict(False, "", "that one keeps epsilon under the target, but a smaller noise multiplier "
                              "(better accuracy) does too")
