"""What every checker shares: None is not `...`, one FedAvg-weight checker for two notebooks, the array guard."""

import numpy as np
import pytest

from fedlite.exercises import check_fedavg_weight, nb00, nb01, nb02, nb03b, nb04a, nb05, nb06, not_one_number


def test_none_gets_a_return_hint_and_the_placeholder_gets_not_yet(capsys):
    sizes = [100, 300]
    assert not check_fedavg_weight(..., sizes, client=1)
    assert "not yet" in capsys.readouterr().out
    assert not check_fedavg_weight(None, sizes, client=1)
    out = capsys.readouterr().out
    assert "return" in out and "not yet" not in out


def test_one_fedavg_weight_checker_for_lists_and_dicts(capsys):
    # unequal sizes: the key is computed here, n_k / n, never typed in
    sizes = {"a": 199, "b": 172, "c": 30, "d": 85}
    expected = {name: n / sum(sizes.values()) for name, n in sizes.items()}
    assert nb00.check_fedavg_weight is nb04a.check_fedavg_weight is check_fedavg_weight
    for name, weight in expected.items():
        assert check_fedavg_weight(weight, sizes, name)
        assert check_fedavg_weight(weight, list(sizes.values()), list(sizes).index(name))
    assert not check_fedavg_weight(0.25, sizes, "c")                     # the equal say
    assert "equal say" in capsys.readouterr().out
    with pytest.raises(ValueError, match="unknown client"):
        check_fedavg_weight(0.1, sizes, "e")


@pytest.mark.parametrize("check", [
    lambda a: check_fedavg_weight(a, [1, 3], client=1),
    lambda a: nb01.check_upload_bytes(a, __import__("fedlite").make_model("logreg", seed=0, in_features=3)),
    lambda a: nb02.check_fedavg_value(a, [1, 3], [0.0, 4.0]),
    lambda a: nb03b.check_federated_mean(a, [(1, 0.0), (3, 4.0)]),
    lambda a: nb05.check_psnr(a, 0.01),
    lambda a: nb05.check_noise_std(a, 0.1, 2.0, 4),
])
def test_checkers_of_one_number_refuse_arrays(check, capsys):
    assert not check(np.array([0.75, 0.25]))
    assert "not a list or an array" in capsys.readouterr().out
    assert not check([0.75])


def test_the_array_guard_itself(capsys):
    assert not_one_number(3.0) is None and not_one_number(np.float64(2.0)) is None
    assert not not_one_number((1, 2))
    assert "not a list or an array" in capsys.readouterr().out


def test_nb06_upload_checker_refuses_arrays(capsys):
    import torch
    assert not nb06.check_quantized_upload(np.array([1, 2]), {"w": torch.zeros(4)}, 8)
    assert "not a list or an array" in capsys.readouterr().out
