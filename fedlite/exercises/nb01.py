"""Checks for the exercises of ``01_centralized_vs_federated``."""

from __future__ import annotations

from collections.abc import Callable, Mapping, Sequence
from typing import Any

import numpy as np
import torch
from torch import Tensor, nn

from fedlite.aggregate import fedavg
from fedlite.exercises import Checked, close, not_one_number_yet, unanswered, verdict
from fedlite.history import History
from fedlite.models import count_parameters


def check_upload_bytes(answer: Any, model: nn.Module) -> Checked:
    """Exercise: bytes one hospital uploads per round (every parameter as a 4-byte float32)."""
    if (early := not_one_number_yet(answer)) is not None:
        return early
    params = count_parameters(model)
    if close(answer, params):
        return verdict(False, "", "that is the number of parameters; each float32 takes 4 bytes")
    if close(answer, params * 4 / 1e6) or close(answer, params * 4 / 2**20):
        return verdict(False, "", "give the answer in bytes, not megabytes")
    return verdict(close(answer, params * 4), f"{params:,} parameters x 4 bytes = {params * 4:,} bytes per upload",
                   "count the numbers in the model (p.numel() for p in model.parameters()) and multiply by the "
                   "bytes per number")


def _toy_states(seed: int) -> tuple[list[dict[str, Tensor]], list[int]]:
    g = torch.Generator().manual_seed(seed)
    states = [{"w": torch.randn(3, 2, generator=g), "b": torch.randn(2, generator=g)} for _ in range(4)]
    return states, [5, 50, 1, 20]


def check_my_fedavg(fn: Callable[[Sequence[Mapping[str, Tensor]], Sequence[int]], Any]) -> Checked:
    """Exercise: the learner's own FedAvg, tested against ``fedlite.fedavg`` on unequal toy hospitals."""
    states, sizes = _toy_states(0)
    try:
        out = fn(states, sizes)
    except Exception as err:  # a learner's bug: report it, don't crash the notebook
        return verdict(False, "", f"your function raised {type(err).__name__}: {err}")
    if unanswered(out):
        return Checked(False)
    if not isinstance(out, Mapping) or set(out) != set(states[0]):
        return verdict(False, "", "return a dict with the same keys as each state, e.g. {'w': ..., 'b': ...}")
    expected = fedavg(states, sizes)
    plain = {k: torch.stack([s[k] for s in states]).mean(0) for k in states[0]}
    if all(torch.allclose(torch.as_tensor(out[k]), plain[k], atol=1e-5) for k in out):
        return verdict(False, "", "that is the plain mean; weight each hospital by n_k / n")
    ok = all(torch.allclose(torch.as_tensor(out[k]).float(), expected[k], atol=1e-5) for k in out)
    return verdict(ok, "your FedAvg matches fedlite.fedavg on hospitals of sizes 5, 50, 1 and 20",
                   "for every name, add up (n_k / n) * state_k[name] over the hospitals")


def check_biggest_gain(answer: Any, local_only: History, federated: History,
                       key: str = "auc") -> Checked:
    """Exercise: which hospital gains most (final ``key``) from joining the federation?"""
    if unanswered(answer):
        return Checked(False)
    local = local_only.client_metric(key)[-1]
    gains = federated.final(key) - local
    best = int(np.nanargmax(gains))
    if answer == int(np.nanargmin(gains)):
        return verdict(False, "", "that hospital gains the least; look for the largest difference")
    return verdict(answer == best, f"hospital {best} gains the most {key.upper()} from the federation",
                   f"compare each hospital's local-only {key} with the federated model's {key}")
