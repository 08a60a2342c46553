"""Secure aggregation: the masked sum is the plain sum exactly; one masked vector reveals nothing."""

import numpy as np
import pytest
import torch
from hypothesis import given, settings
from hypothesis import strategies as st

import fedlite as fl
from fedlite.privacy import secagg

MODULUS = 2**secagg.BITS


pytestmark = pytest.mark.usefixtures("one_thread")  # see conftest.py


def random_vectors(num_clients, length, seed, spread=100.0):
    rng = np.random.default_rng(seed)
    return {k: rng.uniform(-spread, spread, size=length) for k in range(num_clients)}


@st.composite
def rounds_with_dropouts(draw):
    num_clients = draw(st.integers(1, 8))
    length = draw(st.integers(1, 40))
    dropped = draw(st.sets(st.integers(0, num_clients - 1), max_size=num_clients - 1))
    return num_clients, length, sorted(dropped), draw(st.integers(0, 2**32 - 1))


# --- fixed point ---------------------------------------------------------------------------------

def test_encode_decode_round_trip_within_half_a_step():
    x = np.array([0.0, 1.0, -1.0, 3.14159, -2.5e-7, 1e5, -1e5])
    back = secagg.decode(secagg.encode(x))
    assert np.all(np.abs(back - x) <= 0.5 / secagg.SCALE)
    assert secagg.encode(np.array([-1.0]))[0] == MODULUS - secagg.SCALE   # negatives wrap around


def test_encode_rejects_values_that_do_not_fit_and_bad_fields():
    limit = 2.0 ** (secagg.BITS - 1) / secagg.SCALE
    for bad in ([limit], [-limit * 2], [np.nan], [np.inf]):
        with pytest.raises(ValueError, match="fixed point"):
            secagg.encode(np.array(bad))
    with pytest.raises(ValueError, match="bits"):
        secagg.encode(np.zeros(2), bits=64)
    with pytest.raises(ValueError, match="scale"):
        secagg.encode(np.zeros(2), scale=0)


# --- the protocol ----------------------------------------------------------------------------------

@settings(max_examples=60, deadline=None)
@given(rounds_with_dropouts())
def test_masked_sum_equals_plain_sum_exactly_with_any_dropouts(case):
    num_clients, length, dropped, seed = case
    vectors = random_vectors(num_clients, length, seed)
    clients = sorted(vectors)
    masked = {k: secagg.mask(k, secagg.encode(v), clients, session_seed=seed, round_=3)
              for k, v in vectors.items() if k not in dropped}
    total = secagg.unmask_sum(masked, clients, session_seed=seed, round_=3)
    # the answer key: plain modular sum of the survivors' encoded vectors, no masks at all
    expected = sum(secagg.encode(vectors[k]).astype(object) for k in clients if k not in dropped) % MODULUS
    assert [int(t) for t in total] == list(expected)
    plain = sum(vectors[k] for k in clients if k not in dropped)
    assert np.allclose(secagg.decode(total), plain, atol=num_clients / secagg.SCALE)


def test_secure_sum_is_the_whole_protocol_in_one_call():
    vectors = random_vectors(5, 30, seed=1)
    assert np.allclose(secagg.secure_sum(vectors), sum(vectors.values()), atol=5 / secagg.SCALE)
    survivors = sum(v for k, v in vectors.items() if k not in (1, 3))
    assert np.allclose(secagg.secure_sum(vectors, dropped=[1, 3]), survivors, atol=5 / secagg.SCALE)


def test_one_masked_vector_looks_like_uniform_noise():
    length = 20_000
    x = np.sin(np.linspace(0, 20, length)) * 0.1 + 0.3            # a very structured vector
    clients = [0, 1, 2]
    y = secagg.mask(0, secagg.encode(x), clients, session_seed=11)
    assert abs(np.corrcoef(secagg.decode(y), x)[0, 1]) < 0.03    # no linear trace of x
    top_bits = (y >> np.uint64(secagg.BITS - 4)).astype(int)      # 16 equal bins of [0, 2^48)
    counts = np.bincount(top_bits, minlength=16)
    assert counts.min() > 0.85 * length / 16 and counts.max() < 1.15 * length / 16


def test_masks_cancel_pairwise_and_are_fresh_every_round():
    zeros = np.zeros(8, dtype=np.uint64)
    masks = [secagg.mask(k, zeros, [0, 1, 2], session_seed=5, round_=1) for k in range(3)]
    assert np.all(sum(masks) & np.uint64(MODULUS - 1) == 0)      # masks alone sum to zero
    again = secagg.mask(0, zeros, [0, 1, 2], session_seed=5, round_=2)
    assert not np.array_equal(masks[0], again)                    # a new round, new masks
    assert secagg.pair_seed(0, 2, 5, 1) == secagg.pair_seed(2, 0, 5, 1)


def test_a_lone_client_is_not_hidden_at_all():
    # the limitation the notebook states: with one participant the sum is its vector
    x = np.array([0.25, -0.5])
    assert np.allclose(secagg.decode(secagg.mask(0, secagg.encode(x), [0], session_seed=0)), x)


def test_protocol_errors_say_what_is_wrong():
    clients = [0, 1]
    a = secagg.mask(0, secagg.encode(np.zeros(3)), clients, session_seed=0)
    b = secagg.mask(1, secagg.encode(np.zeros(4)), clients, session_seed=0)
    with pytest.raises(ValueError, match="same length"):
        secagg.unmask_sum({0: a, 1: b}, clients, session_seed=0)
    with pytest.raises(ValueError, match="same length"):
        secagg.secure_sum({0: np.zeros(3), 1: np.zeros(4)})
    with pytest.raises(ValueError, match="not in this round"):
        secagg.unmask_sum({0: a, 7: a}, clients, session_seed=0)
    with pytest.raises(ValueError, match="nothing to sum"):
        secagg.unmask_sum({}, clients, session_seed=0)
    with pytest.raises(ValueError, match="not among"):
        secagg.mask(5, a, clients, session_seed=0)
    with pytest.raises(ValueError, match="not among"):
        secagg.secure_sum({0: np.zeros(3), 1: np.zeros(3)}, dropped=[4])


# --- secure FedAvg in the round loop ----------------------------------------------------------------

def blobs(n, seed):
    g = torch.Generator().manual_seed(seed)
    y = torch.arange(n) % 2
    return fl.Data(torch.randn(n, 5, generator=g) + (2 * y[:, None] - 1.0), y)


HOSPITALS = [blobs(40, 1), blobs(15, 2), blobs(27, 3), blobs(8, 4)]
CONFIG = fl.LocalConfig(epochs=2, batch_size=8, lr=0.1)


def federated(on_update=None, aggregate=fl.fedavg, hospitals=HOSPITALS, participation=1.0, model=None):
    model = model or fl.make_model("mlp", seed=0, in_features=5)
    history = fl.run_federated(model, hospitals, blobs(30, 9), rounds=3, local=CONFIG, participation=participation,
                               on_update=on_update, aggregate=aggregate, progress=False)
    return model.state_dict(), history


def assert_close(a, b, atol=1e-6):
    for k in a:
        assert torch.allclose(a[k], b[k], atol=atol), k


@pytest.mark.parametrize("participation", [1.0, 0.5])
def test_secure_fedavg_gives_the_plain_fedavg_model(participation):
    model = fl.make_model("mlp", seed=0, in_features=5)
    secure = secagg.SecureFedAvg(num_clients=len(HOSPITALS), session_seed=3)
    state, history = federated(secure.on_update, secure.aggregate, participation=participation, model=model)
    plain, _ = federated(participation=participation)
    assert_close(state, plain)
    numbers = sum(t.numel() for t in plain.values()) + 1
    assert history.rounds[0].bytes_up == len(history.rounds[0].clients) * numbers * secagg.BITS // 8


def test_secure_fedavg_survives_a_dropout_after_masking():
    model = fl.make_model("mlp", seed=0, in_features=5)
    secure = secagg.SecureFedAvg(num_clients=4)

    def drop_hospital_2(context, client, result):
        sent = secure.on_update(context, client, result)
        return None if client == 2 else sent

    state, _ = federated(drop_hospital_2, secure.aggregate, model=model)
    # answer key: plain FedAvg over the same hospitals, hospital 2's update simply never arriving
    plain, _ = federated(lambda t, k, r: None if k == 2 else r)
    assert_close(state, plain)


def test_secure_fedavg_server_sees_only_masked_vectors():
    model = fl.make_model("mlp", seed=0, in_features=5)
    secure = secagg.SecureFedAvg(num_clients=4)
    seen_keys = []

    def spy(context, client, result):
        sent = secure.on_update(context, client, result)
        seen_keys.append(sorted(sent.state))
        return sent

    federated(spy, secure.aggregate, model=model)
    assert seen_keys == [["masked"]] * 12          # nothing but the masked vector leaves a hospital
    assert sorted(secure.seen) == [0, 1, 2, 3]
    assert all(np.abs(secagg.decode(v)).max() > 1e4 for v in secure.seen.values())
    with pytest.raises(ValueError, match="num_clients"):
        secagg.SecureFedAvg(num_clients=0)


def test_to_vector_and_back_keeps_integer_buffers():
    model = fl.make_model("cnn", seed=0, norm=True)
    state = model.state_dict()
    back = secagg.from_vector(secagg.to_vector(state), state)
    assert all(torch.equal(back[k], state[k]) and back[k].dtype == state[k].dtype for k in state)
    with pytest.raises(ValueError, match="template needs"):
        secagg.from_vector(np.zeros(3), state)
