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
    return combine_summaries([summary_stats(p) for p in parts])


def combine_summaries(stats: Sequence[tuple[int, Tensor, Tensor]]) -> tuple[Tensor, Tensor]:
    """The server's half of :func:`federated_mean_std`: pooled mean and std from
    the hospitals' ``(n_k, s_k, q_k)`` alone (summed in the order given).

    This is what a real server runs when the sums arrive over the network
    (the Flower app of notebook 08 does).
    """
    if not stats:
        raise ValueError("combine_summaries needs at least one (n_k, sum, sum of squares) triple")
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


def federated_observed_mean(parts: Sequence[Data], feature: int, missing: float = 0.0) -> float:
    """Mean of column ``feature`` over the values that were measured, from per-hospital sums only.

    Each hospital sends ``(sum of its measured values, how many)``; the server divides the totals,
    exactly as :func:`federated_mean_std` does. A value equal to ``missing`` counts as not measured.
    """
    if not parts:
        raise ValueError("federated_observed_mean needs at least one client's Data")
    if parts[0].x.ndim != 2 or not 0 <= feature < parts[0].x.shape[1]:
        raise ValueError(f"feature must index a column of a table (N, d), got {feature} for x of shape "
                         f"{tuple(parts[0].x.shape)}")
    sums = [(p.x[:, feature].double()[p.x[:, feature] != missing].sum().item(),
             int((p.x[:, feature] != missing).sum())) for p in parts]
    count = sum(c for _, c in sums)
    if count == 0:
        raise ValueError(f"feature {feature} is missing in every row of every hospital; drop it instead")
    return sum(s for s, _ in sums) / count


def impute_missing(data: Data, feature: int, fill: float, missing: float = 0.0) -> Data:
    """Replace ``missing`` in column ``feature`` by ``fill`` and append a 0/1 column "was missing".

    The missing-indicator method: the model sees *that* a value was not measured, instead of a
    fake measurement. In UCI heart disease a cholesterol of 0 mg/dl means "not recorded" (all of
    Switzerland, a quarter of VA); left as 0 it is an extreme value that marks those sites. Note
    that the indicator still tells the model *which site* a patient comes from where only one site
    lacks the measurement, so results must be compared with and without it.
    """
    if data.x.ndim != 2 or not 0 <= feature < data.x.shape[1]:
        raise ValueError(f"feature must index a column of a table (N, d), got {feature} for x of shape "
                         f"{tuple(data.x.shape)}")
    was_missing = (data.x[:, feature] == missing)
    x = data.x.clone()
    x[was_missing, feature] = fill
    return Data(torch.cat([x, was_missing.to(x.dtype)[:, None]], dim=1), data.y)
