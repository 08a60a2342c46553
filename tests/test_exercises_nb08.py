"""The checkers of notebook 08: right answers pass, typical wrong answers get their hint, `...` is "not yet"."""

from __future__ import annotations

from fedlite.exercises.nb08 import check_bytes_up, check_drill_weights, check_overhead

# A hand-made record with unequal hospitals (the real one is notebooks/results/08_flower_runs.json).
RUNS = {
    "fedlite": {"bytes_up": [448, 448], "bytes_down": [448, 448]},
    "deployment": {"messages": [{"type": "query", "bytes_up": 999, "bytes_down": 10},
                                {"type": "train", "bytes_up": 2240, "bytes_down": 3136},
                                {"type": "train", "bytes_up": 2240, "bytes_down": 3136}],
                   "loaded": {"cleveland": {"n-train": 200}, "hungarian": {"n-train": 100},
                              "switzerland": {"n-train": 20}, "va": {"n-train": 80}}},
    "drill": {"killed": "va"},
}


def run(check, capsys, *args):
    result = check(*args)
    return bool(result), capsys.readouterr().out


def test_bytes_up(capsys):
    # answer key by hand: 14 inputs (13 UCI features + chol_missing) x 2 classes + 2 biases = 30 float32
    ok, out = run(check_bytes_up, capsys, 30 * 4 * 4)
    assert ok and "480 bytes" in out
    for wrong, hint in ((120, "one hospital's upload"), (30, "a float32 takes 4 bytes"), (500, "multiply"),
                        (448, "chol_missing")):
        ok, out = run(check_bytes_up, capsys, wrong)
        assert not ok and hint in out, (wrong, out)
    ok, out = run(check_bytes_up, capsys, ...)
    assert not ok and "not yet" in out


def test_overhead(capsys):
    ok, out = run(check_overhead, capsys, 2240 / 448, RUNS)
    assert ok and "5.0 times" in out
    ok, out = run(check_overhead, capsys, 448 / 2240, RUNS)
    assert not ok and "inverse" in out
    ok, out = run(check_overhead, capsys, 3136 / 448, RUNS)
    assert not ok and "download" in out
    ok, out = run(check_overhead, capsys, ..., RUNS)
    assert not ok and "not yet" in out


def test_drill_weights(capsys):
    right = {"cleveland": 200 / 320, "hungarian": 100 / 320, "switzerland": 20 / 320}
    ok, out = run(check_drill_weights, capsys, right, RUNS)
    assert ok and "add up to 1" in out
    with_va = {h: n / 400 for h, n in (("cleveland", 200), ("hungarian", 100), ("switzerland", 20))}
    ok, out = run(check_drill_weights, capsys, with_va, RUNS)
    assert not ok and "VA's patients" in out
    ok, out = run(check_drill_weights, capsys, dict.fromkeys(right, 1 / 3), RUNS)
    assert not ok and "equally" in out
    ok, out = run(check_drill_weights, capsys, {"cleveland": 0.6}, RUNS)
    assert not ok and "missing: hungarian, switzerland" in out
    ok, out = run(check_drill_weights, capsys, [0.6, 0.3, 0.1], RUNS)
    assert not ok and "dict" in out
    ok, out = run(check_drill_weights, capsys, ..., RUNS)
    assert not ok and "not yet" in out
