"""The checkers of notebook 04b: right answers pass, typical wrong answers get their hint, `...` is "not yet"."""

from __future__ import annotations

import numpy as np
import pytest

from fedlite.exercises import nb04b
from fedlite.exercises.nb04b import SCENARIOS, check_expected_arrivals, check_fl_settings

RIGHT = {"smartwatches": ("cross-device", "horizontal"),
         "hospital_and_insurer": ("cross-silo", "vertical"),
         "pharma_toxicity": ("cross-silo", "horizontal")}


def run(check, capsys, *args):
    result = check(*args)
    return bool(result), capsys.readouterr().out


# --- Exercise 1: updates that arrive per round ------------------------------------------------

@pytest.mark.parametrize("answer", [7, 7.0, 100 * 0.1 * 0.7, np.float64(7)])
def test_arrivals_right_answer_passes(capsys, answer):
    ok, out = run(check_expected_arrivals, capsys, answer, 100, 0.1, 0.3)
    assert ok and "✓" in out


@pytest.mark.parametrize("answer, hint", [
    (10, "asked"),            # forgot the dropouts
    (3, "lost"),              # counted the lost updates
    (70, "fraction q"),       # forgot partial participation
    (0.07, "probability"),    # a probability, not a count
    (0.7, "probability"),
    (5, "q·K"),               # anything else: the general hint
    ([7, 7], "one number"),
])
def test_arrivals_wrong_answers_get_a_targeted_hint(capsys, answer, hint):
    ok, out = run(check_expected_arrivals, capsys, answer, 100, 0.1, 0.3)
    assert not ok and "✗" in out and hint in out


def test_arrivals_untouched_says_not_yet(capsys):
    ok, out = run(check_expected_arrivals, capsys, ..., 100, 0.1, 0.3)
    assert not ok and "not yet" in out


# --- Exercise 2: name the setting --------------------------------------------------------------

def test_settings_right_answer_passes_in_any_order_and_spelling(capsys):
    assert run(check_fl_settings, capsys, RIGHT)[0]
    relaxed = {"smartwatches": ["Horizontal", "cross device"],
               "hospital_and_insurer": ("vertical", "Cross_Silo"),
               "pharma_toxicity": ("cross-silo", "horizontal")}
    ok, out = run(check_fl_settings, capsys, relaxed)
    assert ok and "✓" in out


def test_settings_cover_exactly_the_scenarios():
    assert set(RIGHT) == set(SCENARIOS) == set(nb04b._PARTIES)


def test_answer_key_is_derived_from_the_scenarios_facts():
    """The key is computed (scale from who the parties are, partition from what they share), not stored."""
    assert not hasattr(nb04b, "_SETTINGS")
    assert {name: nb04b._setting_of(p) for name, p in nb04b._PARTIES.items()} == RIGHT


@pytest.mark.parametrize("change, hint", [  # every wrong word of every scenario has its own explanation
    ({"smartwatches": ("cross-silo", "horizontal")}, "not cross-silo; 50,000 watches"),
    ({"smartwatches": ("cross-device", "vertical")}, "not vertical; every watch"),
    ({"hospital_and_insurer": ("cross-device", "vertical")}, "not cross-device; a hospital and an insurer"),
    ({"hospital_and_insurer": ("cross-silo", "horizontal")}, "not horizontal; they hold the *same* patients"),
    ({"pharma_toxicity": ("cross-device", "horizontal")}, "not cross-device; five companies"),
    ({"pharma_toxicity": ("cross-silo", "vertical")}, "not vertical; each company has its *own* molecules"),
    ({"smartwatches": "cross-device horizontal"}, "pair"),
    ({"smartwatches": ("cross-device", "diagonal")}, "pair"),
])
def test_settings_wrong_answers_get_a_targeted_hint(capsys, change, hint):
    ok, out = run(check_fl_settings, capsys, {**RIGHT, **change})
    assert not ok and "✗" in out and hint in out
    name = next(iter(change))
    assert name in out  # the hint says which scenario to look at again


def test_settings_need_a_dict_with_every_scenario(capsys):
    ok, out = run(check_fl_settings, capsys, [("cross-silo", "vertical")])
    assert not ok and "dict" in out
    ok, out = run(check_fl_settings, capsys, {"smartwatches": ("cross-device", "horizontal")})
    assert not ok and "missing" in out and "pharma_toxicity" in out


def test_settings_untouched_says_not_yet(capsys):
    ok, out = run(check_fl_settings, capsys, ...)
    assert not ok and "not yet" in out
