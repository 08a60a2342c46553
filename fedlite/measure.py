"""Measure what FedAvg does and how different the hospitals are.

Notebooks 02 and 03 use these to check the FedAvg math numerically and to
put numbers on non-IID data:

- :func:`gradient` -- the full-batch gradient of a hospital's loss ``F_k(w)``,
  as a state-like dict, so :func:`fedlite.aggregate.fedavg` can average
  gradients exactly as it averages weights. Because the pooled loss is
  ``f(w) = sum_k (n_k / n) F_k(w)``, its gradient is
  ``fedavg([gradient(model, d) for d in hospitals], sizes)``.
- :func:`flatten`, :func:`distance` (from :mod:`fedlite.state`), :func:`spread` -- one model as one
  vector, how far apart two models are, and how far a round's client models
  drift from their average.
- :func:`local_steps` -- ``u_k = E * ceil(n_k / B)``, the SGD steps one
  hospital takes per round (McMahan et al. 2017 write ``u = E n / (K B)``).
- :func:`label_skew` looks at the *data*: how far each hospital's mix of
  diagnoses is from the federation's overall mix.
- :func:`client_drift` looks at the *updates*: starting from the same global
  model, every hospital trains one round on its own data; do the hospitals
  pull the model the same way, or do their updates cancel out in the average?

Under label skew each hospital minimizes its own loss ``F_k``, whose minimum
is not the minimum of the federation's ``F = sum_k (n_k / n) F_k``. The local
models drift towards their own optima (Karimireddy et al. 2020, "SCAFFOLD:
Stochastic controlled averaging for federated learning", call this *client
drift*), and the more local steps they take, the further they drift. FedProx,
server optimizers and FedBN (see :mod:`fedlite.client`, :mod:`fedlite.server`,
:func:`fedlite.simulation.batchnorm_keys`) are answers to it.
"""

from __future__ import annotations

import math
from collections.abc import Sequence
from dataclasses import dataclass

import numpy as np
import torch
import torch.nn.functional as F
from torch import Tensor, nn

from fedlite.aggregate import fedavg
from fedlite.client import LocalConfig, local_train
from fedlite.data import Data
from fedlite.simulation import round_seed
from fedlite.state import State, copy_state, distance, flatten, update_of


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


def spread(states: Sequence[State], weights: Sequence[float] | None = None) -> float:
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


def label_skew(counts: np.ndarray) -> float:
    """Label skew of a partition: the ``n_k / n``-weighted mean total-variation
    distance between each client's label mix and the overall one.

    With ``counts[k, c]`` from :func:`fedlite.heterogeneity.partition.label_counts`,
    ``p_k = counts[k] / n_k`` (client ``k``'s mix) and ``p = counts.sum(0) / n``::

        skew = sum_k (n_k / n) * 1/2 * sum_c |p_kc - p_c|

    0 means every client has the overall mix (IID labels). The largest value,
    reached when every client holds a single class, is ``1 - sum_c p_c^2``
    (``2 p (1 - p)`` for two classes), so compare skews on the same dataset.
    """
    counts = np.asarray(counts, dtype=np.float64)
    if counts.ndim != 2 or counts.shape[0] == 0 or (counts < 0).any():
        raise ValueError(f"counts must be a non-negative clients x classes table, got shape {counts.shape}; "
                         "build it with fedlite.heterogeneity.partition.label_counts(labels, parts)")
    sizes = counts.sum(axis=1)
    if (sizes == 0).any():
        raise ValueError(f"clients {np.flatnonzero(sizes == 0).tolist()} hold no samples; drop them first")
    overall = counts.sum(axis=0) / sizes.sum()
    distances = 0.5 * np.abs(counts / sizes[:, None] - overall).sum(axis=1)
    return float(np.dot(sizes / sizes.sum(), distances))


@dataclass
class Drift:
    """One round of local training from a common start, measured per client.

    ``update_norms[k]`` is ``||Delta_k||`` with ``Delta_k = w_k - w``;
    ``cosines[k]`` is the cosine between ``Delta_k`` and the FedAvg update
    ``Delta = sum_k (n_k / n) Delta_k``; ``states[k]`` is client ``k``'s
    locally trained model (before any averaging).
    """

    update_norms: np.ndarray
    cosines: np.ndarray
    average_norm: float
    weights: np.ndarray
    states: list[dict[str, Tensor]]

    @property
    def agreement(self) -> float:
        """``||sum_k p_k Delta_k|| / sum_k p_k ||Delta_k||`` in ``[0, 1]`` (``p_k = n_k / n``).

        1 when all clients move the model in the same direction; near 0 when
        their updates cancel out in the average, i.e. strong client drift.
        """
        mean_length = float(np.dot(self.weights, self.update_norms))
        return self.average_norm / mean_length if mean_length > 0 else 1.0

    @property
    def spread(self) -> float:
        """:func:`spread` of the clients' models: ``sum_k p_k ||w_k - w_bar||``."""
        return spread(self.states, self.weights)


def client_drift(model: nn.Module, clients: Sequence[Data], local: LocalConfig, *,
                 seed: int = 0) -> Drift:
    """Train a copy of ``model``'s current weights on every client for one round, without averaging.

    ``model`` is left holding the weights it came with. Client ``k`` uses the
    same seed as in round 1 of :func:`fedlite.simulation.run_federated`, so
    from a fresh model this is exactly that run's first round.
    """
    if len(clients) == 0:
        raise ValueError("client_drift needs at least one client's Data")
    start = copy_state(model)
    states = []
    for k, data in enumerate(clients):
        model.load_state_dict(start)
        states.append(local_train(model, data, local, seed=round_seed(seed, 1, k)).state)
    model.load_state_dict(start)
    weights = np.array([len(c) for c in clients], dtype=np.float64)
    weights /= weights.sum()
    updates = [flatten(update_of(s, start)) for s in states]
    average = sum(float(p) * u for p, u in zip(weights, updates))
    norms = np.array([u.norm().item() for u in updates])
    avg_norm = float(average.norm())  # type: ignore[union-attr]
    cosines = np.array([float(u @ average) / (n * avg_norm) if n > 0 and avg_norm > 0 else 1.0
                        for u, n in zip(updates, norms)])
    return Drift(norms, cosines, avg_norm, weights, states)
