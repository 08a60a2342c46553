# %% [markdown]
# # Solutions · 03 Non-IID hospitals
#
# Worked answers to the exercises of [03 · Non-IID hospitals](../03_non_iid_hospitals.ipynb). Try them
# yourself first: the checks in the notebook give hints without giving the answer away.
#
# The first cell rebuilds, with the notebook's settings, the two things the exercises use: the shards
# federation of the X-rays and the heart-disease hospitals' training splits. No model is trained here.

# %%
from fedlite.heterogeneity import partition
from fedlite.datasets import load_heart_disease, load_medmnist
from fedlite.exercises.nb03 import check_federated_mean, check_remedy, check_single_class_hospitals
from fedlite.heterogeneity.normalize import summary_stats
from fedlite.datasets.readers import HEART_FEATURES

SEED, K = 0, 5
full_train = load_medmnist("pneumoniamnist")["train"]
train = full_train.subset(partition.iid(len(full_train), 2, seed=SEED)[0])
y = train.y.numpy()
counts = {"shards": partition.label_counts(y, partition.shards(y, K, shards_per_client=2, seed=SEED),
                                           num_classes=2)}
heart = load_heart_disease()
raw_train = [heart[h]["train"] for h in heart]
AGE = HEART_FEATURES.index("age")

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

# %% [markdown]
# **Exercise 3.** The pooled mean is the sum of all values divided by the number of patients; both are
# sums over hospitals, so the pairs $(n_k, s_k)$ are all the server needs:
# $\bar x = \sum_k s_k / \sum_k n_k$. (Averaging the hospitals' own means instead would weight the 30
# Swiss patients like the 199 from Cleveland.)

# %%
# NBVAL_CHECK_OUTPUT
age_shares = [(summary_stats(d)[0], summary_stats(d)[1][AGE].item()) for d in raw_train]
my_mean_age = sum(s for _, s in age_shares) / sum(n for n, _ in age_shares)
check_federated_mean(my_mean_age, age_shares)
