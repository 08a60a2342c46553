"""Metrics against scikit-learn and a naive pair count; models' shapes, sizes and seeding."""

import itertools
import math

import pytest
import torch
from sklearn.metrics import roc_auc_score

import fedlite as fl
from fedlite.metrics import accuracy, evaluate, evaluate_clients, macro_auc, roc_auc
from fedlite.models import MODELS, count_parameters
from fedlite.state import state_bytes


def naive_auc(scores, y):
    """Answer key: the fraction of (positive, negative) pairs ranked correctly, ties = 1/2."""
    pos = [s for s, t in zip(scores, y) if t == 1]
    neg = [s for s, t in zip(scores, y) if t == 0]
    wins = sum(1.0 if p > n else 0.5 if p == n else 0.0 for p, n in itertools.product(pos, neg))
    return wins / (len(pos) * len(neg))


def test_auc_by_hand():
    # Positives scored 0.9 and 0.4, negatives 0.5 and 0.1: 3 of 4 pairs in order.
    assert roc_auc(torch.tensor([0.9, 0.4, 0.5, 0.1]), torch.tensor([1, 1, 0, 0])) == pytest.approx(0.75)


@pytest.mark.parametrize("seed", range(5))
def test_auc_matches_sklearn_and_pair_count_with_ties(seed):
    g = torch.Generator().manual_seed(seed)
    y = torch.randint(0, 2, (60,), generator=g)
    scores = torch.randint(0, 8, (60,), generator=g).float() / 8 + 0.2 * y   # many ties
    ours = roc_auc(scores, y)
    assert ours == pytest.approx(roc_auc_score(y.numpy(), scores.numpy()), abs=1e-12)
    assert ours == pytest.approx(naive_auc(scores.tolist(), y.tolist()), abs=1e-12)


def test_auc_is_nan_with_one_class_and_multiclass_matches_sklearn():
    assert roc_auc(torch.tensor([0.1, 0.2]), torch.tensor([1, 1])) != roc_auc(torch.tensor([0.1, 0.2]), torch.tensor([1, 1]))
    g = torch.Generator().manual_seed(0)
    probs = torch.rand(90, 3, generator=g).softmax(1)
    y = torch.arange(90) % 3
    expected = roc_auc_score(y.numpy(), probs.numpy(), multi_class="ovr", average="macro")
    assert macro_auc(probs, y) == pytest.approx(expected, abs=1e-12)


def test_accuracy_and_evaluate():
    logits = torch.tensor([[2.0, 0.0], [0.0, 1.0], [3.0, 1.0], [0.0, 5.0]])
    y = torch.tensor([0, 1, 1, 1])
    assert accuracy(logits, y) == 0.75
    with pytest.raises(ValueError, match="matching non-empty"):
        accuracy(logits, y[:2])
    # evaluate, by hand: a linear model whose logits are its inputs, on four patients
    model = torch.nn.Linear(2, 2)
    with torch.no_grad():
        model.weight.copy_(torch.eye(2))
        model.bias.zero_()
    x = torch.tensor([[2.0, 0.0], [0.0, 1.0], [3.0, 1.0], [0.0, 5.0]])
    out = evaluate(model, fl.Data(x, torch.tensor([0, 1, 1, 0])))
    # -log p(y) = log(1 + exp(l_other - l_y)), with l_1 - l_0 = -2, 1, -2, 5
    loss = (math.log1p(math.exp(-2)) + math.log1p(math.exp(-1)) + math.log1p(math.exp(2)) + math.log1p(math.exp(5))) / 4
    assert out["loss"] == pytest.approx(loss, rel=1e-6)
    assert out["accuracy"] == 0.5                      # patients 0 and 1 right, 2 and 3 wrong
    # P(sick): positives 0.73, 0.12; negatives 0.12, 0.99 -> pairs ranked right: 1 + 0.5 (a tie) of 4
    assert out["auc"] == pytest.approx(1.5 / 4)


@pytest.mark.parametrize("name, kwargs, x_shape", [
    ("logreg", {"in_features": 13}, (5, 13)),
    ("mlp", {"in_features": 13}, (5, 13)),
    ("cnn", {}, (5, 1, 28, 28)),
    ("cnn", {"norm": True, "num_classes": 3}, (5, 1, 28, 28)),
    ("keras_cnn", {}, (5, 1, 28, 28)),
])
def test_models_give_one_logit_per_class(name, kwargs, x_shape):
    model = fl.make_model(name, seed=0, **kwargs)
    assert model(torch.zeros(x_shape)).shape == (5, kwargs.get("num_classes", 2))


def test_model_sizes_are_as_documented():
    small, keras = fl.make_model("cnn", seed=0), fl.make_model("keras_cnn", seed=0)
    assert 95_000 <= count_parameters(small) <= 110_000
    assert 1_100_000 <= count_parameters(keras) <= 1_300_000
    assert state_bytes(small.state_dict()) == 4 * count_parameters(small)


def test_make_model_is_seeded_and_leaves_the_global_rng_alone():
    torch.manual_seed(123)
    expected_next = torch.rand(1)
    torch.manual_seed(123)
    a, b, c = (fl.make_model("cnn", seed=s) for s in (1, 1, 2))
    assert torch.rand(1).item() == expected_next.item()
    assert all(torch.equal(a.state_dict()[k], b.state_dict()[k]) for k in a.state_dict())
    assert not torch.equal(a.state_dict()["classifier.1.weight"], c.state_dict()["classifier.1.weight"])
    with pytest.raises(ValueError, match="unknown model 'resnet'.*choose one of"):
        fl.make_model("resnet", seed=0)
    assert set(MODELS) == {"logreg", "mlp", "cnn", "keras_cnn"}


def test_evaluate_clients_is_evaluate_on_each_clients_data_with_one_or_one_model_each():
    gen = torch.Generator().manual_seed(0)
    parts = [fl.make_data(torch.randn(20, 6, generator=gen), torch.randint(0, 2, (20,), generator=gen))
             for _ in range(3)]
    models = [fl.make_model("logreg", seed=s, in_features=6) for s in range(3)]
    assert evaluate_clients(models[0], parts) == [evaluate(models[0], p) for p in parts]
    assert evaluate_clients(models, parts) == [evaluate(m, p) for m, p in zip(models, parts)]
    assert evaluate_clients(models, parts) != evaluate_clients(models[0], parts)
    with pytest.raises(ValueError, match="one model, or one per client"):
        evaluate_clients(models[:2], parts)
