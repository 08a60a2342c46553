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
from torch import Tensor, nn


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
        """The samples at ``index`` (a copy; the original is untouched).

        Indices must be integers in ``0 .. len-1``: a negative one would wrap
        around to the end, a fractional one be truncated and a boolean mask be
        read as indices 0 and 1, so each is a ``ValueError``.
        """
        idx = torch.as_tensor(np.asarray(index))
        if idx.numel() and (idx.is_floating_point() or idx.dtype == torch.bool or idx.is_complex()):
            raise ValueError(f"sample indices must be integers, got {idx.dtype}; for a boolean mask "
                             "use np.flatnonzero(mask)")
        if idx.numel() and (idx.min() < 0 or idx.max() >= len(self)):
            raise ValueError(f"sample indices must be in 0 .. {len(self) - 1}, got {idx.min().item()} .. "
                             f"{idx.max().item()}")
        idx = idx.long()
        return Data(self.x[idx], self.y[idx])


def make_data(x: Tensor | np.ndarray, y: Tensor | np.ndarray) -> Data:
    """Build a validated :class:`Data` from arrays or tensors.

    ``x`` becomes ``float32`` and ``y`` becomes ``int64``.

    Raises
    ------
    ValueError
        If ``x`` and ``y`` disagree on the number of samples, ``y`` is not
        one-dimensional, there are no samples, ``x`` holds NaN/Inf or values
        beyond float32's range, or a label is not a whole number >= 0.
    """
    y_t = class_ids(torch.as_tensor(y))
    x_t = torch.as_tensor(x, dtype=torch.float32)
    if y_t.ndim != 1:
        raise ValueError(f"labels must be one-dimensional (N,), got shape {tuple(y_t.shape)}; "
                         "use y.reshape(-1) if they are (N, 1)")
    if x_t.ndim < 1 or x_t.shape[0] != y_t.shape[0]:
        raise ValueError(f"x has {x_t.shape[0] if x_t.ndim else 0} samples but y has "
                         f"{y_t.shape[0]}; both need the same first dimension")
    if y_t.shape[0] == 0:
        raise ValueError("no samples: a dataset needs at least one (x, y) pair")
    if not torch.isfinite(x_t).all():
        if torch.isfinite(torch.as_tensor(x, dtype=torch.float64)).all():
            raise ValueError("x holds values beyond float32's range (about +-3.4e38), which the models "
                             "use; rescale the features first (e.g. standardize them)")
        raise ValueError("x contains NaN or Inf values; clean or impute them first")
    return Data(x_t, y_t)


def class_ids(y: Tensor) -> Tensor:
    """Labels as ``int64`` class ids; NaN, fractional or negative labels are a ``ValueError``."""
    if y.is_floating_point():
        if y.isnan().any():
            raise ValueError("labels contain NaN; drop or label those samples before training")
        if (y != y.round()).any():
            raise ValueError(f"labels must be whole numbers (class ids 0, 1, ...), got e.g. "
                             f"{y[y != y.round()][0].item()}; map them to class ids first")
    if y.numel() and y.min() < 0:
        raise ValueError(f"labels must be class ids 0, 1, ..., got the negative label {y.min().item()}; "
                         "map them to 0 .. C-1 first")
    return y.long()


def check_for_model(model: nn.Module, data: Data, who: str) -> None:
    """Raise ``ValueError`` unless ``model`` can train on or score ``data``, naming ``who``.

    Checks, once where data enter training or evaluation: ``x`` has the
    model's dtype and a shape it can read (one probe sample, in eval mode,
    so nothing in the model changes), and every label is an integer in
    ``0 .. C-1`` for the model's ``C`` outputs. Torch would otherwise crash
    deep inside, or silently skip a label of -100 (its ``ignore_index``).
    """
    dtype = next(model.parameters(), torch.zeros(())).dtype
    if data.x.dtype != dtype:
        raise ValueError(f"{who}: x is {data.x.dtype} but the model computes in {dtype} (float32); "
                         "build the data with make_data(x, y), which converts it")
    was_training = model.training
    try:
        with torch.no_grad():
            classes = model.eval()(data.x[:1]).shape[-1]
    except RuntimeError as err:
        raise ValueError(f"{who}: the model cannot read inputs of shape {tuple(data.x.shape[1:])} ({err}); "
                         "check that the number of features (or the image size) matches the model") from err
    finally:
        model.train(was_training)
    y = data.y
    if y.is_floating_point() or y.dtype == torch.bool or (y.numel() and (y.min() < 0 or y.max() >= classes)):
        found = y.dtype if y.is_floating_point() or y.dtype == torch.bool else f"{y.min().item()} .. {y.max().item()}"
        raise ValueError(f"{who}: labels must be integer class ids in 0 .. {classes - 1} (the model has "
                         f"{classes} outputs), got {found}; use make_data(x, y) for whole-number labels, "
                         "and give the model num_classes= enough for every class")


def pool(parts: Sequence[Data]) -> Data:
    """Concatenate several clients' data into one pooled dataset.

    This is what centralized training needs and what federated learning
    avoids: in a real deployment the pooled tensor would not exist.
    """
    if not parts:
        raise ValueError("pool() needs at least one Data part")
    return Data(torch.cat([p.x for p in parts]), torch.cat([p.y for p in parts]))


def subsets(data: Data, parts: Sequence[np.ndarray]) -> list[Data]:
    """Cut ``data`` into clients, one per index array (from ``fedlite.heterogeneity.partition``).

    The arrays must be a partition: together they hold every index
    ``0 .. len(data)-1`` exactly once (see :func:`check_partition`).
    """
    return [data.subset(idx) for idx in check_partition(parts, len(data))]


def check_partition(parts: Sequence[np.ndarray | Sequence[int]], n: int) -> list[np.ndarray]:
    """The index arrays as ``int64``; ``ValueError`` unless they cover ``0 .. n-1`` exactly once.

    Rejects what indexing would silently accept: fractional indices,
    negative ones (which wrap around to the end), duplicates, and samples
    left out of every part.
    """
    arrays = [np.asarray(p) for p in parts]
    for k, a in enumerate(arrays):
        if a.ndim != 1 or (a.size and not np.issubdtype(a.dtype, np.integer)):
            raise ValueError(f"part {k} must be a 1-D array of integer sample indices, got {a.dtype} of shape "
                             f"{a.shape}; partitions from fedlite.heterogeneity.partition are")
    flat = np.concatenate([a.astype(np.int64) for a in arrays]) if arrays else np.zeros(0, np.int64)
    if flat.size and (flat.min() < 0 or flat.max() >= n):
        raise ValueError(f"sample indices must be in 0 .. {n - 1} (the data has {n} samples), got "
                         f"{flat.min()} .. {flat.max()}; was the partition made for other data?")
    counts = np.bincount(flat, minlength=n)
    if (counts > 1).any():
        raise ValueError(f"samples {np.flatnonzero(counts > 1)[:5].tolist()} appear more than once; "
                         "each sample must go to exactly one client")
    if (counts == 0).any():
        raise ValueError(f"{int((counts == 0).sum())} samples are not in any part (indices "
                         f"{np.flatnonzero(counts == 0)[:5].tolist()}); a partition covers every sample: "
                         "take data.subset(...) first to keep only some")
    return [a.astype(np.int64) for a in arrays]
