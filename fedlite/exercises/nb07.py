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

FLOWER_TERMS = {
    "A": "fraction_train (fraction_fit in the NumPyClient-era API)",
    "B": "ServerApp: the server-side program that runs the rounds with its Strategy",
    "C": "num_examples, the second value that fit returns",
    "D": "Strategy.aggregate_train (aggregate_fit in the NumPyClient-era API): only the step that combines "
         "the updates",
    "E": "NumPyClient.fit",
}
"""The options of the matching exercise, by letter."""

FEDLITE_NAMES = ("run_federated", "local_train", "aggregate=", "participation=", "ClientResult.num_samples")
"""The fedlite names to match, in the order the exercise lists them."""

_MATCHES = {"run_federated": "B", "local_train": "E", "aggregate=": "D", "participation=": "A",
            "ClientResult.num_samples": "C"}

_MATCH_HINTS = {
    "run_federated": "run_federated is the whole server side, the program that runs every round; which Flower "
                     "object is the server program?",
    "local_train": "local_train runs at a hospital, on its own data; which option runs on a client?",
    "aggregate=": "aggregate= is only the rule that combines the updates, one step of the round, not the "
                  "whole server program",
    "participation=": "participation= is a number: the share of clients sampled in a round",
    "ClientResult.num_samples": "n_k is what the weights n_k / n are made of; which value does a client send "
                                "back next to its weights?",
}


def check_flower_matches(answer: Any) -> Checked:
    """Exercise: match each fedlite name with Flower's term (letters of :data:`FLOWER_TERMS`)."""
    if unanswered(answer):
        return Checked(False)
    hint = not_a_complete_dict(answer, FEDLITE_NAMES, ask="give a letter for every fedlite name",
                               example='{fedlite name: letter}, e.g. {"run_federated": "?", ...}')
    if hint is not None:
        return hint
    letters = {name: str(answer[name]).strip().upper() for name in FEDLITE_NAMES}
    unknown = sorted({v for v in letters.values() if v not in FLOWER_TERMS})
    if unknown:
        return verdict(False, "", f"use the letters {', '.join(FLOWER_TERMS)}; got {', '.join(map(repr, unknown))}")
    shared = [name for name in FEDLITE_NAMES if list(letters.values()).count(letters[name]) > 1]
    if shared:  # at least one of them is wrong, since the right answer uses every letter once
        first_wrong = next(name for name in shared if letters[name] != _MATCHES[name])
        return verdict(False, "", f"use each letter once; one letter is given to more than one of {', '.join(shared)}. "
                                  f"{_MATCH_HINTS[first_wrong]}")
    wrong = [name for name in FEDLITE_NAMES if letters[name] != _MATCHES[name]]
    if not wrong:
        return verdict(True, "every fedlite name has its Flower counterpart; the loop, the client step and the "
                             "weights are the same ideas under other names", "")
    right = len(FEDLITE_NAMES) - len(wrong)
    return verdict(False, "", f"{right} of {len(FEDLITE_NAMES)} right. Look again at {wrong[0]}: "
                              f"{_MATCH_HINTS[wrong[0]]}")


# --- Exercise 3: a vertical federation ------------------------------------------------------------

TOOLS = ("Flower", "TensorFlow Federated", "NVFlare", "Fed-BioMed", "FLamby", "FATE", "PySyft")
"""The tools the exercise may name (OpenMined is the organisation behind PySyft)."""

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
    if kind not in ("horizontal", "vertical"):
        return verdict(False, "", 'the first string is the kind of FL: "horizontal" or "vertical"')
    if kind == "horizontal":
        return verdict(False, "", "horizontal FL splits the patients (every site has the same columns); here "
                                  "both sites know the same patients but hold different columns about them")
    if tool in _TOOL_HINTS:
        return verdict(False, "", f"vertical is right. {_TOOL_HINTS[tool]}")
    if tool != "fate":
        return verdict(False, "", f"vertical is right; now pick one of {', '.join(TOOLS)}")
    return verdict(True, "vertical FL: two owners hold different columns about the same patients. FATE finds "
                         "the shared patients with a private set intersection, without revealing the others, "
                         "then trains with its Hetero / Coordinated components", "")
