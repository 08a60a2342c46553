"""The one data container the course uses: a pair of tensors ``(x, y)``.

A hospital's data, the pooled data and the test set are all a :class:`Data`:
``x`` holds the inputs (images ``N x 1 x 28 x 28`` or feature rows ``N x d``)
and ``y`` the integer class labels (``N``). It is a ``NamedTuple``, so
``x, y = data`` works, and it stays in memory: the course datasets are small,
and plain tensor indexing is faster and easier to read than a ``DataLoader``.
"""

from __future__ import annotations

from collections.abc import Sequence
from typing import NamedTuple

import numpy as np
import torch
from torch import Tensor


class Data(NamedTuple):
    """Inputs ``x`` (first dimension = samples) and integer labels ``y``."""

    x: Tensor
    y: Tensor

    def __len__(self) -> int:  # type: ignore[override]
        return int(self.y.shape[0])

    @property
    def num_classes(self) -> int:
        """Number of classes, taken as ``max(y) + 1``."""
        return int(self.y.max().item()) + 1 if len(self) else 0

    def subset(self, index: np.ndarray | Sequence[int] | Tensor) -> Data:
        """The samples at ``index`` (a copy; the original is untouched)."""
        idx = torch.as_tensor(np.asarray(index), dtype=torch.long)
        return Data(self.x[idx], self.y[idx])


def make_data(x: Tensor | np.ndarray, y: Tensor | np.ndarray) -> Data:
    """Build a validated :class:`Data` from arrays or tensors.

    ``x`` becomes ``float32`` and ``y`` becomes ``int64``.

    Raises
    ------
    ValueError
        If ``x`` and ``y`` disagree on the number of samples, ``y`` is not
        one-dimensional, there are no samples, or ``x`` holds NaN/Inf.
    """
    x_t = torch.as_tensor(x, dtype=torch.float32)
    y_t = torch.as_tensor(y).long()
    if y_t.ndim != 1:
        raise ValueError(f"labels must be one-dimensional (N,), got shape {tuple(y_t.shape)}; "
                         "use y.reshape(-1) if they are (N, 1)")
    if x_t.ndim < 1 or x_t.shape[0] != y_t.shape[0]:
        raise ValueError(f"x has {x_t.shape[0] if x_t.ndim else 0} samples but y has "
                         f"{y_t.shape[0]}; both need the same first dimension")
    if y_t.shape[0] == 0:
        raise ValueError("no samples: a dataset needs at least one (x, y) pair")
    if not torch.isfinite(x_t).all():
        raise ValueError("x contains NaN or Inf values; clean or impute them first")
    return Data(x_t, y_t)


def pool(parts: Sequence[Data]) -> Data:
    """Concatenate several clients' data into one pooled dataset.

    This is what centralized training needs and what federated learning
    avoids: in a real deployment the pooled tensor would not exist.
    """
    if not parts:
        raise ValueError("pool() needs at least one Data part")
    return Data(torch.cat([p.x for p in parts]), torch.cat([p.y for p in parts]))


def subsets(data: Data, parts: Sequence[np.ndarray]) -> list[Data]:
    """Cut ``data`` into clients, one per index array (from ``fedlite.heterogeneity.partition``)."""
    return [data.subset(idx) for idx in parts]
