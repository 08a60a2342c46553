"""The checkers of notebook 03b: right answers pass, typical wrong answers get their hint, `...` is "not yet"."""

from __future__ import annotations

import numpy as np
import pytest

from fedlite.exercises.nb03b import check_federated_mean, check_remedy

AGES = [(199, 199 * 54.0), (172, 172 * 47.0), (30, 30 * 56.0), (85, 85 * 59.0)]


def run(check, capsys, *args):
    result = check(*args)
    return bool(result), capsys.readouterr().out


# --- Exercise 2: the federated mean ---------------------------------------------------------

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


# --- Exercise 1: the remedy -----------------------------------------------------------------

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
