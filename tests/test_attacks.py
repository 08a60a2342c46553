"""Gradient inversion: it rebuilds one image from its update, and fails on a secure sum of many."""

import math

import pytest
import torch
import torch.nn.functional as F

import fedlite as fl
from fedlite.privacy import inversion, secagg
from fedlite.state import copy_state

ONE_STEP = fl.LocalConfig(epochs=1, batch_size=None, lr=0.1)


pytestmark = pytest.mark.usefixtures("one_thread")  # see conftest.py


def smooth_images(n, seed):
    """Images in [0, 1] that look a little like scans: smooth, random 7x7 patterns blown up to 28x28."""
    low = torch.rand(n, 1, 7, 7, generator=torch.Generator().manual_seed(seed))
    return F.interpolate(low, size=28, mode="bilinear", align_corners=False)


@pytest.fixture(scope="module")
def scans():
    x = smooth_images(33, seed=0)
    return fl.Data(x, torch.arange(33) % 2)


def baselines(truth):
    """PSNR of two guesses that need no update: the attack's random start, and a flat image."""
    start = torch.rand((1, 1, 28, 28), generator=torch.Generator().manual_seed(0))
    flat = torch.full_like(truth, truth.mean().item())
    return inversion.psnr(start, truth), inversion.psnr(flat, truth)


# --- the metrics ------------------------------------------------------------------------------------

def test_psnr_and_mse_by_hand():
    a, b = torch.zeros(1, 1, 2, 2), torch.full((1, 1, 2, 2), 0.1)
    assert inversion.mse(a, b) == pytest.approx(0.01)
    assert inversion.psnr(a, b) == pytest.approx(20.0)                   # 10 log10(1 / 0.01)
    assert inversion.psnr(a, b, data_range=255) == pytest.approx(20 + 20 * math.log10(255))
    assert inversion.psnr(a, a) == math.inf
    with pytest.raises(ValueError, match="same shape"):
        inversion.mse(a, torch.zeros(2, 2))
    with pytest.raises(ValueError, match="data_range"):
        inversion.psnr(a, b, data_range=0)


def test_matching_pairs_a_shuffled_batch_back_up(scans):
    truth = scans.x[:4]
    shuffled = truth[[2, 0, 3, 1]] + 0.01
    assert inversion.match(shuffled, truth) == [1, 3, 0, 2]
    assert all(p == pytest.approx(40.0) for p in inversion.matched_psnr(shuffled, truth))
    with pytest.raises(ValueError, match="at least as many"):
        inversion.match(truth[:1], truth)


# --- the pieces of the attack -------------------------------------------------------------------------

def test_update_of_one_sgd_step_gives_back_the_autograd_gradient(scans):
    model = fl.make_model("cnn", seed=0)
    before = copy_state(model)
    expected = inversion.shared_gradient(model, scans.x[:3], scans.y[:3])       # answer key: autograd
    after = fl.local_train(model, scans.subset([0, 1, 2]), ONE_STEP, seed=0).state
    model.load_state_dict(before)
    recovered = inversion.gradient_from_update(model, before, after, lr=ONE_STEP.lr)
    for g, e in zip(recovered, expected):
        assert torch.allclose(g, e, atol=2e-5, rtol=1e-3)
    with pytest.raises(ValueError, match="lack parameters"):
        inversion.gradient_from_update(model, {}, after)


@pytest.mark.parametrize("label", [0, 1])
def test_idlg_reads_the_label_off_the_output_bias(scans, label):
    model = fl.make_model("cnn", seed=1)
    x = scans.x[:1]
    grad = inversion.shared_gradient(model, x, torch.tensor([label]))
    assert inversion.infer_label(grad) == label
    with pytest.raises(ValueError, match="bias"):
        inversion.infer_label([torch.zeros(2, 2)])


def test_invert_gradient_checks_its_inputs(scans):
    model = fl.make_model("cnn", seed=0)
    grad = inversion.shared_gradient(model, scans.x[:1], scans.y[:1])
    with pytest.raises(ValueError, match="one tensor per model parameter"):
        inversion.invert_gradient(model, grad[:-1], [0])
    with pytest.raises(ValueError, match="steps"):
        inversion.invert_gradient(model, grad, [0], steps=0)


# --- the attack, end to end --------------------------------------------------------------------------------

def test_attack_rebuilds_a_single_image_far_above_the_baselines(scans):
    model = fl.make_model("cnn", seed=0)
    before = copy_state(model)
    target = scans.subset([0])
    after = fl.local_train(model, target, ONE_STEP, seed=0).state
    rec = inversion.reconstruct(model, before, after, steps=100, seed=0)
    assert rec.labels.tolist() == target.y.tolist()                    # iDLG got the label right
    assert rec.losses[-1] < rec.losses[0]
    random_start, flat = baselines(target.x)
    assert inversion.psnr(rec.images, target.x) > max(random_start, flat) + 5.0


def test_attack_fails_on_the_secure_sum_of_several_hospitals(scans):
    hospitals = [scans.subset([0])] + [scans.subset(range(1 + 8 * i, 9 + 8 * i)) for i in range(4)]
    model = fl.make_model("cnn", seed=0)
    before = copy_state(model)
    secure = secagg.SecureFedAvg(num_clients=len(hospitals))
    fl.run_federated(model, hospitals, scans, rounds=1, local=ONE_STEP, on_update=secure.on_update,
                     aggregate=secure.aggregate, progress=False)
    rec = inversion.reconstruct(fl.make_model("cnn", seed=0), before, copy_state(model), steps=100, seed=0)
    random_start, flat = baselines(hospitals[0].x)
    assert inversion.psnr(rec.images, hospitals[0].x) < flat + 1.0       # no better than a flat guess


def test_image_grid_draws_one_labelled_row_per_entry(scans):
    import matplotlib.pyplot as plt

    from fedlite import plots

    fig = plots.image_grid({"X-rays": list(scans.x[:3]), "rebuilt": [scans.x[0, 0].numpy()]},
                           captions={"rebuilt": ["20.0 dB"]})
    axes = fig.axes
    assert len(axes) == 6 and axes[0].get_ylabel() == "X-rays" and axes[3].get_ylabel() == "rebuilt"
    assert axes[3].get_xlabel() == "20.0 dB" and not axes[5].axison   # a short row leaves blanks
    plt.close(fig)
