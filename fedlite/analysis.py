"""Measure what FedAvg does: gradients, distances between models, local steps, rounds to a target.

Notebook 02 uses these to check the FedAvg math numerically:

- :func:`gradient` -- the full-batch gradient of a hospital's loss ``F_k(w)``,
  as a state-like dict, so :func:`fedlite.aggregate.fedavg` can average
  gradients exactly as it averages weights. Because the pooled loss is
  ``f(w) = sum_k (n_k / n) F_k(w)``, its gradient is
  ``fedavg([gradient(model, d) for d in hospitals], sizes)``.
- :func:`flatten`, :func:`distance` (from :mod:`fedlite.models`), :func:`spread` -- one model as one
  vector, how far apart two models are, and how far a round's client models
  drift from their average (client drift).
- :func:`local_steps` -- ``u_k = E * ceil(n_k / B)``, the SGD steps one
  hospital takes per round (McMahan et al. 2017 write ``u = E n / (K B)``).
- :func:`run_until` -- FedAvg that stops as soon as a test metric reaches a
  target, for "rounds to reach the target" tables such as Table 2 of McMahan,
  Moore, Ramage, Hampson & Agüera y Arcas, "Communication-efficient learning
  of deep networks from decentralized data", AISTATS 2017.
"""

from __future__ import annotations

import math
from collections.abc import Mapping, Sequence
from dataclasses import replace
from typing import Any

import torch
import torch.nn.functional as F
from torch import Tensor, nn

from fedlite.aggregate import fedavg
from fedlite.data import Data
from fedlite.models import distance, flatten  # noqa: F401  (re-exported: notebook 02 meets them here)
from fedlite.history import History
from fedlite.simulation import round_seed, run_federated


def gradient(model: nn.Module, data: Data) -> dict[str, Tensor]:
    """``grad F_k(w)``: the gradient of the mean cross-entropy of ``model`` on all of ``data``.

    One entry per trainable parameter (same names as in ``model.state_dict()``);
    the model's weights are not changed. The model is in training mode while
    the gradient is taken, as in :func:`fedlite.client.local_train`.
    """
    if len(data) == 0:
        raise ValueError("cannot take a gradient on empty data: give the hospital at least one sample")
    params = dict(model.named_parameters())
    model.train()
    loss = F.cross_entropy(model(data.x), data.y)
    grads = torch.autograd.grad(loss, list(params.values()))
    return {name: g.detach().clone() for name, g in zip(params, grads)}


def spread(states: Sequence[Mapping[str, Tensor]], weights: Sequence[float] | None = None) -> float:
    """Client drift: ``sum_k p_k ||w_k - w_bar||`` with ``w_bar = sum_k p_k w_k``.

    ``weights`` (e.g. the sizes ``n_k``) give ``p_k = n_k / n``; equal by default.
    Zero exactly when every client holds the same model.
    """
    weights = [1.0] * len(states) if weights is None else list(weights)
    center = fedavg(states, weights)
    total = float(sum(weights))
    return sum(w / total * distance(s, center) for s, w in zip(states, weights))


def local_steps(n_k: int, epochs: int, batch_size: int | None) -> int:
    """``u_k = E * ceil(n_k / B)``: the SGD steps a hospital with ``n_k`` samples takes per round.

    ``batch_size=None`` (full batch, ``B = infinity``) means one step per epoch.
    The last batch of an epoch may be smaller than ``B``; it still counts as a step.
    """
    if n_k < 1 or epochs < 1 or (batch_size is not None and batch_size < 1):
        raise ValueError(f"need n_k >= 1, epochs >= 1 and batch_size >= 1 or None; "
                         f"got {n_k}, {epochs}, {batch_size}")
    return epochs * (1 if batch_size is None else math.ceil(n_k / batch_size))


def run_until(model: nn.Module, clients: Sequence[Data], test: Data, *, target: float,
              max_rounds: int, key: str = "auc", seed: int = 0, name: str = "FedAvg",
              **kwargs: Any) -> History:
    """FedAvg (:func:`fedlite.simulation.run_federated`), one round at a time, stopping
    at the first round whose test ``key`` reaches ``target`` (or after ``max_rounds``).

    ``kwargs`` go to ``run_federated`` (``local=``, ``fraction=``, ...). Round
    ``t`` runs with seed ``round_seed(seed, t, 0)``, so a run is reproducible;
    ``history.rounds_to(target, key)`` is then the last round, or ``None`` if
    the target was not reached.
    """
    if not isinstance(max_rounds, int) or max_rounds < 1:
        raise ValueError(f"max_rounds must be a positive integer, got {max_rounds!r}")
    history = History(name)
    for t in range(1, max_rounds + 1):
        one = run_federated(model, clients, test, rounds=1, seed=round_seed(seed, t, 0),
                            name=name, progress=False, **kwargs)
        history.rounds.append(replace(one.rounds[0], round=t))
        if history.rounds[-1].test[key] >= target:
            break
    return history
