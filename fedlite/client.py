"""What one client (one hospital) does in a round: train the model it was sent
on its own data, and return the new weights and how many samples it used.

The whole of local training is :func:`local_train`, readable top to bottom.
FedProx (Li et al. 2020, "Federated optimization in heterogeneous networks")
adds one term to the local loss::

    F_k(w) + (mu / 2) * ||w - w_global||^2

which pulls the local model back towards the global model it started from;
``mu = 0`` is plain FedAvg.
"""

from __future__ import annotations

import math
from collections.abc import Callable, Iterator, Mapping, Sequence
from dataclasses import dataclass

import torch
import torch.nn.functional as F
from torch import Tensor, nn

from fedlite.checks import integer, number
from fedlite.checks import seed as check_seed
from fedlite.data import Data, check_for_model
from fedlite.state import State, copy_state


@dataclass(frozen=True)
class LocalConfig:
    """Settings of local training.

    ``batch_size=None`` means full batch: with ``epochs=1`` a client then
    takes exactly one gradient step, which is FedSGD (McMahan et al. 2017
    call it FedAvg with ``E = 1, B = infinity``).
    """

    epochs: int = 1
    batch_size: int | None = 32
    lr: float = 0.05
    optimizer: str = "sgd"
    momentum: float = 0.0
    mu: float = 0.0

    def __post_init__(self) -> None:
        # NumPy numbers are accepted and stored as Python ones (frozen: hence object.__setattr__)
        fields = {"epochs": integer(self.epochs, "epochs", minimum=1),
                  "batch_size": None if self.batch_size is None else
                  integer(self.batch_size, "batch_size (or None: full batch)", minimum=1),
                  "lr": number(self.lr, "lr (learning rate)", above=0),
                  "momentum": number(self.momentum, "momentum", at_least=0, below=1),
                  "mu": number(self.mu, "mu (FedProx strength)", at_least=0)}
        if self.optimizer not in ("sgd", "adam"):
            raise ValueError(f"optimizer must be 'sgd' or 'adam', got {self.optimizer!r}")
        for name, value in fields.items():
            object.__setattr__(self, name, value)


@dataclass
class ClientResult:
    """What a client sends back: its new weights, its sample count ``n_k``,
    and its mean training loss (cross-entropy, without the FedProx term).

    ``upload_bytes`` is set only when the update travels in another form
    than the plain float32 state (e.g. compressed); ``None`` means the state's
    own size.
    """

    state: dict[str, Tensor]
    num_samples: int
    loss: float
    upload_bytes: int | None = None


def batches(data: Data, batch_size: int | None, generator: torch.Generator) -> Iterator[Data]:
    """Yield shuffled mini-batches that cover ``data`` once (one epoch)."""
    n = len(data)
    size = n if batch_size is None else min(batch_size, n)
    order = torch.randperm(n, generator=generator)
    for start in range(0, n, size):
        yield data.subset(order[start:start + size])


def make_optimizer(model: nn.Module, config: LocalConfig) -> torch.optim.Optimizer:
    """A fresh optimizer each round: clients keep no optimizer state between rounds."""
    if config.optimizer == "adam":
        return torch.optim.Adam(model.parameters(), lr=config.lr)
    return torch.optim.SGD(model.parameters(), lr=config.lr, momentum=config.momentum)


def proximal_term(model: nn.Module, anchor: list[Tensor]) -> Tensor:
    """``||w - w_global||^2`` summed over all parameters (the FedProx penalty, without mu/2)."""
    return sum(((p - a) ** 2).sum() for p, a in zip(model.parameters(), anchor))  # type: ignore[return-value]


class Diverged(RuntimeError):
    """Local training produced a NaN or Inf loss; the round loop adds which round and client."""


def check_loss(loss: float, config: LocalConfig, who: str = "") -> None:
    """Raise :class:`Diverged` if the local loss is NaN or Inf: the model would be NaN too.

    A NaN or Inf at any step also leaves a run's mean loss non-finite, so the round loop checks
    every client's mean loss whichever engine trained it."""
    if not math.isfinite(loss):
        raise Diverged(f"{who}local training diverged: the loss became {loss}; lower the learning rate "
                       f"(lr={config.lr}) or standardize the features")


def local_train(model: nn.Module, data: Data, config: LocalConfig, *, seed: int) -> ClientResult:
    """Train ``model`` in place on ``data`` for ``config.epochs`` epochs.

    ``model`` arrives holding the global weights ``w_global`` (the server's
    broadcast); that starting point is the FedProx anchor.
    """
    if len(data) == 0:
        raise ValueError("this client has no samples; remove it or give it data before training")
    check_for_model(model, data, "the training data")
    seed = check_seed(seed)
    generator = torch.Generator().manual_seed(seed)
    anchor = [p.detach().clone() for p in model.parameters()] if config.mu > 0 else []
    optimizer = make_optimizer(model, config)
    losses: list[float] = []
    model.train()
    with torch.random.fork_rng(devices=[]):
        torch.manual_seed(seed)  # dropout masks, if the model has any
        for _ in range(config.epochs):
            for x, y in batches(data, config.batch_size, generator):
                optimizer.zero_grad()
                loss = F.cross_entropy(model(x), y)
                check_loss(loss.item(), config)
                total = loss + config.mu / 2 * proximal_term(model, anchor) if anchor else loss
                total.backward()
                optimizer.step()
                losses.append(loss.item())
    return ClientResult(copy_state(model), len(data), sum(losses) / len(losses))


def train_clients(model: nn.Module, clients: Sequence[Data], chosen: Sequence[int], config: LocalConfig, *,
                  starts: Mapping[int, State], seeds: Mapping[int, int]) -> dict[int, ClientResult]:
    """Local training of every chosen client, one after the other (the reference).

    Client ``k`` starts from ``starts[k]`` (the broadcast ``w_t``, plus any
    tensors it keeps at home) and trains with ``seeds[k]``; ``model`` is the
    workspace each one trains in. A faster engine (several clients at once)
    may replace this function in the round loop if it returns the same
    results.
    """
    results = {}
    for k in chosen:
        model.load_state_dict(starts[k])
        try:
            results[k] = local_train(model, clients[k], config, seed=seeds[k])
        except Diverged as err:
            raise Diverged(f"client {k}: {err}") from err
    return results


TrainClients = Callable[..., dict[int, ClientResult]]
"""The signature of :func:`train_clients`: ``(model, clients, chosen, config, *, starts, seeds) -> {k: result}``."""
