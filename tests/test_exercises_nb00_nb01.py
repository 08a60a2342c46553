"""The checkers of notebooks 00 and 01: right answers pass, typical mistakes get a hint, `...` says not yet."""

import torch

import fedlite as fl
from fedlite.exercises import nb00, nb01
from fedlite.history import History, Round


def test_fedavg_weight_checker(capsys):
    sizes = [100, 300]
    assert nb00.check_fedavg_weight(0.75, sizes, client=1)
    assert not nb00.check_fedavg_weight(300, sizes, client=1)          # n_k instead of n_k / n
    assert "divide it by n" in capsys.readouterr().out
    assert not nb00.check_fedavg_weight(..., sizes, client=1)
    assert "not yet" in capsys.readouterr().out


def test_positive_share_checker(capsys):
    train = fl.Data(torch.zeros(4, 1), torch.tensor([1, 1, 1, 0]))
    assert nb00.check_positive_share(0.75, train)
    assert not nb00.check_positive_share(0.25, train)
    assert "label 0" in capsys.readouterr().out
    assert not nb00.check_positive_share(75, train)
    assert "fraction" in capsys.readouterr().out


def test_upload_bytes_checker(capsys):
    model = fl.make_model("logreg", seed=0, in_features=3)            # 3*2 + 2 = 8 parameters
    assert nb01.check_upload_bytes(32, model)
    assert not nb01.check_upload_bytes(8, model)
    assert "4 bytes" in capsys.readouterr().out


def test_my_fedavg_checker_accepts_fedavg_and_rejects_the_plain_mean(capsys):
    assert nb01.check_my_fedavg(lambda states, counts: fl.fedavg(states, counts))
    plain = lambda states, counts: {k: sum(s[k] for s in states) / len(states) for k in states[0]}  # noqa: E731
    assert not nb01.check_my_fedavg(plain)
    assert "plain mean" in capsys.readouterr().out
    assert not nb01.check_my_fedavg(lambda states, counts: ...)
    assert "not yet" in capsys.readouterr().out
    assert not nb01.check_my_fedavg(lambda states, counts: 1 / 0)
    assert "ZeroDivisionError" in capsys.readouterr().out


def test_biggest_gain_checker(capsys):
    local = History("local", [Round(1, {"auc": 0.8}, {0: {"auc": 0.6}, 1: {"auc": 0.85}, 2: {"auc": 0.7}})])
    federated = History("fed", [Round(1, {"auc": 0.9})])
    assert nb01.check_biggest_gain(0, local, federated)
    assert not nb01.check_biggest_gain(1, local, federated)
    assert "least" in capsys.readouterr().out
    assert not nb01.check_biggest_gain(2, local, federated)
