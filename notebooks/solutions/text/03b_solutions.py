# %% [markdown]
# # Solutions · 03b Real hospitals
#
# Worked answers to the exercises of [03b · Real hospitals](../03b_real_hospitals.ipynb). Try them
# yourself first: the checks in the notebook give hints without giving the answer away.
#
# The first cell rebuilds, with the notebook's settings, what the exercises use: the heart-disease
# hospitals' training splits. No model is trained here.

# %%
from fedlite.datasets import load_heart_disease
from fedlite.exercises.nb03b import check_federated_mean, check_remedy
from fedlite.heterogeneity.normalize import summary_stats
from fedlite.datasets.readers import HEART_FEATURES

heart = load_heart_disease()
raw_train = [heart[h]["train"] for h in heart]
AGE = HEART_FEATURES.index("age")

# %% [markdown]
# **Exercise 1.** Same patients, different machines: the inputs differ (feature shift), not the labels.
# FedBN keeps each hospital's batch-normalization statistics local, so each hospital's model normalizes
# its own scanner's images its own way. FedProx, FedAvgM and FedAdam all address drift or the server step,
# not differing inputs.

# %%
# NBVAL_CHECK_OUTPUT
my_remedy = "fedbn"
check_remedy(my_remedy)

# %% [markdown]
# **Exercise 2.** The pooled mean is the sum of all values divided by the number of patients; both are
# sums over hospitals, so the pairs $(n_k, s_k)$ are all the server needs:
# $\bar x = \sum_k s_k / \sum_k n_k$. (Averaging the hospitals' own means instead would weight the 30
# Swiss patients like the 199 from Cleveland.)

# %%
# NBVAL_CHECK_OUTPUT
age_shares = [(summary_stats(d)[0], summary_stats(d)[1][AGE].item()) for d in raw_train]
my_mean_age = sum(s for _, s in age_shares) / sum(n for n, _ in age_shares)
check_federated_mean(my_mean_age, age_shares)
