"""Secure aggregation with pairwise additive masks, small enough to read in one sitting.

The idea (Bonawitz et al., "Practical secure aggregation for privacy-preserving
machine learning", CCS 2017): every pair of hospitals ``i < j`` agrees on a
secret seed ``s_ij`` and expands it into a long random vector ``r_ij``.
Hospital ``i`` *adds* ``r_ij`` to its vector, hospital ``j`` *subtracts* it::

    y_i = x_i + sum_{j > i} r_ij - sum_{j < i} r_ji          (mod 2^k)

Each ``y_i`` on its own looks uniformly random to the server, but in the sum
every ``r_ij`` appears once with ``+`` and once with ``-``, so
``sum_i y_i = sum_i x_i`` exactly.

**Dropouts.** If hospital ``d`` masks its vector and then disappears, its
masks ``r_dj`` no longer cancel in the survivors' sum. Each survivor ``j``
then reveals the seed ``s_dj`` it shared with ``d``; the server regenerates
those masks, removes them, and gets the exact sum of the survivors.

**Exact arithmetic.** Floats do not add exactly (the order of additions
changes the last bits), and masks only hide a value if they can take every
value with equal probability. So vectors are first turned into integers
modulo ``2^k`` (fixed point)::

    encode(x) = round(x * scale) mod 2^k        decode(u) = u / scale, with u >= 2^(k-1) read as negative

With the defaults ``k = BITS = 48`` and ``scale = SCALE = 2^24``, values have
a resolution of ``2^-24`` (about ``6e-8``) and the *sum* must stay within
``+-2^23`` (about ``8.4e6``). All arithmetic is in ``uint64``, where overflow
wraps around modulo ``2^64``, a multiple of ``2^k``.

What it protects, and what not
------------------------------
- It hides each hospital's vector from an **honest-but-curious server**: one
  that follows the protocol but looks at everything it receives.
- It does **not** hide what the *sum* reveals: with two hospitals, each can
  subtract its own vector from the sum; with one participant the sum *is* the
  update; and averages over few hospitals can still leak (notebook 05).
- It does **not** stop a **malicious server** (one that lies about who dropped
  out to learn a vector, or colludes with hospitals), nor a malicious
  hospital that sends a poisoned vector: the server cannot inspect the
  vectors, so it cannot filter them either.

Simplifications (for reading, not for deployment): seeds come from one
``session_seed`` instead of a Diffie-Hellman key agreement; survivors reveal
seeds directly instead of Shamir secret shares with a threshold; and there
are no self-masks, which the real protocol adds so that a client that was
only slow cannot be unmasked.
"""

from __future__ import annotations

from collections.abc import Mapping, Sequence

import numpy as np
import torch
from torch import Tensor

from fedlite.client import ClientResult
from fedlite.simulation import RoundContext
from fedlite.state import State, cast_like

BITS = 48           # work modulo 2^48
SCALE = 2**24       # fixed point: 1.0 is stored as 2^24


def _check_field(bits: int, scale: int) -> None:
    if not isinstance(bits, int) or not 8 <= bits <= 62:
        raise ValueError(f"bits must be an integer in [8, 62] (arithmetic is modulo 2^bits), got {bits!r}")
    if not isinstance(scale, int) or scale < 1 or scale >= 2 ** (bits - 1):
        raise ValueError(f"scale must be a positive integer below 2^(bits-1) = {2 ** (bits - 1)}, got {scale!r}")


def encode(x: np.ndarray, *, scale: int = SCALE, bits: int = BITS) -> np.ndarray:
    """Floats to fixed-point integers modulo ``2^bits``: ``round(x * scale) mod 2^bits``.

    Raises ``ValueError`` if a value is outside ``+-2^(bits-1) / scale`` or not finite.
    """
    _check_field(bits, scale)
    x = np.asarray(x, dtype=np.float64)
    limit = 2.0 ** (bits - 1) / scale
    if not np.isfinite(x).all() or (np.abs(x) >= limit).any():
        raise ValueError(f"values must be finite and within +-{limit:g} to fit {bits}-bit fixed point "
                         f"with scale {scale}; use a smaller scale or more bits")
    return np.rint(x * scale).astype(np.int64).astype(np.uint64) & np.uint64(2**bits - 1)


def decode(u: np.ndarray, *, scale: int = SCALE, bits: int = BITS) -> np.ndarray:
    """Inverse of :func:`encode`: residues ``>= 2^(bits-1)`` stand for negative numbers."""
    _check_field(bits, scale)
    u = np.asarray(u, dtype=np.uint64) & np.uint64(2**bits - 1)
    signed = u.astype(np.int64) - (u >= 2 ** (bits - 1)).astype(np.int64) * 2**bits
    return signed.astype(np.float64) / scale


def pair_seed(i: int, j: int, session_seed: int, round_: int = 0) -> int:
    """The secret seed hospitals ``i`` and ``j`` share in one round (simulated key agreement).

    Symmetric in ``i, j``, and fresh every round: reusing masks across rounds
    would let the server subtract two rounds' masked vectors and cancel them.
    """
    a, b = sorted((int(i), int(j)))
    return int(np.random.SeedSequence([session_seed, round_, a, b]).generate_state(1, np.uint64)[0])


def pair_mask(seed: int, length: int, bits: int = BITS) -> np.ndarray:
    """The mask ``r_ij``: ``length`` integers uniform in ``[0, 2^bits)``, expanded from ``seed``."""
    return np.random.default_rng(seed).integers(0, 2**bits, size=length, dtype=np.uint64)


def mask(client: int, encoded: np.ndarray, clients: Sequence[int], session_seed: int,
         round_: int = 0, bits: int = BITS) -> np.ndarray:
    """Client side: ``y_i = x_i + sum_{j > i} r_ij - sum_{j < i} r_ji  (mod 2^bits)``."""
    if client not in clients:
        raise ValueError(f"client {client} is not among the clients of this round {list(clients)}")
    y = np.array(encoded, dtype=np.uint64)
    for other in clients:
        if other == client:
            continue
        r = pair_mask(pair_seed(client, other, session_seed, round_), y.size, bits)
        y = y + r if client < other else y - r      # uint64 wraps around modulo 2^64
    return y & np.uint64(2**bits - 1)


def unmask_sum(masked: Mapping[int, np.ndarray], clients: Sequence[int], session_seed: int,
               round_: int = 0, bits: int = BITS) -> np.ndarray:
    """Server side: the exact sum (mod ``2^bits``) of the encoded vectors of the clients in ``masked``.

    ``clients`` are all clients that masked in this round; those missing from
    ``masked`` dropped out. For each dropped ``d`` and surviving ``j`` the seed
    ``s_dj`` is revealed (by ``j``) and the dangling mask removed: survivor
    ``j`` added ``r_jd`` if ``j < d`` and subtracted it otherwise.
    """
    survivors = sorted(masked)
    if not survivors:
        raise ValueError("no masked vector arrived: there is nothing to sum")
    unknown = set(survivors) - set(clients)
    if unknown:
        raise ValueError(f"vectors from clients {sorted(unknown)} that were not in this round's {list(clients)}")
    lengths = {masked[k].shape for k in survivors}
    if len(lengths) != 1:
        raise ValueError(f"masked vectors must all have the same length, got shapes {sorted(lengths)}")
    total = np.zeros(masked[survivors[0]].shape, dtype=np.uint64)
    for k in survivors:
        total = total + np.asarray(masked[k], dtype=np.uint64)
    for d in sorted(set(clients) - set(survivors)):
        for j in survivors:
            r = pair_mask(pair_seed(j, d, session_seed, round_), total.size, bits)
            total = total - r if j < d else total + r
    return total & np.uint64(2**bits - 1)


def secure_sum(vectors: Mapping[int, np.ndarray], dropped: Sequence[int] = (), *, session_seed: int = 0,
               scale: int = SCALE, bits: int = BITS) -> np.ndarray:
    """The whole protocol for one round, on plain float vectors: encode, mask, drop, unmask, decode.

    Returns the sum of the vectors of the clients *not* in ``dropped``, computed
    only from masked vectors.
    """
    clients = sorted(vectors)
    if len({np.shape(v) for v in vectors.values()}) != 1:
        raise ValueError("every client's vector must have the same length")
    if set(dropped) - set(clients):
        raise ValueError(f"dropped clients {sorted(set(dropped) - set(clients))} are not among {clients}")
    masked = {k: mask(k, encode(v, scale=scale, bits=bits), clients, session_seed, bits=bits)
              for k, v in vectors.items() if k not in dropped}
    return decode(unmask_sum(masked, clients, session_seed, bits=bits), scale=scale, bits=bits)


# --- secure FedAvg through the hooks of fedlite.simulation.run_federated -----------------------

def to_vector(state: State) -> np.ndarray:
    """All tensors of a state (integer buffers too), in order, as one float64 vector to mask."""
    return np.concatenate([t.detach().double().reshape(-1).numpy() for t in state.values()])


def from_vector(vector: np.ndarray, template: State) -> dict[str, Tensor]:
    """Cut a vector back into tensors shaped (and typed) like ``template``."""
    needed = sum(t.numel() for t in template.values())
    if len(vector) != needed:
        raise ValueError(f"vector has {len(vector)} numbers but the template needs {needed}")
    out, start = {}, 0
    for name, t in template.items():
        piece = torch.from_numpy(np.array(vector[start:start + t.numel()])).reshape(t.shape)
        out[name] = cast_like(piece, t)
        start += t.numel()
    return out


def weighted_vector(result: ClientResult) -> np.ndarray:
    """What one hospital contributes to the sum, before masking: ``[n_k * w_k, n_k]``.

    Summed over hospitals this is ``[sum n_k w_k, n]``, and dividing by the
    last entry gives FedAvg, so the server never needs any single ``n_k``.
    """
    return np.append(result.num_samples * to_vector(result.state), result.num_samples)


class SecureFedAvg:
    """FedAvg in which the server only ever sees masked updates and their exact sum.

    Plug it into the round loop::

        secure = SecureFedAvg(num_clients=3)
        run_federated(model, hospitals, test, rounds=5, on_update=secure.on_update,
                      aggregate=secure.aggregate)

    Hospital ``k`` sends ``mask(encode([n_k * w_k, n_k]))``: its weights
    times its sample count, with the count appended, so that the unmasked sum
    ``[sum n_k w_k, sum n_k]`` gives FedAvg's ``sum_k (n_k / n) w_k`` without
    the server learning any single ``n_k`` or ``w_k``. All ``num_clients``
    hospitals take part in the masking each round; one that was not sampled
    or dropped out is handled like a dropout. The round number (fresh masks
    every round), the ids of the hospitals whose vectors arrived and the shape
    of the model come from the round's context.

    ``upload_bytes`` counts ``bits / 8`` bytes per number (6 for 48 bits),
    against 4 for plain float32: the price of exactness.
    """

    def __init__(self, num_clients: int, *, session_seed: int = 0, scale: int = SCALE, bits: int = BITS) -> None:
        _check_field(bits, scale)
        if not isinstance(num_clients, int) or num_clients < 1:
            raise ValueError(f"num_clients must be a positive integer, got {num_clients!r}")
        self.clients = list(range(num_clients))
        self.session_seed, self.scale, self.bits = session_seed, scale, bits
        self.seen: dict[int, np.ndarray] = {}   # the last masked vector from each client, as the server saw it

    def on_update(self, context: RoundContext, client: int, result: ClientResult) -> ClientResult:
        """Hospital side: encode and mask ``[n_k * w_k, n_k]``; only that leaves the hospital."""
        masked = mask(client, encode(weighted_vector(result), scale=self.scale, bits=self.bits), self.clients,
                      self.session_seed, context.round, self.bits)
        return ClientResult({"masked": torch.from_numpy(masked.view(np.int64))}, result.num_samples, result.loss,
                            upload_bytes=masked.size * self.bits // 8)

    def aggregate(self, states: Sequence[State], num_samples: Sequence[float],
                  context: RoundContext) -> dict[str, Tensor]:
        """Server side: unmask the sum of the arrived vectors, then divide by the summed counts.

        ``num_samples`` (the counts ``run_federated`` passes) are not used:
        the server learns ``sum n_k`` only from the unmasked sum.
        """
        masked = {client: s["masked"].numpy().view(np.uint64)
                  for client, s in zip(context.arrived, states, strict=True)}
        self.seen = masked
        total = decode(unmask_sum(masked, self.clients, self.session_seed, context.round, self.bits),
                       scale=self.scale, bits=self.bits)
        return from_vector(total[:-1] / total[-1], context.broadcast)
