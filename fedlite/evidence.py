"""Evidence before claims: repeat an experiment over seeds, then summarize it with an interval.

One run of a federated experiment is one draw from a random process (initial
weights, batch order, client sampling). A sentence such as "FedProx beats
FedAvg" is a claim about that process, so it needs several draws and an
interval, not one number.

The statistics, and why these
-----------------------------
- **Unit of replication = one seed.** Every seed gives one final number
  (e.g. test AUC) per method. Rounds of one run are *not* independent draws,
  so intervals are computed across seeds, round by round.
- **Student-t interval on the seed means.** With ``n`` seeds (``n = 5`` by
  default) the 95 % interval is ``mean ± t_{0.975, n-1} · s / sqrt(n)`` where
  ``s`` is the sample standard deviation (``ddof = 1``). We use the t
  quantile, not the normal 1.96, because ``s`` is itself estimated from very
  few seeds: with 5 seeds ``t_{0.975,4} = 2.776``, and using 1.96 would make
  the interval ~30 % too narrow (Student 1908; any statistics text, e.g.
  Wasserman, *All of Statistics*, §6.3). The interval assumes the per-seed
  numbers are roughly normal; with 5 seeds nobody can check that, so read it
  as an honest order of magnitude, not a precise probability.
- **Paired differences.** Two methods run on the *same* seeds share the same
  initial weights and data order, so their results are correlated. The
  difference ``d_s = a_s - b_s`` is computed seed by seed and the t interval
  is taken over the ``d_s`` (a paired t interval). This removes the
  seed-to-seed variation both methods share, and is often far narrower than
  comparing two separate intervals (:func:`unpaired_difference`, Welch's
  interval, shown for contrast). If the interval of the difference contains
  0, no difference can be told from noise at this budget: say so.

Typical use::

    runs = evidence.repeat(lambda s: fl.run_federated(fl.make_model("cnn", seed=s), ..., seed=s,
                                                    progress=False), name="FedAvg")
    print(runs.summary("auc"))                       # mean and 95 % interval of the final AUC
    print(evidence.paired_difference(runs, other, "auc"))
    plots.mean_band([runs, other], "auc")            # mean ± interval per round
"""

from __future__ import annotations

import json
from collections.abc import Callable, Iterable, Sequence
from dataclasses import dataclass, field
from pathlib import Path

import numpy as np
from scipy import stats

from fedlite.history import History

DEFAULT_SEEDS = (0, 1, 2, 3, 4)


@dataclass(frozen=True)
class Interval:
    """A mean with its two-sided ``level`` confidence interval ``[low, high]`` from ``n`` values."""

    mean: float
    low: float
    high: float
    n: int
    level: float = 0.95

    @property
    def half_width(self) -> float:
        return (self.high - self.low) / 2

    def contains(self, value: float) -> bool:
        return self.low <= value <= self.high

    def __str__(self) -> str:
        return (f"{self.mean:.3f} [{self.low:.3f}, {self.high:.3f}] "
                f"({self.level:.0%} t-interval, {self.n} seeds)")


def _values(values: Iterable[float], what: str) -> np.ndarray:
    array = np.asarray(list(values), dtype=float)
    if array.ndim != 1 or len(array) < 2:
        raise ValueError(f"{what} needs at least 2 numbers (one per seed), got {array.tolist()}: "
                         "run the experiment on more seeds")
    if not np.all(np.isfinite(array)):
        raise ValueError(f"{what} got a NaN or infinite value {array.tolist()}: a run diverged or a metric "
                         "was undefined; fix that run before summarizing")
    return array


def t_interval(values: Iterable[float], level: float = 0.95) -> Interval:
    """Student-t interval of the mean: ``mean ± t_{(1+level)/2, n-1} · s / sqrt(n)`` (``s`` with ddof 1)."""
    x = _values(values, "t_interval")
    if not 0 < level < 1:
        raise ValueError(f"level must be in (0, 1), e.g. 0.95, got {level!r}")
    mean, n = float(x.mean()), len(x)
    half = float(stats.t.ppf((1 + level) / 2, n - 1) * x.std(ddof=1) / np.sqrt(n))
    return Interval(mean, mean - half, mean + half, n, level)


def unpaired_difference(a: Iterable[float], b: Iterable[float], level: float = 0.95) -> Interval:
    """Welch's interval for ``mean(a) - mean(b)`` treating the samples as independent.

    Shown for contrast only: when ``a`` and ``b`` come from the same seeds, use
    :func:`paired_values` / :func:`paired_difference`, which are narrower and correct.
    """
    x, y = _values(a, "unpaired_difference"), _values(b, "unpaired_difference")
    va, vb = x.var(ddof=1) / len(x), y.var(ddof=1) / len(y)
    dof = (va + vb) ** 2 / (va ** 2 / (len(x) - 1) + vb ** 2 / (len(y) - 1)) if va + vb > 0 else 1.0
    mean = float(x.mean() - y.mean())
    half = float(stats.t.ppf((1 + level) / 2, dof) * np.sqrt(va + vb))
    return Interval(mean, mean - half, mean + half, min(len(x), len(y)), level)


def paired_values(a: Sequence[float], b: Sequence[float], level: float = 0.95) -> Interval:
    """Paired t interval of ``a_s - b_s`` over matched seeds ``s`` (same length, same seed order)."""
    if len(a) != len(b):
        raise ValueError(f"paired values need one number per seed on both sides, got {len(a)} and {len(b)}")
    return t_interval(np.asarray(a, dtype=float) - np.asarray(b, dtype=float), level)


@dataclass
class Repeated:
    """The same experiment run once per seed: ``values[key]`` is an array ``[seed, round]``.

    Build it with :func:`repeat` (from live runs) or :meth:`from_dict` (from a stored result).
    """

    name: str
    seeds: list[int]
    values: dict[str, np.ndarray] = field(default_factory=dict)

    @classmethod
    def from_histories(cls, name: str, seeds: Sequence[int], histories: Sequence[History],
                       keys: Sequence[str] = ("loss", "accuracy", "auc")) -> Repeated:
        lengths = {len(h.rounds) for h in histories}
        if len(lengths) != 1:
            raise ValueError(f"{name}: every seed must run the same number of rounds, got {sorted(lengths)}")
        return cls(name, [int(s) for s in seeds], {k: np.array([h.metric(k) for h in histories]) for k in keys})

    def per_seed(self, key: str = "auc") -> np.ndarray:
        """Array ``[seed, round]`` of the global test metric ``key``."""
        if key not in self.values:
            raise KeyError(f"{self.name}: no metric {key!r}; recorded: {sorted(self.values)}")
        return self.values[key]

    def final(self, key: str = "auc") -> np.ndarray:
        """One number per seed: ``key`` after the last round."""
        return self.per_seed(key)[:, -1]

    def summary(self, key: str = "auc", level: float = 0.95) -> Interval:
        """Mean and t interval of the final ``key`` over the seeds."""
        return t_interval(self.final(key), level)

    def band(self, key: str = "auc", level: float = 0.95) -> tuple[np.ndarray, np.ndarray, np.ndarray]:
        """Per round: (mean, low, high) of ``key`` over the seeds."""
        rows = [t_interval(column, level) for column in self.per_seed(key).T]
        return tuple(np.array([getattr(r, a) for r in rows]) for a in ("mean", "low", "high"))  # type: ignore

    def to_dict(self, digits: int = 6) -> dict:
        """A small JSON-ready form (numbers rounded to ``digits``)."""
        return {"name": self.name, "seeds": self.seeds,
                "values": {k: np.round(v, digits).tolist() for k, v in self.values.items()}}

    @classmethod
    def from_dict(cls, data: dict) -> Repeated:
        try:
            return cls(data["name"], list(data["seeds"]), {k: np.array(v, dtype=float)
                                                          for k, v in data["values"].items()})
        except (KeyError, TypeError) as err:
            raise ValueError(f"not a stored Repeated result (expected name, seeds, values): {err}") from err


def repeat(run: Callable[[int], History], seeds: Sequence[int] = DEFAULT_SEEDS, *, name: str | None = None,
           keys: Sequence[str] = ("loss", "accuracy", "auc")) -> Repeated:
    """Call ``run(seed)`` once per seed (it must build its model from ``seed`` too) and collect the histories."""
    if len(seeds) < 2 or len(set(seeds)) != len(seeds):
        raise ValueError(f"repeat needs at least 2 distinct seeds, got {list(seeds)}")
    histories = [run(int(s)) for s in seeds]
    return Repeated.from_histories(name or histories[0].name, seeds, histories, keys)


def paired_difference(a: Repeated, b: Repeated, key: str = "auc", level: float = 0.95) -> Interval:
    """Paired t interval of ``final_a - final_b`` over the seeds both were run on (must be the same seeds)."""
    if a.seeds != b.seeds:
        raise ValueError(f"paired difference needs the same seeds in the same order: {a.name} ran {a.seeds}, "
                         f"{b.name} ran {b.seeds}")
    return paired_values(a.final(key), b.final(key), level)


def comparison_table(runs: Sequence[Repeated], key: str = "auc", reference: Repeated | None = None) -> str:
    """Plain-text table: final ``key`` mean [95 % CI] per method, and the paired difference to ``reference``."""
    width = max(len(r.name) for r in runs)
    lines = [f"{'method':<{width}}  final {key}: mean [95% CI]" + ("     minus " + reference.name if reference else "")]
    for r in runs:
        s = r.summary(key)
        line = f"{r.name:<{width}}  {s.mean:.3f} [{s.low:.3f}, {s.high:.3f}]"
        if reference is not None and r is not reference:
            d = paired_difference(r, reference, key)
            line += f"     {d.mean:+.3f} [{d.low:+.3f}, {d.high:+.3f}]" + ("  (contains 0)" if d.contains(0) else "")
        lines.append(line)
    return "\n".join(lines + [f"({len(runs[0].seeds)} seeds; paired t intervals on the same seeds)"])


RESULTS = Path(__file__).resolve().parent / "results"


def stored(name: str) -> Path:
    """Path of the stored several-seed result ``name`` (``fedlite/results/<name>.json``, written by
    ``benchmarks/seeds.py``; shipped with the package so notebooks on Colab or Binder find it too)."""
    return RESULTS / f"{name}.json"


def save(path: str | Path, runs: dict[str, Repeated], meta: dict | None = None) -> None:
    """Write several ``Repeated`` results (and a ``meta`` dict: settings, run time) as one small JSON file."""
    body = {"meta": meta or {}, "runs": {k: r.to_dict() for k, r in runs.items()}}
    Path(path).write_text(json.dumps(body, indent=1) + "\n")


def load(path: str | Path) -> tuple[dict[str, Repeated], dict]:
    """Read a file written by :func:`save`: ``(runs, meta)``."""
    path = Path(path)
    if not path.is_file():
        raise FileNotFoundError(f"stored result {path} not found: regenerate it with "
                                "`python benchmarks/seeds.py` from the repository root")
    body = json.loads(path.read_text())
    return {k: Repeated.from_dict(v) for k, v in body["runs"].items()}, body.get("meta", {})
