"""The ClientApp: one hospital, its own rows, the course's local training.

Three message handlers (Flower's Message API,
https://flower.ai/docs/framework/how-to-upgrade-to-message-api.html and
https://flower.ai/docs/framework/ref-api/flwr.clientapp.ClientApp.html):

- ``query``    -- federated standardization, step 1: send ``(n_k, sum x, sum x^2)``
  of the training rows (:func:`fedlite.normalize.summary_stats`) and how many of
  them lack cholesterol (recorded as 0), plus what was loaded (hospital, source,
  row counts, fingerprint) -- never a row;
- ``train``    -- fill the missing cholesterol with the server's value, append the
  0/1 indicator, standardize with the server's pooled mean/std (:func:`heart_fl.task.prepare`), then
  :func:`fedlite.client.local_train` with seed ``round_seed(seed, t, k)``, exactly
  as :func:`fedlite.run_federated` seeds client ``k`` in round ``t``; reply the new
  weights and ``num-examples = n_k`` (FedAvg's weight);
- ``evaluate`` -- loss and accuracy of the global model on this hospital's test rows,
  weighted by their number (the weighted mean over hospitals is the pooled one).
"""

from __future__ import annotations

import os
from collections.abc import Mapping
from typing import Any

import torch
from flwr.app import ArrayRecord, ConfigRecord, Context, Message, MetricRecord, RecordDict
from flwr.clientapp import ClientApp

from fedlite.datasets.catalog import HOSPITALS
from fedlite.client import ClientResult, LocalConfig, local_train
from fedlite.data import Data
from fedlite.metrics import evaluate as evaluate_model
from fedlite.heterogeneity.normalize import summary_stats
from fedlite.simulation import round_seed
from heart_fl.task import fingerprint, hospital_of, load_hospital, make_global_model, missing_chol_count, prepare

app = ClientApp()


def _my_data(context: Context) -> tuple[str, dict[str, Data], str]:
    hospital = hospital_of(context.node_config)
    splits, source = load_hospital(hospital, str(context.node_config.get("data-file", "")) or None)
    return hospital, splits, source


def _prepared(data: Data, config: Mapping[str, Any]) -> Data:
    return prepare(data, float(config["chol-fill"]), torch.tensor(config["mean"]), torch.tensor(config["std"]))


def _model(state: Mapping[str, torch.Tensor], config: Mapping[str, Any]) -> torch.nn.Module:
    model = make_global_model(int(config["seed"]))
    model.load_state_dict(state)
    return model


def local_update(hospital: str, train: Data, state: Mapping[str, torch.Tensor],
                 config: Mapping[str, Any]) -> ClientResult:
    """What ``train`` does, without Flower: impute and standardize, then the course's local training,
    seeded as :func:`fedlite.run_federated` seeds hospital ``k`` in round ``config["server-round"]``."""
    batch = int(config["batch-size"])
    local = LocalConfig(epochs=int(config["local-epochs"]), batch_size=batch or None, lr=float(config["lr"]))
    seed = round_seed(int(config["seed"]), int(config["server-round"]), HOSPITALS.index(hospital))
    return local_train(_model(state, config), _prepared(train, config), local, seed=seed)


def local_scores(test: Data, state: Mapping[str, torch.Tensor], config: Mapping[str, Any]) -> dict[str, float]:
    """What ``evaluate`` does, without Flower: loss and accuracy on the imputed, standardized test rows."""
    return evaluate_model(_model(state, config), _prepared(test, config))


@app.query()
def query(msg: Message, context: Context) -> Message:
    """Share the training split's summary statistics, its count of missing cholesterol, and what was loaded."""
    hospital, splits, source = _my_data(context)
    n, s, q = summary_stats(splits["train"])
    print(f"[{hospital}] loaded {len(splits['train'])} train / {len(splits['test'])} test rows "
          f"from {source} (pid {os.getpid()})", flush=True)
    sums = ArrayRecord(numpy_ndarrays=[s.numpy(), q.numpy()])
    who = ConfigRecord({"hospital": hospital, "source": source, "n-values": int(n),
                        "n-missing-chol": missing_chol_count(splits["train"]),
                        "n-train": len(splits["train"]), "n-test": len(splits["test"]),
                        "train-fingerprint": fingerprint(splits["train"]),
                        "test-fingerprint": fingerprint(splits["test"])})
    return Message(RecordDict({"sums": sums, "who": who}), reply_to=msg)


@app.train()
def train(msg: Message, context: Context) -> Message:
    """Local training of the broadcast model on this hospital's imputed, standardized training rows."""
    hospital, splits, _ = _my_data(context)
    config = msg.content["config"]
    result = local_update(hospital, splits["train"], msg.content["arrays"].to_torch_state_dict(), config)
    metrics = MetricRecord({"train-loss": result.loss, "num-examples": result.num_samples})
    return Message(RecordDict({"arrays": ArrayRecord(result.state), "metrics": metrics}), reply_to=msg)


@app.evaluate()
def evaluate(msg: Message, context: Context) -> Message:
    """Loss and accuracy of the global model on this hospital's own test rows."""
    _, splits, _ = _my_data(context)
    scores = local_scores(splits["test"], msg.content["arrays"].to_torch_state_dict(), msg.content["config"])
    metrics = MetricRecord({"loss": scores["loss"], "accuracy": scores["accuracy"],
                            "num-examples": len(splits["test"])})
    return Message(RecordDict({"metrics": metrics}), reply_to=msg)
