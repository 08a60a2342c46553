"""The checkers of notebook 03b: right answers pass, typical wrong answers get their hint, `...` is "not yet"."""

from __future__ import annotations

import numpy as np
import pytest

from fedlite.exercises.nb03b import check_federated_mean, check_federated_std

AGES = [(199, 199 * 54.0), (172, 172 * 47.0), (30, 30 * 56.0), (85, 85 * 59.0)]


def run(check, capsys, *args):
    result = check(*args)
    return bool(result), capsys.readouterr().out


# --- Exercise 1: the federated mean ---------------------------------------------------------

def test_federated_mean_right_answer_passes(capsys):
    expected = sum(s for _, s in AGES) / sum(n for n, _ in AGES)
    ok, out = run(check_federated_mean, capsys, expected, AGES)
    assert ok and "✓" in out


@pytest.mark.parametrize("wrong, hint", [
    (np.mean([54.0, 47.0, 56.0, 59.0]), "plain average"),            # unweighted mean of means
    (sum(s for _, s in AGES), "total"),                              # forgot to divide
    (sum(s for _, s in AGES) / len(AGES), "number of hospitals"),    # divided by K, not N
    (50.0, "(s_1 + ... + s_K)"),                                     # anything else: the general hint
])
def test_federated_mean_wrong_answers_get_a_targeted_hint(capsys, wrong, hint):
    ok, out = run(check_federated_mean, capsys, wrong, AGES)
    assert not ok and "✗" in out and hint in out


def test_federated_mean_untouched_says_not_yet(capsys):
    ok, out = run(check_federated_mean, capsys, ..., AGES)
    assert not ok and "not yet" in out


# --- Exercise 2: the federated standard deviation ---------------------------------------------

# Three hospitals with UNEQUAL sizes; the answer key is numpy's std of the pooled values.
VALUES = [np.array([50.0, 60.0, 70.0]), np.array([30.0, 34.0]), np.array([80.0, 41.0, 59.0, 63.0, 77.0])]
SUMS = [(len(v), v.sum(), (v ** 2).sum()) for v in VALUES]
POOLED_STD = np.concatenate(VALUES).std()  # population std (ddof=0), as federated_mean_std computes it


def test_federated_std_right_answer_passes(capsys):
    ok, out = run(check_federated_std, capsys, POOLED_STD, SUMS)
    assert ok and "✓" in out


@pytest.mark.parametrize("wrong, hint", [
    (POOLED_STD ** 2, "variance"),
    (np.sqrt(sum(q for _, _, q in SUMS) / sum(n for n, _, _ in SUMS)), "squared mean"),
    (np.mean([v.std() for v in VALUES]), "own standard deviations"),
    (np.average([v.std() for v in VALUES], weights=[len(v) for v in VALUES]), "own standard deviations"),
    (1.0, "sqrt((sum of q_k) / N - mean^2)"),
])
def test_federated_std_wrong_answers_get_a_targeted_hint(capsys, wrong, hint):
    ok, out = run(check_federated_std, capsys, wrong, SUMS)
    assert not ok and "✗" in out and hint in out
    assert f"{POOLED_STD:.2f}" not in out  # the solution is never printed on a wrong answer


def test_federated_std_rejects_malformed_sums():
    with pytest.raises(ValueError, match="triples"):
        check_federated_std(1.0, [(3, 1.0)])


def test_federated_std_untouched_says_not_yet(capsys):
    ok, out = run(check_federated_std, capsys, ..., SUMS)
    assert not ok and "not yet" in out
