# %% [markdown]
# # Solutions · 04 Medical use cases
#
# Worked answers to the exercises of [04 · Medical use cases](../04_medical_use_cases.ipynb). Try them
# yourself first: the checks in the notebook give hints without giving the answer away.
#
# The first cell rebuilds, with the notebook's settings, what the exercises use: the heart-disease
# hospitals' training-set sizes and the cross-device settings. No model is trained here.

# %%
from fedlite.datasets import load_heart_disease
from fedlite.exercises.nb04 import SCENARIOS, check_expected_arrivals, check_fedavg_weight, check_fl_settings

heart = load_heart_disease()
train_sizes = {h: len(heart[h]["train"]) for h in heart}
NUM_DEVICES, FRACTION = 100, 0.1

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
# **Exercise 2.** The server asks $C \cdot K$ devices per round; each of them arrives with probability
# $1 - p$, so by linearity of expectation $C \cdot K \cdot (1 - p)$ updates arrive on average (some
# rounds more, some fewer).

# %%
# NBVAL_CHECK_OUTPUT
my_arrivals = FRACTION * NUM_DEVICES * (1 - 0.3)
check_expected_arrivals(my_arrivals, NUM_DEVICES, FRACTION, 0.3)

# %% [markdown]
# **Exercise 3.** Two questions for each scenario. *Who are the clients?* Many people's devices make it
# cross-device; a few organisations make it cross-silo. *What do they share?* Different people (or
# molecules) with the same features is horizontal; the same people with different features is vertical.
#
# - smartwatches: tens of thousands of personal devices, each with its owner's recordings of the same
#   kind: cross-device, horizontal;
# - hospital and insurer: two organisations, the same patients, different information: cross-silo,
#   vertical;
# - five drug companies: a few organisations, different molecules, the same fingerprint features:
#   cross-silo, horizontal (MELLODDY's setting).

# %%
# NBVAL_CHECK_OUTPUT
for name, text in SCENARIOS.items():
    print(f"{name}: {text}")
my_settings = {"smartwatches": ("cross-device", "horizontal"),
               "hospital_and_insurer": ("cross-silo", "vertical"),
               "pharma_toxicity": ("cross-silo", "horizontal")}
check_fl_settings(my_settings)
