# %% [markdown]
# # Solutions · 02 FedAvg math
#
# Worked answers to the exercises of [02 · FedAvg math](../02_fedavg_math.ipynb). Try them yourself
# first: the checks in the notebook give hints without giving the answer away.

# %%
from fedlite.measure import local_steps
from fedlite.exercises.nb02 import check_fedavg_value, check_most_local_steps, check_unweighted_bias

# %% [markdown]
# **Exercise 1.** FedAvg gives each hospital the weight $n_k / n$ and adds up the weighted values:
# $\sum_k \frac{n_k}{n} w_k$. (The plain mean would count the 80-patient hospital as much as the
# 500-patient one; the sum would be the tutorial bug of section 4.)

# %%
# NBVAL_CHECK_OUTPUT
ex_sizes, ex_values = [500, 120, 80, 300], [0.8, -0.2, 1.5, 0.1]
n = sum(ex_sizes)
my_value = sum(n_k / n * w_k for n_k, w_k in zip(ex_sizes, ex_values))
check_fedavg_value(my_value, ex_sizes, ex_values)

# %% [markdown]
# **Exercise 2.** Compute both averages and subtract. The big hospital, with 70% pneumonia, holds 91%
# of the X-rays, but the unweighted mean gives it only a third of the say, so the estimate comes out
# far too low.

# %%
# NBVAL_CHECK_OUTPUT
bias_sizes, bias_prevalences = [2000, 150, 50], [0.70, 0.30, 0.10]
weighted = sum(n_k * p_k for n_k, p_k in zip(bias_sizes, bias_prevalences)) / sum(bias_sizes)
unweighted = sum(bias_prevalences) / len(bias_prevalences)
my_bias = unweighted - weighted
check_unweighted_bias(my_bias, bias_sizes, bias_prevalences)

# %% [markdown]
# **Exercise 3.** Count the steps, $\tau = E \cdot \lceil n_k / B \rceil$, for each setting
# (`fedlite.measure.local_steps` does exactly this), and take the largest. Neither the most epochs nor
# the smallest batch wins on its own: it is their product with $n_k$ that counts.

# %%
# NBVAL_CHECK_OUTPUT
step_settings = [(20, None), (1, 20), (5, 50), (2, 32)]
steps = {setting: local_steps(600, *setting) for setting in step_settings}
print(steps)
my_steps = max(steps.values())
check_most_local_steps(my_steps, 600, step_settings)
