"""DP-FedAvg: clipping bounds every update, the noise has the promised scale, epsilon is Opacus's."""

import math
import warnings

import numpy as np
import pytest
import torch
from hypothesis import given, settings
from hypothesis import strategies as st
from opacus.accountants import RDPAccountant
from opacus.accountants.analysis.rdp import compute_rdp

import fedlite as fl
from fedlite.privacy import dp
from fedlite.client import ClientResult
from fedlite.simulation import RoundContext
from fedlite.state import norm


pytestmark = pytest.mark.usefixtures("one_thread")  # see conftest.py


def random_update(seed, scale):
    g = torch.Generator().manual_seed(seed)
    return {"w": torch.randn(7, 5, generator=g) * scale, "b": torch.randn(5, generator=g) * scale,
            "count": torch.tensor(3)}


# --- clipping ---------------------------------------------------------------------------------------

@settings(max_examples=50, deadline=None)
@given(seed=st.integers(0, 10_000), scale=st.floats(1e-4, 1e3), clip=st.floats(1e-3, 10.0))
def test_clipped_norm_is_at_most_c_and_direction_is_kept(seed, scale, clip):
    delta = random_update(seed, scale)
    clipped, before = dp.clip_update(delta, clip)
    assert before == pytest.approx(norm(delta))
    assert norm(clipped) <= clip * (1 + 1e-6)
    if before <= clip:                                     # short updates are left alone
        assert torch.allclose(clipped["w"], delta["w"])
    factor = clipped["w"].flatten() @ delta["w"].flatten() / (delta["w"].norm() * clipped["w"].norm())
    assert factor.item() == pytest.approx(1.0, abs=1e-5)  # same direction
    assert torch.equal(clipped["count"], delta["count"])  # integers untouched


def test_update_norm_is_the_norm_of_all_floats_together():
    delta = {"a": torch.tensor([3.0]), "b": torch.tensor([[4.0]]), "n": torch.tensor([100])}
    assert norm(delta) == pytest.approx(5.0)


# --- the noise ---------------------------------------------------------------------------------------

@pytest.mark.parametrize("clients", [1, 4])
def test_noise_on_the_mean_has_std_sigma_c_over_m(clients):
    model = torch.nn.Linear(200, 100)                      # 20,100 numbers to estimate a std from
    clip, sigma = 0.5, 2.0
    mechanism = dp.DPFedAvg(clip=clip, noise_multiplier=sigma, seed=0)
    same = [dict(model.state_dict()) for _ in range(clients)]   # every client sends w: zero updates
    new = mechanism.aggregate(same, [1] * clients)
    noise = torch.cat([(new[k] - same[0][k]).flatten() for k in new])
    assert noise.std().item() == pytest.approx(sigma * clip / clients, rel=0.03)
    assert abs(noise.mean().item()) < 0.05 * sigma * clip / clients
    assert mechanism.rounds == 1


def test_dp_fedavg_without_noise_is_the_equal_weight_mean_of_clipped_updates():
    model = torch.nn.Linear(3, 2)
    w = {k: v.clone() for k, v in model.state_dict().items()}
    mechanism = dp.DPFedAvg(clip=1.0, noise_multiplier=0.0)
    updates = [{k: v + 10.0 * (i + 1) for k, v in w.items()} for i in range(2)]   # both far longer than C
    sent = [mechanism.on_update(RoundContext(1, w, (0, 1)), i, ClientResult(u, num_samples=100 * (i + 1), loss=0.0)).state
            for i, u in enumerate(updates)]
    for s in sent:
        assert norm({k: s[k] - w[k] for k in w}) == pytest.approx(1.0)
    new = mechanism.aggregate(sent, [100, 200])
    for k in w:   # equal weights, whatever the sample counts
        assert torch.allclose(new[k], (sent[0][k] + sent[1][k]) / 2)
    assert mechanism.norms == pytest.approx([norm({k: u[k] - w[k] for k in w}) for u in updates])


def test_dp_fedavg_runs_in_the_round_loop_and_is_reproducible():
    g = torch.Generator().manual_seed(0)
    y = torch.arange(60) % 2
    data = fl.Data(torch.randn(60, 4, generator=g) + y[:, None], y)
    parts = fl.subsets(data, [np.arange(0, 30), np.arange(30, 60)])

    def run():
        model = fl.make_model("logreg", seed=0, in_features=4)
        mechanism = dp.DPFedAvg(clip=0.1, noise_multiplier=1.0, seed=3)
        fl.run_federated(model, parts, data, rounds=3, local=fl.LocalConfig(lr=0.5, batch_size=None),
                         on_update=mechanism.on_update, aggregate=mechanism.aggregate, progress=False)
        return model.state_dict(), mechanism

    (a, mechanism), (b, _) = run(), run()
    assert all(torch.equal(a[k], b[k]) for k in a)
    assert mechanism.rounds == 3 and len(mechanism.norms) == 6


# --- the accountant ------------------------------------------------------------------------------------

def test_epsilon_grows_with_rounds_and_sample_rate_and_shrinks_with_noise():
    eps = [dp.dp_epsilon(1.0, 1.0, r, 1e-3) for r in (1, 5, 20, 100)]
    assert eps == sorted(eps) and len(set(eps)) == 4
    by_noise = [dp.dp_epsilon(s, 1.0, 10, 1e-3) for s in (0.5, 1.0, 2.0, 4.0, 8.0)]
    assert by_noise == sorted(by_noise, reverse=True) and len(set(by_noise)) == 5
    by_rate = [dp.dp_epsilon(1.0, q, 50, 1e-5) for q in (0.01, 0.1, 0.5, 1.0)]
    assert by_rate == sorted(by_rate)


@pytest.mark.parametrize("sigma, q, rounds, delta", [(1.1, 0.01, 1000, 1e-5), (2.0, 0.5, 30, 1e-3),
                                                      (4.0, 1.0, 10, 1e-3), (1.0, 0.1, 200, 1e-4)])
def test_epsilon_is_what_opacus_computes(sigma, q, rounds, delta):
    accountant = RDPAccountant()
    for _ in range(rounds):
        accountant.step(noise_multiplier=sigma, sample_rate=q)
    with warnings.catch_warnings():
        warnings.simplefilter("ignore")
        default = accountant.get_epsilon(delta)
        extended = accountant.get_epsilon(delta, alphas=dp.ALPHAS)
    ours = dp.dp_epsilon(sigma, q, rounds, delta)
    assert ours == pytest.approx(extended, rel=1e-12)
    assert ours <= default + 1e-12          # more orders can only tighten the bound
    if sigma >= 1.0:                        # enough noise: the best order is among Opacus's defaults
        assert ours == pytest.approx(default, rel=1e-12)


def test_epsilon_reproduces_a_published_dp_sgd_value():
    # TensorFlow Privacy's MNIST tutorial (tutorials/README.md): sigma = 1.12, batch 256 of 60,000,
    # 60 epochs, delta = 1e-5 -> epsilon 2.92, with the classic RDP-to-DP conversion
    # eps = min_a RDP(a) - log(delta) / (a - 1). Opacus's RDP of the sampled Gaussian reproduces it;
    # dp_epsilon uses Opacus's tighter conversion (Balle et al. 2020), so it is a little smaller.
    q, steps, orders = 256 / 60_000, 60 * 60_000 // 256, RDPAccountant.DEFAULT_ALPHAS
    rdp = compute_rdp(q=q, noise_multiplier=1.12, steps=steps, orders=orders)
    classic = min(r - math.log(1e-5) / (a - 1) for r, a in zip(rdp, orders))
    assert classic == pytest.approx(2.92, abs=0.01)
    assert 2.0 < dp.dp_epsilon(1.12, q, steps, 1e-5) < classic


# --- validation -------------------------------------------------------------------------------------

@pytest.mark.parametrize("kwargs, message", [
    ({"noise_multiplier": 0.0}, "noise_multiplier"), ({"noise_multiplier": -1.0}, "noise_multiplier"),
    ({"sample_rate": 0.0}, "sample_rate"), ({"sample_rate": 1.5}, "sample_rate"),
    ({"rounds": 0}, "rounds"), ({"rounds": 2.5}, "rounds"),
    ({"delta": 0.0}, "delta"), ({"delta": 1.0}, "delta"), ({"delta": -1e-5}, "delta")])
def test_dp_epsilon_rejects_bad_settings(kwargs, message):
    settings_ = {"noise_multiplier": 1.0, "sample_rate": 0.1, "rounds": 10, "delta": 1e-5, **kwargs}
    with pytest.raises(ValueError, match=message):
        dp.dp_epsilon(**settings_)


@pytest.mark.parametrize("clip, sigma", [(0.0, 1.0), (-1.0, 1.0), (float("nan"), 1.0), (1.0, -0.5)])
def test_dp_fedavg_rejects_non_positive_clip_and_negative_noise(clip, sigma):
    with pytest.raises(ValueError, match="clip|noise"):
        dp.DPFedAvg(clip=clip, noise_multiplier=sigma)
    if not clip > 0:
        with pytest.raises(ValueError, match="clip"):
            dp.clip_update({"w": torch.ones(2)}, clip)
