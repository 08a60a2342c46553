"""Differential privacy for federated learning: DP-FedAvg and its privacy budget.

DP-FedAvg (McMahan, Ramage, Talwar & Zhang, "Learning differentially private
recurrent language models", ICLR 2018) changes two things in a FedAvg round
with ``m`` participating clients:

1. **Clip** (client side). Client ``k``'s update ``Delta_k = w_k - w`` is scaled
   down to L2 norm at most ``C``::

       Delta_k <- Delta_k * min(1, C / ||Delta_k||)

   so no single client can move the sum by more than ``C`` (its *sensitivity*).
2. **Noise** (server side). The server averages the clipped updates with
   *equal* weights and adds Gaussian noise::

       w <- w + (1/m) * ( sum_k Delta_k + N(0, (sigma * C)^2 I) )
         =  w + mean_k Delta_k + N(0, (sigma * C / m)^2 I)

   Noise of std ``sigma * C`` on the **sum** is the same as std
   ``sigma * C / m`` on the **mean**; ``sigma`` is the *noise multiplier*.
   Equal weights matter: with FedAvg's ``n_k / n`` a large hospital could
   move the average by more than ``C / m``, and the bound would not hold.

Each round is then a *sampled Gaussian mechanism* on the clients' data. Over
``T`` rounds, each sampling clients with probability ``q``, the whole
training run is ``(epsilon, delta)``-differentially private **at the client
level**: whether or not any one client (here: a whole hospital) took part
changes the probability of any outcome by at most a factor ``e^epsilon``,
except with probability ``delta``. Client-level DP implies the same guarantee
for every single patient. :func:`dp_epsilon` computes ``epsilon`` with
Opacus's Rényi-DP accountant (Mironov 2017; Mironov, Talwar & Zhang 2019),
the same accountant Opacus uses for DP-SGD.

Honest caveats:

- The guarantee protects against everyone who sees the *noised* model.
  The server adds the noise, so it sees each clipped update itself; combine
  with secure aggregation (and noise added by the clients) to hide those too.
- The accountant assumes each client is included independently with
  probability ``q`` (Poisson sampling); ``run_federated`` samples a fixed
  number ``round(q K)`` each round, the common practical shortcut.
- With few clients, ``sigma * C / m`` is large: DP-FedAvg was designed for
  thousands of users per round, not four hospitals.
"""

from __future__ import annotations

import math
import warnings
from dataclasses import replace
from collections.abc import Sequence

import torch
from opacus.accountants import RDPAccountant
from torch import Tensor

from fedlite.aggregate import check_states, fedavg
from fedlite.client import ClientResult
from fedlite.simulation import RoundContext
from fedlite.state import State, apply_update, norm, update_of

ALPHAS = RDPAccountant.DEFAULT_ALPHAS + [80, 96, 128, 192, 256, 384, 512, 1024]
"""Rényi orders searched by :func:`dp_epsilon`: Opacus's defaults plus larger
ones, which give tighter bounds when there is little noise."""


def _check_dp(clip: float, noise_multiplier: float) -> None:
    if not (isinstance(clip, (int, float)) and math.isfinite(clip) and clip > 0):
        raise ValueError(f"clip norm C must be a positive number, got {clip!r}")
    if not (isinstance(noise_multiplier, (int, float)) and math.isfinite(noise_multiplier)
            and noise_multiplier >= 0):
        raise ValueError(f"noise_multiplier sigma must be >= 0 (0 = clipping only, no privacy "
                         f"guarantee), got {noise_multiplier!r}")


def clip_update(delta: State, clip: float) -> tuple[dict[str, Tensor], float]:
    """Scale ``delta`` to L2 norm at most ``clip``; return it and its norm *before* clipping.

    ``Delta * min(1, C / ||Delta||)``: short updates are left alone, long ones
    keep their direction and lose length. Integer tensors are left untouched.
    """
    _check_dp(clip, 0.0)
    length = norm(delta)
    factor = min(1.0, clip / length) if length > 0 else 1.0
    return {k: t * factor if t.is_floating_point() else t.clone() for k, t in delta.items()}, length


def gaussian_noise(like: State, std: float, generator: torch.Generator) -> dict[str, Tensor]:
    """Independent ``N(0, std^2)`` noise shaped like every floating-point tensor of ``like``."""
    if not std >= 0:
        raise ValueError(f"noise std must be >= 0, got {std!r}")
    return {k: torch.randn(t.shape, generator=generator, dtype=torch.float64).to(t.dtype) * std
            for k, t in like.items() if t.is_floating_point()}


def dp_epsilon(noise_multiplier: float, sample_rate: float, rounds: int, delta: float) -> float:
    """The ``epsilon`` of ``rounds`` DP-FedAvg rounds, at a given ``delta``.

    Parameters
    ----------
    noise_multiplier
        ``sigma``: noise std divided by the clip norm ``C`` (on the sum of updates).
    sample_rate
        ``q``: the probability that a client takes part in a round (1 = always).
    rounds
        ``T``: the number of rounds trained.
    delta
        The failure probability, in ``(0, 1)``; usually below ``1 / (number of clients)``.

    Uses ``opacus.accountants.RDPAccountant`` with the orders :data:`ALPHAS`.
    ``epsilon`` grows with ``rounds`` and ``sample_rate`` and shrinks as
    ``noise_multiplier`` grows.
    """
    if not (isinstance(noise_multiplier, (int, float)) and math.isfinite(noise_multiplier)
            and noise_multiplier > 0):
        raise ValueError(f"noise_multiplier must be > 0 (with no noise, epsilon is infinite), "
                         f"got {noise_multiplier!r}")
    if not 0 < sample_rate <= 1:
        raise ValueError(f"sample_rate q must be in (0, 1], got {sample_rate!r}")
    if not isinstance(rounds, int) or rounds < 1:
        raise ValueError(f"rounds must be a positive integer, got {rounds!r}")
    if not 0 < delta < 1:
        raise ValueError(f"delta must be in (0, 1), e.g. 1e-5; got {delta!r}")
    accountant = RDPAccountant()
    accountant.history = [(float(noise_multiplier), float(sample_rate), rounds)]
    with warnings.catch_warnings():  # "optimal order is the largest alpha": the bound is loose, not wrong
        warnings.simplefilter("ignore", UserWarning)
        return accountant.get_epsilon(delta=delta, alphas=ALPHAS)


class DPFedAvg:
    """DP-FedAvg through the two hooks of :func:`fedlite.simulation.run_federated`::

        mechanism = DPFedAvg(clip=1.0, noise_multiplier=1.0, seed=0)
        run_federated(model, hospitals, test, rounds=20,
                      on_update=mechanism.on_update, aggregate=mechanism.aggregate)
        dp_epsilon(1.0, sample_rate=1.0, rounds=mechanism.rounds, delta=1e-3)

    ``on_update`` clips each update ``w_k - w_t`` (what reaches the server),
    ``aggregate`` averages with equal weights and adds ``N(0, (sigma C / m)^2)``
    to every parameter; both read ``w_t`` from the round's context, so a
    server optimizer may follow. ``norms`` records every update's norm before
    clipping, which helps to choose ``C``.
    """

    def __init__(self, *, clip: float, noise_multiplier: float, seed: int = 0) -> None:
        _check_dp(clip, noise_multiplier)
        self.clip, self.noise_multiplier = float(clip), float(noise_multiplier)
        self.generator = torch.Generator().manual_seed(seed)
        self.norms: list[float] = []
        self.rounds = 0

    def on_update(self, context: RoundContext, client: int, result: ClientResult) -> ClientResult:
        """Client side: replace ``w_k`` by ``w_t + clip(w_k - w_t)``."""
        clipped, length = clip_update(update_of(result.state, context.broadcast), self.clip)
        self.norms.append(length)
        return replace(result, state=apply_update(context.broadcast, clipped, result.state))

    def aggregate(self, states: Sequence[State], num_samples: Sequence[float],
                  context: RoundContext | None = None) -> dict[str, Tensor]:
        """Server side: ``w_t + mean_k Delta_k + N(0, (sigma C / m)^2)``, equal weights.

        The states arrive as ``w_t + clip(Delta_k)``, so their equal-weight mean
        is ``w_t + mean_k clip(Delta_k)``.
        """
        check_states(states)
        m = len(states)
        mean = fedavg(states, [1.0] * m)                  # equal weights: each client moves it <= C/m
        noise = gaussian_noise(mean, self.noise_multiplier * self.clip / m, self.generator)
        self.rounds += 1
        return {k: v + noise[k] if k in noise else v for k, v in mean.items()}
