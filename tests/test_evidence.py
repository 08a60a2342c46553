"""fedlite.evidence against hand-computed answer keys."""

from __future__ import annotations

import math

import matplotlib
import numpy as np
import pytest

from fedlite import evidence
from fedlite.history import History, Round

matplotlib.use("Agg")

T_975_4 = 2.7764451051977934  # t quantile, 4 degrees of freedom (tables: 2.776)


def test_t_interval_by_hand():
    # [1, 2, 3, 4, 6]: mean 3.2; squared deviations 4.84 + 1.44 + 0.04 + 0.64 + 7.84 = 14.8; s^2 = 14.8 / 4 = 3.7
    # standard error sqrt(3.7 / 5) = 0.860233; half width 2.776445 * 0.860233 = 2.388388
    ci = evidence.t_interval([1, 2, 3, 4, 6])
    assert ci.mean == pytest.approx(3.2)
    assert ci.half_width == pytest.approx(2.388388, abs=2e-6)
    assert (ci.low, ci.high) == pytest.approx((0.811612, 5.588388), abs=2e-6)
    assert ci.n == 5 and ci.contains(3.2) and not ci.contains(0.8)


def test_t_is_wider_than_normal_for_few_seeds():
    values = [1, 2, 3, 4, 6]
    normal_half = 1.959964 * np.std(values, ddof=1) / math.sqrt(5)
    assert evidence.t_interval(values).half_width / normal_half == pytest.approx(T_975_4 / 1.959964)


def test_paired_narrower_than_unpaired():
    # method b is a + 0.02 give or take 0.01 on every seed, while the seeds themselves vary by +-0.15
    a = [0.80, 0.70, 0.90, 0.60, 0.75]
    b = [0.82, 0.73, 0.91, 0.62, 0.77]
    # paired: d = [0.02, 0.03, 0.01, 0.02, 0.02], mean 0.02, s^2 = 0.0002 / 4, se = 0.0031623
    paired = evidence.paired_values(b, a)
    assert paired.mean == pytest.approx(0.02)
    assert paired.half_width == pytest.approx(T_975_4 * 0.0031623, abs=1e-6)
    assert not paired.contains(0)
    # Welch: var(a)/5 = 0.0025, var(b)/5 = 0.00231; se = 0.069354; dof = 7.9875 -> half ~ 0.16
    unpaired = evidence.unpaired_difference(b, a)
    assert unpaired.mean == pytest.approx(0.02)
    assert unpaired.half_width == pytest.approx(0.069354 * 2.3066, abs=2e-4)
    assert unpaired.contains(0)


def history(name: str, aucs: list[float]) -> History:
    return History(name, [Round(t + 1, {"loss": 1 - a, "accuracy": a, "auc": a}) for t, a in enumerate(aucs)])


def test_repeat_band_and_paired_difference():
    curves = {s: [0.5 + 0.1 * s, 0.6 + 0.1 * s] for s in range(5)}
    fast = evidence.repeat(lambda s: history("fast", curves[s]))
    slow = evidence.repeat(lambda s: history("slow", [v - 0.01 * (s + 1) for v in curves[s]]))
    assert fast.per_seed("auc").shape == (5, 2)
    np.testing.assert_allclose(fast.final("auc"), [0.6, 0.7, 0.8, 0.9, 1.0])
    mean, low, high = fast.band("auc")
    np.testing.assert_allclose(mean, [0.7, 0.8])
    # column [0.5 .. 0.9]: s = 0.158114, half = 2.776445 * 0.158114 / sqrt(5) = 0.196324
    np.testing.assert_allclose(high - mean, [0.196324, 0.196324], atol=1e-6)
    d = evidence.paired_difference(fast, slow, "auc")
    # differences 0.01 .. 0.05: mean 0.03, s = 0.0158114, half = 0.0196324
    assert (d.mean, d.half_width) == pytest.approx((0.03, 0.0196324), abs=1e-6)
    text = evidence.comparison_table([fast, slow], "auc", reference=slow)
    assert "+0.030" in text and "5 seeds" in text


def test_store_and_load_roundtrip(tmp_path):
    runs = evidence.repeat(lambda s: history("x", [0.5, 0.6 + 0.01 * s]), seeds=[3, 7])
    evidence.save(tmp_path / "r.json", {"x": runs}, {"rounds": 2})
    back, meta = evidence.load(tmp_path / "r.json")
    assert meta == {"rounds": 2} and back["x"].seeds == [3, 7]
    np.testing.assert_allclose(back["x"].final("auc"), [0.63, 0.67])


def test_bad_input_is_explained():
    with pytest.raises(ValueError, match="at least 2"):
        evidence.t_interval([0.7])
    with pytest.raises(ValueError, match="NaN"):
        evidence.t_interval([0.7, float("nan")])
    a = evidence.repeat(lambda s: history("a", [0.5]), seeds=[0, 1])
    b = evidence.repeat(lambda s: history("b", [0.5]), seeds=[1, 2])
    with pytest.raises(ValueError, match="same seeds"):
        evidence.paired_difference(a, b)
    with pytest.raises(ValueError, match="same number of rounds"):
        evidence.repeat(lambda s: history("c", [0.5] * (s + 1)), seeds=[0, 1])
    with pytest.raises(FileNotFoundError, match="seeds.py"):
        evidence.load("/nonexistent/x.json")


def test_mean_band_draws_one_band_per_method():
    from fedlite import plots

    runs = [evidence.repeat(lambda s, k=k: history(f"m{k}", [0.5 + 0.01 * s, 0.6 + k * 0.1]), seeds=[0, 1, 2])
            for k in range(2)]
    ax = plots.mean_band(runs, "auc", baseline=0.5)
    assert len(ax.lines) == 3 and len(ax.collections) == 2
    np.testing.assert_allclose(ax.lines[1].get_ydata(), [0.51, 0.7])
