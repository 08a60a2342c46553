"""Faulty and malicious hospitals, and update validation: hand-computed values and plain reference runs."""

from __future__ import annotations

import math

import pytest
import torch

import fedlite as fl
from fedlite.robustness import defences, malicious
from fedlite.aggregate import fedavg
from fedlite.robustness.defences import median
from fedlite.client import ClientResult
from fedlite.heterogeneity.partition import iid
from fedlite.simulation import RoundContext
from fedlite.state import copy_state

pytestmark = pytest.mark.usefixtures("one_thread")  # see conftest.py


class Tiny(torch.nn.Module):
    def __init__(self, w, count=None):
        super().__init__()
        self.w = torch.nn.Parameter(torch.tensor(w, dtype=torch.float32))
        if count is not None:
            self.register_buffer("count", torch.tensor(count))


def sent(w, count=None, n=10):
    state = {"w": torch.tensor(w, dtype=torch.float32)}
    if count is not None:
        state["count"] = torch.tensor(count)
    return ClientResult(state, n, 0.3)


def context(model, t=1, arrived=()):
    """What round ``t`` knows: ``w_t`` is ``model``'s weights."""
    return RoundContext(t, copy_state(model), tuple(arrived), tuple(arrived))


def toy_federation(seed=0, n=300, k=5):
    g = torch.Generator().manual_seed(seed)
    y = torch.arange(n) % 2
    data = fl.Data(torch.randn(n, 6, generator=g) + (2 * y[:, None] - 1) * 1.5, y)
    return fl.subsets(data, iid(n, k, seed=seed)), data


# --- label flipping ------------------------------------------------------------------------------------

def test_flip_labels_by_hand():
    data = fl.Data(torch.zeros(4, 2), torch.tensor([0, 1, 1, 0]))
    flipped = malicious.flip_labels(data)
    assert flipped.y.tolist() == [1, 0, 0, 1] and flipped.x is data.x
    three = fl.Data(torch.zeros(3, 2), torch.tensor([0, 1, 2]))
    assert malicious.flip_labels(three).y.tolist() == [2, 1, 0]
    assert malicious.flip_labels(fl.Data(torch.zeros(2, 1), torch.tensor([0, 1])), num_classes=3).y.tolist() == [2, 1]
    with pytest.raises(ValueError, match="num_classes must be >= 2"):
        malicious.flip_labels(three, num_classes=2)


# --- model poisoning ------------------------------------------------------------------------------------

def test_scaled_and_sign_flipped_updates_by_hand():
    ctx = context(Tiny([1.0, 1.0], count=4))
    honest = sent([2.0, 0.0], count=7)                      # delta = [1, -1]
    boosted = malicious.scaled(clients=[2], factor=3)(ctx, 2, honest)
    assert boosted.state["w"].tolist() == [4.0, -2.0]       # 1 + 3*1, 1 - 3*1
    assert boosted.state["count"].item() == 7 and boosted.num_samples == 10
    flipped = malicious.sign_flipped(clients=[2], factor=2)(ctx, 2, honest)
    assert flipped.state["w"].tolist() == [-1.0, 3.0]       # 1 - 2*1, 1 + 2*1
    assert malicious.sign_flipped(clients=[2])(ctx, 2, honest).state["w"].tolist() == [0.0, 2.0]
    assert honest.state["w"].tolist() == [2.0, 0.0]         # the honest result is not modified in place
    assert malicious.scaled(clients=[2], factor=3)(ctx, 0, honest) is honest   # others pass untouched


@pytest.mark.parametrize("factor", [0, -1.0, float("inf"), float("nan")])
def test_scaling_attacks_reject_non_positive_factors(factor):
    with pytest.raises(ValueError, match="factor must be a positive number"):
        malicious.scaled([0], factor)
    with pytest.raises(ValueError, match="factor must be a positive number"):
        malicious.sign_flipped([0], factor)


def test_non_finite_update_fills_every_weight_but_keeps_counters():
    hook = malicious.non_finite_update([1])
    broken = hook(context(Tiny([0.0, 0.0])), 1, sent([1.0, 2.0], count=3))
    assert torch.isnan(broken.state["w"]).all() and broken.state["count"].item() == 3
    assert torch.isinf(malicious.non_finite_update([1], float("-inf"))(context(Tiny([0.0])), 1, sent([1.0])).state["w"]).all()
    assert torch.equal(hook(context(Tiny([0.0, 0.0])), 0, sent([1.0, 2.0])).state["w"], torch.tensor([1.0, 2.0]))
    with pytest.raises(ValueError, match="NaN or"):
        malicious.non_finite_update([1], value=5.0)


# --- validation --------------------------------------------------------------------------------------

def validated_round(validator, model, updates, weights=None):
    """Aggregate ``updates`` (from clients 0, 1, ...) as round 1 would, with ``w_1`` = ``model``'s weights."""
    states = [sent(w).state for w in updates]
    return validator(states, weights or [1.0] * len(states), context(model, arrived=range(len(states))))


def test_validation_rejects_the_outlier_and_averages_the_rest_by_hand():
    w_t = Tiny([0.0, 0.0])
    validator = defences.Validated(fedavg, max_ratio=3.0)
    # change norms 1, 2, 100: median 2, limit 6 -> client 2 rejected; weights 1 and 3 -> (1*[1,0] + 3*[0,2]) / 4
    out = validated_round(validator, w_t, [[1.0, 0.0], [0.0, 2.0], [0.0, 100.0]], weights=[1.0, 3.0, 5.0])
    assert out["w"].tolist() == [0.25, 1.5]
    assert [(r.round, r.client) for r in validator.rejected] == [(1, 2)]
    assert "exceeds the limit 6" in validator.rejected[0].reason
    assert validator.summary() == "client 2: 1 update(s) rejected (update too large)"


def test_validation_rejects_non_finite_updates_and_an_absolute_norm():
    w_t = Tiny([0.0])
    validator = defences.Validated(median, max_norm=5.0)
    out = validated_round(validator, w_t, [[1.0], [math.nan], [3.0], [6.0], [2.0]])
    assert out["w"].tolist() == [2.0]                       # NaN and 6 (> 5) rejected: median of 1, 3, 2
    assert [(r.client, "NaN or Inf" in r.reason) for r in validator.rejected] == [(1, True), (3, False)]
    assert validator.summary().splitlines() == ["client 1: 1 update(s) rejected (NaN or Inf)",
                                                "client 3: 1 update(s) rejected (update too large)"]


def test_validation_keeps_the_global_model_if_everything_is_rejected():
    w_t = Tiny([4.0])
    validator = defences.Validated(fedavg)
    out = validated_round(validator, w_t, [[math.nan], [math.inf]])
    assert out["w"].tolist() == [4.0] and len(validator.rejected) == 2
    assert defences.Validated(fedavg).summary() == "no update rejected"


@pytest.mark.parametrize("kwargs", [{"max_norm": 0}, {"max_ratio": -1.0}, {"max_norm": "5"}])
def test_validation_rejects_bad_limits(kwargs):
    with pytest.raises(ValueError, match=r"\(or None\) must be a positive number"):
        defences.Validated(fedavg, **kwargs)


def test_validation_needs_one_client_id_per_update():
    validator = defences.Validated(fedavg)
    with pytest.raises(ValueError):
        validator([{"w": torch.tensor([1.0])}], [1.0], context(Tiny([0.0]), arrived=()))


# --- in the round loop ---------------------------------------------------------------------------------

def run(hospitals, data, **hooks):
    model = fl.make_model("logreg", seed=0, in_features=6)
    history = fl.run_federated(model, hospitals, data, rounds=3, progress=False, **hooks)
    return history, copy_state(model)


def test_validated_fedavg_under_a_nan_hospital_equals_fedavg_without_it():
    hospitals, data = toy_federation()
    with pytest.raises(RuntimeError, match="NaN or Inf"):  # plain FedAvg refuses the broken update
        run(hospitals, data, on_update=malicious.non_finite_update([4]))
    validator = defences.Validated(fedavg, max_ratio=3.0)
    _, defended = run(hospitals, data, on_update=malicious.non_finite_update([4]), aggregate=validator)
    _, without = run(hospitals, data, on_update=lambda ctx, k, r: None if k == 4 else r)   # the answer key
    assert all(torch.allclose(defended[k], without[k]) for k in without)
    assert [(r.round, r.client) for r in validator.rejected] == [(1, 4), (2, 4), (3, 4)]


def test_a_sign_flipped_boosted_hospital_breaks_fedavg_but_not_the_median():
    hospitals, data = toy_federation()

    def final_accuracy(rule):
        attack = malicious.sign_flipped([4], factor=20)
        history, _ = run(hospitals, data, on_update=attack, aggregate=rule)
        return history.final("accuracy")

    assert final_accuracy(fedavg) < 0.6
    assert final_accuracy(median) > 0.9
