# %% [markdown]
# # Solutions · 03a Non-IID hospitals
#
# Worked answers to the exercises of [03a · Non-IID hospitals](../03a_non_iid_hospitals.ipynb). Try them
# yourself first: the checks in the notebook give hints without giving the answer away.
#
# The first cell rebuilds, with the notebook's settings, what the exercises use: the shards federation
# of the X-rays. No model is trained here.

# %%
from fedlite.heterogeneity import partition
from fedlite.datasets import load_medmnist
from fedlite.exercises.nb03a import check_remedy, check_single_class_hospitals

SEED, K = 0, 5
full_train = load_medmnist("pneumoniamnist")["train"]
train = full_train.subset(partition.iid(len(full_train), 2, seed=SEED)[0])
y = train.y.numpy()
counts = {"shards": partition.label_counts(y, partition.shards(y, K, shards_per_client=2, seed=SEED),
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
# **Exercise 2.** Same patients, different machines: the inputs differ (feature shift), not the labels.
# FedBN keeps each hospital's batch-normalization statistics local, so each hospital's model normalizes
# its own scanner's images its own way. FedProx, FedAvgM and FedAdam all address drift or the server step,
# not differing inputs.

# %%
# NBVAL_CHECK_OUTPUT
my_remedy = "fedbn"
check_remedy(my_remedy)
