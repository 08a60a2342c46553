"""fedlite.measure: gradients, distances, local steps and run_until, against answer keys."""

import math

import pytest
import torch

import fedlite as fl
from fedlite.aggregate import fedavg
from fedlite.measure import gradient, local_steps, spread
from fedlite.simulation import run_until
from fedlite.state import distance, flatten
from fedlite.client import LocalConfig
from fedlite.heterogeneity.partition import dirichlet


def blobs(n=120, d=5, seed=0):
    g = torch.Generator().manual_seed(seed)
    y = torch.arange(n) % 2
    return fl.Data(torch.randn(n, d, generator=g) + (2 * y[:, None] - 1.0), y)


def test_gradient_matches_a_hand_derived_logistic_regression_gradient():
    # Prepare: softmax regression, whose gradient is X^T (softmax(XW^T + b) - onehot(y)) / n.
    data = blobs(n=40)
    model = fl.make_model("logreg", seed=1, in_features=5)
    w, b = model.linear.weight.detach(), model.linear.bias.detach()
    # Execute
    g = gradient(model, data)
    # Assert
    residual = (data.x @ w.T + b).softmax(1) - torch.nn.functional.one_hot(data.y, 2).float()
    assert torch.allclose(g["linear.weight"], residual.T @ data.x / len(data), atol=1e-6)
    assert torch.allclose(g["linear.bias"], residual.mean(0), atol=1e-6)
    assert set(g) == {"linear.weight", "linear.bias"}


def test_pooled_gradient_is_the_n_k_weighted_average_of_hospital_gradients():
    data = blobs(n=157)
    parts = fl.subsets(data, dirichlet(data.y.numpy(), 4, alpha=0.5, seed=2))
    model = fl.make_model("mlp", seed=0, in_features=5)
    before = {k: v.clone() for k, v in model.state_dict().items()}
    pooled = flatten(gradient(model, fl.pool(parts)))
    weighted = flatten(fedavg([gradient(model, p) for p in parts], [len(p) for p in parts]))
    unweighted = flatten(fedavg([gradient(model, p) for p in parts], [1] * len(parts)))
    assert torch.allclose(pooled, weighted, atol=1e-6)
    assert not torch.allclose(pooled, unweighted, atol=1e-3)
    assert all(torch.equal(before[k], v) for k, v in model.state_dict().items())  # weights untouched


def test_flatten_distance_and_spread_against_hand_computed_values():
    a = {"w": torch.tensor([0.0, 0.0]), "b": torch.tensor([0.0]), "count": torch.tensor(3)}
    b = {"w": torch.tensor([3.0, 0.0]), "b": torch.tensor([4.0]), "count": torch.tensor(5)}
    assert flatten(a).dtype == torch.float64 and flatten(b).tolist() == [3.0, 0.0, 4.0]  # counter skipped
    assert distance(a, b) == pytest.approx(5.0)
    # Two clients, equal weights: both are 2.5 from their midpoint.
    assert spread([a, b]) == pytest.approx(2.5)
    # Weights 1:3: centre is 3/4 of the way to b; distances 3.75 and 1.25 -> 0.25*3.75 + 0.75*1.25.
    assert spread([a, b], [1, 3]) == pytest.approx(0.25 * 3.75 + 0.75 * 1.25)
    assert spread([a, a, a]) == 0.0


def test_distance_rejects_different_architectures():
    with pytest.raises(ValueError, match="differ"):
        distance({"w": torch.zeros(2)}, {"v": torch.zeros(2)})


@pytest.mark.parametrize("n_k, epochs, batch, expected", [
    (600, 1, None, 1), (600, 5, None, 5), (600, 1, 10, 60), (600, 5, 50, 60), (600, 20, 10, 1200),
    (101, 2, 50, 6), (7, 3, 32, 3),
])
def test_local_steps_is_e_times_ceil_n_over_b(n_k, epochs, batch, expected):
    assert local_steps(n_k, epochs, batch) == expected


def test_local_steps_counts_what_local_train_actually_does():
    data = blobs(n=101)
    model = fl.make_model("logreg", seed=0, in_features=5)
    calls = []
    model.register_forward_hook(lambda *args: calls.append(1))
    fl.local_train(model, data, LocalConfig(epochs=2, batch_size=50), seed=0)
    assert len(calls) == local_steps(101, 2, 50) == 2 * math.ceil(101 / 50)


def test_local_steps_rejects_nonsense():
    with pytest.raises(ValueError, match="n_k >= 1"):
        local_steps(0, 1, 10)


def test_run_until_stops_at_the_target_and_is_reproducible():
    data = blobs(n=200)
    parts = fl.subsets(data, dirichlet(data.y.numpy(), 3, alpha=1.0, seed=0))
    config = LocalConfig(epochs=1, batch_size=20, lr=0.1)
    h1 = run_until(fl.make_model("logreg", seed=0, in_features=5), parts, data, target=0.9, key="accuracy",
                   max_rounds=30, local=config)
    h2 = run_until(fl.make_model("logreg", seed=0, in_features=5), parts, data, target=0.9, key="accuracy",
                   max_rounds=30, local=config)
    assert h1.rounds_to(0.9) == len(h1.rounds) and [r.round for r in h1.rounds] == list(range(1, len(h1.rounds) + 1))
    assert h1.metric("accuracy") == h2.metric("accuracy")
    never = run_until(fl.make_model("logreg", seed=0, in_features=5), parts, data, target=1.1, key="accuracy",
                      max_rounds=3, local=config)
    assert len(never.rounds) == 3 and never.rounds_to(1.1) is None
    with pytest.raises(ValueError, match="max_rounds"):
        run_until(fl.make_model("logreg", seed=0, in_features=5), parts, data, target=0.9, max_rounds=0)
