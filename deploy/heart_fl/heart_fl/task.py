"""What both sides of the heart-disease app share, built from fedlite pieces.

- :func:`hospital_of` -- which hospital a node is, from Flower's *node config*:
  ``hospital="cleveland"`` (deployment: the SuperNode is started with
  ``--node-config``) or ``partition-id=0`` (the simulation engine sets it);
- :func:`load_hospital` -- that hospital's rows, and only those: one UCI
  ``processed.<hospital>.data`` file, split as FLamby does
  (:func:`fedlite.readers.read_heart_hospital`), or the synthetic twin's
  hospital when the real file is missing (offline);
- :func:`fingerprint` -- a short hash of the rows a node loaded, so a test
  can check each node read its own hospital and nothing else;
- :func:`missing_chol_summary` / :func:`impute_summaries` / :func:`prepare` -- cholesterol 0
  means "not measured" (all of Switzerland, a quarter of VA); as in
  :func:`fedlite.datasets.heart.heart_hospitals`, it is filled with the mean of the measured values
  over all hospitals, and a 0/1 indicator ``chol_missing`` is appended last (14 features). A node
  only adds *how many* of its rows lack the value to the sums it already sends; the server derives
  the fill value and the standardization statistics from those sums alone;
- :func:`make_global_model` -- the course's logistic regression, the same
  initial weights as ``make_model("logreg", seed=seed, in_features=14)``.

Node configuration: https://flower.ai/docs/framework/how-to-run-flower-with-deployment-engine.html
(``--node-config``) and https://flower.ai/docs/framework/ref-api/flwr.app.Context.html.
"""

from __future__ import annotations

import hashlib
import warnings
from collections.abc import Mapping
from pathlib import Path
from typing import Any

import torch
from torch import Tensor, nn

from fedlite.datasets.catalog import HOSPITALS, get_info
from fedlite.data import Data
from fedlite.datasets.download import file_path, is_verified
from fedlite.datasets.synthetic import require_real_data, synthetic_heart_disease
from fedlite.models import make_model
from fedlite.datasets.readers import HEART_FEATURES, read_heart_hospital
from fedlite.heterogeneity.normalize import impute_missing, standardize

CHOL = HEART_FEATURES.index("chol")      # a recorded 0 means "not measured"
NUM_FEATURES = len(HEART_FEATURES) + 1   # the 13 UCI features + the indicator chol_missing

DATA_SEED = 0  # seeds only the synthetic twin, as fedlite.datasets.load_heart_disease() does


def hospital_of(node_config: Mapping[str, Any]) -> str:
    """The hospital this node is: ``hospital`` if given, else ``HOSPITALS[partition-id]``."""
    if "hospital" in node_config:
        name = str(node_config["hospital"]).lower()
    elif "partition-id" in node_config:
        pid = int(node_config["partition-id"])
        if not 0 <= pid < len(HOSPITALS):
            raise ValueError(f"partition-id {pid} is not a hospital; use 0..{len(HOSPITALS) - 1} "
                             f"for {', '.join(HOSPITALS)} (set options.num-supernodes = {len(HOSPITALS)})")
        name = HOSPITALS[pid]
    else:
        raise ValueError("this SuperNode does not say which hospital it is: start it with "
                         "--node-config 'hospital=\"cleveland\"' (or one of "
                         f"{', '.join(HOSPITALS)}), optionally with data-file=\"/path/processed.cleveland.data\"")
    if name not in HOSPITALS:
        raise ValueError(f"unknown hospital {name!r} in the node config; expected one of {', '.join(HOSPITALS)}")
    return name


def load_hospital(hospital: str, data_file: str | None = None) -> tuple[dict[str, Data], str]:
    """``({"train", "test"}, source)`` for ``hospital`` alone; ``source`` is a path or ``"synthetic"``.

    ``data_file`` (node config ``data-file``) names the file explicitly; its name
    must be ``processed.<hospital>.data``. Without it the verified copy in the
    course's data folder (``$FEDLITE_DATA``) is read, or, if there is none, the
    synthetic twin's hospital (an error if ``FEDLITE_REQUIRE_REAL_DATA`` is set).
    """
    if hospital not in HOSPITALS:
        raise ValueError(f"unknown hospital {hospital!r}; expected one of {', '.join(HOSPITALS)}")
    expected = f"processed.{hospital}.data"
    if data_file:
        path = Path(data_file)
        if path.name != expected:
            raise ValueError(f"node config says hospital={hospital!r} but data-file is {path.name!r}; "
                             f"the file of {hospital} is called {expected!r}")
        if not path.is_file():
            raise ValueError(f"data-file {path} does not exist on this node; fetch it with "
                             "`python -m fedlite.datasets fetch heart_disease` or fix the path")
        return read_heart_hospital(path), str(path)
    info = get_info("heart_disease")
    spec = next(s for s in info.files if s.name == expected)
    if is_verified(info, spec):
        path = file_path(info, spec)
        return read_heart_hospital(path), str(path)
    if require_real_data():
        raise RuntimeError(f"{expected} is not in the data folder and FEDLITE_REQUIRE_REAL_DATA is set")
    warnings.warn(f"{expected} not found: {hospital} uses the synthetic twin (not real patients)", stacklevel=2)
    return synthetic_heart_disease(seed=DATA_SEED)[hospital], "synthetic"


def fingerprint(data: Data) -> str:
    """First 16 hex digits of SHA-256 over a split's features and labels (float64 / int64 bytes)."""
    digest = hashlib.sha256(data.x.double().numpy().tobytes())
    digest.update(data.y.long().numpy().tobytes())
    return digest.hexdigest()[:16]


def missing_chol_count(train: Data) -> int:
    """How many training rows have cholesterol 0 ("not measured"): all a node adds to its sums."""
    return int((train.x[:, CHOL] == 0).sum())


Summary = tuple[int, Tensor, Tensor]   # (n_k, sum x, sum x^2) per feature, float64: summary_stats


def impute_summaries(raw: list[Summary], missing: list[int]) -> tuple[float, list[Summary]]:
    """The server's half of the imputation: the fill value, and each hospital's summary of its
    rows *after* imputation and with the indicator appended -- from the raw sums and the counts of
    missing values alone, so no extra message is needed.

    A missing cholesterol is recorded as 0, so it adds nothing to ``s_k`` or ``q_k``. With ``m_k``
    missing values at hospital ``k``::

        fill  = sum_k s_k[chol] / sum_k (n_k - m_k)        (mean of the measured values)
        s'_k[chol] = s_k[chol] + m_k * fill,   q'_k[chol] = q_k[chol] + m_k * fill^2
        s'_k[ind]  = q'_k[ind] = m_k                       (the 0/1 indicator: 1^2 = 1)

    ``fill`` is what :func:`fedlite.heterogeneity.normalize.federated_observed_mean` returns;
    ``combine_summaries`` of the result is the mean/std of ``heart_hospitals()`` (a test checks).
    The float32 ``fill`` the nodes write into their rows is used for ``s'`` and ``q'``.
    """
    if len(raw) != len(missing) or any(not 0 <= m <= n for (n, _, _), m in zip(raw, missing)):
        raise ValueError(f"expected one count of missing cholesterol per hospital, each between 0 and its n_k; "
                         f"got {missing} for n_k = {[n for n, _, _ in raw]}")
    measured = sum(n - m for (n, _, _), m in zip(raw, missing))
    if measured == 0:
        raise ValueError("cholesterol is missing in every training row of every hospital; nothing to impute from")
    fill = sum(float(s[CHOL]) for _, s, _ in raw) / measured
    f32 = float(torch.tensor(fill, dtype=torch.float32))
    out = []
    for (n, s, q), m in zip(raw, missing):
        s, q = s.clone(), q.clone()
        s[CHOL] += m * f32
        q[CHOL] += m * f32 * f32
        extra = torch.tensor([float(m)], dtype=s.dtype)
        out.append((n, torch.cat([s, extra]), torch.cat([q, extra])))
    return fill, out


def prepare(data: Data, fill: float, mean: Tensor, std: Tensor) -> Data:
    """A node's rows as the model sees them: cholesterol 0 filled and flagged, then standardized."""
    return standardize(impute_missing(data, CHOL, fill), mean, std)


def make_global_model(seed: int) -> nn.Module:
    """The course's logistic regression on the 13 heart features + ``chol_missing``, initialised from ``seed``."""
    return make_model("logreg", seed=seed, in_features=NUM_FEATURES)
