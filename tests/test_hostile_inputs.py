"""Hostile inputs (issue 11 §2): every bad input is a clear error, never a silent wrong result.

Each class of the issue has its own block. A test asserts the error TYPE and
that the message names what to do (a regex on the fix), or, for inputs that
are valid, the answer key. Where a class of inputs is infinite (sums that
leave secure aggregation's range, partitions with a dropped index, float32
values through quantization) a hypothesis property test covers it.
"""

from __future__ import annotations

import math
import zipfile

import numpy as np
import pytest
import torch
from hypothesis import assume, given, settings
from hypothesis import strategies as st
from torch import nn

from fedlite import LocalConfig, ServerAdam, ServerMomentum, fedavg, local_train, make_data, make_model
from fedlite.aggregate import fedavg_loop
from fedlite.robustness.defences import krum, trimmed_mean
from fedlite.data import Data
from fedlite.heterogeneity import partition
from fedlite.interop import from_ndarrays, to_ndarrays
from fedlite.metrics import evaluate, roc_auc
from fedlite.privacy.dp import DPFedAvg, dp_epsilon
from fedlite.privacy.secagg import BITS, SCALE, SecureFedAvg, encode, secure_sum
from fedlite.robustness.compression import dequantize, quantize, top_k
from fedlite.datasets.readers import read_heart_table, read_medmnist
from fedlite.simulation import run_centralized, run_federated, run_local_only
from fedlite.data import subsets

LIMIT = 2.0 ** (BITS - 1) / SCALE          # secure aggregation's range: |sum| < 2^23 with the defaults


def tabular(n: int = 24, features: int = 4, seed: int = 0) -> Data:
    g = torch.Generator().manual_seed(seed)
    x = torch.randn(n, features, generator=g)
    return make_data(x, (x[:, 0] > 0).long())


def logreg(features: int = 4, classes: int = 2) -> nn.Module:
    return make_model("logreg", seed=0, in_features=features, num_classes=classes)


FAST = LocalConfig(epochs=1, batch_size=8, lr=0.1)


# --- 1. secure aggregation: the SUM must fit, integer buffers are never weighted ------------------

@pytest.mark.parametrize("vectors", [
    {0: [5e6], 1: [5e6]},                      # the example: -6,777,216 instead of 1e7
    {0: [-5e6], 1: [-5e6]},
    {0: [3e6, 0.0], 1: [3e6, 1.0], 2: [3e6, 2.0]},
    {0: [8e6], 1: [1e6]},
])
def test_secure_sum_refuses_a_sum_outside_its_range(vectors):
    with pytest.raises(ValueError, match=r"sum.*(smaller scale|more bits)"):
        secure_sum({k: np.array(v) for k, v in vectors.items()})


@settings(max_examples=60, deadline=None)
@given(k=st.integers(1, 6), value=st.floats(-LIMIT * 0.999, LIMIT * 0.999), seed=st.integers(0, 99))
def test_secure_sum_is_exact_or_refuses(k, value, seed):
    vectors = {i: np.array([value]) for i in range(k)}
    assume(not LIMIT * 0.9999 < abs(k * value) < LIMIT * 1.0001)    # the last bit at the edge is float rounding
    if abs(k * value) >= LIMIT:
        with pytest.raises(ValueError, match="sum"):
            secure_sum(vectors, session_seed=seed)
    else:
        assert secure_sum(vectors, session_seed=seed)[0] == pytest.approx(k * value, abs=k / SCALE)


def test_secure_sum_of_nothing_says_there_is_nothing():
    with pytest.raises(ValueError, match="no client") as err:
        secure_sum({})
    assert "length" not in str(err.value)


def test_encode_accepts_numpy_integers_for_bits_and_scale():
    assert np.array_equal(encode(np.array([0.5]), scale=np.int64(SCALE), bits=np.int64(BITS)),
                          encode(np.array([0.5])))


class BNNet(nn.Module):
    """Linear -> BatchNorm -> Linear: float weights, float buffers and an int64 counter."""

    def __init__(self) -> None:
        super().__init__()
        torch.manual_seed(0)
        self.fc = nn.Linear(4, 3)
        self.bn = nn.BatchNorm1d(3)
        self.out = nn.Linear(3, 2)

    def forward(self, x):
        return self.out(torch.relu(self.bn(self.fc(x))))


def test_secure_fedavg_with_batchnorm_matches_fedavg_counters_included():
    """Unequal clients (different step counts) over 8 rounds in a narrow field
    (|sum| < 512): weighting the counters by n_k would leave the range within a few rounds."""
    clients = [tabular(30, seed=1), tabular(50, seed=2), tabular(20, seed=3)]
    test, local = tabular(20, seed=9), LocalConfig(epochs=1, batch_size=8, lr=0.05)
    plain_model, secure_model = BNNet(), BNNet()
    run_federated(plain_model, clients, test, rounds=8, local=local, progress=False)
    secure = SecureFedAvg(num_clients=3, scale=2**38, bits=48)
    run_federated(secure_model, clients, test, rounds=8, local=local, on_update=secure.on_update,
                  aggregate=secure.aggregate, progress=False)
    plain, masked = plain_model.state_dict(), secure_model.state_dict()
    assert masked["bn.num_batches_tracked"].item() == plain["bn.num_batches_tracked"].item() > 8
    for name, value in plain.items():
        torch.testing.assert_close(masked[name], value, atol=1e-6, rtol=0)


def test_integer_buffers_are_not_weighted_by_sample_counts():
    """Counters are not weights: their plain mean, whatever the n_k (hand-computed: (3 + 10) / 2)."""
    a, b = {"count": torch.tensor(3)}, {"count": torch.tensor(10)}
    assert fedavg([a, b], [1, 1000])["count"].item() == fedavg_loop([a, b], [1, 1000])["count"].item() == 7


# --- 2. labels: integers in 0 .. classes-1, checked where data enter ---------------------------

@pytest.mark.parametrize("y, fix", [
    ([0.0, 0.5, 1.0], "whole numbers"),
    ([0.0, float("nan"), 1.0], "NaN"),
    ([0, -1, 1], "negative"),
])
def test_make_data_rejects_bad_labels(y, fix):
    with pytest.raises(ValueError, match=fix):
        make_data(torch.zeros(3, 2), np.array(y))


BAD_LABELS = {
    "fractional": torch.tensor([0.0, 0.5, 1.0, 1.0]),
    "nan": torch.tensor([0.0, float("nan"), 1.0, 1.0]),
    "negative": torch.tensor([0, -1, 1, 1]),
    "ignore_index": torch.tensor([0, -100, 1, 1]),   # torch would silently skip this sample
    "out of range": torch.tensor([0, 2, 1, 1]),      # the model has 2 classes
}


@pytest.mark.parametrize("kind", BAD_LABELS)
def test_local_train_and_evaluate_reject_bad_labels(kind):
    data = Data(torch.randn(4, 4), BAD_LABELS[kind])
    with pytest.raises(ValueError, match=r"label.*0 \.\. 1"):
        local_train(logreg(), data, FAST, seed=0)
    with pytest.raises(ValueError, match=r"label.*0 \.\. 1"):
        evaluate(logreg(), data)


@pytest.mark.parametrize("kind", BAD_LABELS)
def test_the_gradient_rejects_bad_labels(kind):
    from fedlite.measure import gradient
    with pytest.raises(ValueError, match=r"label.*0 \.\. 1"):
        gradient(logreg(), Data(torch.randn(4, 4), BAD_LABELS[kind]))


@pytest.mark.parametrize("kind", BAD_LABELS)
def test_run_federated_names_the_client_with_bad_labels(kind):
    clients = [tabular(8), Data(torch.randn(4, 4), BAD_LABELS[kind])]
    with pytest.raises(ValueError, match=r"client 1.*label"):
        run_federated(logreg(), clients, tabular(8), rounds=1, local=FAST, progress=False)


def test_a_test_set_with_more_classes_than_the_model_is_named():
    test = Data(torch.randn(4, 4), torch.tensor([0, 1, 2, 0]))
    with pytest.raises(ValueError, match=r"test.*label"):
        run_federated(logreg(), [tabular(8)], test, rounds=1, local=FAST, progress=False)


# --- 3. features: count and dtype ----------------------------------------------------------------

@pytest.mark.parametrize("x, fix", [
    (torch.randn(4, 3), r"feature|shape"),            # 3 features, model expects 4
    (torch.randn(4, 4, dtype=torch.float64), "float32"),
    (torch.ones(4, 4, dtype=torch.int64), "float32"),
])
def test_features_of_the_wrong_count_or_dtype(x, fix):
    data = Data(x, torch.tensor([0, 1, 0, 1]))
    with pytest.raises(ValueError, match=fix):
        local_train(logreg(), data, FAST, seed=0)
    with pytest.raises(ValueError, match=fix):
        evaluate(logreg(), data)


def test_run_federated_names_the_client_with_wrong_features():
    clients = [tabular(8), Data(torch.randn(4, 5), torch.tensor([0, 1, 0, 1]))]
    with pytest.raises(ValueError, match="client 1"):
        run_federated(logreg(), clients, tabular(8), rounds=1, local=FAST, progress=False)


# --- 4. partitions ------------------------------------------------------------------------------

@pytest.mark.parametrize("parts, fix", [
    ([[0, 1, 2], [2, 3, 4, 5]], "more than once"),          # duplicate
    ([[0, 1, 2], [3, 4, -1]], r"0 \.\. 5"),                 # negative: would wrap to 5
    ([[0, 1, 2], [3, 4, 6]], r"0 \.\. 5"),                  # past the end
    ([np.array([0.0, 1.5, 2.0]), [3, 4, 5]], "integer"),    # fractional
    ([[0, 1, 2], [3, 4]], "not in any"),                    # sample 5 dropped
])
def test_subsets_refuses_what_is_not_a_partition(parts, fix):
    with pytest.raises(ValueError, match=fix):
        subsets(tabular(6), [np.asarray(p) for p in parts])


@settings(max_examples=40, deadline=None)
@given(n=st.integers(2, 40), k=st.integers(1, 5), drop=st.integers(0, 10_000), seed=st.integers(0, 999))
def test_subsets_notices_any_dropped_sample(n, k, drop, seed):
    parts = partition.iid(n, min(k, n), seed=seed)
    victim = drop % n
    parts = [p[p != victim] for p in parts]
    with pytest.raises(ValueError, match=f"not in any.*{victim}"):
        subsets(tabular(n), parts)


@pytest.mark.parametrize("index, fix", [
    ([0, -1], r"0 \.\. 5"), ([0, 6], r"0 \.\. 5"), (np.array([0.0, 1.5]), "integers"),
    (np.array([True, False, True, False, False, False]), "flatnonzero"),
])
def test_subset_refuses_wrapping_truncated_and_boolean_indices(index, fix):
    with pytest.raises(ValueError, match=fix):
        tabular(6).subset(index)


def test_quantity_skew_refuses_a_negative_min_size():
    with pytest.raises(ValueError, match="min_size"):
        partition.quantity_skew(10, 2, alpha=1.0, seed=0, min_size=-1)


def test_label_counts_refuses_too_few_classes():
    with pytest.raises(ValueError, match=r"num_classes.*at least 3"):
        partition.label_counts(np.array([0, 1, 2, 2]), [np.array([0, 1]), np.array([2, 3])], num_classes=2)


# --- 5. non-finite training -----------------------------------------------------------------------

@pytest.mark.parametrize("make", [
    lambda: LocalConfig(lr=math.inf),
    lambda: LocalConfig(lr=math.nan),
    lambda: LocalConfig(mu=math.inf),
    lambda: ServerMomentum(lr=math.inf),
    lambda: ServerAdam(lr=math.inf),
    lambda: ServerAdam(tau=math.inf),
])
def test_infinite_learning_rates_are_refused(make):
    with pytest.raises(ValueError, match="finite"):
        make()


def diverging() -> Data:
    """Finite but enormous features: one SGD step sends the loss to Inf/NaN."""
    return make_data(torch.randn(16, 4, generator=torch.Generator().manual_seed(0)) * 1e30,
                     torch.tensor([0, 1] * 8))


def test_local_train_stops_on_a_non_finite_loss():
    with pytest.raises(RuntimeError, match=r"loss.*lower the learning rate"):
        local_train(logreg(), diverging(), LocalConfig(lr=1.0, epochs=3, batch_size=8), seed=0)


def test_a_diverging_client_stops_the_run_naming_round_and_client():
    clients = [tabular(16), diverging()]
    with pytest.raises(RuntimeError, match=r"round 1, client 1.*loss"):
        run_federated(logreg(), clients, tabular(8), rounds=3, local=LocalConfig(lr=1.0, epochs=3, batch_size=8),
                      progress=False)


def test_the_baselines_name_the_epoch_and_client_that_diverged():
    fast = LocalConfig(lr=1.0, epochs=1, batch_size=8)
    with pytest.raises(RuntimeError, match=r"epoch 1, client 1: local training diverged"):
        run_local_only(logreg(), [tabular(16), diverging()], tabular(8), epochs=2, local=fast, progress=False)
    with pytest.raises(RuntimeError, match=r"epoch \d: local training diverged"):
        run_centralized(logreg(), diverging(), tabular(8), epochs=3, local=fast, progress=False)


# --- 6. overflow in arithmetic -------------------------------------------------------------------

@pytest.mark.parametrize("weights", [[1e308, 1e308], [1e308, 1e307], [5e307, 1.5e308]])
def test_fedavg_with_huge_weights(weights):
    """Answer key: p = w / sum(w), computed by hand from the ratio."""
    a, b = {"w": torch.tensor([1.0, 0.0])}, {"w": torch.tensor([0.0, 1.0])}
    p0 = 1 / (1 + weights[1] / weights[0])
    for rule in (fedavg, fedavg_loop):
        torch.testing.assert_close(rule([a, b], weights)["w"], torch.tensor([p0, 1 - p0]))


@pytest.mark.parametrize("values, expected", [
    ([2**63 - 1, 2**63 - 1], 2**63 - 1),
    ([2**53 + 1, 2**53 + 3], 2**53 + 2),
    ([-(2**63), -(2**63)], -(2**63)),
])
def test_large_integer_buffers_average_exactly(values, expected):
    states = [{"count": torch.tensor(v, dtype=torch.int64)} for v in values]
    assert fedavg(states, [1, 1])["count"].item() == fedavg_loop(states, [1, 1])["count"].item() == expected


@pytest.mark.parametrize("values", [[-1e308, 1e308], [1e39, 0.0]])
def test_quantize_refuses_values_beyond_float32(values):
    with pytest.raises(ValueError, match="float32"):
        quantize(torch.tensor(values, dtype=torch.float64))


@settings(max_examples=60, deadline=None)
@given(lo=st.floats(-3e38, 3e38), hi=st.floats(-3e38, 3e38), bits=st.integers(1, 16))
def test_quantize_round_trip_stays_within_half_a_step(lo, hi, bits):
    t = torch.tensor([lo, hi, (lo + hi) / 2], dtype=torch.float64)
    levels, low, step = quantize(t, bits)
    back = dequantize(levels, low, step)
    assert torch.isfinite(back).all()
    float32_resolution = 1e-6 * t.abs().max() + 1e-44      # the values come back as float32
    assert ((back.double() - t).abs() <= step / 2 * 1.001 + float32_resolution).all()


def test_dp_epsilon_is_clamped_at_zero_and_says_why():
    with pytest.warns(UserWarning, match="delta"):
        assert dp_epsilon(5.0, 1.0, 1, 0.5) == 0.0


@settings(max_examples=25, deadline=None)
@given(sigma=st.floats(0.3, 20), q=st.floats(0.01, 1.0), rounds=st.integers(1, 50), delta=st.floats(1e-9, 0.99))
def test_dp_epsilon_is_never_negative(sigma, q, rounds, delta):
    import warnings
    with warnings.catch_warnings():
        warnings.simplefilter("ignore")
        assert dp_epsilon(sigma, q, rounds, delta) >= 0


@pytest.mark.parametrize("scores, y, fix", [
    ([0.1, 0.9, 0.5], [0, 2, 1], r"0 and 1"),
    ([0.1, 0.9, 0.5], [0, -1, 1], r"0 and 1"),
    ([0.1, float("nan"), 0.5], [0, 1, 1], "NaN"),
])
def test_roc_auc_refuses_bad_labels_and_nan_scores(scores, y, fix):
    with pytest.raises(ValueError, match=fix):
        roc_auc(torch.tensor(scores), torch.tensor(y))


# --- 7. NumPy numbers are numbers ---------------------------------------------------------------

def test_numpy_numbers_in_local_config_and_the_run():
    data = tabular(16)
    as_numpy = LocalConfig(epochs=np.int64(2), batch_size=np.int64(8), lr=np.float32(0.1), mu=np.float64(0.0))
    as_python = LocalConfig(epochs=2, batch_size=8, lr=float(np.float32(0.1)), mu=0.0)
    a = run_federated(logreg(), [data, tabular(12, seed=1)], data, rounds=np.int64(2), local=as_numpy,
                      participation=np.float32(1.0), seed=np.int64(3), progress=False)
    b = run_federated(logreg(), [data, tabular(12, seed=1)], data, rounds=2, local=as_python,
                      participation=1.0, seed=3, progress=False)
    assert a.rounds[-1].test == b.rounds[-1].test


@pytest.mark.parametrize("call", [
    lambda i: partition.iid(i(20), i(3), seed=i(1)),
    lambda i: partition.dirichlet(np.arange(20) % 2, i(2), alpha=np.float32(1.0), seed=i(1), min_size=i(2)),
    lambda i: partition.shards(np.arange(20) % 2, i(2), shards_per_client=i(2), seed=i(1)),
    lambda i: partition.quantity_skew(i(20), i(2), alpha=np.float64(1.0), seed=i(1), min_size=i(1)),
    lambda i: top_k(torch.arange(6.0), i(2)),
    lambda i: quantize(torch.arange(6.0), i(4))[0],
    lambda i: make_model("mlp", seed=i(1), in_features=i(4), hidden=i(3)).state_dict(),
    lambda i: trimmed_mean([{"w": torch.tensor([float(k)])} for k in range(5)], beta=np.float32(0.2)),
    lambda i: krum([{"w": torch.tensor([float(k)])} for k in range(5)], f=i(1)),
    lambda i: dp_epsilon(np.float32(1.0), np.float64(0.5), i(3), np.float64(1e-5)),
    lambda i: run_centralized(logreg(), tabular(16), tabular(8), epochs=i(2), seed=i(0), progress=False).rounds,
    lambda i: run_local_only(logreg(), [tabular(16)], tabular(8), epochs=i(2), seed=i(0), progress=False)[0].rounds,
])
def test_numpy_numbers_give_the_same_answer_as_python_numbers(call):
    def same(a, b):
        if isinstance(a, torch.Tensor):
            return torch.equal(a, b)
        if isinstance(a, (list, tuple)):
            return len(a) == len(b) and all(same(x, y) for x, y in zip(a, b))
        if isinstance(a, dict):
            return a.keys() == b.keys() and all(same(a[k], b[k]) for k in a)
        if isinstance(a, np.ndarray):
            return np.array_equal(a, b)
        return a == b or (a != a and b != b) or (hasattr(a, "test") and a.test == b.test)
    assert same(call(np.int64), call(int))


def test_numpy_numbers_in_the_robustness_hooks():
    from fedlite.heterogeneity.personalize import fine_tune
    from fedlite.robustness import compression, malicious, participation
    assert compression.Quantize(np.int64(4)).bits == 4
    assert compression.TopK(np.float32(0.5)).ratio == 0.5
    malicious.scaled([0], np.float32(2.0))
    late = participation.Deadline([np.float32(10.0)], np.float64(1.0), epochs=np.int64(2), jitter=np.float32(0.1),
                                  seed=np.int64(1))
    assert late.epochs == 2 and late.seed == 1
    a = fine_tune(logreg(), tabular(16), epochs=np.int64(1), local=FAST, seed=np.int64(0)).state_dict()
    b = fine_tune(logreg(), tabular(16), epochs=1, local=FAST, seed=0).state_dict()
    assert all(torch.equal(a[k], b[k]) for k in a)


def test_numpy_numbers_in_the_privacy_hooks():
    a = DPFedAvg(clip=np.float32(1.0), noise_multiplier=np.float64(0.5), num_samples=np.array([3, 5]),
                 participation=np.float32(0.5), seed=np.int64(0))
    b = DPFedAvg(clip=1.0, noise_multiplier=0.5, num_samples=[3, 5], participation=0.5, seed=0)
    assert a.expected_weight == b.expected_weight == 1.0
    assert torch.equal(torch.randn(3, generator=a.generator), torch.randn(3, generator=b.generator))
    secure = SecureFedAvg(num_clients=np.int64(3), scale=np.int64(SCALE), bits=np.int64(BITS),
                          session_seed=np.int64(2))
    assert secure.clients == [0, 1, 2] and type(secure.bits) is int


# --- 8. messages that are right -------------------------------------------------------------------

def test_a_huge_finite_feature_is_not_called_nan():
    with pytest.raises(ValueError, match="float32") as err:
        make_data(np.array([[1e39, 0.0]]), np.array([0]))
    assert "NaN" not in str(err.value)


def test_a_misspelled_local_key_is_a_clear_error():
    with pytest.raises(ValueError, match=r"local_keys.*'linear\.weigth'.*linear\.weight"):
        run_federated(logreg(), [tabular(8)], tabular(8), rounds=1, local=FAST,
                      local_keys=["linear.weigth"], progress=False)


def test_a_missing_state_key_is_not_blamed_on_the_learning_rate():
    from fedlite.simulation import RoundContext  # noqa: F401  (the new hook signature)

    def drop_bias(context, client, result):
        result.state.pop("linear.bias")
        return result

    with pytest.raises((ValueError, RuntimeError), match="linear.bias") as err:
        run_federated(logreg(), [tabular(8), tabular(8, seed=1)], tabular(8), rounds=1, local=FAST,
                      on_update=drop_bias, progress=False)
    assert "learning rate" not in str(err.value)


@pytest.mark.parametrize("call", [
    lambda: run_federated(logreg(), [tabular(8)], tabular(8), rounds=1, seed=-1, progress=False),
    lambda: run_centralized(logreg(), tabular(8), tabular(8), epochs=1, seed=-1, progress=False),
    lambda: run_local_only(logreg(), [tabular(8)], tabular(8), epochs=1, seed=-1, progress=False),
    lambda: local_train(logreg(), tabular(8), FAST, seed=-1),
    lambda: partition.iid(10, 2, seed=-1),
    lambda: partition.dirichlet(np.arange(10) % 2, 2, alpha=1.0, seed=-1),
    lambda: partition.quantity_skew(10, 2, alpha=1.0, seed=-1),
    lambda: partition.shards(np.arange(10) % 2, 2, seed=-1),
    lambda: run_federated(logreg(), [tabular(8)], tabular(8), rounds=1, seed=1.5, progress=False),
])
def test_a_negative_or_fractional_seed_is_named(call):
    with pytest.raises(ValueError, match=r"seed must be a non-negative integer"):
        call()


# --- readers on truncated or tampered files -------------------------------------------------------

def medmnist_file(path):
    images = np.zeros((4, 28, 28), dtype=np.uint8)
    labels = np.array([[0], [1], [0], [1]], dtype=np.uint8)
    np.savez(path, **{f"{s}_{k}": v for s in ("train", "val", "test")
                      for k, v in (("images", images), ("labels", labels))})


@pytest.mark.parametrize("tamper", ["truncate", "garbage", "empty", "pickled labels", "one-dim images"])
def test_read_medmnist_on_a_damaged_file_says_refetch(tmp_path, tamper):
    path = tmp_path / "x.npz"
    medmnist_file(path)
    raw = path.read_bytes()
    if tamper == "truncate":
        path.write_bytes(raw[: len(raw) // 2])
    elif tamper == "garbage":
        path.write_bytes(b"\x93NUMPY garbage" + bytes(range(200)))
    elif tamper == "empty":
        path.write_bytes(b"")
    elif tamper == "pickled labels":
        np.savez(path, **{f"{s}_{k}": v for s in ("train", "val", "test") for k, v in
                          (("images", np.zeros((2, 28, 28), np.uint8)), ("labels", np.array([{}, {}], dtype=object)))})
    else:
        np.savez(path, **{f"{s}_{k}": v for s in ("train", "val", "test") for k, v in
                          (("images", np.zeros(2, np.uint8)), ("labels", np.zeros(2, np.uint8)))})
    with pytest.raises(ValueError, match=r"x\.npz.*re-fetch") as err:
        read_medmnist(path)
    assert not isinstance(err.value, zipfile.BadZipFile)


GOOD_ROW = "63.0,1.0,1.0,145.0,233.0,1.0,2.0,150.0,0.0,2.3,3.0,0.0,6.0,0"


@pytest.mark.parametrize("bad_row, column", [
    (GOOD_ROW.replace("233.0", "abc"), "chol"),
    (GOOD_ROW.replace("145.0", ""), "trestbps"),
    (GOOD_ROW.replace("63.0", "nan"), "age"),
    (GOOD_ROW[:-1] + "inf", "num"),
])
def test_read_heart_table_names_file_row_and_column(tmp_path, bad_row, column):
    path = tmp_path / "processed.test.data"
    path.write_text("\n".join([GOOD_ROW, GOOD_ROW, bad_row, GOOD_ROW]) + "\n")
    with pytest.raises(ValueError, match=rf"processed\.test\.data.*row 3.*{column}"):
        read_heart_table(path)


def test_read_heart_table_names_the_row_with_too_few_fields(tmp_path):
    path = tmp_path / "processed.test.data"
    path.write_text("\n".join([GOOD_ROW, GOOD_ROW.rsplit(",", 1)[0]]) + "\n")
    with pytest.raises(ValueError, match=r"processed\.test\.data.*row 2.*14"):
        read_heart_table(path)


# --- interop: arrays whose shapes collide ---------------------------------------------------------

def two_of_a_shape() -> dict[str, torch.Tensor]:
    return {"a.weight": torch.tensor([1.0, 2.0]), "b.weight": torch.tensor([3.0, 4.0])}


def test_from_ndarrays_documents_that_equal_shapes_cannot_be_told_apart():
    like = two_of_a_shape()
    swapped = to_ndarrays(like)[::-1]
    assert torch.equal(from_ndarrays(swapped, like)["a.weight"], torch.tensor([3.0, 4.0]))  # the limit
    assert "same shape" in from_ndarrays.__doc__ and "names" in from_ndarrays.__doc__


def test_from_ndarrays_with_names_catches_the_wrong_order():
    like = two_of_a_shape()
    with pytest.raises(ValueError, match=r"order.*'b\.weight'.*'a\.weight'"):
        from_ndarrays(to_ndarrays(like)[::-1], like, names=list(like)[::-1])
    back = from_ndarrays(to_ndarrays(like), like, names=list(like))
    assert all(torch.equal(back[k], like[k]) for k in like)
