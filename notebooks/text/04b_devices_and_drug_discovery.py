# %% [markdown]
# # 04b · Patients' devices and drug discovery: cross-device and vertical FL
#
# > **中文摘要：**跨设备联邦学习（cross-device FL）：100 台模拟的患者设备，每轮按参与率抽样，部分设备掉线；比较随机掉线与依赖患者病情的掉线，并用 5 个随机种子检验它们对模型的影响。
# > 了解药企之间的联邦训练项目 MELLODDY 与骨架划分（scaffold split），并在心脏病特征上训练一个小型纵向联邦学习（vertical FL）模型。
#
# Notebook 04a worked three uses of federated learning *across hospitals*: a handful of reliable
# clients with many records each. The two remaining uses of the usual list look different. Remote care
# with wearables federates **many small, unreliable devices**; drug discovery federates **competing
# companies**, and sometimes parties that hold different measurements of the same patients or
# compounds. As in 04a, every part runs on data where the kit allows, and says plainly where it stops.
#
# **In this notebook you will**
# - simulate remote monitoring: 100 patients' devices, 10 asked per round, some dropping out, on the
#   course's batched engine; see that random dropouts leave the expected data mix unchanged while
#   dropouts that depend on the patient shift it, and check on 5 seeds what either does to the model;
# - see how drug companies federate (MELLODDY), what vertical FL is, and train a small vertical model;
# - end with one table: use case → setting → main risk → what the course showed.
#
# **Time:** about 40 minutes (the notebook itself runs in under a minute).
# **Prerequisites:** [01](01_centralized_vs_federated.ipynb), [02](02_fedavg_math.ipynb),
# [03a](03a_non_iid_hospitals.ipynb), [03b](03b_real_hospitals.ipynb) and
# [04a](04a_cross_silo_use_cases.ipynb): `run_federated`, the weights $n_k/n$, the Dirichlet α, the
# heart-disease hospitals with federated standardization, and paired seed intervals (`fedlite.evidence`).
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
# ## The two uses at a glance
#
# | use | data in this notebook | what runs here | what is a stand-in |
# |---|---|---|---|
# | 4 · remote care, wearables | PneumoniaMNIST X-rays as 100 "devices" | partial participation, dropouts | no wearable data: X-rays stand in for sensor data |
# | 5 · drug discovery | none: no molecular data offline | a vertical split of the heart features | the whole chemistry |
#
# Live runs with seed 0 are demonstrations; comparisons rest on 5 seeds with 95 % intervals.

# %%
import matplotlib.pyplot as plt
import numpy as np
import torch
from torch import nn

from fedlite import LocalConfig, evidence, make_model, plots, pool, run_federated
from fedlite.batched import run_federated_seeds
from fedlite.data import subsets
from fedlite.datasets import load_medmnist
from fedlite.datasets.heart import heart_hospitals
from fedlite.exercises.nb04b import check_expected_arrivals, check_fl_settings
from fedlite.heterogeneity import partition

SEED = 0

# %% [markdown]
# ## 4 · Remote care and wearables: cross-device FL
#
# A remote-monitoring system has thousands to millions of clients, the patients' phones, watches and
# home sensors: **cross-device** FL (Kairouz et al. 2021, Table 1). That changes the engineering:
#
# - each device holds very little data, about one person;
# - only a few devices can take part in a round (charging, idle, on Wi-Fi), so the server asks a random
#   fraction $q$ of them, the participation rate (McMahan et al. 2017, who call it $C$, used 100
#   clients and $q = 0.1$);
# - devices drop out *during* a round: the server averages whatever arrives before its deadline
#   (Bonawitz et al. 2019).
#
# **An honest stand-in.** The kit has no wearable data. What we *can* simulate is the system: many
# tiny, unreliable, unlike clients. Half of PneumoniaMNIST's training X-rays are shared out to **100
# devices** with label skew (Dirichlet α = 1: a patient's own recordings mostly show that patient's
# condition) and very unequal sizes.

# %%
xray = load_medmnist("pneumoniamnist")  # its own cell: offline, the synthetic-data banner appears here

# %%
# NBVAL_CHECK_OUTPUT
half = xray["train"].subset(partition.iid(len(xray["train"]), 2, seed=SEED)[0])
dev_test = xray["test"].subset(range(0, len(xray["test"]), 2))  # every second test X-ray, for speed
NUM_DEVICES, PARTICIPATION, DEV_ROUNDS = 100, 0.1, 20
devices = subsets(half, partition.dirichlet(half.y.numpy(), NUM_DEVICES, alpha=1.0, seed=SEED))
sizes = np.array([len(d) for d in devices])
sick_images = np.array([int(d.y.sum()) for d in devices])
mostly_sick = sick_images / sizes > 0.5
print(f"{NUM_DEVICES} devices hold {sizes.sum()} X-rays: {sizes.min()} to {sizes.max()} each "
      f"(median {np.median(sizes):g}); pneumonia share overall {sick_images.sum() / sizes.sum():.3f}")
print(f"{mostly_sick.sum()} devices hold mostly pneumonia X-rays, {(~mostly_sick).sum()} mostly normal ones")

# %% [markdown]
# A dropout is a round hook: `run_federated(..., on_update=hook)` calls `hook(context, device, result)`
# for every trained update, and what it returns reaches the server; `None` means the update is lost.
# `fedlite.robustness.participation.RandomDropout(p, seed=...)` loses device $k$'s update with
# probability `p` (or `p[k]`), seeded by the seed, the round and the device.
#
# **Exercise 1.** The server asks a fraction $q$ = `PARTICIPATION` of the $K$ = `NUM_DEVICES` devices,
# and each drops out with probability $p$ = 0.3. On average, how many updates arrive per round? Compute
# it from the variables.

# %%
my_arrivals = ...  # use NUM_DEVICES, PARTICIPATION and the dropout probability 0.3
check_expected_arrivals(my_arrivals, NUM_DEVICES, PARTICIPATION, 0.3)

# %% [markdown]
# Three federations of 20 rounds that ask the same 10 devices per round:
#
# - **all report**; **30% drop at random** (each update lost with probability 0.3);
# - **the sicker drop more**: devices holding mostly pneumonia X-rays lose their update with
#   probability 0.4, the others never: about as many updates lost, but not the same ones (patients too
#   unwell to charge their watch).
#
# The model is one a phone could train: **logistic regression on the pixels**. It has no BatchNorm, so
# `run_federated` trains each round's devices on the **batched engine** (`fedlite.batched`: their local
# steps as one computation; the course's tests check it gives the reference loop's numbers within
# 1e-5), and `History.engine` says which path ran. The first table is what the server learned *from*:
# updates per round, devices never heard, and the pneumonia share behind the arrived updates (expected
# in the long run from the dropout probabilities, and realized in these 20 rounds).

# %%
import time

from fedlite.robustness.participation import RandomDropout

DEV_LOCAL = LocalConfig(lr=0.01, momentum=0.9, batch_size=16)
drop_prob = {"all report": np.zeros(NUM_DEVICES), "30% drop at random": np.full(NUM_DEVICES, 0.3),
             "the sicker drop more": np.where(mostly_sick, 0.4, 0.0)}


def phone_model(seed):
    return nn.Sequential(nn.Flatten(), make_model("logreg", seed=seed, in_features=28 * 28))


def schedule(history):
    """rounds x devices: 0 = not asked, 1 = asked and its update arrived, 2 = asked but lost."""
    table = np.zeros((len(history.rounds), NUM_DEVICES), dtype=int)
    for i, r in enumerate(history.rounds):
        for k, numbers in r.clients.items():
            table[i, k] = 1 if numbers["arrived"] else 2
    return table


start = time.perf_counter()
device_runs = {name: run_federated(phone_model(SEED), devices, dev_test, rounds=DEV_ROUNDS, local=DEV_LOCAL,
                                   participation=PARTICIPATION, on_update=RandomDropout(p, seed=SEED),
                                   seed=SEED, name=name, progress=False)
               for name, p in drop_prob.items()}
print(f"3 federations x {DEV_ROUNDS} rounds in {time.perf_counter() - start:.1f} s; engine: "
      f"{device_runs['all report'].engine}")
print(f"pneumonia share of all devices' X-rays: {sick_images.sum() / sizes.sum():.3f}")
print(f"{'what arrived (seed 0)':21s} {'updates/round':>14s} {'never heard':>12s} {'share long run':>15s} "
      f"{'share 20 rounds':>16s}")
for name, h in device_runs.items():
    arrived, keep = schedule(h) == 1, 1 - drop_prob[name]
    long_run = (keep * sick_images).sum() / (keep * sizes).sum()
    realized = (arrived @ sick_images).sum() / (arrived @ sizes).sum()
    print(f"{name:21s} {arrived.sum(axis=1).mean():14.1f} {NUM_DEVICES - arrived.any(axis=0).sum():12d} "
          f"{long_run:15.3f} {realized:16.3f}")

# %% [markdown]
# Does any of this change the model? One seed cannot say. `run_federated_seeds` runs the same three
# federations on seeds 0-4 (model initialization, the devices asked, batch orders and dropouts all
# change with the seed), all five seeds' devices trained together in one batched computation.

# %%
start = time.perf_counter()
SEEDS = [0, 1, 2, 3, 4]
repeated = {name: evidence.Repeated.from_histories(name, SEEDS, run_federated_seeds(
                [phone_model(s) for s in SEEDS], devices, dev_test, rounds=DEV_ROUNDS, seeds=SEEDS,
                local=DEV_LOCAL, participation=PARTICIPATION, on_updates=[RandomDropout(p, seed=s) for s in SEEDS],
                name=name, progress=False))
            for name, p in drop_prob.items()}
print(f"3 settings x 5 seeds x {DEV_ROUNDS} rounds in {time.perf_counter() - start:.1f} s\n")
print(evidence.comparison_table(list(repeated.values()), "auc", reference=repeated["all report"]))
for name, r in repeated.items():
    climb = evidence.paired_values(r.per_seed("auc")[:, -1], r.per_seed("auc")[:, 0])
    jumps = [np.abs(np.diff(device_runs[name].metric(k))).mean() for k in ("accuracy", "auc")]
    print(f"{name:21s} AUC last minus first round (5 seeds) {climb.mean:+.3f} [{climb.low:+.3f}, {climb.high:+.3f}]; "
          f"seed 0, mean change per round: accuracy {jumps[0]:.3f}, AUC {jumps[1]:.3f}")

fig, axes = plt.subplots(1, 3, figsize=(14, 3.4), layout="constrained", width_ratios=[1.6, 1, 1])
axes[0].imshow(schedule(device_runs["30% drop at random"]), aspect="auto", interpolation="nearest",
               cmap=plt.matplotlib.colors.ListedColormap(["#f2f2f2", "tab:green", "tab:red"]), vmin=0, vmax=2,
               extent=(-0.5, NUM_DEVICES - 0.5, DEV_ROUNDS + 0.5, 0.5))
axes[0].set(xlabel="device", ylabel="round", title="30% drop at random, seed 0: green arrived, red lost")
axes[0].yaxis.set_major_locator(plt.MaxNLocator(integer=True))
plots.mean_band(list(repeated.values()), "auc", ax=axes[1])
plots.learning_curves(list(device_runs.values()), "accuracy", ax=axes[2])
axes[2].axhline(dev_test.y.float().mean().item(), color="black", linestyle=":", linewidth=1,
                label="always 'pneumonia'")
axes[2].set(xlabel="round", ylabel="accuracy (seed 0)")
for ax in axes[1:]:
    ax.legend(fontsize="x-small")
plt.show()

# %% [markdown]
# What the runs show, and what they do not:
#
# - **Partial participation works.** With a tenth of the devices per round, some of them lost, the AUC
#   climbs from the first round to the last in every setting, by +0.235 [+0.189, +0.280] when all
#   report, +0.198 [+0.148, +0.248] with random dropouts and +0.178 [+0.083, +0.272] when the sicker
#   drop more (5 seeds, printed above): FedAvg averages whatever arrives, weighted by $n_k$.
# - **No setting can be told from another in the model at this budget.** Both paired differences of the
#   final AUC (against "all report") have intervals that contain 0 (the table above). Twenty rounds
#   show what the server *receives*, not that the model got worse.
# - **Who drops out changes the data mix; how many does not.** Random dropout leaves the long-run
#   pneumonia share at the population's; when the sicker drop out more, it falls below, although about
#   as many updates are lost. A deployment running for months learns from that biased sample, and no
#   averaging rule fixes data that never arrive. In 20 rounds chance moves the realized share too.
# - **Most devices are rarely heard**: a device is asked 20 × 10 / 100 = 2 times on average, and some
#   never contribute (the "never heard" column).
# - **The threshold jitters (seed 0, a demonstration).** In the runs shown (right), accuracy jumps from
#   round to round and often sits on the "always pneumonia" line. On that seed it changes by 0.037 to
#   0.071 per round on average, AUC by 0.029 to 0.050 (printed above): a little more, not a different
#   order. One seed cannot say why; a round's few one-sided devices moving the decision threshold is a
#   hypothesis we did not test.
# - **Not simulated:** real sensor time series, on-device limits, devices seen once, secure aggregation
#   over thousands of devices (notebook 05), and a deadline instead of a coin flip.

# %% [markdown]
# ## 5 · Drug discovery across companies: cross-silo, and vertical FL
#
# Drug companies hold millions of measured molecules (which compound binds which target, which is
# toxic), among their most valuable secrets, and they overlap in chemistry more than in compounds: a
# model trained on all of them could predict better for everyone. That is **cross-silo** FL between
# competitors: few clients, large data each, reliable servers, and a legal agreement behind every round.
#
# **MELLODDY** (EU Innovative Medicines Initiative) did this at industrial scale: ten pharmaceutical
# companies trained QSAR models (quantitative structure–activity relationship: a molecule's activity
# predicted from its structure) on more than 2.6 billion confidential measurements of over 21 million
# molecules (Heyndrickx et al., *J. Chem. Inf. Model.* 64(7), 2331–2344, 2024). Its design:
#
# - every company describes its molecules the same way (ECFP chemical fingerprints): shared features,
#   different molecules and assays, so horizontal FL over *different* prediction tasks;
# - a **shared trunk** trained federatedly plus a **private head** per company that never leaves it:
#   "share what is common, keep what is yours", as personalization in 04a;
# - an audited platform with secure aggregation of the updates (Oldenhof et al., AAAI 2023);
# - evaluation folds split by chemical similarity (scaffolds), not at random, because random splits
#   overstate how well a model predicts new chemistry (Simm et al., *J. Cheminform.* 13, 96, 2021).
#
# The companies' models improved on aggregate, most for pharmacokinetics and safety tasks (Heyndrickx et
# al. 2024). **This notebook cannot reproduce any of it**: a faithful demo needs public bioactivity data
# (e.g. Tox21, ChEMBL), RDKit for fingerprints, "companies" split by chemical series, a multitask model
# and scaffold-split tests. None of that is in the kit offline, and invented molecules would teach
# nothing true about chemistry.

# %% [markdown]
# ### Vertical FL, illustrated on the heart features
#
# So far FL was **horizontal**: the parties hold *different patients* with the same features. In
# **vertical** FL (Yang, Liu, Chen & Tong 2019) they hold *the same patients* and *different features*:
# a hospital and a pharmacy, or a drug company and a contract lab that measured other properties of the
# same compounds.
#
# An **illustration of the mechanism, not drug discovery**, with a split we invented: a GP practice
# holds the routine data (age, sex, blood pressure, cholesterol and whether it was measured, fasting
# blood sugar), a cardiology clinic the specialist data (chest-pain type, ECG, exercise test) and the
# diagnosis. For logistic regression the score is a sum of the two parties' parts:
#
# $$ z = \underbrace{x_{\text{GP}}\, w_{\text{GP}}}_{\text{at the GP}} +
#        \underbrace{x_{\text{card}}\, w_{\text{card}} + b}_{\text{at the clinic}}, \qquad
#    g = \frac{1/(1 + e^{-z}) - y}{n}, \qquad
#    w_{\text{GP}} \leftarrow w_{\text{GP}} - \eta\, x_{\text{GP}}^\top g, \quad
#    w_{\text{card}} \leftarrow w_{\text{card}} - \eta\, x_{\text{card}}^\top g . $$
#
# The GP sends its partial scores $x_{\text{GP}} w_{\text{GP}}$, the clinic (which holds the labels)
# sends back the error $g$, and each party updates only its own weights: no feature column leaves its
# owner. The next cell loads the heart hospitals as in 03b.

# %%
_, trains, tests, _, _ = heart_hospitals()

# %%
from fedlite.metrics import roc_auc
from fedlite.datasets.readers import HEART_FEATURES

FEATURES = list(HEART_FEATURES) + ["chol_missing"]   # heart_hospitals appends the indicator last
GP = [FEATURES.index(f) for f in ["age", "sex", "trestbps", "chol", "chol_missing", "fbs"]]
CARDIO = [FEATURES.index(f) for f in ["cp_2", "cp_3", "cp_4", "restecg_1", "restecg_2", "thalach",
                                            "exang", "oldpeak"]]
patients, held_out = pool(trains), pool(tests)  # the same patients at both parties (an illustration)


def vertical_logreg(x_gp, x_card, y, *, steps=300, lr=0.5):
    """Binary logistic regression on features split between a GP and a clinic, full-batch gradient descent."""
    w_gp, w_card, b = torch.zeros(x_gp.shape[1]), torch.zeros(x_card.shape[1]), torch.zeros(())
    for _ in range(steps):
        partial = x_gp @ w_gp                               # at the GP, sent to the clinic
        g = (torch.sigmoid(partial + x_card @ w_card + b) - y.float()) / len(y)  # at the clinic, sent back
        w_gp = w_gp - lr * x_gp.T @ g                       # at the GP
        w_card, b = w_card - lr * x_card.T @ g, b - lr * g.sum()  # at the clinic
    return w_gp, w_card, b


w_gp, w_card, b = vertical_logreg(patients.x[:, GP], patients.x[:, CARDIO], patients.y)
w_all, _, b_all = vertical_logreg(patients.x[:, GP + CARDIO], patients.x[:, []], patients.y)  # pooled columns
print(f"vertical vs pooled-columns training: largest weight difference "
      f"{(torch.cat([w_gp, w_card]) - w_all).abs().max():.1e}")
both = held_out.x[:, GP + CARDIO] @ torch.cat([w_gp, w_card]) + b
resamples = torch.as_tensor(np.random.default_rng(SEED).integers(0, len(held_out), (1000, len(held_out))))
for name, columns in [("GP data only", GP), ("cardiology data only", CARDIO)]:
    w_alone, _, b_alone = vertical_logreg(patients.x[:, columns], patients.x[:, []], patients.y)
    alone = held_out.x[:, columns] @ w_alone + b_alone
    gain = [roc_auc(both[i], held_out.y[i]) - roc_auc(alone[i], held_out.y[i]) for i in resamples]
    low, high = np.percentile(gain, [2.5, 97.5])
    print(f"{name:22s} test AUC {roc_auc(alone, held_out.y):.3f}; both minus this "
          f"{roc_auc(both, held_out.y) - roc_auc(alone, held_out.y):+.3f} [{low:+.3f}, {high:+.3f}]")
print(f"{'both, vertical FL':22s} test AUC {roc_auc(both, held_out.y):.3f} on {len(held_out)} test patients "
      "([ ] = 95 % paired bootstrap over them, 1000 resamples)")

# %% [markdown]
# The first line: vertical training and ordinary training on the joined table give the same weights,
# up to float rounding (training is full-batch and deterministic, so there is no seed to vary). The AUC
# lines show why anyone would bother: on these held-out patients both parties' columns together rank
# better than either party's alone, and neither paired bootstrap interval contains 0 (the gain over the
# cardiology columns alone is small, and its interval comes close). The interval covers the choice of
# test patients only, on one test set and one train/test split; it says nothing about other
# hospitals' patients. A real vertical system adds **entity alignment** (finding the common
# patients without revealing the others, by private set intersection), **protection of what travels**
# (partial scores and $g$ are about single patients, and $g$ reveals the labels: real systems encrypt
# them, e.g. with additively homomorphic encryption, Hardy et al. 2017, or mask them), and **both parties at inference**, for every new patient.
#
# **Exercise 2.** Name the FL setting of each scenario in `SCENARIOS` (printed by the cell): a pair
# `(scale, partition)` with scale `"cross-silo"` or `"cross-device"`, and partition `"horizontal"` or
# `"vertical"`.

# %%
from fedlite.exercises.nb04b import SCENARIOS

for name, text in SCENARIOS.items():
    print(f"{name}: {text}")
my_settings = ...  # {"smartwatches": ("cross-...", "..."), "hospital_and_insurer": ..., "pharma_toxicity": ...}
check_fl_settings(my_settings)

# %% [markdown]
# ## The five uses in one table
#
# | use case | FL setting | main risk | what the course showed |
# |---|---|---|---|
# | disease prediction across hospitals | cross-silo, horizontal | a hospital unlike the others (Switzerland) is served worst, and its small test set hides it | 5 seeds on four real hospitals (cholesterol 0 = missing): the three larger sites gain from FedAvg; the Swiss local model's high accuracy is a constant "sick", and a test split with one healthy patient cannot rank Swiss models |
# | medical imaging | cross-silo, horizontal | scanner and site shift; small sites with weak local models | four simulated scanners, very unequal sizes, 5 seeds: the two small hospitals gained AUC, the clinic most; the two large ones within noise |
# | personalized treatment | cross-silo, horizontal, personal models | gains at one hospital, losses at another; choosing $E$ on the test set | fine-tuning slides from the global to the local model; on the heart data neither recipe beat FedAvg (both cost VA; fine-tuning's Swiss "gain" is the constant answer); on ultrasound FedBN gained at one site and lost at the clinic |
# | remote care, wearables | cross-device, horizontal | who participates: dropouts that depend on the patient bias the data behind the model | 100 stand-in devices, 10 per round, batched engine: patient-dependent dropouts shift the long-run data mix; on 5 seeds no effect on the model can be told from noise in 20 rounds; a jittery threshold; no real wearable data |
# | drug discovery | cross-silo, horizontal across companies (MELLODDY); vertical when parties hold different measurements of the same compounds | leaking proprietary chemistry; evaluation on too-similar molecules | no molecular data here: MELLODDY's design (shared trunk, private heads), what a demo would need, and vertical FL on the heart features |

# %% [markdown]
# ## Recap
#
# - **Cross-device FL** asks a small fraction of many unreliable clients each round; random dropouts
#   cost updates, patient-dependent dropouts bias the data the model learns from in the long run, even
#   when a short run shows no difference in the model.
# - **Drug discovery** is cross-silo between competitors; MELLODDY shared a trunk and kept heads private.
#   **Vertical FL** joins different features of the same patients; for logistic regression it equals
#   training on the joined table.
# - Where the kit has no data (wearables, molecules), the notebook says so and shows the mechanism only.
#
# **Next:** [05 · Privacy attacks and defences](05_privacy_attacks_and_defenses.ipynb): does sharing
# only model updates really protect the patients? We rebuild an X-ray from one update, then test
# secure aggregation and differential privacy.
#
# *The datasets are for teaching only: not for clinical use.*
#
# **Play with it:** every knob of this course, live, in the [playground](playground.ipynb).
