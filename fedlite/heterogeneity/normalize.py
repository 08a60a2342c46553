"""Standardization, and why its statistics are a federated question.

Standardizing features, ``x' = (x - mean) / std``, needs a mean and a
standard deviation -- but computed on *whose* data?

- **Pooled** statistics, computed on the union of all hospitals' data, are
  what a centralized tutorial would use. In federated learning the union does
  not exist, and computing it would leak every hospital's data. Using them in
  an FL experiment quietly cheats (and test-set statistics leak the test set).
- **Local** statistics (:func:`local_mean_std`): each hospital standardizes
  with its own training data (FLamby's Fed-Heart-Disease does this). Always
  available, but each hospital then lives on a different scale.
- **Federated** statistics (:func:`federated_mean_std`): each hospital sends
  only ``n_k``, ``sum x`` and ``sum x^2`` (:func:`summary_stats`); the server
  combines them into exactly the pooled mean and std, without seeing a single
  row. (Aggregates can still leak a little; secure aggregation or differential
  privacy protect them further.)

Statistics are taken per feature for tables ``(N, d)`` and per channel for
images ``(N, C, H, W)``, always over the training split only. The std is the
population one (divide by ``N``), as in ``sklearn.preprocessing.StandardScaler``.
"""

from __future__ import annotations

from collections.abc import Sequence

import torch
from torch import Tensor

from fedlite.data import Data

EPS = 1e-8  # a std below this counts as zero (a constant feature)


def _reduce_dims(x: Tensor) -> tuple[int, ...]:
    """Dimensions to sum over: all but the feature/channel dimension 1."""
    if x.ndim < 2:
        raise ValueError(f"expected x of shape (N, d) or (N, C, H, W), got {tuple(x.shape)}; "
                         "reshape single features with x.reshape(-1, 1)")
    return (0,) + tuple(range(2, x.ndim))


def summary_stats(data: Data) -> tuple[int, Tensor, Tensor]:
    """What one hospital shares: ``(n_k, s_k, q_k)``.

    ``n_k`` counts the values per feature (samples x pixels per channel),
    ``s_k = sum x`` and ``q_k = sum x^2`` per feature/channel, in float64.
    """
    x = data.x.double()
    dims = _reduce_dims(x)
    n = x.numel() // x.shape[1]
    return n, x.sum(dim=dims), (x * x).sum(dim=dims)


def local_mean_std(data: Data) -> tuple[Tensor, Tensor]:
    """Mean and (population) std of one dataset, per feature or per channel.

    Used by one hospital on its own training data, these are legitimate in FL.
    """
    x = data.x.double()
    dims = _reduce_dims(x)
    return x.mean(dim=dims).float(), x.std(dim=dims, unbiased=False).float()


def federated_mean_std(parts: Sequence[Data]) -> tuple[Tensor, Tensor]:
    """Pooled mean and std computed, as a server could, from per-client sums only.

    With ``(n_k, s_k, q_k)`` from :func:`summary_stats` for clients ``k = 1..K``::

        N    = sum_k n_k
        mean = (sum_k s_k) / N
        var  = (sum_k q_k) / N - mean^2        (= E[x^2] - E[x]^2)
        std  = sqrt(max(var, 0))

    This equals the mean/std of the pooled data exactly (up to rounding; the
    sums are kept in float64 because ``E[x^2] - E[x]^2`` cancels digits).
    No client's rows ever leave the client.
    """
    if not parts:
        raise ValueError("federated_mean_std needs at least one client's Data")
    stats = [summary_stats(p) for p in parts]
    n = sum(s[0] for s in stats)
    mean = sum(s[1] for s in stats) / n
    var = sum(s[2] for s in stats) / n - mean * mean
    return mean.float(), var.clamp(min=0).sqrt().float()


def standardize(data: Data, mean: Tensor, std: Tensor) -> Data:
    """Return ``(x - mean) / std`` per feature/channel; labels unchanged.

    A feature whose ``std`` is below ``1e-8`` (constant, e.g. cholesterol
    that one hospital never recorded) is only centred, not divided, so no
    NaN or Inf appears.
    """
    mean, std = torch.as_tensor(mean).float(), torch.as_tensor(std).float()
    width = data.x.shape[1] if data.x.ndim >= 2 else None
    if mean.shape != (width,) or std.shape != (width,):
        raise ValueError(f"mean and std must have shape ({width},), one value per "
                         f"feature/channel of x {tuple(data.x.shape)}; got {tuple(mean.shape)} "
                         f"and {tuple(std.shape)}")
    shape = (1, width) + (1,) * (data.x.ndim - 2)
    safe_std = torch.where(std < EPS, torch.ones_like(std), std)
    return Data((data.x - mean.reshape(shape)) / safe_std.reshape(shape), data.y)
