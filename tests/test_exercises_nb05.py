"""The checkers of notebook 05: a right answer passes, typical wrong answers get a hint, `...` is "not yet"."""

import math

import pytest

from fedlite.exercises.nb05 import check_dangling_masks, check_noise_std, check_psnr, check_smallest_sigma
from fedlite.privacy.dp import dp_epsilon

HOSPITALS, DROPPED = ["A", "B", "C", "D"], ["B", "D"]
CANDIDATES = [0.5, 1.0, 2.0, 4.0, 8.0]
BUDGET = {"target_epsilon": 5.0, "rounds": 20, "sample_rate": 1.0, "delta": 1e-3}


def test_psnr(capsys):
    right = 10 * math.log10(1 / 0.0025)
    assert check_psnr(right, mse=0.0025)
    assert "✓" in capsys.readouterr().out
    for wrong, hint in [(-right, "wrong sign"), (2 * right, "use 10"), (math.log(400), "log10"),
                        (10 * math.log(400), "log10"), (400.0, "decibels"), (12.0, "peak"), ("x", "peak")]:
        assert not check_psnr(wrong, mse=0.0025)
        out = capsys.readouterr().out
        assert hint in out and "26.02" not in out                         # a hint, never the solution
    assert not check_psnr(..., mse=0.0025)
    assert "not yet" in capsys.readouterr().out


def test_dangling_masks(capsys):
    right = {("A", "B"), ("A", "D"), ("C", "B"), ("C", "D")}
    assert check_dangling_masks(right, HOSPITALS, DROPPED)
    assert check_dangling_masks([("b", "a"), ["D", "A"], ("B", "C"), ("D", "C")], HOSPITALS, DROPPED)
    assert "✓" in capsys.readouterr().out
    for wrong, hint in [(right | {("A", "C")}, "cancels"), (right | {("B", "D")}, "never reaches"),
                        ({("A", "B"), ("C", "D")}, "missing"), ({("A", "B"), ("X", "Y")}, "list the pairs"),
                        ("AB", "set of pairs"), (5, "set of pairs"), ({("A", "B", "C")}, "set of pairs")]:
        assert not check_dangling_masks(wrong, HOSPITALS, DROPPED)
        out = capsys.readouterr().out
        assert hint in out and "('A', 'D')" not in out
    assert not check_dangling_masks(..., HOSPITALS, DROPPED)
    assert "not yet" in capsys.readouterr().out


def test_noise_std(capsys):
    assert check_noise_std(0.05, clip=0.1, noise_multiplier=2.0, clients=4)
    assert "✓" in capsys.readouterr().out
    for wrong, hint in [(0.2, "on the *sum*"), (0.0125, "twice"), (0.5, "units of the clip norm"),
                        (2.0, "units of the clip norm"), (0.1, "not sqrt(m)"), (0.3, "sum divided by m")]:
        assert not check_noise_std(wrong, clip=0.1, noise_multiplier=2.0, clients=4)
        out = capsys.readouterr().out
        assert hint in out and "0.05" not in out
    assert not check_noise_std(None, clip=0.1, noise_multiplier=2.0, clients=4)
    assert "return" in capsys.readouterr().out


def test_smallest_sigma(capsys):
    # answer key straight from the accountant: 20 rounds at sigma 2 spend more than 5, at sigma 4 less
    assert dp_epsilon(2.0, 1.0, 20, 1e-3) > 5.0 >= dp_epsilon(4.0, 1.0, 20, 1e-3)
    assert check_smallest_sigma(4, CANDIDATES, **BUDGET)
    assert "✓" in capsys.readouterr().out
    for wrong, hint in [(8.0, "smaller noise multiplier"), (2.0, "goes over the target"),
                        (0.5, "goes over the target"), (3.0, "pick one of the candidates"),
                        ("four", "one number")]:
        assert not check_smallest_sigma(wrong, CANDIDATES, **BUDGET)
        out = capsys.readouterr().out
        assert hint in out and "sigma = 4" not in out
    assert not check_smallest_sigma(..., CANDIDATES, **BUDGET)
    assert "not yet" in capsys.readouterr().out
    with pytest.raises(ValueError, match="set up wrongly"):
        check_smallest_sigma(0.5, [0.5], target_epsilon=0.01, rounds=20, sample_rate=1.0, delta=1e-3)
