# %% [markdown]
# # 04 · Medical use cases: five federations, worked on data
#
# Introductions to federated learning in healthcare usually name five uses: predicting disease from
# several hospitals' records, medical imaging, personalized treatment, remote care with wearables, and
# drug discovery across companies. A list like that is easy to write and hard to check. This notebook
# works each use on real data, as far as the kit allows, and says plainly where it stops: which parts
# run here, which parts are a stand-in, and what a faithful study would need instead.
#
# **In this notebook you will**
# - predict heart disease across four real hospitals and compare pooled, local-only and federated
#   training hospital by hospital: who gains from the federation, who loses, and what happens to the
#   smallest site;
# - train a breast-ultrasound classifier across four hospitals of very different sizes, each with its
#   own scanner;
# - personalize the federated model for each hospital (local fine-tuning, and FedBN-style local
#   normalization) and compare it, per hospital, with the global and the local-only models;
# - simulate remote monitoring: 100 patients' devices, 10 of them asked per round, some dropping out
#   mid-round, and see that random dropouts leave the expected mix of data behind the model unchanged
#   while dropouts that depend on the patient shift it (a 20-round run is too short to show any effect
#   on the model itself);
# - see how drug companies federate (cross-silo, MELLODDY), what vertical federated learning is, and
#   train a small vertical model on the heart-disease features;
# - end with one table: use case → setting → main risk → what the course showed.
#
# **Time:** about 45 minutes (the notebook itself runs in under a minute).
# **Prerequisites:** [01 · Centralized vs federated](01_centralized_vs_federated.ipynb),
# [02 · FedAvg math](02_fedavg_math.ipynb) and [03 · Non-IID hospitals](03_non_iid_hospitals.ipynb):
# `run_federated`, the weights $n_k/n$, scanner shift, FedBN and the four heart-disease hospitals with
# federated standardization.

# %%
# On Google Colab, install the course's helper package first (anywhere else this cell does nothing).
import subprocess
import sys

if "google.colab" in sys.modules:
    subprocess.run([sys.executable, "-m", "pip", "install", "--quiet",
                    "fedlite @ git+https://github.com/fedlite-course/fedlite"], check=True)

# %% [markdown]
# ## The five uses at a glance
#
# | use | data in this notebook | what runs here | what is a stand-in |
# |---|---|---|---|
# | 1 · disease prediction | UCI Heart Disease, four real hospitals | everything | nothing |
# | 2 · medical imaging | BreastMNIST ultrasound, cut into four hospitals | training and evaluation | the hospitals and their scanners are simulated |
# | 3 · personalized treatment | the same two federations | fine-tuning, FedBN | a personal model per *hospital*, not per patient |
# | 4 · remote care, wearables | PneumoniaMNIST X-rays as 100 "devices" | partial participation, dropouts | no wearable data: X-rays stand in for sensor data |
# | 5 · drug discovery | none: no molecular data offline | a vertical split of the heart features | the whole chemistry |
#
# Every number below comes from a cell you can run. Every run uses seed 0. The runs are short so that
# the notebook stays under a minute, and the text says where a longer run could change the picture.

# %%
import matplotlib.pyplot as plt
import numpy as np
import torch
from torch import nn

from fedlite import (LocalConfig, batchnorm_keys, evaluate, make_model, partition, plots, pool,
                     run_centralized, run_federated, run_local_only)
from fedlite.data import Data, split
from fedlite.datasets import load_heart_disease, load_medmnist
from fedlite.normalize import federated_mean_std, standardize
from fedlite.personalize import fine_tune_all

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
# The four heart-disease hospitals of notebook 03: Cleveland, Budapest (Hungarian), Zürich and Basel
# (Switzerland) and Long Beach (VA), with FLamby's train/test split. We standardize every feature with
# **federated statistics** (each hospital sends $n_k$, $\sum x$ and $\sum x^2$; notebook 03), so no row
# leaves a hospital even for preprocessing.
#
# This time each model is judged on **each hospital's own test patients**: that is what a hospital
# cares about. The last column of the table says how many accuracy points a single test patient is
# worth there.

# %%
# NBVAL_CHECK_OUTPUT
heart = load_heart_disease()
HOSPITALS = list(heart)
raw_train = [heart[h]["train"] for h in HOSPITALS]
raw_test = [heart[h]["test"] for h in HOSPITALS]
fed_mean, fed_std = federated_mean_std(raw_train)
trains = [standardize(d, fed_mean, fed_std) for d in raw_train]
tests = [standardize(d, fed_mean, fed_std) for d in raw_test]
print(f"{'hospital':12s} {'train':>5s} {'test':>5s} {'sick (train)':>12s} {'sick (test)':>11s} "
      f"{'one test patient':>17s}")
for h, tr, te in zip(HOSPITALS, trains, tests):
    print(f"{h:12s} {len(tr):5d} {len(te):5d} {tr.y.float().mean().item():12.2f} "
          f"{te.y.float().mean().item():11.2f} {100 / len(te):12.1f} pts")

# %% [markdown]
# Three ways to train, all with the settings of notebook 03 (logistic regression, plain SGD, learning
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
# $n_k/n$ from the training-set sizes in `train_sizes` (a fraction between 0 and 1; don't type numbers).

# %%
from fedlite.exercises.nb04 import check_expected_arrivals, check_fedavg_weight, check_fl_settings

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
# images through its own simulated scanner (`scanner_shift` from notebook 03: gamma, contrast,
# brightness, blur and noise). Each hospital is tested on the official test images *as its own scanner
# shows them*.

# %%
# NBVAL_CHECK_OUTPUT
from fedlite.hospitals import scanner_shift

breast = load_medmnist("breastmnist")
us_train, us_test = breast["train"], breast["test"]
SITES, SHARES = ["large", "mid A", "mid B", "clinic"], [0.45, 0.30, 0.17, 0.08]
order = np.random.default_rng(SEED).permutation(len(us_train))
cuts = (np.cumsum(SHARES)[:-1] * len(us_train)).astype(int)
us_hospitals = [Data(scanner_shift(h.x, k, seed=SEED), h.y)
                for k, h in enumerate(split(us_train, np.split(order, cuts)))]
us_tests = [Data(scanner_shift(us_test.x, k, seed=SEED), us_test.y) for k in range(len(SITES))]
print(f"{len(us_train)} training images, {len(us_test)} test images; "
      f"share 'normal or benign' in the test set: {us_test.y.float().mean():.3f}")
for name, h in zip(SITES, us_hospitals):
    print(f"{name:7s} {len(h):4d} training images, {int((h.y == 0).sum()):3d} of them malignant")

# %% [markdown]
# The test set is mostly "normal or benign" (the share printed above), so a model that never says
# "malignant" already reaches that accuracy. We therefore lead with the **AUC**, which asks how well the
# model's scores rank malignant below benign images: scores that are all equal get 0.5, whatever the
# threshold. Here is one test image as the four scanners show it.

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


us_local_run = run_local_only(cnn(), us_hospitals, us_test, epochs=US_ROUNDS, local=US_LOCAL,
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
#   `fedlite.personalize.fine_tune_all(global_model, hospitals, epochs=E, ...)`. $E = 0$ is the global
#   model, a large $E$ drifts towards the local-only model.
# - **FedBN-style local normalization** (Li et al. 2021, notebook 03): the normalization layers never
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
bn_local = {}  # each hospital's own normalization layer, as it was after its last round


def keep_bn(round_, k, result):
    """Update hook that only looks: it keeps a copy of hospital k's local layer and sends the update on."""
    bn_local[k] = {key: result.state[key].clone() for key in batchnorm_keys(bn_model)}
    return result


fedbn_run = run_federated(bn_model, trains, pooled_test, rounds=HEART_ROUNDS, local=HEART_LOCAL, seed=SEED,
                          local_keys=batchnorm_keys(bn_model), client_tests=tests, on_update=keep_bn,
                          progress=False)
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
# ## 4 · Remote care and wearables: cross-device FL
#
# So far the clients were a handful of hospitals: **cross-silo** FL. A remote-monitoring system has
# thousands to millions of clients, the patients' phones, watches and home sensors: **cross-device** FL
# (Kairouz et al. 2021, "Advances and open problems in federated learning", Table 1). That changes the
# engineering completely:
#
# - each device holds very little data, about one person;
# - only a small fraction of devices can take part in a round (charging, idle, on Wi-Fi), so the
#   server asks a random fraction $C$ of them (McMahan et al. 2017 used 100 clients and $C = 0.1$);
# - devices drop out *during* a round (battery, network, the user walks away): the server averages
#   whatever arrives before its deadline (Bonawitz et al. 2019, "Towards federated learning at scale").
#
# **An honest stand-in.** The kit has no wearable data (heart rhythm, movement, glucose time series), and
# none can be downloaded here. What we *can* simulate faithfully is the system setting: many tiny,
# unreliable, unlike clients. So we reuse the chest X-rays as the data stand-in: half of PneumoniaMNIST's
# training images shared out to **100 devices**, with label skew (Dirichlet α = 1: the devices' mixes of
# diagnoses differ widely, as a patient's own recordings mostly show that patient's condition) and very
# unequal sizes.

# %%
# NBVAL_CHECK_OUTPUT
xray = load_medmnist("pneumoniamnist")
half = xray["train"].subset(partition.iid(len(xray["train"]), 2, seed=SEED)[0])
dev_test = xray["test"].subset(range(0, len(xray["test"]), 2))  # every second test X-ray, for speed
NUM_DEVICES, FRACTION, DEV_ROUNDS = 100, 0.1, 20
devices = split(half, partition.dirichlet(half.y.numpy(), NUM_DEVICES, alpha=1.0, seed=SEED))
sizes = np.array([len(d) for d in devices])
sick_images = np.array([int(d.y.sum()) for d in devices])
mostly_sick = sick_images / sizes > 0.5
print(f"{NUM_DEVICES} devices hold {sizes.sum()} X-rays: {sizes.min()} to {sizes.max()} each "
      f"(median {np.median(sizes):g}); pneumonia share overall {sick_images.sum() / sizes.sum():.3f}")
print(f"{mostly_sick.sum()} devices hold mostly pneumonia X-rays, {(~mostly_sick).sum()} mostly normal ones")

# %% [markdown]
# A dropout is easy to express with the round loop's hook: `run_federated(..., on_update=hook)` calls
# `hook(round, device, result)` for every trained update, and whatever the hook returns is what reaches
# the server; `None` means nothing arrives. The device has trained, and its work is lost. The course's
# hook for this is `fedlite.systems.RandomDropout(p, seed=SEED)`: it loses device $k$'s update with
# probability `p` (one number for every device) or `p[k]` (one per device), drawn from a generator seeded
# by the seed, the round and the device, so that every run is reproducible.
#
# **Exercise 2.** Each round the server asks a fraction $C$ = `FRACTION` of the `NUM_DEVICES` devices,
# and each asked device drops out with probability $p$ = 0.3. On average, how many updates reach the
# server per round? Compute it from the variables; don't type the number.

# %%
my_arrivals = ...  # use NUM_DEVICES, FRACTION and the dropout probability 0.3
check_expected_arrivals(my_arrivals, NUM_DEVICES, FRACTION, 0.3)

# %% [markdown]
# Three runs of 20 rounds, each asking the same 10 devices per round (the server's random choice uses
# the same seed), with the course's CNN in its BatchNorm variant and batches of 16:
#
# - **all report**: every asked device's update arrives;
# - **30% drop at random**: every update is lost with probability 0.3;
# - **the sicker drop more**: devices that hold mostly pneumonia X-rays lose their update with
#   probability 0.4, the others never. Overall about as many updates are lost as in the run before,
#   but not the same ones: think of patients too unwell to charge their watch, or in hospital.
#
# The first cell below defines two small summaries of a run; the second runs the three federations and
# prints two tables. The first table is about what the server *learned from*: updates that arrived per
# round, devices never heard, and the share of pneumonia X-rays behind the updates that arrived, both in
# the long run (an expectation that follows from the dropout probabilities alone) and in these 20
# rounds. The second is about the global model on the test X-rays: its final AUC, and over the last 5
# rounds the range of its AUC, its mean accuracy and the range of its accuracy.

# %%
def schedule(history):
    """rounds x devices: 0 = not asked, 1 = asked and its update arrived, 2 = asked but lost."""
    table = np.zeros((len(history.rounds), NUM_DEVICES), dtype=int)
    for i, r in enumerate(history.rounds):
        for k, numbers in r.clients.items():
            table[i, k] = 1 if numbers["arrived"] else 2
    return table


def what_arrived(history, p):
    """Updates per round, devices never heard, and the pneumonia share behind the arrived updates: expected in
    the long run (each device is asked equally often, arrives with probability 1 - p[k]) and in this run."""
    arrived, keep = schedule(history) == 1, 1 - p
    long_run = (keep * sick_images).sum() / (keep * sizes).sum()
    this_run = (arrived @ sick_images).sum() / (arrived @ sizes).sum()
    return arrived.sum(axis=1).mean(), NUM_DEVICES - arrived.any(axis=0).sum(), long_run, this_run


def last_rounds(history, n=5):
    """Final AUC; lowest and highest AUC, mean, lowest and highest accuracy over the last n rounds."""
    auc, acc = history.metric("auc")[-n:], history.metric("accuracy")[-n:]
    return history.final("auc"), min(auc), max(auc), np.mean(acc), min(acc), max(acc)

# %%
from fedlite.systems import RandomDropout

DEV_LOCAL = LocalConfig(lr=0.02, momentum=0.9, batch_size=16)
drop_prob = {"all report": np.zeros(NUM_DEVICES),
             "30% drop at random": np.full(NUM_DEVICES, 0.3),
             "the sicker drop more": np.where(mostly_sick, 0.4, 0.0)}
device_runs = {name: run_federated(make_model("cnn", seed=0, norm=True), devices, dev_test, rounds=DEV_ROUNDS,
                                   local=DEV_LOCAL, fraction=FRACTION, on_update=RandomDropout(p, seed=SEED),
                                   seed=SEED, name=name, progress=False)
               for name, p in drop_prob.items()}
print(f"pneumonia share of all devices' X-rays: {sick_images.sum() / sizes.sum():.3f}")
print(f"{'what arrived':21s} {'updates/round':>14s} {'never heard':>12s} {'share long run':>15s} "
      f"{'share 20 rounds':>16s}")
for name, h in device_runs.items():
    per_round, unheard, long_run, realized = what_arrived(h, drop_prob[name])
    print(f"{name:21s} {per_round:14.1f} {unheard:12d} {long_run:15.3f} {realized:16.3f}")
print(f"\n{'the global model':21s} {'final AUC':>9s} {'AUC range':>12s} {'mean accuracy':>15s} "
      f"{'accuracy range':>16s}   (range, mean: last 5 rounds)")
for name, h in device_runs.items():
    final, auc_lo, auc_hi, acc_mean, acc_lo, acc_hi = last_rounds(h)
    print(f"{name:21s} {final:9.3f} {auc_lo:6.3f}-{auc_hi:5.3f} {acc_mean:15.3f} {acc_lo:10.3f}-{acc_hi:5.3f}")

# %% [markdown]
# The left picture shows one run's schedule, device by device and round by round; the right ones show
# how the three global models did on the test X-rays after every round.

# %%
from matplotlib.colors import ListedColormap
from matplotlib.ticker import MaxNLocator

fig, axes = plt.subplots(1, 3, figsize=(14, 3.4), layout="constrained", width_ratios=[1.6, 1, 1])
axes[0].imshow(schedule(device_runs["30% drop at random"]), aspect="auto", interpolation="nearest",
               cmap=ListedColormap(["#f2f2f2", "tab:green", "tab:red"]), vmin=0, vmax=2,
               extent=(-0.5, NUM_DEVICES - 0.5, DEV_ROUNDS + 0.5, 0.5))
axes[0].set_xlabel("device")
axes[0].set_ylabel("round")
axes[0].set_title("30% drop at random: green = arrived, red = lost")
for ax, key in zip(axes[1:], ["auc", "accuracy"]):
    plots.learning_curves(list(device_runs.values()), key, ax=ax)
    ax.set_xlabel("round")
    ax.set_ylabel("AUC" if key == "auc" else "accuracy")
    ax.legend(fontsize="x-small")
axes[0].yaxis.set_major_locator(MaxNLocator(integer=True))
for ax in axes:
    ax.xaxis.set_major_locator(MaxNLocator(integer=True))
axes[2].axhline(dev_test.y.float().mean().item(), color="black", linestyle=":", linewidth=1,
                label="always 'pneumonia'")
axes[2].legend(fontsize="x-small")
plt.show()

# %% [markdown]
# What the runs show, and what they do not:
#
# - **Partial participation works.** With a tenth of the devices per round, and some of them lost, the
#   AUC curves climb together after the first rounds: FedAvg simply averages whatever arrives,
#   weighted by $n_k$. Random dropouts cost updates (the "updates/round" column), which a longer run
#   can make up.
# - **The three runs end within their own jitter.** The final AUCs differ by less than each run's AUC
#   moves over its last five rounds (the "AUC range" column), and the mean accuracies differ by less
#   than each run's accuracy swings within those rounds (the "accuracy range" column). The run in which
#   the sicker drop more ends lowest in both, but one seed and 20 rounds cannot tell that from chance:
#   these runs show what the server receives, not that the model got worse.
# - **Most devices are rarely heard.** The schedule is mostly grey: in 20 rounds of 10 out of 100
#   devices a device is asked 20 × 10 / 100 = 2 times on average, and some devices never contribute at
#   all (the "never heard" column). A cross-device model is shaped by whoever happened to be available.
# - **The threshold jitters.** The accuracy panel sits on the "always pneumonia" line for the first
#   rounds, then jumps from round to round: each round's handful of devices, most of them holding
#   mostly one diagnosis, pulls the decision threshold its own way. The AUC moves far less.
# - **Who drops out changes the data mix, how many does not.** Random dropout leaves the long-run
#   pneumonia share equal to the population's (first line of the output): the server still learns from
#   a fair sample, only more slowly. When the sicker patients' devices drop out more often, the
#   long-run share falls below it, although about as many updates are lost. In these 20 rounds the
#   realized share (the "share 20 rounds" column) is lowest for that run too, but chance moves it as
#   well: even when every device reports, it differs from the population's share. A deployment that
#   runs for months learns from the biased sample all the same, and no averaging rule fixes data that
#   never arrive.
# - **Not simulated here:** real sensor time series, on-device compute and battery limits, devices
#   that appear once and never again, secure aggregation over thousands of devices (notebook 05), and a
#   round deadline instead of a coin flip.

# %% [markdown]
# ## 5 · Drug discovery across companies: cross-silo, and vertical FL
#
# Drug companies hold millions of measured molecules: which compound binds which target, which is toxic,
# how each is absorbed. Each company's data are among its most valuable secrets, and they overlap in
# chemistry more than in compounds, so a model trained on all of them could predict better for everyone.
# That is **cross-silo** FL between competitors: few clients (companies), large data each, reliable
# servers, and a legal agreement behind every round.
#
# **MELLODDY** (a project of the EU's Innovative Medicines Initiative) did this at industrial
# scale: ten pharmaceutical companies trained together on more than 2.6 billion confidential activity
# measurements of over 21 million small molecules in over 40,000 assays (Heyndrickx et al.,
# "MELLODDY: Cross-pharma federated learning at unprecedented scale unlocks benefits in QSAR without
# compromising proprietary information", *J. Chem. Inf. Model.* 64(7), 2331–2344, 2024). The design is
# worth knowing:
#
# - every company describes its molecules the same way (ECFP chemical fingerprints), so the features are
#   shared while the molecules and the assays are not: horizontal FL over *different* prediction tasks;
# - the network is a **shared trunk** trained federatedly plus a **private head** per company for its
#   own assays, which never leaves the company: the same "share what is common, keep what is yours"
#   idea as personalization in section 3;
# - training ran on a platform audited for privacy and security, with secure aggregation of the
#   updates (Oldenhof et al., "Industry-scale orchestrated federated learning for drug discovery",
#   AAAI 2023);
# - evaluation folds were split by chemical similarity (scaffolds or clusters), not at random, because
#   random splits overstate how well a model predicts new chemistry, and the split had to be computed
#   without pooling the structures (Simm et al., "Splitting chemical structure data sets for federated
#   privacy-preserving machine learning", *J. Cheminform.* 13, 96, 2021).
#
# Each company's models improved on aggregate, most for pharmacokinetics and safety tasks (Heyndrickx et
# al. 2024). **This notebook cannot reproduce any of it.** A faithful small demo would need public
# bioactivity data (for example the Tox21 subset of MoleculeNet, about 8,000 compounds and 12 toxicity
# assays, or assays from ChEMBL), a chemistry toolkit such as RDKit to compute fingerprints, a split
# into "companies" that mimics real portfolios (by chemical series, not at random), a multitask model
# with a shared trunk and private heads, and per-company test sets split by scaffold. None of that is in
# the kit offline, and inventing molecules to stand in for it would teach nothing true about chemistry.

# %% [markdown]
# ### Vertical FL, illustrated on the heart features
#
# Everything so far was **horizontal** FL: the parties hold *different patients* described by the same
# features. In **vertical** FL (Yang, Liu, Chen & Tong 2019, "Federated machine learning: concept and
# applications") the parties hold *the same patients* and *different features*: a hospital and a
# pharmacy, a hospital and an insurer, or a drug company and a contract lab that measured other
# properties of the same compounds.
#
# The following is **an illustration of the mechanism, not drug discovery**, and the split is our
# invention: imagine that for each heart patient a GP practice holds the routine data (age, sex, resting
# blood pressure, cholesterol, fasting blood sugar) and a cardiology clinic holds the specialist data
# (chest-pain type, resting ECG, exercise test) and the diagnosis. For logistic regression the split is
# easy to train, because the score is a sum of the two parties' parts:
#
# $$ z = \underbrace{x_{\text{GP}}\, w_{\text{GP}}}_{\text{at the GP}} +
#        \underbrace{x_{\text{card}}\, w_{\text{card}} + b}_{\text{at the clinic}}, \qquad
#    g = \frac{\sigma(z) - y}{n}, \qquad
#    w_{\text{GP}} \leftarrow w_{\text{GP}} - \eta\, x_{\text{GP}}^\top g, \quad
#    w_{\text{card}} \leftarrow w_{\text{card}} - \eta\, x_{\text{card}}^\top g . $$
#
# The GP sends its partial scores $x_{\text{GP}} w_{\text{GP}}$, the clinic (which holds the labels)
# sends back the error $g$, and each party updates only its own weights. No feature column leaves its
# owner. The features were standardized with statistics over the training rows, column by column, so
# each party could have done that on its own columns.

# %%
from fedlite.metrics import roc_auc
from fedlite.readers import HEART_FEATURES

GP = [HEART_FEATURES.index(f) for f in ["age", "sex", "trestbps", "chol", "fbs"]]
CARDIO = [HEART_FEATURES.index(f) for f in ["cp_2", "cp_3", "cp_4", "restecg_1", "restecg_2", "thalach",
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


def held_out_auc(columns, w, b):
    return roc_auc(held_out.x[:, columns] @ w + b, held_out.y)


w_gp, w_card, b = vertical_logreg(patients.x[:, GP], patients.x[:, CARDIO], patients.y)
w_all, _, b_all = vertical_logreg(patients.x[:, GP + CARDIO], patients.x[:, []], patients.y)  # pooled columns
print(f"vertical vs pooled-columns training: largest weight difference "
      f"{(torch.cat([w_gp, w_card]) - w_all).abs().max():.1e}")
for name, columns in [("GP data only", GP), ("cardiology data only", CARDIO)]:
    w_alone, _, b_alone = vertical_logreg(patients.x[:, columns], patients.x[:, []], patients.y)
    print(f"{name:22s} test AUC {held_out_auc(columns, w_alone, b_alone):.3f}")
print(f"{'both, vertical FL':22s} test AUC {held_out_auc(GP + CARDIO, torch.cat([w_gp, w_card]), b):.3f}")

# %% [markdown]
# The first line shows that the vertical training and ordinary training on the joined table give the
# same weights, up to float rounding: nothing is lost by keeping the columns apart. The AUC lines show
# why anyone would bother. Neither party's features alone rank the patients as well as both together.
#
# What a real vertical system adds, and this illustration leaves out:
#
# - **entity alignment**: the parties must find their common patients without revealing the others,
#   usually by private set intersection;
# - **protecting what travels**: the partial scores and the error vector $g$ are about single patients,
#   and $g$ reveals the labels to anyone who sees it; real systems encrypt them (e.g. additively
#   homomorphic encryption, Hardy et al. 2017) or mask them;
# - **inference needs both parties** for every new patient, forever.
#
# **Exercise 3.** Name the FL setting of each scenario in `SCENARIOS` (printed below): a pair
# `(scale, partition)` with scale `"cross-silo"` or `"cross-device"`, and partition `"horizontal"` or
# `"vertical"`.

# %%
from fedlite.exercises.nb04 import SCENARIOS

for name, text in SCENARIOS.items():
    print(f"{name}: {text}")

# %%
my_settings = ...  # {"smartwatches": ("cross-...", "..."), "hospital_and_insurer": ..., "pharma_toxicity": ...}
check_fl_settings(my_settings)

# %% [markdown]
# ## The five uses in one table
#
# | use case | FL setting | main risk | what the course showed |
# |---|---|---|---|
# | disease prediction across hospitals | cross-silo, horizontal | a hospital unlike the others (Switzerland) is served worst, and its small test set hides it | pooled, local-only and FedAvg per hospital on four real hospitals: the three larger sites gain; the Swiss local model's high accuracy is a constant "sick", and a 16-patient test split with one healthy patient cannot rank the Swiss models; federated standardization (03) |
# | medical imaging | cross-silo, horizontal | scanner and site shift; small sites with weak local models | four simulated scanners and very unequal sizes: the two small hospitals gained most, the clinic above all |
# | personalized treatment | cross-silo, horizontal, personal models | gains at one hospital, losses at another; choosing $E$ on the test set | fine-tuning slides between the global and the local model; FedBN-style local normalization; on the heart data both moved the threshold more than the ranking |
# | remote care, wearables | cross-device, horizontal | who participates: dropouts that depend on the patient bias the data behind the model | 100 stand-in devices, 10 per round: random dropouts cost updates, patient-dependent ones shift the long-run data mix; 20 rounds show no clear effect on the model; a jittery threshold; no real wearable data |
# | drug discovery | cross-silo, horizontal across companies (MELLODDY); vertical when parties hold different measurements of the same compounds | leaking proprietary chemistry; evaluation on too-similar molecules | no molecular data here: MELLODDY's design (shared trunk, private heads), what a demo would need, and vertical FL on the heart features |

# %% [markdown]
# ## Recap
#
# - **Judge a federation per hospital.** On the heart hospitals FedAvg helps the three larger sites,
#   while Switzerland, with no healthy training patient and a tiny test set, shows how a mean hides what
#   happens at each site. Report the worst hospital next to the mean, and check what a high accuracy
#   on a one-sided test split is made of.
# - **Small hospitals gain most** when their data are too few to learn alone, as the smallest
#   ultrasound clinic showed.
# - **Personalization** (`fedlite.personalize.fine_tune_all`, FedBN) adapts the shared model to each
#   hospital; it moves results hospital by hospital in both directions and must be chosen on validation
#   data.
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
