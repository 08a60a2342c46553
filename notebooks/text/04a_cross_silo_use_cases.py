# %% [markdown]
# # 04a · Medical use cases across hospitals: prediction, imaging, personalization
#
# > **中文摘要：**跨机构联邦学习（cross-silo FL）的三个医疗场景：在四家心脏病医院上逐院比较联邦学习的得与失，在四家使用不同超声设备的医院上训练乳腺超声分类器。
# > 比较个性化联邦学习（personalization）的两种做法——本地微调（fine-tuning）与 FedBN 式本地归一化——并学会用 5 个随机种子和置信区间逐院阅读结果。
#
# Introductions to federated learning in healthcare usually name five uses: disease prediction from
# several hospitals' records, medical imaging, personalized treatment, remote care with wearables, and
# drug discovery. This notebook works the three uses *across hospitals* (cross-silo) on real data and
# says where the kit stops; [04b](04b_devices_and_drug_discovery.ipynb) takes devices and drug discovery.
#
# **In this notebook you will**
# - compare pooled, local-only and federated training hospital by hospital on four real heart-disease
#   hospitals: who gains, who loses, and what a tiny one-sided test split does to the numbers;
# - train a breast-ultrasound classifier across four hospitals of very different sizes and scanners;
# - personalize the federated model (local fine-tuning, FedBN-style local normalization) and judge every
#   claim on 5 seeds with 95 % intervals.
#
# **Time:** about 40 minutes (the notebook itself runs in under a minute).
# **Prerequisites:** [01](01_centralized_vs_federated.ipynb), [02](02_fedavg_math.ipynb),
# [03a](03a_non_iid_hospitals.ipynb) and [03b](03b_real_hospitals.ipynb): `run_federated`, the weights
# $n_k/n$, scanner shift, FedBN, the heart-disease hospitals with federated standardization and
# cholesterol 0 treated as missing, and the paired seed intervals of `fedlite.evidence`.
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
# ## The three uses at a glance
#
# | use | data | what runs here | what is a stand-in |
# |---|---|---|---|
# | 1 · disease prediction | UCI Heart Disease, four real hospitals | everything | nothing |
# | 2 · medical imaging | BreastMNIST ultrasound, cut into four hospitals | training and evaluation | the hospitals and their scanners |
# | 3 · personalized treatment | the same two federations | fine-tuning, FedBN | a model per *hospital*, not per patient |
#
# Live runs use seed 0 and are **demonstrations**. Every sentence that compares settings quotes the
# stored 5-seed result `fedlite/results/nb04a.json` (mean, and the paired 95 % t interval of the
# difference; a `·` marks an interval that contains 0, where no difference can be told from noise).
# `python benchmarks/seeds.py nb04a` recomputes it (about a minute of CPU) and CI checks it.

# %%
import matplotlib.pyplot as plt
import numpy as np
from torch import nn

from fedlite import (LocalConfig, batchnorm_keys, evidence, make_model, plots, pool, run_centralized,
                     run_federated, run_local_only)
from fedlite.data import Data, subsets
from fedlite.datasets import load_heart_disease, load_medmnist
from fedlite.datasets.heart import heart_hospitals
from fedlite.datasets.readers import HEART_FEATURES
from fedlite.heterogeneity.personalize import fine_tune_all
from fedlite.metrics import evaluate_clients

SEED = 0
STORED, _ = evidence.load(evidence.stored("nb04a"))   # 5 seeds, written by benchmarks/seeds.py


def show(table, names, key):
    """One seed: one row per setting, one column per hospital, the unweighted mean and the worst hospital."""
    print(f"{key}, seed {SEED}".ljust(30)
          + "".join(f"{n:>12s}" for n in names) + f"{'mean':>8s}{'worst':>8s}")
    for setting, row in table.items():
        values = [r[key] for r in row]
        print(f"{setting:30s}" + "".join(f"{v:12.3f}" for v in values) + f"{np.mean(values):8.3f}{min(values):8.3f}")


def seeds_table(federation, names, key, settings):
    """5 seeds: each setting's mean per hospital, then each one minus FedAvg with the paired 95 % interval
    (half-width after ±; · = the interval contains 0)."""
    runs = [STORED[f"{federation}_{s}"] for s in settings]
    fedavg, cols = STORED[f"{federation}_fedavg"], names + ["mean"]
    value = lambda run, c: run.final(key if c == "mean" else f"{key}/{c}")  # noqa: E731
    print(f"{key}, mean of 5 seeds".ljust(30) + "".join(f"{c:>16s}" for c in cols))
    for run in runs:
        print(f"{run.name:30s}" + "".join(f"{value(run, c).mean():16.3f}" for c in cols))
    for run in (r for r in runs if r is not fedavg):
        ds = [evidence.paired_values(value(run, c), value(fedavg, c)) for c in cols]
        print(f"{run.name + ' − FedAvg':30s}"
              + "".join(f"{d.mean:+9.3f}±{d.half_width:.3f}{'·' if d.contains(0) else ' '}" for d in ds))

# %% [markdown]
# ## 1 · Disease prediction across hospitals
#
# The four heart-disease hospitals of 03b (Cleveland, Budapest, Zürich/Basel, Long Beach VA), FLamby's
# train/test split, features standardized with **federated statistics**, and cholesterol 0 ("not
# measured": every Swiss patient, a quarter of VA's) imputed with a missing-value indicator, so the
# model cannot use it as a site-and-disease shortcut. Each model is judged on **each hospital's own
# test patients**; the last column says what one test patient is worth there.

# %%
heart = load_heart_disease()  # its own cell: offline, the synthetic-data banner appears here

# %%
# NBVAL_CHECK_OUTPUT
HOSPITALS, trains, tests, _, _ = heart_hospitals(heart)   # 14 features: 13 + 'chol_missing'
print(f"{'hospital':12s} {'train':>5s} {'test':>5s} {'sick (train)':>12s} {'sick (test)':>11s} "
      f"{'one test patient':>17s}")
for h, tr, te in zip(HOSPITALS, trains, tests):
    print(f"{h:12s} {len(tr):5d} {len(te):5d} {tr.y.float().mean().item():12.2f} "
          f"{te.y.float().mean().item():11.2f} {100 / len(te):12.1f} pts")

# %% [markdown]
# Three ways to train (logistic regression, SGD, learning rate 0.05, batches of 16, 30 epochs or rounds):
# **pooled** (all training rows in one place: the usual reference, which privacy rules often forbid),
# **local-only** (each hospital alone, `run_local_only` returns the hospitals' models) and **FedAvg**.

# %%
HEART_LOCAL, HEART_ROUNDS = LocalConfig(lr=0.05, batch_size=16), 30
pooled_test = pool(tests)


def logreg():
    return make_model("logreg", seed=SEED, in_features=trains[0].x.shape[1])


pooled_model = logreg()
run_centralized(pooled_model, pool(trains), pooled_test, epochs=HEART_ROUNDS, local=HEART_LOCAL, seed=SEED,
                progress=False)
_, local_models = run_local_only(logreg(), trains, pooled_test, epochs=HEART_ROUNDS, local=HEART_LOCAL,
                                 seed=SEED, progress=False)
fedavg_model = logreg()
run_federated(fedavg_model, trains, pooled_test, rounds=HEART_ROUNDS, local=HEART_LOCAL, seed=SEED,
              progress=False)
heart_table = {"pooled": evaluate_clients(pooled_model, tests),        # one model for every hospital
               "local-only": evaluate_clients(local_models, tests),    # hospital k's own model on its tests
               "FedAvg": evaluate_clients(fedavg_model, tests)}
show(heart_table, HOSPITALS, "accuracy")
show(heart_table, HOSPITALS, "auc")

# %% [markdown]
# One seed is one draw. The same comparison on 5 seeds (the hospitals stay, the initial weights and
# batch orders change), with each setting minus FedAvg:

# %%
seeds_table("heart", HOSPITALS, "accuracy", ["pooled", "local_only", "fedavg"])
seeds_table("heart", HOSPITALS, "auc", ["pooled", "local_only", "fedavg"])
swiss = HOSPITALS.index("switzerland")
print(f"\nSwiss training split: {int((trains[swiss].y == 0).sum())} healthy of {len(trains[swiss])}; "
      f"Swiss test split: {int((tests[swiss].y == 0).sum())} healthy of {len(tests[swiss])}")
for key in ("heart_local_only", "heart_fedavg"):
    r = STORED[key]
    print(f"{r.name:10s} calls {r.final('says_sick/switzerland').astype(int).tolist()} of the 16 Swiss test "
          f"patients sick (seeds 0-4); Swiss AUC {np.round(r.final('auc/switzerland'), 3).tolist()}")

# %% [markdown]
# ### Who gains, who loses
#
# - **The three larger hospitals gain from FedAvg.** At Cleveland, Budapest and VA FedAvg beats the
#   local-only model in accuracy and in AUC, and no interval of these differences comes near 0; VA, the
#   smallest of the three and the most unlike the others, gains most: its local-only model is
#   0.124 ± 0.015 below FedAvg in accuracy and 0.211 ± 0.018 in AUC (the `local-only − FedAvg` rows).
# - **Pooled and FedAvg cannot be told apart in accuracy** at any hospital (every interval contains
#   0); in AUC pooled training is ahead by 0.004 ± 0.003 at Budapest and 0.020 ± 0.015 at VA.
# - **Switzerland "loses" only in accuracy, and that loss is an artefact.** The Swiss training split
#   has no healthy patient, so the Swiss local model calls all 16 test patients sick in every seed: its
#   accuracy is that of a constant answer on a split where 15 of 16 are sick, and it would send every
#   healthy Swiss patient to the catheter lab. Its *scores* still differ from patient to patient, so its
#   AUC is not 0.5; with one healthy test patient that AUC is the share of sick patients scored above
#   that one person, and it swings from 0.333 to 0.933 across seeds. The Swiss column cannot rank models.
#
# **What changed with cholesterol treated as missing.** The first edition of this notebook, run with
# the raw zeros on one seed, found FedAvg's mean accuracy *below* local-only's. Now FedAvg's mean
# accuracy is 0.031 ± 0.014 above it, an interval clear of 0. The lessons stand, on firmer ground:
#
# - **Small test sets are coarse.** One Swiss test patient moves accuracy by 6 points.
# - **A mean hides what happens at each site.** The mean gain hides the Swiss column, and a constant
#   answer props up a local-only mean. Report the worst hospital next to the mean; fairness-aware
#   objectives such as q-FFL (Li et al., ICLR 2020) trade mean for worst, and are not run here.
# - **The smallest hospital has the smallest say**, $n_k/n$ in every average.
#
# **Exercise 1.** Compute Switzerland's FedAvg weight $n_k/n$ from `train_sizes`, with code that would
# work for any hospital.

# %%
from fedlite.exercises.nb04a import check_constant_accuracy, check_fedavg_weight

train_sizes = {h: len(d) for h, d in zip(HOSPITALS, trains)}
my_swiss_weight = ...  # use train_sizes
check_fedavg_weight(my_swiss_weight, train_sizes, "switzerland")

# %% [markdown]
# ## 2 · Medical imaging: breast ultrasound across scanners
#
# Imaging is among the most studied uses of FL in medicine (e.g. brain tumours across institutions,
# Sheller et al. 2020). **BreastMNIST** (MedMNIST v2; Al-Dhabyani et al. 2020, 28×28): *malignant* (0)
# versus *normal or benign* (1). We cut its training images into four hospitals (45 %, 30 %, 17 % and
# 8 %), pass each through its own simulated scanner (`scanner_shift`, introduced in 03b), and test each on the
# official test images as its scanner shows them.

# %%
breast = load_medmnist("breastmnist")  # its own cell: offline, the synthetic-data banner appears here

# %%
# NBVAL_CHECK_OUTPUT
from fedlite.heterogeneity.hospitals import scanner_shift

us_train, us_test = breast["train"], breast["test"]
SITES, SHARES = ["large", "mid A", "mid B", "clinic"], [0.45, 0.30, 0.17, 0.08]
order = np.random.default_rng(SEED).permutation(len(us_train))
cuts = (np.cumsum(SHARES)[:-1] * len(us_train)).astype(int)
us_hospitals = [Data(scanner_shift(h.x, k, seed=SEED), h.y)
                for k, h in enumerate(subsets(us_train, np.split(order, cuts)))]
us_tests = [Data(scanner_shift(us_test.x, k, seed=SEED), us_test.y) for k in range(len(SITES))]
print(f"{len(us_train)} training images, {len(us_test)} test images; "
      f"share 'normal or benign' in the test set: {us_test.y.float().mean():.3f}")
for name, h in zip(SITES, us_hospitals):
    print(f"{name:7s} {len(h):4d} training images, {int((h.y == 0).sum()):3d} of them malignant")

# %% [markdown]
# **Exercise 2.** What accuracy does a "model" reach on the ultrasound test set if it answers "normal or
# benign" (label 1) for every image? Compute it from `us_test.y`. A model must beat it before its
# accuracy means anything, which is why we lead with the AUC here.

# %%
my_constant_accuracy = ...  # use us_test.y
check_constant_accuracy(my_constant_accuracy, us_test.y, answer_label=1)

# %% [markdown]
# One test image as the four scanners show it:

# %%
example = us_test.x[:1]
plots.image_grid({"one ultrasound": [example[0]] + [scanner_shift(example, k, seed=SEED)[0]
                                                    for k in range(len(SITES))]},
                 captions={"one ultrasound": ["original"] + [f"{s}'s scanner" for s in SITES]}, size=1.6)
plt.show()

# %% [markdown]
# A seed-0 demonstration: local-only against FedAvg with the course's CNN in its BatchNorm variant
# (`norm=True`, which FedBN needs in section 3), ten epochs or rounds; then the same on 5 seeds.

# %%
US_LOCAL, US_ROUNDS = LocalConfig(lr=0.02, momentum=0.9, batch_size=32), 10


def cnn():
    return make_model("cnn", seed=SEED, norm=True)


def last_round(history):
    """Each hospital's last-round metrics on its own test set."""
    acc, auc = history.client_metric("accuracy")[-1], history.client_metric("auc")[-1]
    return [{"accuracy": a, "auc": u} for a, u in zip(acc, auc)]


us_local_run, _ = run_local_only(cnn(), us_hospitals, us_test, epochs=US_ROUNDS, local=US_LOCAL,
                                 client_tests=us_tests, seed=SEED, progress=False)
us_global = cnn()
us_fedavg_run = run_federated(us_global, us_hospitals, us_test, rounds=US_ROUNDS, local=US_LOCAL,
                              client_tests=us_tests, seed=SEED, progress=False)
show({"local-only": last_round(us_local_run), "FedAvg": last_round(us_fedavg_run)}, SITES, "auc")
print()
seeds_table("us", SITES, "auc", ["local_only", "fedavg"])
seeds_table("us", SITES, "accuracy", ["local_only", "fedavg"])

# %% [markdown]
# On 5 seeds the two small hospitals gain AUC from FedAvg, the clinic most (its local-only model is
# 0.172 ± 0.073 below FedAvg, mid B's 0.070 ± 0.035), while at the two larger ones the interval of the
# difference contains 0: they do about as well alone. That is the classic argument for FL in imaging: a
# small clinic gets a model trained on many hospitals' images without receiving one of them. In
# accuracy every interval contains 0, so no difference can be told from noise; the seed-to-seed spread
# is wide (up to ±0.254 at the clinic), and answering "normal or benign" for every image already scores
# 0.731, the share printed above Exercise 2, so accuracy is a weak yardstick here. Not shown: real
# sites differ by far more than a gamma curve and blur, and real studies validate on hospitals that
# never trained the model.

# %% [markdown]
# ## 3 · Personalized treatment: one model per hospital
#
# "Personalized treatment" in FL usually means **personalized models**: the federation learns what the
# hospitals share, then each adapts the result to its own patients (a model per *patient* needs far
# more data per patient than exists here). Two recipes:
#
# - **Local fine-tuning** (Wang et al. 2019; Yu, Bagdasaryan & Shmatikov 2020): each hospital trains the
#   global model $E$ more epochs on its own data, `fine_tune_all(global_model, hospitals, epochs=E)`.
#   $E = 0$ is the global model; a large $E$ drifts to the local-only one. We fix $E$ before looking at
#   any test result, a tenth of the federated training: $E = 3$ (heart) and $E = 1$ (ultrasound).
# - **FedBN-style local normalization** (Li et al. 2021): the normalization layers never leave the
#   hospital. Logistic regression has none, so we put a `BatchNorm1d` in front: kept local, its learned
#   shift acts as a hospital-specific baseline risk, the weights behind it are shared. Note what else it
#   does: it standardizes each hospital's inputs with **that hospital's own statistics**, which is 03b's
#   normalization trap, undoing the federated standardization.
#
# The cell runs both on the heart hospitals (seed 0), then fine-tunes for a range of $E$ and draws each
# hospital's accuracy (dotted: its local-only model).

# %%
PERSONAL_EPOCHS, E_GRID = 3, [0, 1, 2, 3, 5, 10, 20, 30]
heart_table["fine-tuned E=3"] = evaluate_clients(
    fine_tune_all(fedavg_model, trains, epochs=PERSONAL_EPOCHS, local=HEART_LOCAL, seed=SEED), tests)
bn_model = nn.Sequential(nn.BatchNorm1d(trains[0].x.shape[1]), logreg())
heart_table["FedBN-style"] = last_round(run_federated(
    bn_model, trains, pooled_test, rounds=HEART_ROUNDS, local=HEART_LOCAL, seed=SEED,
    local_keys=batchnorm_keys(bn_model), client_tests=tests, progress=False))
show(heart_table, HOSPITALS, "accuracy")
CHOL = [HEART_FEATURES.index("chol"), -1]   # cholesterol (imputed where 0) and 'chol_missing'
print("training std of (chol, chol_missing), what a local BatchNorm divides by: "
      + ", ".join(f"{h} {d.x[:, CHOL].std(0)[0]:.2f}, {d.x[:, CHOL].std(0)[1]:.2f}" for h, d in zip(HOSPITALS, trains)))

path = np.array([[r["accuracy"] for r in evaluate_clients(
    fine_tune_all(fedavg_model, trains, epochs=e, local=HEART_LOCAL, seed=SEED), tests)] for e in E_GRID])
fig, ax = plt.subplots(figsize=(7.5, 3.4), layout="constrained")
for k, h in enumerate(HOSPITALS):
    line, = ax.plot(E_GRID, path[:, k], marker="o", markersize=3, label=h)
    ax.axhline(heart_table["local-only"][k]["accuracy"], color=line.get_color(), linestyle=":", linewidth=1)
ax.axvline(PERSONAL_EPOCHS, color="grey", linewidth=0.8, label=f"E = {PERSONAL_EPOCHS} (chosen beforehand)")
ax.set_xscale("symlog", linthresh=1)
ax.set_xticks(E_GRID, [str(e) for e in E_GRID])
ax.set(xlabel="fine-tuning epochs E at the hospital (0 = the FedAvg model)", ylabel="accuracy on own test set",
       title="Fine-tuning slides from the global model towards the local one (seed 0)")
ax.grid(alpha=0.3)
ax.legend(fontsize="small", loc="center left", bbox_to_anchor=(1.0, 0.5))
plt.show()

# %% [markdown]
# Each line starts at FedAvg and heads for its dotted local-only line as $E$ grows; Switzerland's
# reaches the constant "sick" answer after one epoch. The 5-seed tables
# below say which of these moves are more than noise, for both federations; the plot after them shows
# every setting minus FedAvg with its interval.

# %%
seeds_table("heart", HOSPITALS, "accuracy", ["fedavg", "fine_tuned", "fedbn"])
seeds_table("heart", HOSPITALS, "auc", ["fedavg", "fine_tuned", "fedbn"])
print(f"fine-tuned E=3 calls {STORED['heart_fine_tuned'].final('says_sick/switzerland').astype(int).tolist()} "
      "of the 16 Swiss test patients sick (seeds 0-4)\n")
seeds_table("us", SITES, "auc", ["fedavg", "fine_tuned", "fedbn"])

fig, axes = plt.subplots(1, 2, figsize=(13, 3.6), layout="constrained")
for ax, (federation, names, others) in zip(axes, [("heart", HOSPITALS, ["local_only", "fine_tuned", "fedbn"]),
                                                 ("us", SITES, ["local_only", "fine_tuned", "fedbn"])]):
    x, width = np.arange(len(names)), 0.8 / len(others)
    for i, setting in enumerate(others):
        run, base = STORED[f"{federation}_{setting}"], STORED[f"{federation}_fedavg"]
        ds = [evidence.paired_values(run.final(f"auc/{n}"), base.final(f"auc/{n}")) for n in names]
        ax.bar(x + (i - 1) * width, [d.mean for d in ds], width, yerr=[d.half_width for d in ds], capsize=3,
               label=f"{run.name} − FedAvg")
    ax.axhline(0, color="black", linewidth=0.8)
    ax.set_xticks(x, names)
    ax.set(ylabel="AUC difference (5 seeds, 95 % interval)",
           title="Heart disease" if federation == "heart" else "Breast ultrasound, four scanners")
    ax.grid(axis="y", alpha=0.3)
    ax.legend(fontsize="small")
plt.show()

# %% [markdown]
# What the 5 seeds support:
#
# - **On the heart hospitals personalization does not help.** In AUC, fine-tuning and FedBN-style both
#   rank VA's patients worse than FedAvg (−0.037 ± 0.011 and −0.050 ± 0.019, intervals clear of 0);
#   elsewhere the differences are a few thousandths or contain 0. At VA both also lose accuracy
#   (−0.058 ± 0.015 and −0.053 ± 0.031). A likely mechanism for FedBN-style's VA loss, which we did not
#   isolate: its local BatchNorm is per-hospital standardization, the normalization trap that cost
#   FedAvg accuracy and AUC in 03b (paired intervals below 0 there). It also erases columns: the std
#   printed above the plot is 0 for both cholesterol columns at Switzerland (every value imputed), so a
#   local BatchNorm maps them to 0 there. The one clear accuracy gain is fine-tuning's at Switzerland,
#   and it comes from calling all 16 Swiss patients sick in every seed: the constant answer again.
#   (The first edition, with the raw zeros and one seed, read a Swiss gain into both recipes that was
#   not a constant answer; it does not survive.)
# - **On ultrasound, no recipe wins overall.** FedBN's mean AUC is within noise of FedAvg's; it gains
#   at mid A (+0.030 ± 0.012) and loses at the clinic (−0.021 ± 0.005): a mean that hides a loss at the
#   smallest site. Fine-tuning for one epoch changes no hospital's AUC beyond noise.
# - **What would make this a real choice:** a validation split at each hospital to choose $E$ (or
#   between FedAvg, fine-tuning and FedBN), and larger test sets. A hospital that only needs another
#   threshold can set it on its own validation data without retraining.

# %% [markdown]
# ## Recap
#
# - **Judge a federation per hospital, on several seeds.** FedAvg clearly helps the three larger heart
#   hospitals and the two small ultrasound sites; Switzerland, with no healthy training patient and one
#   healthy test patient, shows how a constant answer and a mean can mislead.
# - **Personalization** (`fine_tune_all`, FedBN) moves results hospital by hospital in both directions:
#   on the heart data it cost VA and "gained" only by answering "sick" for every Swiss patient; on
#   ultrasound FedBN gained at one site and lost at the clinic. Choose it on validation data.
#
# **Next:** [04b · Patients' devices and drug discovery](04b_devices_and_drug_discovery.ipynb).
#
# *The datasets are for teaching only: not for clinical use.*
#
# **Play with it:** every knob of this course, live, in the [playground](playground.ipynb).
