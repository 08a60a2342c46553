"""Turn the official dataset files into ready-to-train :class:`fedlite.data.Data`.

These functions only parse and split; finding and verifying the files is
:mod:`fedlite.datasets.download`'s job. Features are returned *raw* (images scaled by
the fixed constant 1/255, tabular features untouched): standardizing with
statistics is a federated question, see :mod:`fedlite.heterogeneity.normalize`.
"""

from __future__ import annotations

from pathlib import Path

import numpy as np

from fedlite.data import Data, make_data

MEDMNIST_SPLITS = ("train", "val", "test")

# UCI "processed" columns: 0 age, 1 sex, 2 cp, 3 trestbps, 4 chol, 5 fbs, 6 restecg,
# 7 thalach, 8 exang, 9 oldpeak, 10 slope, 11 ca, 12 thal, 13 num (0-4).
HEART_RAW_COLUMNS = ("age", "sex", "cp", "trestbps", "chol", "fbs", "restecg",
                     "thalach", "exang", "oldpeak", "slope", "ca", "thal", "num")
HEART_DROPPED = (10, 11, 12)  # slope, ca, thal: mostly missing outside Cleveland
HEART_NUMERIC = (0, 1, 3, 4, 5, 7, 8, 9)
HEART_ONE_HOT = ((2, (2.0, 3.0, 4.0)), (6, (1.0, 2.0)))  # cp=1 and restecg=0 are the baselines
HEART_FEATURES = ("age", "sex", "trestbps", "chol", "fbs", "thalach", "exang", "oldpeak",
                  "cp_2", "cp_3", "cp_4", "restecg_1", "restecg_2")
FLAMBY_TRAIN_FRACTION = 0.66
FLAMBY_SEED = 43


def read_medmnist(path: Path) -> dict[str, Data]:
    """Read a MedMNIST ``.npz`` into ``{"train", "val", "test"}`` splits.

    Images ``uint8 (N, 28, 28)`` become ``float32 (N, 1, 28, 28)`` in
    ``[0, 1]`` via ``x / 255``: a fixed constant, so no statistic of any split
    leaks into another. Labels ``(N, 1)`` become ``int64 (N,)``.
    """
    with np.load(path, allow_pickle=False) as npz:
        missing = [f"{s}_{k}" for s in MEDMNIST_SPLITS for k in ("images", "labels")
                   if f"{s}_{k}" not in npz.files]
        if missing:
            raise ValueError(f"{path} is not a MedMNIST file: keys {missing} are missing "
                             f"(found {npz.files}); re-fetch it with "
                             "`python -m fedlite.datasets fetch NAME --force`")
        return {s: _medmnist_split(npz[f"{s}_images"], npz[f"{s}_labels"])
                for s in MEDMNIST_SPLITS}


def _medmnist_split(images: np.ndarray, labels: np.ndarray) -> Data:
    if images.ndim != 3:
        raise ValueError(f"expected grey images of shape (N, H, W), got {images.shape}; "
                         "only the 2D single-channel MedMNIST subsets are supported")
    x = images.astype(np.float32)[:, None, :, :] / 255.0
    return make_data(x, labels.reshape(-1).astype(np.int64))


def read_heart_table(path: Path) -> tuple[np.ndarray, np.ndarray]:
    """Parse one UCI ``processed.*.data`` file into ``(features, y)``, FLamby-style.

    Steps, following FLamby's Fed-Heart-Disease (Ogier du Terrail et al. 2022,
    ``flamby/datasets/fed_heart_disease/dataset.py`` in owkin/FLamby):

    1. ``'?'`` marks a missing value; drop columns slope, ca, thal (10-12),
       then drop every row that still has a missing value;
    2. one-hot encode chest-pain type ``cp`` (1-4) and resting ECG ``restecg``
       (0-2), dropping the first level, after the 8 numeric columns (13
       features, order :data:`HEART_FEATURES`);
    3. target ``y = 1 if num > 0 else 0`` (any angiographic disease).

    Features stay raw (ages in years, cholesterol in mg/dl, ...). FLamby then
    standardizes each centre with its own training statistics; here that is
    left to :mod:`fedlite.heterogeneity.normalize`, because it is a federated choice.
    """
    rows = [line.strip().split(",") for line in Path(path).read_text().splitlines() if line.strip()]
    if any(len(r) != len(HEART_RAW_COLUMNS) for r in rows):
        raise ValueError(f"{path}: every row must have {len(HEART_RAW_COLUMNS)} comma-separated "
                         "values (UCI 'processed' format); re-fetch the file")
    table = np.array([[np.nan if v == "?" else float(v) for v in r] for r in rows])
    kept = np.delete(table, HEART_DROPPED, axis=1)
    table = table[~np.isnan(kept).any(axis=1)]
    one_hot = [table[:, col, None] == np.array(levels) for col, levels in HEART_ONE_HOT]
    features = np.hstack([table[:, HEART_NUMERIC]] + [o.astype(np.float64) for o in one_hot])
    return features, (table[:, 13] > 0).astype(np.int64)


def flamby_split(y: np.ndarray, *, seed: int = FLAMBY_SEED) -> tuple[np.ndarray, np.ndarray]:
    """FLamby's per-centre train/test split: sorted ``(train_idx, test_idx)``.

    ``sklearn.model_selection.train_test_split`` with ``train_size=0.66``,
    ``test_size=1 - 0.66``, shuffling with ``random_state=43``, stratified on
    ``y`` when both classes have more than 2 samples. Rows keep their file
    order, as in FLamby, so the result matches Fed-Heart-Disease sample for sample.
    """
    from sklearn.model_selection import train_test_split  # imported here: slow, and only tables need it

    levels, counts = np.unique(y, return_counts=True)
    stratify = y if len(levels) > 1 and (counts > 2).all() else None
    train, test = train_test_split(np.arange(len(y)), train_size=FLAMBY_TRAIN_FRACTION,
                                   test_size=1.0 - FLAMBY_TRAIN_FRACTION, random_state=seed,
                                   shuffle=True, stratify=stratify)
    return np.sort(train), np.sort(test)


def read_heart_hospital(path: Path) -> dict[str, Data]:
    """One hospital's ``{"train", "test"}`` split (FLamby's fixed split, raw features)."""
    x, y = read_heart_table(path)
    train, test = flamby_split(y)
    return {"train": make_data(x[train], y[train]), "test": make_data(x[test], y[test])}


def read_breast_cancer_wisconsin(*, seed: int = 0, test_size: float = 0.3) -> dict[str, Data]:
    """Breast Cancer Wisconsin (from scikit-learn) as a stratified train/test split.

    ``y = 0`` malignant, ``1`` benign (scikit-learn's coding). The split is
    ``train_test_split(..., test_size=0.3, stratify=y, random_state=seed)``:
    398 train / 171 test. Features (30 tumour measurements) stay raw.
    """
    from sklearn.datasets import load_breast_cancer
    from sklearn.model_selection import train_test_split

    x, y = load_breast_cancer(return_X_y=True)
    train, test = train_test_split(np.arange(len(y)), test_size=test_size, stratify=y,
                                   random_state=seed)
    return {"train": make_data(x[train], y[train]), "test": make_data(x[test], y[test])}
