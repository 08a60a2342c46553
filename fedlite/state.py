"""Model states: the one representation of weights that travels in fedlite.

A model's weights are its ``state_dict``: a mapping from parameter names to
tensors. Every module that reads or writes weights uses :data:`State` and
the few helpers here: the update ``Delta_k = w_k - w_t`` (:func:`update_of`)
and its inverse (:func:`apply_update`), one state as one vector
(:func:`flatten`), the distance between two states (:func:`distance`) and
the bytes a state costs on the wire (:func:`state_bytes`).
"""

from __future__ import annotations

from collections.abc import Mapping

import torch
from torch import Tensor

State = Mapping[str, Tensor]
"""A model's weights: parameter name -> tensor (a ``state_dict``)."""


def state_bytes(state: State) -> int:
    """Bytes needed to send ``state`` over the network: ``sum(numel * bytes per element)``."""
    return sum(t.numel() * t.element_size() for t in state.values())


def flatten(state: State) -> Tensor:
    """All floating-point tensors of ``state`` (in key order) as one float64 vector.

    Integer buffers (BatchNorm's ``num_batches_tracked``) are skipped: they
    are counters, not weights.
    """
    parts = [t.detach().reshape(-1).double() for t in state.values() if t.is_floating_point()]
    if not parts:
        raise ValueError("state has no floating-point tensors to flatten")
    return torch.cat(parts)


def distance(a: State, b: State) -> float:
    """Euclidean distance ``||w_a - w_b||`` between two states of the same architecture."""
    if set(a) != set(b):
        raise ValueError(f"states differ in parameter names: {sorted(set(a) ^ set(b))[:5]}")
    return torch.linalg.vector_norm(flatten(a) - flatten({k: b[k] for k in a})).item()


def update_of(state: State, reference: State) -> dict[str, Tensor]:
    """``Delta = w_k - w_t`` for every floating-point tensor (integer buffers are not updates)."""
    return {k: state[k] - v for k, v in reference.items() if v.is_floating_point()}


def apply_update(reference: State, delta: State, state: State) -> dict[str, Tensor]:
    """``w_t + Delta`` for the floating-point tensors; other tensors are taken from ``state`` as sent."""
    return {k: reference[k] + delta[k] if k in delta else state[k].clone() for k in reference}
