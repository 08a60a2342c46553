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
global model, known through :class:`fedlite.systems.Broadcast`.

The robust aggregation rules themselves (coordinate-wise median, trimmed
mean, Krum) are in :mod:`fedlite.aggregate`. :class:`Validated` adds *update
validation* in front of any rule: reject what is non-finite or too large,
aggregate the rest, and keep a record of every rejection.
"""

from __future__ import annotations

import math
from collections.abc import Iterable, Mapping, Sequence
from dataclasses import dataclass, replace

import numpy as np
from torch import Tensor

from fedlite.aggregate import update_problems
from fedlite.client import ClientResult
from fedlite.data import Data
from fedlite.simulation import Aggregator, UpdateHook
from fedlite.systems import Broadcast, apply_update, update_of

State = Mapping[str, Tensor]


def flip_labels(data: Data, num_classes: int | None = None) -> Data:
    """The same inputs with every label ``y`` replaced by ``C - 1 - y`` (``C`` classes).

    For two classes this swaps them: healthy becomes sick and sick healthy.
    """
    classes = data.num_classes if num_classes is None else num_classes
    if classes < 2 or (len(data) and int(data.y.max()) >= classes):
        raise ValueError(f"num_classes must be >= 2 and larger than every label; got {classes} "
                         f"for labels up to {int(data.y.max()) if len(data) else None}")
    return Data(data.x, classes - 1 - data.y)


def _scaling_hook(broadcast: Broadcast, clients: Iterable[int], factor: float) -> UpdateHook:
    bad = frozenset(clients)

    def hook(round_: int, client: int, result: ClientResult) -> ClientResult:
        if client not in bad:
            return result
        delta = {k: factor * d for k, d in update_of(result.state, broadcast.state).items()}
        return replace(result, state=apply_update(broadcast.state, delta, result.state))
    return hook


def _check_strength(factor: float) -> None:
    if not (isinstance(factor, (int, float)) and math.isfinite(factor) and factor > 0):
        raise ValueError(f"factor must be a positive number (how many times the honest update), got {factor!r}")


def scaled(broadcast: Broadcast, clients: Iterable[int], factor: float) -> UpdateHook:
    """Hook: the hospitals in ``clients`` send ``w_t + factor * Delta_k`` instead of ``w_k``.

    ``factor > 1`` boosts the update so that it dominates the average: with
    FedAvg weights ``p_k = n_k / n``, one hospital moves the model by
    ``p_k * factor * Delta_k``.
    """
    _check_strength(factor)
    return _scaling_hook(broadcast, clients, float(factor))


def sign_flipped(broadcast: Broadcast, clients: Iterable[int], factor: float = 1.0) -> UpdateHook:
    """Hook: the hospitals in ``clients`` send ``w_t - factor * Delta_k``: their update, reversed (and scaled)."""
    _check_strength(factor)
    return _scaling_hook(broadcast, clients, -float(factor))


def non_finite_update(clients: Iterable[int], value: float = float("nan")) -> UpdateHook:
    """Hook: the hospitals in ``clients`` send a model whose floating-point weights are all ``value``.

    ``value`` must be NaN or +-Inf: what a diverged run or a corrupted file produces.
    """
    if math.isfinite(value):
        raise ValueError(f"value must be NaN or +-Inf (a broken update), got {value!r}")
    bad = frozenset(clients)

    def hook(round_: int, client: int, result: ClientResult) -> ClientResult:
        if client not in bad:
            return result
        state = {k: t.clone().fill_(value) if t.is_floating_point() else t.clone() for k, t in result.state.items()}
        return replace(result, state=state)
    return hook


@dataclass(frozen=True)
class Rejection:
    """One update the server refused: in which round, from which client, and why."""

    round: int
    client: int
    reason: str


class Validated:
    """An aggregator that checks every update before ``rule`` sees it.

    An update ``w_k`` is rejected (by :func:`fedlite.aggregate.update_problems`) if

    - it holds NaN or Inf, or
    - its change ``||w_k - w_t||`` exceeds ``max_norm``, or exceeds
      ``max_ratio`` times the median change of this round's finite updates
      (a limit that adapts as updates shrink during training).

    The remaining updates go to ``rule`` with their weights. If none remain,
    the global model stays ``w_t``. Nothing is dropped silently: every
    rejection is appended to ``rejected`` (round, client, reason). Use it as
    the ``aggregate`` of :meth:`fedlite.systems.Broadcast.hooks`, with the same
    ``broadcast``, which supplies ``w_t`` and the client ids.
    """

    def __init__(self, rule: Aggregator, broadcast: Broadcast, *, max_norm: float | None = None,
                 max_ratio: float | None = None) -> None:
        for name, limit in (("max_norm", max_norm), ("max_ratio", max_ratio)):
            if limit is not None and not (isinstance(limit, (int, float)) and limit > 0):
                raise ValueError(f"{name} must be a positive number or None, got {limit!r}")
        self.rule, self.broadcast = rule, broadcast
        self.max_norm, self.max_ratio = max_norm, max_ratio
        self.rejected: list[Rejection] = []

    def limit(self, states: Sequence[State]) -> float | None:
        """This round's norm limit: the smaller of ``max_norm`` and ``max_ratio`` x median change."""
        limits = [] if self.max_norm is None else [float(self.max_norm)]
        if self.max_ratio is not None:
            norms = [update_norm(s, self.broadcast.state) for s in states]
            finite = [n for n in norms if math.isfinite(n)]
            if finite and np.median(finite) > 0:
                limits.append(self.max_ratio * float(np.median(finite)))
        return min(limits) if limits else None

    def __call__(self, states: Sequence[State], weights: Sequence[float]) -> dict[str, Tensor]:
        if len(self.broadcast.arrived) != len(states):
            raise RuntimeError(f"got {len(states)} updates but the broadcast saw {len(self.broadcast.arrived)} "
                               "arrive; pass both hooks of broadcast.hooks(...) to run_federated")
        limit, kept, kept_weights = self.limit(states), [], []
        for client, state, weight in zip(self.broadcast.arrived, states, weights):
            problem = update_problems(state, self.broadcast.state, max_norm=limit)
            if problem is None:
                kept.append(state)
                kept_weights.append(weight)
            else:
                self.rejected.append(Rejection(self.broadcast.round, client, problem))
        if not kept:
            return {k: v.clone() for k, v in self.broadcast.state.items()}
        return self.rule(kept, kept_weights)

    def summary(self) -> str:
        """How many updates were rejected, per client and reason, in one line each."""
        if not self.rejected:
            return "no update rejected"
        counts: dict[tuple[int, str], int] = {}
        for r in self.rejected:
            key = (r.client, "NaN or Inf" if "NaN or Inf" in r.reason else "update too large")
            counts[key] = counts.get(key, 0) + 1
        return "\n".join(f"client {c}: {n} update(s) rejected ({why})" for (c, why), n in sorted(counts.items()))


def update_norm(state: State, reference: State) -> float:
    """``||w_k - w_t||`` over the floating-point tensors; ``inf``/``nan`` if ``w_k`` is not finite."""
    total = sum(float((d.double() ** 2).sum()) for d in update_of(state, reference).values())
    return math.sqrt(total) if not math.isnan(total) else math.nan
