"""Several-seed experiments the notebooks quote but cannot afford to run live; stored as small JSON.

Each experiment repeats a notebook's comparison on seeds 0-4 (model
initialization and batch order change with the seed; the hospitals stay the
same) and writes ``fedlite/results/<name>.json`` (per-seed, per-round test
metrics, see :mod:`fedlite.evidence`). The notebooks load the file with
``evidence.load(evidence.stored("<name>"))`` and print mean, 95 % interval
and paired differences from it.

    python benchmarks/seeds.py              # recompute everything and overwrite the stored files
    python benchmarks/seeds.py --check      # recompute and compare with the stored files (CI)
    python benchmarks/seeds.py nb01 --check # only one experiment

Run from the repository root with ``FEDLITE_DATA`` pointing at the official data. Everything runs on one
torch thread, so the numbers do not depend on the core count; ``--check`` allows ``1e-3`` because float
sums may still differ in the last digits between CPUs and torch builds. Run time: the experiments run in
parallel, one per core (``--jobs``); each takes about 2.5 minutes of CPU on an idle core (each prints its own).
"""

from __future__ import annotations

import argparse
import sys
import time
from collections.abc import Callable
from concurrent.futures import ProcessPoolExecutor
from pathlib import Path

import numpy as np
import torch

ROOT = Path(__file__).resolve().parent.parent
sys.path.insert(0, str(ROOT))

import fedlite as fl  # noqa: E402
from fedlite import evidence  # noqa: E402

SEEDS = evidence.DEFAULT_SEEDS
TOLERANCE = 1e-3


def nb01_three_options() -> tuple[dict[str, evidence.Repeated], dict]:
    """Notebook 01: centralized vs local only vs FedAvg, PneumoniaMNIST, 5 quantity-skewed hospitals, 10 rounds."""
    from fedlite.datasets import load_medmnist
    from fedlite.heterogeneity.hospitals import make_hospitals

    xray = load_medmnist("pneumoniamnist")
    train, test = xray["train"], xray["test"]
    hospitals = make_hospitals(train, 5, skew="quantity", alpha=1.0, seed=3)
    pooled = fl.pool(hospitals)
    config = fl.LocalConfig(epochs=1, batch_size=32, lr=0.02, momentum=0.9)
    rounds = 10
    runs = {
        "centralized": evidence.repeat(lambda s: fl.run_centralized(
            fl.make_model("cnn", seed=s), pooled, test, epochs=rounds, local=config, seed=s, progress=False),
            SEEDS, name="Centralized"),
        "local_only": evidence.repeat(lambda s: fl.run_local_only(
            fl.make_model("cnn", seed=s), hospitals, test, epochs=rounds, local=config, seed=s, progress=False)[0],
            SEEDS, name="Local only"),
        "fedavg": evidence.repeat(lambda s: fl.run_federated(
            fl.make_model("cnn", seed=s), hospitals, test, rounds=rounds, local=config, seed=s, progress=False),
            SEEDS, name="FedAvg"),
    }
    meta = {"notebook": "01", "dataset": "pneumoniamnist", "hospitals": "make_hospitals(train, 5, "
            "skew='quantity', alpha=1.0, seed=3)", "local": "epochs=1, batch_size=32, lr=0.02, momentum=0.9",
            "rounds": rounds, "seed_controls": "make_model(seed=s) and the run's seed=s"}
    return runs, meta


def tutorial_fl(hospitals, test, rounds, *, aggregate="sum", broadcast=False, seed=0) -> fl.History:
    """Notebook 02 §4's loop (the seed tutorial's, with each fix a switch); seed 0 is the notebook's run."""
    import copy

    from fedlite.history import History, Round
    from fedlite.metrics import evaluate

    local = fl.LocalConfig(lr=0.02, momentum=0.9, batch_size=10)
    server = fl.make_model("cnn", seed=seed)
    models = [copy.deepcopy(server) for _ in hospitals]
    sizes = [len(h) for h in hospitals]
    history = History(f"{aggregate}, broadcast={broadcast}")
    for t in range(rounds):
        for k, (model, data) in enumerate(zip(models, hospitals)):
            if broadcast:
                model.load_state_dict(server.state_dict())
            fl.local_train(model, data, local, seed=100 * t + k + 10_000 * seed)
        states = [m.state_dict() for m in models]
        if aggregate == "sum":
            new = {key: sum(s[key] for s in states) for key in states[0]}
        else:
            new = fl.fedavg(states, sizes if aggregate == "weighted" else [1] * len(states))
        server.load_state_dict(new)
        history.rounds.append(Round(t + 1, evaluate(server, test)))
    return history


def nb02_tutorial_loop() -> tuple[dict[str, evidence.Repeated], dict]:
    """Notebook 02 §4: the seed tutorial's loop and its fixes, trained 15 rounds, 1,000 X-rays, 4 hospitals."""
    import numpy as np

    from fedlite.datasets import load_medmnist
    from fedlite.heterogeneity.hospitals import make_hospitals

    xray = load_medmnist("pneumoniamnist")
    train, test = xray["train"], xray["test"]
    subset = train.subset(np.sort(np.random.default_rng(0).permutation(len(train))[:1000]))
    hospitals = make_hospitals(subset, 4, skew="label", alpha=1.0, seed=0)
    rounds = 15
    stages = {"tutorial": dict(aggregate="sum", broadcast=False),
              "fix2_broadcast": dict(aggregate="mean", broadcast=True),
              "fix3_fedavg": dict(aggregate="weighted", broadcast=True)}
    names = {"tutorial": "tutorial (sum, no broadcast)", "fix2_broadcast": "fix 1+2: average + broadcast",
             "fix3_fedavg": "fix 3: + weights n_k/n (FedAvg)"}
    runs = {key: evidence.repeat(lambda s, kw=kw: tutorial_fl(hospitals, test, rounds, seed=s, **kw), SEEDS,
                                 name=names[key]) for key, kw in stages.items()}
    meta = {"notebook": "02", "dataset": "pneumoniamnist, 1,000 training images (rng 0)",
            "hospitals": "make_hospitals(subset, 4, skew='label', alpha=1.0, seed=0)",
            "local": "lr=0.02, momentum=0.9, batch_size=10, one epoch", "rounds": rounds,
            "seed_controls": "make_model(seed=s); local_train seed 100 t + k + 10000 s"}
    return runs, meta


def nb03a_remedies() -> tuple[dict[str, evidence.Repeated], dict]:
    """Notebook 03a: FedAvg, FedProx and FedAvgM on the Dirichlet alpha=0.1 hospitals, 5 rounds."""
    from dataclasses import replace

    from fedlite.data import subsets
    from fedlite.datasets import load_medmnist
    from fedlite.heterogeneity import partition

    xray = load_medmnist("pneumoniamnist")
    full_train, test = xray["train"], xray["test"]
    train = full_train.subset(partition.iid(len(full_train), 2, seed=0)[0])
    hospitals = subsets(train, partition.dirichlet(train.y.numpy(), 5, alpha=0.1, seed=0))
    local = fl.LocalConfig(lr=0.02, momentum=0.9, batch_size=16)
    rounds = 5
    settings = {"fedavg": ("FedAvg", {}),
                "fedprox": ("FedProx mu=0.1", {"local": replace(local, mu=0.1)}),
                "fedavgm": ("FedAvgM lr=1, beta=0.9", {"server_optimizer": lambda: fl.ServerMomentum(lr=1.0, momentum=0.9)}),
                "fedavgm_same_step": ("FedAvgM lr=0.1, beta=0.9", {"server_optimizer": lambda: fl.ServerMomentum(lr=0.1, momentum=0.9)})}

    def run(seed: int, options: dict) -> fl.History:
        kwargs = {"local": options.get("local", local)}
        if "server_optimizer" in options:
            kwargs["server_optimizer"] = options["server_optimizer"]()       # a fresh momentum buffer per run
        return fl.run_federated(fl.make_model("cnn", seed=seed), hospitals, test, rounds=rounds, seed=seed,
                                progress=False, **kwargs)

    runs = {key: evidence.repeat(lambda s, o=options: run(s, o), SEEDS, name=name)
            for key, (name, options) in settings.items()}
    meta = {"notebook": "03a", "dataset": "pneumoniamnist, half the training set (partition.iid(.., 2, seed=0)[0])",
            "hospitals": "partition.dirichlet(y, 5, alpha=0.1, seed=0)",
            "local": "lr=0.02, momentum=0.9, batch_size=16, one epoch", "rounds": rounds,
            "seed_controls": "make_model(seed=s) and the run's seed=s"}
    return runs, meta


def nb03a_skew() -> tuple[dict[str, evidence.Repeated], dict]:
    """Notebook 03a: FedAvg on IID, shards and quantity-skewed hospitals (Dirichlet alpha=0.1 is in nb03a),
    5 rounds; and the drift agreement of one local epoch from each seed's trained IID model."""
    from fedlite.data import subsets
    from fedlite.datasets import load_medmnist
    from fedlite.heterogeneity import partition
    from fedlite.measure import client_drift

    xray = load_medmnist("pneumoniamnist")
    full_train, test = xray["train"], xray["test"]
    train = full_train.subset(partition.iid(len(full_train), 2, seed=0)[0])
    y = train.y.numpy()
    splits = {"iid": ("IID", partition.iid(len(y), 5, seed=0)),
              "shards": ("shards", partition.shards(y, 5, shards_per_client=2, seed=0)),
              "quantity": ("quantity alpha=0.5", partition.quantity_skew(len(y), 5, alpha=0.5, seed=0))}
    skewed = subsets(train, partition.dirichlet(y, 5, alpha=0.1, seed=0))
    local = fl.LocalConfig(lr=0.02, momentum=0.9, batch_size=16)
    rounds = 5
    runs, agreement = {}, {"iid": [], "dirichlet": []}
    for key, (name, parts) in splits.items():
        histories = []
        for seed in SEEDS:
            model = fl.make_model("cnn", seed=seed)
            histories.append(fl.run_federated(model, subsets(train, parts), test, rounds=rounds, local=local,
                                              seed=seed, progress=False))
            if key == "iid":   # one local epoch from the trained IID model, without averaging
                agreement["iid"].append([client_drift(model, subsets(train, parts), local, seed=seed).agreement])
                agreement["dirichlet"].append([client_drift(model, skewed, local, seed=seed).agreement])
        runs[key] = evidence.Repeated.from_histories(name, SEEDS, histories)
    for key, name in (("iid", "IID"), ("dirichlet", "Dirichlet alpha=0.1")):
        runs[f"drift_{key}"] = evidence.Repeated(f"agreement, {name}", list(SEEDS),
                                                 {"agreement": np.array(agreement[key])})
    meta = {"notebook": "03a", "dataset": "pneumoniamnist, half the training set (partition.iid(.., 2, seed=0)[0])",
            "hospitals": "partition.iid / shards(shards_per_client=2) / quantity_skew(alpha=0.5), 5 clients, seed=0",
            "local": "lr=0.02, momentum=0.9, batch_size=16, one epoch", "rounds": rounds,
            "drift": "measure.client_drift(trained IID model, IID or dirichlet(alpha=0.1, seed=0) clients, seed=s)",
            "seed_controls": "make_model(seed=s) and the run's seed=s"}
    return runs, meta


EXPERIMENTS: dict[str, Callable[[], tuple[dict[str, evidence.Repeated], dict]]] = {
    "nb01": nb01_three_options,
    "nb02": nb02_tutorial_loop,
    "nb03a": nb03a_remedies,
    "nb03a_skew": nb03a_skew,
}


def mismatches(fresh: dict[str, evidence.Repeated], stored: dict[str, evidence.Repeated]) -> list[str]:
    """Human-readable differences larger than TOLERANCE between two results."""
    problems = []
    if set(fresh) != set(stored):
        return [f"methods differ: fresh {sorted(fresh)}, stored {sorted(stored)}"]
    for method, run in fresh.items():
        for key, values in run.values.items():
            old = stored[method].values.get(key)
            if old is None or old.shape != values.shape:
                problems.append(f"{method}/{key}: shape {values.shape} vs stored "
                                f"{None if old is None else old.shape}")
            elif not np.allclose(values, old, atol=TOLERANCE, rtol=0):
                worst = float(np.abs(values - old).max())
                problems.append(f"{method}/{key}: differs from the stored result by up to {worst:.4f}")
    return problems


def _timed(name: str) -> tuple[dict[str, evidence.Repeated], dict, float]:
    torch.set_num_threads(1)
    start = time.perf_counter()
    runs, meta = EXPERIMENTS[name]()
    return runs, meta, time.perf_counter() - start


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    parser.add_argument("names", nargs="*", help=f"experiments to run (default all: {', '.join(EXPERIMENTS)})")
    parser.add_argument("--check", action="store_true", help="compare with the stored files, write nothing")
    parser.add_argument("--jobs", type=int, default=2, help="experiments run in parallel, one per core (default 2)")
    args = parser.parse_args(argv)
    unknown = set(args.names) - set(EXPERIMENTS)
    if unknown:
        parser.error(f"unknown experiments {sorted(unknown)}; choose from {sorted(EXPERIMENTS)}")
    torch.set_num_threads(1)
    failed = False
    names = args.names or list(EXPERIMENTS)
    with ProcessPoolExecutor(max_workers=min(args.jobs, len(names))) as pool:   # one experiment per core
        done = dict(zip(names, pool.map(_timed, names)))
    for name in names:
        runs, meta, seconds = done[name]
        path = evidence.stored(name)
        if args.check:
            problems = mismatches(runs, evidence.load(path)[0])
            failed |= bool(problems)
            print(f"{name}: {'OK' if not problems else 'MISMATCH'} ({seconds:.0f} s)")
            for p in problems:
                print("   ", p)
        else:
            evidence.save(path, runs, {**meta, "seeds": list(SEEDS), "seconds_when_stored": round(seconds)})
            print(f"{name}: wrote {path.relative_to(ROOT)} ({seconds:.0f} s)")
            for run in runs.values():
                key = "auc" if "auc" in run.values else next(iter(run.values))   # drift runs store "agreement"
                print(f"    {run.name:<12} final {key} {run.summary(key)}")
    return 1 if failed else 0


if __name__ == "__main__":
    sys.exit(main())
