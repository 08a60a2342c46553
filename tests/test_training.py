"""Local training and the round loop: the numeric facts the FedAvg notebook teaches."""

import math

import numpy as np
import pytest
import torch

import fedlite as fl
from fedlite.client import LocalConfig, local_train
from fedlite.heterogeneity.partition import dirichlet, iid
from fedlite.metrics import evaluate
from fedlite.state import copy_state, distance


def blobs(n=240, d=6, seed=0, shift=0.0):
    """Two Gaussian classes in d dimensions: a tiny, learnable tabular problem."""
    g = torch.Generator().manual_seed(seed)
    y = torch.arange(n) % 2
    x = torch.randn(n, d, generator=g) + (2 * y[:, None] - 1) * 1.5 + shift
    return fl.Data(x, y)


def images(n=120, seed=0):
    g = torch.Generator().manual_seed(seed)
    y = torch.arange(n) % 2
    x = torch.rand(n, 1, 28, 28, generator=g) * 0.5 + 0.4 * y[:, None, None, None]
    return fl.Data(x, y)


def clients_of(data, k, seed=0):
    return fl.subsets(data, iid(len(data), k, seed=seed))


def assert_states_close(a, b, atol=1e-6):
    assert a.keys() == b.keys()
    for k in a:
        assert torch.allclose(a[k].double(), b[k].double(), atol=atol), k


# --- the FedAvg facts --------------------------------------------------------------------

def test_one_round_of_fedsgd_is_one_full_batch_step_on_pooled_data():
    # Prepare: 4 hospitals of unequal size, label-skewed, one shared initial model.
    data = blobs(n=203)
    parts = fl.subsets(data, dirichlet(data.y.numpy(), 4, alpha=0.5, seed=1))
    fedsgd = LocalConfig(epochs=1, batch_size=None, lr=0.3)
    # Execute: one FedSGD round, and one centralized full-batch step.
    federated = fl.make_model("mlp", seed=0, in_features=6)
    fl.run_federated(federated, parts, data, rounds=1, local=fedsgd, progress=False)
    central = fl.make_model("mlp", seed=0, in_features=6)
    local_train(central, fl.pool(parts), fedsgd, seed=0)
    # Assert: the same weights, to float tolerance.
    assert_states_close(federated.state_dict(), central.state_dict(), atol=1e-6)


def test_fedsgd_matches_an_autograd_answer_key():
    data = blobs(n=50)
    model = fl.make_model("logreg", seed=3, in_features=6)
    w0 = {k: v.clone().requires_grad_(True) for k, v in model.state_dict().items()}
    loss = torch.nn.functional.cross_entropy(data.x @ w0["linear.weight"].T + w0["linear.bias"], data.y)
    gw, gb = torch.autograd.grad(loss, [w0["linear.weight"], w0["linear.bias"]])
    fl.run_federated(model, clients_of(data, 5), data, rounds=1,
                     local=LocalConfig(batch_size=None, lr=0.5), progress=False)
    assert torch.allclose(model.linear.weight, w0["linear.weight"] - 0.5 * gw, atol=1e-6)
    assert torch.allclose(model.linear.bias, w0["linear.bias"] - 0.5 * gb, atol=1e-6)


def test_fedprox_matches_an_autograd_answer_key_over_two_full_batch_steps():
    # Answer key: w <- w - lr * (grad F_k(w) + mu * (w - w_global)), the gradient of F_k by autograd and
    # the proximal gradient written out by hand, for two full-batch SGD steps from w_global.
    data = blobs(n=60, shift=1.0)
    lr, mu = 0.3, 2.0
    model = fl.make_model("mlp", seed=1, in_features=6)
    w_global = {name: p.detach().clone() for name, p in model.named_parameters()}
    w = dict(w_global)
    for _ in range(2):
        params = {name: v.clone().requires_grad_(True) for name, v in w.items()}
        loss = torch.nn.functional.cross_entropy(torch.func.functional_call(model, params, (data.x,)), data.y)
        grads = dict(zip(params, torch.autograd.grad(loss, list(params.values()))))
        w = {name: w[name] - lr * (grads[name] + mu * (w[name] - w_global[name])) for name in w}
    local_train(model, data, LocalConfig(epochs=2, batch_size=None, lr=lr, mu=mu), seed=0)
    for name, p in model.named_parameters():
        assert torch.allclose(p.detach(), w[name], atol=1e-6), name
    # and mu matters: the same two steps without the proximal term end measurably elsewhere
    plain = fl.make_model("mlp", seed=1, in_features=6)
    local_train(plain, data, LocalConfig(epochs=2, batch_size=None, lr=lr), seed=0)
    assert distance(plain.state_dict(), model.state_dict()) > 1e-3


def test_fedprox_keeps_the_local_model_near_the_global_one():
    data = blobs(shift=3.0)
    start = fl.make_model("mlp", seed=0, in_features=6)
    w_global = torch.cat([p.detach().flatten() for p in start.parameters()])
    distance = {}
    for mu in (0.0, 10.0):
        model = fl.make_model("mlp", seed=0, in_features=6)
        local_train(model, data, LocalConfig(epochs=5, batch_size=16, lr=0.1, mu=mu), seed=0)
        distance[mu] = (torch.cat([p.detach().flatten() for p in model.parameters()]) - w_global).norm().item()
    assert distance[10.0] < 0.5 * distance[0.0]


def test_identical_clients_fedavg_equals_one_client_training_alone():
    data = blobs(n=64)
    alone = fl.make_model("logreg", seed=1, in_features=6)
    local_train(alone, data, LocalConfig(batch_size=None, lr=0.2, epochs=3), seed=0)
    together = fl.make_model("logreg", seed=1, in_features=6)
    fl.run_federated(together, [data, data, data], data, rounds=1,
                     local=LocalConfig(batch_size=None, lr=0.2, epochs=3), progress=False)
    assert_states_close(alone.state_dict(), together.state_dict(), atol=1e-6)


def test_same_seed_same_history_other_seed_other_history():
    data = images()

    def run(seed):
        model = fl.make_model("cnn", seed=seed)
        return fl.run_federated(model, clients_of(data, 4), data, rounds=2, participation=0.5,
                                local=LocalConfig(batch_size=16), seed=seed, progress=False).rows()

    assert run(5) == run(5)
    assert run(5) != run(6)


def test_training_learns_and_histories_record_rounds_and_bytes():
    data = blobs()
    model = fl.make_model("mlp", seed=0, in_features=6)
    history = fl.run_federated(model, clients_of(data, 10), data, rounds=5, participation=0.3,
                               local=LocalConfig(batch_size=8, lr=0.1), progress=False)
    assert history.final("accuracy") > 0.9 and history.final("auc") > 0.95
    assert [r.round for r in history.rounds] == [1, 2, 3, 4, 5]
    assert all(len(r.clients) == 3 for r in history.rounds)                       # C = 0.3 of 10
    model_bytes = sum(p.numel() * 4 for p in model.parameters())
    assert all(r.bytes_up == r.bytes_down == 3 * model_bytes for r in history.rounds)
    assert history.rounds_to(0.5) == 1 and history.rounds_to(1.01) is None


def test_server_momentum_run_differs_from_fedavg_and_fedavg_equivalent_does_not():
    data, parts = blobs(), clients_of(blobs(), 4)
    def final(optimizer):
        model = fl.make_model("mlp", seed=0, in_features=6)
        fl.run_federated(model, parts, data, rounds=3, server_optimizer=optimizer, progress=False)
        return model.state_dict()
    start = copy_state(fl.make_model("mlp", seed=0, in_features=6))
    plain = final(None)
    assert_states_close(plain, final(fl.ServerMomentum(lr=1.0, momentum=0.0)), atol=1e-6)
    # momentum 0.9 adds 0.9 of the earlier rounds' steps again: a change of the order of the run itself
    moved = distance(plain, start)
    assert distance(plain, final(fl.ServerMomentum(lr=1.0, momentum=0.9))) > 0.2 * moved


def test_fedbn_keeps_batchnorm_local_and_sends_fewer_bytes():
    data = images(n=96)
    parts = clients_of(data, 3)
    model = fl.make_model("cnn", seed=0, norm=True)
    keys = fl.batchnorm_keys(model)
    assert "features.1.running_mean" in keys and "features.1.num_batches_tracked" in keys
    fedbn = fl.run_federated(model, parts, data, rounds=2, local_keys=keys, client_tests=parts, progress=False)
    fedavg = fl.run_federated(fl.make_model("cnn", seed=0, norm=True), parts, data, rounds=2, progress=False)
    assert fedbn.rounds[0].bytes_up < fedavg.rounds[0].bytes_up
    assert not math.isnan(fedbn.client_metric("accuracy")[-1, 2])


def test_baselines_run_on_the_same_model_and_test_set():
    data = blobs()
    parts = clients_of(data, 4)
    central = fl.run_centralized(fl.make_model("mlp", seed=0, in_features=6), data, data, epochs=3, progress=False)
    start = fl.make_model("mlp", seed=0, in_features=6)
    before = copy_state(start)
    local, models = fl.run_local_only(start, parts, data, epochs=3, progress=False)
    assert len(central.rounds) == 3 and central.final("accuracy") > 0.9
    per_client = local.client_metric("accuracy")
    assert per_client.shape == (3, 4)
    weights = np.array([len(p) for p in parts]) / len(data)
    assert local.final("accuracy") == pytest.approx(float(weights @ per_client[-1]))
    # the returned models are the ones that were scored, and the starting model is untouched
    assert [evaluate(m, data)["accuracy"] for m in models] == per_client[-1].tolist()
    assert distance(copy_state(start), before) == 0.0 and len({id(m) for m in models}) == 4


def test_local_train_returns_a_copy_n_k_and_a_finite_loss():
    data = blobs(n=30)
    model = fl.make_model("logreg", seed=0, in_features=6)
    result = local_train(model, data, LocalConfig(batch_size=7), seed=0)
    assert result.num_samples == 30 and math.isfinite(result.loss)
    result.state["linear.bias"].add_(100.0)
    assert model.linear.bias.abs().max() < 100      # the returned state is not the live model


# --- bad input -------------------------------------------------------------------------

@pytest.mark.parametrize("kwargs, message", [
    ({"epochs": 0}, "epochs must be a positive integer"),
    ({"batch_size": 0}, "batch_size must be a positive integer or None"),
    ({"lr": 0.0}, r"lr \(learning rate\) must be > 0"),
    ({"lr": -1.0}, r"lr \(learning rate\) must be > 0"),
    ({"optimizer": "rmsprop"}, "optimizer must be 'sgd' or 'adam'"),
    ({"momentum": 1.0}, r"momentum must be in \[0, 1\)"),
    ({"mu": -0.1}, r"mu \(FedProx strength\) must be >= 0"),
])
def test_local_config_rejects_bad_hyperparameters(kwargs, message):
    with pytest.raises(ValueError, match=message):
        LocalConfig(**kwargs)


def test_run_federated_rejects_bad_setups():
    data = blobs(n=20)
    model = fl.make_model("logreg", seed=0, in_features=6)
    empty = fl.Data(torch.zeros(0, 6), torch.zeros(0, dtype=torch.long))
    with pytest.raises(ValueError, match=r"clients \[1\] have no samples"):
        fl.run_federated(model, [data, empty], data, rounds=1, progress=False)
    with pytest.raises(ValueError, match="no clients"):
        fl.run_federated(model, [], data, rounds=1, progress=False)
    with pytest.raises(ValueError, match="rounds must be a positive integer"):
        fl.run_federated(model, [data], data, rounds=0, progress=False)
    with pytest.raises(ValueError, match=r"participation \(the fraction of clients sampled per round\) must be in \(0, 1\]"):
        fl.run_federated(model, [data], data, rounds=1, participation=0.0, progress=False)
    with pytest.raises(ValueError, match="one Data per client"):
        fl.run_federated(model, [data, data], data, rounds=1, client_tests=[data], progress=False)
    with pytest.raises(ValueError, match="no samples"):
        local_train(model, empty, LocalConfig(), seed=0)


def test_a_diverging_client_stops_the_round_with_a_clear_error():
    data = blobs(n=20)
    exploding = fl.Data(data.x * 1e38, data.y)   # logits overflow float32: the update becomes NaN
    model = fl.make_model("logreg", seed=0, in_features=6)
    with pytest.raises(RuntimeError, match=r"round 1: aggregating clients \[0, 1\].*NaN or Inf.*learning rate"):
        fl.run_federated(model, [data, exploding], data, rounds=1, progress=False)


def test_make_data_validates_shapes_and_values():
    with pytest.raises(ValueError, match="same first dimension"):
        fl.make_data(np.zeros((3, 2)), np.zeros(4))
    with pytest.raises(ValueError, match="one-dimensional"):
        fl.make_data(np.zeros((3, 2)), np.zeros((3, 1)))
    with pytest.raises(ValueError, match="no samples"):
        fl.make_data(np.zeros((0, 2)), np.zeros(0))
    with pytest.raises(ValueError, match="NaN or Inf"):
        fl.make_data(np.array([[np.nan, 1.0]]), np.array([0]))
    d = fl.make_data(np.ones((2, 3)), np.array([0, 1]))
    assert d.x.dtype == torch.float32 and d.y.dtype == torch.int64 and len(d) == 2


# --- hooks: what reaches the server, and how it is combined -----------------------------

def test_a_dropped_update_is_left_out_of_the_average_and_the_bytes():
    data = blobs()
    parts = clients_of(data, 3)
    drop_client_1 = lambda t, k, result: None if k == 1 else result  # noqa: E731
    dropped = fl.make_model("mlp", seed=0, in_features=6)
    history = fl.run_federated(dropped, parts, data, rounds=1, on_update=drop_client_1, progress=False)
    # Answer key: the same round by hand, averaging only clients 0 and 2.
    states = []
    for k in (0, 2):
        model = fl.make_model("mlp", seed=0, in_features=6)
        states.append(local_train(model, parts[k], LocalConfig(), seed=fl.simulation.round_seed(0, 1, k)))
    expected = fl.fedavg([r.state for r in states], [r.num_samples for r in states])
    assert_states_close(dropped.state_dict(), expected)
    r = history.rounds[0]
    assert [r.clients[k]["arrived"] for k in range(3)] == [1.0, 0.0, 1.0]
    assert r.bytes_up == 2 * r.bytes_down // 3


def test_no_update_arriving_leaves_the_model_unchanged():
    data = blobs(n=40)
    model = fl.make_model("logreg", seed=0, in_features=6)
    before = {k: v.clone() for k, v in model.state_dict().items()}
    history = fl.run_federated(model, clients_of(data, 2), data, rounds=2,
                               on_update=lambda t, k, r: None, progress=False)
    assert_states_close(model.state_dict(), before, atol=0)
    assert history.rounds[-1].bytes_up == 0


def test_a_custom_aggregator_and_a_tampering_hook_change_the_result():
    data = blobs()
    parts = fl.subsets(data, dirichlet(data.y.numpy(), 3, alpha=0.5, seed=0))
    unweighted = lambda states, num_samples, context: fl.fedavg(states, [1.0] * len(states))  # noqa: E731

    def run(**kwargs):
        model = fl.make_model("mlp", seed=0, in_features=6)
        fl.run_federated(model, parts, data, rounds=1, progress=False, **kwargs)
        return model.state_dict()

    def flip_client_0(t, k, result):
        if k == 0:
            result.state = {name: -w for name, w in result.state.items()}
        return result

    # Answer key: the same round by hand, each client trained from the initial model with its seed.
    trained = []
    for k, part in enumerate(parts):
        model = fl.make_model("mlp", seed=0, in_features=6)
        trained.append(local_train(model, part, LocalConfig(), seed=fl.simulation.round_seed(0, 1, k)))
    states, sizes = [r.state for r in trained], [r.num_samples for r in trained]
    assert_states_close(run(), fl.fedavg(states, sizes))
    assert_states_close(run(aggregate=unweighted), fl.fedavg(states, [1.0] * 3))
    flipped = [{name: -w for name, w in states[0].items()}] + states[1:]
    assert_states_close(run(on_update=flip_client_0), fl.fedavg(flipped, sizes))
    assert distance(fl.fedavg(states, sizes), fl.fedavg(states, [1.0] * 3)) > 1e-3   # the keys do differ


def test_upload_bytes_of_a_compressed_update_are_counted():
    data = blobs(n=40)
    def pretend_compressed(t, k, result):
        result.upload_bytes = 10
        return result
    history = fl.run_federated(fl.make_model("logreg", seed=0, in_features=6), clients_of(data, 2), data,
                               rounds=1, on_update=pretend_compressed, progress=False)
    assert history.rounds[0].bytes_up == 20
