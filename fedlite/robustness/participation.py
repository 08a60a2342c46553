"""Who takes part in a round: dropouts and deadlines, as update hooks.

Every piece here is an ``on_update`` hook for :func:`fedlite.simulation.run_federated`:
``hook(context, client, result)`` returns what of a hospital's update reaches the
server -- the result, a changed one (compressed, see
:mod:`fedlite.robustness.compression`), or ``None`` (it never arrives). Hooks
are combined with :func:`chain`.

- **Stragglers and dropouts.** Real federations lose participants every
  round: a hospital's job runs late, its network fails, its machine reboots.
  Production systems therefore give each round a *reporting deadline* and
  simply ignore devices that miss it (Bonawitz et al. 2019, "Towards federated
  learning at scale: system design", SysML). :class:`Deadline` simulates a
  compute time per hospital and drops the late ones; :class:`RandomDropout`
  loses each update with a fixed probability.

A hook reads the round number from ``context.round`` (a
:class:`fedlite.simulation.RoundContext`), so its random draws differ from
round to round and are reproducible.
"""

from __future__ import annotations

import math
from collections.abc import Sequence

import numpy as np

from fedlite.checks import check_positive, check_probability
from fedlite.client import ClientResult
from fedlite.simulation import RoundContext, UpdateHook, round_seed


def chain(*hooks: UpdateHook) -> UpdateHook:
    """One hook that applies ``hooks`` in order; an update dropped (``None``) by one goes no further.

    Order matters: put dropouts and deadlines first, so that a compressor's
    error-feedback memory only changes for updates that are really sent.
    """
    def hook(context: RoundContext, client: int, result: ClientResult) -> ClientResult | None:
        for h in hooks:
            result = h(context, client, result)
            if result is None:
                return None
        return result
    return hook


# --- who arrives ------------------------------------------------------------------------------


class RandomDropout:
    """Each update is lost with probability ``p``, independently per round and client.

    ``p`` is one probability for everyone, or one per client (``p[k]`` for
    client ``k``: some patients' devices fail more often than others). The
    draw for ``(round, client)`` is seeded by ``(seed, round, client)``, so a
    run is reproducible and does not depend on the order of the hooks.
    ``dropped`` lists every lost ``(round, client)``.
    """

    def __init__(self, p: float | Sequence[float], *, seed: int = 0) -> None:
        for value in np.atleast_1d(np.asarray(p, dtype=object)):
            check_probability(value, "dropout probability p")
        self.p, self.seed = p, seed
        self.dropped: list[tuple[int, int]] = []

    def __call__(self, context: RoundContext, client: int, result: ClientResult) -> ClientResult | None:
        p = self.p if np.ndim(self.p) == 0 else self.p[client]
        if np.random.default_rng(round_seed(self.seed, context.round, client)).random() < p:
            self.dropped.append((context.round, client))
            return None
        return result


class Deadline:
    """Drop hospitals whose simulated training time exceeds the round's deadline.

    Hospital ``k`` processes ``speeds[k]`` samples per second, so its round takes::

        time_{t,k} = epochs * n_k / speeds[k] * exp(jitter * z_{t,k}),    z_{t,k} ~ N(0, 1)

    (a log-normal slowdown, seeded by ``(seed, t, k)``: shared machines,
    busy networks). Updates with ``time > deadline`` arrive too late and are
    dropped, as in Bonawitz et al. 2019. ``times[(t, k)]`` keeps every
    simulated time and ``dropped`` every late ``(t, k)``.
    """

    def __init__(self, speeds: Sequence[float], deadline: float, *, epochs: int = 1,
                 jitter: float = 0.0, seed: int = 0) -> None:
        for k, s in enumerate(speeds):
            check_positive(s, f"speeds[{k}] (samples per second)")
        check_positive(deadline, "deadline (seconds)")
        if not isinstance(epochs, int) or epochs < 1:
            raise ValueError(f"epochs must be a positive integer, got {epochs!r}")
        if not (isinstance(jitter, (int, float)) and jitter >= 0):
            raise ValueError(f"jitter (std of the log slowdown) must be >= 0, got {jitter!r}")
        self.speeds, self.deadline = [float(s) for s in speeds], float(deadline)
        self.epochs, self.jitter, self.seed = epochs, float(jitter), seed
        self.times: dict[tuple[int, int], float] = {}
        self.dropped: list[tuple[int, int]] = []

    def time(self, round_: int, client: int, num_samples: int) -> float:
        """Simulated seconds hospital ``client`` needs in ``round_`` for ``num_samples`` samples."""
        if not 0 <= client < len(self.speeds):
            raise ValueError(f"no speed for client {client}: pass one speed per hospital "
                             f"({len(self.speeds)} given)")
        z = np.random.default_rng(round_seed(self.seed, round_, client)).standard_normal()
        return self.epochs * num_samples / self.speeds[client] * math.exp(self.jitter * z)

    def round_time(self, round_: int) -> float:
        """How long the server waited in ``round_``: the slowest hospital's time, capped at the deadline."""
        times = [s for (t, _), s in self.times.items() if t == round_]
        if not times:
            raise ValueError(f"no hospital was timed in round {round_}; run the round first")
        return min(max(times), self.deadline)

    def __call__(self, context: RoundContext, client: int, result: ClientResult) -> ClientResult | None:
        seconds = self.time(context.round, client, result.num_samples)
        self.times[(context.round, client)] = seconds
        if seconds > self.deadline:
            self.dropped.append((context.round, client))
            return None
        return result
