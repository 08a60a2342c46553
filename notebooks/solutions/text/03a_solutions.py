# %% [markdown]
# # Solutions · 03a Non-IID hospitals
#
# Worked answers to the exercises of [03a · Non-IID hospitals](../03a_non_iid_hospitals.ipynb). Try them
# yourself first: the checks in the notebook give hints without giving the answer away.
#
# The first cell rebuilds, with the notebook's settings, what the exercises use: the shards federation
# of the X-rays and the Dirichlet α = 0.1 one. No model is trained here.

# %%
import numpy as np

from fedlite.datasets import load_medmnist
from fedlite.exercises.nb03a import check_label_skew, check_single_class_hospitals
from fedlite.heterogeneity import partition
from fedlite.measure import label_skew

SEED, K = 0, 5
full_train = load_medmnist("pneumoniamnist")["train"]
train = full_train.subset(partition.iid(len(full_train), 2, seed=SEED)[0])
y = train.y.numpy()
counts = {"shards": partition.label_counts(y, partition.shards(y, K, shards_per_client=2, seed=SEED),
                                           num_classes=2),
          "Dirichlet α=0.1": partition.label_counts(y, partition.dirichlet(y, K, alpha=0.1, seed=SEED),
                                                    num_classes=2)}

# %% [markdown]
# **Exercise 1.** A hospital holds a single diagnosis when exactly one cell of its row is non-zero.
# `(counts > 0).sum(axis=1)` counts the diagnoses per hospital; comparing it with 1 and summing counts
# the hospitals.

# %%
# NBVAL_CHECK_OUTPUT
print(counts["shards"])
my_count = int(((counts["shards"] > 0).sum(axis=1) == 1).sum())
check_single_class_hospitals(my_count, counts["shards"])

# %% [markdown]
# **Exercise 2.** Divide each row by its total to get the hospital's mix $p_k$, divide the column totals
# by $n$ to get the federation's mix $p$, take half the summed absolute differences per hospital, and
# weight those distances by $n_k/n$. The plain average of the distances would let a hospital with a
# handful of X-rays count as much as one with hundreds.

# %%
# NBVAL_CHECK_OUTPUT
c = counts["Dirichlet α=0.1"]
n_k = c.sum(axis=1, keepdims=True)
p_k, p = c / n_k, c.sum(axis=0) / c.sum()
distances = 0.5 * np.abs(p_k - p).sum(axis=1)
my_skew = float((n_k[:, 0] / c.sum()) @ distances)
check_label_skew(my_skew, c)
print(f"label_skew(c) = {label_skew(c):.3f}")
