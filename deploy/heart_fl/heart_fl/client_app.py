"""The ClientApp: one hospital, its own rows, the course's local training.

Three message handlers (Flower's Message API,
https://flower.ai/docs/framework/how-to-upgrade-to-message-api.html and
https://flower.ai/docs/framework/ref-api/flwr.clientapp.ClientApp.html):

- ``query``    -- federated standardization, step 1: send ``(n_k, sum x, sum x^2)``
  of the training rows (:func:`fedlite.normalize.summary_stats`), plus what was
  loaded (hospital, source, row counts, fingerprint) -- never a row;
- ``train``    -- standardize with the server's pooled mean/std, then
  :func:`fedlite.client.local_train` with seed ``round_seed(seed, t, k)``, exactly
  as :func:`fedlite.run_federated` seeds client ``k`` in round ``t``; reply the new
  weights and ``num-examples = n_k`` (FedAvg's weight);
- ``evaluate`` -- loss and accuracy of the global model on this hospital's test rows,
  weighted by their number (the weighted mean over hospitals is the pooled one).
"""

from __future__ import annotations

import os

import torch
from flwr.app import ArrayRecord, ConfigRecord, Context, Message, MetricRecord, RecordDict
from flwr.clientapp import ClientApp

from fedlite.datasets.catalog import HOSPITALS
from fedlite.client import LocalConfig, local_train
from fedlite.data import Data
from fedlite.metrics import evaluate as evaluate_model
from fedlite.heterogeneity.normalize import standardize, summary_stats
from fedlite.simulation import round_seed
from heart_fl.task import fingerprint, hospital_of, load_hospital, make_global_model

app = ClientApp()


def _my_data(context: Context) -> tuple[str, dict[str, Data], str]:
    hospital = hospital_of(context.node_config)
    splits, source = load_hospital(hospital, str(context.node_config.get("data-file", "")) or None)
    return hospital, splits, source


def _standardized(data: Data, config: ConfigRecord) -> Data:
    return standardize(data, torch.tensor(config["mean"]), torch.tensor(config["std"]))


def _global_model(msg: Message) -> torch.nn.Module:
    config = msg.content["config"]
    model = make_global_model(int(config["seed"]))
    model.load_state_dict(msg.content["arrays"].to_torch_state_dict())
    return model


@app.query()
def query(msg: Message, context: Context) -> Message:
    """Share the training split's summary statistics and what was loaded."""
    hospital, splits, source = _my_data(context)
    n, s, q = summary_stats(splits["train"])
    print(f"[{hospital}] loaded {len(splits['train'])} train / {len(splits['test'])} test rows "
          f"from {source} (pid {os.getpid()})", flush=True)
    sums = ArrayRecord(numpy_ndarrays=[s.numpy(), q.numpy()])
    who = ConfigRecord({"hospital": hospital, "source": source, "n-values": int(n),
                        "n-train": len(splits["train"]), "n-test": len(splits["test"]),
                        "train-fingerprint": fingerprint(splits["train"]),
                        "test-fingerprint": fingerprint(splits["test"])})
    return Message(RecordDict({"sums": sums, "who": who}), reply_to=msg)


@app.train()
def train(msg: Message, context: Context) -> Message:
    """Local training of the broadcast model on this hospital's standardized training rows."""
    hospital, splits, _ = _my_data(context)
    config = msg.content["config"]
    model = _global_model(msg)
    batch = int(config["batch-size"])
    local = LocalConfig(epochs=int(config["local-epochs"]), batch_size=batch or None, lr=float(config["lr"]))
    seed = round_seed(int(config["seed"]), int(config["server-round"]), HOSPITALS.index(hospital))
    result = local_train(model, _standardized(splits["train"], config), local, seed=seed)
    metrics = MetricRecord({"train-loss": result.loss, "num-examples": result.num_samples})
    return Message(RecordDict({"arrays": ArrayRecord(result.state), "metrics": metrics}), reply_to=msg)


@app.evaluate()
def evaluate(msg: Message, context: Context) -> Message:
    """Loss and accuracy of the global model on this hospital's own test rows."""
    _, splits, _ = _my_data(context)
    test = _standardized(splits["test"], msg.content["config"])
    scores = evaluate_model(_global_model(msg), test)
    metrics = MetricRecord({"loss": scores["loss"], "accuracy": scores["accuracy"], "num-examples": len(test)})
    return Message(RecordDict({"metrics": metrics}), reply_to=msg)
