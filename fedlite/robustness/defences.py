"""The server's defences against faulty and malicious hospitals: robust rules and update validation.

FedAvg is a mean, and one arbitrary update can move a mean anywhere. Two lines of defence:

- **Robust aggregation rules** replace the mean: coordinate-wise
  :func:`median` and :func:`trimmed_mean` (Yin et al. 2018) and
  :func:`krum` (Blanchard et al. 2017).
- **Update validation** (:class:`Validated`) checks every update in front of
  any rule: reject what is non-finite or too large, aggregate the rest, and
  keep a record of every rejection.

The attacks these defend against are simulated in
:mod:`fedlite.robustness.malicious`.
"""

from __future__ import annotations

import math
from collections.abc import Sequence
from dataclasses import dataclass, replace

import numpy as np
import torch
from torch import Tensor

from fedlite.aggregate import check_states, non_finite
from fedlite.checks import check_positive
from fedlite.simulation import Aggregator, RoundContext
from fedlite.state import State, cast_like, copy_state, distance, flatten, norm, update_of


# --- robust aggregation: when some hospitals send faulty or malicious updates -----------------
#
# FedAvg is a mean, and one arbitrary update can move a mean anywhere. The rules below look at
# every coordinate (or every whole update) across clients and ignore the extremes. They treat all
# clients alike: the sample counts (and the round's context) are accepted for a common signature
# and ignored, because a malicious client could simply lie about its n_k.


def _stack(states: Sequence[State], name: str) -> Tensor:
    return torch.stack([s[name].to(torch.float64) for s in states])


def median(states: Sequence[State], num_samples: Sequence[float] | None = None,
           context: RoundContext | None = None) -> dict[str, Tensor]:
    """Coordinate-wise median (Yin et al. 2018, "Byzantine-robust distributed learning").

    Each number of the new model is the median of that number over the
    clients (for an even count, the mean of the two middle values). Fewer
    than half of the clients cannot drag it outside the honest values.
    """
    check_states(states)
    return {name: cast_like(_stack(states, name).quantile(0.5, dim=0), ref) for name, ref in states[0].items()}


def trimmed_mean(states: Sequence[State], num_samples: Sequence[float] | None = None,
                 context: RoundContext | None = None, *, beta: float = 0.2) -> dict[str, Tensor]:
    """Coordinate-wise trimmed mean (Yin et al. 2018).

    For every coordinate, sort the clients' values, drop the ``floor(beta * K)``
    smallest and as many largest, and average the rest. ``beta = 0`` is the
    plain (unweighted) mean.
    """
    check_states(states)
    cut = int(beta * len(states))
    if not 0 <= beta < 0.5 or len(states) - 2 * cut < 1:
        raise ValueError(f"beta must be in [0, 0.5) and leave at least one client; got beta={beta!r} "
                         f"for {len(states)} clients")
    out = {}
    for name, ref in states[0].items():
        ordered = _stack(states, name).sort(dim=0).values
        out[name] = cast_like(ordered[cut:len(states) - cut].mean(dim=0), ref)
    return out


def krum(states: Sequence[State], num_samples: Sequence[float] | None = None,
         context: RoundContext | None = None, *, f: int = 1) -> dict[str, Tensor]:
    """Krum (Blanchard et al. 2017, "Machine learning with adversaries: Byzantine tolerant
    gradient descent"): pick the one update closest to its neighbours.

    For each client ``i``, sum the squared distances to its ``K - f - 2``
    nearest other clients; return (a copy of) the client with the smallest
    sum. Needs ``K >= 2f + 3`` clients to tolerate ``f`` attackers.
    """
    check_states(states)
    k = len(states)
    if f < 0 or k < 2 * f + 3:
        raise ValueError(f"Krum with f={f} attackers needs at least {2 * f + 3} clients, got {k}")
    flat = torch.stack([flatten(s) for s in states])
    squared = torch.cdist(flat, flat) ** 2
    scores = [squared[i][torch.arange(k) != i].sort().values[:k - f - 2].sum() for i in range(k)]
    best = int(torch.stack(scores).argmin())
    return {name: t.clone() for name, t in states[best].items()}


def update_problems(update: State, reference: State, *, max_norm: float | None = None) -> str | None:
    """Why the server should reject ``update`` (a client's new state), or ``None`` if it is acceptable.

    Rejects non-finite values, and (if ``max_norm`` is given) a change
    ``||update - reference||`` larger than ``max_norm``.
    """
    if max_norm is not None and not max_norm > 0:
        raise ValueError(f"max_norm must be > 0, got {max_norm!r}")
    if (bad := non_finite(update)) is not None:
        return f"parameter {bad!r} contains NaN or Inf"
    if max_norm is not None and (change := distance(update, reference)) > max_norm:
        return f"update norm {change:.3g} exceeds the limit {max_norm:.3g}"
    return None


@dataclass(frozen=True)
class Rejection:
    """One update the server refused: in which round, from which client, and why."""

    round: int
    client: int
    reason: str


class Validated:
    """An aggregator that checks every update before ``rule`` sees it.

    An update ``w_k`` is rejected (by :func:`update_problems`) if

    - it holds NaN or Inf, or
    - its change ``||w_k - w_t||`` exceeds ``max_norm``, or exceeds
      ``max_ratio`` times the median change of this round's finite updates
      (a limit that adapts as updates shrink during training).

    ``w_t`` and the clients' ids come from the round's context. The remaining
    updates go to ``rule`` with their sample counts. If none remain, the
    global model stays ``w_t``. Nothing is dropped silently: every rejection
    is appended to ``rejected`` (round, client, reason).
    """

    def __init__(self, rule: Aggregator, *, max_norm: float | None = None, max_ratio: float | None = None) -> None:
        for name, limit in (("max_norm", max_norm), ("max_ratio", max_ratio)):
            if limit is not None:
                check_positive(limit, f"{name} (or None)")
        self.rule, self.max_norm, self.max_ratio = rule, max_norm, max_ratio
        self.rejected: list[Rejection] = []

    def limit(self, states: Sequence[State], broadcast: State) -> float | None:
        """This round's norm limit: the smaller of ``max_norm`` and ``max_ratio`` x median change."""
        limits = [] if self.max_norm is None else [float(self.max_norm)]
        if self.max_ratio is not None:
            norms = [norm(update_of(s, broadcast)) for s in states]
            finite = [n for n in norms if math.isfinite(n)]
            if finite and np.median(finite) > 0:
                limits.append(self.max_ratio * float(np.median(finite)))
        return min(limits) if limits else None

    def __call__(self, states: Sequence[State], num_samples: Sequence[float],
                 context: RoundContext) -> dict[str, Tensor]:
        limit, kept, kept_counts, kept_ids = self.limit(states, context.broadcast), [], [], []
        for client, state, n_k in zip(context.arrived, states, num_samples, strict=True):
            problem = update_problems(state, context.broadcast, max_norm=limit)
            if problem is None:
                kept.append(state)
                kept_counts.append(n_k)
                kept_ids.append(client)
            else:
                self.rejected.append(Rejection(context.round, client, problem))
        if not kept:
            return copy_state(context.broadcast)
        return self.rule(kept, kept_counts, replace(context, arrived=tuple(kept_ids)))

    def summary(self) -> str:
        """How many updates were rejected, per client and reason, in one line each."""
        if not self.rejected:
            return "no update rejected"
        counts: dict[tuple[int, str], int] = {}
        for r in self.rejected:
            key = (r.client, "NaN or Inf" if "NaN or Inf" in r.reason else "update too large")
            counts[key] = counts.get(key, 0) + 1
        return "\n".join(f"client {c}: {n} update(s) rejected ({why})" for (c, why), n in sorted(counts.items()))
