"""The two workloads of issue 13's speed goals, built the same way for fedlite and for Flower.

- ``table``: the 740 heart-disease rows (all 4 hospitals, train and test), standardized,
  split IID into K = 100 clients of 7-8 rows; logistic regression, E = 1, B = 8, lr 0.05.
  Test set: FLamby's 254 test rows.
- ``cnn``: the first 4,700 PneumoniaMNIST training images in K = 10 IID clients of 470;
  the course CNN (SmallCNN, no BatchNorm), E = 1, B = 32, lr 0.05. Test set: the first
  624 test images.
"""

from __future__ import annotations

from collections.abc import Callable
from typing import NamedTuple

import torch
from torch import nn

import fedlite as fl
from fedlite.heterogeneity.partition import iid


class Workload(NamedTuple):
    clients: list[fl.Data]
    pooled: fl.Data
    test: fl.Data
    model: Callable[[int], nn.Module]   # seed -> a fresh model
    local: fl.LocalConfig


def table(num_clients: int = 100) -> Workload:
    from fedlite.datasets import load_heart_disease

    heart = load_heart_disease()
    rows = fl.pool([heart[h][s] for h in heart for s in ("train", "test")])
    mean, std = rows.x.mean(0), rows.x.std(0).clamp(min=1e-6)
    scale = lambda d: fl.Data((d.x - mean) / std, d.y)  # noqa: E731
    pooled = scale(rows)
    test = scale(fl.pool([heart[h]["test"] for h in heart]))
    clients = fl.subsets(pooled, iid(len(pooled), num_clients, seed=0))
    return Workload(clients, pooled, test, lambda seed: fl.make_model("logreg", seed=seed, in_features=13),
                    fl.LocalConfig(epochs=1, batch_size=8, lr=0.05))


def cnn(num_clients: int = 10, n: int = 4700) -> Workload:
    from fedlite.datasets import load_medmnist

    splits = load_medmnist("pneumoniamnist")
    pooled = splits["train"].subset(range(n))
    clients = fl.subsets(pooled, iid(n, num_clients, seed=0))
    test = splits["test"].subset(range(624))
    return Workload(clients, pooled, test, lambda seed: fl.make_model("cnn", seed=seed),
                    fl.LocalConfig(epochs=1, batch_size=32, lr=0.05))


WORKLOADS = {"table": table, "cnn": cnn}


if __name__ == "__main__":
    for name, build in WORKLOADS.items():
        w = build()
        sizes = [len(c) for c in w.clients]
        print(f"{name}: {len(w.clients)} clients of {min(sizes)}-{max(sizes)} rows, pooled {len(w.pooled)}, "
              f"test {len(w.test)}, torch threads {torch.get_num_threads()}")
