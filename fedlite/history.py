"""A record of a training run, one entry per round (or epoch), to tabulate and plot."""

from __future__ import annotations

from dataclasses import dataclass, field

import numpy as np


@dataclass
class Round:
    """What happened in one round.

    ``test`` holds the global model's metrics on the shared test set
    (``loss``, ``accuracy``, ``auc``). ``clients`` maps a client id to its
    numbers this round: ``n`` and ``train_loss`` for every client that
    trained, plus ``loss``/``accuracy``/``auc`` where it was evaluated on its
    own test data. ``bytes_down``/``bytes_up`` count model bytes sent from and
    to the server.
    """

    round: int
    test: dict[str, float]
    clients: dict[int, dict[str, float]] = field(default_factory=dict)
    bytes_down: int = 0
    bytes_up: int = 0


@dataclass
class History:
    """All rounds of one run, under a display ``name`` (used in plot legends).

    ``engine`` says what trained the clients (the reference loop or the
    batched engine, and why), so a fast path never changes results silently.
    """

    name: str
    rounds: list[Round] = field(default_factory=list)
    engine: str = ""

    def metric(self, key: str = "accuracy") -> list[float]:
        """The global test metric ``key`` after every round."""
        return [r.test[key] for r in self.rounds]

    def final(self, key: str = "accuracy") -> float:
        """The global test metric ``key`` after the last round."""
        if not self.rounds:
            raise ValueError(f"history {self.name!r} is empty: run at least one round")
        return self.rounds[-1].test[key]

    def rounds_to(self, target: float, key: str = "accuracy") -> int | None:
        """First round whose metric ``key`` reaches ``target`` (``None`` if never)."""
        return next((r.round for r in self.rounds if r.test[key] >= target), None)

    def client_metric(self, key: str) -> np.ndarray:
        """Array ``[round, client]`` of a per-client number; NaN where a client did not report it."""
        ids = sorted({k for r in self.rounds for k in r.clients})
        table = np.full((len(self.rounds), max(ids, default=-1) + 1), np.nan)
        for i, r in enumerate(self.rounds):
            for k, values in r.clients.items():
                table[i, k] = values.get(key, np.nan)
        return table

    @property
    def total_bytes(self) -> int:
        """Everything that crossed the network, both directions, all rounds."""
        return sum(r.bytes_down + r.bytes_up for r in self.rounds)

    def rows(self) -> list[dict[str, float]]:
        """One flat dict per round (round, test metrics, bytes), e.g. for a table."""
        return [{"round": r.round, **r.test, "MB_down": r.bytes_down / 1e6, "MB_up": r.bytes_up / 1e6}
                for r in self.rounds]

    def __str__(self) -> str:
        if not self.rounds:
            return f"{self.name}: no rounds yet"
        t = self.rounds[-1].test
        return (f"{self.name}: {len(self.rounds)} rounds, accuracy {t['accuracy']:.3f}, "
                f"AUC {t['auc']:.3f}, {self.total_bytes / 1e6:.1f} MB sent")


def table(histories: list[History], keys: tuple[str, ...] = ("accuracy", "auc")) -> str:
    """A plain-text comparison of several runs' final metrics."""
    width = max(len(h.name) for h in histories)
    lines = [f"{'run':<{width}}  " + "  ".join(f"{k:>9}" for k in keys) + "   MB sent"]
    for h in histories:
        lines.append(f"{h.name:<{width}}  " + "  ".join(f"{h.final(k):9.3f}" for k in keys)
                     + f"  {h.total_bytes / 1e6:8.2f}")
    return "\n".join(lines)
