"""The course datasets, ready to train: ``load("pneumoniamnist")`` and friends.

=======================  =============================================  ============================
name                     what                                           loader
=======================  =============================================  ============================
pneumoniamnist           chest X-ray, normal vs pneumonia, 1x28x28      load_medmnist
breastmnist              breast ultrasound, malignant vs benign, 28x28  load_medmnist
heart_disease            UCI Heart Disease, 4 hospitals, 13 features    load_heart_disease
breast_cancer_wisconsin  569 tumours x 30 features (in scikit-learn)    load_breast_cancer_wisconsin
=======================  =============================================  ============================

Files are downloaded once from the publisher (MD5-verified, see
:mod:`fedlite.datasets.download`) into ``$FEDLITE_DATA`` or the repository's ``data/``
folder. From a shell (the command line is :mod:`fedlite.datasets.__main__`)::

    python -m fedlite.datasets list          # what is cached and verified, and where
    python -m fedlite.datasets fetch all     # download everything (same as `make data`)

Every loader returns a :class:`Splits`: a plain ``dict`` of
:class:`fedlite.data.Data` with a ``synthetic`` flag. Without network and
without cached files the loaders fall back, loudly, to a synthetic twin
(:mod:`fedlite.datasets.synthetic`); ``splits.synthetic`` is then ``True``. Set
``FEDLITE_REQUIRE_REAL_DATA=1`` to make that an error instead.

Features are raw (images only scaled by 1/255). Normalization statistics are
a federated question: statistics pooled over all hospitals' data leak
information and do not exist in FL; per-hospital statistics, or federated
ones built from each hospital's ``n_k``, sum and sum of squares, do. See
:mod:`fedlite.heterogeneity.normalize`.

Not for clinical use.
"""

from __future__ import annotations

from collections.abc import Callable
from pathlib import Path
from typing import Any

from fedlite.datasets import readers
from fedlite.datasets.catalog import DATASETS, HOSPITALS, DatasetInfo, get_info
from fedlite.datasets.download import (ChecksumError, DataNotAvailable, data_dir, ensure_files, fetch,
                              file_path, md5sum)
from fedlite.datasets.synthetic import (SyntheticDataWarning, announce_synthetic, require_real_data,
                              synthetic_heart_disease, synthetic_medmnist)

__all__ = ["DATASETS", "HOSPITALS", "ChecksumError", "DataNotAvailable", "DatasetInfo", "Splits",
           "SyntheticDataWarning", "available", "data_dir", "fetch", "load",
           "load_breast_cancer_wisconsin", "load_heart_disease", "load_medmnist", "status"]

MEDMNIST = ("pneumoniamnist", "breastmnist")


class Splits(dict):
    """A ``dict`` of splits (``"train"``, ``"test"``, ...) that also says where it came from.

    Attributes
    ----------
    synthetic : bool
        ``True`` if this is the offline synthetic twin, not the real data.
    source : str
        The folder the real files were read from, or ``"synthetic"``.
    """

    def __init__(self, splits: dict[str, Any], *, synthetic: bool, source: str) -> None:
        super().__init__(splits)
        self.synthetic = synthetic
        self.source = source


def available() -> list[str]:
    """Names of all datasets, e.g. for ``load(name)``."""
    return sorted(DATASETS)


def load(name: str, **kwargs: Any) -> Splits:
    """Load dataset ``name`` with its loader (keyword arguments are passed on)."""
    get_info(name)  # ValueError listing the known names
    if name in MEDMNIST:
        return load_medmnist(name, **kwargs)
    if name == "heart_disease":
        return load_heart_disease(**kwargs)
    return load_breast_cancer_wisconsin(**kwargs)


def _real_or_synthetic(name: str, read: Callable[[list[Path]], dict],
                       twin: Callable[[], dict]) -> Splits:
    """Read the verified real files, or fall back (loudly) to the synthetic twin."""
    try:
        paths = ensure_files(name)
    except DataNotAvailable as err:
        if require_real_data():
            raise RuntimeError(f"{err} (FEDLITE_REQUIRE_REAL_DATA is set, so there is no "
                               "synthetic fallback; unset it to allow one)") from err
        announce_synthetic(name, str(err))
        return Splits(twin(), synthetic=True, source="synthetic")
    return Splits(read(paths), synthetic=False, source=str(paths[0].parent))


def load_medmnist(name: str, *, seed: int = 0) -> Splits:
    """A MedMNIST v2 dataset as ``{"train", "val", "test"}`` :class:`~fedlite.data.Data`.

    Images are ``float32 (N, 1, 28, 28)`` in ``[0, 1]`` (``x / 255``, a fixed
    scaling, so no statistics leak between splits); labels ``int64 (N,)``.
    The splits are MedMNIST's official ones; ``seed`` only seeds the
    synthetic twin used when the file is unavailable.

    References: Yang et al., "MedMNIST v2", Scientific Data 10, 41 (2023).
    """
    if name not in MEDMNIST:
        raise ValueError(f"{name!r} is not a MedMNIST dataset; choose one of {', '.join(MEDMNIST)}")
    return _real_or_synthetic(name, lambda paths: readers.read_medmnist(paths[0]),
                              lambda: synthetic_medmnist(name, seed=seed))


def load_heart_disease(*, seed: int = 0) -> Splits:
    """UCI Heart Disease as 4 real hospitals: ``{hospital: {"train", "test"}}``.

    Hospitals: ``"cleveland"``, ``"hungarian"``, ``"switzerland"``, ``"va"``
    (VA Long Beach). Preprocessing and split are FLamby's Fed-Heart-Disease
    (Ogier du Terrail et al., NeurIPS 2022; owkin/FLamby,
    ``flamby/datasets/fed_heart_disease/dataset.py``), re-implemented in
    :func:`fedlite.datasets.readers.read_heart_table`: 740 rows, train/test
    199/104, 172/89, 30/16, 85/45, 13 raw features, ``y = (num > 0)``.
    Unlike FLamby the features are *not* standardized: which statistics to
    use is a federated question (:mod:`fedlite.heterogeneity.normalize`). The split is
    FLamby's fixed one; ``seed`` only seeds the synthetic twin.

    Note: Switzerland's training split has no healthy patient and its
    cholesterol column is always 0 (not recorded there) -- real data is messy.
    """
    def read(paths: list[Path]) -> dict:
        by_name = {p.name: p for p in paths}
        return {h: readers.read_heart_hospital(by_name[f"processed.{h}.data"]) for h in HOSPITALS}

    return _real_or_synthetic("heart_disease", read, lambda: synthetic_heart_disease(seed=seed))


def load_breast_cancer_wisconsin(*, seed: int = 0) -> Splits:
    """Breast Cancer Wisconsin (Diagnostic): stratified 70/30 train/test, raw features.

    Ships with scikit-learn, so it always loads offline. ``y = 0`` malignant,
    ``1`` benign; the split is seeded by ``seed`` (398 train / 171 test).
    """
    return Splits(readers.read_breast_cancer_wisconsin(seed=seed), synthetic=False,
                  source="sklearn.datasets.load_breast_cancer")


def status(name: str) -> str:
    """The local copy in one word: verified, missing, partial, CORRUPT or bundled."""
    info = get_info(name)
    if not info.files:
        return "bundled"
    paths = [(file_path(info, spec), spec.md5) for spec in info.files]
    present = [(path, md5) for path, md5 in paths if path.is_file()]
    if any(md5sum(path) != md5 for path, md5 in present):
        return "CORRUPT"
    if len(present) == len(paths):
        return "verified"
    return "partial" if present else "missing"
