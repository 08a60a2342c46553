"""The checkers of notebook 06: a right answer passes, typical wrong answers get a hint, `...` is "not yet"."""

from __future__ import annotations

import numpy as np
import pytest
import torch

from fedlite.robustness.compression import quantized_bytes
from fedlite.exercises.nb06 import check_on_time, check_quantized_upload, check_robust_by_hand

# three tensors of 150, 7 and 1 numbers: at 4 bits, levels take 75 + 4 + 1 bytes, plus 8 bytes each
STATE = {"a": torch.zeros(3, 50), "b": torch.zeros(7), "c": torch.zeros(1)}
RIGHT_4BIT = (75 + 8) + (4 + 8) + (1 + 8)
EIGHT_BIT = (150 + 8) + (7 + 8) + (1 + 8)

NAMES = ["cleveland", "hungarian", "switzerland", "va"]
SIZES, SPEEDS, DEADLINE = [199, 172, 30, 85], [60.0, 30.0, 10.0, 40.0], 4.0   # 3.32 s, 5.73 s, 3 s, 2.13 s
ON_TIME = ["cleveland", "switzerland", "va"]

VALUES = [0.8, 1.1, 1.0, 1.4, -40.0]
RIGHT_PAIR = (1.0, (0.8 + 1.0 + 1.1) / 3)


def run(check, capsys, *args, **kwargs):
    result = check(*args, **kwargs)
    return bool(result), capsys.readouterr().out


# --- Exercise 1: quantized upload -------------------------------------------------------------------

def test_quantized_upload_right_answers_pass(capsys):
    assert RIGHT_4BIT == quantized_bytes(STATE, bits=4)
    ok, out = run(check_quantized_upload, capsys, RIGHT_4BIT, STATE, bits=4)
    assert ok and "✓" in out
    assert run(check_quantized_upload, capsys, np.int64(RIGHT_4BIT), STATE, bits=4)[0]
    assert run(check_quantized_upload, capsys, EIGHT_BIT, STATE, bits=8)[0]


@pytest.mark.parametrize("answer, hint", [
    (75 + 4 + 1, "8 bytes) per tensor"),              # forgot lo and step
    (4 * 158, "float32 update in bytes"),             # 4-bit in bits coincides with float32 bytes
    (4 * 158 + 64 * 3, "counts bits"),                # bits, with lo and step as 64 bits
    (EIGHT_BIT, "8-bit size"),                        # the 8-bit answer
    (100, "rounded up"),                              # anything else: the general hint
    ("lots", "rounded up"),
])
def test_quantized_upload_wrong_answers_get_a_targeted_hint(capsys, answer, hint):
    ok, out = run(check_quantized_upload, capsys, answer, STATE, bits=4)
    assert not ok and "✗" in out and hint in out
    assert str(RIGHT_4BIT) not in out


def test_quantized_upload_float32_hint_when_bits_differ(capsys):
    ok, out = run(check_quantized_upload, capsys, 4 * 158, STATE, bits=8)
    assert not ok and "uncompressed float32" in out


def test_quantized_upload_untouched_says_not_yet(capsys):
    ok, out = run(check_quantized_upload, capsys, ..., STATE, bits=4)
    assert not ok and "not yet" in out


# --- Exercise 2: who reports in time ----------------------------------------------------------------

@pytest.mark.parametrize("answer", [ON_TIME, ["VA", " Cleveland ", "switzerland"], {0, 2, 3}, (3, "switzerland", 0)])
def test_on_time_right_answers_pass(capsys, answer):
    ok, out = run(check_on_time, capsys, answer, SIZES, SPEEDS, DEADLINE, NAMES)
    assert ok and "✓" in out


@pytest.mark.parametrize("answer, hint", [
    (["hungarian"], "miss the deadline"),                       # the late ones
    (["cleveland", "hungarian", "va"], "fast machine"),         # the three fastest machines
    (["switzerland", "va", "hungarian"], "few patients"),       # the three smallest hospitals
    (["va"], "seconds = n_k / speed_k"),                        # anything else
    ("va", "list of hospital names"),
    (["mayo"], "list of hospital names"),
    (7, "list of hospital names"),
])
def test_on_time_wrong_answers_get_a_targeted_hint(capsys, answer, hint):
    ok, out = run(check_on_time, capsys, answer, SIZES, SPEEDS, DEADLINE, NAMES)
    assert not ok and "✗" in out and hint in out
    assert "switzerland, va" not in out


def test_on_time_inverted_division_gets_its_hint(capsys):
    # speed / n is tiny for everybody, so "everyone" is what the inverted division gives
    ok, out = run(check_on_time, capsys, NAMES, SIZES, SPEEDS, DEADLINE, NAMES)
    assert not ok and "not speed_k / n_k" in out


def test_on_time_untouched_says_not_yet(capsys):
    ok, out = run(check_on_time, capsys, ..., SIZES, SPEEDS, DEADLINE, NAMES)
    assert not ok and "not yet" in out


# --- Exercise 3: median and trimmed mean by hand -----------------------------------------------------

def test_robust_by_hand_right_answer_passes(capsys):
    ok, out = run(check_robust_by_hand, capsys, RIGHT_PAIR, VALUES, beta=0.2)
    assert ok and "✓" in out
    assert run(check_robust_by_hand, capsys, np.array(RIGHT_PAIR), VALUES, beta=0.2)[0]


@pytest.mark.parametrize("answer, hint", [
    ((1.0, 1.075), "not only the suspicious one"),                      # dropped only the attacker
    ((1.0, float(np.mean(VALUES))), "plain mean, nothing trimmed"),
    ((1.0, 2.0), "drop floor(beta * K) from each end"),
    ((1.0, float(np.mean(VALUES))) [::-1], "plain mean for the median"),
    ((0.5, 1.0), "take the middle one"),
    (1.0, "pair of numbers"),
    ((1.0, 2.0, 3.0), "pair of numbers"),
])
def test_robust_by_hand_wrong_answers_get_a_targeted_hint(capsys, answer, hint):
    ok, out = run(check_robust_by_hand, capsys, answer, VALUES, beta=0.2)
    assert not ok and "✗" in out and hint in out
    assert "0.9667" not in out


def test_robust_by_hand_unsorted_middle_gets_its_hint(capsys):
    shuffled = [1.4, 0.8, -40.0, 1.1, 1.0]              # the middle of the unsorted list is the attacker's
    ok, out = run(check_robust_by_hand, capsys, (-40.0, RIGHT_PAIR[1]), shuffled, beta=0.2)
    assert not ok and "after *sorting*" in out
    assert run(check_robust_by_hand, capsys, RIGHT_PAIR, shuffled, beta=0.2)[0]


def test_robust_by_hand_untouched_says_not_yet(capsys):
    ok, out = run(check_robust_by_hand, capsys, ..., VALUES, beta=0.2)
    assert not ok and "not yet" in out
