# %% [markdown]
# # The federated-learning playground
#
# **Goal:** see at once what every knob of the course does. Choose the data and the hospitals, the
# local training, the algorithm, who shows up, differential privacy, a malicious hospital and the
# server's defence, and compression; the curves, the per-hospital bars, the bytes, ε and a one-line
# verdict update together.
#
# **Time:** 10–30 minutes of playing; each change re-runs in a few seconds. **Prerequisites:** notebook
# 01 (FedAvg, centralized and local-only); the other notebooks explain each knob in depth.
#
# **How to read it.** Every run is compared with *plain FedAvg* on the same hospitals and seeds, and
# with two references: everything pooled (centralized, the unattainable ideal) and every hospital
# alone (local only). With one seed the verdict refuses to rank anything; set **seeds** to 5 for a
# 95% interval of the difference. A change made while a run is going cancels it and runs the newest
# settings.

# %% [markdown]
# ## If you see no controls
#
# GitHub's viewer and static HTML exports cannot run widgets. Open this notebook in JupyterLab
# (`make lab`, or the Binder badge in the README) for the live version. Meanwhile, here are the
# presets as stored pictures (regenerate them with `python tools/playground_gallery.py`):
#
# | | |
# |---|---|
# | ![01](playground_presets/01.png) | ![02](playground_presets/02.png) |
# | ![03 X-ray](playground_presets/03a.png) | ![03 heart](playground_presets/03b.png) |
# | ![04a who gains](playground_presets/04a.png) | ![04b devices](playground_presets/04b.png) |
# | ![05](playground_presets/05.png) | ![06 attack](playground_presets/06a.png) |
# | ![06 bytes](playground_presets/06b.png) | ![07 reference](playground_presets/07.png) |

# %%
from fedlite import playground
from fedlite.dashboard import Playground

app = Playground()
app.update()  # the first picture: FedAvg on the four heart-disease hospitals
app.widget

# %% [markdown]
# **Presets.** The drop-down at the top reproduces each notebook's key experiment, scaled down to run
# in seconds. The same settings without the widgets, as the "copy as code" box writes them:

# %%
settings = playground.PRESETS["06 · one hospital sign-flips, the median defends"]
print(playground.as_code(settings))
outcome = playground.play(settings)
print(playground.verdict(outcome))
print(playground.summary(outcome))

# %% [markdown]
# ## Things to try
#
# 1. Heart data, attack **sign flip** with the **mean**: then switch the aggregator to **median** and
#    **validation**. Which hospital pays for the median's robustness (the bars)?
# 2. X-rays, **label skew** with α = 0.1, 5 seeds: is FedProx above, below or within noise of FedAvg?
# 3. DP σ = 1: read ε, then halve the participation q. Why does ε fall?
# 4. **4-bit** compression: how many bytes are saved, and does the verdict see a cost?
#
# ## Recap
#
# - One picture, four curves: a federated run is only good or bad *relative* to plain FedAvg, the
#   pooled ideal and every hospital alone.
# - A difference is a finding only when its interval over seeds excludes zero; one seed ranks nothing.
# - `fedlite.playground.Settings` + `run_once` reproduce any picture in a notebook of your own.
#
# 中文小结：联邦学习游乐场把课程里的所有旋钮放在一页上，改动后曲线、各医院柱状图、通信量、ε 和结论一起更新。
# 只有当多个随机种子的区间不包含零时，差异才算结论；单个种子不能排名。
