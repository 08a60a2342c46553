"""Simulate K hospitals from one image dataset, with four kinds of (non-)IID-ness.

=========  ===========================================  ==========================================
skew       what differs between hospitals               built with
=========  ===========================================  ==========================================
iid        nothing (the easy, unrealistic baseline)     :func:`fedlite.heterogeneity.partition.iid`
label      the mix of diagnoses (label skew)            :func:`fedlite.heterogeneity.partition.dirichlet`
quantity   how many patients each hospital has          :func:`fedlite.heterogeneity.partition.quantity_skew`
scanner    how images look (feature shift)              ``iid`` + :func:`scanner_shift`
=========  ===========================================  ==========================================

Scanner shift: every hospital's scanner has its own fixed settings -- gamma,
contrast, brightness, blur and noise -- so the same anatomy produces
different pixel statistics at each site. This is the *feature-shift*
non-IID setting that FedBN addresses (Li, Jiang, Zhang, Kamp & Dou, "FedBN:
Federated learning on non-IID features via local batch normalization",
ICLR 2021). The settings are drawn from ``(seed, hospital)`` only, so a
hospital's test images get exactly the same transform::

    hospitals = make_hospitals(train, 4, skew="scanner", seed=0)
    test_k = Data(scanner_shift(test.x, k, seed=0), test.y)   # hospital k's test set
"""

from __future__ import annotations

import math
from dataclasses import dataclass

import numpy as np
import torch
import torch.nn.functional as F
from torch import Tensor

from fedlite.heterogeneity import partition
from fedlite.data import Data
from fedlite.data import subsets

SKEWS = ("iid", "label", "quantity", "scanner")


@dataclass(frozen=True)
class Scanner:
    """The fixed acquisition settings of one hospital's scanner."""

    gamma: float       # x -> x ** gamma   (< 1 brightens mid-tones, > 1 darkens them)
    contrast: float    # x -> (x - 0.5) * contrast + 0.5
    brightness: float  # x -> x + brightness
    blur: float        # Gaussian blur, sigma in pixels (0 = sharp)
    noise: float       # std of added Gaussian sensor noise
    noise_seed: int    # makes the noise reproducible


def scanner_params(client: int, *, seed: int) -> Scanner:
    """Draw the scanner settings of hospital (client) ``client`` from ``(seed, client)``.

    Gamma and contrast are ``exp(+-U(a, b))`` and brightness ``+-U(a, b)``
    with random signs, so every scanner is clearly away from the identity.
    """
    if int(client) < 0 or int(seed) < 0:
        raise ValueError(f"client and seed must be non-negative integers, got {client}, {seed}")
    rng = np.random.default_rng([int(seed), int(client), 2021])

    def away_from(low: float, high: float) -> float:
        return float(rng.choice([-1.0, 1.0]) * rng.uniform(low, high))

    return Scanner(gamma=math.exp(away_from(0.15, 0.45)), contrast=math.exp(away_from(0.15, 0.4)),
                   brightness=away_from(0.03, 0.12), blur=float(rng.uniform(0.0, 1.2)),
                   noise=float(rng.uniform(0.01, 0.05)), noise_seed=int(rng.integers(2**62)))


def _gaussian_blur(x: Tensor, sigma: float) -> Tensor:
    """Blur each channel of ``(N, C, H, W)`` with a Gaussian of std ``sigma`` pixels."""
    if sigma < 0.1:
        return x
    radius = min(math.ceil(3 * sigma), min(x.shape[-2:]) - 1)
    t = torch.arange(-radius, radius + 1, dtype=x.dtype)
    kernel = torch.exp(-t**2 / (2 * sigma**2))
    kernel = kernel / kernel.sum()
    c = x.shape[1]
    rows = kernel.view(1, 1, 1, -1).repeat(c, 1, 1, 1)  # separable: blur rows, then columns
    x = F.conv2d(F.pad(x, (radius, radius, 0, 0), mode="reflect"), rows, groups=c)
    cols = kernel.view(1, 1, -1, 1).repeat(c, 1, 1, 1)
    return F.conv2d(F.pad(x, (0, 0, radius, radius), mode="reflect"), cols, groups=c)


def scanner_shift(x: Tensor, client: int, *, seed: int) -> Tensor:
    """Images ``x`` (``(N, C, H, W)`` in ``[0, 1]``) as the scanner of hospital (client) ``client`` sees them.

    ``x -> clip(blur((x ** gamma - 0.5) * contrast + 0.5 + brightness) + noise, 0, 1)``
    with the settings of :func:`scanner_params`. Deterministic: the same
    ``(x, client, seed)`` always gives the same output.
    """
    if x.ndim != 4:
        raise ValueError(f"scanner_shift needs images of shape (N, C, H, W), got {tuple(x.shape)}; "
                         "for tabular data use skew='iid', 'label' or 'quantity'")
    s = scanner_params(client, seed=seed)
    out = (x.float().clamp(0, 1) ** s.gamma - 0.5) * s.contrast + 0.5 + s.brightness
    out = _gaussian_blur(out, s.blur)
    generator = torch.Generator().manual_seed(s.noise_seed)
    out = out + s.noise * torch.randn(out.shape, generator=generator)
    return out.clamp(0, 1)


def make_hospitals(data: Data, num_clients: int, *, skew: str = "iid", alpha: float = 0.5,
                   seed: int) -> list[Data]:
    """Cut ``data`` into ``num_clients`` hospitals.

    Parameters
    ----------
    skew : {"iid", "label", "quantity", "scanner"}
        What differs between the hospitals (see the module docstring).
    alpha : float
        Dirichlet concentration for ``"label"`` and ``"quantity"``: small
        (0.1) = very skewed, large (100) = nearly even. Ignored otherwise.
    seed : int
        Seeds the partition and the scanner settings.
    """
    if skew not in SKEWS:
        raise ValueError(f"unknown skew {skew!r}; choose one of {', '.join(SKEWS)}")
    if skew == "label":
        parts = partition.dirichlet(data.y.numpy(), num_clients, alpha=alpha, seed=seed)
    elif skew == "quantity":
        parts = partition.quantity_skew(len(data), num_clients, alpha=alpha, seed=seed)
    else:
        parts = partition.iid(len(data), num_clients, seed=seed)
    hospitals = subsets(data, parts)
    if skew == "scanner":
        hospitals = [Data(scanner_shift(h.x, k, seed=seed), h.y) for k, h in enumerate(hospitals)]
    return hospitals
