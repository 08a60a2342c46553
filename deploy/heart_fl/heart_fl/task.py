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
- :func:`make_global_model` -- the course's logistic regression, the same
  initial weights as ``make_model("logreg", seed=seed, in_features=13)``.

Node configuration: https://flower.ai/docs/framework/how-to-run-flower-with-deployment-engine.html
(``--node-config``) and https://flower.ai/docs/framework/ref-api/flwr.app.Context.html.
"""

from __future__ import annotations

import hashlib
import warnings
from collections.abc import Mapping
from pathlib import Path
from typing import Any

from torch import nn

from fedlite.datasets.catalog import HOSPITALS, get_info
from fedlite.data import Data
from fedlite.datasets.download import file_path, is_verified
from fedlite.datasets.synthetic import require_real_data, synthetic_heart_disease
from fedlite.models import make_model
from fedlite.datasets.readers import HEART_FEATURES, read_heart_hospital

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


def make_global_model(seed: int) -> nn.Module:
    """The course's logistic regression on the 13 heart features, initialised from ``seed``."""
    return make_model("logreg", seed=seed, in_features=len(HEART_FEATURES))
