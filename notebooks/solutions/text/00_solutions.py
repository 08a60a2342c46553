# %% [markdown]
# # Solutions · 00 Start here
#
# Worked answers to the exercises of [00 · Start here](../00_start_here.ipynb). Try them yourself first:
# the checks in the notebook give hints without giving the answer away.

# %%
from fedlite.datasets import load_medmnist
from fedlite.exercises.nb00 import check_fedavg_weight, check_positive_share

train = load_medmnist("pneumoniamnist")["train"]

# %% [markdown]
# **Exercise 1.** The weight is the hospital's share of all samples, $n_3 / n$.

# %%
# NBVAL_CHECK_OUTPUT
unequal_sizes = [1200, 300, 2500, 150, 558]
my_weight = unequal_sizes[3] / sum(unequal_sizes)
check_fedavg_weight(my_weight, unequal_sizes, client=3)

# %% [markdown]
# **Exercise 2.** The mean of a 0/1 label vector is the share of ones.

# %%
# NBVAL_CHECK_OUTPUT
my_share = (train.y == 1).float().mean().item()
check_positive_share(my_share, train)
