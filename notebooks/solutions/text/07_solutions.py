# %% [markdown]
# # Solutions · 07 Where next
#
# Worked answers to the exercises of [07 · Where next](../07_where_next.ipynb). Try them yourself first:
# the checks in the notebook give hints without giving the answer away.
#
# None of the three exercises needs data or training, so the setup is just the imports.

# %%
from fedlite.exercises.nb07 import (FEDLITE_NAMES, FLOWER_TERMS, check_flower_matches, check_to_ndarrays,
                                    check_vertical)

# %% [markdown]
# **Exercise 1.** A `state_dict` is ordered, and that order is the contract: the receiver zips the arrays
# with its own keys. So walk through `state.values()` in order and convert every tensor, buffers
# included. `.detach()` drops the autograd history and `.cpu()` makes the conversion safe for a model on a
# GPU; `.numpy()` keeps the dtype (float32 weights, the int64 BatchNorm counter). The `.copy()` is
# optional for the check, and makes the arrays independent of the live model, as
# `fedlite.interop.to_ndarrays` does.

# %%
# NBVAL_CHECK_OUTPUT
def my_to_ndarrays(state):
    arrays = [tensor.detach().cpu().numpy().copy() for tensor in state.values()]
    return arrays


check_to_ndarrays(my_to_ndarrays)

# %% [markdown]
# **Exercise 2.** Five names, five letters, each letter used once. Sort each `fedlite` name by where it
# runs and what it is:
#
# - `run_federated` is the whole server-side program that runs the rounds: Flower's `ServerApp`, which
#   drives a `Strategy` round after round.
# - `local_train` runs at a hospital on its own data: `NumPyClient.fit`.
# - `aggregate=` is only the combination rule, one step of the round: in Flower the strategy's
#   `aggregate_train` method (`aggregate_fit` in the `NumPyClient` era). Swapping `FedAvg` for `Krum`
#   swaps exactly that method.
# - `participation=` is the share of clients per round: the strategy's `fraction_train` (`fraction_fit`).
# - $n_k$ (`ClientResult.num_samples`) is the `num_examples` that `fit` returns next to the weights.

# %%
# NBVAL_CHECK_OUTPUT
my_matches = {"run_federated": "D", "local_train": "C", "aggregate=": "E", "participation=": "A",
              "ClientResult.num_samples": "B"}
assert set(my_matches) == set(FEDLITE_NAMES) and set(my_matches.values()) == set(FLOWER_TERMS)
check_flower_matches(my_matches)

# %% [markdown]
# **Exercise 3.** The registry and the sequencing lab know *many of the same patients* but hold
# *different columns* about them (outcomes on one side, gene panels on the other): that is vertical FL.
# Horizontal FL, the setting of almost every federation in the course, splits the patients and keeps the
# columns; notebook 04b's toy vertical model on the heart features is the exception, and it simply assumed
# the patients were already lined up. Here they are not, and neither party may reveal the patients the
# other lacks, which is what a private set intersection solves. FATE is built for this: its `PSI`
# component finds the shared patients without revealing the others, then vertical components
# (`CoordinatedLR`, `SSHELR`, `HeteroSecureBoost`, ...) train across the two parties. NVIDIA FLARE has a
# vertical-FL example too, but FATE makes this setting a core part of its component library.

# %%
# NBVAL_CHECK_OUTPUT
my_answer = ("vertical", "FATE")
check_vertical(my_answer)
