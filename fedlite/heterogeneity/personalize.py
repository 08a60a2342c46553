"""Personalization: one global model, adapted to each hospital after federated training.

FedAvg gives every hospital the *same* model, the one that fits the
federation as a whole. A hospital whose patients differ from the average may
be served better by a model of its own that still starts from what the
federation learned. The simplest way to get one is **local fine-tuning**
(Wang et al. 2019, "Federated evaluation of on-device personalization";
Yu, Bagdasaryan & Shmatikov 2020, "Salvaging federated learning by local
adaptation")::

    w_k = LocalTrain_k(w_global, E epochs)

that is, hospital ``k`` takes the final global weights and trains ``E`` more
epochs on its own patients, with the same local training code
(:func:`fedlite.client.local_train`) as in every round. ``E = 0`` is the
global model itself; a large ``E`` forgets the start and approaches the
hospital's local-only model, so ``E`` slides between the two.

With ``LocalConfig(mu=...)`` the local objective becomes
``F_k(v) + (mu / 2) ||v - w_global||^2``, the personal objective of Ditto
(Li, Hu, Beirami & Smith, ICML 2021), here solved once after training rather
than alongside the rounds: a larger ``mu`` keeps the personal model closer to
the global one.

The other personalization in the course, FedBN (Li et al. 2021), keeps the
batch-normalization layers local *during* training:
``run_federated(..., local_keys=batchnorm_keys(model))``.
"""

from __future__ import annotations

import copy
from collections.abc import Sequence
from dataclasses import replace

from torch import nn

from fedlite.client import LocalConfig, local_train
from fedlite.data import Data
from fedlite.simulation import round_seed


def fine_tune(model: nn.Module, data: Data, *, epochs: int, local: LocalConfig = LocalConfig(),
              seed: int) -> nn.Module:
    """A personal copy of the global ``model``, trained ``epochs`` more epochs on ``data``.

    Parameters
    ----------
    model : nn.Module
        The global model after federated training; it is left unchanged.
    data : Data
        The hospital's own training data.
    epochs : int
        Local epochs ``E >= 0``; ``0`` returns an untrained copy of ``model``.
        (``local.epochs`` is ignored: ``epochs`` replaces it.)
    local : LocalConfig
        Learning rate, batch size, optimizer and FedProx/Ditto ``mu`` of the fine-tuning.
    seed : int
        Seeds the mini-batch order (and dropout masks, if any).

    Returns
    -------
    nn.Module
        A new model holding the personalized weights ``w_k``.
    """
    if not isinstance(epochs, int) or isinstance(epochs, bool) or epochs < 0:
        raise ValueError(f"epochs must be a non-negative integer (0 = the global model itself), got {epochs!r}")
    if len(data) == 0:
        raise ValueError("this hospital has no training samples to fine-tune on; give it data or skip it")
    personal = copy.deepcopy(model)
    if epochs > 0:
        local_train(personal, data, replace(local, epochs=epochs), seed=seed)
    return personal


def fine_tune_all(model: nn.Module, clients: Sequence[Data], *, epochs: int,
                  local: LocalConfig = LocalConfig(), seed: int) -> list[nn.Module]:
    """:func:`fine_tune` the global ``model`` on every client: one personal model per hospital.

    Client ``k`` is fine-tuned with seed ``round_seed(seed, 0, k)`` (round 0: after training),
    so every hospital gets its own reproducible batch order.
    """
    if len(clients) == 0:
        raise ValueError("no clients: pass a list with at least one hospital's Data")
    return [fine_tune(model, data, epochs=epochs, local=local, seed=round_seed(seed, 0, k))
            for k, data in enumerate(clients)]
