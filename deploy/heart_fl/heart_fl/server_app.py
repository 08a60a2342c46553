"""The ServerApp: federated standardization, then Flower's own FedAvg.

1. Wait until ``num-nodes`` hospitals are connected, send each a ``query``
   message and combine their ``(n_k, sum, sum of squares)`` and counts of missing
   cholesterol into the fill value for cholesterol 0 and the pooled mean and std
   of the imputed features (:func:`heart_fl.task.impute_summaries`,
   :func:`fedlite.normalize.combine_summaries`); no row leaves a hospital.
2. Run :class:`flwr.serverapp.strategy.FedAvg` (weights ``num-examples = n_k``)
   from the course's initial logistic regression for ``num-server-rounds``
   rounds; every train and evaluate message carries the fill value, mean and std.
3. Write ``result.json`` (per-round metrics, bytes, who answered) and
   ``final_state.npz`` into ``out-dir``.

Docs followed (Flower 1.42): https://flower.ai/docs/framework/how-to-use-strategies.html,
https://flower.ai/docs/framework/ref-api/flwr.serverapp.strategy.FedAvg.html,
https://flower.ai/docs/framework/ref-api/flwr.serverapp.Grid.html.
"""

from __future__ import annotations

import json
import time
from collections.abc import Iterable
from pathlib import Path
from typing import Any

import numpy as np
import torch
from flwr.app import ArrayRecord, ConfigRecord, Context, Message, MessageType, MetricRecord, RecordDict
from flwr.serverapp import Grid, ServerApp
from flwr.serverapp.strategy import FedAvg

from fedlite.datasets.catalog import HOSPITALS
from fedlite.heterogeneity.normalize import combine_summaries
from heart_fl.task import impute_summaries, make_global_model

app = ServerApp()


def wire_bytes(msg: Message) -> int:
    """Bytes of a message as Flower serializes it: every object of its tree (message,
    records, arrays), deflated. Falls back to the records' payload if Flower's
    internals move."""
    try:
        from flwr.supercore.inflatable.inflatable_object import get_all_nested_objects
        return sum(len(obj.deflate()) for obj in get_all_nested_objects(msg).values())
    except (ImportError, AttributeError):  # pragma: no cover - another Flower release
        return sum(record.count_bytes() for record in msg.content.values())


class CountingGrid:
    """Wraps Flower's Grid and logs every ``send_and_receive``: how many messages
    went out and came back, their bytes, and which nodes answered."""

    def __init__(self, grid: Grid) -> None:
        self.grid = grid
        self.log: list[dict[str, Any]] = []

    def __getattr__(self, name: str) -> Any:
        return getattr(self.grid, name)

    def send_and_receive(self, messages: Iterable[Message], *, timeout: float | None = None) -> Iterable[Message]:
        messages = list(messages)
        down = [wire_bytes(m) for m in messages]
        start = time.monotonic()
        replies = list(self.grid.send_and_receive(messages, timeout=timeout))
        ok = [r for r in replies if not r.has_error()]
        # An error reply made by the SuperLink (e.g. "Node Unavailable") comes from the SuperLink
        # itself; the message it answers tells which node it was about.
        about = {m.metadata.message_id: m.metadata.dst_node_id for m in messages}
        self.log.append({
            "type": messages[0].metadata.message_type if messages else "",
            "sent_to": [m.metadata.dst_node_id for m in messages],
            "replied": [r.metadata.src_node_id for r in ok],
            "errors": [{"node": about.get(r.metadata.reply_to_message_id, r.metadata.src_node_id),
                        "reason": r.error.reason} for r in replies if r.has_error()],
            "bytes_down": sum(down), "bytes_up": sum(wire_bytes(r) for r in ok),
            "payload_down": sum(rec.count_bytes() for m in messages for rec in m.content.array_records.values()),
            "payload_up": sum(rec.count_bytes() for r in ok for rec in r.content.array_records.values()),
            "seconds": time.monotonic() - start})
        return replies


def wait_for_nodes(grid: Grid, count: int, timeout: float) -> list[int]:
    """Node ids once ``count`` nodes are connected; RuntimeError after ``timeout`` seconds."""
    deadline = time.monotonic() + timeout
    while len(nodes := sorted(grid.get_node_ids())) < count:
        if time.monotonic() > deadline:
            raise RuntimeError(f"only {len(nodes)} of {count} hospitals connected within {timeout:.0f} s; "
                               "start every SuperNode (see deploy/heart_fl/README.md)")
        time.sleep(0.5)
    return nodes


def federated_standardization(grid: CountingGrid, nodes: list[int],
                              timeout: float) -> tuple[float, list[float], list[float], dict]:
    """Ask every node for its sums; return the cholesterol fill value, the pooled mean and std of
    the imputed features (indicator included) and what each node loaded."""
    query = [Message(RecordDict({"config": ConfigRecord({})}), message_type=MessageType.QUERY, dst_node_id=n)
             for n in nodes]
    replies = list(grid.send_and_receive(query, timeout=timeout))
    failed = [r.error.reason for r in replies if r.has_error()]
    if failed or len(replies) != len(nodes):
        raise RuntimeError(f"federated standardization needs every hospital; got {len(replies)} replies "
                           f"of {len(nodes)}, errors: {failed}")
    loaded = {r.metadata.src_node_id: dict(r.content["who"]) for r in replies}
    hospitals = [who["hospital"] for who in loaded.values()]
    if sorted(hospitals) != sorted(set(hospitals)):
        raise RuntimeError(f"two SuperNodes claim the same hospital: {hospitals}")
    ordered = sorted(replies, key=lambda r: HOSPITALS.index(r.content["who"]["hospital"]))
    stats, missing = [], []
    for r in ordered:
        s, q = (torch.from_numpy(a) for a in r.content["sums"].to_numpy_ndarrays())
        stats.append((int(r.content["who"]["n-values"]), s, q))
        missing.append(int(r.content["who"]["n-missing-chol"]))
    fill, stats = impute_summaries(stats, missing)
    mean, std = combine_summaries(stats)
    return fill, mean.tolist(), std.tolist(), loaded


@app.main()
def main(grid: Grid, context: Context) -> None:
    """Standardize federatedly, run FedAvg, write the results."""
    cfg = context.run_config
    started = time.monotonic()
    counting = CountingGrid(grid)
    nodes = wait_for_nodes(grid, int(cfg["num-nodes"]), float(cfg["wait-timeout"]))
    fill, mean, std, loaded = federated_standardization(counting, nodes, float(cfg["round-timeout"]))
    seed = int(cfg["seed"])
    config = ConfigRecord({"seed": seed, "lr": float(cfg["lr"]), "batch-size": int(cfg["batch-size"]),
                           "local-epochs": int(cfg["local-epochs"]), "chol-fill": fill,
                           "mean": mean, "std": std})
    out = Path(str(cfg["out-dir"])) if cfg["out-dir"] else None
    if out:
        out.mkdir(parents=True, exist_ok=True)
    progress: list[dict[str, Any]] = []

    def after_round(server_round: int, arrays: ArrayRecord) -> MetricRecord | None:
        progress.append({"round": server_round, "seconds": time.monotonic() - started})
        if out:
            (out / "progress.json").write_text(json.dumps(progress))
        if server_round == int(cfg["pause-after-round"]) and float(cfg["pause-seconds"]) > 0:
            print(f"failure drill: pausing {cfg['pause-seconds']} s after round {server_round}", flush=True)
            time.sleep(float(cfg["pause-seconds"]))
        return None

    min_nodes = int(cfg["min-nodes"])
    strategy = FedAvg(fraction_train=1.0, fraction_evaluate=1.0, min_train_nodes=min_nodes,
                      min_evaluate_nodes=min_nodes, min_available_nodes=min_nodes)
    result = strategy.start(grid=counting, initial_arrays=ArrayRecord(make_global_model(seed).state_dict()),
                            num_rounds=int(cfg["num-server-rounds"]), timeout=float(cfg["round-timeout"]),
                            train_config=config, evaluate_config=config, evaluate_fn=after_round)
    if out:
        write_result(out, result, counting.log, loaded, fill, mean, std, time.monotonic() - started)


def write_result(out: Path, result: Any, log: list[dict], loaded: dict, fill: float, mean: list[float],
                 std: list[float], seconds: float) -> None:
    """``final_state.npz`` (arrays by name, no pickle) and ``result.json``."""
    out.mkdir(parents=True, exist_ok=True)
    state = result.arrays.to_torch_state_dict()
    np.savez(out / "final_state.npz", **{k: v.numpy() for k, v in state.items()})
    hospital = {str(node): who["hospital"] for node, who in loaded.items()}
    for entry in log:
        for key in ("sent_to", "replied"):
            entry[key] = [hospital.get(str(n), str(n)) for n in entry[key]]
        for error in entry["errors"]:
            error["node"] = hospital.get(str(error["node"]), str(error["node"]))
    summary = {
        "loaded": {who["hospital"]: who for who in loaded.values()},
        "chol_fill": fill, "mean": mean, "std": std, "seconds": seconds, "messages": log,
        "evaluate": {str(t): dict(m) for t, m in result.evaluate_metrics_clientapp.items()},
        "train": {str(t): dict(m) for t, m in result.train_metrics_clientapp.items()},
    }
    (out / "result.json").write_text(json.dumps(summary, indent=1))
