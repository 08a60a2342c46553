"""Systems hooks: deadlines, dropouts and compression, against hand-computed values and naive loops."""

from __future__ import annotations

import math

import numpy as np
import pytest
import torch

import fedlite as fl
from fedlite.robustness import compression, participation
from fedlite.client import ClientResult
from fedlite.robustness.compression import TopKWithMemory, quantized_bytes
from fedlite.heterogeneity.partition import iid
from fedlite.simulation import RoundContext, round_seed
from fedlite.state import copy_state

pytestmark = pytest.mark.usefixtures("one_thread")  # see conftest.py


class Tiny(torch.nn.Module):
    """A model whose state is just what a test wants it to be."""

    def __init__(self, w, b=None, count=None):
        super().__init__()
        self.w = torch.nn.Parameter(torch.tensor(w, dtype=torch.float32))
        if b is not None:
            self.b = torch.nn.Parameter(torch.tensor(b, dtype=torch.float32))
        if count is not None:
            self.register_buffer("count", torch.tensor(count))


def result(n=10, **state):
    return ClientResult({k: torch.tensor(v) for k, v in state.items()}, n, 0.5)


def toy_federation(seed=0, n=240, k=5):
    g = torch.Generator().manual_seed(seed)
    y = torch.arange(n) % 2
    data = fl.Data(torch.randn(n, 6, generator=g) + (2 * y[:, None] - 1) * 1.5, y)
    return fl.subsets(data, iid(n, k, seed=seed)), data


# --- the round's context, and chain ---------------------------------------------------------------

def at(t):
    """The context of round ``t`` for hooks that only need the round number."""
    return RoundContext(t, {}, ())


def context(model_or_state, t=1, sampled=(0,), arrived=()):
    """The RoundContext a hook or aggregator would receive, with ``w_t`` taken from a model (or state)."""
    return RoundContext(t, copy_state(model_or_state), tuple(sampled), tuple(arrived))


def state_after(rounds, hospitals, data, optimizer=None):
    """The answer key: the global model after ``rounds`` rounds of a plain run (0 = the initial model)."""
    model = fl.make_model("logreg", seed=0, in_features=6)
    if rounds:
        # the reference loop, like the spied runs (a hook not marked batched-safe keeps them there):
        # the batched engine agrees only within float32 rounding, and these tests compare exactly
        fl.run_federated(model, hospitals, data, rounds=rounds, progress=False,
                         server_optimizer=optimizer and optimizer(), batched=False)
    return copy_state(model)


@pytest.mark.parametrize("optimizer", [None, lambda: fl.ServerMomentum(lr=1.0, momentum=0.9)],
                         ids=["fedavg", "server momentum"])
def test_hooks_and_aggregators_see_the_broadcast_weights_of_their_round(optimizer):
    hospitals, data = toy_federation()
    model = fl.make_model("logreg", seed=0, in_features=6)
    seen: list[tuple[int, int, dict]] = []
    aggregated: list[tuple[int, tuple, tuple]] = []

    def spy(ctx, k, r):  # record w_t as the hooks see it
        seen.append((ctx.round, k, copy_state(ctx.broadcast)))
        return r

    def aggregate(states, num_samples, ctx):
        aggregated.append((ctx.round, ctx.sampled, ctx.arrived))
        return fl.fedavg(states, num_samples)

    fl.run_federated(model, hospitals, data, rounds=3, progress=False, server_optimizer=optimizer and optimizer(),
                     on_update=spy, aggregate=aggregate)
    expected = [state_after(t, hospitals, data, optimizer) for t in range(3)]
    assert [(t, k) for t, k, _ in seen] == [(t, k) for t in (1, 2, 3) for k in range(5)]
    for t, k, state in seen:
        assert all(torch.equal(state[name], expected[t - 1][name]) for name in state), f"round {t}, client {k}"
    assert aggregated == [(t, (0, 1, 2, 3, 4), (0, 1, 2, 3, 4)) for t in (1, 2, 3)]


def test_the_aggregator_is_told_only_the_clients_that_arrived():
    hospitals, data = toy_federation()
    arrived = []

    def aggregate(states, num_samples, ctx):
        arrived.append(ctx.arrived)
        assert len(states) == len(ctx.arrived)
        return fl.fedavg(states, num_samples)

    fl.run_federated(fl.make_model("logreg", seed=0, in_features=6), hospitals, data, rounds=2, progress=False,
                     on_update=lambda ctx, k, r: None if k in (1, 3) else r, aggregate=aggregate)
    assert arrived == [(0, 2, 4), (0, 2, 4)]


def test_chain_applies_hooks_in_order_and_stops_at_a_drop():
    calls = []

    def add(x):
        def hook(ctx, k, r):
            calls.append(x)
            return ClientResult({"w": r.state["w"] * 10 + x}, r.num_samples, r.loss)
        return hook

    assert participation.chain(add(1.0), add(2.0))(at(1), 0, result(w=[0.0])).state["w"].tolist() == [12.0]  # (0*10+1)*10+2
    calls.clear()
    dropped = participation.chain(add(1.0), lambda ctx, k, r: None, add(2.0))
    assert dropped(at(1), 0, result(w=[0.0])) is None and calls == [1.0]


# --- dropouts and deadlines ------------------------------------------------------------------------

def test_random_dropout_matches_a_naive_loop_and_its_rate():
    hook = participation.RandomDropout(0.3, seed=7)
    lost = {(t, k) for t in range(1, 201) for k in range(5) if hook(at(t), k, result()) is None}
    naive = {(t, k) for t in range(1, 201) for k in range(5)
             if np.random.default_rng(round_seed(7, t, k)).random() < 0.3}
    assert lost == naive == set(hook.dropped)
    assert 0.25 < len(lost) / 1000 < 0.35
    assert not any(participation.RandomDropout(0.0)(at(1), k, result()) is None for k in range(50))
    assert all(participation.RandomDropout(1.0)(at(1), k, result()) is None for k in range(50))


def test_dropout_takes_one_probability_per_client():
    hook = participation.RandomDropout([0.0, 1.0, 0.0, 1.0], seed=3)
    arrived = [hook(at(t), k, result()) is not None for t in range(1, 4) for k in range(4)]
    assert arrived == [True, False, True, False] * 3
    assert hook.dropped == [(t, k) for t in range(1, 4) for k in (1, 3)]
    with pytest.raises(ValueError, match=r"probability in \[0, 1\]"):
        participation.RandomDropout([0.2, 1.5])


@pytest.mark.parametrize("p", [-0.1, 1.5, float("nan"), "0.5"])
def test_random_dropout_rejects_non_probabilities(p):
    with pytest.raises(ValueError, match=r"probability in \[0, 1\]"):
        participation.RandomDropout(p)


def test_deadline_by_hand_without_jitter():
    # times = n_k / speed: 100/50 = 2.0 s, 30/10 = 3.0 s, 60/40 = 1.5 s; deadline 2.5 s drops client 1
    hook = participation.Deadline([50, 10, 40], deadline=2.5)
    arrived = [hook(at(1), k, result(n=n)) is not None for k, n in enumerate([100, 30, 60])]
    assert arrived == [True, False, True]
    assert hook.times == {(1, 0): 2.0, (1, 1): 3.0, (1, 2): 1.5}
    assert hook.dropped == [(1, 1)] and hook.round_time(1) == 2.5
    two_epochs = participation.Deadline([50], deadline=10, epochs=2)
    assert two_epochs.time(1, 0, 100) == 4.0


def test_deadline_jitter_is_a_seeded_lognormal_factor():
    hook = participation.Deadline([100.0, 100.0], deadline=1e9, jitter=0.5, seed=3)
    for t, k in [(1, 0), (1, 1), (4, 1)]:
        z = np.random.default_rng(round_seed(3, t, k)).standard_normal()
        assert hook.time(t, k, 200) == pytest.approx(2.0 * math.exp(0.5 * z))
    assert hook.time(1, 0, 200) != hook.time(1, 1, 200)
    hook(at(2), 0, result(n=50))
    hook(at(2), 1, result(n=100))
    assert hook.round_time(2) == max(hook.times[(2, 0)], hook.times[(2, 1)])


@pytest.mark.parametrize("kwargs, match", [
    ({"speeds": [1.0, 0.0], "deadline": 1.0}, r"speeds\[1\]"),
    ({"speeds": [1.0], "deadline": 0}, "deadline"),
    ({"speeds": [1.0], "deadline": -2.0}, "deadline"),
    ({"speeds": [1.0], "deadline": 1.0, "jitter": -0.1}, "jitter"),
    ({"speeds": [1.0], "deadline": 1.0, "epochs": 0}, "epochs"),
])
def test_deadline_rejects_bad_settings(kwargs, match):
    with pytest.raises(ValueError, match=match):
        participation.Deadline(**kwargs)


def test_deadline_needs_a_speed_for_every_hospital():
    with pytest.raises(ValueError, match="one speed per hospital"):
        participation.Deadline([1.0], deadline=5)(at(1), 3, result())


def test_deadline_in_the_round_loop_marks_late_hospitals_as_not_arrived():
    hospitals, data = toy_federation()
    speeds = [48.0, 48.0, 48.0, 10.0, 10.0]   # 48 samples each: 1 s for fast, 4.8 s for slow hospitals
    hook = participation.Deadline(speeds, deadline=2.0)
    history = fl.run_federated(fl.make_model("logreg", seed=0, in_features=6), hospitals, data, rounds=2,
                               on_update=hook, progress=False)
    assert history.client_metric("arrived").tolist() == [[1, 1, 1, 0, 0]] * 2
    assert history.rounds[0].bytes_up == 3 * 4 * 14   # 3 arrivals x 14 float32 numbers (12 weights, 2 biases)


# --- compression -----------------------------------------------------------------------------------

def test_quantize_hook_sends_w_plus_dequantized_delta_and_counts_bytes_by_hand():
    model = Tiny([0.0, 1.0, 2.0, 3.0], b=[1.0], count=5)
    hook = compression.Quantize(bits=2)
    # delta w = [0, 0.2, 0.35, 3.0]: lo 0, step 1.0 (3 levels above lo); rounded to [0, 0, 0, 3]
    sent = hook(context(model), 0, result(w=[0.0, 1.2, 2.35, 6.0], b=[1.5], count=9))
    assert sent.state["w"].tolist() == pytest.approx([0.0, 1.0, 2.0, 6.0])
    assert sent.state["b"].tolist() == [1.5]               # a one-number tensor is exact (lo itself)
    assert sent.state["count"].item() == 9                 # integer buffers travel as they are
    # w: 4 numbers x 2 bits = 1 byte + 8; b: 1 byte + 8; count: one int64 = 8 bytes
    assert sent.upload_bytes == (1 + 8) + (1 + 8) + 8
    assert sent.num_samples == 10 and sent.loss == 0.5


def test_quantize_hook_error_is_at_most_half_a_step_of_the_delta():
    g = torch.Generator().manual_seed(0)
    model = Tiny(torch.randn(500, generator=g).tolist())
    delta = torch.randn(500, generator=g) * 0.01
    sent = compression.Quantize(bits=8)(context(model), 0, ClientResult({"w": model.w.detach() + delta}, 5, 0.0))
    step = (delta.max() - delta.min()).item() / 255
    assert (sent.state["w"] - model.w.detach() - delta).abs().max().item() <= step / 2 + 1e-6
    assert sent.upload_bytes == quantized_bytes({"w": delta}, 8) == 500 + 8


@pytest.mark.parametrize("bits", [0, 17, 8.0])
def test_quantize_hook_rejects_bad_bits(bits):
    with pytest.raises(ValueError, match="bits must be an integer from 1 to 16"):
        compression.Quantize(bits=bits)


def test_top_k_hook_sends_the_largest_entries_of_the_delta_by_hand():
    model = Tiny([1.0, 1.0, 1.0, 1.0, 1.0])
    hook = compression.TopK(ratio=0.4)                 # keep 2 of 5 entries
    sent = hook(context(model), 3, result(w=[1.1, -4.0, 1.3, 5.0, 0.8]))   # delta [.1, -5, .3, 4, -.2]
    assert sent.state["w"].tolist() == pytest.approx([1.0, -4.0, 1.0, 5.0, 1.0])
    assert sent.upload_bytes == 2 * 8
    assert hook.memory[3].residual["w"].tolist() == pytest.approx([0.1, 0.0, 0.3, 0.0, -0.2])


def test_top_k_hook_error_feedback_matches_the_compressor_per_client():
    g = torch.Generator().manual_seed(1)
    model = Tiny(torch.zeros(20).tolist())
    hook = compression.TopK(ratio=0.1)
    keys = {0: TopKWithMemory(0.1), 1: TopKWithMemory(0.1)}   # the answer key: one memory per client
    for t in range(1, 4):
        for k in (0, 1):
            delta = torch.randn(20, generator=g)
            sent = hook(context(model, t), k, ClientResult({"w": delta.clone()}, 1, 0.0))
            assert torch.allclose(sent.state["w"], keys[k].compress({"w": delta})["w"])
    forgetful = compression.TopK(ratio=0.1, error_feedback=False)
    delta = torch.arange(20.0)
    forgetful(context(model, 1), 0, ClientResult({"w": delta}, 1, 0.0))
    assert forgetful(context(model, 2), 0, ClientResult({"w": delta}, 1, 0.0)).state["w"].nonzero().flatten().tolist() == [18, 19]
    assert forgetful.memory == {}


@pytest.mark.parametrize("ratio", [0, 1.5, -0.1])
def test_top_k_hook_rejects_bad_ratios(ratio):
    with pytest.raises(ValueError, match=r"ratio .* must be in \(0, 1\]"):
        compression.TopK(ratio=ratio)


def test_compressed_bytes_reach_the_history():
    hospitals, data = toy_federation()
    model = fl.make_model("logreg", seed=0, in_features=6)
    history = fl.run_federated(model, hospitals, data, rounds=2, progress=False,
                               on_update=compression.Quantize(bits=8))
    # logreg(6 -> 2): weight 12 numbers -> 12 + 8 bytes; bias 2 numbers -> 2 + 8 bytes; 5 hospitals
    assert [r.bytes_up for r in history.rounds] == [5 * 30, 5 * 30]
    assert [r.bytes_down for r in history.rounds] == [5 * 56, 5 * 56]
    assert history.final("accuracy") > 0.9
