"""FedAvg and the server optimizers, against hand-computed arrays and a naive loop."""

import pytest
import torch

from fedlite.aggregate import fedavg, fedavg_loop
from fedlite.server import ServerAdam, ServerMomentum


def state(w, b):
    return {"w": torch.tensor(w, dtype=torch.float32), "b": torch.tensor(b, dtype=torch.float32)}


def test_fedavg_weights_are_n_k_over_n():
    # Prepare: two clients with 1 and 3 samples -> weights 1/4 and 3/4.
    a, b = state([0.0, 4.0], [8.0]), state([4.0, 0.0], [0.0])
    # Execute
    out = fedavg([a, b], [1, 3])
    # Assert (by hand: 0.25*[0,4] + 0.75*[4,0] = [3, 1]; 0.25*8 = 2)
    assert torch.equal(out["w"], torch.tensor([3.0, 1.0])) and torch.equal(out["b"], torch.tensor([2.0]))


def test_fedavg_equal_weights_is_plain_mean_and_scale_free():
    a, b, c = state([1.0], [0.0]), state([2.0], [3.0]), state([6.0], [6.0])
    assert torch.allclose(fedavg([a, b, c], [1, 1, 1])["w"], torch.tensor([3.0]))
    assert torch.allclose(fedavg([a, b, c], [2, 5, 9])["w"], fedavg([a, b, c], [20, 50, 90])["w"])


def test_identical_clients_give_back_the_same_model():
    s = {"w": torch.randn(3, 4), "n": torch.tensor(7)}
    out = fedavg([s, s, s], [10, 200, 3])
    assert torch.allclose(out["w"], s["w"], atol=1e-7) and out["n"].item() == 7


def test_fast_fedavg_matches_the_naive_loop():
    g = torch.Generator().manual_seed(0)
    states = [{"conv": torch.randn(4, 1, 3, 3, generator=g), "fc": torch.randn(10, generator=g)} for _ in range(7)]
    weights = [float(w) for w in torch.randint(1, 500, (7,), generator=g)]
    fast, loop = fedavg(states, weights), fedavg_loop(states, weights)
    assert all(torch.allclose(fast[k], loop[k], atol=1e-6) for k in fast)


def test_integer_buffers_are_rounded_not_truncated():
    # 0.5*3 + 0.5*4 = 3.5 -> rounds to 4 (half to even gives 4); an int cast would give 3.
    a = {"num_batches_tracked": torch.tensor(3)}
    b = {"num_batches_tracked": torch.tensor(4)}
    c = {"num_batches_tracked": torch.tensor(10)}
    assert fedavg([a, b], [1, 1])["num_batches_tracked"].item() == 4
    assert fedavg([a, c], [1, 2])["num_batches_tracked"].item() == 8   # 23/3 = 7.67 -> 8
    assert fedavg([a, c], [1, 2])["num_batches_tracked"].dtype == torch.int64


def test_inputs_are_not_modified():
    a, b = state([1.0, 2.0], [3.0]), state([5.0, 6.0], [7.0])
    before = {k: v.clone() for k, v in a.items()}
    fedavg([a, b], [1, 1])
    assert all(torch.equal(a[k], before[k]) for k in a)


@pytest.mark.parametrize("states, weights, message", [
    ([], [], "empty list"),
    ([state([1.0], [1.0]), {"w": torch.tensor([1.0])}], [1, 1], "different parameter names"),
    ([state([1.0], [1.0]), state([1.0, 2.0], [1.0])], [1, 1], "shape"),
    ([state([1.0], [1.0]), state([float("nan")], [1.0])], [1, 1], "NaN or Inf"),
    ([state([1.0], [1.0]), state([float("inf")], [1.0])], [1, 1], "NaN or Inf"),
    ([state([1.0], [1.0]), state([2.0], [1.0])], [1, -1], "non-negative"),
    ([state([1.0], [1.0]), state([2.0], [1.0])], [0, 0], "all weights are zero"),
    ([state([1.0], [1.0]), state([2.0], [1.0])], [1], "one weight per client"),
])
def test_fedavg_rejects_bad_input_with_a_clear_message(states, weights, message):
    for aggregate in (fedavg, fedavg_loop):
        with pytest.raises(ValueError, match=message):
            aggregate(states, weights)


def test_server_momentum_without_momentum_is_fedavg_and_with_momentum_overshoots():
    w0, avg = state([0.0], [0.0]), state([1.0], [2.0])
    assert torch.allclose(ServerMomentum(lr=1.0, momentum=0.0).step(w0, avg)["w"], avg["w"])
    opt = ServerMomentum(lr=1.0, momentum=0.5)
    w1 = opt.step(w0, avg)                              # v = 1        -> w = 1
    w2 = opt.step(w1, state([2.0], [2.0]))              # v = 0.5 + 1  -> w = 2.5
    assert w2["w"].item() == pytest.approx(2.5)


def test_server_adam_first_step_by_hand():
    # delta = 2; m = 0.1*2 = 0.2; v = 0.01*4 = 0.04; step = lr * 0.2 / (0.2 + tau)
    out = ServerAdam(lr=0.1, beta1=0.9, beta2=0.99, tau=1e-3).step(state([0.0], [0.0]), state([2.0], [0.0]))
    assert out["w"].item() == pytest.approx(0.1 * 0.2 / (0.2 + 1e-3), rel=1e-5)
    assert out["b"].item() == 0.0


@pytest.mark.parametrize("make, message", [
    (lambda: ServerMomentum(lr=0), "lr must be a positive number"),
    (lambda: ServerMomentum(momentum=1.0), "momentum must be in"),
    (lambda: ServerAdam(tau=0), "tau must be a positive number"),
    (lambda: ServerAdam(beta2=1.5), "beta2 must be in"),
])
def test_server_optimizers_reject_bad_hyperparameters(make, message):
    with pytest.raises(ValueError, match=message):
        make()
