"""Gradient inversion: rebuilding a training image from the update a hospital shares.

The seed article's claim "FL protects privacy because only parameters are
shared" fails against this attack. A server that knows the model it sent
(``w``) and receives a hospital's update can rebuild the hospital's training
image, at least when the update came from few images and few local steps.

The attack (Deep Leakage from Gradients, Zhu, Liu & Han, NeurIPS 2019;
"Inverting gradients", Geiping, Bauermeister, Dröge & Moeller, NeurIPS 2020):

1. **Turn the update into a gradient.** One local SGD step on a batch is
   ``w' = w - lr * g``, so ``g = (w - w') / lr``. After several steps the
   update is a sum of gradients taken at nearby weights; the attacker still
   treats it as one gradient (:func:`gradient_from_update`).
2. **Read off the label** (iDLG, Zhao, Mopuri & Bilen 2020). For one image
   with cross-entropy, the last layer's bias gradient is ``softmax(z) - onehot(y)``:
   every entry is positive except the true class's (:func:`infer_label`).
3. **Optimize a dummy image** ``x`` (random at first) so that the gradient it
   would produce, ``g(x) = dL(f_w(x), y) / dw``, points the same way as the
   observed one. Geiping et al.'s loss is scale-free, so clipping the update
   does not help against it, plus a small total-variation prior that favours
   smooth images::

       loss(x) = 1 - cos(g(x), g_observed) + tv * TV(x)

   (:func:`invert_gradient`). Its own gradient, ``d loss / d x``, needs a
   second derivative through the network; PyTorch gives it with
   ``create_graph=True``.

Quality is measured against the true image by the mean squared error and the
peak signal-to-noise ratio, ``PSNR = 10 log10(1 / MSE)`` for images in
``[0, 1]`` (higher = closer; every halving of the MSE adds 3 dB).

Not for clinical use; the attack is here so that learners can see why the
defences in :mod:`fedlite.privacy.secagg` and :mod:`fedlite.privacy.dp` exist.
"""

from __future__ import annotations

from collections.abc import Mapping, Sequence
from dataclasses import dataclass

import numpy as np
import torch
import torch.nn.functional as F
from scipy.optimize import linear_sum_assignment
from torch import Tensor, nn

from fedlite import measure
from fedlite.data import Data

Gradient = list[Tensor]
"""One tensor per trainable parameter, in ``model.parameters()`` order."""


def mse(x: Tensor, ref: Tensor) -> float:
    """Mean squared error between two images (or batches of images) of the same shape."""
    if x.shape != ref.shape:
        raise ValueError(f"images must have the same shape, got {tuple(x.shape)} and {tuple(ref.shape)}")
    return F.mse_loss(x.double(), ref.double()).item()


def psnr(x: Tensor, ref: Tensor, data_range: float = 1.0) -> float:
    """Peak signal-to-noise ratio in dB: ``10 log10(data_range^2 / MSE)``.

    ``inf`` for identical images. Read it against a baseline: uniform noise
    scores below 10 dB against a chest X-ray, but the *average* X-ray scores
    much higher, because chest X-rays look alike. An attack has learned
    something about one patient only if it beats the average.
    """
    if not data_range > 0:
        raise ValueError(f"data_range must be > 0 (1.0 for images in [0, 1]), got {data_range!r}")
    error = mse(x, ref)
    return float("inf") if error == 0 else 10 * float(np.log10(data_range**2 / error))


def match(recon: Tensor, truth: Tensor) -> list[int]:
    """For each true image, the index of its reconstruction.

    A batch is rebuilt in no particular order, so images are paired by the
    assignment that minimises the total MSE (the Hungarian algorithm).
    """
    if recon.shape[1:] != truth.shape[1:] or recon.shape[0] < truth.shape[0]:
        raise ValueError(f"need at least as many reconstructions as true images, of one shape; "
                         f"got {tuple(recon.shape)} for {tuple(truth.shape)}")
    cost = np.array([[mse(r, t) for r in recon] for t in truth])
    rows, cols = linear_sum_assignment(cost)
    return [int(c) for _, c in sorted(zip(rows, cols))]


def matched_psnr(recon: Tensor, truth: Tensor) -> list[float]:
    """PSNR of each true image against its reconstruction (paired by :func:`match`), in ``truth`` order."""
    return [psnr(recon[c], t) for c, t in zip(match(recon, truth), truth)]


def shared_gradient(model: nn.Module, x: Tensor, y: Tensor) -> Gradient:
    """``dL/dw`` of the mean cross-entropy on ``(x, y)``: what a FedSGD hospital would send.

    :func:`fedlite.measure.gradient` as a list in parameter order, the form the attack matches.
    """
    return list(measure.gradient(model, Data(x, y)).values())


def gradient_from_update(model: nn.Module, before: Mapping[str, Tensor], after: Mapping[str, Tensor],
                         lr: float = 1.0) -> Gradient:
    """The gradient an update implies: ``(w_before - w_after) / lr`` per parameter.

    Exact for one plain SGD step; for several steps it is the sum of the
    steps' gradients. The attack's loss ignores the scale, so ``lr`` may be left at 1.
    """
    names = [name for name, _ in model.named_parameters()]
    missing = [n for n in names if n not in before or n not in after]
    if missing:
        raise ValueError(f"states lack parameters {missing[:3]}; pass full state_dicts of this model")
    return [(before[n].double() - after[n].double()).float() / lr for n in names]


def infer_label(grad: Gradient) -> int:
    """iDLG: the label of a single image from the last layer's bias gradient.

    For one sample, ``dL/db = softmax(z) - onehot(y)``: only the true class is
    negative, so it is the smallest entry. (Assumes the model ends in a linear
    layer with a bias, as every course model does.)
    """
    bias = grad[-1]
    if bias.ndim != 1:
        raise ValueError("the last parameter must be the output layer's bias (1-D); "
                         f"got shape {tuple(bias.shape)}")
    return int(bias.argmin())


def cosine_distance(a: Gradient, b: Gradient) -> Tensor:
    """``1 - <a, b> / (|a| |b|)`` over all parameters at once (0 = same direction)."""
    dot = sum((x * y).sum() for x, y in zip(a, b))
    norm_a = torch.sqrt(sum((x * x).sum() for x in a))
    norm_b = torch.sqrt(sum((y * y).sum() for y in b))
    return 1 - dot / (norm_a * norm_b + 1e-12)


def total_variation(x: Tensor) -> Tensor:
    """Mean absolute difference between neighbouring pixels (small for smooth images)."""
    return ((x[..., 1:, :] - x[..., :-1, :]).abs().mean() + (x[..., :, 1:] - x[..., :, :-1]).abs().mean())


@dataclass
class Reconstruction:
    """What the attack produced: the images, their labels, and the loss per step."""

    images: Tensor
    labels: Tensor
    losses: list[float]


def invert_gradient(model: nn.Module, target: Gradient, labels: Tensor | Sequence[int], *,
                    shape: tuple[int, ...] = (1, 28, 28), steps: int = 200, lr: float = 0.1,
                    tv: float = 0.01, seed: int = 0) -> Reconstruction:
    """Find images whose gradient points like ``target`` (Geiping et al. 2020).

    Parameters
    ----------
    model
        The model the hospital trained, holding the weights *before* its update.
    target
        The observed gradient (e.g. from :func:`gradient_from_update`).
    labels
        One label per image to rebuild (from :func:`infer_label`, or known).
    shape
        Shape of one image; pixels are kept in ``[0, 1]``.
    steps, lr, tv, seed
        Adam steps, step size, total-variation weight, and the seed of the
        random starting images.
    """
    labels = torch.as_tensor(labels, dtype=torch.long).reshape(-1)
    params = list(model.parameters())
    if len(target) != len(params) or any(t.shape != p.shape for t, p in zip(target, params)):
        raise ValueError("target must hold one tensor per model parameter, shaped like it "
                         "(use shared_gradient() or gradient_from_update() with this model)")
    if steps < 1:
        raise ValueError(f"steps must be a positive integer, got {steps!r}")
    generator = torch.Generator().manual_seed(seed)
    dummy = torch.rand((len(labels), *shape), generator=generator).requires_grad_(True)
    optimizer = torch.optim.Adam([dummy], lr=lr)
    losses = []
    for _ in range(steps):
        optimizer.zero_grad()
        guess = torch.autograd.grad(F.cross_entropy(model(dummy), labels), params, create_graph=True)
        loss = cosine_distance(list(guess), target) + tv * total_variation(dummy)
        dummy.grad, = torch.autograd.grad(loss, [dummy])
        optimizer.step()
        with torch.no_grad():
            dummy.clamp_(0, 1)
        losses.append(loss.item())
    return Reconstruction(dummy.detach(), labels, losses)


def reconstruct(model: nn.Module, before: Mapping[str, Tensor], after: Mapping[str, Tensor], *,
                labels: Tensor | Sequence[int] | None = None, steps: int = 200, seed: int = 0) -> Reconstruction:
    """The whole attack on one observed update ``before -> after``.

    Loads ``before`` (the weights the server sent) into ``model``, turns the
    update into a gradient, infers the label of a single image (iDLG) unless
    ``labels`` are given (one per image to rebuild), and inverts the gradient.
    """
    model.load_state_dict(before)
    target = gradient_from_update(model, before, after)
    if labels is None:
        labels = [infer_label(target)]
    return invert_gradient(model, target, labels, steps=steps, seed=seed)
