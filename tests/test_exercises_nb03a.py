"""The checkers of notebook 03a: right answers pass, typical wrong answers get their hint, `...` is "not yet"."""

from __future__ import annotations

import numpy as np
import pytest

from fedlite.exercises.nb03a import check_remedy, check_single_class_hospitals

SHARDS = np.array([[0, 471], [136, 335], [0, 471], [235, 236], [235, 236]])  # 2 single-class hospitals


def run(check, capsys, *args):
    result = check(*args)
    return bool(result), capsys.readouterr().out


# --- Exercise 1: single-class hospitals ---------------------------------------------------

def test_single_class_right_answer_passes(capsys):
    ok, out = run(check_single_class_hospitals, capsys, 2, SHARDS)
    assert ok and "✓" in out


def test_single_class_accepts_numpy_scalars(capsys):
    answer = ((SHARDS > 0).sum(axis=1) == 1).sum()
    ok, _ = run(check_single_class_hospitals, capsys, answer, SHARDS)
    assert ok


@pytest.mark.parametrize("answer, hint", [
    (3, "both"),                         # counted the hospitals with two classes
    (np.array([1, 2, 1, 2, 2]), "one number"),  # classes per hospital, not the count
    (4, "for every row"),                # some other number
])
def test_single_class_wrong_answers_get_a_targeted_hint(capsys, answer, hint):
    ok, out = run(check_single_class_hospitals, capsys, answer, SHARDS)
    assert not ok and "✗" in out and hint in out
    assert "2 of 5" not in out  # the solution is never printed


def test_single_class_counting_empty_cells_gets_its_own_hint(capsys):
    counts = np.array([[0, 0, 5], [3, 3, 3]])  # 1 single-class hospital, but 2 empty cells
    ok, out = run(check_single_class_hospitals, capsys, 2, counts)
    assert not ok and "empty cells" in out
    assert run(check_single_class_hospitals, capsys, 1, counts)[0]


def test_single_class_untouched_says_not_yet(capsys):
    ok, out = run(check_single_class_hospitals, capsys, ..., SHARDS)
    assert not ok and "not yet" in out


# --- Exercise 2: the remedy -----------------------------------------------------------------

@pytest.mark.parametrize("answer", ["fedbn", "FedBN", " Fed-BN "])
def test_remedy_right_answer_passes(capsys, answer):
    ok, out = run(check_remedy, capsys, answer)
    assert ok and "✓" in out


@pytest.mark.parametrize("answer, hint", [
    ("fedprox", "label"), ("FedAvgM", "momentum"), ("fedadam", "step size"),
    ("scaffold", "pick one of"), (3, "string"),
])
def test_remedy_wrong_answers_get_a_targeted_hint(capsys, answer, hint):
    ok, out = run(check_remedy, capsys, answer)
    assert not ok and "✗" in out and hint in out


def test_remedy_untouched_says_not_yet(capsys):
    ok, out = run(check_remedy, capsys, ...)
    assert not ok and "not yet" in out
