"""Many clients trained as one computation: the fast path beside :func:`fedlite.client.local_train`.

Read :func:`fedlite.client.local_train` first; this module computes *the same
numbers* for many clients at once. In a round the clients train in parallel,
so the sequential depth of a round is ``max_k tau_k`` local steps, not
``sum_k tau_k``. Here the ``J`` jobs (a job = one client in one round of one
federation, with its own start weights and seed) become one stacked parameter
set ``W[j]``, and every local step is one forward pass
``torch.func.vmap(functional_call)`` over all jobs still training and one
backward pass of the sum of their losses (job ``j``'s loss depends on ``W[j]``
only, so that gradient is every job's own gradient):

    g_j = grad_w [ sum_i m_ji * CE(f(x_ji; W_j), y_ji) ] + mu (W_j - W_j^0)     (FedProx, Li et al. 2020)
    b_j <- beta b_j + g_j ;  W_j <- W_j - lr b_j                                 (SGD, heavy-ball momentum)

``m_ji = 1/|batch|`` for the samples of job ``j``'s batch and ``0`` for the
padding that fills a short last batch up to ``B`` -- so the masked sum is the
batch mean that ``local_train`` minimises. Jobs are sorted by their number of
steps ``tau_j = E * ceil(n_j / B)``, so the jobs still training at step ``s``
are a prefix ``W[:a_s]``: nobody computes past its last step.

The batch order of job ``j`` is drawn exactly as ``local_train`` draws it
(``torch.randperm`` from a ``torch.Generator`` seeded with the job's seed), so
results agree with the reference up to float32 rounding (the tests check 1e-5).

What the engine does not do, and :func:`unsupported` says so: Adam, models
with buffers (BatchNorm) or random layers (Dropout), and layers outside
:data:`PURE_LAYERS`. Callers then run the reference loop.
"""

from __future__ import annotations

from collections.abc import Mapping, Sequence

import numpy as np
import torch
import torch.nn.functional as F
from torch import Tensor, nn
from torch.func import functional_call, vmap

from fedlite.client import ClientResult, LocalConfig
from fedlite.data import Data
from fedlite.history import History

State = Mapping[str, Tensor]

PURE_LAYERS: tuple[type[nn.Module], ...] = (
    nn.Linear, nn.Conv1d, nn.Conv2d, nn.ReLU, nn.LeakyReLU, nn.Tanh, nn.Sigmoid, nn.GELU,
    nn.MaxPool1d, nn.MaxPool2d, nn.AvgPool1d, nn.AvgPool2d, nn.Flatten, nn.Identity)
"""Leaf layers whose output depends only on their input and parameters (no state, no randomness)."""


def unsupported(model: nn.Module, config: LocalConfig) -> str | None:
    """Why the batched engine cannot reproduce ``local_train(model, ..., config)``; ``None`` if it can."""
    if config.optimizer != "sgd":
        return f"optimizer {config.optimizer!r} (the batched engine implements SGD with momentum only)"
    buffers = [name for name, _ in model.named_buffers()]
    if buffers:
        return f"the model has buffers ({buffers[0]}, ...), e.g. BatchNorm running statistics"
    for name, module in model.named_modules():
        if not list(module.children()) and not isinstance(module, PURE_LAYERS):
            return f"layer {name!r} is a {type(module).__name__}, not one of fedlite.batched.PURE_LAYERS"
    if any(p.dtype != torch.float32 for p in model.parameters()):
        return "the model has parameters that are not float32"
    return None


_MASK32 = 0xFFFFFFFF
_INIT_A, _MULT_A, _INIT_B, _MULT_B = 0x43B0D7E5, 0x931E8875, 0x8B51F9DD, 0x58F38DED
_MIX_L, _MIX_R = 0xCA01F9DD, 0x4973F715


def _words(n: int) -> list[int]:
    """``n`` as little-endian 32-bit words, as ``SeedSequence`` reads an integer of its entropy."""
    out = [n & _MASK32]
    while n := n >> 32:
        out.append(n & _MASK32)
    return out


def round_seeds(seed: int, round_: int, clients: Sequence[int]) -> list[int]:
    """``[round_seed(seed, round_, k) for k in clients]``, computed for all clients at once (same numbers).

    :func:`fedlite.simulation.round_seed` builds one ``numpy.random.SeedSequence``
    per client (about 35 us each: in a round of 100 small clients, more than
    the training). This is the same hash -- O'Neill's ``seed_seq_fe`` mixing of
    the entropy words ``[seed, round, client]`` into a pool of four 32-bit
    words, then the first output word (NumPy's ``SeedSequence.generate_state``)
    -- as uint32 array arithmetic over the clients. Bit-identical to
    ``round_seed``: ``tests/test_batched.py`` checks it on many seeds.
    """
    from fedlite.checks import seed as check_seed

    ks = np.asarray(list(clients), dtype=np.int64)
    if ks.size and (ks.min() < 0 or ks.max() > _MASK32):
        raise ValueError(f"client ids must be in [0, 2**32), got {ks.min()}..{ks.max()}")
    fixed = _words(check_seed(seed)) + _words(check_seed(round_))
    entropy = [np.full(ks.size, w, dtype=np.uint32) for w in fixed] + [ks.astype(np.uint32)]
    const = _INIT_A

    def hashmix(value: np.ndarray) -> np.ndarray:
        nonlocal const
        value = value ^ np.uint32(const)
        const = (const * _MULT_A) & _MASK32
        value = value * np.uint32(const)
        return value ^ (value >> np.uint32(16))

    def mix(x: np.ndarray, y: np.ndarray) -> np.ndarray:
        result = np.uint32(_MIX_L) * x - np.uint32(_MIX_R) * y
        return result ^ (result >> np.uint32(16))

    pool = [hashmix(entropy[i] if i < len(entropy) else np.zeros(ks.size, np.uint32)) for i in range(4)]
    for src in range(4):
        for dst in range(4):
            if src != dst:
                pool[dst] = mix(pool[dst], hashmix(pool[src]))
    for src in range(4, len(entropy)):
        for dst in range(4):
            pool[dst] = mix(pool[dst], hashmix(entropy[src]))
    out = (pool[0] ^ np.uint32(_INIT_B)) * np.uint32((_INIT_B * _MULT_B) & _MASK32)
    return (out ^ (out >> np.uint32(16))).tolist()


def schedule(sizes: Sequence[int], config: LocalConfig, seeds: Sequence[int]) -> tuple[Tensor, Tensor]:
    """Every job's mini-batches, as ``local_train`` would draw them.

    Returns ``index[j, s, i]`` (row of job ``j``'s data in its step ``s``,
    ``-1`` for padding) and ``weight[j, s, i]`` (``1/|batch|`` or ``0``),
    padded to the largest step count and batch size.
    """
    widths = [n if config.batch_size is None else min(config.batch_size, n) for n in sizes]
    steps = [-(-n // b) for n, b in zip(sizes, widths)]
    index = np.full((len(sizes), config.epochs * max(steps), max(widths)), -1, dtype=np.int64)
    groups: dict[tuple[int, int, int], list[int]] = {}                 # jobs of one shape share the padding work
    perms: list[Tensor] = []                                           # perms[j * E + e]: job j's epoch e
    generator = torch.Generator()
    for j, (n, size, tau, seed) in enumerate(zip(sizes, widths, steps, seeds)):
        generator.manual_seed(seed)                                    # = local_train's fresh generator
        perms.extend(torch.randperm(n, generator=generator) for _ in range(config.epochs))
        groups.setdefault((n, size, tau), []).append(j)
    for (n, size, tau), jobs in groups.items():
        block = np.full((len(jobs), config.epochs, tau * size), -1, dtype=np.int64)
        drawn = torch.stack([perms[j * config.epochs + e] for j in jobs for e in range(config.epochs)])
        block[:, :, :n] = drawn.view(len(jobs), config.epochs, n).numpy()
        index[jobs, :config.epochs * tau, :size] = block.reshape(len(jobs), config.epochs * tau, size)
    valid = index >= 0
    weight = valid / np.maximum(valid.sum(axis=2, keepdims=True), 1)
    return torch.from_numpy(index), torch.from_numpy(weight.astype(np.float32))


def _stack_data(data: Sequence[Data]) -> tuple[Data, Tensor]:
    """One pooled copy of the distinct datasets in ``data`` and each job's row offset in it."""
    distinct: dict[int, int] = {}
    parts: list[Data] = []
    offsets, total = [], 0
    starts_of: dict[int, int] = {}
    for d in data:
        if id(d) not in distinct:
            distinct[id(d)] = len(parts)
            starts_of[id(d)] = total
            parts.append(d)
            total += len(d)
        offsets.append(starts_of[id(d)])
    pooled = parts[0] if len(parts) == 1 else Data(torch.cat([p.x for p in parts]), torch.cat([p.y for p in parts]))
    return pooled, torch.tensor(offsets)


def _stack_starts(model: nn.Module, starts: Sequence[State], order: Tensor) -> dict[str, Tensor]:
    """``{name: W[j]}`` with ``W[j] = starts[order[j]][name]``; tensors shared by many jobs are stacked once.

    In a round every client starts from the same broadcast tensors, so this
    stacks one copy per federation and indexes it, instead of one per job.
    """
    names = [name for name, _ in model.named_parameters()]
    distinct: dict[tuple[int, ...], int] = {}
    firsts: list[int] = []
    which = []
    for j in order.tolist():
        key = tuple(id(starts[j][name]) for name in names)
        if key not in distinct:
            distinct[key] = len(firsts)
            firsts.append(j)
        which.append(distinct[key])
    rows = torch.tensor(which)
    return {name: torch.stack([starts[j][name] for j in firsts]).to(torch.float32)[rows].contiguous()
            for name in names}


def _check(model: nn.Module, data: Sequence[Data], config: LocalConfig, seeds: Sequence[int],
           starts: Sequence[State]) -> None:
    if not len(data) == len(seeds) == len(starts) or len(data) == 0:
        raise ValueError(f"need one seed and one start state per client dataset, got {len(data)} datasets, "
                         f"{len(seeds)} seeds and {len(starts)} start states")
    if any(len(d) == 0 for d in data):
        raise ValueError("a client has no samples; remove it or give it data before training")
    if (why := unsupported(model, config)) is not None:
        raise ValueError(f"the batched engine cannot train this: {why}; use fedlite.client.local_train")
    names = {name for name, _ in model.named_parameters()}
    for j, start in enumerate(starts):
        if set(start) != names:
            raise ValueError(f"start state {j} has keys {sorted(start)[:4]}..., expected the model's "
                             f"parameter names {sorted(names)[:4]}...")


def train_many(model: nn.Module, data: Sequence[Data], config: LocalConfig, *, seeds: Sequence[int],
               starts: Sequence[State]) -> tuple[dict[str, Tensor], Tensor]:
    """Train job ``j`` from ``starts[j]`` on ``data[j]`` with seed ``seeds[j]``, all jobs at once.

    Returns the stacked final weights ``{name: W[j, ...]}`` (job order as
    given) and each job's mean training loss (cross-entropy without the
    FedProx term), exactly what ``local_train`` would report.
    ``model`` only lends its architecture; its weights are not used or changed.
    """
    _check(model, data, config, seeds, starts)
    sizes = [len(d) for d in data]
    index, weight = schedule(sizes, config, seeds)
    steps = (weight.sum(dim=2) > 0).sum(dim=1)                          # tau_j
    order = torch.argsort(steps, descending=True, stable=True)          # longest first: active = prefix
    pooled, offsets = _stack_data(data)
    rows = (index.clamp(min=0) + offsets[:, None, None])[order]        # padding points at a real row
    weight, steps = weight[order], steps[order]
    params = _stack_starts(model, starts, order)
    anchor = {k: v.clone() for k, v in params.items()} if config.mu > 0 else {}
    momentum = {k: torch.zeros_like(v) for k, v in params.items()} if config.momentum > 0 else {}
    losses = torch.zeros(len(data), dtype=torch.float64)

    forward = vmap(lambda w, x: functional_call(model, w, (x,)))        # job j's model on job j's batch
    for s in range(int(steps[0])):
        a = int((steps > s).sum())
        w = {k: v[:a].detach().requires_grad_() for k, v in params.items()}
        x, y, m = pooled.x[rows[:a, s]], pooled.y[rows[:a, s]], weight[:a, s]
        with torch.enable_grad():                                       # even if the caller disabled it
            logits = forward(w, x)
            loss = (F.cross_entropy(logits.flatten(0, 1), y.flatten(), reduction="none").view_as(m) * m).sum(1)
            # job j's loss depends on W_j only, so the gradient of the sum is every job's own gradient
            grads = torch.autograd.grad(loss.sum(), list(w.values()))
        with torch.no_grad():
            for (k, v), g in zip(params.items(), grads):
                if anchor:
                    g = g + config.mu * (v[:a] - anchor[k][:a])
                if momentum:
                    g = momentum[k][:a].mul_(config.momentum).add_(g)
                v[:a].add_(g, alpha=-config.lr)
            losses[:a] += loss.detach().double()
    back = torch.argsort(order)
    return {k: v[back] for k, v in params.items()}, (losses / steps)[back]


def local_train_many(model: nn.Module, data: Sequence[Data], config: LocalConfig, *, seeds: Sequence[int],
                     starts: Sequence[State]) -> list[ClientResult]:
    """:func:`train_many`, returned as one :class:`~fedlite.client.ClientResult` per job (like ``local_train``)."""
    stacked, losses = train_many(model, data, config, seeds=seeds, starts=starts)
    names, columns = list(stacked), [v.unbind(0) for v in stacked.values()]
    return [ClientResult(dict(zip(names, per_job)), len(d), loss)
            for per_job, d, loss in zip(zip(*columns), data, losses.tolist())]


KNOWN_SAFE = frozenset(f"fedlite.{path}" for path in (
    "aggregate.fedavg", "aggregate.fedavg_loop",
    "robustness.participation.RandomDropout", "robustness.participation.Deadline",
    "robustness.defences.median", "robustness.defences.trimmed_mean", "robustness.defences.krum"))
"""Hooks and aggregators of fedlite that only read the results or states they are given."""


def _is_safe(hook: object) -> bool:
    if getattr(hook, "batched_safe", False):
        return True
    target = getattr(hook, "func", hook)  # functools.partial(krum, f=1)
    kind = target if callable(target) and hasattr(target, "__qualname__") else type(target)
    return f"{kind.__module__}.{kind.__qualname__}" in KNOWN_SAFE


def batched_safe(hook: object) -> object:
    """Mark an ``on_update``/``on_round`` hook or an aggregator as safe for the batched path.

    Safe means: it only reads the :class:`~fedlite.client.ClientResult` (or the
    states) it is given, never the ``model`` object during a round. The batched
    path hands it per-client results equal to the reference loop's within
    float32 rounding; only the model object differs (it holds ``w_t`` while the
    hooks run, not the last client's weights).
    """
    hook.batched_safe = True  # type: ignore[attr-defined]
    return hook


def choose_engine(model: nn.Module, config: LocalConfig, *, batched: bool | None,
                  hooks: Sequence[object] = ()) -> tuple[bool, str]:
    """Which engine trains the chosen clients, and a line saying so (stored in ``History.engine``).

    ``batched=None`` picks the batched engine when the model and config are
    supported (:func:`unsupported`) and every hook or aggregator given is
    ``None`` or marked :func:`batched_safe`; ``False`` forces the reference
    loop; ``True`` forces the batched engine (``ValueError`` if it cannot apply).
    """
    why = unsupported(model, config)
    if batched and why:
        raise ValueError(f"batched=True, but the batched engine cannot train this: {why}. "
                         "Pass batched=None (choose automatically) or batched=False (reference loop).")
    if batched is False:
        return False, "reference loop (fedlite.client.local_train), forced by batched=False"
    if why:
        return False, f"reference loop (fedlite.client.local_train): {why}"
    unknown = [h for h in hooks if h is not None and not _is_safe(h)]
    if unknown and not batched:
        name = getattr(unknown[0], "__qualname__", type(unknown[0]).__name__)
        return False, (f"reference loop (fedlite.client.local_train): hook or aggregator {name} is not marked "
                       "fedlite.batched.batched_safe; pass batched=True to use the batched engine anyway")
    return True, "batched engine (fedlite.batched: the chosen clients' local steps as one vmap computation)"


def train_clients_batched(model: nn.Module, clients: Sequence[Data], chosen: Sequence[int], config: LocalConfig, *,
                          starts: Mapping[int, State], seeds: Mapping[int, int]) -> dict[int, ClientResult]:
    """:func:`fedlite.client.train_clients` (the round's "train the chosen clients" step), all clients at once."""
    results = local_train_many(model, [clients[k] for k in chosen], config, seeds=[seeds[k] for k in chosen],
                               starts=[starts[k] for k in chosen])
    return dict(zip(chosen, results))


def run_federated_seeds(models: Sequence[nn.Module], clients: Sequence[Data], test: Data, *, rounds: int,
                        seeds: Sequence[int], local: LocalConfig = LocalConfig(), participation: float = 1.0,
                        server_optimizers: Sequence[object] | None = None, on_updates: Sequence[object] | None = None,
                        name: str = "FedAvg", progress: bool = True) -> list[History]:
    """Several independent federations, one per seed, whose clients train in one batched computation.

    Federation ``i`` starts from ``models[i]`` (one architecture for all) and
    gives the same history as ``run_federated(models[i], clients, test,
    seed=seeds[i], ...)`` within float32 rounding; ``models[i]`` ends holding its
    final weights. Each round, every federation's sample is drawn from a copy
    of its generator (the very clients its round will draw), all federations'
    chosen clients train in one :func:`train_many` call (a "seed" dimension
    folded into the jobs), and then each federation runs its own round
    (:func:`fedlite.simulation.federated_round`: hooks, aggregation, server
    optimizer, evaluation) with those results. ``server_optimizers[i]`` and
    ``on_updates[i]``, if given, belong to federation ``i`` only (they keep state).
    """
    import copy

    from tqdm.auto import trange

    from fedlite.simulation import _check_run, federated_round, sample_clients, start_federation

    _check_run(clients, rounds, participation, None)
    for label, per_seed in (("models", models), ("server_optimizers", server_optimizers), ("on_updates", on_updates)):
        if per_seed is not None and len(per_seed) != len(seeds):
            raise ValueError(f"need one of {label} per seed: got {len(per_seed)} for {len(seeds)} seeds")
    if not seeds:
        raise ValueError("seeds is empty: pass at least one seed")
    if (why := unsupported(models[0], local)) is not None:
        raise ValueError(f"run_federated_seeds needs the batched engine, which cannot train this: {why}. "
                         "Loop over seeds with fedlite.run_federated instead.")
    feds = [start_federation(m, seed=s, server_optimizer=server_optimizers[i] if server_optimizers else None,
                             on_update=on_updates[i] if on_updates else None)  # type: ignore[arg-type]
            for i, (m, s) in enumerate(zip(models, seeds))]
    engine = "batched engine, seeds batched too (fedlite.batched.run_federated_seeds)"
    histories = [History(f"{name} (seed {s})", engine=engine) for s in seeds]
    for _ in trange(rounds, desc=name, disable=not progress):
        chosen = [sample_clients(len(clients), participation, copy.deepcopy(f.rng)) for f in feds]
        jobs = [(i, k) for i, ks in enumerate(chosen) for k in ks]
        results = local_train_many(
            models[0], [clients[k] for _, k in jobs], local,
            seeds=[r for f, ks in zip(feds, chosen) for r in round_seeds(f.seed, f.round + 1, ks)],
            starts=[{**feds[i].global_state, **feds[i].private.get(k, {})} for i, k in jobs])
        trained: list[dict[int, ClientResult]] = [{} for _ in feds]
        for (i, k), result in zip(jobs, results):
            trained[i][k] = result
        for i, model in enumerate(models):
            def done(*args: object, i: int = i, **kwargs: object) -> dict[int, ClientResult]:
                return trained[i]
            feds[i], record = federated_round(model, clients, test, feds[i], local=local,
                                              participation=participation, train=done)
            histories[i].rounds.append(record)
    return histories
