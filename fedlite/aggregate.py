"""How a server combines the models its clients send back.

A model is represented by its ``state_dict``: a mapping from parameter names
to tensors. Aggregators are pure functions: they read the client states and
return a new state, never touching their inputs.

The main one is FedAvg (McMahan et al. 2017, "Communication-efficient
learning of deep networks from decentralized data", Algorithm 1)::

    w^{t+1} = sum_k (n_k / n) * w_k^{t+1},     n = sum_k n_k

where ``w_k^{t+1}`` is client ``k``'s model after local training and ``n_k``
its number of training samples.
"""

from __future__ import annotations

from collections.abc import Sequence
from typing import TYPE_CHECKING

import torch
from torch import Tensor

from fedlite.state import State, cast_like

if TYPE_CHECKING:
    from fedlite.simulation import RoundContext


def non_finite(state: State) -> str | None:
    """The name of the first floating-point tensor in ``state`` holding NaN or Inf, else ``None``."""
    return next((name for name, t in state.items() if t.is_floating_point() and not torch.isfinite(t).all()),
                None)


def check_states(states: Sequence[State]) -> None:
    """Raise ``ValueError`` unless ``states`` are non-empty, alike and finite.

    Alike means: the same keys, and for every key the same shape and dtype.
    A NaN or Inf anywhere is rejected -- one broken client would otherwise
    poison the average for everybody.
    """
    if len(states) == 0:
        raise ValueError("nothing to aggregate: got an empty list of client states")
    ref = states[0]
    for k, state in enumerate(states):
        if set(state) != set(ref):
            diff = sorted(set(state) ^ set(ref))
            raise ValueError(f"client {k} has different parameter names from client 0 "
                             f"(differ in: {diff[:5]}); all clients must share one architecture")
        for name, t in state.items():
            if t.shape != ref[name].shape or t.dtype != ref[name].dtype:
                raise ValueError(
                    f"client {k}, parameter {name!r}: shape {tuple(t.shape)} / {t.dtype}, but "
                    f"client 0 has {tuple(ref[name].shape)} / {ref[name].dtype}")
    # one check per parameter over all clients (fast with 100 clients); on a hit, name the first bad client
    if all(torch.isfinite(torch.stack([s[name] for s in states])).all() for name, t in ref.items()
           if t.is_floating_point()):
        return
    for k, state in enumerate(states):
        if (bad := non_finite(state)) is not None:
            raise ValueError(f"client {k}, parameter {bad!r} contains NaN or Inf; "
                             "drop or repair that client's update before aggregating")


def normalize_weights(weights: Sequence[float], count: int) -> Tensor:
    """Turn raw weights (e.g. sample counts ``n_k``) into ``n_k / n`` (float64, sums to 1)."""
    w = torch.as_tensor(list(weights), dtype=torch.float64)
    if w.ndim != 1 or w.numel() != count:
        raise ValueError(f"expected one weight per client ({count}), got {w.numel()}")
    if not torch.isfinite(w).all() or (w < 0).any():
        raise ValueError(f"weights must be finite and non-negative (e.g. sample counts), got {w.tolist()}")
    if w.sum() <= 0:
        raise ValueError("all weights are zero: at least one client must have samples")
    return w / w.sum()


def fedavg(states: Sequence[State], num_samples: Sequence[float],
           context: RoundContext | None = None) -> dict[str, Tensor]:
    """FedAvg: the weighted average ``sum_k (n_k / n) w_k`` of client states.

    Parameters
    ----------
    states
        One ``state_dict`` per client, all of the same architecture.
    num_samples
        One non-negative number per client, its sample count ``n_k``; they
        are normalised to ``n_k / n``. Pass equal numbers for the plain
        (unweighted) mean.
    context
        The round's :class:`fedlite.simulation.RoundContext` when called by
        the round loop; FedAvg does not need it.

    Notes
    -----
    The sum is taken in float64 and cast back. Integer buffers (BatchNorm's
    ``num_batches_tracked``) are averaged the same way and then *rounded* to
    the nearest integer, instead of being truncated by an integer cast.
    """
    check_states(states)
    p = normalize_weights(num_samples, len(states))
    out: dict[str, Tensor] = {}
    for name, ref in states[0].items():
        stacked = torch.stack([s[name] for s in states]).to(torch.float64)  # one cast, same values
        mean = torch.tensordot(p, stacked, dims=1)
        out[name] = cast_like(mean, ref)
    return out


def fedavg_loop(states: Sequence[State], num_samples: Sequence[float],
                context: RoundContext | None = None) -> dict[str, Tensor]:
    """The same FedAvg written as the plainest possible loop (the answer key).

    Used by the tests to check :func:`fedavg`; read this one first if the
    ``tensordot`` above looks opaque.
    """
    check_states(states)
    normalize_weights(num_samples, len(states))  # only to validate them
    total = float(sum(num_samples))
    out: dict[str, Tensor] = {}
    for name, ref in states[0].items():
        acc = torch.zeros(ref.shape, dtype=torch.float64)
        for state, n_k in zip(states, num_samples):
            acc += (float(n_k) / total) * state[name].to(torch.float64)
        out[name] = cast_like(acc, ref)
    return out
