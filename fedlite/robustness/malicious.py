"""Faulty and malicious hospitals, and the server's first line of defence.

A *Byzantine* participant (Lamport, Shostak & Pease 1982) may send anything.
In federated learning that is a hospital whose update is wrong, by accident
or on purpose. This module simulates the classic cases, as ``on_update``
hooks for :func:`fedlite.simulation.run_federated` (and one data helper):

- **Label flipping** (data poisoning; Biggio, Nelson & Laskov 2012; Tolpegin
  et al. 2020): the hospital trains honestly on wrong labels,
  :func:`flip_labels`.
- **Scaled update** (model poisoning; Bagdasaryan et al. 2020 "boost" their
  update to replace the global model): ``w_t + s * Delta_k``, :func:`scaled`.
- **Sign-flipped update**: ``w_t - s * Delta_k``, pushing the model the
  opposite way, :func:`sign_flipped`.
- **Non-finite update**: a diverged or corrupted model full of NaN or Inf,
  :func:`non_finite_update`.

Here ``Delta_k = w_k - w_t`` is the honest update, and ``w_t`` the broadcast
global model, which a hook reads from the round's context.

The defences (coordinate-wise median, trimmed mean, Krum, and update
validation in front of any rule) are in :mod:`fedlite.robustness.defences`.
"""

from __future__ import annotations

import math
from collections.abc import Iterable
from dataclasses import replace

from fedlite.client import ClientResult
from fedlite.data import Data
from fedlite.simulation import RoundContext, UpdateHook
from fedlite.state import apply_update, update_of


def flip_labels(data: Data, num_classes: int | None = None) -> Data:
    """The same inputs with every label ``y`` replaced by ``C - 1 - y`` (``C`` classes).

    For two classes this swaps them: healthy becomes sick and sick healthy.
    """
    classes = data.num_classes if num_classes is None else num_classes
    if classes < 2 or (len(data) and int(data.y.max()) >= classes):
        raise ValueError(f"num_classes must be >= 2 and larger than every label; got {classes} "
                         f"for labels up to {int(data.y.max()) if len(data) else None}")
    return Data(data.x, classes - 1 - data.y)


def _scaling_hook(clients: Iterable[int], factor: float) -> UpdateHook:
    bad = frozenset(clients)

    def hook(context: RoundContext, client: int, result: ClientResult) -> ClientResult:
        if client not in bad:
            return result
        delta = {k: factor * d for k, d in update_of(result.state, context.broadcast).items()}
        return replace(result, state=apply_update(context.broadcast, delta, result.state))
    return hook


def _check_strength(factor: float) -> None:
    if not (isinstance(factor, (int, float)) and math.isfinite(factor) and factor > 0):
        raise ValueError(f"factor must be a positive number (how many times the honest update), got {factor!r}")


def scaled(clients: Iterable[int], factor: float) -> UpdateHook:
    """Hook: the hospitals in ``clients`` send ``w_t + factor * Delta_k`` instead of ``w_k``.

    ``factor > 1`` boosts the update so that it dominates the average: with
    FedAvg weights ``p_k = n_k / n``, one hospital moves the model by
    ``p_k * factor * Delta_k``.
    """
    _check_strength(factor)
    return _scaling_hook(clients, float(factor))


def sign_flipped(clients: Iterable[int], factor: float = 1.0) -> UpdateHook:
    """Hook: the hospitals in ``clients`` send ``w_t - factor * Delta_k``: their update, reversed (and scaled)."""
    _check_strength(factor)
    return _scaling_hook(clients, -float(factor))


def non_finite_update(clients: Iterable[int], value: float = float("nan")) -> UpdateHook:
    """Hook: the hospitals in ``clients`` send a model whose floating-point weights are all ``value``.

    ``value`` must be NaN or +-Inf: what a diverged run or a corrupted file produces.
    """
    if math.isfinite(value):
        raise ValueError(f"value must be NaN or +-Inf (a broken update), got {value!r}")
    bad = frozenset(clients)

    def hook(context: RoundContext, client: int, result: ClientResult) -> ClientResult:
        if client not in bad:
            return result
        state = {k: t.clone().fill_(value) if t.is_floating_point() else t.clone() for k, t in result.state.items()}
        return replace(result, state=state)
    return hook
