"""The batched engine against its answer key, the reference local_train (tolerance 1e-5, float32)."""

from __future__ import annotations

import pytest
import torch
from torch import nn

from fedlite.batched import local_train_many, round_seeds, schedule, unsupported
from fedlite.client import LocalConfig, batches, local_train
from fedlite.data import Data
from fedlite.models import make_model
from fedlite.simulation import round_seed

TOL = 1e-5
SIZES = (5, 17, 8, 30, 1, 9)  # unequal: different step counts and short last batches
MODELS = {"logreg": ({"in_features": 6}, (6,)), "mlp": ({"in_features": 6}, (6,)), "cnn": ({}, (1, 28, 28))}
CONFIGS = [LocalConfig(epochs=2, batch_size=8, lr=0.1),
           LocalConfig(epochs=1, batch_size=None, lr=0.1, momentum=0.9, mu=0.3),   # FedSGD + FedProx
           LocalConfig(epochs=3, batch_size=4, lr=0.05, momentum=0.5, mu=0.01)]


def client_data(shape: tuple[int, ...], classes: int = 3) -> list[Data]:
    g = torch.Generator().manual_seed(0)
    return [Data(torch.randn(n, *shape, generator=g), torch.randint(0, classes, (n,), generator=g)) for n in SIZES]


def params(model: nn.Module) -> dict[str, torch.Tensor]:
    return {k: v.detach().clone() for k, v in model.named_parameters()}


@pytest.mark.parametrize("name", MODELS)
@pytest.mark.parametrize("config", CONFIGS, ids=["E2B8", "fedsgd-momentum-prox", "E3B4-momentum-prox"])
def test_each_job_equals_local_train(name: str, config: LocalConfig, one_thread: None) -> None:
    kwargs, shape = MODELS[name]
    data = client_data(shape)
    starts = [params(make_model(name, seed=j, num_classes=3, **kwargs)) for j in range(len(data))]
    seeds = [101 * j + 7 for j in range(len(data))]
    got = local_train_many(make_model(name, seed=99, num_classes=3, **kwargs), data, config,
                           seeds=seeds, starts=starts)
    for j, d in enumerate(data):
        model = make_model(name, seed=0, num_classes=3, **kwargs)
        model.load_state_dict(starts[j])
        want = local_train(model, d, config, seed=seeds[j])
        assert got[j].num_samples == want.num_samples == len(d)
        assert got[j].loss == pytest.approx(want.loss, abs=TOL)
        for key, value in want.state.items():
            torch.testing.assert_close(got[j].state[key], value, atol=TOL, rtol=0)


def test_same_client_under_two_seeds_is_two_independent_jobs(one_thread: None) -> None:
    data = client_data((6,))[3]
    start = params(make_model("logreg", seed=0, in_features=6, num_classes=3))
    config = LocalConfig(epochs=1, batch_size=4, lr=0.1)
    a, b = local_train_many(make_model("logreg", seed=0, in_features=6, num_classes=3), [data, data], config,
                            seeds=[1, 2], starts=[start, start])
    assert not torch.equal(a.state["linear.weight"], b.state["linear.weight"])  # different batch orders
    model = make_model("logreg", seed=0, in_features=6, num_classes=3)
    model.load_state_dict(start)
    torch.testing.assert_close(b.state["linear.weight"], local_train(model, data, config, seed=2).state["linear.weight"],
                               atol=TOL, rtol=0)


def test_schedule_draws_the_reference_batches() -> None:
    data = Data(torch.arange(11.0)[:, None], torch.zeros(11, dtype=torch.long))
    index, weight = schedule([11], LocalConfig(epochs=2, batch_size=4), [5])
    g = torch.Generator().manual_seed(5)
    want = [b.x[:, 0].long().tolist() for _ in range(2) for b in batches(data, 4, g)]
    got = [[i for i in row.tolist() if i >= 0] for row in index[0]]
    assert got == want
    assert weight[0, 2].tolist() == pytest.approx([1 / 3, 1 / 3, 1 / 3, 0.0])  # short last batch: mean over 3


def test_unsupported_names_the_reason() -> None:
    assert unsupported(make_model("cnn", seed=0), LocalConfig()) is None
    assert "buffers" in unsupported(make_model("cnn", seed=0, norm=True), LocalConfig())
    assert "Dropout" in unsupported(make_model("keras_cnn", seed=0), LocalConfig())
    assert "adam" in unsupported(make_model("mlp", seed=0, in_features=3), LocalConfig(optimizer="adam"))


def test_bad_input_is_a_clear_error() -> None:
    model = make_model("logreg", seed=0, in_features=6, num_classes=3)
    data = client_data((6,))[:2]
    with pytest.raises(ValueError, match="one seed and one start state"):
        local_train_many(model, data, LocalConfig(), seeds=[1], starts=[params(model)] * 2)
    with pytest.raises(ValueError, match="local_train"):
        local_train_many(model, data, LocalConfig(optimizer="adam"), seeds=[1, 2], starts=[params(model)] * 2)
    with pytest.raises(ValueError, match="expected the model's parameter names"):
        local_train_many(model, data, LocalConfig(), seeds=[1, 2], starts=[{"w": torch.zeros(1)}] * 2)


@pytest.mark.parametrize("seed", [0, 1, 7, 2**31, 2**32 - 1, 2**32, 2**40 + 3, 2**64 + 5, 2**97 + 11])
@pytest.mark.parametrize("round_", [0, 1, 20, 2**32 + 1])
def test_round_seeds_are_round_seed_bit_for_bit(seed: int, round_: int) -> None:
    # answer key: one numpy SeedSequence per client; big seeds have several 32-bit words (a longer entropy)
    clients = [0, 1, 2, 5, 99, 100, 12345, 2**31, 2**32 - 1]
    assert round_seeds(seed, round_, clients) == [round_seed(seed, round_, k) for k in clients]
    assert round_seeds(seed, round_, []) == []


def test_round_seeds_reject_bad_ids() -> None:
    with pytest.raises(ValueError, match="client ids"):
        round_seeds(0, 1, [-1])
    with pytest.raises(ValueError, match="seed"):
        round_seeds(-3, 1, [0])
