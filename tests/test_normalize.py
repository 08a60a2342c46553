"""Normalization: federated statistics equal the pooled answer key; standardize is safe."""

from __future__ import annotations

import numpy as np
import pytest
import torch
from hypothesis import given, settings
from hypothesis import strategies as st

from fedlite import datasets
from fedlite.data import Data, pool
from fedlite.heterogeneity.normalize import federated_mean_std, local_mean_std, standardize, summary_stats


def hospitals_of(sizes: list[int], shape: tuple[int, ...], seed: int = 0) -> list[Data]:
    """Clients with different sizes *and* different feature scales (non-IID)."""
    g = torch.Generator().manual_seed(seed)
    return [Data(torch.randn((n, *shape), generator=g) * (k + 1) + 10 * k, torch.zeros(n).long())
            for k, n in enumerate(sizes)]


def pooled_answer_key(parts: list[Data], axes: tuple[int, ...]) -> tuple[np.ndarray, np.ndarray]:
    """Mean/std computed directly on the pooled rows (what FL may NOT do) in float64."""
    x = np.concatenate([p.x.numpy().astype(np.float64) for p in parts])
    return x.mean(axis=axes), x.std(axis=axes)


def test_federated_equals_pooled_for_tables():
    # Prepare: 3 unequal hospitals, 5 features on very different scales
    parts = hospitals_of([7, 30, 3], (5,))
    # Execute
    mean, std = federated_mean_std(parts)
    # Assert
    key_mean, key_std = pooled_answer_key(parts, (0,))
    np.testing.assert_allclose(mean.numpy(), key_mean, rtol=1e-5, atol=1e-5)
    np.testing.assert_allclose(std.numpy(), key_std, rtol=1e-5)


def test_federated_equals_pooled_per_channel_for_images():
    parts = hospitals_of([4, 9], (3, 6, 6))
    mean, std = federated_mean_std(parts)
    key_mean, key_std = pooled_answer_key(parts, (0, 2, 3))
    assert mean.shape == (3,)
    np.testing.assert_allclose(mean.numpy(), key_mean, rtol=1e-5, atol=1e-5)
    np.testing.assert_allclose(std.numpy(), key_std, rtol=1e-5)


@settings(max_examples=30, deadline=None)
@given(sizes=st.lists(st.integers(1, 20), min_size=1, max_size=6), seed=st.integers(0, 10_000))
def test_federated_equals_pooled_for_any_client_sizes(sizes, seed):
    parts = hospitals_of(sizes, (2,), seed=seed)
    mean, std = federated_mean_std(parts)
    key_mean, key_std = pooled_answer_key(parts, (0,))
    np.testing.assert_allclose(mean.numpy(), key_mean, rtol=1e-5, atol=1e-4)
    np.testing.assert_allclose(std.numpy(), key_std, rtol=1e-4, atol=1e-4)


def test_server_needs_only_counts_sums_and_squares():
    # The three numbers a hospital sends, checked by hand on a tiny table
    n, s, q = summary_stats(Data(torch.tensor([[1.0], [2.0], [3.0]]), torch.zeros(3).long()))
    assert n == 3 and s.tolist() == [6.0] and q.tolist() == [14.0]


def test_local_statistics_differ_from_pooled_ones_across_hospitals():
    parts = hospitals_of([50, 50], (1,))
    local = local_mean_std(parts[1])[0]
    federated = federated_mean_std(parts)[0]
    assert abs(local.item() - federated.item()) > 3  # hospital 1 sits 10 units higher


def test_standardize_gives_zero_mean_unit_std_on_the_fitted_data():
    data = pool(hospitals_of([20, 20], (4,)))
    out = standardize(data, *local_mean_std(data))
    mean, std = local_mean_std(out)
    np.testing.assert_allclose(mean.numpy(), 0, atol=1e-5)
    np.testing.assert_allclose(std.numpy(), 1, atol=1e-5)
    assert torch.equal(out.y, data.y)


def test_standardize_guards_a_constant_feature():
    # Prepare: column 1 is constant (like Switzerland's unrecorded cholesterol)
    data = Data(torch.tensor([[1.0, 5.0], [3.0, 5.0]]), torch.zeros(2).long())
    # Execute
    out = standardize(data, *local_mean_std(data))
    # Assert: centred, finite, no division by zero
    assert torch.isfinite(out.x).all()
    assert out.x[:, 1].tolist() == [0.0, 0.0] and out.x[:, 0].tolist() == [-1.0, 1.0]


def test_standardize_rejects_statistics_of_the_wrong_shape():
    data = Data(torch.zeros(3, 4), torch.zeros(3).long())
    with pytest.raises(ValueError, match=r"shape \(4,\)"):
        standardize(data, torch.zeros(3), torch.ones(3))


def test_federated_mean_std_needs_clients():
    with pytest.raises(ValueError, match="at least one"):
        federated_mean_std([])


def test_real_switzerland_cholesterol_is_constant_and_standardizes_safely(real_data_dir):
    swiss = datasets.load_heart_disease()["switzerland"]["train"]
    mean, std = local_mean_std(swiss)
    assert std[3] == 0  # cholesterol (column 3) was recorded as 0 for every Swiss patient
    assert torch.isfinite(standardize(swiss, mean, std).x).all()
