"""Robust aggregators and update compression, against hand-computed values and naive loops."""

import statistics

import pytest
import torch

from fedlite.aggregate import fedavg
from fedlite.robustness.defences import krum, median, trimmed_mean, update_problems
from fedlite.robustness.compression import (TopKWithMemory, dequantize, quantize, quantized_bytes,
    sparse_bytes, top_k)


def states_of(*rows):
    return [{"w": torch.tensor(r, dtype=torch.float32)} for r in rows]


def test_median_and_trimmed_mean_by_hand():
    states = states_of([1.0, 10.0], [2.0, 20.0], [3.0, 30.0], [4.0, 40.0], [100.0, -500.0])
    assert median(states)["w"].tolist() == [3.0, 20.0]
    # beta=0.2 of 5 drops 1 lowest and 1 highest per coordinate: mean(2,3,4)=3, mean(10,20,30)=20
    assert trimmed_mean(states, beta=0.2)["w"].tolist() == [3.0, 20.0]
    assert torch.allclose(trimmed_mean(states, beta=0.0)["w"], fedavg(states, [1] * 5)["w"])


def test_median_matches_a_naive_per_coordinate_loop():
    g = torch.Generator().manual_seed(0)
    states = [{"a": torch.randn(3, 4, generator=g), "b": torch.randn(5, generator=g)} for _ in range(6)]
    fast = median(states)
    for name in fast:
        flat = [s[name].flatten().tolist() for s in states]
        naive = [statistics.median(col) for col in zip(*flat)]
        assert torch.allclose(fast[name].flatten(), torch.tensor(naive), atol=1e-6)


def test_one_byzantine_of_five_moves_fedavg_but_not_the_robust_rules():
    g = torch.Generator().manual_seed(1)
    honest = [{"w": torch.randn(50, generator=g) * 0.1 + 1.0} for _ in range(4)]
    attacker = {"w": torch.full((50,), -1000.0)}
    states = honest + [attacker]
    honest_mean = fedavg(honest, [1] * 4)["w"]
    gap = lambda out: (out["w"] - honest_mean).abs().max().item()  # noqa: E731
    spread = max((h["w"] - honest_mean).abs().max().item() for h in honest)
    assert gap(fedavg(states, [1] * 5)) > 100
    assert gap(median(states)) <= spread
    assert gap(trimmed_mean(states, beta=0.2)) <= spread
    assert gap(krum(states, f=1)) <= spread


def test_krum_picks_the_client_closest_to_its_neighbours():
    # K=5, f=1: score = squared distances to the K-f-2 = 2 nearest others.
    # 0.0: .01+.0625=.0725; 0.1: .01+.0225=.0325 (smallest); 0.25: .0225+.04=.0625; 0.45: .04+.1225; 50: huge
    states = states_of([0.0], [0.1], [0.25], [0.45], [50.0])
    assert krum(states, f=1)["w"].tolist() == pytest.approx([0.1])
    with pytest.raises(ValueError, match="needs at least 5 clients"):
        krum(states[:4], f=1)


def test_robust_rules_reject_bad_settings_and_non_finite_updates():
    states = states_of([1.0], [2.0], [3.0])
    with pytest.raises(ValueError, match="beta must be in"):
        trimmed_mean(states, beta=0.5)
    with pytest.raises(ValueError, match="NaN or Inf"):
        median(states + states_of([float("nan")]))


def test_update_validation_names_the_problem():
    ref = {"w": torch.zeros(3)}
    assert update_problems({"w": torch.ones(3)}, ref) is None
    assert "NaN or Inf" in update_problems({"w": torch.tensor([0.0, float("inf"), 0.0])}, ref)
    assert "exceeds the limit" in update_problems({"w": torch.full((3,), 10.0)}, ref, max_norm=1.0)
    with pytest.raises(ValueError, match="max_norm must be > 0"):
        update_problems(ref, ref, max_norm=0)


@pytest.mark.parametrize("bits", [1, 4, 8, 12])
def test_quantization_error_is_at_most_half_a_step(bits):
    t = torch.randn(1000, generator=torch.Generator().manual_seed(bits)) * 3
    levels, lo, step = quantize(t, bits)
    assert int(levels.min()) >= 0 and int(levels.max()) <= 2**bits - 1
    assert (dequantize(levels, lo, step) - t).abs().max().item() <= step / 2 + 1e-6


def test_quantization_bytes_and_errors():
    assert quantized_bytes({"w": torch.zeros(100)}, bits=8) == 100 + 8
    levels, lo, step = quantize(torch.full((4,), 2.5))
    assert dequantize(levels, lo, step).tolist() == [2.5] * 4          # constant tensor survives exactly
    with pytest.raises(ValueError, match="bits must be"):
        quantize(torch.zeros(3), bits=0)
    with pytest.raises(ValueError, match="NaN or Inf"):
        quantize(torch.tensor([1.0, float("nan")]))


def test_top_k_keeps_exactly_k_largest_entries():
    t = torch.tensor([0.1, -5.0, 0.3, 4.0, -0.2])
    out = top_k(t, 2)
    assert out.tolist() == [0.0, -5.0, 0.0, 4.0, 0.0] and int((out != 0).sum()) == 2
    with pytest.raises(ValueError, match="k must be an integer from 1 to 5"):
        top_k(t, 6)


def test_error_feedback_residual_carries_what_was_not_sent():
    g = torch.Generator().manual_seed(0)
    compressor = TopKWithMemory(ratio=0.1)
    sent_total, given_total = torch.zeros(100), torch.zeros(100)
    for _ in range(5):
        delta = {"w": torch.randn(100, generator=g)}
        sparse = compressor.compress(delta)
        assert int((sparse["w"] != 0).sum()) == 10 and sparse_bytes(sparse) == 80
        sent_total += sparse["w"]
        given_total += delta["w"]
    # Nothing is lost: everything given is either sent or still waiting in the residual.
    assert torch.allclose(sent_total + compressor.residual["w"], given_total, atol=1e-5)
    with pytest.raises(ValueError, match="ratio"):
        TopKWithMemory(ratio=0)


def test_median_in_the_round_loop_survives_a_malicious_hospital():
    import fedlite as fl
    from fedlite.heterogeneity.partition import iid

    g = torch.Generator().manual_seed(0)
    y = torch.arange(300) % 2
    data = fl.Data(torch.randn(300, 6, generator=g) + (2 * y[:, None] - 1) * 1.5, y)
    hospitals = fl.subsets(data, iid(300, 5, seed=0))

    def attack(t, k, result):  # hospital 4 sends a huge, sign-flipped model
        if k == 4:
            result.state = {name: -1000 * w for name, w in result.state.items()}
        return result

    def final_accuracy(aggregate):
        model = fl.make_model("logreg", seed=0, in_features=6)
        return fl.run_federated(model, hospitals, data, rounds=3, aggregate=aggregate, on_update=attack,
                                progress=False).final("accuracy")

    assert final_accuracy(median) > 0.9
    assert final_accuracy(fedavg) < 0.6
