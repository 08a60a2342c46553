"""The systems side of a federation: who arrives in time, and how many bytes they send.

Every piece here is an ``on_update`` hook for :func:`fedlite.simulation.run_federated`:
``hook(round, client, result)`` returns what of a hospital's update reaches the
server -- the result, a changed one (compressed), or ``None`` (it never
arrives). Hooks are combined with :func:`chain`.

- **Stragglers and dropouts.** Real federations lose participants every
  round: a hospital's job runs late, its network fails, its machine reboots.
  Production systems therefore give each round a *reporting deadline* and
  simply ignore devices that miss it (Bonawitz et al. 2019, "Towards federated
  learning at scale: system design", SysML). :class:`Deadline` simulates a
  compute time per hospital and drops the late ones; :class:`RandomDropout`
  loses each update with a fixed probability.
- **Compression.** An update ``Delta_k = w_k - w_t`` (new local weights minus
  the broadcast global ones) is sent in fewer bytes: :class:`Quantize`
  (uniform ``b``-bit quantization; Konečný et al. 2016, "Federated learning:
  strategies for improving communication efficiency"; Alistarh et al. 2017,
  QSGD) or :class:`TopK` (keep the largest entries and carry the rest over in
  an error-feedback memory; Seide et al. 2014, "1-bit SGD"; Stich, Cordonnier &
  Jaggi 2018, "Sparsified SGD with memory").

Compression needs ``w_t``: :class:`Broadcast` receives it from
``run_federated``'s ``on_round`` hook each round and hands it to the other
hooks (see :meth:`Broadcast.hooks`).
"""

from __future__ import annotations

import math
from collections.abc import Callable, Mapping, Sequence
from dataclasses import replace

import numpy as np
from torch import Tensor, nn

from fedlite.aggregate import fedavg
from fedlite.client import ClientResult
from fedlite.compression import TopKWithMemory, dequantize, quantize, quantized_bytes, sparse_bytes
from fedlite.simulation import Aggregator, UpdateHook, round_seed

State = Mapping[str, Tensor]


def _check_probability(p: float, name: str) -> None:
    if not (isinstance(p, (int, float)) and 0 <= p <= 1):
        raise ValueError(f"{name} must be a probability in [0, 1], got {p!r}")


def _check_positive(value: float, name: str) -> None:
    if not (isinstance(value, (int, float)) and math.isfinite(value) and value > 0):
        raise ValueError(f"{name} must be a positive number, got {value!r}")


class Broadcast:
    """The server's copy of the global weights ``w_t`` it broadcast in the current round.

    Use it to wire a run::

        server = Broadcast(model)
        run_federated(model, hospitals, test, rounds=10,
                      **server.hooks(on_update=Quantize(server, bits=8), aggregate=fedavg))

    ``state`` is ``w_t`` while round ``t``'s hooks run; ``round`` is ``t``;
    ``arrived`` lists, in order, the clients whose update reached the server
    this round (the order in which ``aggregate`` receives their states).
    """

    def __init__(self, model: nn.Module) -> None:
        self.state: dict[str, Tensor] = {k: v.detach().clone() for k, v in model.state_dict().items()}
        self.round = 0
        self.arrived: list[int] = []

    def start(self, round_: int, global_state: State) -> None:
        """``on_round``: remember round ``t``'s broadcast weights ``w_t``; nobody has arrived yet."""
        self.round, self.arrived = round_, []
        self.state = {k: v.detach().clone() for k, v in global_state.items()}

    def hooks(self, on_update: UpdateHook | None = None,
              aggregate: Aggregator = fedavg) -> dict[str, Callable]:
        """``on_round``, ``on_update`` and ``aggregate`` for ``run_federated``: this object follows
        ``w_t`` and records who arrived, then hands over to ``on_update`` and ``aggregate``."""
        def receive(round_: int, client: int, result: ClientResult) -> ClientResult | None:
            sent = on_update(round_, client, result) if on_update else result
            if sent is not None:
                self.arrived.append(client)
            return sent

        return {"on_round": self.start, "on_update": receive, "aggregate": aggregate}


def chain(*hooks: UpdateHook) -> UpdateHook:
    """One hook that applies ``hooks`` in order; an update dropped (``None``) by one goes no further.

    Order matters: put dropouts and deadlines first, so that a compressor's
    error-feedback memory only changes for updates that are really sent.
    """
    def hook(round_: int, client: int, result: ClientResult) -> ClientResult | None:
        for h in hooks:
            result = h(round_, client, result)
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
            _check_probability(value, "dropout probability p")
        self.p, self.seed = p, seed
        self.dropped: list[tuple[int, int]] = []

    def __call__(self, round_: int, client: int, result: ClientResult) -> ClientResult | None:
        p = self.p if np.ndim(self.p) == 0 else self.p[client]
        if np.random.default_rng(round_seed(self.seed, round_, client)).random() < p:
            self.dropped.append((round_, client))
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
            _check_positive(s, f"speeds[{k}] (samples per second)")
        _check_positive(deadline, "deadline (seconds)")
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

    def __call__(self, round_: int, client: int, result: ClientResult) -> ClientResult | None:
        seconds = self.time(round_, client, result.num_samples)
        self.times[(round_, client)] = seconds
        if seconds > self.deadline:
            self.dropped.append((round_, client))
            return None
        return result


# --- how many bytes ---------------------------------------------------------------------------


def update_of(state: State, reference: State) -> dict[str, Tensor]:
    """``Delta = w_k - w_t`` for every floating-point tensor (integer buffers are not updates)."""
    return {k: state[k] - v for k, v in reference.items() if v.is_floating_point()}


def apply_update(reference: State, delta: State, state: State) -> dict[str, Tensor]:
    """``w_t + Delta`` for the floating-point tensors; other tensors are taken from ``state`` as sent."""
    return {k: reference[k] + delta[k] if k in delta else state[k].clone() for k in reference}


def _other_bytes(state: State, delta: State) -> int:
    """Bytes of the tensors sent uncompressed (integer buffers)."""
    return sum(t.numel() * t.element_size() for k, t in state.items() if k not in delta)


class Quantize:
    """Send ``Delta`` quantized to ``bits`` bits a number; the server receives ``w_t + dequantize(...)``.

    Each tensor of ``Delta`` is mapped onto ``2^bits`` evenly spaced levels
    between its minimum and maximum (:func:`fedlite.compression.quantize`), so
    every number is off by at most half a step. ``upload_bytes`` is set to the
    quantized size: ``bits / 32`` of float32 plus 8 bytes per tensor.
    Quantizing the *update* rather than the weights keeps the range, and so the
    error, small (Konečný et al. 2016).
    """

    def __init__(self, broadcast: Broadcast, bits: int = 8) -> None:
        if not isinstance(bits, int) or not 1 <= bits <= 16:
            raise ValueError(f"bits must be an integer from 1 to 16, got {bits!r}")
        self.broadcast, self.bits = broadcast, bits

    def __call__(self, round_: int, client: int, result: ClientResult) -> ClientResult:
        delta = update_of(result.state, self.broadcast.state)
        received = {k: dequantize(*quantize(t, self.bits)) for k, t in delta.items()}
        size = quantized_bytes(delta, self.bits) + _other_bytes(result.state, delta)
        return replace(result, state=apply_update(self.broadcast.state, received, result.state),
                       upload_bytes=size)


class TopK:
    """Send only the fraction ``ratio`` of largest entries of ``Delta``, as (value, index) pairs.

    With ``error_feedback=True`` each hospital keeps what it did not send and
    adds it to its next update (:class:`fedlite.compression.TopKWithMemory`;
    Stich et al. 2018), so nothing is lost for good; without it the small
    entries are simply discarded every round. ``upload_bytes`` is 8 bytes per
    sent entry (:func:`fedlite.compression.sparse_bytes`).
    """

    def __init__(self, broadcast: Broadcast, ratio: float, *, error_feedback: bool = True) -> None:
        if not (isinstance(ratio, (int, float)) and 0 < ratio <= 1):
            raise ValueError(f"ratio (fraction of entries sent) must be in (0, 1], got {ratio!r}")
        self.broadcast, self.ratio, self.error_feedback = broadcast, float(ratio), error_feedback
        self.memory: dict[int, TopKWithMemory] = {}

    def __call__(self, round_: int, client: int, result: ClientResult) -> ClientResult:
        delta = update_of(result.state, self.broadcast.state)
        compressor = self.memory.setdefault(client, TopKWithMemory(self.ratio)) if self.error_feedback \
            else TopKWithMemory(self.ratio)
        sparse = compressor.compress(delta)
        size = sparse_bytes(sparse) + _other_bytes(result.state, delta)
        return replace(result, state=apply_update(self.broadcast.state, sparse, result.state),
                       upload_bytes=size)
