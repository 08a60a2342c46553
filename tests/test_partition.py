"""Partitioners: hand-checked cases, properties over random inputs, and every error."""

import numpy as np
import pytest
from hypothesis import given, settings
from hypothesis import strategies as st

from fedlite.heterogeneity import partition


def covers_exactly_once(parts, n):
    joined = np.concatenate(parts)
    return joined.size == n and np.array_equal(np.sort(joined), np.arange(n))


# --- hand-checkable cases ---------------------------------------------------------------

def test_iid_sizes_differ_by_at_most_one():
    parts = partition.iid(10, 3, seed=0)
    assert sorted(len(p) for p in parts) == [3, 3, 4]
    assert covers_exactly_once(parts, 10)


def test_shards_give_each_client_at_most_two_labels():
    # Prepare: 5 labels x 20 samples; 10 clients x 2 shards = 20 pure shards of 5.
    labels = np.repeat(np.arange(5), 20)
    # Execute
    parts = partition.shards(labels, 10, shards_per_client=2, seed=1)
    # Assert
    assert covers_exactly_once(parts, 100)
    assert all(len(np.unique(labels[p])) <= 2 for p in parts)
    assert all(len(p) == 10 for p in parts)


def test_dirichlet_small_alpha_is_skewed_large_alpha_is_balanced():
    labels = np.repeat([0, 1], 500)
    skewed = partition.label_counts(labels, partition.dirichlet(labels, 5, alpha=0.05, seed=0))
    balanced = partition.label_counts(labels, partition.dirichlet(labels, 5, alpha=1000, seed=0))
    share = lambda counts: counts[:, 1] / counts.sum(axis=1)  # noqa: E731
    assert np.abs(share(skewed) - 0.5).max() > 0.3      # some client is far from 50/50
    assert np.abs(share(balanced) - 0.5).max() < 0.1    # every client is close to 50/50


def test_dirichlet_respects_min_size():
    labels = np.repeat([0, 1, 2], 30)
    parts = partition.dirichlet(labels, 6, alpha=0.3, seed=3, min_size=5)
    assert min(len(p) for p in parts) >= 5 and covers_exactly_once(parts, 90)


def test_quantity_skew_has_unequal_sizes_that_add_up():
    parts = partition.quantity_skew(1000, 5, alpha=0.3, seed=0)
    sizes = [len(p) for p in parts]
    assert sum(sizes) == 1000 and max(sizes) > 3 * min(sizes)


def test_label_counts_by_hand():
    labels = np.array([0, 1, 1, 2, 2, 2])
    counts = partition.label_counts(labels, [np.array([0, 1]), np.array([2, 3, 4, 5])])
    assert counts.tolist() == [[1, 1, 0], [0, 1, 3]]


# --- properties -------------------------------------------------------------------------

@settings(max_examples=60, deadline=None)
@given(n=st.integers(1, 400), k=st.integers(1, 20), seed=st.integers(0, 2**31 - 1))
def test_iid_and_quantity_cover_every_index_once(n, k, seed):
    k = min(k, n)
    assert covers_exactly_once(partition.iid(n, k, seed=seed), n)
    assert covers_exactly_once(partition.quantity_skew(n, k, alpha=0.5, seed=seed), n)


@settings(max_examples=40, deadline=None)
@given(labels=st.lists(st.integers(0, 4), min_size=40, max_size=300),
       k=st.integers(1, 8), seed=st.integers(0, 2**31 - 1))
def test_label_partitions_cover_every_index_once(labels, k, seed):
    y = np.array(labels)
    assert covers_exactly_once(partition.dirichlet(y, k, alpha=1.0, seed=seed, min_size=1), y.size)
    assert covers_exactly_once(partition.shards(y, k, seed=seed), y.size)


@pytest.mark.parametrize("make", [
    lambda s: partition.iid(50, 4, seed=s),
    lambda s: partition.dirichlet(np.arange(50) % 3, 4, alpha=0.5, seed=s),
    lambda s: partition.shards(np.arange(50) % 3, 4, seed=s),
    lambda s: partition.quantity_skew(50, 4, alpha=0.5, seed=s),
])
def test_same_seed_same_split_other_seed_other_split(make):
    assert all(np.array_equal(a, b) for a, b in zip(make(7), make(7)))
    assert not all(np.array_equal(a, b) for a, b in zip(make(7), make(8)))


# --- errors -----------------------------------------------------------------------------

@pytest.mark.parametrize("call, message", [
    (lambda: partition.iid(3, 5, seed=0), "cannot give 5 clients"),
    (lambda: partition.iid(10, 0, seed=0), "positive integer"),
    (lambda: partition.dirichlet([0, 1] * 5, 2, alpha=0, seed=0), "alpha must be a positive"),
    (lambda: partition.dirichlet([0, 1] * 5, 2, alpha=float("nan"), seed=0), "alpha must be a positive"),
    (lambda: partition.dirichlet([[0, 1]], 1, alpha=1, seed=0), "1-D array"),
    (lambda: partition.dirichlet([0.5, 1.0], 1, alpha=1, seed=0), "non-negative integers"),
    (lambda: partition.dirichlet([0, 1] * 5, 4, alpha=1, seed=0, min_size=3), "at least 3"),
    (lambda: partition.shards([0, 1, 2], 2, shards_per_client=2, seed=0), "cannot give 4 clients"),
    (lambda: partition.shards([0, 1, 2], 1, shards_per_client=0, seed=0), "shards_per_client"),
    (lambda: partition.quantity_skew(10, 3, alpha=-1, seed=0), "alpha must be a positive"),
])
def test_bad_input_says_what_was_expected(call, message):
    with pytest.raises(ValueError, match=message):
        call()


def test_impossible_dirichlet_gives_up_with_advice():
    labels = np.repeat([0, 1], 10)
    with pytest.raises(RuntimeError, match="raise alpha"):
        partition.dirichlet(labels, 10, alpha=0.001, seed=0, min_size=2, max_tries=5)
