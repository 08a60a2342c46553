# %% [markdown]
# # Solutions · 08 From simulation to hospitals
#
# Worked answers to the exercises of [08 · From simulation to hospitals](../08_from_simulation_to_hospitals.ipynb).
# Try them yourself first: the checks in the notebook give hints without giving the answer away.
#
# The exercises read the stored record of the three runs (`notebooks/results/08_flower_runs.json`), so
# the setup only loads it.

# %%
import json
from pathlib import Path

import fedlite
from fedlite.exercises.nb08 import check_bytes_up, check_drill_weights, check_overhead

REPO = Path(fedlite.__file__).resolve().parent.parent
runs = json.loads((REPO / "notebooks" / "results" / "08_flower_runs.json").read_text())
train = [m for m in runs["deployment"]["messages"] if m["type"] == "train"]
flower_up = [m["bytes_up"] for m in train]

# %% [markdown]
# **Exercise 1.** The course counts the plain float32 weights: the logistic regression on 14 inputs
# (the 13 UCI features and the `chol_missing` indicator) has a 2 x 14 weight matrix and 2 biases,
# 30 numbers of 4 bytes. Each of the four hospitals sends them once per round.

# %%
# NBVAL_CHECK_OUTPUT
weights = 14 * 2 + 2
my_bytes_up = weights * 4 * 4
check_bytes_up(my_bytes_up)

# %% [markdown]
# **Exercise 2.** Divide what Flower received in round 1 (the four serialized replies: arrays, their
# names, the metrics record with `num-examples` and the training loss, message metadata) by the course's
# count of the weights alone.

# %%
# NBVAL_CHECK_OUTPUT
my_ratio = flower_up[0] / runs["fedlite"]["bytes_up"][0]
check_overhead(my_ratio, runs)

# %% [markdown]
# **Exercise 3.** FedAvg weights the updates that *arrived*: $n_k / n$ with $n$ the sum over
# Cleveland, Hungarian and Switzerland only. VA's patients are not in $n$, so the three weights still
# add up to 1 (this is what `fedlite.fedavg` computes when a dropout's update never arrives).

# %%
# NBVAL_CHECK_OUTPUT
counts = {h: who["n-train"] for h, who in runs["deployment"]["loaded"].items()}
answered = ["cleveland", "hungarian", "switzerland"]
total = sum(counts[h] for h in answered)
my_weights = {h: counts[h] / total for h in answered}
check_drill_weights(my_weights, runs)
