"""Measuring non-IID federations: label skew against hand-computed values, client drift
against a plain loop over local_train and against the FedAvg aggregate."""

from __future__ import annotations

import numpy as np
import pytest
import torch

import fedlite as fl
from fedlite.client import LocalConfig, local_train
from fedlite.measure import client_drift, label_skew
from fedlite.state import flatten, update_of
from fedlite.heterogeneity.partition import dirichlet, iid, label_counts
from fedlite.simulation import round_seed


def blobs(n=120, d=4, seed=0):
    g = torch.Generator().manual_seed(seed)
    y = torch.arange(n) % 2
    x = torch.randn(n, d, generator=g) + (2 * y[:, None] - 1) * 1.5
    return fl.Data(x, y)


# --- label_skew ---------------------------------------------------------------------------

def test_identical_mixes_have_zero_skew():
    assert label_skew(np.array([[10, 30], [5, 15], [1, 3]])) == pytest.approx(0.0)


def test_label_skew_by_hand():
    # overall mix (40, 60)/100; client 0 holds (30, 10)/40 -> TV 0.5*(|0.75-0.4| + |0.25-0.6|) = 0.35
    # client 1 holds (10, 50)/60 -> TV 0.5*(|1/6-0.4| + |5/6-0.6|) = 7/30; weights 0.4 and 0.6
    expected = 0.4 * 0.35 + 0.6 * 7 / 30
    assert label_skew(np.array([[30, 10], [10, 50]])) == pytest.approx(expected)


def test_single_class_clients_reach_the_maximum_2p_1_minus_p():
    counts = np.array([[25, 0], [0, 60], [0, 15]])
    p = 25 / 100
    assert label_skew(counts) == pytest.approx(2 * p * (1 - p))


def test_smaller_alpha_gives_larger_skew_on_average():
    y = np.arange(2000) % 2
    skew = {a: np.mean([label_skew(label_counts(y, dirichlet(y, 5, alpha=a, seed=s))) for s in range(5)])
            for a in (0.1, 1.0, 100.0)}
    assert skew[0.1] > skew[1.0] > skew[100.0]
    assert label_skew(label_counts(y, iid(len(y), 5, seed=0))) < 0.05


@pytest.mark.parametrize("counts, message", [
    (np.array([1, 2, 3]), "clients x classes"),
    (np.array([[1, -1]]), "non-negative"),
    (np.array([[1, 2], [0, 0]]), "hold no samples"),
])
def test_label_skew_rejects_bad_tables(counts, message):
    with pytest.raises(ValueError, match=message):
        label_skew(counts)


# --- client_drift -------------------------------------------------------------------------

def test_drift_matches_a_plain_loop_over_local_train_and_leaves_the_model_unchanged():
    data = blobs()
    parts = fl.subsets(data, dirichlet(data.y.numpy(), 3, alpha=0.3, seed=2))
    local = LocalConfig(lr=0.1, batch_size=8)
    model = fl.make_model("logreg", seed=0, in_features=4)
    before = {k: v.clone() for k, v in model.state_dict().items()}
    drift = client_drift(model, parts, local, seed=7)
    for k, v in model.state_dict().items():
        assert torch.equal(v, before[k])
    for k, part in enumerate(parts):  # answer key: train a fresh copy by hand
        copy = fl.make_model("logreg", seed=0, in_features=4)
        expected = local_train(copy, part, local, seed=round_seed(7, 1, k)).state
        for name in expected:
            assert torch.equal(drift.states[k][name], expected[name])
        assert drift.update_norms[k] == pytest.approx(flatten(update_of(expected, before)).norm().item())


def test_average_update_is_the_fedavg_aggregate_minus_the_start():
    data = blobs()
    parts = fl.subsets(data, dirichlet(data.y.numpy(), 4, alpha=0.5, seed=0))
    model = fl.make_model("mlp", seed=1, in_features=4)
    start = {k: v.clone() for k, v in model.state_dict().items()}
    drift = client_drift(model, parts, LocalConfig(lr=0.1, batch_size=16), seed=0)
    averaged = fl.fedavg(drift.states, [len(p) for p in parts])
    assert drift.average_norm == pytest.approx(flatten(update_of(averaged, start)).norm().item(), rel=1e-5)
    assert 0 <= drift.agreement <= 1 + 1e-9
    assert np.all(np.abs(drift.cosines) <= 1 + 1e-9)


def test_identical_clients_agree_completely():
    data = blobs(n=40)
    model = fl.make_model("logreg", seed=0, in_features=4)
    local = LocalConfig(lr=0.1, batch_size=None)  # full batch: no shuffling, same update everywhere
    drift = client_drift(model, [data, data, data], local)
    assert drift.agreement == pytest.approx(1.0)
    np.testing.assert_allclose(drift.cosines, 1.0, atol=1e-9)


def test_opposite_single_class_clients_disagree_more_than_iid_clients():
    data = blobs(n=200)
    local = LocalConfig(lr=0.5, batch_size=None, epochs=5)
    by_label = [data.subset(np.flatnonzero(data.y.numpy() == c)) for c in (0, 1)]
    mixed = fl.subsets(data, iid(len(data), 2, seed=0))
    model = fl.make_model("logreg", seed=0, in_features=4)
    skewed, alike = client_drift(model, by_label, local), client_drift(model, mixed, local)
    assert skewed.agreement < alike.agreement
    assert skewed.cosines.min() < alike.cosines.min()


def test_client_drift_needs_clients():
    with pytest.raises(ValueError, match="at least one"):
        client_drift(fl.make_model("logreg", seed=0, in_features=4), [], LocalConfig())
