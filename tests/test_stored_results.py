"""The several-seed results the notebooks quote are stored in fedlite/results/; CI recomputes them."""

from __future__ import annotations

import os
import subprocess
import sys
from pathlib import Path

import pytest

from fedlite import evidence

REPO = Path(__file__).resolve().parent.parent
sys.path.insert(0, str(REPO / "benchmarks"))
import seeds  # noqa: E402


@pytest.mark.parametrize("name", sorted(seeds.EXPERIMENTS))
def test_stored_result_is_complete(name):
    runs, meta = evidence.load(evidence.stored(name))
    assert meta["seeds"] == list(seeds.SEEDS)
    for run in runs.values():   # most store loss/accuracy/auc per round; 03a's drift runs store "agreement"
        assert run.seeds == list(seeds.SEEDS) and run.values
        assert all(v.ndim == 2 and v.shape[0] == len(seeds.SEEDS) for v in run.values.values()), run.name


def test_mismatch_is_reported():
    runs, _ = evidence.load(evidence.stored(sorted(seeds.EXPERIMENTS)[0]))
    method = next(iter(runs))
    changed = {k: evidence.Repeated(r.name, r.seeds, {key: v.copy() for key, v in r.values.items()})
               for k, r in runs.items()}
    changed[method].values["auc"][0, -1] += 0.01
    assert seeds.mismatches(runs, runs) == []
    assert any("differs" in p for p in seeds.mismatches(changed, runs))


@pytest.mark.slow
def test_stored_results_reproduce(real_data_dir: Path):
    """Re-run benchmarks/seeds.py (a few minutes on one core) and compare with the committed files."""
    env = {**os.environ, "FEDLITE_DATA": str(real_data_dir), "OMP_NUM_THREADS": "1", "PYTHONPATH": str(REPO)}
    done = subprocess.run([sys.executable, str(REPO / "benchmarks" / "seeds.py"), "--check"], env=env,
                          capture_output=True, text=True, timeout=1200)
    assert done.returncode == 0, done.stdout + done.stderr


def test_nb06_grid_covers_every_cell_once():
    """Every attack x aggregator cell is either a stored run or a stopped run, never both; validation never stops."""
    runs, meta = evidence.load(evidence.stored("nb06"))
    cells = {f"{a} | {d}" for a in meta["attacks"] for d in meta["aggregators"]}
    assert len(cells) == 25 and set(runs) | set(meta["stopped"]) == cells
    assert not set(runs) & set(meta["stopped"])
    assert set(meta["stopped"]) == {f"NaN update | {d}" for d in ("FedAvg", "median", "trimmed mean", "Krum")}
    for attack in meta["attacks"]:
        counts = runs[f"{attack} | validation"].values
        assert counts["rejected_bad"].shape == counts["rejected_honest"].shape == (len(seeds.SEEDS), meta["rounds"])
    assert runs["NaN update | validation"].values["rejected_bad"].min() == 1   # the NaN update, every round


def test_nb05_has_both_observers_per_defence():
    runs, meta = evidence.load(evidence.stored("nb05"))
    assert list(runs) == ["none", "secure", *(f"dp_{s:g}" for s in meta["sigmas"])]
    for run in runs.values():
        for who in ("server", "others"):
            assert run.values[f"psnr_{who}"].shape == (len(seeds.SEEDS), 1)
    assert runs["none"].values["psnr_average"].shape == (len(seeds.SEEDS), 1)
    # secure aggregation: the server sees only the sum, which is what everybody else sees too
    assert (runs["secure"].values["psnr_server"] == runs["secure"].values["psnr_others"]).all()
    assert set(meta["defence_seconds"]) == set(runs) == set(meta["mb_up_per_hospital_round"])
