"""Checks for the exercises of ``07_where_next``."""

from __future__ import annotations

from collections.abc import Callable, Mapping
from typing import Any

import numpy as np
import torch

from fedlite.exercises import Checked, not_a_complete_dict, unanswered, verdict
from fedlite.interop import to_ndarrays
from fedlite.models import make_model

# --- Exercise 1: the conversion every framework needs -------------------------------------------


def _reference_state() -> tuple[dict[str, torch.Tensor], int]:
    """A CNN with BatchNorm (buffers, an int64 counter, keys not in sorted order) and its parameter count."""
    model = make_model("cnn", seed=0, norm=True)
    return model.state_dict(), len(list(model.parameters()))


def _same(arrays: list[Any], expected: list[np.ndarray]) -> bool:
    return len(arrays) == len(expected) and all(
        np.shape(a) == e.shape and np.array_equal(np.asarray(a), e) for a, e in zip(arrays, expected))


def check_to_ndarrays(fn: Callable[[Mapping[str, torch.Tensor]], Any]) -> Checked:
    """Exercise: the learner's ``state -> list of arrays``, tested on a CNN with BatchNorm buffers."""
    state, num_parameters = _reference_state()
    try:
        out = fn(state)
    except Exception as err:  # noqa: BLE001 (a learner's bug: report it, don't crash the notebook)
        return verdict(False, "", f"your function raised {type(err).__name__}: {err}")
    if unanswered(out):
        return Checked(False)
    expected = to_ndarrays(state)
    if isinstance(out, Mapping):
        return verdict(False, "", "return a list, not a dict: frameworks send the arrays without their names, "
                                  "in the state's order")
    if not isinstance(out, (list, tuple)):
        return verdict(False, "", f"return a list of arrays, one per entry of the state; got {type(out).__name__}")
    if len(out) == num_parameters != len(expected):
        return verdict(False, "", "that has one array per parameter; a state_dict also holds buffers (BatchNorm's "
                                  "running mean, variance and counter), and they must travel too")
    if len(out) != len(expected):
        return verdict(False, "", f"this state has {len(expected)} entries, your list has {len(out)}; "
                                  "one array per entry of state.values()")
    if any(isinstance(a, torch.Tensor) for a in out):
        return verdict(False, "", "those are still torch tensors; turn each one into a NumPy array "
                                  "(t.detach().cpu().numpy())")
    by_name = [state[k].numpy() for k in sorted(state)]
    if _same(list(out), by_name) and not _same(list(out), expected):
        return verdict(False, "", "the arrays are sorted by name; keep the state's own order, because the "
                                  "receiver zips them with its own state_dict() keys")
    if any(np.asarray(a).dtype != e.dtype for a, e in zip(out, expected)):
        return verdict(False, "", "keep each tensor's dtype: the BatchNorm counter is an integer, the weights "
                                  "are float32")
    return verdict(_same(list(out), expected),
                   f"{len(expected)} arrays, buffers included, in the state's order: exactly what "
                   "fedlite.interop.to_ndarrays returns",
                   "go through state.values() in order and convert each tensor with .detach().cpu().numpy()")


# --- Exercise 2: Flower's words for fedlite's -----------------------------------------------------

_DICTIONARY = (  # (fedlite name, Flower's term for it, the hint for a learner who got this one wrong)
    ("run_federated", "ServerApp: the server-side program that runs the rounds with its Strategy",
     "run_federated is the whole server side, the program that runs every round; which Flower object is the "
     "server program?"),
    ("local_train", "NumPyClient.fit",
     "local_train runs at a hospital, on its own data; which option runs on a client?"),
    ("aggregate=", "Strategy.aggregate_train (aggregate_fit in the NumPyClient-era API): only the step that "
                   "combines the updates",
     "aggregate= is only the rule that combines the updates, one step of the round, not the whole server "
     "program"),
    ("participation=", "fraction_train (fraction_fit in the NumPyClient-era API)",
     "participation= is a number: the share of clients sampled in a round"),
    ("ClientResult.num_samples", "num_examples, the second value that fit returns",
     "n_k is what the weights n_k / n are made of; which value does a client send back next to its weights?"),
)

FLOWER_TERMS = {chr(ord("A") + i): term
                for i, term in enumerate(sorted((t for _, t, _ in _DICTIONARY), key=str.casefold))}
"""The options of the matching exercise, by letter: Flower's terms in alphabetical order."""

FEDLITE_NAMES = tuple(name for name, _, _ in _DICTIONARY)
"""The fedlite names to match, in the order the exercise lists them."""

_MATCH_HINTS = {name: hint for name, _, hint in _DICTIONARY}


def _answer_key() -> dict[str, str]:
    """``{fedlite name: letter}``, looked up from the dictionary and the letters the options got."""
    letter_of = {term: letter for letter, term in FLOWER_TERMS.items()}
    return {name: letter_of[term] for name, term, _ in _DICTIONARY}


def check_flower_matches(answer: Any) -> Checked:
    """Exercise: match each fedlite name with Flower's term (letters of :data:`FLOWER_TERMS`)."""
    if unanswered(answer):
        return Checked(False)
    hint = not_a_complete_dict(answer, FEDLITE_NAMES, ask="give a letter for every fedlite name",
                               example='{fedlite name: letter}, e.g. {"run_federated": "?", ...}')
    if hint is not None:
        return hint
    key = _answer_key()
    letters = {name: str(answer[name]).strip().upper() for name in FEDLITE_NAMES}
    unknown = sorted({v for v in letters.values() if v not in FLOWER_TERMS})
    if unknown:
        return verdict(False, "", f"use the letters {', '.join(FLOWER_TERMS)}; got {', '.join(map(repr, unknown))}")
    shared = [name for name in FEDLITE_NAMES if list(letters.values()).count(letters[name]) > 1]
    if shared:  # at least one of them is wrong, since the right answer uses every letter once
        first_wrong = next(name for name in shared if letters[name] != key[name])
        return verdict(False, "", f"use each letter once; one letter is given to more than one of {', '.join(shared)}. "
                                  f"{_MATCH_HINTS[first_wrong]}")
    wrong = [name for name in FEDLITE_NAMES if letters[name] != key[name]]
    if not wrong:
        return verdict(True, "every fedlite name has its Flower counterpart; the loop, the client step and the "
                             "weights are the same ideas under other names", "")
    right = len(FEDLITE_NAMES) - len(wrong)
    return verdict(False, "", f"{right} of {len(FEDLITE_NAMES)} right. Look again at {wrong[0]}: "
                              f"{_MATCH_HINTS[wrong[0]]}")


# --- Exercise 3: a vertical federation ------------------------------------------------------------

TOOLS = ("Flower", "TensorFlow Federated", "NVFlare", "Fed-BioMed", "FLamby", "FATE", "PySyft")
"""The tools the exercise may name (OpenMined is the organisation behind PySyft)."""

_BUILT_AROUND = {  # which split of the data each tool's own component library is built around (notebook 07's tour)
    "Flower": {"horizontal"}, "TensorFlow Federated": {"horizontal"},
    "NVFlare": {"horizontal"},         # a vertical-FL example and a PSI job exist, but no component family
    "Fed-BioMed": {"horizontal"}, "FLamby": {"horizontal"},
    "FATE": {"horizontal", "vertical"},  # the Hetero / Coordinated components, with its PSI component
    "PySyft": set(),                   # reviewed remote data science, not a training library
}

SCENARIO = {  # the exercise's two parties: which patients each one knows, and what it records about them
    "cancer registry": ({"p01", "p02", "p03", "p04", "p05", "p06"}, {"diagnosis", "five-year survival"}),
    "sequencing lab": ({"p03", "p04", "p05", "p06", "p07", "p08"}, {"tumour gene panel"}),
}
"""Exercise 3's federation: party -> (its patients, its columns)."""


def _kind(parties: Mapping[str, tuple[set[str], set[str]]]) -> str:
    """Vertical if the parties share patients but not columns; horizontal if they share columns."""
    (rows_a, cols_a), (rows_b, cols_b) = parties.values()
    return "vertical" if rows_a & rows_b and not cols_a & cols_b else "horizontal"


def _expected(parties: Mapping[str, tuple[set[str], set[str]]]) -> tuple[str, str]:
    """The kind of the federation, and the one tool whose components are built around that kind
    (every tool handles the horizontal split, so the question is only asked of a vertical one)."""
    kind = _kind(parties)
    tools = [tool for tool in TOOLS if kind in _BUILT_AROUND[tool]]
    if len(tools) != 1:
        raise ValueError(f"the exercise needs exactly one tool built around {kind} FL, found {tools}")
    return kind, tools[0]


_ALIASES = {"tff": "tensorflowfederated", "nvidiaflare": "nvflare", "openmined": "pysyft", "syft": "pysyft",
            "flwr": "flower"}

_TOOL_HINTS = {
    "flower": "Flower can be bent to many things, but look for the tool whose algorithm list names whole "
              "families of components for this kind of split",
    "tensorflowfederated": "TFF was built for many devices that each hold their own users' records: the same "
                           "columns everywhere",
    "nvflare": "NVFlare can do it (it has a vertical-FL example and a private-set-intersection job), but look "
               "for the tool that builds this split into its component library",
    "fedbiomed": "Fed-BioMed's Experiment trains one model on nodes that each hold their own patients, all "
                 "with the same kind of records",
    "flamby": "FLamby is a benchmark of hospitals that each hold their own patients; it does not join columns",
    "pysyft": "PySyft is about running reviewed code on data you cannot see, not about joining two owners' "
              "columns into one model",
    "fate": "FATE is a platform for horizontal and vertical FL alike; look again at which patients and which "
            "columns each party holds",
}


def _norm(text: str) -> str:
    key = "".join(ch for ch in text.lower() if ch.isalnum())
    return _ALIASES.get(key, key)


def check_vertical(answer: Any) -> Checked:
    """Exercise: a cancer registry's outcomes + a sequencing lab's gene panels for the same patients:
    which kind of FL, which tool?"""
    if unanswered(answer):
        return Checked(False)
    if not (isinstance(answer, (tuple, list)) and len(answer) == 2 and all(isinstance(a, str) for a in answer)):
        return verdict(False, "", 'answer with a pair of strings: ("horizontal" or "vertical", a tool\'s name)')
    kind, tool = _norm(answer[0]), _norm(answer[1])
    want_kind, want_tool = _expected(SCENARIO)
    if kind not in ("horizontal", "vertical"):
        return verdict(False, "", 'the first string is the kind of FL: "horizontal" or "vertical"')
    if kind != want_kind:
        return verdict(False, "", "horizontal FL splits the patients (every site has the same columns); here "
                                  "both sites know the same patients but hold different columns about them")
    if tool not in _TOOL_HINTS:
        return verdict(False, "", f"{want_kind} is right; now pick one of {', '.join(TOOLS)}")
    if tool != _norm(want_tool):
        return verdict(False, "", f"{want_kind} is right. {_TOOL_HINTS[tool]}")
    return verdict(True, f"{want_kind} FL: two owners hold different columns about the same patients. "
                         f"{want_tool} finds the shared patients with a private set intersection, without revealing "
                         "the others, then trains with its Hetero / Coordinated components", "")
