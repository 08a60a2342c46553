# %% [markdown]
# # Solutions · 00 Start here
#
# Worked answers to the exercises of [00 · Start here](../00_start_here.ipynb). Try them yourself first:
# the checks in the notebook give hints without giving the answer away.

# %%
from fedlite.datasets import load_medmnist
from fedlite.exercises.nb00 import check_fedavg_weight, check_test_baseline

xray = load_medmnist("pneumoniamnist")
train, test = xray["train"], xray["test"]

# %% [markdown]
# **Exercise 1.** The weight is the hospital's share of all samples, $n_3 / n$.

# %%
# NBVAL_CHECK_OUTPUT
unequal_sizes = [1200, 300, 2500, 150, 558]
my_weight = unequal_sizes[3] / sum(unequal_sizes)
check_fedavg_weight(my_weight, unequal_sizes, client=3)

# %% [markdown]
# **Exercise 2.** The mean of a 0/1 label vector is the share of ones; the constant answer "pneumonia"
# is right exactly on those. Use the test labels: the test set's share (printed by the check) is lower
# than the training share the notebook printed, and an accuracy is only meaningful against the set it
# was measured on.

# %%
# NBVAL_CHECK_OUTPUT
my_baseline = (test.y == 1).float().mean().item()
check_test_baseline(my_baseline, test, train)
