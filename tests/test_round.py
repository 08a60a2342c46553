"""The steppable round: stepping federated_round R times is run_federated(rounds=R), exactly."""

from __future__ import annotations

import pytest
import torch
from torch import nn

import fedlite as fl
from fedlite.heterogeneity.partition import iid
from fedlite.robustness.participation import RandomDropout
from fedlite.simulation import federated_round, run_until, start_federation

pytestmark = pytest.mark.usefixtures("one_thread")  # see conftest.py

ROUNDS = 4
LOCAL = fl.LocalConfig(lr=0.1, batch_size=16)


def federation_data(seed=0, n=200, k=5):
    g = torch.Generator().manual_seed(seed)
    y = torch.arange(n) % 2
    data = fl.Data(torch.randn(n, 4, generator=g) + (2 * y[:, None] - 1.0), y)
    return fl.subsets(data, iid(n, k, seed=seed)), data


def bn_model():
    """A model with a BatchNorm layer, so FedBN has tensors to keep at home."""
    torch.manual_seed(0)
    return nn.Sequential(nn.BatchNorm1d(4), nn.Linear(4, 2))


def settings(model):
    return dict(local=LOCAL, participation=0.8, local_keys=fl.batchnorm_keys(model))


def assert_same_history(a, b):
    assert len(a.rounds) == len(b.rounds)
    for x, y in zip(a.rounds, b.rounds):
        assert (x.round, x.test, x.clients, x.bytes_down, x.bytes_up) == (y.round, y.test, y.clients,
                                                                          y.bytes_down, y.bytes_up)


def test_stepping_the_round_equals_run_federated_with_fedbn_and_dropouts():
    clients, data = federation_data()
    reference = bn_model()
    dropout = RandomDropout(0.3, seed=1)
    expected = fl.run_federated(reference, clients, data, rounds=ROUNDS, seed=5, on_update=dropout,
                                progress=False, client_tests=clients, **settings(reference))
    assert len(set(dropout.dropped)) > 2 and len({t for t, _ in dropout.dropped}) > 1   # dropouts do vary

    model = bn_model()
    federation = start_federation(model, seed=5, on_update=RandomDropout(0.3, seed=1))
    stepped = fl.History("FedAvg")
    for _ in range(ROUNDS):
        federation, record = federated_round(model, clients, data, federation, client_tests=clients,
                                             **settings(model))
        stepped.rounds.append(record)
    assert_same_history(stepped, expected)
    assert all(torch.equal(model.state_dict()[k], reference.state_dict()[k]) for k in model.state_dict())
    assert federation.on_update.dropped == dropout.dropped
    assert federation.round == ROUNDS and sorted(federation.private) == list(range(len(clients)))


def test_run_until_an_unreachable_target_is_run_federated():
    clients, data = federation_data()
    reference = bn_model()
    expected = fl.run_federated(reference, clients, data, rounds=ROUNDS, seed=5, progress=False,
                                on_update=RandomDropout(0.3, seed=1), **settings(reference))
    model = bn_model()
    history = run_until(model, clients, data, target=2.0, key="accuracy", max_rounds=ROUNDS, seed=5,
                        on_update=RandomDropout(0.3, seed=1), **settings(model))
    assert_same_history(history, expected)
    assert all(torch.equal(model.state_dict()[k], reference.state_dict()[k]) for k in model.state_dict())


def test_fedbn_local_tensors_reach_neither_hooks_nor_aggregator_nor_the_byte_count():
    clients, data = federation_data()
    model = bn_model()
    local = set(fl.batchnorm_keys(model))
    seen = []

    def hook(context, client, result):
        seen.append(set(result.state) | set(context.broadcast))
        return result

    def aggregate(states, num_samples, context):
        seen.extend(set(s) for s in states)
        return fl.fedavg(states, num_samples)

    history = fl.run_federated(model, clients, data, rounds=2, local=LOCAL, local_keys=sorted(local),
                               on_update=hook, aggregate=aggregate, progress=False)
    assert seen and all(not (keys & local) for keys in seen)
    shared_bytes = 4 * (4 * 2 + 2)                 # the Linear layer's weight and bias, float32
    assert history.rounds[0].bytes_up == len(clients) * shared_bytes
