"""Checks for the exercises of ``04b_devices_and_drug_discovery``."""

from __future__ import annotations

from dataclasses import dataclass
from typing import Any

import numpy as np

from fedlite.exercises import Checked, close, not_a_complete_dict, unanswered, verdict

SCALES = ("cross-silo", "cross-device")
PARTITIONS = ("horizontal", "vertical")

SCENARIOS = {
    "smartwatches": "50,000 patients' smartwatches learn to spot atrial fibrillation from their own "
                    "owner's heart-rhythm recordings",
    "hospital_and_insurer": "a hospital (diagnoses, lab results) and a health insurer (claims, prescriptions) "
                            "hold different information about the same patients and train one risk model",
    "pharma_toxicity": "five drug companies train one toxicity model, each on its own molecules, all "
                       "described by the same kind of chemical fingerprint",
}
"""The scenarios of the last exercise: name -> what happens."""


@dataclass(frozen=True)
class _Parties:
    """What a scenario says about its parties; the FL setting follows from it (:func:`_setting_of`)."""

    devices: bool      # are the clients people's devices (very many, small, often offline)?
    same_rows: bool    # do the parties hold the same individuals, each with other information about them?
    who: str           # why the scale follows (the hint for a wrong scale)
    what: str          # why the partition follows (the hint for a wrong partition)


_PARTIES = {
    "smartwatches": _Parties(
        True, False, "50,000 watches, each with one person's recordings and often offline, are very many small, "
                     "unreliable clients: that is not a few organisations",
        "every watch records the same kind of signal for a different person: different rows, the same columns"),
    "hospital_and_insurer": _Parties(
        False, True, "a hospital and an insurer are two organisations with servers and many records each, not "
                     "people's devices",
        "they hold the *same* patients; what differs is the information about them (the columns)"),
    "pharma_toxicity": _Parties(
        False, False, "five companies with large curated databases are a few reliable organisations, not devices",
        "each company has its *own* molecules (rows), all described by the same kind of fingerprint (columns)"),
}
"""The facts of every scenario, with the feedback that explains each one (a wrong answer teaches)."""


def _setting_of(parties: _Parties) -> tuple[str, str]:
    """Scale from who the clients are, partition from whether they share individuals or features."""
    return (SCALES[1] if parties.devices else SCALES[0], PARTITIONS[1] if parties.same_rows else PARTITIONS[0])


def check_expected_arrivals(answer: Any, num_clients: int, participation: float, dropout: float) -> Checked:
    """Exercise: how many updates reach the server per round, on average, when the fraction
    ``participation`` of ``num_clients`` is asked and each drops out with probability ``dropout``."""
    if unanswered(answer):
        return Checked(False)
    asked = max(1, round(participation * num_clients))
    expected = asked * (1 - dropout)
    if np.ndim(answer) > 0:
        return verdict(False, "", "give one number: the average count of updates per round")
    if close(answer, asked) and dropout > 0:
        return verdict(False, "", "that is how many devices are *asked*; some of them drop out before "
                                  "their update arrives")
    if close(answer, asked * dropout) and dropout != 0.5:
        return verdict(False, "", "that is how many updates are *lost* on average; the question asks how "
                                  "many arrive")
    if close(answer, num_clients * (1 - dropout)) and participation < 1:
        return verdict(False, "", "not every device is asked: only a fraction q of them is chosen each round")
    if close(answer, participation * (1 - dropout)) or close(answer, 1 - dropout):
        return verdict(False, "", "that is a probability; multiply by the number of devices to get a count")
    return verdict(close(answer, expected, rel=1e-6),
                   "m = q·K devices are asked and each arrives with probability 1 - p, so on average "
                   "q·K·(1 - p) updates are averaged",
                   "count the devices asked per round (m = q·K), then keep the share that does not drop out")


def _setting(value: Any) -> tuple[str | None, str | None] | None:
    """``("cross-silo", "vertical")`` in any order and spelling, or ``None`` if it is not a pair of words."""
    if isinstance(value, str) or not hasattr(value, "__iter__"):
        return None
    words = [str(v).strip().lower().replace(" ", "-").replace("_", "-") for v in value]
    if len(words) != 2:
        return None
    scale = next((w for w in words if w in SCALES), None)
    part = next((w for w in words if w in PARTITIONS), None)
    return scale, part


def check_fl_settings(answer: Any) -> Checked:
    """Exercise: label each of :data:`SCENARIOS` with its FL setting, a pair
    ``(cross-silo | cross-device, horizontal | vertical)``."""
    if unanswered(answer):
        return Checked(False)
    hint = not_a_complete_dict(answer, list(SCENARIOS), ask="label every scenario",
                               example='{"smartwatches": ("cross-silo", "vertical"), ...}')
    if hint is not None:
        return hint
    for name, parties in _PARTIES.items():
        scale, part = _setting_of(parties)
        given = _setting(answer[name])
        if given is None or None in given:
            return verdict(False, "", f"{name}: give a pair of one scale ({' or '.join(SCALES)}) and one "
                                      f"partition ({' or '.join(PARTITIONS)})")
        for wrong, right, why in zip(given, (scale, part), (parties.who, parties.what)):
            if wrong != right:
                return verdict(False, "", f"{name}: not {wrong}; {why}")
    return verdict(True, "the scale says who the clients are (people's devices or organisations), the "
                         "partition says whether they share patients or features", "")
