"""The stored record notebook 08 shows (``python deploy/flower_local.py --record ...`` writes it) says
what the notebook's prose says: the three runs agree, each node loaded its own hospital, the drill
left VA out, and no process outlived the run. Needs no Flower: it reads the file."""

from __future__ import annotations

import json
from pathlib import Path

import pytest

RECORD = Path(__file__).resolve().parent.parent / "notebooks" / "results" / "08_flower_runs.json"
HOSPITALS = ("cleveland", "hungarian", "switzerland", "va")


@pytest.fixture(scope="module")
def runs() -> dict:
    return json.loads(RECORD.read_text())


def test_flower_runs_equal_fedlite(runs: dict) -> None:
    fedlite = runs["fedlite"]["evaluate"]
    assert len(fedlite) == runs["rounds"]
    for name in ("simulation", "deployment"):
        run = runs[name]
        if name == "simulation" and "error" in run:
            pytest.skip(f"the stored record has no simulation run: {run['error']}")
        assert run["max_weight_gap"] < 1e-6, name
        for got, want in zip(run["evaluate"], fedlite):
            assert got["accuracy"] == pytest.approx(want["accuracy"], abs=1e-9)
            assert got["loss"] == pytest.approx(want["loss"], abs=1e-5)


def test_each_node_loaded_its_own_hospital(runs: dict) -> None:
    loaded = runs["deployment"]["loaded"]
    assert sorted(loaded) == sorted(HOSPITALS)
    for hospital, who in loaded.items():
        assert who["hospital"] == hospital
        assert who["source"] == "synthetic" or who["source"].endswith(f"processed.{hospital}.data")
    assert len({who["train-fingerprint"] for who in loaded.values()}) == 4


def test_bytes_and_drill_and_cleanup(runs: dict) -> None:
    train = [m for m in runs["deployment"]["messages"] if m["type"] == "train"]
    assert all(m["payload_up"] >= runs["fedlite"]["bytes_up"][0] for m in train)
    assert all(m["bytes_up"] > m["payload_up"] for m in train)          # the envelope costs extra
    drill = [m for m in runs["drill"]["messages"] if m["type"] == "train"]
    assert sorted(drill[1]["replied"]) == ["cleveland", "hungarian", "switzerland"]
    assert runs["processes_left"] == []
