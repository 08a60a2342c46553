"""run_federated's batched path against its reference loop: same histories and final states.

Tolerance: 1e-5 absolute on every weight and every logged number (float32 sums
taken in a different order; nothing else differs).
"""

from __future__ import annotations

import functools

import pytest
import torch
from torch import nn

from fedlite.batched import choose_engine, run_federated_seeds
from fedlite.client import LocalConfig
from fedlite.data import Data
from fedlite.history import History
from fedlite.models import make_model
from fedlite.server import ServerMomentum
from fedlite.simulation import run_federated
from fedlite.robustness.defences import krum
from fedlite.robustness.participation import RandomDropout

TOL = 1e-5


def hospitals(shape: tuple[int, ...], sizes: tuple[int, ...], seed: int = 0) -> tuple[list[Data], Data]:
    g = torch.Generator().manual_seed(seed)
    parts = []
    for k, n in enumerate(sizes):
        y = torch.randint(0, 2, (n,), generator=g)
        x = torch.randn(n, *shape, generator=g) + 0.7 * y.view(-1, *[1] * len(shape)) + 0.1 * k
        parts.append(Data(x, y))
    y = torch.randint(0, 2, (40,), generator=g)
    return parts, Data(torch.randn(40, *shape, generator=g) + 0.7 * y.view(-1, *[1] * len(shape)), y)


def assert_same(a: History, b: History, model_a: nn.Module, model_b: nn.Module) -> None:
    assert len(a.rounds) == len(b.rounds)
    for ra, rb in zip(a.rounds, b.rounds):
        assert (ra.round, ra.bytes_down, ra.bytes_up) == (rb.round, rb.bytes_down, rb.bytes_up)
        assert ra.test == pytest.approx(rb.test, abs=TOL, nan_ok=True)
        assert ra.clients.keys() == rb.clients.keys()
        for k in ra.clients:
            assert ra.clients[k] == pytest.approx(rb.clients[k], abs=TOL, nan_ok=True)
    for key, value in model_a.state_dict().items():
        torch.testing.assert_close(model_b.state_dict()[key], value, atol=TOL, rtol=0)


CASES = {
    "logreg": ("logreg", {"in_features": 5}, (5,), (3, 11, 8, 20, 6, 1, 9, 14)),
    "mlp": ("mlp", {"in_features": 5}, (5,), (3, 11, 8, 20, 6, 1, 9, 14)),
    "cnn": ("cnn", {}, (1, 28, 28), (5, 12, 9)),
}


@pytest.mark.parametrize("case", CASES)
@pytest.mark.parametrize("mu", [0.0, 0.1], ids=["fedavg", "fedprox"])
def test_batched_run_equals_reference(case: str, mu: float, one_thread: None) -> None:
    name, kwargs, shape, sizes = CASES[case]
    clients, test = hospitals(shape, sizes)
    local = LocalConfig(epochs=2, batch_size=4, lr=0.05, momentum=0.5, mu=mu)
    fraction = 0.5 if len(sizes) > 3 else 1.0   # sampling where there are enough clients
    runs = {}
    for batched in (False, None):
        model = make_model(name, seed=3, **kwargs)
        history = run_federated(model, clients, test, rounds=3, local=local, participation=fraction, seed=7,
                                on_update=RandomDropout(0.3, seed=1), server_optimizer=ServerMomentum(momentum=0.5),
                                progress=False, batched=batched)
        runs[batched] = history, model
    (ref, ref_model), (fast, fast_model) = runs[False], runs[None]
    assert ref.engine.startswith("reference loop") and fast.engine.startswith("batched engine")
    assert any(not c["arrived"] for r in ref.rounds for c in r.clients.values())  # dropouts did happen
    assert_same(ref, fast, ref_model, fast_model)


def test_seeds_batched_equal_one_run_per_seed(one_thread: None) -> None:
    clients, test = hospitals((5,), (3, 11, 8, 20, 6, 1, 9, 14))
    local = LocalConfig(epochs=1, batch_size=4, lr=0.1, mu=0.05)
    seeds = [0, 1, 2]
    models = [make_model("mlp", seed=s, in_features=5) for s in seeds]
    batched = run_federated_seeds(models, clients, test, rounds=3, seeds=seeds, local=local, participation=0.5,
                                  server_optimizers=[ServerMomentum(momentum=0.5) for _ in seeds],
                                  on_updates=[RandomDropout(0.3, seed=s) for s in seeds], progress=False)
    for s, history, model in zip(seeds, batched, models):
        ref_model = make_model("mlp", seed=s, in_features=5)
        ref = run_federated(ref_model, clients, test, rounds=3, local=local, participation=0.5, seed=s,
                            server_optimizer=ServerMomentum(momentum=0.5), on_update=RandomDropout(0.3, seed=s),
                            progress=False, batched=False)
        assert_same(ref, history, ref_model, model)


def test_engine_choice_is_stated_and_never_silent() -> None:
    mlp, local = make_model("mlp", seed=0, in_features=5), LocalConfig()
    assert choose_engine(mlp, local, batched=None)[0]
    assert choose_engine(mlp, local, batched=None, hooks=[RandomDropout(0.1), functools.partial(krum, f=1)])[0]
    use, why = choose_engine(mlp, local, batched=None, hooks=[lambda context, k, r: r])
    assert not use and "not marked" in why and "batched=True" in why
    use, why = choose_engine(make_model("cnn", seed=0, norm=True), local, batched=None)
    assert not use and "buffers" in why
    use, why = choose_engine(mlp, LocalConfig(optimizer="adam"), batched=None)
    assert not use and "adam" in why
    assert not choose_engine(mlp, local, batched=False)[0]
    with pytest.raises(ValueError, match="cannot train this"):
        choose_engine(make_model("keras_cnn", seed=0), local, batched=True)


def test_unknown_hook_runs_the_reference_loop(one_thread: None) -> None:
    clients, test = hospitals((5,), (4, 6))
    seen = []
    history = run_federated(make_model("logreg", seed=0, in_features=5), clients, test, rounds=1,
                            on_update=lambda context, k, r: seen.append(k) or r, progress=False)
    assert history.engine.startswith("reference loop") and seen == [0, 1]
