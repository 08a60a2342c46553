"""Differential privacy for federated learning: DP-FedAvg and its privacy budget.

DP-FedAvg (McMahan, Ramage, Talwar & Zhang, "Learning differentially private
recurrent language models", ICLR 2018, Algorithm 1) changes a FedAvg round in
which each of the ``K`` clients takes part with probability ``q``:

1. **Clip** (client side). Client ``k``'s update ``Delta_k = w_k - w`` is scaled
   down to L2 norm at most ``S`` (the clip norm; ``clip`` in code)::

       Delta_k <- Delta_k * min(1, S / ||Delta_k||)

2. **Weight, with a cap.** Client ``k`` gets the weight
   ``omega_k = min(n_k / cap, 1)`` (``weight_cap``; without a cap every
   client weighs 1, "equal weighting"). Because ``omega_k <= 1``, no single
   client can move the weighted sum ``sum_k omega_k Delta_k`` by more than
   ``S`` (its *sensitivity*). FedAvg's uncapped ``n_k / n`` would break this.
3. **Fixed denominator, then noise** (server side)::

       w <- w + ( sum_{k arrived} omega_k Delta_k + N(0, (sigma S)^2 I) ) / (q W),
       W = sum_{all K clients} omega_k

   ``q W`` is the *expected* total weight of a round, fixed in advance. The
   realized total (or count ``m``) of the clients that arrived must not be
   used: it differs between neighbouring datasets (with or without one
   client) and under dropouts, so dividing by it would leak. ``sigma`` is the
   *noise multiplier*; the noise on the average has std ``sigma S / (q W)``.

The clip norm ``S`` must be fixed before seeing the private updates: choosing
it from their norms (say, half the median norm) spends privacy that no
``epsilon`` here accounts for. Either fix it from public knowledge (a pilot on
public data, the model's scale) or adapt it privately and pay for it
(Andrew, Thakkar, McMahan & Ramaswamy 2021, "Differentially private learning
with adaptive clipping", NeurIPS). ``norms`` records the norms for teaching
only; reading them to set ``S`` is exactly the leak described.

Each round is then a *sampled Gaussian mechanism* on the clients' data. Over
``T`` rounds, each sampling clients with probability ``q``, the whole
training run is ``(epsilon, delta)``-differentially private **at the client
level**: whether or not any one client (here: a whole hospital) took part
changes the probability of any outcome by at most a factor ``e^epsilon``,
except with probability ``delta``. The unit of privacy is the hospital
(add/remove). It does **not** hand every patient the same ``epsilon`` for
free: replacing one patient can move a clipped hospital update by up to
``2 S``, so a patient-level statement needs the replace-one accounting (about
twice the sensitivity), and ``delta`` must be far below ``1 / n`` for ``n``
patients (``delta = 1e-3`` is far too large for a few hundred). Per-patient
clipping and noise at each hospital (DP-SGD) is the usual route to
patient-level DP. :func:`dp_epsilon` computes ``epsilon`` with
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
from fedlite.checks import integer, number
from fedlite.checks import seed as check_seed
from fedlite.client import ClientResult
from fedlite.simulation import RoundContext
from fedlite.state import State, apply_update, norm, update_of

ALPHAS = RDPAccountant.DEFAULT_ALPHAS + [80, 96, 128, 192, 256, 384, 512, 1024]
"""Rényi orders searched by :func:`dp_epsilon`: Opacus's defaults plus larger
ones, which give tighter bounds when there is little noise."""


def _check_dp(clip: float, noise_multiplier: float) -> None:
    number(clip, "clip norm C", above=0)
    number(noise_multiplier, "noise_multiplier sigma (0 = clipping only, no privacy guarantee)", at_least=0)


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
    ``noise_multiplier`` grows. Opacus converts Rényi DP of order ``alpha``
    with ``epsilon = RDP(alpha) - (log(delta) + log(alpha)) / (alpha - 1)
    + log((alpha - 1) / alpha)`` (Balle et al. 2020), which for a very large
    ``delta`` can come out negative; ``epsilon`` is then clamped at 0 with a
    ``UserWarning`` saying why.
    """
    sigma = number(noise_multiplier, "noise_multiplier (with no noise, epsilon is infinite)", above=0)
    q = number(sample_rate, "sample_rate q", above=0)
    if q > 1:
        raise ValueError(f"sample_rate q must be in (0, 1], got {sample_rate!r}")
    rounds = integer(rounds, "rounds", minimum=1)
    delta = number(delta, "delta (e.g. 1e-5)", above=0, below=1)
    accountant = RDPAccountant()
    accountant.history = [(sigma, q, rounds)]
    with warnings.catch_warnings():  # "optimal order is the largest alpha": the bound is loose, not wrong
        warnings.simplefilter("ignore", UserWarning)
        epsilon = accountant.get_epsilon(delta=delta, alphas=ALPHAS)
    if epsilon < 0:
        warnings.warn(f"delta={delta:g} is so large that the RDP conversion gives epsilon = {epsilon:.3g} < 0; "
                      "reported as 0, which is vacuous: a mechanism that fails with probability delta can "
                      "reveal anything. Use delta well below 1 / (number of clients).", UserWarning, stacklevel=2)
    return max(epsilon, 0.0)


def capped_weights(num_samples: Sequence[float], cap: float | None) -> list[float]:
    """DP-FedAvg's client weights ``omega_k = min(n_k / cap, 1)``; all 1 (equal weighting) if ``cap`` is None."""
    if cap is None:
        return [1.0] * len(num_samples)
    if not (isinstance(cap, (int, float)) and math.isfinite(cap) and cap > 0):
        raise ValueError(f"weight_cap must be a positive number of samples, got {cap!r}")
    return [min(n / cap, 1.0) for n in num_samples]


class DPFedAvg:
    """DP-FedAvg through the two hooks of :func:`fedlite.simulation.run_federated`::

        mechanism = DPFedAvg(clip=1.0, noise_multiplier=1.0, num_samples=[len(h) for h in hospitals], seed=0)
        run_federated(model, hospitals, test, rounds=20,
                      on_update=mechanism.on_update, aggregate=mechanism.aggregate)
        dp_epsilon(1.0, sample_rate=1.0, rounds=mechanism.rounds, delta=1e-5)

    ``num_samples`` lists every client's sample count (all ``K`` clients, not
    only those of one round) and ``participation`` is ``q``; with
    ``weight_cap`` they fix the denominator ``q W`` before training.
    ``on_update`` clips each update ``w_k - w_t`` (what reaches the server);
    ``aggregate`` forms ``w_t + (sum omega_k Delta_k + N(0, (sigma S)^2)) / (q W)``,
    reading ``w_t`` from the round's context and each arrived client's ``n_k``
    from ``num_samples``; a server optimizer may follow. ``norms`` records every
    update's norm before clipping, for teaching only: choosing ``S`` from them
    spends privacy that no ``epsilon`` here accounts for.
    """

    def __init__(self, *, clip: float, noise_multiplier: float, num_samples: Sequence[float],
                 participation: float = 1.0, weight_cap: float | None = None, seed: int = 0) -> None:
        _check_dp(clip, noise_multiplier)
        if len(num_samples) == 0 or any(not n > 0 for n in num_samples):
            raise ValueError(f"num_samples must list every client's (positive) sample count, got {num_samples!r}")
        if not 0 < participation <= 1:
            raise ValueError(f"participation q must be in (0, 1], got {participation!r}")
        self.clip, self.noise_multiplier, self.weight_cap = float(clip), float(noise_multiplier), weight_cap
        self.expected_weight = participation * sum(capped_weights(num_samples, weight_cap))
        self.generator = torch.Generator().manual_seed(check_seed(seed))
        self.norms: list[float] = []
        self.rounds = 0

    def on_update(self, context: RoundContext, client: int, result: ClientResult) -> ClientResult:
        """Client side: replace ``w_k`` by ``w_t + clip(w_k - w_t)``."""
        clipped, length = clip_update(update_of(result.state, context.broadcast), self.clip)
        self.norms.append(length)
        return replace(result, state=apply_update(context.broadcast, clipped, result.state))

    def aggregate(self, states: Sequence[State], num_samples: Sequence[float],
                  context: RoundContext) -> dict[str, Tensor]:
        """Server side: ``w_t + (sum_k omega_k Delta_k + N(0, (sigma S)^2)) / (q W)``, ``q W`` fixed."""
        check_states(states)
        omega = capped_weights(num_samples, self.weight_cap)
        noise = gaussian_noise(context.broadcast, self.noise_multiplier * self.clip / self.expected_weight,
                               self.generator)
        new = fedavg(states, [1.0] * len(states))          # integer buffers (BatchNorm counters): plain mean
        for k, w in context.broadcast.items():
            if w.is_floating_point():
                total = sum(o * (s[k].double() - w.double()) for o, s in zip(omega, states))
                new[k] = (w.double() + total / self.expected_weight).to(w.dtype) + noise[k]
        self.rounds += 1
        return new
