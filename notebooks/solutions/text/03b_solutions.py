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
from fedlite.exercises.nb03b import check_federated_mean, check_federated_std
from fedlite.heterogeneity.normalize import federated_mean_std, summary_stats
from fedlite.datasets.readers import HEART_FEATURES

heart = load_heart_disease()
raw_train = [heart[h]["train"] for h in heart]
AGE = HEART_FEATURES.index("age")

# %% [markdown]
# **Exercise 1.** The pooled mean is the sum of all values divided by the number of patients; both are
# sums over hospitals, so the pairs $(n_k, s_k)$ are all the server needs:
# $\bar x = \sum_k s_k / \sum_k n_k$. (Averaging the hospitals' own means instead would weight the 30
# Swiss patients like the 199 from Cleveland.)

# %%
# NBVAL_CHECK_OUTPUT
age_shares = [(summary_stats(d)[0], summary_stats(d)[1][AGE].item()) for d in raw_train]
my_mean_age = sum(s for _, s in age_shares) / sum(n for n, _ in age_shares)
check_federated_mean(my_mean_age, age_shares)

# %% [markdown]
# **Exercise 2.** Pool the three sums first, then apply the formula once:
# $N = \sum_k n_k$, $\bar x = \sum_k s_k / N$, $\text{std} = \sqrt{\sum_k q_k / N - \bar x^2}$.
# (Averaging the hospitals' own standard deviations would miss how far their means lie apart.) The
# result equals `federated_mean_std`'s, which the last line prints.

# %%
# NBVAL_CHECK_OUTPUT
age_sums = [(n, s[AGE].item(), q[AGE].item()) for n, s, q in map(summary_stats, raw_train)]
N = sum(n for n, _, _ in age_sums)
mean_age = sum(s for _, s, _ in age_sums) / N
my_std_age = (sum(q for _, _, q in age_sums) / N - mean_age ** 2) ** 0.5
check_federated_std(my_std_age, age_sums)
print(f"federated_mean_std: {federated_mean_std(raw_train)[1][AGE]:.2f}")
