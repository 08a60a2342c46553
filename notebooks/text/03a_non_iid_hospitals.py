# %% [markdown]
# # 03a · Non-IID hospitals: label skew, drift and remedies
#
# > **中文摘要：**构造标签分布偏斜（label skew）、数量偏斜（quantity skew）与病态分片划分（pathological shards）的非独立同分布（Non-IID）医院，用狄利克雷分布（Dirichlet distribution）控制偏斜程度。
# > 测量它们对 FedAvg 的影响与客户端漂移（client drift），并如实检验 FedProx 与服务器动量（server momentum）等缓解方法的效果。
#
#
# Notebooks 01 and 02 dealt the X-rays out at random, so every hospital was a small copy of the whole
# dataset. Real hospitals are not: a children's hospital sees more pneumonia than a sports clinic, a
# university hospital has fifty times the patients of a rural one. Such data are **non-IID**: the
# hospitals' samples are not *independent and identically distributed* draws from one distribution. It
# is the normal case in medicine, and where federated learning gets hard.
#
# **In this notebook you will**
# - build the standard kinds of non-IID hospitals (label skew with a Dirichlet α, quantity skew,
#   pathological shards) and see each as a heat-map;
# - measure on five seeds what each does to FedAvg, and see *client drift*: hospitals pulling apart;
# - weigh the remedies (FedProx, server momentum) honestly, with intervals.
#
# **Time:** about 40 minutes (the notebook itself runs in under a minute).
# **Prerequisites:** [01 · Centralized vs federated](01_centralized_vs_federated.ipynb) and
# [02 · FedAvg math](02_fedavg_math.ipynb): the round loop `run_federated`, the weights $n_k/n$ and local
# steps $\tau_k$.
# **Symbols and terms:** the [notation card](../docs/notation.md) and the bilingual
# [glossary · 术语表](../docs/glossary.md).

# %%
# On Google Colab, install the course's helper package first (anywhere else this cell does nothing).
import subprocess
import sys

if "google.colab" in sys.modules:
    subprocess.run([sys.executable, "-m", "pip", "install", "--quiet",
                    "fedlite @ git+https://github.com/fedlite-course/fedlite"], check=True)

# %% [markdown]
# ## Five ways hospitals differ
#
# | kind | what differs between hospitals | a clinical example | in `fedlite` |
# |---|---|---|---|
# | label skew | the mix of diagnoses | a children's hospital sees more pneumonia | `partition.dirichlet` |
# | quantity skew | how many patients | a teaching hospital next to small clinics | `partition.quantity_skew` |
# | pathological shards | each hospital sees one or two classes only | the textbook worst case | `partition.shards` |
# | feature shift | how the inputs look | different X-ray machines | `hospitals.scanner_shift` |
# | natural split | all of the above at once | real hospitals, real records | `load_heart_disease()` |
#
# The first four are *simulated*: we cut one dataset on purpose, to turn each difference up or down on
# its own. This notebook takes the first three; the last two are in [03b](03b_real_hospitals.ipynb).
#
# For speed we train on a random half of PneumoniaMNIST's training images with batches of 16 (`HALF =
# False` uses them all, at twice the time per round). The test set is 62.5% pneumonia, so a constant
# "pneumonia" answer scores **accuracy 0.625**: read the **AUC** (0.5 = coin toss) first.

# %%
import matplotlib.pyplot as plt
import numpy as np

from fedlite import LocalConfig, evidence, make_model, plots, run_federated
from fedlite.heterogeneity import partition
from fedlite.datasets import load_medmnist

SEED, K, HALF = 0, 5, True
xray = load_medmnist("pneumoniamnist")
full_train, test = xray["train"], xray["test"]
train = full_train.subset(partition.iid(len(full_train), 2, seed=SEED)[0]) if HALF else full_train
LOCAL = LocalConfig(lr=0.02, momentum=0.9, batch_size=16)
print(f"training images: {len(train)} (pneumonia share {train.y.float().mean():.3f}); "
      f"test images: {len(test)} (pneumonia share {test.y.float().mean():.3f})")

# %% [markdown]
# ## Label skew: the Dirichlet recipe
#
# The standard recipe (Yurochkin et al. 2019; Li et al. 2022, NIID-Bench) deals each class out with
# random proportions $p = (p_1, \dots, p_K)$ drawn from a **Dirichlet distribution**
# $\mathrm{Dir}(\alpha, \dots, \alpha)$: a large $\alpha$ (say 100) gives nearly equal shares, almost
# IID; a small $\alpha$ (say 0.1) puts nearly all of a class into one or two hospitals.
#
# Two more federations. **Pathological shards** (McMahan et al. 2017): sort by label, cut into $2K$
# shards, give each hospital two. **Quantity skew**: labels mixed fairly, only the *number* of patients
# differs (drawn with a Dirichlet α too).
#
# `fedlite.measure.label_skew` measures how far each hospital's diagnosis mix is from the federation's
# (total-variation distance, averaged with weights $n_k/n$): 0 means identical mixes; with two classes and
# pneumonia share $p$ the maximum is $2p(1-p)$, printed first.

# %%
# NBVAL_CHECK_OUTPUT
from fedlite.measure import label_skew

y = train.y.numpy()
splits = {"IID": partition.iid(len(y), K, seed=SEED),
          "Dirichlet α=100": partition.dirichlet(y, K, alpha=100, seed=SEED),
          "Dirichlet α=0.5": partition.dirichlet(y, K, alpha=0.5, seed=SEED),
          "Dirichlet α=0.1": partition.dirichlet(y, K, alpha=0.1, seed=SEED),
          "shards": partition.shards(y, K, shards_per_client=2, seed=SEED),
          "quantity α=0.5": partition.quantity_skew(len(y), K, alpha=0.5, seed=SEED)}
counts = {name: partition.label_counts(y, parts, num_classes=2) for name, parts in splits.items()}
print(f"largest possible label skew here: 2p(1-p) = {2 * y.mean() * (1 - y.mean()):.3f}")
for name, c in counts.items():
    print(f"{name:16s} hospital sizes {c.sum(axis=1).tolist()!s:32s} label skew {label_skew(c):.3f}")

# %% [markdown]
# As pictures: one row per hospital, one column per diagnosis, the number of X-rays in each cell.

# %%
CLASSES = ["normal", "pneumonia"]


def heatmap(c, ax=None, title=""):
    """`plots.partition_heatmap`, with rows named H0, H1, ... as in the rest of the notebook."""
    ax = plots.partition_heatmap(c, class_names=CLASSES, ax=ax, title=title)
    ax.set_yticks(range(len(c)), [f"H{k}" for k in range(len(c))])
    ax.set_ylabel("hospital")
    return ax


fig, axes = plt.subplots(1, 5, figsize=(16, 3.2), layout="constrained")
for ax, name in zip(axes, ["Dirichlet α=100", "Dirichlet α=0.5", "Dirichlet α=0.1", "shards", "quantity α=0.5"]):
    heatmap(counts[name], ax, f"{name}\n(skew {label_skew(counts[name]):.2f})")
plt.show()

# %% [markdown]
# As α falls the rows stop looking alike, and the sizes grow unequal too: the Dirichlet recipe skews the
# amounts as a side effect. With two diagnoses, a hospital's two shards can hold the same class. Quantity
# skew has almost no label skew, yet one hospital holds a handful of X-rays.
#
# ### Try it: slide α
#
# `explore(alpha, seed)` draws a Dirichlet partition and its heat-map. Which α makes the rows look alike?
# Does another seed change the story or only the details?

# %%
from ipywidgets import FloatLogSlider, IntSlider, interact


def explore(alpha=0.3, seed=0):
    """Heat-map of a Dirichlet(alpha) label partition of the training X-rays into K hospitals."""
    c = partition.label_counts(y, partition.dirichlet(y, K, alpha=alpha, seed=seed), num_classes=2)
    single = int(((c > 0).sum(axis=1) == 1).sum())
    fig, ax = plt.subplots(figsize=(4.5, 3.2), layout="constrained")
    heatmap(c, ax, f"α = {alpha:.2g}: skew {label_skew(c):.2f}\n{single} single-diagnosis hospital(s)")
    plt.show()


explore()
interact(explore, alpha=FloatLogSlider(value=0.3, base=10, min=-2, max=2, step=0.1, continuous_update=False),
         seed=IntSlider(value=0, min=0, max=9, continuous_update=False));

# %% [markdown]
# **Exercise 1.** In the `"shards"` federation, how many of the five hospitals hold X-rays of only one
# diagnosis? Compute it from `counts["shards"]` (hospitals × diagnoses) with code that works for any
# such table.

# %%
from fedlite.exercises.nb03a import check_label_skew, check_single_class_hospitals

my_count = ...  # hint: (counts["shards"] > 0) is a table of True/False
check_single_class_hospitals(my_count, counts["shards"])

# %% [markdown]
# **Exercise 2.** Compute the label skew of `"Dirichlet α=0.1"` without `label_skew`: with $p_k$
# hospital $k$'s mix (its row of `counts` divided by $n_k$) and $p$ the federation's mix, the skew is
# $\sum_k \frac{n_k}{n} \cdot \frac{1}{2} \sum_c |p_{kc} - p_c|$.

# %%
c = counts["Dirichlet α=0.1"]  # hospitals x diagnoses
my_skew = ...  # a number between 0 and 1; numpy: c.sum(axis=1, keepdims=True), np.abs, ...
check_label_skew(my_skew, c)

# %% [markdown]
# ## What skew does to FedAvg
#
# The same model and FedAvg settings on four federations of the same images: IID, Dirichlet α = 0.1,
# shards and quantity skew, 5 rounds of one local epoch from the same `SmallCNN`. The cell first trains
# seed 0 live (a **demonstration**: 20 rounds, the slowest cell so far), then loads the same runs on
# seeds 0–4 from `fedlite/results/` (`python benchmarks/seeds.py nb03a nb03a_skew` recomputes them in a
# few minutes; CI checks them) and plots their mean AUC with a 95 % band. The seeds change only the initial
# weights and the batch order: every seed uses the **same** partitions (drawn with seed 0), so all
# five-seed intervals in this notebook hold for **this one partition** each, not for another draw.

# %%
from dataclasses import replace

from fedlite.data import subsets

ROUNDS = 5
seed0 = {}
for name in ["IID", "Dirichlet α=0.1", "shards", "quantity α=0.5"]:
    model = make_model("cnn", seed=0)
    h = seed0[name] = run_federated(model, subsets(train, splits[name]), test, rounds=ROUNDS, local=LOCAL, seed=SEED,
                      name=name, progress=False)
    print(f"seed 0, {name:16s} final accuracy {h.final():.3f}   AUC per round "
          + " ".join(f"{a:.2f}" for a in h.metric("auc")))
    if name == "IID":
        iid_model = model  # the trained global model; we come back to it below

skew, _ = evidence.load(evidence.stored("nb03a_skew"))
remedy_seeds, _ = evidence.load(evidence.stored("nb03a"))
federations = [skew["iid"], replace(remedy_seeds["fedavg"], name="Dirichlet alpha=0.1"), skew["shards"],
               skew["quantity"]]
for key in ("auc", "accuracy"):
    print("\n" + evidence.comparison_table(federations, key, reference=skew["iid"]))


def swing(run):
    """Per seed: how much the AUC swings over the last 3 rounds (best - worst)."""
    return np.ptp(run.per_seed("auc")[:, -3:], axis=1)


for r in federations[1:]:  # paired with IID on each seed
    print(f"{r.name:20s} AUC swing (best - worst, last 3 rounds) minus IID's: "
          f"{evidence.paired_values(swing(r), swing(skew['iid']))}")
n_k = counts["quantity α=0.5"].sum(axis=1)
tau = np.ceil(n_k / LOCAL.batch_size)
print(f"\nquantity α=0.5: n_k/n {np.round(n_k / n_k.sum(), 2)}, steps τ_k {tau.astype(int)}, "
      f"n_k·τ_k share {np.round(n_k * tau / (n_k * tau).sum(), 2)}")

fig, ax = plt.subplots(figsize=(7, 3.6), layout="constrained")
plots.mean_band(federations, "auc", ax=ax, baseline=0.5, baseline_label="coin toss")
ax.set_title("FedAvg on the same X-rays, dealt out four ways (5 seeds)")
ax.set(xlabel="round", xticks=range(1, ROUNDS + 1))
ax.legend(fontsize="small", loc="center left", bbox_to_anchor=(1.0, 0.5))
plt.show()

# %% [markdown]
# Read the five-seed tables, not the single run:
#
# - **Label skew (α = 0.1) hurts**: final AUC −0.547 [−0.732, −0.362] below IID's. Whether it also swings
#   more over the last rounds cannot be told from noise (that interval contains 0).
# - **Shards**: no AUC difference from IID can be told from noise (−0.168 [−0.430, +0.095]); yet its
#   accuracy is 0.625 on every seed, the constant "pneumonia" answer. A model can rank patients and still
#   have its threshold in the wrong place.
# - **Quantity skew**: no AUC difference from IID can be told from noise (+0.013 [−0.003, +0.029]); its
#   accuracy is even higher (+0.134 [+0.011, +0.257]).
# - After five rounds even IID's accuracy is unreliable (0.725 [0.604, 0.847]): judge by AUC.
#
# ### Quantity skew and the weights $n_k/n$
#
# It is tempting to credit the weights $n_k/n$ for that, but they are *forced* only for FedSGD
# (notebook 02). With one epoch of batches of 16, hospital $k$ takes $\tau_k = \lceil n_k/16 \rceil$ local
# steps: the last printed line shows the largest hospital with about half the data but 71 steps, and the
# products $n_k\tau_k$ give it about 70 % of the say. Wang et al. (2020, FedNova) show that FedAvg then
# converges to the optimum of an *inconsistent* objective, with hospital $k$ counted roughly in proportion
# to $n_k\tau_k$. When every hospital holds the same mix of diagnoses, their optima nearly coincide, which
# fits what the seeds show here; with label skew, the tilt pulls the model towards the large hospitals'
# diagnoses. The weighting is a choice with consequences: $n_k/n$ gives each patient the same say, uniform
# $1/K$ each hospital, minimax or q-FFL (Mohri et al. 2019; Li et al. 2020) the hospital served worst;
# FedNova divides each update by its $\tau_k$.
#
# ## Client drift: hospitals pulling the model apart
#
# Each hospital minimizes the loss on *its own* patients, so during a round's local steps each model walks
# towards its own optimum: **client drift** (Karimireddy et al. 2020, SCAFFOLD). `client_drift` gives the
# trained IID global model to every hospital, lets each train one local epoch, and does *not* average. It
# measures each update $\Delta_k = w_k - w$, its cosine with the average $\Delta = \sum_k
# \frac{n_k}{n}\Delta_k$, and an **agreement** $\lVert\Delta\rVert / \sum_k \frac{n_k}{n}\lVert\Delta_k\rVert$:
# 1 when all hospitals push the same way, near 0 when their pushes cancel. Seed 0 live, then the
# agreement on five seeds from the stored results.

# %%
from fedlite.measure import client_drift
from fedlite.metrics import predict

drift, says_pneumonia, probe = {}, {}, make_model("cnn", seed=0)
for name in ["IID", "Dirichlet α=0.1"]:
    drift[name] = client_drift(iid_model, subsets(train, splits[name]), LOCAL, seed=SEED)
    says_pneumonia[name] = []
    for state in drift[name].states:  # each hospital's locally trained model, before averaging
        probe.load_state_dict(state)
        says_pneumonia[name].append((predict(probe, test.x).argmax(1) == 1).float().mean().item())
    print(f"seed 0, {name:16s} agreement {drift[name].agreement:.2f}   cosines "
          + " ".join(f"{c:+.2f}" for c in drift[name].cosines))
print(evidence.comparison_table([skew["drift_iid"], skew["drift_dirichlet"]], "agreement",
                                reference=skew["drift_iid"]))

fig, (left, right) = plt.subplots(1, 2, figsize=(11, 3.4), layout="constrained")
names = [f"H{k}" for k in range(K)]
plots.client_bars({n: d.cosines for n, d in drift.items()}, client_names=names, ax=left,
                  ylabel="cosine(Δ_k, average Δ)")
left.axhline(0, color="black", linewidth=0.8)
left.set_title("Do the hospitals push the same way? (seed 0)")
plots.client_bars(says_pneumonia, client_names=names, ax=right, ylabel="share of test X-rays")
right.axhline(test.y.float().mean().item(), color="black", linestyle=":", linewidth=1,
              label="true pneumonia share")
right.legend(fontsize="small")
right.set_title("How often each local model says 'pneumonia'")
for ax in (left, right):
    ax.set_xlabel("hospital")
plt.show()

# %% [markdown]
# In the seed-0 run, every IID cosine is clearly positive, while under α = 0.1 the hospitals holding
# (almost) only normal X-rays push the *opposite* way (negative cosines), and the large single-diagnosis
# hospitals' local models give one answer for nearly every X-ray (right panel). On five seeds, label skew
# lowers the agreement by −0.455 [−0.596, −0.313]: the updates partly cancel in the average. Together with the lower AUC this
# fits client drift as the mechanism, as in the literature; our runs show the two together, not that one
# causes the other.
#
# ## Remedies, and what they buy here
#
# - **FedProx** (Li et al. 2020) changes *local training*: each hospital minimizes
#   $F_k(w) + \frac{\mu}{2}\lVert w - w_t\rVert^2$, so a local model cannot drift far from the global one.
#   In `fedlite`: `LocalConfig(mu=...)`.
# - **Server momentum, FedAvgM** (Hsu et al. 2019) and **FedAdam** (Reddi et al. 2021) change the *server
#   step*: the averaged update is fed to momentum or Adam. In `fedlite`:
#   `server_optimizer=ServerMomentum(...)` or `ServerAdam(...)`.
#
# We run both on α = 0.1 with common settings chosen beforehand (μ = 0.1; server learning rate
# $\eta_s = 1$, momentum $\beta = 0.9$). Mind the step size: the server moves $\eta_s v_t$ with
# $v_t = \beta v_{t-1} + \Delta_t$, so a steady update grows towards $1/(1-\beta) = 10$ times its size,
# but only in the long run. The cell prints the factors for 5 rounds (at most, if every averaged update
# had the same direction and length), then seed 0 live (a demonstration): the mean AUC over the last
# three rounds and its spread (best - worst).

# %%
from fedlite import ServerAdam, ServerMomentum

skewed = subsets(train, splits["Dirichlet α=0.1"])
remedies = {"FedProx μ=0.1": dict(local=replace(LOCAL, mu=0.1)),
            "FedAvgM": dict(local=LOCAL, server_optimizer=ServerMomentum(lr=1.0, momentum=0.9))}
# FedAdam is one line away: add "FedAdam": dict(local=LOCAL, server_optimizer=ServerAdam(lr=0.01))
factor = np.cumsum(0.9 ** np.arange(ROUNDS))  # round t: 1 + β + ... + β^(t-1)
for eta in (1.0, 0.1):
    print(f"FedAvgM η_s={eta}: step per round {np.round(eta * factor, 2)}, total {eta * factor.sum():.1f} "
          f"update-lengths (FedAvg: 1 per round, total {ROUNDS})")
remedy_runs = {"FedAvg": seed0["Dirichlet α=0.1"]}  # the run from above
for name, settings in remedies.items():
    remedy_runs[name] = run_federated(make_model("cnn", seed=0), skewed, test, rounds=ROUNDS, seed=SEED,
                                      name=name, progress=False, **settings)
for name, h in remedy_runs.items():
    last = np.array(h.metric("auc")[-3:])
    print(f"seed 0, {name:14s} mean AUC, last 3 rounds {last.mean():.3f}   best - worst {np.ptp(last):.3f}"
          f"   final accuracy {h.final():.3f}")

# %% [markdown]
# One run cannot rank remedies. `benchmarks/seeds.py` ran FedAvg, FedProx, FedAvgM as above, and FedAvgM
# with $\eta_s = 0.1$, on seeds 0–4 (stored in `fedlite/results/nb03a.json`, checked by
# CI). The table gives each final AUC and its paired difference to FedAvg; the lines below, each
# remedy's AUC swing over the last three rounds minus FedAvg's, paired.

# %%
methods = list(remedy_seeds.values())
print(evidence.comparison_table(methods, "auc", reference=remedy_seeds["fedavg"]))
for r in methods[1:]:
    print(f"{r.name:26s} swing minus FedAvg's: {evidence.paired_values(swing(r), swing(remedy_seeds['fedavg']))}")
print("FedAvgM lr=1 minus lr=0.1, final AUC:",
      evidence.paired_difference(remedy_seeds["fedavgm"], remedy_seeds["fedavgm_same_step"]))
fig, ax = plt.subplots(figsize=(7, 3.6), layout="constrained")
plots.mean_band(methods, "auc", ax=ax, baseline=0.5, baseline_label="coin toss")
ax.set_title("Remedies on Dirichlet α=0.1 hospitals (5 seeds)")
ax.set(xlabel="round", xticks=range(1, ROUNDS + 1))
ax.legend(fontsize="small", loc="center left", bbox_to_anchor=(1.0, 0.5))
plt.show()

# %% [markdown]
# What five seeds support, at this budget of 5 rounds:
#
# - FedAvg's final AUC, 0.354 [0.170, 0.539], is spread wide and its interval contains 0.5: five seeds
#   cannot tell it from a coin toss.
# - FedProx (+0.463 [+0.256, +0.671]) and FedAvgM (+0.486 [+0.254, +0.718]) both end above FedAvg.
#   FedAvgM also swings more (+0.360 [0.035, 0.685]), so its final number depends on when training stops;
#   whether FedProx is steadier than FedAvg cannot be told from noise (−0.048 [−0.322, 0.225]).
# - FedAvgM with $\eta_s = 0.1$ cannot be told from FedAvg (+0.132 [−0.063, +0.327]); FedAvgM with
#   $\eta_s = 1$ beats it by +0.354 [0.237, 0.471]. That pair holds β fixed and scales every server step
#   by ten, so the gain goes with the server step's size. It does *not* pit momentum against FedAvg at an
#   equal step: over 5 rounds $\eta_s = 0.1$ moves at most 1.3 update-lengths, against FedAvg's 5 and
#   $\eta_s = 1$'s 13.1 (printed above). Whether FedAvg with a larger server step does as well is the next
#   run to try.
#
# Remedies have hyper-parameters, help in some regimes and not others, and must be judged on validation
# data, over several seeds, for the problem at hand.

# %% [markdown]
# ## Recap
#
# - Hospitals differ in their **diagnosis mix** (label skew), their **size** (quantity skew) and their
#   **inputs** (feature shift); real federations have all of these at once.
# - A Dirichlet α controls label skew. On five seeds of **one partition** each, α = 0.1 lowers FedAvg's AUC
#   far below IID's; shards and quantity skew cannot be told from IID in AUC at this budget.
# - The weights $n_k/n$ are forced only for FedSGD: with $\tau_k \propto n_k$ local steps FedAvg optimizes
#   an inconsistent objective (FedNova), and $n_k/n$, uniform or minimax/q-FFL weights are choices.
# - On that partition, label skew lowers the agreement of the hospitals' updates: **client drift**. Another
#   draw of the hospitals might differ.
# - **FedProx** limits drift at the hospitals; **FedAvgM / FedAdam** change the server's step, whose size
#   matters. Judge them on several seeds, on your data.
#
# *Further reading:* SCAFFOLD (Karimireddy et al. 2020) corrects drift with control variates; FedNova
# (Wang et al. 2020) normalizes by $\tau_k$; NIID-Bench (Li et al. 2022) compares these methods at scale.
#
# **Next:** [03b · Real hospitals](03b_real_hospitals.ipynb): scanners and FedBN, four real
# heart-disease hospitals, the normalization trap, and the FLamby benchmark.
#
# *The datasets are for teaching only: not for clinical use.*
#
# **Play with it:** every knob of this course, live, in the [playground](playground.ipynb).
