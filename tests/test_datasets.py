"""Loaders: exact sizes and class counts of the real files, errors, and the loud fallback."""

from __future__ import annotations

import os
import subprocess
import sys
from pathlib import Path

import numpy as np
import pytest
import torch

from fedlite import datasets
from fedlite.datasets import synthetic
from fedlite.datasets.__main__ import main as cli
from fedlite.datasets.catalog import DATASETS, HOSPITALS
from fedlite.datasets.download import ChecksumError, md5sum
from fedlite.datasets.synthetic import SyntheticDataWarning

REPO = Path(__file__).resolve().parent.parent


def class_counts(data) -> list[int]:
    return np.bincount(data.y.numpy(), minlength=2).tolist()


# --- real files ---------------------------------------------------------------------------

@pytest.mark.parametrize("name, expected", [
    ("pneumoniamnist", {"train": [1214, 3494], "val": [135, 389], "test": [234, 390]}),
    ("breastmnist", {"train": [147, 399], "val": [21, 57], "test": [42, 114]}),
])
def test_medmnist_real_sizes_class_counts_and_pixel_range(real_data_dir, name, expected):
    # Execute
    splits = datasets.load_medmnist(name)
    # Assert: counts measured once from the official npz files
    assert splits.synthetic is False
    assert {s: class_counts(d) for s, d in splits.items()} == expected
    for data in splits.values():
        assert data.x.shape[1:] == (1, 28, 28) and data.x.dtype == torch.float32
        assert data.y.dtype == torch.int64 and data.y.ndim == 1
        assert 0.0 <= data.x.min() and data.x.max() <= 1.0
        assert data.x.max() > 0.99  # scaled by 1/255, not left in 0..255 nor squashed


def test_real_files_match_official_md5_and_published_md5sums(real_data_dir):
    for info in DATASETS.values():
        for spec in info.files:
            path = real_data_dir / info.subdir / spec.name
            assert md5sum(path) == spec.md5, path
            md5sums = path.parent / "MD5SUMS"
            if md5sums.is_file():
                assert f"{spec.md5}  {spec.name}" in md5sums.read_text()


def test_heart_disease_real_hospitals_match_flamby_counts(real_data_dir):
    # Execute
    hospitals = datasets.load_heart_disease()
    # Assert: FLamby's Fed-Heart-Disease sizes and our measured class counts
    sizes = {h: (len(s["train"]), len(s["test"])) for h, s in hospitals.items()}
    assert sizes == {"cleveland": (199, 104), "hungarian": (172, 89),
                     "switzerland": (30, 16), "va": (85, 45)}
    assert sum(a + b for a, b in sizes.values()) == 740
    counts = {h: (class_counts(s["train"]), class_counts(s["test"])) for h, s in hospitals.items()}
    assert counts == {"cleveland": ([108, 91], [56, 48]), "hungarian": ([107, 65], [56, 33]),
                      "switzerland": ([0, 30], [1, 15]), "va": ([19, 66], [10, 35])}
    assert all(s[k].x.shape[1] == 13 for s in hospitals.values() for k in s)


def test_heart_disease_first_cleveland_row_is_parsed_by_hand(real_data_dir):
    # Prepare: file row 1 is "63.0,1.0,1.0,145.0,233.0,1.0,2.0,150.0,0.0,2.3,3.0,0.0,6.0,0"
    expected = [63, 1, 145, 233, 1, 150, 0, 2.3, 0, 0, 0, 0, 1]  # cp=1 -> 000, restecg=2 -> 01
    # Execute
    cleveland = datasets.load_heart_disease()["cleveland"]
    # Assert: the row is in exactly one split, raw (not standardized), label num=0 -> 0
    both = torch.cat([cleveland["train"].x, cleveland["test"].x])
    labels = torch.cat([cleveland["train"].y, cleveland["test"].y])
    match = torch.isclose(both, torch.tensor(expected, dtype=torch.float32)).all(dim=1)
    assert match.sum() == 1 and labels[match].item() == 0


def test_heart_disease_categories_are_one_hot(real_data_dir):
    hospitals = datasets.load_heart_disease()
    x = torch.cat([s[k].x for s in hospitals.values() for k in s])
    cp, restecg = x[:, 8:11], x[:, 11:13]
    assert set(x[:, 8:].unique().tolist()) == {0.0, 1.0}
    assert cp.sum(1).max() <= 1 and restecg.sum(1).max() <= 1


def test_breast_cancer_wisconsin_is_offline_seeded_and_stratified(empty_data_dir):
    # Execute
    first, again, other = (datasets.load("breast_cancer_wisconsin", seed=s) for s in (0, 0, 1))
    # Assert
    assert first.synthetic is False
    assert class_counts(first["train"]) == [148, 250] and class_counts(first["test"]) == [64, 107]
    assert first["train"].x.shape == (398, 30)
    assert torch.equal(first["test"].x, again["test"].x)
    assert not torch.equal(first["test"].x, other["test"].x)


# --- names and errors ---------------------------------------------------------------------

def test_unknown_dataset_name_lists_the_known_ones():
    with pytest.raises(ValueError, match="known datasets are: breast_cancer_wisconsin, breastm"):
        datasets.load("mnist")


def test_load_medmnist_rejects_a_tabular_dataset():
    with pytest.raises(ValueError, match="pneumoniamnist, breastmnist"):
        datasets.load_medmnist("heart_disease")


def test_registry_sizes_agree_with_the_brief():
    assert datasets.available() == sorted(DATASETS)
    assert DATASETS["pneumoniamnist"].sizes() == {"train": 4708, "val": 524, "test": 624}
    assert DATASETS["breastmnist"].sizes() == {"train": 546, "val": 78, "test": 156}


def test_corrupt_cached_file_is_an_error_never_a_fallback(empty_data_dir, allow_synthetic, recwarn):
    # Prepare: a cached breastmnist.npz whose bytes are not the official ones
    (empty_data_dir / "medmnist").mkdir()
    (empty_data_dir / "medmnist" / "breastmnist.npz").write_bytes(b"not the real file")
    # Execute / Assert
    with pytest.raises(ChecksumError) as err:
        datasets.load("breastmnist")
    message = str(err.value)
    assert "breastmnist.npz" in message and "750601b1f35ba3300ea97c75c52ff8f6" in message
    assert md5sum(empty_data_dir / "medmnist" / "breastmnist.npz") in message
    assert "python -m fedlite.datasets fetch breastmnist" in message
    assert not any(issubclass(w.category, SyntheticDataWarning) for w in recwarn)


def test_tampered_real_copy_of_heart_disease_is_rejected(mirror_dir, monkeypatch):
    # Prepare: a copy of the four files with one byte changed in one of them
    va = mirror_dir / "uci_heart_disease" / "processed.va.data"
    va.write_text(va.read_text().replace("63,", "64,", 1))
    monkeypatch.setenv("FEDLITE_DATA", str(mirror_dir))
    # Execute / Assert
    with pytest.raises(ChecksumError, match="processed.va.data.*4249d03ca7711e84f4444768c9426170"):
        datasets.load_heart_disease()


def test_missing_data_under_require_real_is_an_actionable_error(empty_data_dir, require_real):
    with pytest.raises(RuntimeError) as err:
        datasets.load_medmnist("pneumoniamnist")
    message = str(err.value)
    assert "not in" in message and "could not be downloaded" in message
    for fix in ("python -m fedlite.datasets fetch pneumoniamnist", "make data", "FEDLITE_DATA",
                "FEDLITE_REQUIRE_REAL_DATA"):
        assert fix in message


# --- synthetic fallback -------------------------------------------------------------------

def test_fallback_warns_prints_a_banner_and_flags_the_data(empty_data_dir, allow_synthetic, capsys):
    # Execute
    with pytest.warns(SyntheticDataWarning, match="SYNTHETIC DATA - NOT REAL"):
        splits = datasets.load_medmnist("breastmnist")
    # Assert: flagged, same shapes and class counts as the real dataset, banner on stderr
    assert splits.synthetic is True and splits.source == "synthetic"
    assert {s: tuple(class_counts(d)) for s, d in splits.items()} == \
        DATASETS["breastmnist"].class_counts
    assert splits["train"].x.shape == (546, 1, 28, 28)
    assert 0 <= splits["train"].x.min() and splits["train"].x.max() <= 1
    banner = capsys.readouterr().err
    assert "NOT REAL" in banner and "python -m fedlite.datasets fetch all" in banner


def test_fallback_banner_is_html_under_ipython(monkeypatch):
    # Prepare: pretend to run in a notebook and capture what gets displayed
    import IPython
    import IPython.display
    shown = []
    monkeypatch.setattr(IPython, "get_ipython", lambda: object())
    monkeypatch.setattr(IPython.display, "display", lambda obj, raw=False: shown.append(obj))
    # Execute
    with pytest.warns(SyntheticDataWarning):
        synthetic.announce_synthetic("breastmnist", "offline")
    # Assert
    assert len(shown) == 1 and "border:3px solid" in shown[0]["text/html"]
    assert "make data" in shown[0]["text/plain"]


def test_heart_fallback_has_the_real_hospital_structure(empty_data_dir, allow_synthetic):
    with pytest.warns(SyntheticDataWarning):
        hospitals = datasets.load_heart_disease(seed=3)
    assert hospitals.synthetic is True and list(hospitals) == list(HOSPITALS)
    for h in HOSPITALS:
        for split in ("train", "test"):
            assert tuple(class_counts(hospitals[h][split])) == \
                DATASETS["heart_disease"].class_counts[f"{h}/{split}"]
            assert hospitals[h][split].x.shape[1] == 13


def test_synthetic_twin_is_deterministic_per_seed():
    a, b, c = (synthetic.synthetic_medmnist("breastmnist", seed=s) for s in (1, 1, 2))
    assert torch.equal(a["val"].x, b["val"].x) and torch.equal(a["val"].y, b["val"].y)
    assert not torch.equal(a["val"].x, c["val"].x)


def test_synthetic_twins_are_learnable():
    # Prepare: nearest class mean (images) and logistic regression (tables), fit on train
    from sklearn.linear_model import LogisticRegression

    from fedlite.data import pool
    from fedlite.heterogeneity.normalize import local_mean_std, standardize
    images = synthetic.synthetic_medmnist("pneumoniamnist", seed=0)
    train, test = images["train"], images["test"]
    means = torch.stack([train.x[train.y == c].mean(0).flatten() for c in (0, 1)])
    heart = synthetic.synthetic_heart_disease(seed=0)
    tab_train, tab_test = (pool([heart[h][s] for h in HOSPITALS]) for s in ("train", "test"))
    stats = local_mean_std(tab_train)
    tab_train, tab_test = standardize(tab_train, *stats), standardize(tab_test, *stats)
    # Execute
    pred = torch.cdist(test.x.flatten(1), means).argmin(1)
    model = LogisticRegression().fit(tab_train.x.numpy(), tab_train.y.numpy())
    # Assert: well above always answering the majority class (62.5 % and ~67 %)
    assert (pred == test.y).float().mean() > 0.8
    assert model.score(tab_test.x.numpy(), tab_test.y.numpy()) > 0.75


# --- command line -------------------------------------------------------------------------

def test_cli_list_shows_status_and_location(real_data_dir, capsys):
    assert cli(["list"]) == 0
    out = capsys.readouterr().out
    assert str(real_data_dir) in out
    for line in out.splitlines()[1:]:
        assert ("verified" in line) or ("bundled" in line)


def test_cli_list_reports_missing_and_corrupt_files(empty_data_dir, capsys):
    (empty_data_dir / "medmnist").mkdir()
    (empty_data_dir / "medmnist" / "breastmnist.npz").write_bytes(b"junk")
    cli(["list"])
    lines = {line.split()[0]: line for line in capsys.readouterr().out.splitlines()[1:]}
    assert "CORRUPT" in lines["breastmnist"] and "missing" in lines["pneumoniamnist"]


def test_cli_fetch_unknown_name_fails_with_the_known_names(empty_data_dir, capsys):
    assert cli(["fetch", "mnist"]) == 1
    assert "known datasets are" in capsys.readouterr().err


def test_python_dash_m_fedlite_datasets_list_runs(empty_data_dir):
    # Execute: the real command line, in a fresh interpreter
    env = {**os.environ, "PYTHONPATH": str(Path(__file__).resolve().parent.parent)}
    done = subprocess.run([sys.executable, "-m", "fedlite.datasets", "list"], env=env,
                          capture_output=True, text=True, timeout=120)
    # Assert
    assert done.returncode == 0, done.stderr
    assert str(empty_data_dir) in done.stdout and "missing" in done.stdout


def test_twin_facts_are_the_real_files_facts(real_data_dir):
    # The synthetic twins reproduce facts measured on the official files (tools/twin_facts.py);
    # re-measure them and compare, so a changed file or a hand edit cannot go unnoticed.
    import importlib.util

    from fedlite.datasets import twin_facts
    spec = importlib.util.spec_from_file_location("twin_tool", REPO / "tools" / "twin_facts.py")
    tool = importlib.util.module_from_spec(spec)
    spec.loader.exec_module(tool)
    labels, continuous = tool.measure()
    assert labels == twin_facts.LABELS
    assert continuous == twin_facts.HEART_CONTINUOUS


def test_synthetic_twins_keep_real_labels_and_heart_moments(real_data_dir):
    # Same label sequence (so label-based partitions give the same hospitals) and, per heart
    # hospital split, the same sum and number of zeros of each continuous feature.
    for name in ("pneumoniamnist", "breastmnist"):
        real, twin = datasets.load_medmnist(name), synthetic.synthetic_medmnist(name, seed=5)
        assert all(torch.equal(real[s].y, twin[s].y) for s in real)
    real, twin = datasets.load_heart_disease(), synthetic.synthetic_heart_disease(seed=5)
    columns = list(synthetic.HEART_CONTINUOUS_COLUMNS.values())
    for h in HOSPITALS:
        for s in ("train", "test"):
            r, t = real[h][s].x.double()[:, columns], twin[h][s].x.double()[:, columns]
            assert torch.equal(real[h][s].y, twin[h][s].y)
            assert torch.allclose(r.sum(0), t.sum(0), atol=1e-3)
            assert torch.equal((r == 0).sum(0)[:-1], (t == 0).sum(0)[:-1])  # oldpeak: roughly
            assert torch.allclose(r.std(0), t.std(0), rtol=0.05, atol=0.05)


def test_label_packing_round_trips_and_refuses_non_binary():
    y = np.array([1, 0, 0, 1, 1, 1, 0, 1, 1])  # 9 labels: not a whole number of bytes
    assert np.array_equal(synthetic.unpack_labels(synthetic.pack_labels(y), len(y)), y)
    with pytest.raises(ValueError, match="binary"):
        synthetic.pack_labels(np.array([0, 2]))
