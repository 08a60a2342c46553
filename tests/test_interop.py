"""fedlite.interop against its answer keys: a round trip is exact, and FedAvg on arrays equals fedlite.fedavg."""

from __future__ import annotations

import numpy as np
import pytest
import torch

from fedlite import fedavg, make_model
from fedlite.interop import from_ndarrays, to_ndarrays, weighted_average


@pytest.fixture
def bn_state():
    """A CNN with BatchNorm: float weights, float buffers and an int64 counter, in a non-sorted order."""
    model = make_model("cnn", seed=0, norm=True)
    model.train()
    model(torch.rand(4, 1, 28, 28))  # moves the running statistics and the counter away from their defaults
    return model.state_dict()


def test_to_ndarrays_keeps_order_shapes_dtypes_and_every_buffer(bn_state):
    arrays = to_ndarrays(bn_state)
    assert len(arrays) == len(bn_state)
    for array, (name, tensor) in zip(arrays, bn_state.items()):
        assert isinstance(array, np.ndarray), name
        assert array.shape == tuple(tensor.shape) and array.dtype == tensor.numpy().dtype, name
        np.testing.assert_array_equal(array, tensor.numpy())
    assert any(a.dtype == np.int64 for a in arrays), "num_batches_tracked must travel too"


def test_to_ndarrays_returns_copies(bn_state):
    before = bn_state["features.0.weight"].clone()
    to_ndarrays(bn_state)[0][...] = 99.0
    torch.testing.assert_close(bn_state["features.0.weight"], before)


def test_round_trip_is_exact_and_loads_into_a_model(bn_state):
    back = from_ndarrays(to_ndarrays(bn_state), bn_state)
    assert list(back) == list(bn_state)
    for name in bn_state:
        assert back[name].dtype == bn_state[name].dtype
        assert torch.equal(back[name], bn_state[name]), name
    make_model("cnn", seed=1, norm=True).load_state_dict(back)


def test_from_ndarrays_casts_to_the_reference_dtype():
    like = {"w": torch.zeros(2, dtype=torch.float32), "n": torch.zeros((), dtype=torch.int64)}
    back = from_ndarrays([np.array([1.5, 2.5], dtype=np.float64), np.array(3)], like)
    assert back["w"].dtype == torch.float32 and back["n"].dtype == torch.int64
    assert back["w"].tolist() == [1.5, 2.5] and back["n"].item() == 3


def test_from_ndarrays_rejects_a_wrong_count_or_shape(bn_state):
    arrays = to_ndarrays(bn_state)
    with pytest.raises(ValueError, match="arrays for a model with"):
        from_ndarrays(arrays[:-1], bn_state)
    with pytest.raises(ValueError, match="features.0.weight.*state.s order"):
        from_ndarrays([arrays[1], arrays[0], *arrays[2:]], bn_state)  # swapped: the order matters


def test_to_ndarrays_rejects_an_empty_state():
    with pytest.raises(ValueError, match="empty"):
        to_ndarrays({})


def test_weighted_average_matches_a_hand_computed_answer():
    a = [np.array([0.0, 4.0], dtype=np.float32), np.array(2)]
    b = [np.array([3.0, 0.0], dtype=np.float32), np.array(5)]
    out = weighted_average([(a, 1), (b, 2)])   # weights 1/3 and 2/3
    np.testing.assert_allclose(out[0], [2.0, 4.0 / 3.0], rtol=1e-6)
    assert out[0].dtype == np.float32
    assert out[1].dtype == np.int64 or np.issubdtype(out[1].dtype, np.integer)
    assert out[1] == 4  # 2/3 + 10/3 = 4, rounded, not truncated


def test_weighted_average_equals_fedlite_fedavg_on_real_states(bn_state):
    states = []
    for seed in range(3):
        model = make_model("cnn", seed=seed, norm=True)
        model.train()
        for _ in range(seed + 1):
            model(torch.rand(4, 1, 28, 28))
        states.append(model.state_dict())
    counts = [120, 7, 43]
    expected = to_ndarrays(fedavg(states, counts))
    got = weighted_average([(to_ndarrays(s), n) for s, n in zip(states, counts)])
    for g, e in zip(got, expected):
        assert g.dtype == e.dtype
        np.testing.assert_allclose(g, e, rtol=0, atol=1e-6)


@pytest.mark.parametrize("results, message", [
    ([], "nothing to average"),
    ([([np.zeros(2)], 0), ([np.zeros(2)], 0)], "all weights are zero"),
    ([([np.zeros(2)], -1), ([np.zeros(2)], 3)], "non-negative"),
    ([([np.zeros(2)], 1), ([np.zeros(2), np.zeros(1)], 1)], "different parameter names"),
    ([([np.zeros(2)], 1), ([np.zeros(3)], 1)], r"shape \(3,\)"),
])
def test_weighted_average_rejects_bad_input(results, message):
    with pytest.raises(ValueError, match=message):
        weighted_average(results)
