# %% [markdown]
# # Solutions · 01 Centralized vs federated
#
# Worked answers to the exercises of [01 · Centralized vs federated](../01_centralized_vs_federated.ipynb).
# Exercise 3 needs the local-only and federated runs, so this notebook repeats them with the notebook's
# settings (same seeds, same numbers).

# %%
import torch

import fedlite as fl
from fedlite.datasets import load_medmnist
from fedlite.exercises.nb01 import check_biggest_gain, check_my_fedavg, check_upload_bytes
from fedlite.heterogeneity.hospitals import make_hospitals

xray = load_medmnist("pneumoniamnist")
train, test = xray["train"], xray["test"]
hospitals = make_hospitals(train, 5, skew="quantity", alpha=1.0, seed=3)
config = fl.LocalConfig(epochs=1, batch_size=32, lr=0.02, momentum=0.9)
ROUNDS = 10


def new_model() -> torch.nn.Module:
    return fl.make_model("cnn", seed=0)

# %% [markdown]
# **Exercise 1.** Count the parameters and multiply by 4 bytes per float32.

# %%
# NBVAL_CHECK_OUTPUT
my_bytes = 4 * sum(p.numel() for p in new_model().parameters())
check_upload_bytes(my_bytes, new_model())

# %% [markdown]
# **Exercise 2.** For every parameter name, add up each hospital's tensor times its share $n_k / n$.

# %%
# NBVAL_CHECK_OUTPUT
def my_fedavg(states, counts):
    n = sum(counts)
    result = {name: sum(c / n * s[name] for s, c in zip(states, counts)) for name in states[0]}
    return result


check_my_fedavg(my_fedavg)

# %% [markdown]
# **Exercise 3.** The gain of hospital $k$ is the federated model's AUC minus hospital $k$'s own model's
# AUC; the answer is the index of the largest gain.

# %%
local_only, _ = fl.run_local_only(new_model(), hospitals, test, epochs=ROUNDS, local=config, progress=False)
federated = fl.run_federated(new_model(), hospitals, test, rounds=ROUNDS, local=config, seed=0, progress=False)
gains = federated.final("auc") - local_only.client_metric("auc")[-1]
print("AUC gain per hospital:", gains.round(3))

# %%
# NBVAL_CHECK_OUTPUT
my_hospital = int(gains.argmax())
check_biggest_gain(my_hospital, local_only, federated)
