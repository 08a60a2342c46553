"""Federated training, simulated on one machine, and the two baselines it is judged against.

:func:`run_federated` is the round loop of FedAvg (McMahan et al. 2017,
Algorithm 1). Every round:

1. **sample** a fraction ``C`` of the clients,
2. **broadcast** the global weights ``w_t`` to them,
3. each trains **locally** on its own data (:func:`fedlite.client.local_train`),
4. the server **aggregates** ``w_{t+1} = sum_k (n_k / n) w_k`` (optionally
   through a server optimizer), and
5. **evaluates** the new global model.

The same loop gives FedSGD (``LocalConfig(epochs=1, batch_size=None)``),
FedProx (``LocalConfig(mu=...)``), FedAvgM / FedAdam (``server=...``) and
FedBN (``local_keys=batchnorm_keys(model)``: those tensors never leave the
hospital). :func:`run_centralized` (everything pooled: the reference,
not a ceiling FL can never reach) and :func:`run_local_only` (every hospital alone) use the same model,
the same local training code and the same test set.
"""

from __future__ import annotations

from collections.abc import Callable, Mapping, Sequence
from dataclasses import replace
from typing import Any

import numpy as np
from torch import Tensor, nn
from tqdm.auto import trange

from fedlite.aggregate import fedavg
from fedlite.client import ClientResult, LocalConfig, local_train
from fedlite.data import Data
from fedlite.history import History, Round
from fedlite.metrics import evaluate
from fedlite.server import ServerOptimizer
from fedlite.state import copy_state, state_bytes


def round_seed(seed: int, round_: int, client: int) -> int:
    """A distinct, reproducible seed for one client in one round."""
    return int(np.random.SeedSequence([seed, round_, client]).generate_state(1)[0])


def sample_clients(num_clients: int, fraction: float, rng: np.random.Generator) -> list[int]:
    """Pick ``max(1, round(fraction * K))`` distinct clients, in increasing id order."""
    m = max(1, round(fraction * num_clients))
    return sorted(int(k) for k in rng.choice(num_clients, size=m, replace=False))


def batchnorm_keys(model: nn.Module) -> list[str]:
    """State names of every BatchNorm layer: what FedBN (Li et al. 2021) keeps local."""
    return [f"{name}.{key}" for name, module in model.named_modules()
            if isinstance(module, nn.modules.batchnorm._BatchNorm)
            for key in module.state_dict()]


def _check_run(clients: Sequence[Data], rounds: int, fraction: float,
               client_tests: Sequence[Data] | None) -> None:
    if not isinstance(rounds, int) or rounds < 1:
        raise ValueError(f"rounds must be a positive integer, got {rounds!r}")
    if not 0 < fraction <= 1:
        raise ValueError(f"fraction of clients per round must be in (0, 1], got {fraction!r}")
    if len(clients) == 0:
        raise ValueError("no clients: pass a list with at least one client's Data")
    empty = [k for k, c in enumerate(clients) if len(c) == 0]
    if empty:
        raise ValueError(f"clients {empty} have no samples; drop them or repartition the data")
    if client_tests is not None and len(client_tests) != len(clients):
        raise ValueError(f"client_tests must have one Data per client ({len(clients)}), "
                         f"got {len(client_tests)}")


Aggregator = Callable[[Sequence[Mapping[str, Tensor]], Sequence[float]], dict[str, Tensor]]
"""``aggregate(states, weights) -> state``, like :func:`fedlite.aggregate.fedavg`."""

UpdateHook = Callable[[int, int, ClientResult], "ClientResult | None"]
"""``on_update(round, client, result)``: what actually reaches the server from
that client -- the result itself, a changed one (a faulty or malicious
hospital, a compressed update), or ``None`` (it never arrives: a dropout or
a straggler past the deadline)."""

RoundHook = Callable[[int, Mapping[str, Tensor]], None]
"""``on_round(round, global_state)``: called once per round, before the
broadcast, with the weights ``w_t`` the chosen clients receive (read them,
do not change them). Hooks that need ``w_t`` -- a compressor sending
``w_k - w_t``, a validator measuring an update's norm -- keep it from here."""


def _aggregate(aggregate: Aggregator, results: dict[int, ClientResult], round_: int) -> dict[str, Tensor]:
    try:
        return aggregate([r.state for r in results.values()], [r.num_samples for r in results.values()])
    except ValueError as err:
        raise RuntimeError(f"round {round_}: aggregating clients {list(results)} (in this order) failed: "
                           f"{err}. Usual causes: a learning rate so high that a client diverged, or a faulty "
                           "or malicious update (validate updates first: fedlite.robustness.defences.Validated).") from err


def run_federated(model: nn.Module, clients: Sequence[Data], test: Data, *, rounds: int,
                  local: LocalConfig = LocalConfig(), fraction: float = 1.0,
                  server: ServerOptimizer | None = None, local_keys: Sequence[str] = (),
                  client_tests: Sequence[Data] | None = None, aggregate: Aggregator = fedavg,
                  on_update: UpdateHook | None = None, on_round: RoundHook | None = None, seed: int = 0,
                  name: str = "FedAvg", progress: bool = True) -> History:
    """Train ``model`` with FedAvg across ``clients``; return one :class:`Round` per round.

    ``model`` holds the initial global weights and ends holding the final
    ones. ``client_tests[k]``, if given, is hospital ``k``'s own test data:
    each round, the model hospital ``k`` would use (global weights plus its
    ``local_keys``) is evaluated on it. ``aggregate`` replaces FedAvg (e.g. a
    robust aggregator); ``on_update`` decides what of each update reaches
    the server (see :data:`UpdateHook`); ``on_round`` is told each round's
    broadcast weights (see :data:`RoundHook`). A round in which no update arrives
    leaves the global model unchanged.
    """
    _check_run(clients, rounds, fraction, client_tests)
    rng = np.random.default_rng(seed)
    global_state = copy_state(model)
    private: dict[int, dict[str, Tensor]] = {k: {} for k in range(len(clients))}
    shared_bytes = state_bytes({k: v for k, v in global_state.items() if k not in local_keys})
    history = History(name)
    for t in trange(1, rounds + 1, desc=name, disable=not progress):
        chosen = sample_clients(len(clients), fraction, rng)                  # 1. sample
        if on_round:
            on_round(t, global_state)
        results: dict[int, ClientResult] = {}
        per_client: dict[int, dict[str, float]] = {}
        for k in chosen:
            model.load_state_dict({**global_state, **private[k]})             # 2. broadcast
            result = local_train(model, clients[k], local, seed=round_seed(seed, t, k))  # 3. train
            private[k] = {key: result.state[key] for key in local_keys}       # (FedBN: stays home)
            sent = on_update(t, k, result) if on_update else result           # (what reaches the server)
            if sent is not None:
                results[k] = sent
            per_client[k] = {"n": result.num_samples, "train_loss": result.loss, "arrived": float(sent is not None)}
        if results:
            averaged = _aggregate(aggregate, results, t)                      # 4. aggregate
            global_state = server.step(global_state, averaged) if server else averaged
        for k, data in enumerate(client_tests or []):                         # 5. evaluate
            model.load_state_dict({**global_state, **private[k]})
            per_client.setdefault(k, {}).update(evaluate(model, data))
        model.load_state_dict(global_state)
        bytes_up = sum(shared_bytes if r.upload_bytes is None else r.upload_bytes for r in results.values())
        history.rounds.append(Round(t, evaluate(model, test), per_client,
                                    bytes_down=len(chosen) * shared_bytes, bytes_up=bytes_up))
    return history


def run_centralized(model: nn.Module, train: Data, test: Data, *, epochs: int,
                    local: LocalConfig = LocalConfig(), seed: int = 0,
                    name: str = "Centralized", progress: bool = True) -> History:
    """Train on pooled data, one :class:`Round` per epoch (no bytes are counted:
    the cost here is that the raw records had to move)."""
    _check_run([train], epochs, 1.0, None)
    one_epoch = replace(local, epochs=1)
    history = History(name)
    for t in trange(1, epochs + 1, desc=name, disable=not progress):
        result = local_train(model, train, one_epoch, seed=round_seed(seed, t, 0))
        history.rounds.append(Round(t, evaluate(model, test), {0: {"n": len(train), "train_loss": result.loss}}))
    return history


def run_local_only(model: nn.Module, clients: Sequence[Data], test: Data, *, epochs: int,
                   local: LocalConfig = LocalConfig(), client_tests: Sequence[Data] | None = None,
                   seed: int = 0, name: str = "Local only", progress: bool = True) -> History:
    """Every client trains its own copy of ``model`` alone; nothing is shared.

    Each epoch, client ``k``'s model is evaluated on ``client_tests[k]`` (or on
    the shared ``test`` set if none are given). ``Round.test`` is the
    ``n_k / n``-weighted average of the clients' models on the shared test set.
    """
    _check_run(clients, epochs, 1.0, client_tests)
    one_epoch = replace(local, epochs=1)
    states = [copy_state(model) for _ in clients]
    weights = np.array([len(c) for c in clients]) / sum(len(c) for c in clients)
    history = History(name)
    for t in trange(1, epochs + 1, desc=name, disable=not progress):
        per_client, on_test = {}, []
        for k, data in enumerate(clients):
            model.load_state_dict(states[k])
            result = local_train(model, data, one_epoch, seed=round_seed(seed, t, k))
            states[k] = result.state
            on_test.append(evaluate(model, test))
            own = evaluate(model, client_tests[k]) if client_tests is not None else on_test[-1]
            per_client[k] = {"n": result.num_samples, "train_loss": result.loss, **own}
        mean = {key: float(np.dot(weights, [m[key] for m in on_test])) for key in on_test[0]}
        history.rounds.append(Round(t, mean, per_client))
    return history


def run_until(model: nn.Module, clients: Sequence[Data], test: Data, *, target: float,
              max_rounds: int, key: str = "auc", seed: int = 0, name: str = "FedAvg",
              **kwargs: Any) -> History:
    """FedAvg (:func:`run_federated`), one round at a time, stopping
    at the first round whose test ``key`` reaches ``target`` (or after ``max_rounds``).

    ``kwargs`` go to ``run_federated`` (``local=``, ``fraction=``, ...). Round
    ``t`` runs with seed ``round_seed(seed, t, 0)``, so a run is reproducible;
    ``history.rounds_to(target, key)`` is then the last round, or ``None`` if
    the target was not reached.
    """
    if not isinstance(max_rounds, int) or max_rounds < 1:
        raise ValueError(f"max_rounds must be a positive integer, got {max_rounds!r}")
    history = History(name)
    for t in range(1, max_rounds + 1):
        one = run_federated(model, clients, test, rounds=1, seed=round_seed(seed, t, 0),
                            name=name, progress=False, **kwargs)
        history.rounds.append(replace(one.rounds[0], round=t))
        if history.rounds[-1].test[key] >= target:
            break
    return history
