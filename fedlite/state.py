"""Model states: the one representation of weights that travels in fedlite.

A model's weights are its ``state_dict``: a mapping from parameter names to
tensors (:data:`State`). Every module that reads or writes weights uses the
few helpers here, so each idea has one definition:

- :func:`copy_state` -- a detached copy, safe to keep while the model trains on;
- :func:`update_of` -- the update ``Delta_k = w_k - w_t`` of client ``k``
  against the broadcast weights ``w_t``, and :func:`apply_update` -- its inverse;
- :func:`flatten`, :func:`norm`, :func:`distance` -- one state as one vector,
  its length ``||Delta||``, and ``||w_a - w_b||``;
- :func:`cast_like` -- a float64 result back to a tensor's dtype, *rounding*
  integer buffers (BatchNorm's ``num_batches_tracked``) instead of truncating;
- :func:`state_bytes` -- what a state costs on the wire.

Only floating-point tensors are weights. Integer buffers are counters: they
have no update, no norm, and are skipped by :func:`flatten`.
"""

from __future__ import annotations

from collections.abc import Mapping

import torch
from torch import Tensor, nn

State = Mapping[str, Tensor]
"""A model's weights: parameter name -> tensor (a ``state_dict``)."""


def copy_state(source: nn.Module | State) -> dict[str, Tensor]:
    """A detached copy of a model's ``state_dict`` (or of a state): later training does not change it."""
    state = source.state_dict() if isinstance(source, nn.Module) else source
    return {name: t.detach().clone() for name, t in state.items()}


def update_of(state: State, reference: State) -> dict[str, Tensor]:
    """``Delta = w_k - w_t`` for every floating-point tensor (integer buffers are not updates)."""
    return {k: state[k] - v for k, v in reference.items() if v.is_floating_point()}


def apply_update(reference: State, delta: State, state: State) -> dict[str, Tensor]:
    """``w_t + Delta`` for the floating-point tensors; other tensors are taken from ``state`` as sent."""
    return {k: reference[k] + delta[k] if k in delta else state[k].clone() for k in reference}


def flatten(state: State) -> Tensor:
    """All floating-point tensors of ``state`` (in key order) as one float64 vector.

    Integer buffers (BatchNorm's ``num_batches_tracked``) are skipped: they
    are counters, not weights.
    """
    parts = [t.detach().reshape(-1).double() for t in state.values() if t.is_floating_point()]
    if not parts:
        raise ValueError("state has no floating-point tensors to flatten")
    return torch.cat(parts)


def norm(delta: State) -> float:
    """``||Delta||``: the L2 norm of all floating-point tensors together (``inf``/``nan`` if they are)."""
    return torch.linalg.vector_norm(flatten(delta)).item()


def distance(a: State, b: State) -> float:
    """Euclidean distance ``||w_a - w_b||`` between two states of the same architecture."""
    if set(a) != set(b):
        raise ValueError(f"states differ in parameter names: {sorted(set(a) ^ set(b))[:5]}")
    return torch.linalg.vector_norm(flatten(a) - flatten({k: b[k] for k in a})).item()


def cast_like(value: Tensor, ref: Tensor) -> Tensor:
    """``value`` (e.g. a float64 average) in ``ref``'s dtype; integer tensors are rounded, not truncated."""
    return (value if ref.is_floating_point() else value.round()).to(ref.dtype)


def state_bytes(state: State) -> int:
    """Bytes needed to send ``state`` over the network: ``sum(numel * bytes per element)``."""
    return sum(t.numel() * t.element_size() for t in state.values())
