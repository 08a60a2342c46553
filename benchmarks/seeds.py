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
parallel, one per core (``--jobs``); nb01-nb03a take about 2.5 minutes of CPU each on an idle core, nb04a
about one, nb05 and nb06 about 1.5 and 1 (each prints its wall and CPU time, and stores them in its file's
``meta``).
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


def per_hospital(name: str, seeds, rows: list[list[dict[str, float]]], names: list[str],
                 extra: dict[str, list[float]] | None = None) -> evidence.Repeated:
    """One setting's final per-hospital metrics as a Repeated: ``values["auc/<hospital>"]`` is ``[seed, 1]``;
    ``values["auc"]`` and ``values["accuracy"]`` are the unweighted means over the hospitals."""
    values = {}
    for key in ("accuracy", "auc"):
        table = np.array([[r[key] for r in row] for row in rows])            # seed x hospital
        values[key] = table.mean(axis=1, keepdims=True)
        values.update({f"{key}/{h}": table[:, [j]] for j, h in enumerate(names)})
    values.update({k: np.array(v, dtype=float)[:, None] for k, v in (extra or {}).items()})
    return evidence.Repeated(name, list(seeds), values)


def nb04a_per_hospital() -> tuple[dict[str, evidence.Repeated], dict]:
    """Notebook 04a: every setting on each hospital's own test set, heart disease (4 hospitals, 30 rounds)
    and breast ultrasound (4 simulated scanners, 10 rounds)."""
    from torch import nn

    from fedlite.data import Data, subsets
    from fedlite.datasets import load_heart_disease, load_medmnist
    from fedlite.datasets.heart import heart_hospitals
    from fedlite.heterogeneity.hospitals import scanner_shift
    from fedlite.heterogeneity.personalize import fine_tune_all
    from fedlite.metrics import evaluate_clients, predict

    names, trains, tests, _, _ = heart_hospitals(load_heart_disease())
    heart_local, heart_rounds, pooled_test = fl.LocalConfig(lr=0.05, batch_size=16), 30, fl.pool(tests)
    swiss = names.index("switzerland")
    rows: dict[str, list] = {k: [] for k in ("pooled", "local_only", "fedavg", "fine_tuned", "fedbn")}
    says_sick: dict[str, list] = {k: [] for k in rows}
    for s in SEEDS:
        def logreg() -> torch.nn.Module:
            return fl.make_model("logreg", seed=s, in_features=trains[0].x.shape[1])
        pooled = logreg()
        fl.run_centralized(pooled, fl.pool(trains), pooled_test, epochs=heart_rounds, local=heart_local, seed=s,
                           progress=False)
        _, local_models = fl.run_local_only(logreg(), trains, pooled_test, epochs=heart_rounds, local=heart_local,
                                            seed=s, progress=False)
        fedavg = logreg()
        fl.run_federated(fedavg, trains, pooled_test, rounds=heart_rounds, local=heart_local, seed=s, progress=False)
        tuned = fine_tune_all(fedavg, trains, epochs=3, local=heart_local, seed=s)
        bn = nn.Sequential(nn.BatchNorm1d(trains[0].x.shape[1]), logreg())
        fedbn = fl.run_federated(bn, trains, pooled_test, rounds=heart_rounds, local=heart_local, seed=s,
                                 local_keys=fl.batchnorm_keys(bn), client_tests=tests, progress=False)
        models = {"pooled": [pooled] * 4, "local_only": local_models, "fedavg": [fedavg] * 4, "fine_tuned": tuned}
        for key, ms in models.items():
            rows[key].append(evaluate_clients(ms, tests))
            says_sick[key].append(int((predict(ms[swiss], tests[swiss].x).argmax(1) == 1).sum()))
        acc, auc = fedbn.client_metric("accuracy")[-1], fedbn.client_metric("auc")[-1]
        rows["fedbn"].append([{"accuracy": a, "auc": u} for a, u in zip(acc, auc)])
    labels = {"pooled": "pooled", "local_only": "local-only", "fedavg": "FedAvg", "fine_tuned": "fine-tuned E=3",
              "fedbn": "FedBN-style"}
    runs = {f"heart_{k}": per_hospital(labels[k], SEEDS, rows[k], names,
                                       {"says_sick/switzerland": says_sick[k]} if says_sick[k] else None)
            for k in rows}

    breast = load_medmnist("breastmnist")
    us_train, us_test = breast["train"], breast["test"]
    shares, sites = [0.45, 0.30, 0.17, 0.08], ["large", "mid A", "mid B", "clinic"]
    order = np.random.default_rng(0).permutation(len(us_train))
    cuts = (np.cumsum(shares)[:-1] * len(us_train)).astype(int)
    hospitals = [Data(scanner_shift(h.x, k, seed=0), h.y)
                 for k, h in enumerate(subsets(us_train, np.split(order, cuts)))]
    us_tests = [Data(scanner_shift(us_test.x, k, seed=0), us_test.y) for k in range(len(sites))]
    us_local, us_rounds = fl.LocalConfig(lr=0.02, momentum=0.9, batch_size=32), 10
    us_rows: dict[str, list] = {k: [] for k in ("local_only", "fedavg", "fine_tuned", "fedbn")}

    def last(history: fl.History) -> list[dict[str, float]]:
        acc, auc = history.client_metric("accuracy")[-1], history.client_metric("auc")[-1]
        return [{"accuracy": a, "auc": u} for a, u in zip(acc, auc)]

    for s in SEEDS:
        def cnn() -> torch.nn.Module:
            return fl.make_model("cnn", seed=s, norm=True)
        local_run, _ = fl.run_local_only(cnn(), hospitals, us_test, epochs=us_rounds, local=us_local,
                                         client_tests=us_tests, seed=s, progress=False)
        us_rows["local_only"].append(last(local_run))
        fedavg = cnn()
        us_rows["fedavg"].append(last(fl.run_federated(fedavg, hospitals, us_test, rounds=us_rounds, local=us_local,
                                                       client_tests=us_tests, seed=s, progress=False)))
        us_rows["fine_tuned"].append(evaluate_clients(fine_tune_all(fedavg, hospitals, epochs=1, local=us_local,
                                                                    seed=s), us_tests))
        model = cnn()
        us_rows["fedbn"].append(last(fl.run_federated(model, hospitals, us_test, rounds=us_rounds, local=us_local,
                                                      seed=s, local_keys=fl.batchnorm_keys(model),
                                                      client_tests=us_tests, progress=False)))
    us_labels = {"local_only": "local-only", "fedavg": "FedAvg", "fine_tuned": "fine-tuned E=1", "fedbn": "FedBN"}
    runs.update({f"us_{k}": per_hospital(us_labels[k], SEEDS, us_rows[k], sites) for k in us_rows})
    meta = {"notebook": "04a", "heart": "heart_hospitals (cholesterol 0 = missing), logreg, lr=0.05, batch_size=16, "
            "30 epochs/rounds, fine-tuning E=3, FedBN-style = BatchNorm1d in front, kept local",
            "ultrasound": "breastmnist cut 45/30/17/8 % (rng 0) + scanner_shift(k, seed=0); cnn norm=True, lr=0.02, "
            "momentum=0.9, batch_size=32, 10 rounds, fine-tuning E=1",
            "values": "final metrics on each hospital's own test set: '<metric>/<hospital>'; 'auc'/'accuracy' = "
            "unweighted mean over hospitals; 'says_sick/switzerland' = Swiss test patients called sick (of 16)",
            "seed_controls": "make_model(seed=s) and the run's seed=s; hospitals fixed"}
    return runs, meta


def nb05_defence_costs() -> tuple[dict[str, evidence.Repeated], dict]:
    """Notebook 05 §4: each defence's attack success per observer and its cost, on 5 seeds.

    Seed ``s`` picks hospital A's patient (training X-ray ``s``), the CNN's initial weights, the attack's
    random start, the DP noise and the batch order. Attack: one full-batch local step (FedSGD) on A's one
    X-ray, 200 inversion steps. Per defence the *server* sees: A's update (none); the masked sum of A, B,
    C (secure aggregation); A's clipped, noise-free update (central DP, S = half of A's update norm, the
    demonstration choice of §3). *Others* see what is released: the aggregate of A, B and C (none, secure),
    or A's clipped update plus noise with A alone in the round (DP, the worst case). Cost: FedAvg with the
    defence, 3 IID hospitals on all training X-rays, 2 rounds (lr 0.02: with 0.05 one seed in five collapsed).
    """
    from fedlite.datasets import load_medmnist
    from fedlite.heterogeneity.hospitals import make_hospitals
    from fedlite.privacy import dp, inversion, secagg
    from fedlite.state import copy_state, norm, update_of

    xray = load_medmnist("pneumoniamnist")
    train, test = xray["train"], xray["test"]
    average = train.x.mean(dim=0)
    one_step = fl.LocalConfig(epochs=1, batch_size=None, lr=0.02, momentum=0.9)
    others = [train.subset(range(100, 116)), train.subset(range(200, 216))]   # hospitals B and C
    rounds, clip_cost, sigmas = 2, 0.5, (0.1, 1.0)
    cost_hospitals = make_hospitals(train, 3, skew="iid", seed=0)
    cost_local = fl.LocalConfig(epochs=1, batch_size=32, lr=0.02, momentum=0.9)   # the course default
    rows = {"none": "none (plain FedAvg)", "secure": "secure aggregation"}
    rows.update({f"dp_{s:g}": f"DP-FedAvg, σ = {s:g}" for s in sigmas})
    attack: dict[str, dict[str, list[float]]] = {r: {"psnr_server": [], "psnr_others": []} for r in rows}
    baselines: dict[str, list[float]] = {"psnr_average": [], "psnr_random": []}
    histories: dict[str, list[fl.History]] = {r: [] for r in rows}
    seconds: dict[str, list[float]] = {r: [] for r in rows}
    mb_up: dict[str, float] = {}

    def one_round(seed, hospitals, hooks):
        """(weights before, after) one round of FedSGD from make_model('cnn', seed)."""
        model = fl.make_model("cnn", seed=seed)
        before = copy_state(model)
        fl.run_federated(model, hospitals, test, rounds=1, local=one_step, progress=False, batched=False, **hooks)
        return before, copy_state(model)

    def psnr_of(seed, before, after, patient):
        rec = inversion.reconstruct(fl.make_model("cnn", seed=seed), before, after, steps=200, seed=seed)
        return inversion.psnr(rec.images, patient.x)

    def timed(hook, clock):
        def wrapped(*args):
            start = time.perf_counter()
            out = hook(*args)
            clock.append(time.perf_counter() - start)
            return out
        return wrapped

    for seed in SEEDS:
        patient = train.subset([seed])
        start = torch.rand((1, 1, 28, 28), generator=torch.Generator().manual_seed(seed))  # invert_gradient's start
        baselines["psnr_average"].append(inversion.psnr(average[None], patient.x))
        baselines["psnr_random"].append(inversion.psnr(start, patient.x))
        alone = psnr_of(seed, *one_round(seed, [patient], {}), patient)
        secure = secagg.SecureFedAvg(num_clients=3, session_seed=seed)
        summed = psnr_of(seed, *one_round(seed, [patient, *others], {"on_update": secure.on_update,
                                                                    "aggregate": secure.aggregate}), patient)
        attack["none"]["psnr_server"].append(alone)
        for r in ("none", "secure"):
            attack[r]["psnr_others"].append(summed)
        attack["secure"]["psnr_server"].append(summed)
        model = fl.make_model("cnn", seed=seed)
        sent = copy_state(model)
        clip = norm(update_of(fl.local_train(model, patient, one_step, seed=0).state, sent)) / 2
        for sigma in (0.0, *sigmas):
            mechanism = dp.DPFedAvg(clip=clip, noise_multiplier=sigma, num_samples=[1], seed=seed)
            seen = psnr_of(seed, *one_round(seed, [patient], {"on_update": mechanism.on_update,
                                                              "aggregate": mechanism.aggregate}), patient)
            for s in sigmas:
                if sigma == 0.0:
                    attack[f"dp_{s:g}"]["psnr_server"].append(seen)    # the server adds the noise itself
                elif sigma == s:
                    attack[f"dp_{s:g}"]["psnr_others"].append(seen)
        for r in rows:   # the cost of each defence: FedAvg on 3 hospitals with it, 2 rounds
            if r == "secure":
                mech = secagg.SecureFedAvg(num_clients=3, session_seed=seed)
            elif r.startswith("dp_"):
                mech = dp.DPFedAvg(clip=clip_cost, noise_multiplier=float(r[3:]),
                                   num_samples=[len(h) for h in cost_hospitals], seed=seed)
            clock: list[float] = []
            hooks = {} if r == "none" else {"on_update": timed(mech.on_update, clock),
                                            "aggregate": timed(mech.aggregate, clock)}
            history = fl.run_federated(fl.make_model("cnn", seed=seed), cost_hospitals, test, rounds=rounds,
                                       local=cost_local, seed=seed, progress=False, batched=True, **hooks)
            histories[r].append(history)
            seconds[r].append(round(sum(clock), 3))
            mb_up[r] = history.rounds[0].bytes_up / len(cost_hospitals) / 1e6
    runs = {}
    for r, name in rows.items():
        run = evidence.Repeated.from_histories(name, SEEDS, histories[r])
        extra = {**attack[r], **(baselines if r == "none" else {})}
        run.values.update({k: np.array(v, dtype=float)[:, None] for k, v in extra.items()})
        runs[r] = run
    meta = {"notebook": "05", "dataset": "pneumoniamnist",
            "attack": "hospital A = training X-ray s, one full-batch SGD step (lr 0.02, momentum 0.9) from "
                      "make_model('cnn', seed=s); B, C = X-rays 100-115, 200-215; reconstruct(steps=200, seed=s); "
                      "DP clip = half A's update norm",
            "observers": "server: A's update / the secure sum / A's clipped noise-free update; others: the "
                         "aggregate of A, B, C / the same / A alone, clipped + noise",
            "cost": f"make_hospitals(train, 3, skew='iid', seed=0), {rounds} rounds, epochs=1, batch_size=32, "
                    f"lr=0.02, momentum=0.9; DP clip S = {clip_cost}, equal weights",
            "rounds": rounds, "sigmas": list(sigmas),
            "defence_seconds": seconds, "mb_up_per_hospital_round": mb_up,
            "seed_controls": "patient index, make_model(seed=s), attack start, DP noise seed, run seed"}
    return runs, meta


def nb06_robustness() -> tuple[dict[str, evidence.Repeated], dict]:
    """Notebook 06 §3: one misbehaving hospital of 5 (IID X-rays, MLP, 6 rounds), 5 attacks x 5 aggregators.

    Seed ``s`` sets the MLP's initial weights and the batch order; the hospitals stay the same. Runs that
    an aggregator stops (it refuses a NaN update) are listed in ``meta["stopped"]`` instead. Validation
    runs also store, per round, how many updates it rejected from the bad hospital and from honest ones.
    """
    import functools

    from fedlite.aggregate import fedavg
    from fedlite.datasets import load_medmnist
    from fedlite.heterogeneity.hospitals import make_hospitals
    from fedlite.robustness import defences, malicious

    xray = load_medmnist("pneumoniamnist")
    full_train, test = xray["train"], xray["test"]
    half = full_train.subset(np.sort(np.random.default_rng(0).permutation(len(full_train))[:len(full_train) // 2]))
    hospitals = make_hospitals(half, 5, skew="iid", seed=0)
    local = fl.LocalConfig(lr=0.02, momentum=0.9, batch_size=32)
    rounds, bad = 6, [0]
    attacks = {"no attack": (hospitals, None),
               "label flip": ([malicious.flip_labels(h) if k in bad else h for k, h in enumerate(hospitals)], None),
               "boosted x10": (hospitals, malicious.scaled(bad, 10)),
               "sign flip x4": (hospitals, malicious.sign_flipped(bad, 4)),
               "NaN update": (hospitals, malicious.non_finite_update(bad))}
    aggregators = {"FedAvg": lambda: fedavg, "median": lambda: defences.median,
                   "trimmed mean": lambda: functools.partial(defences.trimmed_mean, beta=0.2),
                   "Krum": lambda: functools.partial(defences.krum, f=1),
                   "validation": lambda: defences.Validated(fedavg, max_ratio=3.0)}
    runs, stopped = {}, {}
    for attack, (data, tamper) in attacks.items():
        for name, make in aggregators.items():
            histories, rejected = [], []
            for seed in SEEDS:
                aggregate = make()
                try:   # the hooks only read what they are given: the batched engine gives the same numbers
                    histories.append(fl.run_federated(fl.make_model("mlp", seed=seed, in_features=784), data, test,
                                                      rounds=rounds, local=local, seed=seed, progress=False,
                                                      on_update=tamper, aggregate=aggregate, batched=True))
                except RuntimeError as err:
                    stopped[f"{attack} | {name}"] = str(err).split(". Usual causes")[0]
                    break
                if isinstance(aggregate, defences.Validated):
                    rejected.append([[sum(r.round == t and (r.client in bad) == is_bad for r in aggregate.rejected)
                                      for t in range(1, rounds + 1)] for is_bad in (True, False)])
            if len(histories) == len(SEEDS):
                run = evidence.Repeated.from_histories(f"{attack} | {name}", SEEDS, histories)
                if rejected:
                    counts = np.array(rejected, dtype=float)           # [seed, bad/honest, round]
                    run.values.update(rejected_bad=counts[:, 0], rejected_honest=counts[:, 1])
                runs[f"{attack} | {name}"] = run
    meta = {"notebook": "06", "dataset": "pneumoniamnist, half the training set (rng 0)",
            "hospitals": "make_hospitals(half, 5, skew='iid', seed=0); hospital 0 misbehaves every round",
            "local": "lr=0.02, momentum=0.9, batch_size=32, one epoch", "rounds": rounds,
            "attacks": list(attacks), "aggregators": list(aggregators), "stopped": stopped,
            "seed_controls": "make_model('mlp', seed=s) and the run's seed=s"}
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
    "nb04a": nb04a_per_hospital,
    "nb05": nb05_defence_costs,
    "nb06": nb06_robustness,
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


def _timed(name: str) -> tuple[dict[str, evidence.Repeated], dict, float, float]:
    """(runs, meta, wall seconds, CPU seconds): on a busy machine the CPU time is the honest cost."""
    torch.set_num_threads(1)
    start, cpu = time.perf_counter(), time.process_time()
    runs, meta = EXPERIMENTS[name]()
    return runs, meta, time.perf_counter() - start, time.process_time() - cpu


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
        runs, meta, seconds, cpu = done[name]
        path = evidence.stored(name)
        if args.check:
            problems = mismatches(runs, evidence.load(path)[0])
            failed |= bool(problems)
            print(f"{name}: {'OK' if not problems else 'MISMATCH'} ({seconds:.0f} s, {cpu:.0f} s of CPU)")
            for p in problems:
                print("   ", p)
        else:
            evidence.save(path, runs, {**meta, "seeds": list(SEEDS), "seconds_when_stored": round(seconds),
                                       "cpu_seconds_when_stored": round(cpu)})
            print(f"{name}: wrote {path.relative_to(ROOT)} ({seconds:.0f} s, {cpu:.0f} s of CPU)")
            for run in runs.values():
                key = "auc" if "auc" in run.values else next(iter(run.values))   # drift runs store "agreement"
                print(f"    {run.name:<12} final {key} {run.summary(key)}")
    return 1 if failed else 0


if __name__ == "__main__":
    sys.exit(main())
