"""The heart-disease federation, ready to train: four real hospitals, standardized with federated statistics.

Notebook 03b builds this step by step; later notebooks call :func:`heart_hospitals`:

1. load UCI Heart Disease as four hospitals (:func:`fedlite.datasets.load_heart_disease`),
2. compute the mean and standard deviation of every feature *federatedly*, from each hospital's
   ``n_k``, sum and sum of squares of its training rows
   (:func:`fedlite.heterogeneity.normalize.federated_mean_std`), and
3. standardize every hospital's training and test rows with those statistics
   (:func:`fedlite.heterogeneity.normalize.standardize`).
"""

from __future__ import annotations

from typing import NamedTuple

from torch import Tensor

from fedlite.data import Data
from fedlite.datasets import Splits, load_heart_disease
from fedlite.heterogeneity.normalize import federated_mean_std, standardize


class HeartHospitals(NamedTuple):
    """``names[k]``'s standardized training and test data are ``trains[k]`` and ``tests[k]``."""

    names: list[str]
    trains: list[Data]
    tests: list[Data]
    mean: Tensor
    std: Tensor


def heart_hospitals(heart: Splits | None = None, *, seed: int = 0) -> HeartHospitals:
    """Cleveland, Hungary, Switzerland and VA Long Beach, features standardized with federated statistics.

    ``heart`` is what :func:`~fedlite.datasets.load_heart_disease` returned (loaded here if
    omitted): a notebook loads it in a cell of its own, where the offline banner may show, and
    can ask ``heart.synthetic``. ``seed`` only seeds the synthetic twin used when the real files
    are unavailable.
    """
    heart = load_heart_disease(seed=seed) if heart is None else heart
    names = list(heart)
    mean, std = federated_mean_std([heart[h]["train"] for h in names])
    return HeartHospitals(names, [standardize(heart[h]["train"], mean, std) for h in names],
                          [standardize(heart[h]["test"], mean, std) for h in names], mean, std)
