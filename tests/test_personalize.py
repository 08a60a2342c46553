"""Local fine-tuning: the plain reference (copy, then local_train), and what personalization must do."""

from dataclasses import replace

import pytest
import torch

import fedlite as fl
from fedlite.client import LocalConfig, local_train
from fedlite.metrics import evaluate
from fedlite.state import copy_state, distance
from fedlite.heterogeneity.personalize import fine_tune, fine_tune_all
from fedlite.simulation import round_seed

CONFIG = LocalConfig(lr=0.1, batch_size=8)


def blobs(n=80, d=5, seed=0, flip=False):
    """Two Gaussian classes; ``flip`` swaps the labels (a hospital whose patients differ from the rest)."""
    g = torch.Generator().manual_seed(seed)
    y = torch.arange(n) % 2
    x = torch.randn(n, d, generator=g) + (2 * y[:, None] - 1) * 1.5
    return fl.Data(x, 1 - y if flip else y)


def states_equal(a, b):
    return a.keys() == b.keys() and all(torch.equal(a[k], b[k]) for k in a)


def test_zero_epochs_is_a_copy_of_the_global_model():
    model = fl.make_model("logreg", seed=0, in_features=5)
    personal = fine_tune(model, blobs(), epochs=0, local=CONFIG, seed=0)
    assert personal is not model
    assert states_equal(personal.state_dict(), model.state_dict())


def test_fine_tune_equals_copy_then_local_train_and_leaves_the_global_model_alone():
    model = fl.make_model("mlp", seed=1, in_features=5)
    before = copy_state(model)
    personal = fine_tune(model, blobs(), epochs=3, local=CONFIG, seed=7)
    # Answer key: the plain reference, written out by hand.
    reference = fl.make_model("mlp", seed=1, in_features=5)
    local_train(reference, blobs(), replace(CONFIG, epochs=3), seed=7)
    assert states_equal(personal.state_dict(), reference.state_dict())
    assert states_equal(model.state_dict(), before)


def test_fine_tuning_adapts_to_a_hospital_that_differs_from_the_federation():
    # The global model learned the common rule; this hospital's labels are the opposite.
    model = fl.make_model("logreg", seed=0, in_features=5)
    local_train(model, blobs(seed=1), replace(CONFIG, epochs=5), seed=0)
    odd_hospital = blobs(seed=2, flip=True)
    personal = fine_tune(model, odd_hospital, epochs=5, local=CONFIG, seed=0)
    assert evaluate(model, odd_hospital)["accuracy"] < 0.2
    assert evaluate(personal, odd_hospital)["accuracy"] > 0.8


def test_a_ditto_style_proximal_term_keeps_the_personal_model_closer_to_the_global_one():
    model = fl.make_model("logreg", seed=0, in_features=5)
    data = blobs(seed=3, flip=True)
    free = fine_tune(model, data, epochs=5, local=CONFIG, seed=0)
    anchored = fine_tune(model, data, epochs=5, local=replace(CONFIG, mu=5.0), seed=0)
    assert distance(anchored.state_dict(), model.state_dict()) < distance(free.state_dict(), model.state_dict())


def test_batchnorm_statistics_are_personalized_too():
    model = fl.make_model("cnn", seed=0, norm=True)
    g = torch.Generator().manual_seed(0)
    data = fl.Data(torch.rand(16, 1, 28, 28, generator=g), torch.arange(16) % 2)
    personal = fine_tune(model, data, epochs=1, local=CONFIG, seed=0)
    key = "features.1.running_mean"
    assert not torch.equal(personal.state_dict()[key], model.state_dict()[key])
    assert torch.equal(model.state_dict()[key], torch.zeros_like(model.state_dict()[key]))


def test_fine_tune_all_gives_each_hospital_its_own_seeded_model():
    model = fl.make_model("logreg", seed=0, in_features=5)
    clients = [blobs(seed=s) for s in range(3)]
    personal = fine_tune_all(model, clients, epochs=2, local=CONFIG, seed=4)
    assert len(personal) == 3
    for k, (p, data) in enumerate(zip(personal, clients)):
        expected = fine_tune(model, data, epochs=2, local=CONFIG, seed=round_seed(4, 0, k))
        assert states_equal(p.state_dict(), expected.state_dict())


@pytest.mark.parametrize("epochs", [-1, 1.5, "3", True])
def test_bad_epochs_are_refused(epochs):
    with pytest.raises(ValueError, match="epochs"):
        fine_tune(fl.make_model("logreg", seed=0, in_features=5), blobs(), epochs=epochs, seed=0)


def test_empty_inputs_are_refused():
    model = fl.make_model("logreg", seed=0, in_features=5)
    empty = fl.Data(torch.zeros(0, 5), torch.zeros(0, dtype=torch.long))
    with pytest.raises(ValueError, match="no training samples"):
        fine_tune(model, empty, epochs=1, seed=0)
    with pytest.raises(ValueError, match="no clients"):
        fine_tune_all(model, [], epochs=1, seed=0)
