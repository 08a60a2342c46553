"""The checkers of notebook 03a: right answers pass, typical wrong answers get their hint, `...` is "not yet"."""

from __future__ import annotations

import numpy as np
import pytest

from fedlite.exercises.nb03a import check_label_skew, check_single_class_hospitals
from fedlite.measure import label_skew

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


# --- Exercise 2: the label skew by hand -------------------------------------------------------

# Three hospitals of UNEQUAL size (40, 60, 30 samples), worked by hand: the overall mix is
# p = (4/13, 9/13); the distances 1/2 sum_c |p_kc - p_c| are |1/4 - 4/13| = 3/52, |1/2 - 4/13| = 5/26
# and 4/13; weighted by 40/130, 60/130, 30/130 they sum to 30/169.
HAND = np.array([[10, 30], [30, 30], [0, 30]])
SKEW = 30 / 169


def test_the_hand_key_equals_fedlite_label_skew():
    assert label_skew(HAND) == pytest.approx(SKEW, rel=1e-12)


@pytest.mark.parametrize("answer", [SKEW, np.float32(SKEW), round(SKEW, 4)])
def test_label_skew_right_answer_passes(capsys, answer):
    ok, out = run(check_label_skew, capsys, answer, HAND)
    assert ok and "✓" in out


@pytest.mark.parametrize("wrong, hint", [
    ((3 / 52 + 5 / 26 + 4 / 13) / 3, "plain average"),       # unweighted mean of the distances
    (2 * SKEW, "factor 1/2"),                               # forgot the 1/2
    (np.array([3 / 52, 5 / 26, 4 / 13]), "one number"),     # one value per hospital
    (0.5, "n_k / n-weighted sum"),                          # anything else: the general hint
])
def test_label_skew_wrong_answers_get_a_targeted_hint(capsys, wrong, hint):
    ok, out = run(check_label_skew, capsys, wrong, HAND)
    assert not ok and "✗" in out and hint in out
    assert f"{SKEW:.3f}" not in out  # the solution is never printed on a wrong answer


def test_label_skew_rejects_an_empty_hospital():
    with pytest.raises(ValueError, match="every hospital"):
        check_label_skew(0.1, np.array([[1, 2], [0, 0]]))


def test_label_skew_untouched_says_not_yet(capsys):
    ok, out = run(check_label_skew, capsys, ..., HAND)
    assert not ok and "not yet" in out
