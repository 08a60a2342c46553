"""The heart-disease federation, ready to train: four real hospitals, standardized with federated statistics.

Notebook 03b builds this step by step; later notebooks call :func:`heart_hospitals`:

1. load UCI Heart Disease as four hospitals (:func:`fedlite.datasets.load_heart_disease`),
2. compute the mean and standard deviation of every feature *federatedly*, from each hospital's
   ``n_k``, sum and sum of squares of its training rows
   (:func:`fedlite.heterogeneity.normalize.federated_mean_std`), and
3. standardize every hospital's training and test rows with those statistics
   (:func:`fedlite.heterogeneity.normalize.standardize`).

Before step 2, a cholesterol of 0 ("not recorded": all of Switzerland, a quarter of VA, mostly
diseased patients) is treated as missing: filled with the federated mean of the measured values and
flagged in an extra 0/1 feature ``chol_missing``, appended last
(:func:`fedlite.heterogeneity.normalize.federated_observed_mean`, ``impute_missing``; the
missing-indicator method). Read as a value, the 0 is a site-and-disease shortcut (notebook 03b).
``missing_cholesterol=False`` keeps the recorded 0, only to show that shortcut.
"""

from __future__ import annotations

from typing import NamedTuple

from torch import Tensor

from fedlite.data import Data
from fedlite.datasets import Splits, load_heart_disease
from fedlite.datasets.readers import HEART_FEATURES
from fedlite.heterogeneity.normalize import federated_mean_std, federated_observed_mean, impute_missing, standardize


class HeartHospitals(NamedTuple):
    """``names[k]``'s standardized training and test data are ``trains[k]`` and ``tests[k]``."""

    names: list[str]
    trains: list[Data]
    tests: list[Data]
    mean: Tensor
    std: Tensor


def heart_hospitals(heart: Splits | None = None, *, seed: int = 0,
                    missing_cholesterol: bool = True) -> HeartHospitals:
    """Cleveland, Hungary, Switzerland and VA Long Beach, features standardized with federated statistics.

    ``heart`` is what :func:`~fedlite.datasets.load_heart_disease` returned (loaded here if
    omitted): a notebook loads it in a cell of its own, where the offline banner may show, and
    can ask ``heart.synthetic``. ``missing_cholesterol`` (default): treat cholesterol 0 as missing
    (federated-mean imputation plus a 0/1 indicator column appended last: 14 features). ``seed`` only seeds
    the synthetic twin used when the real files are unavailable.
    """
    heart = load_heart_disease(seed=seed) if heart is None else heart
    names = list(heart)
    trains, tests = [heart[h]["train"] for h in names], [heart[h]["test"] for h in names]
    if missing_cholesterol:
        chol = HEART_FEATURES.index("chol")
        fill = federated_observed_mean(trains, chol)
        trains, tests = ([impute_missing(d, chol, fill) for d in part] for part in (trains, tests))
    mean, std = federated_mean_std(trains)
    return HeartHospitals(names, [standardize(d, mean, std) for d in trains],
                          [standardize(d, mean, std) for d in tests], mean, std)
