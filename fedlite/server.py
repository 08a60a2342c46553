"""Server optimizers: treat the averaged update as a gradient.

Reddi et al. 2021 ("Adaptive federated optimization") read FedAvg as a
server step on the *pseudo-gradient*::

    delta_t = fedavg(client models) - w_t          # where the clients moved on average

Plain FedAvg sets ``w_{t+1} = w_t + delta_t``. A server optimizer instead
feeds ``delta_t`` to momentum or Adam:

- :class:`ServerMomentum` (FedAvgM, Hsu et al. 2019):
  ``v = beta v + delta;  w = w + lr * v``. Mind the step size: when the
  average update keeps pointing the same way, ``v`` grows towards
  ``delta / (1 - beta)``, so ``lr = 1, beta = 0.9`` takes steps up to
  **10 times** FedAvg's -- in the long run. After ``t`` rounds the factor is
  only ``(1 - beta^t) / (1 - beta)`` (4.1 after 5 rounds). Hsu et al. tune the
  *effective* rate ``lr / (1 - beta)``; ``lr = 1 - beta`` (e.g. ``lr=0.1,
  momentum=0.9``) matches FedAvg's step only once ``v`` has grown, and is
  smaller before that.
- :class:`ServerAdam` (FedAdam, Reddi et al. 2021):
  ``m = b1 m + (1 - b1) delta;  v = b2 v + (1 - b2) delta^2;
  w = w + lr * m / (sqrt(v) + tau)``

Only floating-point tensors are stepped; integer buffers take the average.
"""

from __future__ import annotations

from collections.abc import Mapping

import torch
from torch import Tensor

from fedlite.checks import check_positive


class ServerOptimizer:
    """Base class: :meth:`step` computes ``delta`` per tensor, :meth:`update` moves ``w``."""

    def step(self, current: Mapping[str, Tensor], averaged: Mapping[str, Tensor]) -> dict[str, Tensor]:
        """New global state from the current one and the clients' FedAvg average."""
        return {name: self.update(name, w, averaged[name] - w) if w.is_floating_point()
                else averaged[name].clone() for name, w in current.items()}

    def update(self, name: str, w: Tensor, delta: Tensor) -> Tensor:
        raise NotImplementedError


class ServerMomentum(ServerOptimizer):
    """FedAvgM. With ``lr=1, momentum=0`` it is exactly FedAvg."""

    def __init__(self, lr: float = 1.0, momentum: float = 0.9) -> None:
        check_positive(lr, "lr")
        if not 0 <= momentum < 1:
            raise ValueError(f"momentum must be in [0, 1), got {momentum!r}")
        self.lr, self.momentum = lr, momentum
        self.velocity: dict[str, Tensor] = {}

    def update(self, name: str, w: Tensor, delta: Tensor) -> Tensor:
        v = self.momentum * self.velocity.get(name, torch.zeros_like(w)) + delta
        self.velocity[name] = v
        return w + self.lr * v


class ServerAdam(ServerOptimizer):
    """FedAdam; ``tau`` is Adam's epsilon, which Reddi et al. keep fairly large (1e-3)."""

    def __init__(self, lr: float = 0.01, beta1: float = 0.9, beta2: float = 0.99, tau: float = 1e-3) -> None:
        check_positive(lr, "lr")
        check_positive(tau, "tau")
        for name, b in (("beta1", beta1), ("beta2", beta2)):
            if not 0 <= b < 1:
                raise ValueError(f"{name} must be in [0, 1), got {b!r}")
        self.lr, self.beta1, self.beta2, self.tau = lr, beta1, beta2, tau
        self.m: dict[str, Tensor] = {}
        self.v: dict[str, Tensor] = {}

    def update(self, name: str, w: Tensor, delta: Tensor) -> Tensor:
        m = self.beta1 * self.m.get(name, torch.zeros_like(w)) + (1 - self.beta1) * delta
        v = self.beta2 * self.v.get(name, torch.zeros_like(w)) + (1 - self.beta2) * delta**2
        self.m[name], self.v[name] = m, v
        return w + self.lr * m / (v.sqrt() + self.tau)
