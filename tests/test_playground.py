"""The playground's logic: it wires the public API exactly, its code reproduces its numbers, its verdict is honest."""

from __future__ import annotations

import math
from dataclasses import replace

import numpy as np
import pytest

from fedlite import playground as pg
from fedlite.client import LocalConfig
from fedlite.history import History, Round
from fedlite.models import make_model
from fedlite.privacy.dp import dp_epsilon
from fedlite.simulation import run_federated


@pytest.fixture(autouse=True)
def _data(real_data_dir, one_thread) -> None:
    """Every test here reads the real heart-disease (and X-ray) files."""


def test_default_is_plain_fedavg_on_the_heart_hospitals() -> None:
    # answer key: the same run wired by hand from heart_hospitals(), without the playground; its default
    # features are 14 (cholesterol imputed where it was recorded as 0, and the chol_missing indicator last)
    from fedlite.data import pool
    from fedlite.datasets.heart import heart_hospitals

    _, trains, tests, _, _ = heart_hospitals()
    assert trains[0].x.shape[1] == 14 and pg.federation("heart").model_kwargs == {"in_features": 14}
    model = make_model("logreg", seed=0, in_features=14)
    by_hand = run_federated(model, trains, pool(tests), rounds=20, local=LocalConfig(batch_size=256, lr=0.5),
                            seed=0, progress=False)
    assert pg.run_once(pg.Settings(), 0).metric("auc") == pytest.approx(by_hand.metric("auc"), abs=1e-12)
    namespace: dict = {}
    exec(pg.as_code(pg.Settings()), namespace)  # noqa: S102 (our own generated code)
    assert namespace["history"].metric("auc") == pytest.approx(by_hand.metric("auc"), abs=1e-12)


@pytest.mark.parametrize("settings", [
    pg.Settings(attack="sign flip", aggregator="median", rounds=5),
    pg.Settings(noise_multiplier=1.0, participation=0.5, dropout=0.2, rounds=5),
    pg.Settings(data="xray", hospitals=3, skew="label skew", alpha=0.3, compression="top-10% + error feedback",
                algorithm="FedProx", batch_size=64, lr=0.2, rounds=2),
], ids=["attack+median", "dp+dropout", "xray+topk+fedprox"])
def test_copy_as_code_reproduces_the_numbers(settings: pg.Settings) -> None:
    namespace: dict = {}
    exec(pg.as_code(settings), namespace)  # noqa: S102 (our own generated code)
    expected = pg.play(settings, seeds=[0]).runs[0]
    assert namespace["history"].metric("auc") == pytest.approx(expected.metric("auc"), abs=1e-12)
    assert namespace["history"].total_bytes == expected.total_bytes


def test_knobs_change_what_they_should() -> None:
    base = pg.Settings(rounds=5)
    attacked = pg.run_once(replace(base, attack="sign flip"), 0).final("auc")
    defended = pg.run_once(replace(base, attack="sign flip", aggregator="median"), 0).final("auc")
    clean = pg.run_once(base, 0).final("auc")
    assert attacked < 0.5 < defended <= clean + 0.05      # the sign flip breaks the mean; the median holds
    full = pg.run_once(base, 0).total_bytes
    assert pg.run_once(replace(base, compression="8-bit"), 0).total_bytes < full
    assert pg.run_once(replace(base, participation=0.5), 0).total_bytes == pytest.approx(full / 2, rel=0.01)


def test_epsilon_is_the_accountants() -> None:
    s = pg.Settings(noise_multiplier=1.5, participation=0.5, rounds=8, delta=1e-3)
    assert pg.play(s).epsilon == pytest.approx(dp_epsilon(1.5, 0.5, 8, 1e-3))
    assert pg.play(pg.Settings(rounds=3)).epsilon is None


def test_presets_are_the_notebooks_experiments() -> None:
    assert {name.split(" ")[0] for name in pg.PRESETS} >= {"01", "02", "03", "04a", "04b", "05", "06", "07"}
    by_notebook = {name.split(" ")[0]: s for name, s in pg.PRESETS.items()}
    # 04a and 07: LocalConfig(lr=0.05, batch_size=16), 30 rounds on the four heart hospitals
    for key in ("04a", "07"):
        assert by_notebook[key] == pg.Settings(batch_size=16, lr=0.05, rounds=30)
    # 04b: devices with label skew alpha = 1, a fraction asked per round, 30% dropping out, B = 16, lr = 0.02
    devices = by_notebook["04b"]
    assert (devices.data, devices.skew, devices.alpha, devices.dropout, devices.batch_size, devices.lr) == \
        ("xray", "label skew", 1.0, 0.3, 16, 0.02)
    attack = pg.PRESETS["06 · one hospital sign-flips, the median defends"]
    assert (attack.attack, attack.aggregator) == ("sign flip", "median")
    assert pg.PRESETS["03 · label skew α = 0.1 on X-rays, FedProx"].alpha == 0.1
    assert pg.PRESETS["02 · more local epochs (E = 5) on X-rays"].epochs == 5


def test_verdict_interval_answer_key() -> None:
    # differences 0.1, 0.2, 0.3 (unequal): mean 0.2, sd 0.1, t_{0.975, 2} = 4.302652729911275
    half = 4.302652729911275 * 0.1 / math.sqrt(3)
    line = pg.verdict(_outcome([0.9, 0.7, 0.8], [0.8, 0.5, 0.5]))
    assert 0.2 - half < 0 and line.startswith("within noise of plain FedAvg")  # the interval includes 0
    assert f"difference +0.200 (95% CI {0.2 - half:+.3f} to {0.2 + half:+.3f}, 3 seeds)" in line
    assert "fewer than 5 seeds" in line  # the course ranks on >= 5 seeds
    assert "fewer than 5" not in pg.verdict(_outcome([0.9, 0.7, 0.8, 0.6, 0.9], [0.8, 0.5, 0.5, 0.6, 0.7]))


def test_fedbn_on_the_heart_model_says_it_is_fedavg() -> None:
    # logistic regression has no BatchNorm layer, so FedBN keeps nothing local: the same numbers as FedAvg
    s = pg.Settings(algorithm="FedBN", rounds=3)
    assert pg.run_once(s, 0).metric("auc") == pytest.approx(pg.run_once(pg.Settings(rounds=3), 0).metric("auc"))
    line = pg.verdict(pg.play(s))
    assert "FedBN is plain FedAvg here" in line and "BatchNorm" in line


def _history(aucs: list[float]) -> History:
    return History("x", [Round(t + 1, {"auc": a, "accuracy": a, "loss": 0.0}) for t, a in enumerate(aucs)])


def _outcome(mine: list[float], ref: list[float], settings=pg.Settings(algorithm="FedProx")) -> pg.Outcome:
    runs, refs = [_history([a]) for a in mine], [_history([a]) for a in ref]
    return pg.Outcome(settings, runs, refs, refs, refs, ["a"], None)


def test_verdict_reads_intervals_honestly() -> None:
    assert "within noise" in pg.verdict(_outcome([0.80, 0.85, 0.78, 0.83, 0.81], [0.81, 0.82, 0.80, 0.82, 0.80]))
    assert "above plain FedAvg" in pg.verdict(_outcome([0.90, 0.91, 0.92, 0.93, 0.90], [0.80, 0.80, 0.81, 0.82, 0.80]))
    assert "below plain FedAvg" in pg.verdict(_outcome([0.70, 0.71, 0.72, 0.70, 0.69], [0.80, 0.80, 0.81, 0.82, 0.80]))
    one = pg.verdict(_outcome([0.95], [0.80]))
    assert "no ranking" in one and "above" not in one
    assert "NaN" in pg.verdict(_outcome([float("nan")], [0.8]))


def test_bad_combinations_say_why() -> None:
    with pytest.raises(ValueError, match="aggregator 'mean'"):
        pg.Settings(noise_multiplier=1.0, aggregator="median")
    with pytest.raises(ValueError, match="algorithm must be one of"):
        pg.Settings(algorithm="FedSGD")
    with pytest.raises(ValueError, match="dropout"):
        pg.Settings(dropout=1.0)


def test_a_change_during_a_run_cancels_it() -> None:
    from fedlite.dashboard import Playground

    app = Playground(pg.Settings(rounds=2))
    app._wanted = pg.Settings(rounds=3)     # newer settings arrived while this run was going
    assert app.update(pg.Settings(rounds=2, seeds=2)) is None
    assert app.progress.description == "cancelled"
    app._wanted = None
    assert app.update(pg.Settings(rounds=2)) is not None and app.image.value[:4] == b"\x89PNG"


def test_every_finished_run_shows_a_new_status_line(monkeypatch: pytest.MonkeyPatch) -> None:
    """The browser regression: moving α on the X-rays ran, but the status line the page (and a learner)
    reads to know a run finished stayed the same, because the bytes do not depend on α and two runs
    took the same time to 0.1 s. Each finished run must say so in a line that no earlier run showed."""
    from fedlite import dashboard

    ticks = iter(range(1000))                        # a clock on which every run takes exactly 1 s
    monkeypatch.setattr(dashboard, "_clock", lambda: float(next(ticks)))
    app = dashboard.Playground(pg.Settings(rounds=2))
    lines = []
    for lr in (0.5, 0.4, 0.3):                       # same bytes, same duration, different numbers
        assert app.update(pg.Settings(rounds=2, lr=lr)) is not None
        lines.append(app.summary.value)
    assert len(set(lines)) == 3, lines


def test_every_preset_fits_the_controls() -> None:
    """One click shows exactly the preset: no slider clips or rounds a value (e.g. 20 hospitals, 30 rounds)."""
    from fedlite.dashboard import Playground

    app = Playground(pg.Settings(rounds=2))
    for name, settings in pg.PRESETS.items():
        app.set(settings)
        assert app.settings() == settings, name
