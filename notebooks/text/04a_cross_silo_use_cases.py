# %% [markdown]
# # 04a · Medical use cases across hospitals: prediction, imaging, personalization
#
# > **中文摘要：**跨机构联邦学习（cross-silo FL）的三个医疗场景：在四家心脏病医院上逐院比较联邦学习的得与失，在四家使用不同超声设备的医院上训练乳腺超声分类器。
# > 比较个性化联邦学习（personalization）的两种做法——本地微调（fine-tuning）与 FedBN 式本地归一化——并学会逐院阅读结果。
#
# Introductions to federated learning in healthcare usually name five uses: predicting disease from
# several hospitals' records, medical imaging, personalized treatment, remote care with wearables, and
# drug discovery across companies. A list like that is easy to write and hard to check. This notebook
# and the next work each use on real data, as far as the kit allows, and say plainly where they stop:
# which parts run here, which parts are a stand-in, and what a faithful study would need instead. This
# one takes the three uses *across hospitals* (cross-silo); [04b](04b_devices_and_drug_discovery.ipynb)
# takes patients' devices and drug discovery.
#
# **In this notebook you will**
# - predict heart disease across four real hospitals and compare pooled, local-only and federated
#   training hospital by hospital: who gains from the federation, who loses, and what happens to the
#   smallest site;
# - train a breast-ultrasound classifier across four hospitals of very different sizes, each with its
#   own scanner;
# - personalize the federated model for each hospital (local fine-tuning, and FedBN-style local
#   normalization) and compare it, per hospital, with the global and the local-only models;
#
# **Time:** about 55 minutes (the notebook itself runs in under a minute).
# **Prerequisites:** [01 · Centralized vs federated](01_centralized_vs_federated.ipynb),
# [02 · FedAvg math](02_fedavg_math.ipynb), [03a · Non-IID hospitals](03a_non_iid_hospitals.ipynb) and
# [03b · Real hospitals](03b_real_hospitals.ipynb):
# `run_federated`, the weights $n_k/n$, scanner shift, FedBN and the four heart-disease hospitals with
# federated standardization.
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
# | use | data in this notebook | what runs here | what is a stand-in |
# |---|---|---|---|
# | 1 · disease prediction | UCI Heart Disease, four real hospitals | everything | nothing |
# | 2 · medical imaging | BreastMNIST ultrasound, cut into four hospitals | training and evaluation | the hospitals and their scanners are simulated |
# | 3 · personalized treatment | the same two federations | fine-tuning, FedBN | a personal model per *hospital*, not per patient |
#
# Uses 4 (remote care with wearables) and 5 (drug discovery) are in
# [04b · Patients' devices and drug discovery](04b_devices_and_drug_discovery.ipynb).
#
# Every number below comes from a cell you can run. Every run uses seed 0. The runs are short so that
# the notebook stays under a minute, and the text says where a longer run could change the picture.

# %%
import matplotlib.pyplot as plt
import numpy as np
import torch
from torch import nn

from fedlite import (LocalConfig, batchnorm_keys, evaluate, make_model, plots, pool, run_centralized,
                     run_federated, run_local_only)
from fedlite.heterogeneity import partition
from fedlite.data import Data, subsets
from fedlite.datasets import load_heart_disease, load_medmnist
from fedlite.datasets.heart import heart_hospitals
from fedlite.heterogeneity.personalize import fine_tune_all
from fedlite.history import History
from fedlite.simulation import federated_round, start_federation

SEED = 0


def per_hospital(history):
    """The last round's metrics of every hospital's model on its own test set, from a History."""
    acc, auc = history.client_metric("accuracy")[-1], history.client_metric("auc")[-1]
    return [{"accuracy": a, "auc": u} for a, u in zip(acc, auc)]


def show(table, names, key):
    """One row per setting, one column per hospital, then the unweighted mean and the worst hospital."""
    print(f"{key} on each hospital's own test set (mean: unweighted, each hospital counts once)")
    print(f"{'trained as':18s}" + "".join(f"{n:>12s}" for n in names) + f"{'mean':>8s}{'worst':>8s}")
    for setting, row in table.items():
        values = [r[key] for r in row]
        print(f"{setting:18s}" + "".join(f"{v:12.3f}" for v in values)
              + f"{np.mean(values):8.3f}{np.min(values):8.3f}")

# %% [markdown]
# ## 1 · Disease prediction across hospitals
#
# The four heart-disease hospitals of notebook 03b: Cleveland, Budapest (Hungarian), Zürich and Basel
# (Switzerland) and Long Beach (VA), with FLamby's train/test split. We standardize every feature with
# **federated statistics** (each hospital sends $n_k$, $\sum x$ and $\sum x^2$; notebook 03b), so no row
# leaves a hospital even for preprocessing.
#
# This time each model is judged on **each hospital's own test patients**: that is what a hospital
# cares about. The last column of the table says how many accuracy points a single test patient is
# worth there.

# %%
heart = load_heart_disease()  # its own cell: offline, the synthetic-data banner appears here

# %%
# NBVAL_CHECK_OUTPUT
HOSPITALS, trains, tests, _, _ = heart_hospitals(heart)   # standardized with federated statistics (03b)
print(f"{'hospital':12s} {'train':>5s} {'test':>5s} {'sick (train)':>12s} {'sick (test)':>11s} "
      f"{'one test patient':>17s}")
for h, tr, te in zip(HOSPITALS, trains, tests):
    print(f"{h:12s} {len(tr):5d} {len(te):5d} {tr.y.float().mean().item():12.2f} "
          f"{te.y.float().mean().item():11.2f} {100 / len(te):12.1f} pts")

# %% [markdown]
# Three ways to train, all with the settings of notebook 03b (logistic regression, plain SGD, learning
# rate 0.05, batches of 16, 30 epochs or rounds):
#
# - **pooled**: the four training sets in one place, which privacy rules usually rule out for patient
#   records. It is the usual reference, not necessarily the best model at each hospital (the table
#   below has hospitals where FedAvg beats it);
# - **local-only**: each hospital trains alone, and is tested with its own model;
# - **FedAvg**: the four hospitals train one shared model, 30 rounds of one local epoch.

# %%
from fedlite.metrics import evaluate_clients

HEART_LOCAL, HEART_ROUNDS = LocalConfig(lr=0.05, batch_size=16), 30
pooled_test = pool(tests)


def logreg():
    return make_model("logreg", seed=0, in_features=trains[0].x.shape[1])


pooled_model = logreg()
run_centralized(pooled_model, pool(trains), pooled_test, epochs=HEART_ROUNDS, local=HEART_LOCAL, seed=SEED,
                progress=False)
local_models = [logreg() for _ in trains]
for model, data in zip(local_models, trains):
    run_centralized(model, data, pooled_test, epochs=HEART_ROUNDS, local=HEART_LOCAL, seed=SEED, progress=False)
fedavg_model = logreg()
run_federated(fedavg_model, trains, pooled_test, rounds=HEART_ROUNDS, local=HEART_LOCAL, seed=SEED,
              progress=False)
heart_table = {"pooled": evaluate_clients(pooled_model, tests),        # one model for every hospital
               "local-only": evaluate_clients(local_models, tests),    # hospital k's own model on its tests
               "FedAvg": evaluate_clients(fedavg_model, tests)}
show(heart_table, HOSPITALS, "accuracy")
print()
show(heart_table, HOSPITALS, "auc")

# %% [markdown]
# ### Who gains, who loses
#
# A federation is worth joining for a hospital if the shared model serves *its* patients better than
# the model it could train alone. The plot shows, per hospital, the change from its local-only model to
# FedAvg (and to pooled training), in accuracy and in AUC. Bars above zero are gains.

# %%
def gain(setting, key):
    return [s[key] - b[key] for s, b in zip(heart_table[setting], heart_table["local-only"])]


fig, axes = plt.subplots(1, 2, figsize=(11, 3.4), layout="constrained")
for ax, key in zip(axes, ["accuracy", "auc"]):
    plots.client_bars({"FedAvg − local-only": gain("FedAvg", key), "pooled − local-only": gain("pooled", key)},
                      client_names=HOSPITALS, ax=ax, ylabel=f"change in {'AUC' if key == 'auc' else key}")
    ax.axhline(0, color="black", linewidth=0.8)
    ax.set_xlabel("hospital (tested on its own patients)")
fig.suptitle("What each hospital gains by training with the others instead of alone")
plt.show()

# %% [markdown]
# For the three larger hospitals FedAvg beats the local-only model in both accuracy and AUC (the bars
# are above zero): that is what a federation is for. Switzerland is the exception in accuracy, and the
# reason is in its data. The cell below counts the healthy patients in the Swiss training and test
# splits, and asks the Swiss local model what it says about its test patients.

# %%
from fedlite.metrics import predict

swiss = HOSPITALS.index("switzerland")
p_sick = predict(local_models[swiss], tests[swiss].x).softmax(1)[:, 1]  # the model's P(sick) per patient
says_sick = (p_sick > 0.5).float().mean().item()
healthy = tests[swiss].y == 0
print(f"Swiss training split: {int((trains[swiss].y == 0).sum())} healthy patient(s) out of {len(trains[swiss])}")
print(f"the Swiss local model calls {says_sick:.0%} of the Swiss test patients sick; "
      f"the Swiss test split has {int(healthy.sum())} healthy patient(s) out of {len(tests[swiss])}")
print(f"its P(sick) still differs from patient to patient: {p_sick.min():.3f} to {p_sick.max():.3f}; "
      f"the healthy patient's P(sick) is above that of {int((p_sick[~healthy] < p_sick[healthy].max()).sum())} "
      f"of the {int((~healthy).sum())} sick patients")

# %% [markdown]
# The Swiss training split has no healthy patient, so its local model has only ever seen "sick", and it
# calls every Swiss test patient sick (the first two lines above). Its high Swiss accuracy is the
# accuracy of a constant answer on a test split where nearly everyone is sick: it would send every
# healthy Swiss patient to the catheter lab.
#
# Why, then, is its Swiss AUC in the table above not 0.5, the AUC of a constant score? Because its
# *decisions* are constant but its *scores* are not: the last line shows that its probability of
# "sick" still differs from patient to patient, and AUC only asks how the scores rank the patients.
# With one healthy test patient, the Swiss AUC is simply the fraction of the sick patients that the
# model scores above that one person (the last line counts the others). Only a model whose scores are
# all equal is pinned to an AUC of 0.5; constant decisions are not. So both Swiss numbers are fragile:
# the accuracy rewards saying "sick", and the AUC rests on one healthy patient.

# %% [markdown]
# Three lessons for reading per-hospital results:
#
# - **Small test sets are coarse.** One Swiss test patient is worth several accuracy points (the
#   first table of this section); a difference of a few points there is one patient.
# - **A mean can hide gains, and losses.** In the accuracy table FedAvg beats local-only at three of
#   the four hospitals, yet its unweighted mean is *lower*: the Swiss constant answer props up the
#   local-only mean. The other way round, a gain in the mean can hide a loss at one site. Read the
#   hospital columns, and report the worst hospital next to the mean, as the tables do. Fairness-aware
#   objectives such as q-FFL (Li, Sanjabi, Beirami & Smith, ICLR 2020) trade some average accuracy for a
#   better worst hospital; we do not run them here.
# - **The smallest hospital has the smallest say.** FedAvg weighs each update by $n_k/n$, so a hospital
#   that differs from the rest *and* is small is the one the shared model fits least.
#
# **Exercise 1.** How much say does Switzerland have in every FedAvg average? Compute its weight
# $n_k/n$ from the training-set sizes in `train_sizes` (a fraction between 0 and 1), with code that would work for any hospital.

# %%
from fedlite.exercises.nb04a import check_constant_accuracy, check_fedavg_weight

train_sizes = {h: len(d) for h, d in zip(HOSPITALS, trains)}
my_swiss_weight = ...  # use train_sizes
check_fedavg_weight(my_swiss_weight, train_sizes, "switzerland")

# %% [markdown]
# ## 2 · Medical imaging: breast ultrasound across scanners
#
# Imaging is one of the most studied uses of FL in medicine (for example brain-tumour segmentation across
# institutions, Sheller et al. 2020): a hospital's images are large, sensitive and tied to its machines.
# We use **BreastMNIST** (MedMNIST v2; breast ultrasound from Al-Dhabyani et
# al. 2020, shrunk to 28×28): *malignant* (0) versus *normal or benign* (1).
#
# We cut its training images into four hospitals of very different sizes (45%, 30%, 17% and 8% of the
# images: a teaching hospital, two mid-size hospitals and a small clinic), and pass each hospital's
# images through its own simulated scanner (`scanner_shift` from notebook 03a: gamma, contrast,
# brightness, blur and noise). Each hospital is tested on the official test images *as its own scanner
# shows them*.

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
# The test set is mostly "normal or benign" (the share printed above), so a model that never says
# "malignant" already reaches that accuracy. We therefore lead with the **AUC**, which asks how well the
# model's scores rank malignant below benign images: scores that are all equal get 0.5, whatever the
# threshold.
#
# **Exercise 2.** What accuracy does a "model" score on the ultrasound test set if it answers "normal or
# benign" (label 1) for every image? Compute it from `us_test.y`.

# %%
my_constant_accuracy = ...  # use us_test.y
check_constant_accuracy(my_constant_accuracy, us_test.y, answer_label=1)

# %% [markdown]
# Here is one test image as the four scanners show it.

# %%
example = us_test.x[:1]
plots.image_grid({"one ultrasound": [example[0]] + [scanner_shift(example, k, seed=SEED)[0]
                                                    for k in range(len(SITES))]},
                 captions={"one ultrasound": ["original"] + [f"{s}'s scanner" for s in SITES]}, size=1.6)
plt.show()

# %% [markdown]
# Local-only against FedAvg, with the course's small CNN in its BatchNorm variant (`norm=True`): FedBN
# in section 3 needs normalization layers, and every setting uses the same model so that the rows
# compare training, not architectures. Ten epochs or rounds (of one local epoch) each, to stay within
# the time budget; with more rounds the numbers below could still move.

# %%
US_LOCAL, US_ROUNDS = LocalConfig(lr=0.02, momentum=0.9, batch_size=32), 10


def cnn():
    return make_model("cnn", seed=0, norm=True)


us_local_run, _ = run_local_only(cnn(), us_hospitals, us_test, epochs=US_ROUNDS, local=US_LOCAL,
                              client_tests=us_tests, seed=SEED, progress=False)
us_global = cnn()
us_fedavg_run = run_federated(us_global, us_hospitals, us_test, rounds=US_ROUNDS, local=US_LOCAL,
                              client_tests=us_tests, seed=SEED, progress=False)
imaging_table = {"local-only": per_hospital(us_local_run), "FedAvg": per_hospital(us_fedavg_run)}
show(imaging_table, SITES, "auc")
print()
show(imaging_table, SITES, "accuracy")

# %% [markdown]
# Read the AUC rows from left to right. The two larger hospitals have enough images to do reasonably on
# their own, and FedAvg changes little for them, in either direction. The two smaller ones have weaker
# local-only models and gain the most, the clinic above all: this is the classic argument for FL in
# imaging, a small clinic getting a model trained on many hospitals' images without receiving a single
# one of them. The "worst" column makes the same point in one number. Accuracy moves less, and for a
# reason you know by now: most test images are "normal or benign", so a weak model already scores well
# by saying so. Compare the two small hospitals' local-only accuracy with the share of "normal or
# benign" test images printed further up: they are equal, so those two models do no better than
# answering "normal or benign" every time.
#
# What this does *not* show: real multi-site imaging differs by far more than a gamma curve and some
# blur (vendors, protocols, patient populations, labelling habits), and real studies report external
# validation on hospitals that never trained the model.

# %% [markdown]
# ## 3 · Personalized treatment: one model per hospital
#
# "Personalized treatment" in FL usually means **personalized models**: the federation learns what the
# hospitals share, then each hospital adapts the result to its own patients. (A model per *patient*
# needs far more data per patient than any dataset here, and is not what the kit can show.) Two recipes:
#
# - **Local fine-tuning** (Wang et al. 2019; Yu, Bagdasaryan & Shmatikov 2020): after federated
#   training, each hospital takes the global model and trains $E$ more epochs on its own data:
#   `fedlite.heterogeneity.personalize.fine_tune_all(global_model, hospitals, epochs=E, ...)`. $E = 0$ is
#   the global model, a large $E$ drifts towards the local-only model.
# - **FedBN-style local normalization** (Li et al. 2021, notebook 03a): the normalization layers never
#   leave the hospital, so each hospital normalizes its own inputs its own way, during training and use.

# %% [markdown]
# We fix the fine-tuning budget before looking at any test result: a tenth of the federated training,
# that is $E = 3$ epochs for the heart hospitals (30 rounds) and $E = 1$ for the ultrasound (10 rounds).
# Choosing $E$ on the test sets would flatter personalization; a real study chooses it on a
# validation split at each hospital.
#
# For the heart hospitals, logistic regression has no normalization layer, so the FedBN-style model
# puts one in front: `BatchNorm1d` standardizes each hospital's inputs with that hospital's own running
# mean and variance and then applies a learned scale and shift. Kept local, that shift acts as a
# hospital-specific baseline risk; the weights behind it are shared.

# %%
PERSONAL_EPOCHS = 3
personal_models = fine_tune_all(fedavg_model, trains, epochs=PERSONAL_EPOCHS, local=HEART_LOCAL, seed=SEED)
heart_table["fine-tuned"] = evaluate_clients(personal_models, tests)

bn_model = nn.Sequential(nn.BatchNorm1d(trains[0].x.shape[1]), logreg())
# FedBN-style, one round at a time: `federation` carries what survives between rounds, including
# `federation.private[k]`, hospital k's own normalization layer as it was after its last round.
federation = start_federation(bn_model, seed=SEED)
fedbn_run = History("FedBN-style")
for _ in range(HEART_ROUNDS):
    federation, record = federated_round(bn_model, trains, pooled_test, federation, local=HEART_LOCAL,
                                         local_keys=batchnorm_keys(bn_model), client_tests=tests)
    fedbn_run.rounds.append(record)
bn_local = federation.private
heart_table["FedBN-style"] = per_hospital(fedbn_run)
show(heart_table, HOSPITALS, "accuracy")
print()
show(heart_table, HOSPITALS, "auc")

# %% [markdown]
# These two tables are the chapter's main result for disease prediction: every training setting,
# tested on each hospital's own patients. Before reading them, look at what fine-tuning does as $E$
# grows. The next cell fine-tunes the FedAvg model for $E$ = 0, 1, 2, 3, 5, 10, 20 and 30 epochs at each
# hospital (`E_GRID`; cheap for a linear model) and draws each hospital's test accuracy; the dotted
# lines are the hospitals' local-only models.

# %%
E_GRID = [0, 1, 2, 3, 5, 10, 20, 30]
path = np.array([[r["accuracy"] for r in evaluate_clients(fine_tune_all(fedavg_model, trains, epochs=e,
                                                                      local=HEART_LOCAL, seed=SEED), tests)]
                 for e in E_GRID])
fig, ax = plt.subplots(figsize=(7.5, 3.6), layout="constrained")
for k, h in enumerate(HOSPITALS):
    line, = ax.plot(E_GRID, path[:, k], marker="o", markersize=3, label=h)
    ax.axhline(heart_table["local-only"][k]["accuracy"], color=line.get_color(), linestyle=":", linewidth=1)
ax.axvline(PERSONAL_EPOCHS, color="grey", linewidth=0.8, label=f"E = {PERSONAL_EPOCHS} (chosen beforehand)")
ax.set_xscale("symlog", linthresh=1)
ax.set_xticks(E_GRID, [str(e) for e in E_GRID])
ax.set_xlabel("fine-tuning epochs E at the hospital (0 = the FedAvg model)")
ax.set_ylabel("accuracy on own test set")
ax.set_title("Fine-tuning slides from the global model towards the local one")
ax.grid(alpha=0.3)
ax.legend(fontsize="small", loc="center left", bbox_to_anchor=(1.0, 0.5))
plt.show()

# %% [markdown]
# Each line starts at the FedAvg model and, as $E$ grows, heads for its dotted local-only line. For the
# three larger hospitals a short fine-tuning changes the answers for only a few patients, and a long
# one gives back what the federation brought. Switzerland climbs instead, to the accuracy of its
# local-only model, the constant "sick" answer.
#
# A Swiss "gain" that came from returning to the constant answer would be no gain at all. The next cell
# reruns the check of section 1 on every Swiss model: how many of the Swiss test patients it calls
# sick, and how it sorts the sick and the healthy ones (a confusion count, true class → prediction).

# %%
import copy

bn_swiss = copy.deepcopy(bn_model)                                  # the shared weights after the last round,
bn_swiss.load_state_dict({**bn_model.state_dict(), **bn_local[swiss]})  # with the Swiss normalization layer
long_tuned = fine_tune_all(fedavg_model, trains, epochs=E_GRID[-1], local=HEART_LOCAL, seed=SEED)  # sweep's end
swiss_models = {"pooled": pooled_model, "local-only": local_models[swiss], "FedAvg": fedavg_model,
                f"fine-tuned E={PERSONAL_EPOCHS}": personal_models[swiss],
                f"fine-tuned E={E_GRID[-1]}": long_tuned[swiss], "FedBN-style": bn_swiss}
sick = tests[swiss].y == 1
print(f"Swiss test split: {int(sick.sum())} sick, {int((~sick).sum())} healthy; "
      f"one patient moves accuracy by {1 / len(sick):.4f}")
print(f"{'trained as':15s} {'says sick':>9s} {'sick→sick':>10s} {'sick→healthy':>13s} {'healthy→sick':>13s} "
      f"{'healthy→healthy':>16s} {'accuracy':>9s} {'AUC':>6s}")
for name, model in swiss_models.items():
    said = predict(model, tests[swiss].x).argmax(1) == 1
    score = evaluate(model, tests[swiss])
    print(f"{name:15s} {int(said.sum()):9d} {int((said & sick).sum()):10d} {int((~said & sick).sum()):13d} "
          f"{int((said & ~sick).sum()):13d} {int((~said & ~sick).sum()):16d} {score['accuracy']:9.3f} "
          f"{score['auc']:6.3f}")

# %% [markdown]
# The counts tell the Swiss models apart where the accuracy cannot. The split has 15 sick patients and
# 1 healthy one, so one patient moves the Swiss accuracy by 1/16 (the first line prints 0.0625), and
# every statement about healthy Swiss patients rests on a single person.
#
# - **Fine-tuned for the whole sweep** ($E$ = 30, the top of the Swiss line in the plot) the model is
#   back to the constant answer: it calls all 16 patients sick, the healthy one included, exactly like
#   the local-only model, and matches its accuracy. That is no gain; it is the habit the Swiss
#   training split taught.
# - **Fine-tuned with the budget chosen beforehand, and FedBN-style**, the models are not constant:
#   both still call the healthy patient healthy, and they call two or three more sick patients sick
#   than FedAvg does. That is their whole accuracy gain over FedAvg. The FedBN-style model ties with
#   local-only by another route: it misses one sick patient instead of calling the healthy one sick.
# - **Their ranking is FedAvg's.** Their Swiss AUC equals FedAvg's (and pooled training's): they moved
#   the threshold towards "sick", they did not learn to tell Swiss patients apart any better.
#
# So the Swiss column does not show that personalization helps Swiss patients. A lower threshold on a
# test split where 15 of 16 patients are sick is rewarded almost automatically, and one healthy test
# patient cannot show what it would do to the healthy Swiss patients who come next.

# %% [markdown]
# Now the same two recipes on the ultrasound hospitals, where FedBN was designed to help (different
# scanners).

# %%
us_personal = fine_tune_all(us_global, us_hospitals, epochs=1, local=US_LOCAL, seed=SEED)
imaging_table["fine-tuned"] = evaluate_clients(us_personal, us_tests)
model = cnn()
us_fedbn_run = run_federated(model, us_hospitals, us_test, rounds=US_ROUNDS, local=US_LOCAL, seed=SEED,
                             local_keys=batchnorm_keys(model), client_tests=us_tests, progress=False)
imaging_table["FedBN"] = per_hospital(us_fedbn_run)
show(imaging_table, SITES, "auc")

# %% [markdown]
# The bars put both federations side by side, every setting at every hospital. Both y-axes start at
# 0.5, not at 0, so the bars make the differences look larger than they are: read the heights against
# the grid lines, and the exact values in the tables above.

# %%
fig, (left, right) = plt.subplots(1, 2, figsize=(14, 3.8), layout="constrained")
plots.client_bars({name: [r["accuracy"] for r in rows] for name, rows in heart_table.items()},
                  client_names=HOSPITALS, ax=left, ylabel="accuracy on own test set")
left.set_ylim(0.5, 1.0)
left.set_title("Heart disease: every setting, each hospital's own patients")
right.set_prop_cycle(color=["tab:orange", "tab:green", "tab:red", "tab:purple"])  # same setting, same colour
plots.client_bars({name: [r["auc"] for r in rows] for name, rows in imaging_table.items()},
                  client_names=SITES, ax=right, ylabel="AUC on own scanner's test images")
right.set_ylim(0.5, 1.0)
right.set_title("Breast ultrasound: four hospitals, four scanners")
for ax in (left, right):
    ax.legend(fontsize="small", loc="upper left", bbox_to_anchor=(1.0, 1.0))
plt.show()

# %% [markdown]
# What the tables and bars support, and what they do not:
#
# - **Personalization is not free accuracy.** Each recipe helps some hospitals and costs others a few
#   patients; read the hospital columns and the "worst" column of each table, not only the mean.
# - **On the heart data, its accuracy gain is Switzerland's alone.** Both recipes have a higher mean
#   accuracy than FedAvg, but in the cleveland, hungarian and va columns they tie with FedAvg or lose
#   to it. The whole gain in the mean is the Swiss column, which the Swiss check above traces to a few
#   more sick patients called sick.
# - **In AUC it does not help the heart hospitals.** Compare the AUC table: neither recipe ranks the
#   patients better than FedAvg, and at VA both rank them worse. On this data personalization mostly
#   moved the decision threshold, which a hospital could also set on its own validation data without
#   retraining anything.
# - **On ultrasound, FedBN is the recipe made for differing scanners.** In our run it has the best mean
#   and worst AUC of the four settings, but the margins are a few hundredths, and at the clinic FedBN
#   is below FedAvg: its better mean hides a loss at the smallest site. Our scanner differences are
#   mild and our runs short, so another seed could reorder the rows.
# - **What would make this a real result:** a validation split at each hospital to choose $E$ (or
#   between FedAvg, fine-tuning and FedBN), several seeds, and larger test sets. The tables show the
#   method; they do not prove which recipe a hospital should use.

# %% [markdown]
# ## Recap
#
# - **Judge a federation per hospital.** On the heart hospitals FedAvg helps the three larger sites,
#   while Switzerland, with no healthy training patient and a tiny test set, shows how a mean hides what
#   happens at each site. Report the worst hospital next to the mean, and check what a high accuracy
#   on a one-sided test split is made of.
# - **Small hospitals gain most** when their data are too few to learn alone, as the smallest
#   ultrasound clinic showed.
# - **Personalization** (`fedlite.heterogeneity.personalize.fine_tune_all`, FedBN) adapts the shared model to each
#   hospital; it moves results hospital by hospital in both directions and must be chosen on validation
#   data.
#
# **Next:** [04b · Patients' devices and drug discovery](04b_devices_and_drug_discovery.ipynb):
# cross-device FL with 100 simulated devices that drop out, and what drug companies federate
# (MELLODDY, vertical FL).
#
# *The datasets are for teaching only: not for clinical use.*
#
# **Play with it:** every knob of this course, live, in the [playground](playground.ipynb).
