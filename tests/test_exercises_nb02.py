"""The checkers of notebook 02: a right answer passes, typical wrong answers get a hint, `...` is "not yet"."""

import numpy as np

from fedlite.exercises.nb02 import check_fedavg_value, check_most_local_steps, check_unweighted_bias

SIZES, VALUES = [600, 300, 100], [0.2, 0.5, 1.0]   # weighted: 0.12 + 0.15 + 0.10 = 0.37
SETTINGS = [(1, None), (20, None), (1, 10), (5, 50), (2, 32)]


def test_fedavg_value(capsys):
    assert check_fedavg_value(0.37, SIZES, VALUES)
    assert "✓" in capsys.readouterr().out
    for wrong, hint in [(sum(VALUES) / 3, "plain mean"), (1.7, "sum"), (370.0, "divide by n"), (0.5, "n_k / n")]:
        assert not check_fedavg_value(wrong, SIZES, VALUES)
        out = capsys.readouterr().out
        assert hint in out and "0.37" not in out  # a hint, never the solution
    assert not check_fedavg_value(..., SIZES, VALUES)
    assert "not yet" in capsys.readouterr().out


def test_unweighted_bias(capsys):
    bias = sum(VALUES) / 3 - 0.37
    assert check_unweighted_bias(bias, SIZES, VALUES)
    assert "✓" in capsys.readouterr().out
    for wrong, hint in [(-bias, "wrong sign"), (0.37, "difference"), (sum(VALUES) / 3, "difference"),
                        (0.1, "subtract")]:
        assert not check_unweighted_bias(wrong, SIZES, VALUES)
        assert hint in capsys.readouterr().out
    assert not check_unweighted_bias(None, SIZES, VALUES)
    assert "return" in capsys.readouterr().out


def test_most_local_steps(capsys):
    # n_k = 500: steps 1, 20, 50, 50, 2 * ceil(500/32) = 32 -> the answer is 50 (two settings tie).
    assert check_most_local_steps(50, 500, SETTINGS)
    assert check_most_local_steps(np.int64(50), 500, SETTINGS)
    assert "✓" in capsys.readouterr().out
    for wrong, hint in [(1, "full batch"), (20, "full batch"), (32, "another setting"),
                        (2 * 500 / 32, "round n_k / B up"), ((5, 50), "not the setting"), (7, "give the largest")]:
        assert not check_most_local_steps(wrong, 500, SETTINGS)
        out = capsys.readouterr().out
        assert hint in out and "50 local steps" not in out
    assert not check_most_local_steps(..., 500, SETTINGS)
    assert "not yet" in capsys.readouterr().out


def test_most_local_steps_the_notebook_exercise(capsys):
    # n_k = 600: (20, None) 20 steps, (1, 20) 30, (5, 50) 60, (2, 32) 2 * 19 = 38.
    settings = [(20, None), (1, 20), (5, 50), (2, 32)]
    assert check_most_local_steps(60, 600, settings)
    capsys.readouterr()
    for wrong, hint in [(20, "full batch"), (30, "(1, 20)"), (38, "(2, 32)"), (37.5, "round")]:
        assert not check_most_local_steps(wrong, 600, settings)
        assert hint in capsys.readouterr().out
