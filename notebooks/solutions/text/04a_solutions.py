# %% [markdown]
# # Solutions · 04a Medical use cases across hospitals
#
# Worked answers to the exercises of
# [04a · Medical use cases across hospitals](../04a_cross_silo_use_cases.ipynb). Try them yourself
# first: the checks in the notebook give hints without giving the answer away.
#
# The first cell rebuilds, with the notebook's settings, what the exercises use: the heart-disease
# hospitals' training-set sizes and the ultrasound test labels. No model is trained here.

# %%
from fedlite.datasets import load_heart_disease, load_medmnist
from fedlite.exercises.nb04a import check_constant_accuracy, check_fedavg_weight

heart = load_heart_disease()
train_sizes = {h: len(heart[h]["train"]) for h in heart}
us_test = load_medmnist("breastmnist")["test"]

# %% [markdown]
# **Exercise 1.** FedAvg's weight for a hospital is its number of training patients over everyone's:
# $n_k / n$ with $n = \sum_k n_k$. Switzerland trains on few patients, so its update counts for little
# in every average, although its patients differ most from the rest.

# %%
# NBVAL_CHECK_OUTPUT
print(train_sizes)
my_swiss_weight = train_sizes["switzerland"] / sum(train_sizes.values())
check_fedavg_weight(my_swiss_weight, train_sizes, "switzerland")

# %% [markdown]
# **Exercise 2.** A constant answer "normal or benign" is right exactly for the test images whose label
# is 1, so its accuracy is the share of label 1 in the test set. Any model whose accuracy is not above
# that number has learned nothing that accuracy can show.

# %%
# NBVAL_CHECK_OUTPUT
my_constant_accuracy = (us_test.y == 1).float().mean().item()
check_constant_accuracy(my_constant_accuracy, us_test.y, answer_label=1)
