"""Make updates smaller before they travel: 8-bit quantization and top-k sparsification.

A float32 model update costs 4 bytes a number. Two classic ways to send less:

- **Uniform quantization** to ``b`` bits: map each tensor's range ``[lo, hi]``
  onto ``2^b`` levels, send the level indices (``b`` bits each) plus ``lo``
  and the step. The error per number is at most half a step,
  ``(hi - lo) / (2^b - 1) / 2``.
- **Top-k sparsification** with error feedback (Stich et al. 2018, "Sparsified
  SGD with memory"; Alistarh et al. 2018): send only the ``k`` largest
  entries (values and their indices) and keep the rest as a *residual* that
  is added to the next round's update, so nothing is lost for good.

Both work on an update ``delta = w_k - w_global`` (a dict of tensors).
:class:`Quantize` and :class:`TopK` apply them inside the round loop, as
``on_update`` hooks (Konečný et al. 2016, "Federated learning: strategies for
improving communication efficiency"; Seide et al. 2014, "1-bit SGD").
"""

from __future__ import annotations

from dataclasses import replace

import torch
from torch import Tensor

from fedlite.client import ClientResult
from fedlite.simulation import RoundContext
from fedlite.state import State, apply_update, update_of


def quantize(t: Tensor, bits: int = 8) -> tuple[Tensor, float, float]:
    """``(levels, lo, step)`` with ``t ~= lo + levels * step`` and ``levels`` in ``0 .. 2^bits - 1``."""
    if not isinstance(bits, int) or not 1 <= bits <= 16:
        raise ValueError(f"bits must be an integer from 1 to 16, got {bits!r}")
    if not torch.isfinite(t).all():
        raise ValueError("cannot quantize NaN or Inf values; reject that update instead")
    if t.numel() == 0:
        raise ValueError("cannot quantize an empty tensor")
    lo, hi = float(t.min()), float(t.max())
    step = (hi - lo) / (2**bits - 1) if hi > lo else 1.0
    levels = torch.round((t.double() - lo) / step).to(torch.int32)
    return levels, lo, step


def dequantize(levels: Tensor, lo: float, step: float) -> Tensor:
    """The float32 values that ``levels`` stand for."""
    return (lo + levels.double() * step).float()


def quantized_bytes(state: State, bits: int = 8) -> int:
    """Bytes on the wire: ``bits`` per number, plus ``lo`` and ``step`` (2 x float32) per tensor."""
    return sum((t.numel() * bits + 7) // 8 + 8 for t in state.values())


def top_k(t: Tensor, k: int) -> Tensor:
    """A copy of ``t`` keeping only its ``k`` entries of largest magnitude (the rest set to 0)."""
    if not isinstance(k, int) or not 0 < k <= t.numel():
        raise ValueError(f"k must be an integer from 1 to {t.numel()} (the tensor's size), got {k!r}")
    flat = t.flatten()
    keep = flat.abs().topk(k).indices
    out = torch.zeros_like(flat)
    out[keep] = flat[keep]
    return out.reshape(t.shape)


class TopKWithMemory:
    """Top-k sparsification of whole updates with an error-feedback residual.

    ``compress(delta)`` adds the residual left from last time, keeps the
    fraction ``ratio`` of largest entries of each tensor, remembers what was
    dropped, and returns the sparse update. Over rounds every part of every
    update is sent eventually.
    """

    def __init__(self, ratio: float = 0.05) -> None:
        if not 0 < ratio <= 1:
            raise ValueError(f"ratio (fraction of entries kept) must be in (0, 1], got {ratio!r}")
        self.ratio = ratio
        self.residual: dict[str, Tensor] = {}

    def compress(self, delta: State) -> dict[str, Tensor]:
        sparse = {}
        for name, t in delta.items():
            full = t + self.residual.get(name, torch.zeros_like(t))
            sparse[name] = top_k(full, max(1, round(self.ratio * t.numel())))
            self.residual[name] = full - sparse[name]
        return sparse


def sparse_bytes(state: State) -> int:
    """Bytes on the wire for a sparse update: 4-byte value + 4-byte index per non-zero entry."""
    return sum(int((t != 0).sum()) * 8 for t in state.values())


# --- as update hooks for the round loop -------------------------------------------------------


def _other_bytes(state: State, delta: State) -> int:
    """Bytes of the tensors sent uncompressed (integer buffers)."""
    return sum(t.numel() * t.element_size() for k, t in state.items() if k not in delta)


class Quantize:
    """Send ``Delta`` quantized to ``bits`` bits a number; the server receives ``w_t + dequantize(...)``.

    Each tensor of ``Delta`` is mapped onto ``2^bits`` evenly spaced levels
    between its minimum and maximum (:func:`fedlite.robustness.compression.quantize`), so
    every number is off by at most half a step. ``upload_bytes`` is set to the
    quantized size: ``bits / 32`` of float32 plus 8 bytes per tensor.
    Quantizing the *update* rather than the weights keeps the range, and so the
    error, small (Konečný et al. 2016).
    """

    def __init__(self, bits: int = 8) -> None:
        if not isinstance(bits, int) or not 1 <= bits <= 16:
            raise ValueError(f"bits must be an integer from 1 to 16, got {bits!r}")
        self.bits = bits

    def __call__(self, context: RoundContext, client: int, result: ClientResult) -> ClientResult:
        delta = update_of(result.state, context.broadcast)
        received = {k: dequantize(*quantize(t, self.bits)) for k, t in delta.items()}
        size = quantized_bytes(delta, self.bits) + _other_bytes(result.state, delta)
        return replace(result, state=apply_update(context.broadcast, received, result.state),
                       upload_bytes=size)


class TopK:
    """Send only the fraction ``ratio`` of largest entries of ``Delta``, as (value, index) pairs.

    With ``error_feedback=True`` each hospital keeps what it did not send and
    adds it to its next update (:class:`fedlite.robustness.compression.TopKWithMemory`;
    Stich et al. 2018), so nothing is lost for good; without it the small
    entries are simply discarded every round. ``upload_bytes`` is 8 bytes per
    sent entry (:func:`fedlite.robustness.compression.sparse_bytes`).
    """

    def __init__(self, ratio: float, *, error_feedback: bool = True) -> None:
        if not (isinstance(ratio, (int, float)) and 0 < ratio <= 1):
            raise ValueError(f"ratio (fraction of entries sent) must be in (0, 1], got {ratio!r}")
        self.ratio, self.error_feedback = float(ratio), error_feedback
        self.memory: dict[int, TopKWithMemory] = {}

    def __call__(self, context: RoundContext, client: int, result: ClientResult) -> ClientResult:
        delta = update_of(result.state, context.broadcast)
        compressor = self.memory.setdefault(client, TopKWithMemory(self.ratio)) if self.error_feedback \
            else TopKWithMemory(self.ratio)
        sparse = compressor.compress(delta)
        size = sparse_bytes(sparse) + _other_bytes(result.state, delta)
        return replace(result, state=apply_update(context.broadcast, sparse, result.state),
                       upload_bytes=size)
