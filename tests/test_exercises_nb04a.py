"""The checkers of notebook 04a: right answers pass, typical wrong answers get their hint, `...` is "not yet"."""

from __future__ import annotations

import numpy as np
import pytest

from fedlite.exercises.nb04a import check_constant_accuracy, check_fedavg_weight

SIZES = {"cleveland": 199, "hungarian": 172, "switzerland": 30, "va": 85}  # FLamby's training splits


def run(check, capsys, *args):
    result = check(*args)
    return bool(result), capsys.readouterr().out


# --- Exercise 1: the Swiss hospital's FedAvg weight ------------------------------------------

@pytest.mark.parametrize("answer", [30 / 486, np.float32(30 / 486), round(30 / 486, 4)])
def test_weight_right_answer_passes(capsys, answer):
    ok, out = run(check_fedavg_weight, capsys, answer, SIZES, "switzerland")
    assert ok and "✓" in out


@pytest.mark.parametrize("answer, hint", [
    (0.25, "equal say"),                 # one vote per hospital
    (100 * 30 / 486, "percentage"),      # a percentage
    (30, "n_k"),                         # forgot to divide
    (30 / 456, "included"),              # left Switzerland out of n
    (16 / 254, "training sets"),         # used the test sets: the general hint
    (np.array([199, 172, 30, 85]) / 486, "one number"),
])
def test_weight_wrong_answers_get_a_targeted_hint(capsys, answer, hint):
    ok, out = run(check_fedavg_weight, capsys, answer, SIZES, "switzerland")
    assert not ok and "✗" in out and hint in out
    assert "6.2%" not in out  # the solution is never printed


def test_weight_of_another_hospital_and_unknown_names(capsys):
    assert run(check_fedavg_weight, capsys, 199 / 486, SIZES, "cleveland")[0]
    with pytest.raises(ValueError, match="unknown client"):
        check_fedavg_weight(0.1, SIZES, "basel")


def test_weight_untouched_says_not_yet(capsys):
    ok, out = run(check_fedavg_weight, capsys, ..., SIZES, "switzerland")
    assert not ok and "not yet" in out


# --- Exercise 2: the accuracy of a constant answer -------------------------------------------

LABELS = np.array([1, 1, 0, 1, 0, 1, 1, 1])  # 6 of 8 are label 1


@pytest.mark.parametrize("answer", [0.75, np.float32(0.75), 6 / 8])
def test_constant_accuracy_right_answer_passes(capsys, answer):
    ok, out = run(check_constant_accuracy, capsys, answer, LABELS, 1)
    assert ok and "✓" in out


@pytest.mark.parametrize("answer, hint", [
    (0.25, "other label"), (75, "percentage"), (6, "count"), (0.5, "count those"),
    (np.array([0.75, 0.25]), "one number"),
])
def test_constant_accuracy_wrong_answers_get_a_targeted_hint(capsys, answer, hint):
    ok, out = run(check_constant_accuracy, capsys, answer, LABELS, 1)
    assert not ok and "✗" in out and hint in out and "0.750" not in out


def test_constant_accuracy_of_the_other_label_and_empty_labels(capsys):
    assert run(check_constant_accuracy, capsys, 0.25, LABELS, 0)[0]
    with pytest.raises(ValueError, match="empty"):
        check_constant_accuracy(0.5, np.array([]))


def test_constant_accuracy_untouched_says_not_yet(capsys):
    ok, out = run(check_constant_accuracy, capsys, ..., LABELS)
    assert not ok and "not yet" in out
