# %% [markdown]
# # Solutions · 04b Patients' devices and drug discovery
#
# Worked answers to the exercises of
# [04b · Patients' devices and drug discovery](../04b_devices_and_drug_discovery.ipynb). Try them
# yourself first: the checks in the notebook give hints without giving the answer away.
#
# The first cell sets, as in the notebook, the cross-device settings. No model is trained here.

# %%
from fedlite.exercises.nb04b import SCENARIOS, check_expected_arrivals, check_fl_settings

NUM_DEVICES, PARTICIPATION = 100, 0.1

# %% [markdown]
# **Exercise 1.** The server asks $m = qK$ devices per round; each of them arrives with probability
# $1 - p$, so by linearity of expectation $qK(1 - p)$ updates arrive on average (some
# rounds more, some fewer).

# %%
# NBVAL_CHECK_OUTPUT
my_arrivals = PARTICIPATION * NUM_DEVICES * (1 - 0.3)
check_expected_arrivals(my_arrivals, NUM_DEVICES, PARTICIPATION, 0.3)

# %% [markdown]
# **Exercise 2.** Two questions for each scenario. *Who are the clients?* Many people's devices make it
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
