# %% [markdown]
# # Solutions · 05 Privacy attacks and defences
#
# Worked answers to the exercises of [05 · Privacy, honestly](../05_privacy_attacks_and_defenses.ipynb).
# Try them yourself first: the checks in the notebook give hints without giving the answer away.

# %%
import numpy as np

from fedlite.privacy import dp
from fedlite.exercises.nb05 import check_dangling_masks, check_noise_std, check_psnr, check_smallest_sigma

# %% [markdown]
# **Exercise 1.** For pixels in $[0, 1]$ the peak value is 1, so $\mathrm{PSNR} = 10 \log_{10}(1 /
# \mathrm{MSE})$. The MSE is already a squared quantity (a power), hence the factor 10 and not 20.

# %%
# NBVAL_CHECK_OUTPUT
my_psnr = 10 * np.log10(1 / 0.0025)
check_psnr(my_psnr, mse=0.0025)

# %% [markdown]
# **Exercise 2.** A mask shared by two survivors (here A and C) is added by one and subtracted by the
# other, so it cancels. A mask shared by two dropped hospitals (B and D) never reaches the server. What
# dangles are the masks between a survivor and a dropped hospital: each survivor added or subtracted
# its copy, but the partner's opposite copy never arrived.

# %%
# NBVAL_CHECK_OUTPUT
hospitals, dropped = ["A", "B", "C", "D"], ["B", "D"]
my_pairs = {(s, d) for s in hospitals if s not in dropped for d in dropped}
check_dangling_masks(my_pairs, hospitals=hospitals, dropped=dropped)

# %% [markdown]
# **Exercise 3.** The server adds noise of std $\sigma S$ to the *sum* of the $m$ clipped updates and
# divides the sum by $m$. Dividing a Gaussian by $m$ divides its standard deviation by $m$.

# %%
# NBVAL_CHECK_OUTPUT
clip, sigma, m = 0.1, 2.0, 4
my_std = sigma * clip / m
check_noise_std(my_std, clip=clip, noise_multiplier=sigma, clients=m)

# %% [markdown]
# **Exercise 4.** Compute $\varepsilon$ for every candidate, keep those within the budget, and take the
# smallest noise multiplier among them.

# %%
# NBVAL_CHECK_OUTPUT
candidates = [0.5, 1.0, 2.0, 4.0, 8.0]
within_budget = [s for s in candidates if dp.dp_epsilon(s, 1.0, 20, 1e-3) <= 5.0]
my_sigma = min(within_budget)
check_smallest_sigma(my_sigma, candidates, target_epsilon=5.0, rounds=20, sample_rate=1.0, delta=1e-3)
