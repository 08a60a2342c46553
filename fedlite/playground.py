"""The playground: every knob of the course in one :class:`Settings`, one :func:`play`, one honest verdict.

``play(settings)`` builds the hospitals, wires the chosen algorithm, attack, defence, compression and
differential privacy into :func:`fedlite.simulation.run_federated`, and runs it once per seed beside
three references on the same data and seeds: plain FedAvg, centralized training (everything pooled)
and local-only training (every hospital alone). :func:`verdict` compares the run with FedAvg through
the paired difference of the final AUC over seeds and its 95% t-interval
(:func:`fedlite.evidence.paired_values`); an interval that contains zero is reported as "within
noise". :func:`as_code` writes the ``fedlite`` calls that reproduce the first seed's run, so a
learner can take a picture from the playground to a notebook.

Every piece is a public ``fedlite`` function; this module only chooses and connects them.
"""

from __future__ import annotations

import functools
import textwrap
from collections.abc import Callable, Sequence
from dataclasses import dataclass, fields, replace

import numpy as np

from fedlite import evidence
from fedlite.aggregate import fedavg
from fedlite.client import LocalConfig
from fedlite.data import Data, pool
from fedlite.heterogeneity import partition
from fedlite.heterogeneity.hospitals import scanner_shift
from fedlite.history import History
from fedlite.models import make_model
from fedlite.privacy import dp
from fedlite.robustness import compression, defences, malicious, participation
from fedlite.server import ServerAdam, ServerMomentum
from fedlite.simulation import batchnorm_keys, run_centralized, run_federated, run_local_only

DATASETS = ("heart", "xray")
SKEWS = ("iid", "label skew", "quantity skew")
ALGORITHMS = ("FedAvg", "FedProx", "FedAvgM", "FedAdam", "FedBN")
ATTACKS = ("none", "label flip", "sign flip", "boost")
AGGREGATORS = ("mean", "median", "trimmed mean", "Krum", "validation")
COMPRESSIONS = ("none", "8-bit", "4-bit", "top-10% + error feedback", "top-10%, no error feedback")
XRAY_TRAIN, XRAY_TEST = 1000, 500   # a subsample keeps one update within seconds on one CPU
BAD = 0                              # the malicious hospital, when there is one


@dataclass(frozen=True)
class Settings:
    """Everything the playground can change. Defaults: FedAvg on the four heart-disease hospitals,
    full batch (256 is more than any hospital has), as in notebooks 05 and 06.

    ``hospitals``, ``skew``, ``alpha`` and ``scanner`` apply to the X-rays (the heart data comes as
    four real hospitals). ``noise_multiplier > 0`` turns on DP-FedAvg with clip norm ``clip_norm``.
    """

    data: str = "heart"
    hospitals: int = 4
    skew: str = "iid"
    alpha: float = 0.5
    scanner: bool = False
    epochs: int = 1
    batch_size: int = 256
    lr: float = 0.5
    momentum: float = 0.0
    algorithm: str = "FedAvg"
    mu: float = 0.1
    participation: float = 1.0
    dropout: float = 0.0
    clip_norm: float = 0.1
    noise_multiplier: float = 0.0
    delta: float = 1e-5
    attack: str = "none"
    aggregator: str = "mean"
    compression: str = "none"
    seeds: int = 1
    rounds: int = 20

    def __post_init__(self) -> None:
        for name, allowed in (("data", DATASETS), ("skew", SKEWS), ("algorithm", ALGORITHMS),
                              ("attack", ATTACKS), ("aggregator", AGGREGATORS), ("compression", COMPRESSIONS)):
            if getattr(self, name) not in allowed:
                raise ValueError(f"{name} must be one of {allowed}, got {getattr(self, name)!r}")
        for name in ("hospitals", "epochs", "batch_size", "seeds", "rounds"):
            if not isinstance(getattr(self, name), int) or getattr(self, name) < 1:
                raise ValueError(f"{name} must be a positive integer, got {getattr(self, name)!r}")
        if self.data == "xray" and self.hospitals < 2:
            raise ValueError("a federation needs at least 2 hospitals")
        if not 0 <= self.dropout < 1:
            raise ValueError(f"dropout must be a probability in [0, 1), got {self.dropout!r}")
        if self.noise_multiplier < 0:
            raise ValueError(f"noise_multiplier must be >= 0 (0 = no DP), got {self.noise_multiplier!r}")
        if self.noise_multiplier > 0 and self.aggregator != "mean":
            raise ValueError("DP-FedAvg adds its noise to the plain mean: with noise_multiplier > 0 choose "
                             "aggregator 'mean'")

    def changed(self) -> dict[str, object]:
        """The settings that differ from the defaults (for titles and the generated code)."""
        default = Settings()
        return {f.name: getattr(self, f.name) for f in fields(self) if getattr(self, f.name) != getattr(default, f.name)}


@dataclass
class Federation:
    """The hospitals' training data, each hospital's own test data, the pooled test set, and the model."""

    clients: list[Data]
    client_tests: list[Data]
    test: Data
    names: list[str]
    model: str
    model_kwargs: dict


@functools.lru_cache(maxsize=16)
def federation(data: str = "heart", hospitals: int = 4, skew: str = "iid", alpha: float = 0.5,
               scanner: bool = False, norm: bool = False) -> Federation:
    """The hospitals. Heart: the four real ones, standardized with federated statistics. X-ray: a
    subsample of PneumoniaMNIST cut into ``hospitals`` by ``skew`` (Dirichlet ``alpha``), each
    hospital's images (train and test) passed through its own simulated scanner if ``scanner``.
    The X-ray model is the small MLP (fast enough to follow a slider), or the SmallCNN with
    BatchNorm when ``norm`` (FedBN needs BatchNorm layers to keep local)."""
    from fedlite.datasets import load_medmnist
    from fedlite.datasets.heart import heart_hospitals

    if data == "heart":
        names, trains, tests, _, _ = heart_hospitals()
        return Federation(trains, tests, pool(tests), names, "logreg", {"in_features": trains[0].x.shape[1]})
    xray = load_medmnist("pneumoniamnist")
    rng = np.random.default_rng(0)
    train = xray["train"].subset(np.sort(rng.permutation(len(xray["train"]))[:XRAY_TRAIN]))
    test = xray["test"].subset(np.sort(rng.permutation(len(xray["test"]))[:XRAY_TEST]))

    def cut(d: Data) -> list[Data]:
        if skew == "label skew":
            parts = partition.dirichlet(d.y.numpy(), hospitals, alpha=alpha, seed=0)
        elif skew == "quantity skew":
            parts = partition.quantity_skew(len(d), hospitals, alpha=alpha, seed=0)
        else:
            parts = partition.iid(len(d), hospitals, seed=0)
        out = [d.subset(p) for p in parts]
        return [Data(scanner_shift(h.x, k, seed=0), h.y) for k, h in enumerate(out)] if scanner else out

    trains, tests = cut(train), cut(test)
    test_all = pool(tests) if scanner else test
    model, kwargs = ("cnn", {"norm": True}) if norm else ("mlp", {"in_features": 28 * 28})
    return Federation(trains, tests, test_all, [f"hospital {k}" for k in range(hospitals)], model, kwargs)


def federation_for(s: Settings) -> Federation:
    """:func:`federation` with the data settings of ``s`` (FedBN needs BatchNorm layers in the model)."""
    if s.data == "heart":
        return federation("heart")
    return federation("xray", s.hospitals, s.skew, float(s.alpha), s.scanner, s.algorithm == "FedBN")


def local_config(s: Settings) -> LocalConfig:
    return LocalConfig(epochs=s.epochs, batch_size=s.batch_size, lr=s.lr, momentum=s.momentum,
                       mu=s.mu if s.algorithm == "FedProx" else 0.0)


def _aggregator(s: Settings) -> Callable:
    return {"mean": lambda: fedavg, "median": lambda: defences.median,
            "trimmed mean": lambda: functools.partial(defences.trimmed_mean, beta=0.2),
            "Krum": lambda: functools.partial(defences.krum, f=1),
            "validation": lambda: defences.Validated(fedavg, max_ratio=3.0)}[s.aggregator]()


def _compressor(s: Settings) -> Callable | None:
    return {"none": lambda: None, "8-bit": lambda: compression.Quantize(bits=8),
            "4-bit": lambda: compression.Quantize(bits=4),
            "top-10% + error feedback": lambda: compression.TopK(ratio=0.1),
            "top-10%, no error feedback": lambda: compression.TopK(ratio=0.1, error_feedback=False)}[s.compression]()


def run_once(s: Settings, seed: int) -> History:
    """One federated run of ``s``; ``seed`` sets the initial model, client sampling, dropouts, local
    shuffling and DP noise."""
    fed = federation_for(s)
    model = make_model(fed.model, seed=seed, **fed.model_kwargs)
    clients = [malicious.flip_labels(c) if k == BAD and s.attack == "label flip" else c
               for k, c in enumerate(fed.clients)]
    hooks = [participation.RandomDropout(s.dropout, seed=seed)] if s.dropout > 0 else []
    if s.attack == "sign flip":
        hooks.append(malicious.sign_flipped([BAD], 4))
    elif s.attack == "boost":
        hooks.append(malicious.scaled([BAD], 10))
    if s.compression != "none":
        hooks.append(_compressor(s))
    aggregate = _aggregator(s)
    if s.noise_multiplier > 0:
        private = dp.DPFedAvg(clip=s.clip_norm, noise_multiplier=s.noise_multiplier, seed=seed,
                              num_samples=[len(c) for c in clients], participation=s.participation)
        hooks.append(private.on_update)
        aggregate = private.aggregate
    optimizer = {"FedAvgM": ServerMomentum(lr=1.0, momentum=0.9), "FedAdam": ServerAdam(lr=0.01)}.get(s.algorithm)
    return run_federated(model, clients, fed.test, rounds=s.rounds, local=local_config(s),
                         participation=s.participation, server_optimizer=optimizer, client_tests=fed.client_tests,
                         local_keys=batchnorm_keys(model) if s.algorithm == "FedBN" else (),
                         aggregate=aggregate, on_update=participation.chain(*hooks) if hooks else None,
                         seed=seed, name=s.algorithm, progress=False)


@functools.lru_cache(maxsize=64)
def _fedavg_reference(reference: Settings, seed: int) -> History:
    """Plain FedAvg (FedBN when the run is FedBN on X-rays) on the same hospitals, same seed (cached)."""
    return run_once(reference, seed)


@functools.lru_cache(maxsize=64)
def _references(s: Settings, seed: int) -> tuple[History, History]:
    """(centralized, local-only), each for ``rounds`` epochs with the run's local settings."""
    fed = federation_for(s)
    local = replace(local_config(s), mu=0.0)
    central = run_centralized(make_model(fed.model, seed=seed, **fed.model_kwargs), pool(fed.clients), fed.test,
                              epochs=s.rounds, local=local, seed=seed, progress=False)
    alone, _ = run_local_only(make_model(fed.model, seed=seed, **fed.model_kwargs), fed.clients, fed.test,
                           epochs=s.rounds, local=local, client_tests=fed.client_tests, seed=seed, progress=False)
    return central, alone


def _reference_key(s: Settings) -> Settings:
    """The settings the references depend on (data, local training, rounds); the rest set to defaults."""
    keep = ("data", "hospitals", "skew", "alpha", "scanner", "epochs", "batch_size", "lr", "momentum", "rounds")
    return replace(Settings(), **{k: getattr(s, k) for k in keep},
                   algorithm="FedBN" if s.algorithm == "FedBN" and s.data == "xray" else "FedAvg")


@dataclass
class Outcome:
    """What :func:`play` measured, one entry per seed."""

    settings: Settings
    runs: list[History]
    fedavg: list[History]
    centralized: list[History]
    local_only: list[History]
    names: list[str]
    epsilon: float | None

    def finals(self, runs: list[History], key: str = "auc") -> np.ndarray:
        return np.array([h.final(key) for h in runs])

    def per_hospital(self, runs: list[History], key: str = "accuracy") -> np.ndarray:
        """Mean over seeds of each hospital's final score on its own test data."""
        return np.nanmean([h.client_metric(key)[-1] for h in runs], axis=0)


def play(s: Settings, seeds: Sequence[int] | None = None) -> Outcome:
    """Run ``s`` once per seed (default ``0 .. s.seeds - 1``), with the three references on the same seeds."""
    seeds = range(s.seeds) if seeds is None else seeds
    key = _reference_key(s)
    runs = [run_once(s, seed) for seed in seeds]
    fedavg = [_fedavg_reference(key, seed) for seed in seeds]
    refs = [_references(key, seed) for seed in seeds]
    epsilon = (dp.dp_epsilon(s.noise_multiplier, s.participation, s.rounds, s.delta)
               if s.noise_multiplier > 0 else None)
    return Outcome(s, runs, fedavg, [c for c, _ in refs], [a for _, a in refs], federation_for(s).names, epsilon)


def merge(outcomes: Sequence[Outcome]) -> Outcome:
    """One :class:`Outcome` from several (e.g. one per seed, run one at a time)."""
    first = outcomes[0]
    return Outcome(first.settings, *([h for o in outcomes for h in getattr(o, name)]
                                     for name in ("runs", "fedavg", "centralized", "local_only")),
                   first.names, first.epsilon)


def verdict(out: Outcome, key: str = "auc") -> str:
    """One line that reads the final ``key`` against plain FedAvg without claiming more than the seeds show."""
    s, mine, ref = out.settings, out.finals(out.runs, key), out.finals(out.fedavg, key)
    label = key.upper() if key == "auc" else key
    if np.isnan(mine).any():
        return f"the model broke (final {label} is NaN): an attack or a too-large learning rate; try a defence"
    if np.isnan(ref).any():
        return f"plain FedAvg broke here (final {label} is NaN): lower the learning rate to compare with it"
    if s.algorithm == "FedBN" and s.data == "heart":
        return (f"FedBN is plain FedAvg here: it keeps BatchNorm layers local, and the heart model (logistic "
                f"regression) has none (final {label} {mine.mean():.3f}); try FedBN on the X-rays")
    if s == _reference_key(s) or np.allclose(mine, ref):
        return (f"{s.algorithm}: final {label} {mine.mean():.3f} over {len(mine)} seed(s); this is the reference "
                "(change a knob to compare with it)")
    if len(mine) < 2:
        return (f"final {label} {mine[0]:.3f} vs plain FedAvg {ref[0]:.3f} ({mine[0] - ref[0]:+.3f}) on one seed: "
                "no interval, so no ranking; set seeds to 5 to compare")
    diff = evidence.paired_values(mine, ref)
    mean, lo, hi = diff.mean, diff.low, diff.high
    if hi - lo < 1e-12:
        return (f"final {label} {mine.mean():.3f} vs plain FedAvg {ref.mean():.3f}: the same difference {mean:+.3f} "
                f"on all {len(mine)} seeds")
    where = ("within noise of plain FedAvg" if diff.contains(0.0) else
             "above plain FedAvg" if lo > 0 else "below plain FedAvg")
    caveat = "" if len(mine) >= 5 else "; fewer than 5 seeds: a first look, set seeds to 5 before ranking"
    return (f"{where}: final {label} {mine.mean():.3f} vs {ref.mean():.3f}, difference {mean:+.3f} "
            f"(95% CI {lo:+.3f} to {hi:+.3f}, {len(mine)} seeds){caveat}")


def as_code(s: Settings) -> str:
    """Python that reproduces seed 0 of ``s`` with ``fedlite`` calls, and prints its final AUC and accuracy."""
    changed = ", ".join(f"{k}={v!r}" for k, v in s.changed().items())
    return "\n".join([
        "from fedlite.playground import Settings, run_once",
        f"settings = Settings({changed})",
        "history = run_once(settings, seed=0)",
        "print(f\"final AUC {history.final('auc'):.4f}, accuracy {history.final('accuracy'):.4f}\")",
    ])


XRAY = dict(data="xray", batch_size=32, lr=0.05, momentum=0.9, rounds=8)  # the course's SGD with momentum

PRESETS: dict[str, Settings] = {
    "01 · FedAvg vs centralized vs local, unequal X-ray hospitals":
        Settings(**XRAY, hospitals=5, skew="quantity skew", alpha=3.0),
    "02 · more local epochs (E = 5) on X-rays": Settings(**XRAY, epochs=5),
    "03 · label skew α = 0.1 on X-rays, FedProx": Settings(**XRAY, skew="label skew", alpha=0.1,
                                                            algorithm="FedProx", mu=0.1, seeds=3),
    "03 · four real heart hospitals, FedAvg": Settings(),
    "04a · who gains, who loses: the four heart hospitals, B = 16, η = 0.05, 30 rounds":
        Settings(batch_size=16, lr=0.05, rounds=30),
    "04b · X-ray 'devices' (20 here, 100 in 04b), q = 0.25, 30% drop out":
        Settings(**{**XRAY, "rounds": 20, "batch_size": 16, "lr": 0.02}, hospitals=20, skew="label skew", alpha=1.0,
                 participation=0.25, dropout=0.3),
    "05 · DP-FedAvg σ = 1 on the heart hospitals": Settings(noise_multiplier=1.0, clip_norm=0.1, rounds=10, seeds=3),
    "06 · one hospital sign-flips, the median defends": Settings(attack="sign flip", aggregator="median", seeds=3),
    "06 · 4-bit updates": Settings(compression="4-bit", seeds=3),
    "07 · the run_federated reference that 07's Flower port reproduces (heart, B = 16, η = 0.05, 30 rounds)":
        Settings(batch_size=16, lr=0.05, rounds=30),
}
"""One click each: the key experiment of a notebook, scaled down to run in seconds."""


def _band(ax, runs: list[History], key: str, label: str, style: dict) -> None:
    """Mean curve over seeds, with the min-max band when there is more than one seed."""
    values = np.array([h.metric(key) for h in runs])
    x = np.arange(1, values.shape[1] + 1)
    ax.plot(x, values.mean(axis=0), label=label, **style)
    if len(runs) > 1:
        ax.fill_between(x, values.min(axis=0), values.max(axis=0), alpha=0.2, color=style.get("color"))


def figure(out: Outcome):
    """Three panels: test AUC and accuracy per round against the references, and who gains per hospital.

    A bare ``Figure`` (not pyplot's): the dashboard draws it in a background thread, and pyplot would
    also show it under the next cell that runs.
    """
    from matplotlib.figure import Figure

    fig = Figure(figsize=(12, 3.4), layout="constrained")
    auc, acc, bars = fig.subplots(1, 3)
    curves = [(out.runs, "this run", {"color": "C3", "lw": 2.2}), (out.fedavg, "FedAvg", {"color": "C0"}),
              (out.centralized, "centralized", {"color": "k", "ls": "--"}),
              (out.local_only, "local only (mean)", {"color": "C7", "ls": ":"})]
    for ax, key in ((auc, "auc"), (acc, "accuracy")):
        for runs, label, style in curves:
            _band(ax, runs, key, label, style)
        ax.set(xlabel="round", ylabel=f"test {key if key != 'auc' else 'AUC'}", ylim=(0.3, 1.0))
    auc.legend(fontsize="small", loc="lower right")
    names, width = out.names, 0.4
    x = np.arange(len(names))
    bars.bar(x - width / 2, out.per_hospital(out.local_only), width, label="alone", color="C7")
    bars.bar(x + width / 2, out.per_hospital(out.runs), width, label="this run", color="C3")
    labels = names if len(names) <= 8 else [str(k) for k in range(len(names))]  # many devices: numbers only
    bars.set_xticks(x, labels, rotation=20 if len(names) <= 8 else 0, fontsize="small")
    bars.set(ylim=(0, 1), ylabel="accuracy on own patients", title="who gains, who loses")
    bars.legend(fontsize="small", loc="lower right")
    fig.suptitle("\n".join(textwrap.wrap(title(out.settings), 150)), fontsize=10)  # many knobs: two lines, not clipped
    return fig


def title(s: Settings) -> str:
    what = ", ".join(f"{k}={v:.3g}" if isinstance(v, float) else f"{k}={v}" for k, v in s.changed().items())
    what = what or "defaults"
    return f"{'heart-disease hospitals' if s.data == 'heart' else 'PneumoniaMNIST X-rays'}: {what}"


def summary(out: Outcome) -> str:
    """Bytes and privacy budget, in one line."""
    mb = np.mean([h.total_bytes for h in out.runs]) / 1e6
    ref = np.mean([h.total_bytes for h in out.fedavg]) / 1e6
    eps = ("no DP: ε = ∞" if out.epsilon is None else
           f"ε = {out.epsilon:.2f} at δ = {out.settings.delta:g} ({out.settings.rounds} rounds, q = {out.settings.participation:g})")
    return f"{mb:.3f} MB sent (FedAvg: {ref:.3f} MB) · {eps}"
