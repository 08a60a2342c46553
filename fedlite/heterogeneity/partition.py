"""Split sample indices across simulated clients (hospitals).

Every partitioner returns ``list[np.ndarray]``: one array of sample indices per
client. Together the arrays cover every index ``0..n-1`` exactly once, each
array is sorted, and the same ``seed`` always gives the same split.

- :func:`iid` -- every client sees the same distribution (the easy case).
- :func:`dirichlet` -- label skew with concentration ``alpha`` (Hsu et al. 2019).
- :func:`shards` -- the pathological "two classes per client" split of
  McMahan et al. 2017.
- :func:`quantity_skew` -- clients of very unequal size.
- :func:`label_counts` -- the clients x classes table behind a heat-map.
"""

from __future__ import annotations

from collections.abc import Sequence

import numpy as np

Partition = list[np.ndarray]


def _check_clients(n: int, num_clients: int, min_size: int = 1) -> None:
    if not isinstance(num_clients, (int, np.integer)) or num_clients < 1:
        raise ValueError(f"num_clients must be a positive integer, got {num_clients!r}")
    if n < num_clients * min_size:
        raise ValueError(
            f"cannot give {num_clients} clients at least {min_size} sample(s) each from only "
            f"{n} samples; use fewer clients (at most {n // max(min_size, 1)}) or a smaller min_size")


def _check_labels(labels: np.ndarray | Sequence[int]) -> np.ndarray:
    y = np.asarray(labels)
    if y.ndim != 1:
        raise ValueError(f"labels must be a 1-D array of class ids, got shape {y.shape}")
    if y.size and (not np.issubdtype(y.dtype, np.integer) or y.min() < 0):
        raise ValueError("labels must be non-negative integers (class ids 0, 1, 2, ...)")
    return y


def _check_alpha(alpha: float) -> None:
    if not np.isfinite(alpha) or alpha <= 0:
        raise ValueError(f"alpha must be a positive number (small = very skewed), got {alpha!r}")


def iid(n: int, num_clients: int, *, seed: int) -> Partition:
    """Shuffle ``0..n-1`` and deal it into ``num_clients`` near-equal parts.

    Client sizes differ by at most one sample.
    """
    _check_clients(n, num_clients)
    order = np.random.default_rng(seed).permutation(n)
    return [np.sort(part) for part in np.array_split(order, num_clients)]


def dirichlet(labels: np.ndarray | Sequence[int], num_clients: int, *, alpha: float,
              seed: int, min_size: int = 2, max_tries: int = 1000) -> Partition:
    """Label skew: each class is shared out by proportions ``p ~ Dir(alpha, ..., alpha)``.

    For every class ``c`` we draw ``p_c ~ Dir(alpha * 1_K)`` over the ``K``
    clients and give client ``k`` a fraction ``p_{c,k}`` of the class's samples
    (Hsu, Qi & Brown 2019, "Measuring the effects of non-identical data
    distribution for federated visual classification"). Large ``alpha``
    (e.g. 100) approaches IID; small ``alpha`` (e.g. 0.1) gives each client
    only one or two classes. The draw is repeated until every client holds at
    least ``min_size`` samples, as in the NIID-Bench reference code.
    """
    y = _check_labels(labels)
    _check_alpha(alpha)
    _check_clients(y.size, num_clients, min_size)
    rng = np.random.default_rng(seed)
    for _ in range(max_tries):
        parts: list[list[int]] = [[] for _ in range(num_clients)]
        for c in np.unique(y):
            idx = rng.permutation(np.flatnonzero(y == c))
            p = rng.dirichlet(np.full(num_clients, alpha))
            cuts = (np.cumsum(p)[:-1] * idx.size).astype(int)
            for k, chunk in enumerate(np.split(idx, cuts)):
                parts[k].extend(chunk.tolist())
        if min(len(p) for p in parts) >= min_size:
            return [np.sort(np.asarray(p, dtype=np.int64)) for p in parts]
    raise RuntimeError(
        f"no Dirichlet(alpha={alpha}) draw in {max_tries} tries gave all {num_clients} clients "
        f"at least {min_size} samples; raise alpha, lower min_size or use fewer clients")


def shards(labels: np.ndarray | Sequence[int], num_clients: int, *,
           shards_per_client: int = 2, seed: int) -> Partition:
    """Pathological non-IID: sort by label, cut into shards, deal shards out.

    McMahan et al. 2017 ("Communication-efficient learning of deep networks
    from decentralized data") sort MNIST by digit, cut it into 200 shards of
    300 and give each of 100 clients two shards, so most clients see only two
    digits. Here the ``num_clients * shards_per_client`` shards are near-equal
    in size and every sample lands in exactly one of them.
    """
    y = _check_labels(labels)
    if not isinstance(shards_per_client, (int, np.integer)) or shards_per_client < 1:
        raise ValueError(f"shards_per_client must be a positive integer, got {shards_per_client!r}")
    _check_clients(y.size, num_clients * shards_per_client)
    rng = np.random.default_rng(seed)
    by_label = np.argsort(y, kind="stable")
    pieces = np.array_split(by_label, num_clients * shards_per_client)
    order = rng.permutation(len(pieces)).reshape(num_clients, shards_per_client)
    return [np.sort(np.concatenate([pieces[s] for s in row])) for row in order]


def quantity_skew(n: int, num_clients: int, *, alpha: float, seed: int,
                  min_size: int = 1) -> Partition:
    """Unequal client sizes: ``n_k`` follows proportions ``q ~ Dir(alpha * 1_K)``.

    Each client first gets ``min_size`` samples; the remaining
    ``n - K * min_size`` are dealt by a multinomial draw with probabilities
    ``q``, so sizes always add up to ``n``. Labels stay IID within clients;
    only the amounts differ (one big teaching hospital, several small clinics).
    """
    _check_alpha(alpha)
    _check_clients(n, num_clients, min_size)
    rng = np.random.default_rng(seed)
    q = rng.dirichlet(np.full(num_clients, alpha))
    sizes = min_size + rng.multinomial(n - num_clients * min_size, q)
    order = rng.permutation(n)
    return [np.sort(part) for part in np.split(order, np.cumsum(sizes)[:-1])]


def label_counts(labels: np.ndarray | Sequence[int], parts: Sequence[np.ndarray],
                 num_classes: int | None = None) -> np.ndarray:
    """Table of counts: entry ``[k, c]`` is how many samples of class ``c`` client ``k`` holds."""
    y = _check_labels(labels)
    c = int(num_classes if num_classes is not None else (y.max() + 1 if y.size else 0))
    return np.stack([np.bincount(y[np.asarray(p, dtype=np.int64)], minlength=c)[:c]
                     for p in parts]) if len(parts) else np.zeros((0, c), dtype=np.int64)
