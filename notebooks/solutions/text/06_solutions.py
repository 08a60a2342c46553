# %% [markdown]
# # Solutions · 06 Systems and robustness
#
# Worked answers to the exercises of [06 · Systems and robustness](../06_systems_and_robustness.ipynb).
# Try them yourself first: the checks in the notebook give hints without giving the answer away.
#
# The first cell rebuilds what the exercises use: the SmallCNN's weights and the names of the four
# heart-disease hospitals. No model is trained here.

# %%
import numpy as np
import torch

import fedlite as fl
from fedlite.robustness.defences import median, trimmed_mean
from fedlite.datasets.catalog import HOSPITALS
from fedlite.exercises.nb06 import check_on_time, check_quantized_upload, check_robust_by_hand

HOSPITALS = list(HOSPITALS)
cnn_state = fl.make_model("cnn", seed=0).state_dict()

# %% [markdown]
# **Exercise 1.** Every tensor sends its levels, 4 bits a number, rounded up to whole bytes
# (`(numel * 4 + 7) // 8` in integer arithmetic), plus 8 bytes for its minimum and its step. Sum over
# the tensors. `fedlite.robustness.compression.quantized_bytes(cnn_state, bits=4)` computes the same.

# %%
# NBVAL_CHECK_OUTPUT
for name, t in cnn_state.items():
    print(f"{name:22s} {t.numel():7,d} numbers -> {(t.numel() * 4 + 7) // 8 + 8:6,d} bytes")
my_bytes = sum((t.numel() * 4 + 7) // 8 + 8 for t in cnn_state.values())
check_quantized_upload(my_bytes, cnn_state, bits=4)

# %% [markdown]
# **Exercise 2.** A hospital's round takes $n_k / \text{speed}_k$ seconds. The fastest machine does not
# decide it alone, nor the smallest hospital: Hungary has a mid-sized dataset on the slowest-but-one
# machine, and misses the deadline.

# %%
# NBVAL_CHECK_OUTPUT
sizes = [199, 172, 30, 85]
exercise_speeds = [60.0, 30.0, 10.0, 40.0]
seconds = {h: n / s for h, n, s in zip(HOSPITALS, sizes, exercise_speeds)}
print({h: round(t, 2) for h, t in seconds.items()})
my_on_time = [h for h, t in seconds.items() if t <= 4.0]
check_on_time(my_on_time, sizes, exercise_speeds, deadline=4.0, names=HOSPITALS)

# %% [markdown]
# **Exercise 3.** Sorted, the values are $-40, 0.8, 1.0, 1.1, 1.4$. The median is the middle one. The
# trimmed mean with $\beta = 0.2$ and $K = 5$ drops $\lfloor 0.2 \cdot 5 \rfloor = 1$ value from each end,
# the attacker's $-40$ *and* the honest $1.4$, and averages the three in the middle. The same numbers
# come out of `fedlite.aggregate` when each value is a one-number model.

# %%
# NBVAL_CHECK_OUTPUT
values = [0.8, 1.1, 1.0, 1.4, -40.0]
ordered = sorted(values)
my_pair = (ordered[2], float(np.mean(ordered[1:-1])))
states = [{"w": torch.tensor([v], dtype=torch.float64)} for v in values]
print("fedlite.aggregate:", median(states)["w"].item(), round(trimmed_mean(states, beta=0.2)["w"].item(), 6),
      "  plain mean:", round(float(np.mean(values)), 6))
check_robust_by_hand(my_pair, values, beta=0.2)
