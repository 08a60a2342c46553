"""The checkers of notebook 07: right answers pass, typical wrong answers get their hint, `...` is "not yet"."""

from __future__ import annotations

import pytest

from fedlite.exercises.nb07 import (
    FEDLITE_NAMES,
    FLOWER_TERMS,
    TOOLS,
    check_flower_matches,
    check_to_ndarrays,
    check_vertical,
)

RIGHT = {"run_federated": "D", "local_train": "C", "aggregate=": "E", "participation=": "A",
         "ClientResult.num_samples": "B"}   # Flower's terms are lettered in alphabetical order


def run(check, capsys, *args):
    result = check(*args)
    return bool(result), capsys.readouterr().out


# --- Exercise 1: to_ndarrays ---------------------------------------------------------------------

@pytest.mark.parametrize("fn", [
    lambda state: [t.detach().cpu().numpy() for t in state.values()],        # shares memory: fine
    lambda state: [t.numpy().copy() for t in state.values()],
    lambda state: tuple(t.detach().numpy() for _, t in state.items()),
])
def test_to_ndarrays_right_answers_pass(capsys, fn):
    ok, out = run(check_to_ndarrays, capsys, fn)
    assert ok and "✓" in out


@pytest.mark.parametrize("fn, hint", [
    (lambda state: {k: t.numpy() for k, t in state.items()}, "not a dict"),
    (lambda state: [t for t in state.values()], "torch tensors"),
    (lambda state: [state[k].numpy() for k in sorted(state)], "sorted by name"),
    (lambda state: [t.numpy() for k, t in state.items() if "running" not in k and "num_batches" not in k],
     "buffers"),
    (lambda state: [t.numpy().astype("float32") for t in state.values()], "dtype"),
    (lambda state: [t.numpy() for t in state.values()][:-2], "entries"),
    (lambda state: [t.numpy() * 2 for t in state.values()], "state.values()"),
    (lambda state: state.values().numpy(), "raised AttributeError"),
    (lambda state: 3, "list of arrays"),
])
def test_to_ndarrays_wrong_answers_get_a_targeted_hint(capsys, fn, hint):
    ok, out = run(check_to_ndarrays, capsys, fn)
    assert not ok and "✗" in out and hint in out


def test_to_ndarrays_untouched_says_not_yet(capsys):
    def my_to_ndarrays(state):
        arrays = ...
        return arrays

    ok, out = run(check_to_ndarrays, capsys, my_to_ndarrays)
    assert not ok and "not yet" in out


# --- Exercise 2: Flower's words ------------------------------------------------------------------

def test_the_options_cover_every_name_once():
    assert set(RIGHT) == set(FEDLITE_NAMES) and sorted(RIGHT.values()) == sorted(FLOWER_TERMS)


def test_the_server_program_and_the_aggregation_step_are_distinct_options():
    # notebook 07's table says run_federated is "a ServerApp that runs a Strategy": the option for
    # aggregate= must name only the combining step, so that no name fits two letters
    assert [k for k, term in FLOWER_TERMS.items() if term.startswith("ServerApp")] == [RIGHT["run_federated"]]
    assert [k for k, term in FLOWER_TERMS.items() if "aggregate_" in term] == [RIGHT["aggregate="]]


@pytest.mark.parametrize("answer", [RIGHT, {k: v.lower() + " " for k, v in RIGHT.items()}])
def test_matches_right_answer_passes(capsys, answer):
    ok, out = run(check_flower_matches, capsys, answer)
    assert ok and "✓" in out


@pytest.mark.parametrize("change, hint", [
    ({"aggregate=": "D", "run_federated": "E"}, "3 of 5 right. Look again at run_federated"),
    ({"aggregate=": "D"}, "use each letter once"),
    ({"aggregate=": "D"}, "only the rule that combines"),
    ({"run_federated": "E"}, "which Flower object is the server program"),
    ({"participation=": "C"}, "share of clients"),
    ({"local_train": "B", "ClientResult.num_samples": "C"}, "runs at a hospital"),
    ({"participation=": "B", "ClientResult.num_samples": "A"}, "share of clients"),
])
def test_matches_wrong_answers_get_a_targeted_hint(capsys, change, hint):
    ok, out = run(check_flower_matches, capsys, {**RIGHT, **change})
    assert not ok and "✗" in out and hint in out
    for name in change:  # the right letter is never printed
        assert f"'{RIGHT[name]}'" not in out and f": {RIGHT[name]}" not in out


def test_matches_a_letter_used_twice_is_refused_even_if_one_use_is_right(capsys):
    ok, out = run(check_flower_matches, capsys, {name: "B" for name in FEDLITE_NAMES})
    assert not ok and "use each letter once" in out and "of 5 right" not in out


@pytest.mark.parametrize("answer, hint", [
    ("DCEAB", "dict"),
    ({k: v for k, v in RIGHT.items() if k != "participation="}, "missing: participation="),
    ({**RIGHT, "participation=": "Z"}, "use the letters"),
])
def test_matches_malformed_answers_say_what_to_give(capsys, answer, hint):
    ok, out = run(check_flower_matches, capsys, answer)
    assert not ok and hint in out


def test_matches_untouched_says_not_yet(capsys):
    ok, out = run(check_flower_matches, capsys, ...)
    assert not ok and "not yet" in out


# --- Exercise 3: the vertical federation ---------------------------------------------------------

@pytest.mark.parametrize("answer", [("vertical", "FATE"), ["Vertical ", "fate"], ("vertical", "F.A.T.E.")])
def test_vertical_right_answer_passes(capsys, answer):
    ok, out = run(check_vertical, capsys, answer)
    assert ok and "✓" in out and "private set intersection" in out


@pytest.mark.parametrize("answer, hint", [
    (("horizontal", "FATE"), "same patients"),
    (("vertical", "NVFlare"), "vertical-FL example"),
    (("vertical", "Flower"), "families of components"),
    (("vertical", "tff"), "many devices"),
    (("vertical", "Fed-BioMed"), "own patients"),
    (("vertical", "FLamby"), "benchmark"),
    (("vertical", "OpenMined"), "reviewed code"),
    (("vertical", "Substra"), "pick one of"),
    (("diagonal", "FATE"), '"horizontal" or "vertical"'),
    ("FATE", "pair of strings"),
])
def test_vertical_wrong_answers_get_a_targeted_hint(capsys, answer, hint):
    ok, out = run(check_vertical, capsys, answer)
    assert not ok and "✗" in out and hint in out


def test_every_tool_but_fate_has_its_own_hint(capsys):
    for tool in TOOLS:
        if tool != "FATE":
            ok, out = run(check_vertical, capsys, ("vertical", tool))
            assert not ok and "pick one of" not in out, tool


def test_the_keys_are_derived_not_written_down():
    """Issue 12: the answer keys come from the dictionary and the scenario, not from literal letters."""
    import inspect

    import fedlite.exercises.nb07 as nb07
    source = inspect.getsource(nb07)
    assert "_MATCHES" not in source and '"fate")' not in source.lower()
    assert nb07._answer_key() == RIGHT
    assert nb07._expected(nb07.SCENARIO) == ("vertical", "FATE")
    same_columns = {"a": ({"p1"}, {"x"}), "b": ({"p2"}, {"x"})}
    assert nb07._kind(same_columns) == "horizontal"


def test_vertical_untouched_says_not_yet(capsys):
    ok, out = run(check_vertical, capsys, ...)
    assert not ok and "not yet" in out
