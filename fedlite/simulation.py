"""Federated training, simulated on one machine, and the two baselines it is judged against.

:func:`federated_round` is one round of FedAvg (McMahan et al. 2017,
Algorithm 1):

1. **sample** a fraction ``q`` (``participation``) of the clients,
2. **broadcast** the global weights ``w_t`` to them,
3. each trains **locally** on its own data (:func:`fedlite.client.train_clients`,
   which calls :func:`fedlite.client.local_train` for each),
4. the server **aggregates** what arrived, ``w_{t+1} = sum_k (n_k / n) w_k``
   (optionally through a server optimizer), and
5. **evaluates** the new global model.

It takes and returns a :class:`Federation`: everything that survives from one
round to the next (global weights, each client's private tensors, the
sampling generator, the server optimizer, the hooks). :func:`run_federated` is
a loop over it, and a notebook can step it one round at a time. Hooks and
aggregators receive a :class:`RoundContext`: the round number, the broadcast
weights ``w_t`` and which clients were sampled and arrived.

The same loop gives FedSGD (``LocalConfig(epochs=1, batch_size=None)``),
FedProx (``LocalConfig(mu=...)``), FedAvgM / FedAdam (``server_optimizer=...``)
and FedBN (``local_keys=batchnorm_keys(model)``: those tensors never leave the
hospital, and no hook or aggregator sees them). :func:`run_centralized`
(everything pooled: the reference, not
a ceiling FL can never reach) and :func:`run_local_only` (every
hospital alone) use the same model, the same local training code and the same
test set.
"""

from __future__ import annotations

import copy
import functools
from collections.abc import Callable, Mapping, Sequence
from dataclasses import dataclass, field, replace
from typing import Any

import numpy as np
from torch import Tensor, nn
from tqdm.auto import trange

from fedlite.aggregate import fedavg
from fedlite.batched import choose_engine, round_seeds, train_clients_batched
from fedlite.checks import integer, number
from fedlite.checks import seed as check_seed
from fedlite.client import (ClientResult, Diverged, LocalConfig, TrainClients, check_loss, local_train,
                            train_clients)
from fedlite.data import Data, check_for_model
from fedlite.history import History, Round
from fedlite.metrics import evaluate
from fedlite.server import ServerOptimizer
from fedlite.state import State, copy_state, state_bytes


@functools.lru_cache(maxsize=2**16)  # SeedSequence is slow; fedlite.batched.round_seeds does a whole round at once
def round_seed(seed: int, round_: int, client: int) -> int:
    """A distinct, reproducible seed for one client in one round (``seed``: a non-negative integer)."""
    return int(np.random.SeedSequence([check_seed(seed), round_, client]).generate_state(1)[0])


def sample_clients(num_clients: int, participation: float, rng: np.random.Generator) -> list[int]:
    """Pick ``max(1, round(participation * K))`` distinct clients, in increasing id order."""
    m = max(1, round(participation * num_clients))
    return sorted(int(k) for k in rng.choice(num_clients, size=m, replace=False))


def batchnorm_keys(model: nn.Module) -> list[str]:
    """State names of every BatchNorm layer: what FedBN (Li et al. 2021) keeps local."""
    return [f"{name}.{key}" for name, module in model.named_modules()
            if isinstance(module, nn.modules.batchnorm._BatchNorm)
            for key in module.state_dict()]


def _check_run(clients: Sequence[Data], rounds: int, participation: float,
               client_tests: Sequence[Data] | None) -> None:
    integer(rounds, "rounds", minimum=1)
    if not 0 < number(participation, "participation (the fraction of clients sampled per round)") <= 1:
        raise ValueError(f"participation (the fraction of clients sampled per round) must be in (0, 1], "
                         f"got {participation!r}")
    if len(clients) == 0:
        raise ValueError("no clients: pass a list with at least one client's Data")
    empty = [k for k, c in enumerate(clients) if len(c) == 0]
    if empty:
        raise ValueError(f"clients {empty} have no samples; drop them or repartition the data")
    if client_tests is not None and len(client_tests) != len(clients):
        raise ValueError(f"client_tests must have one Data per client ({len(clients)}), "
                         f"got {len(client_tests)}")


def check_inputs(model: nn.Module, clients: Sequence[Data], test: Data,
                 client_tests: Sequence[Data] | None = None) -> None:
    """Check every dataset against ``model`` once, before any training, naming the one that does not fit.

    Labels must be class ids the model can output, inputs of a shape and
    dtype it can read (:func:`fedlite.data.check_for_model`).
    """
    for k, data in enumerate(clients):
        check_for_model(model, data, f"client {k}")
    check_for_model(model, test, "the test set")
    for k, data in enumerate(client_tests or []):
        check_for_model(model, data, f"client {k}'s test data")


def check_local_keys(local_keys: Sequence[str], state: State) -> None:
    """Raise ``ValueError`` unless every ``local_keys`` entry names a tensor of ``state``."""
    unknown = [key for key in local_keys if key not in state]
    if unknown:
        raise ValueError(f"local_keys {unknown} are not in the model's state (it has e.g. {list(state)[:4]}); "
                         "check the spelling, or use fedlite.batchnorm_keys(model) for FedBN")


@dataclass(frozen=True)
class RoundContext:
    """What the server knows in round ``t``; every update hook and aggregator receives it.

    ``broadcast`` is ``w_t``, the weights sent to the clients (FedBN's local
    tensors excluded: they never leave a hospital). ``sampled`` are the clients
    asked to train; ``arrived`` the clients whose update reached the server,
    in the order the aggregator receives their states (empty while the
    updates are still arriving, i.e. for update hooks).
    """

    round: int
    broadcast: Mapping[str, Tensor]
    sampled: tuple[int, ...]
    arrived: tuple[int, ...] = ()


Aggregator = Callable[[Sequence[State], Sequence[float], RoundContext], dict[str, Tensor]]
"""``aggregate(states, num_samples, context) -> state``, like :func:`fedlite.aggregate.fedavg`."""

UpdateHook = Callable[[RoundContext, int, ClientResult], "ClientResult | None"]
"""``on_update(context, client, result)``: what actually reaches the server from
that client -- the result itself, a changed one (a faulty or malicious
hospital, a compressed update), or ``None`` (it never arrives: a dropout or
a straggler past the deadline)."""


@dataclass
class Federation:
    """Everything that survives from one round to the next; build it with :func:`start_federation`.

    ``global_state`` is the server's model; ``private[k]`` the tensors client
    ``k`` keeps at home (FedBN's ``local_keys``) as of its last round;
    ``rng`` chooses the clients; ``seed`` seeds local training
    (``round_seed(seed, t, k)``); ``round`` counts the rounds done. The
    server optimizer, the aggregator and the update hook are objects that
    may keep their own memory (momentum, a noise generator, error feedback,
    a log of dropouts): they live here so that the next round uses the same ones.
    """

    global_state: dict[str, Tensor]
    rng: np.random.Generator
    seed: int
    private: dict[int, dict[str, Tensor]] = field(default_factory=dict)
    round: int = 0
    server_optimizer: ServerOptimizer | None = None
    aggregate: Aggregator = fedavg
    on_update: UpdateHook | None = None


def start_federation(model: nn.Module, *, seed: int = 0, server_optimizer: ServerOptimizer | None = None,
          aggregate: Aggregator = fedavg, on_update: UpdateHook | None = None) -> Federation:
    """A federation before round 1: ``model``'s weights are ``w_1``, nobody has trained yet."""
    seed = check_seed(seed)
    return Federation(copy_state(model), np.random.default_rng(seed), seed, server_optimizer=server_optimizer,
                      aggregate=aggregate, on_update=on_update)


def _aggregate(federation: Federation, results: dict[int, ClientResult], context: RoundContext) -> dict[str, Tensor]:
    states, num_samples = [r.state for r in results.values()], [r.num_samples for r in results.values()]
    try:
        averaged = federation.aggregate(states, num_samples, context)
    except ValueError as err:
        raise RuntimeError(f"round {context.round}: aggregating clients {list(results)} (in this order) "
                           f"failed: {err}") from err
    missing = sorted(set(context.broadcast) - set(averaged))
    if missing:
        raise RuntimeError(f"round {context.round}: the aggregate lacks {missing[:5]}; every update must carry "
                           "all shared tensors (did an update hook or the aggregator drop them?)")
    optimizer = federation.server_optimizer
    return optimizer.step(context.broadcast, averaged) if optimizer else averaged


def _evaluate(model: nn.Module, federation: Federation, clients: Sequence[Data], test: Data,
              client_tests: Sequence[Data] | None, local_keys: Sequence[str]) -> tuple[dict, dict]:
    """The global model on ``test``, and each client's model (global + its private tensors) on its own test.

    With ``local_keys`` (FedBN) there is no single global model: the shared
    test set then scores the ``n_k / n``-weighted mean of the clients' models.
    """
    def client_model(k: int) -> nn.Module:
        model.load_state_dict({**federation.global_state, **federation.private.get(k, {})})
        return model

    own = {k: evaluate(client_model(k), data) for k, data in enumerate(client_tests or [])}
    if local_keys:
        sizes = np.array([len(c) for c in clients], dtype=np.float64)
        scores = [evaluate(client_model(k), test) for k in range(len(clients))]
        on_test = {key: float(np.dot(sizes / sizes.sum(), [s[key] for s in scores])) for key in scores[0]}
    model.load_state_dict(federation.global_state)
    return (on_test if local_keys else evaluate(model, test)), own


def federated_round(model: nn.Module, clients: Sequence[Data], test: Data, federation: Federation, *,
                    local: LocalConfig = LocalConfig(), participation: float = 1.0, local_keys: Sequence[str] = (),
                    client_tests: Sequence[Data] | None = None,
                    train: TrainClients = train_clients) -> tuple[Federation, Round]:
    """Round ``t = federation.round + 1`` of FedAvg; returns the federation after it and the round's record.

    ``model`` is only a workspace: it ends holding the new global weights.
    ``client_tests[k]``, if given, is hospital ``k``'s own test data, scored
    with its own model (global weights plus its ``local_keys``). A round in
    which no update arrives leaves the global model unchanged. ``train``
    trains the chosen clients (:func:`fedlite.client.train_clients`, or a
    faster engine that gives the same results).
    """
    _check_run(clients, 1, participation, client_tests)
    if federation.round == 0:                                   # where the data enter: check them once
        check_inputs(model, clients, test, client_tests)
        check_local_keys(local_keys, federation.global_state)
    t = federation.round + 1
    chosen = sample_clients(len(clients), participation, federation.rng)                 # 1. sample
    broadcast = {key: v for key, v in federation.global_state.items() if key not in local_keys}
    context = RoundContext(t, broadcast, tuple(chosen))
    starts = {k: {**federation.global_state, **federation.private.get(k, {})} for k in chosen}  # 2. broadcast
    seeds = dict(zip(chosen, round_seeds(federation.seed, t, chosen)))  # = round_seed(seed, t, k) for each k
    try:
        trained = train(model, clients, chosen, local, starts=starts, seeds=seeds)      # 3. train locally
        for k, result in trained.items():  # any train step (reference, batched, yours): a NaN loss stops here
            check_loss(result.loss, local, f"client {k}: ")
    except Diverged as err:
        raise Diverged(f"round {t}, {err}") from err
    private, results, per_client = dict(federation.private), {}, {}
    for k, result in trained.items():
        private[k] = {key: result.state[key] for key in local_keys}                    # (FedBN: stays home)
        shared = replace(result, state={key: v for key, v in result.state.items() if key not in local_keys})
        sent = federation.on_update(context, k, shared) if federation.on_update else shared  # (what arrives)
        if sent is not None:
            results[k] = sent
        per_client[k] = {"n": result.num_samples, "train_loss": result.loss, "arrived": float(sent is not None)}
    global_state = federation.global_state
    if results:                                                                          # 4. aggregate
        global_state = {**global_state, **_aggregate(federation, results, replace(context, arrived=tuple(results)))}
    federation = replace(federation, global_state=global_state, private=private, round=t)
    on_test, own = _evaluate(model, federation, clients, test, client_tests, local_keys)  # 5. evaluate
    for k, metrics in own.items():
        per_client.setdefault(k, {}).update(metrics)
    bytes_up = sum(state_bytes(broadcast) if r.upload_bytes is None else r.upload_bytes for r in results.values())
    return federation, Round(t, on_test, per_client, bytes_down=len(chosen) * state_bytes(broadcast),
                             bytes_up=bytes_up)


def run_federated(model: nn.Module, clients: Sequence[Data], test: Data, *, rounds: int,
                  local: LocalConfig = LocalConfig(), participation: float = 1.0,
                  server_optimizer: ServerOptimizer | None = None, local_keys: Sequence[str] = (),
                  client_tests: Sequence[Data] | None = None, aggregate: Aggregator = fedavg,
                  on_update: UpdateHook | None = None, seed: int = 0, name: str = "FedAvg",
                  progress: bool = True, train: TrainClients | None = None,
                  batched: bool | None = None) -> History:
    """Train ``model`` with FedAvg across ``clients`` for ``rounds`` rounds; one :class:`Round` per round.

    ``model`` holds the initial global weights and ends holding the final
    ones. ``aggregate`` replaces FedAvg (e.g. a robust rule); ``on_update``
    decides what of each update reaches the server (see :data:`UpdateHook`).
    The other arguments are those of :func:`federated_round`.

    Who trains the chosen clients: ``train`` if given; else the batched engine
    (:mod:`fedlite.batched`: all chosen clients at once, the same numbers within
    float32 rounding) when the model, ``local`` and the hooks allow it and
    ``batched`` is not ``False``; else the reference loop
    :func:`fedlite.client.train_clients`. ``History.engine`` says which ran, and why.
    """
    _check_run(clients, rounds, participation, client_tests)
    if train is not None:
        engine = f"train step given by the caller: {getattr(train, '__qualname__', repr(train))}"
    else:
        use_batched, engine = choose_engine(model, local, batched=batched, hooks=(on_update, aggregate))
        train = train_clients_batched if use_batched else train_clients
    federation = start_federation(model, seed=seed, server_optimizer=server_optimizer, aggregate=aggregate,
                       on_update=on_update)
    history = History(name, engine=engine)
    for _ in trange(rounds, desc=name, disable=not progress):
        federation, record = federated_round(model, clients, test, federation, local=local,
                                             participation=participation, local_keys=local_keys,
                                             client_tests=client_tests, train=train)
        history.rounds.append(record)
    return history


def run_centralized(model: nn.Module, train: Data, test: Data, *, epochs: int,
                    local: LocalConfig = LocalConfig(), seed: int = 0,
                    name: str = "Centralized", progress: bool = True) -> History:
    """Train on pooled data, one :class:`Round` per epoch (no bytes are counted:
    the cost here is that the raw records had to move)."""
    _check_run([train], epochs, 1.0, None)
    check_for_model(model, train, "the training data")
    check_for_model(model, test, "the test set")
    one_epoch = replace(local, epochs=1)
    history = History(name)
    for t in trange(1, epochs + 1, desc=name, disable=not progress):
        try:
            result = local_train(model, train, one_epoch, seed=round_seed(seed, t, 0))
        except Diverged as err:
            raise Diverged(f"epoch {t}: {err}") from err
        history.rounds.append(Round(t, evaluate(model, test), {0: {"n": len(train), "train_loss": result.loss}}))
    return history


def run_local_only(model: nn.Module, clients: Sequence[Data], test: Data, *, epochs: int,
                   local: LocalConfig = LocalConfig(), client_tests: Sequence[Data] | None = None,
                   seed: int = 0, name: str = "Local only",
                   progress: bool = True) -> tuple[History, list[nn.Module]]:
    """Every client trains its own copy of ``model`` alone; nothing is shared.

    Returns the history and the clients' trained models (``models[k]`` is
    client ``k``'s; ``model`` itself is left as it came). Each epoch, client
    ``k``'s model is evaluated on ``client_tests[k]`` (or on the shared ``test``
    set if none are given). ``Round.test`` is the ``n_k / n``-weighted average
    of the clients' models on the shared test set.
    """
    _check_run(clients, epochs, 1.0, client_tests)
    check_inputs(model, clients, test, client_tests)
    one_epoch = replace(local, epochs=1)
    start = copy_state(model)
    states = [copy_state(start) for _ in clients]
    weights = np.array([len(c) for c in clients]) / sum(len(c) for c in clients)
    history = History(name)
    for t in trange(1, epochs + 1, desc=name, disable=not progress):
        per_client, on_test = {}, []
        for k, data in enumerate(clients):
            model.load_state_dict(states[k])
            try:
                result = local_train(model, data, one_epoch, seed=round_seed(seed, t, k))
            except Diverged as err:
                raise Diverged(f"epoch {t}, client {k}: {err}") from err
            states[k] = result.state
            on_test.append(evaluate(model, test))
            own = evaluate(model, client_tests[k]) if client_tests is not None else on_test[-1]
            per_client[k] = {"n": result.num_samples, "train_loss": result.loss, **own}
        mean = {key: float(np.dot(weights, [m[key] for m in on_test])) for key in on_test[0]}
        history.rounds.append(Round(t, mean, per_client))
    models = [copy.deepcopy(model) for _ in clients]
    for local_model, state in zip(models, states):
        local_model.load_state_dict(state)
    model.load_state_dict(start)
    return history, models


def run_until(model: nn.Module, clients: Sequence[Data], test: Data, *, target: float, max_rounds: int,
              key: str = "auc", seed: int = 0, name: str = "FedAvg",
              server_optimizer: ServerOptimizer | None = None, aggregate: Aggregator = fedavg,
              on_update: UpdateHook | None = None, **round_settings: Any) -> History:
    """FedAvg, stepped one :func:`federated_round` at a time, stopping at the first round whose test
    ``key`` reaches ``target`` (or after ``max_rounds``).

    ``round_settings`` go to :func:`federated_round` (``local=``,
    ``participation=``, ``local_keys=``, ...). Up to the stopping round the
    run is exactly ``run_federated(..., rounds=max_rounds, seed=seed)``;
    ``history.rounds_to(target, key)`` is then the last round, or ``None`` if
    the target was not reached.
    """
    integer(max_rounds, "max_rounds", minimum=1)
    federation = start_federation(model, seed=seed, server_optimizer=server_optimizer, aggregate=aggregate,
                       on_update=on_update)
    history = History(name)
    while federation.round < max_rounds:
        federation, record = federated_round(model, clients, test, federation, **round_settings)
        history.rounds.append(record)
        if record.test[key] >= target:
            break
    return history
