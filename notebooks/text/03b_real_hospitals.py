# %% [markdown]
# # 03b · Real hospitals: scanners, heart disease, the normalization trap and FLamby
#
# > **中文摘要：**先看特征分布偏移（feature shift）：五家医院使用不同的 X 光机，FedBN 把批归一化层留在本地；再看四家真实心脏病医院的自然划分（natural split）。
# > 用联邦统计（federated statistics）完成标准化、避开“归一化陷阱”，并把集中式、仅本地与联邦训练的结果与 FLamby 基准对比。
#
# Notebook 03a cut one X-ray dataset into hospitals whose *diagnoses* differ. Here the *inputs* differ:
# first simulated X-ray machines, then a *natural* split, four real hospitals where label skew, quantity
# skew and feature shift arrive at once. Both parts are about normalization: inside the model (FedBN)
# and of the features themselves.
#
# **In this notebook you will**
# - see feature shift (five hospitals, five scanners) and FedBN, which keeps normalization local;
# - meet a natural split, four real heart-disease hospitals, and the normalization trap: computing
#   feature statistics is itself a federated question;
# - compare pooled, local-only and federated training with the published FLamby benchmark.
#
# **Time:** about 45 minutes (the notebook itself runs in under a minute).
# **Prerequisites:** [01](01_centralized_vs_federated.ipynb), [02](02_fedavg_math.ipynb) and
# [03a · Non-IID hospitals](03a_non_iid_hospitals.ipynb): `run_federated`, the weights $n_k/n$, label and
# quantity skew, and reading a five-seed table.
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
# ## The X-rays and five hospitals
#
# The first part uses PneumoniaMNIST and five hospitals with 03a's settings: half the training images
# (`HALF = False` uses them all), mini-batches of 16, `ROUNDS` rounds of one local epoch. The test set is
# 62.5% pneumonia, so read the AUC (0.5 = coin toss) next to the accuracy.

# %%
import matplotlib.pyplot as plt
import numpy as np

from fedlite import LocalConfig, make_model, plots, run_federated
from fedlite.datasets import load_medmnist
from fedlite.heterogeneity import partition
from fedlite.metrics import predict

SEED, K, HALF, ROUNDS = 0, 5, True, 5
xray = load_medmnist("pneumoniamnist")
full_train, test = xray["train"], xray["test"]
train = full_train.subset(partition.iid(len(full_train), 2, seed=SEED)[0]) if HALF else full_train
LOCAL = LocalConfig(lr=0.02, momentum=0.9, batch_size=16)

# %% [markdown]
# ## Feature shift and FedBN
#
# Here the hospitals have the same mix of patients but different **scanners**: `make_hospitals(...,
# skew="scanner")` deals the X-rays out at random, then passes each hospital's images through its own
# fixed gamma, contrast, brightness, blur and noise. One test X-ray as the five scanners show it:

# %%
from fedlite.data import Data
from fedlite.heterogeneity.hospitals import make_hospitals, scanner_shift

example = test.x[:1]
fig, axes = plt.subplots(1, K + 1, figsize=(10, 2.2), layout="constrained")
for k, ax in enumerate(axes):
    image = example if k == 0 else scanner_shift(example, k - 1, seed=SEED)
    ax.imshow(image[0, 0], cmap="gray", vmin=0, vmax=1)
    ax.set_title("original" if k == 0 else f"scanner of H{k - 1}", fontsize=9)
    ax.axis("off")
plt.show()

# %% [markdown]
# **FedBN** (Li et al., ICLR 2021) uses a model with batch-normalization layers (they standardize the
# activations with running means and variances, then rescale them) and keeps exactly those layers
# **local**: each hospital keeps its own normalization, everything else is averaged. In `fedlite`,
# `make_model("cnn", seed=0, norm=True)` adds the BatchNorm layers and `local_keys=batchnorm_keys(model)`
# keeps them at home: never sent, never seen by hooks or the aggregator, not counted in bytes.
#
# Since every hospital then has its own model, hospital $k$ is tested on the test set as *its* scanner
# shows it (`client_tests[k]`; every second test image, for speed). FedAvg and FedBN, same BatchNorm
# model, `ROUNDS` rounds each:

# %%
from fedlite import batchnorm_keys

scanner_hospitals = make_hospitals(train, K, skew="scanner", seed=SEED)
half_test = test.subset(range(0, len(test), 2))
scanner_tests = [Data(scanner_shift(half_test.x, k, seed=SEED), half_test.y) for k in range(K)]
bn_runs = {}
for name, keep_local in [("FedAvg", False), ("FedBN", True)]:
    model = make_model("cnn", seed=0, norm=True)
    bn_runs[name] = run_federated(model, scanner_hospitals, half_test, rounds=ROUNDS, local=LOCAL, seed=SEED,
                                  local_keys=batchnorm_keys(model) if keep_local else (),
                                  client_tests=scanner_tests, name=name, progress=False)
for name, h in bn_runs.items():
    print(f"{name:7s} per-hospital AUC " + " ".join(f"{a:.3f}" for a in h.client_metric("auc")[-1])
          + f"   mean accuracy {np.mean(h.client_metric('accuracy')[-1]):.3f}"
          + f"   mean AUC {np.mean(h.client_metric('auc')[-1]):.3f}")
fig, (left, right) = plt.subplots(1, 2, figsize=(12, 3.4), layout="constrained")
for ax, key in [(left, "accuracy"), (right, "auc")]:
    plots.client_bars({n: h.client_metric(key)[-1] for n, h in bn_runs.items()},
                      client_names=[f"H{k}" for k in range(K)], ax=ax,
                      ylabel=f"{'AUC' if key == 'auc' else key} on own scanner's test")
    ax.set_ylim(0.5, 1.0)
    ax.set_xlabel("hospital")
    ax.get_legend().remove()
fig.legend(*left.get_legend_handles_labels(), loc="outside right center", fontsize="small")
fig.suptitle(f"Each hospital's model on its own scanner's test images, after {ROUNDS} rounds")
plt.show()

# %% [markdown]
# This is one seed, a **demonstration**: it shows how to run and read FedBN, not whether it helps. The
# printed per-hospital AUCs differ in both directions and the two means by less than 0.01; one run cannot
# tell that from the noise of the seed. A claim would need five seeds and a paired interval: notebook 04a
# gives FedBN those, on simulated ultrasound scanners. FedBN was evaluated on real multi-site images (Li
# et al. 2021), whose differences go well beyond a gamma curve and a little blur.
#
# **Exercise 1.** Five hospitals see the same mix of diagnoses, but each has a different X-ray machine.
# Which remedy from 03a and 03b targets exactly this? One of `"fedprox"`, `"fedavgm"`, `"fedadam"`,
# `"fedbn"`.

# %%
from fedlite.exercises.nb03b import check_federated_mean, check_remedy

my_remedy = ...  # a string
check_remedy(my_remedy)

# %% [markdown]
# ## A natural split: four heart-disease hospitals
#
# The UCI Heart Disease data (1988) come from four sites: the Cleveland Clinic, the Hungarian Institute
# of Cardiology in Budapest, the university hospitals of Zürich and Basel (Switzerland), and the VA
# Medical Center in Long Beach. FLamby (Ogier du Terrail et al., NeurIPS 2022) made them a federated
# benchmark, Fed-Heart-Disease: 13 features per patient (age, sex, blood pressure, cholesterol, chest-pain
# type, ...) and the label "any heart disease". `fedlite` reproduces FLamby's preprocessing and
# train/test split, but leaves the features raw.

# %%
from fedlite.datasets import load_heart_disease
from fedlite.datasets.readers import HEART_FEATURES

heart = load_heart_disease()
HOSPITALS = list(heart)
raw_train = [heart[h]["train"] for h in HOSPITALS]
raw_test = [heart[h]["test"] for h in HOSPITALS]
CHOL = HEART_FEATURES.index("chol")
print(f"{'hospital':12s} {'train':>5s} {'test':>5s} {'disease share':>14s} {'test disease':>13s} "
      f"{'mean cholesterol':>17s}")
for h, tr, te in zip(HOSPITALS, raw_train, raw_test):
    print(f"{h:12s} {len(tr):5d} {len(te):5d} {tr.y.float().mean().item():14.2f} {te.y.float().mean().item():13.2f} "
          f"{tr.x[:, CHOL].mean().item():17.1f}")
print()
for h in HOSPITALS:
    both_y = np.concatenate([heart[h]["train"].y.numpy(), heart[h]["test"].y.numpy()])
    both_chol = np.concatenate([heart[h]["train"].x[:, CHOL].numpy(), heart[h]["test"].x[:, CHOL].numpy()])
    missing = both_chol == 0
    print(f"{h:12s} cholesterol missing for {missing.sum():3d} of {len(both_y):3d} patients"
          + (f"; diseased: {both_y[missing].mean():.0%} of those, {both_y[~missing].mean():.0%} of the others"
             if 0 < missing.sum() < len(both_y) else ""))
all_y = np.concatenate([heart[h][s].y.numpy() for h in HOSPITALS for s in ("train", "test")])
all_missing = np.concatenate([heart[h][s].x[:, CHOL].numpy() == 0 for h in HOSPITALS for s in ("train", "test")])
print(f"all hospitals: {all_y[all_missing].mean():.0%} diseased without a cholesterol value, "
      f"{all_y[~all_missing].mean():.0%} with one")

# %% [markdown]
# Everything differs at once: sizes (quantity skew), disease shares (label skew; the Swiss training
# split has no healthy patient) and the features. Switzerland's mean cholesterol of 0.0 is no typo: 0 is
# how "not measured" was written down, for every Swiss patient and some at the VA.
#
# ### A missing value is not a measurement
#
# Left as it is, "0 mg/dl" is an impossible value that marks the site, and the patients without a
# measurement are far more often sick (the last printed line). A model would happily learn "cholesterol 0
# means disease": a shortcut through the site, not medicine. So we treat 0 as **missing**: it is replaced
# by the mean of the *measured* training values, computed the federated way (each hospital sends the sum
# and count of its measured values: `federated_observed_mean`), and a new 0/1 feature `chol_missing`
# records that it was filled in (`impute_missing`, the missing-indicator method). "Not measured" stays
# information, but no longer a fake measurement. Every result below uses the imputed features.

# %%
from fedlite.heterogeneity.normalize import federated_observed_mean, impute_missing

fill = federated_observed_mean(raw_train, CHOL)
raw_train = [impute_missing(d, CHOL, fill) for d in raw_train]
raw_test = [impute_missing(d, CHOL, fill) for d in raw_test]
FEATURES = (*HEART_FEATURES, "chol_missing")
print(f"missing cholesterol filled with {fill:.0f} mg/dl (federated mean of the measured training values); "
      f"{len(FEATURES)} features now")

# %% [markdown]
# ### The normalization trap
#
# Logistic regression needs standardized features, $x' = (x - \text{mean}) / \text{std}$, or the
# cholesterol column (hundreds of mg/dl) drowns out the 0/1 columns. A centralized tutorial would call
# `StandardScaler().fit(all_training_rows)`. In a federation that single line is a data leak: computing
# *pooled* statistics needs every hospital's raw rows in one place, the very thing FL exists to avoid.
#
# But a mean and a standard deviation do not need the rows, only three sums. Each hospital sends
# $n_k$, $s_k = \sum x$ and $q_k = \sum x^2$ (per feature), and the server computes
#
# $$ N = \sum_k n_k, \qquad \text{mean} = \frac{\sum_k s_k}{N}, \qquad
#    \text{std} = \sqrt{\frac{\sum_k q_k}{N} - \text{mean}^2}. $$
#
# That is `fedlite.heterogeneity.normalize.federated_mean_std`. The next cell shows what the hospitals
# send for the age column, checks the federated statistics against the pooled ones (computed here, once,
# the forbidden way), standardizes every hospital with them, and checks the whole pipeline against the
# package's `heart_hospitals()`, which later notebooks use.

# %%
from fedlite.data import pool
from fedlite.datasets.heart import heart_hospitals
from fedlite.heterogeneity.normalize import federated_mean_std, local_mean_std, standardize, summary_stats

AGE = HEART_FEATURES.index("age")
for h, data in zip(HOSPITALS, raw_train):
    n_k, s_k, q_k = summary_stats(data)
    print(f"{h:12s} sends n_k = {n_k:3d}, sum of ages = {s_k[AGE]:6.0f}, "
          f"sum of squared ages = {q_k[AGE]:7.0f}")
fed_mean, fed_std = federated_mean_std(raw_train)
pooled_mean, pooled_std = local_mean_std(pool(raw_train))  # needs everyone's rows: the leak
print(f"largest difference, federated vs pooled: mean {(fed_mean - pooled_mean).abs().max():.2e}, "
      f"std {(fed_std - pooled_std).abs().max():.2e}")
trains = [standardize(d, fed_mean, fed_std) for d in raw_train]
tests = [standardize(d, fed_mean, fed_std) for d in raw_test]
package = heart_hospitals(heart)  # the same steps, as the package runs them
gap = max((a.x - b.x).abs().max().item() for a, b in zip(trains + tests, package.trains + package.tests))
print(f"largest difference from heart_hospitals(): {gap:.2e}")

# %% [markdown]
# The federated statistics equal the pooled ones (both differences print as 0), no row left a hospital,
# and our step-by-step features are the package's. (The sums still say something about a hospital;
# secure aggregation, in notebook 05, hides even those.)
#
# **Exercise 2.** The hospitals report, for the age column, the pairs $(n_k, s_k)$ in `age_shares`.
# Compute the federated mean age from those pairs alone.

# %%
age_shares = [(summary_stats(d)[0], summary_stats(d)[1][AGE].item()) for d in raw_train]
my_mean_age = ...  # use only age_shares
check_federated_mean(my_mean_age, age_shares)

# %% [markdown]
# What if each hospital standardized with its *own* statistics (`local_mean_std`)? Private too, but then
# the same raw value means different things at different hospitals. The heat-map shows how far each
# hospital's own mean sits from the pooled mean, in pooled standard deviations.

# %%
local_stats = [local_mean_std(d) for d in raw_train]
offset = np.stack([((m - pooled_mean) / pooled_std).numpy() for m, _ in local_stats])
fig, ax = plt.subplots(figsize=(10, 2.8), layout="constrained")
image = ax.imshow(offset, cmap="RdBu_r", vmin=-2.5, vmax=2.5, aspect="auto")
for (k, j), v in np.ndenumerate(offset.round(1) + 0.0):  # + 0.0 turns -0.0 into 0.0
    ax.text(j, k, f"{v:+.1f}", ha="center", va="center", fontsize=8,
            color="white" if abs(v) > 1.5 else "black")
ax.set_xticks(range(len(FEATURES)), FEATURES, rotation=30, ha="right")
ax.set_yticks(range(len(HOSPITALS)), HOSPITALS)
plt.colorbar(image, ax=ax, label="offset in pooled stds")
ax.set_title("How far each hospital's own feature means are from the federation's")
plt.show()

# %% [markdown]
# Most offsets are a fraction of a standard deviation: ordinary between-hospital variation. Switzerland
# stands out in `chol_missing` (+2.9): every Swiss value was filled in. Its `chol` shows +0.0 only because
# every Swiss patient holds the fill value, the federated mean. Both Swiss columns are constant, so local
# standardization would centre them to 0: "filled in" would look "perfectly average" there and like
# something else everywhere else. Federated statistics map the same raw value to the same input at every
# hospital.
#
# ### Pooled, local-only and FedAvg, side by side
#
# Now the comparison FLamby makes, with one model (logistic regression, as in FLamby) and the same
# federated standardization for everyone:
#
# - **pooled**: all four training sets in one place (the reference to measure against);
# - **local-only**: each hospital trains alone on its own patients (`run_local_only`, which returns
#   each hospital's model);
# - **FedAvg**: the four hospitals train together, 30 rounds of one local epoch.
#
# Plain SGD, batches of 16, learning rate 0.05, 30 epochs (or rounds) each, on seeds 0 to 4 (the seed
# sets the initial weights and the batch order): a few seconds in all. The tables give the pooled-test
# AUC and accuracy with 95 % intervals, and the **paired** difference of each option to FedAvg on the
# same seeds (`fedlite.evidence`).

# %%
from fedlite import History, evaluate, evidence, run_centralized, run_local_only
from fedlite.history import Round

pooled_test = pool(tests)
HEART_LOCAL = LocalConfig(lr=0.05, batch_size=16)


def logreg(seed):
    return make_model("logreg", seed=seed, in_features=len(FEATURES))


def heart_runs(seed):
    """Pooled, each hospital alone, and FedAvg on one seed: ({name: History}, {name: trained model})."""
    models = {"pooled": logreg(seed)}
    runs = {"pooled": run_centralized(models["pooled"], pool(trains), pooled_test, epochs=30, local=HEART_LOCAL,
                                      seed=seed, progress=False)}
    alone, local_models = run_local_only(logreg(seed), trains, pooled_test, epochs=30, local=HEART_LOCAL,
                                         seed=seed, progress=False)
    for k, h in enumerate(HOSPITALS):  # hospital k's own model, tested on the pooled test set
        models[f"local: {h}"] = local_models[k]
        runs[f"local: {h}"] = History(f"local: {h}", [Round(r.round, r.clients[k]) for r in alone.rounds])
    models["FedAvg"] = logreg(seed)
    runs["FedAvg"] = run_federated(models["FedAvg"], trains, pooled_test, rounds=30, local=HEART_LOCAL,
                                   seed=seed, progress=False)
    return runs, models


per_seed = [heart_runs(seed) for seed in evidence.DEFAULT_SEEDS]
seeded = {name: evidence.Repeated.from_histories(name, evidence.DEFAULT_SEEDS, [runs[name] for runs, _ in per_seed])
          for name in per_seed[0][0]}
for key in ("auc", "accuracy"):
    print(evidence.comparison_table(list(seeded.values()), key, reference=seeded["FedAvg"]), end="\n\n")

# %% [markdown]
# Reading the two tables:
#
# - **FedAvg against pooled training.** Pooled AUC is higher by +0.006 [+0.003, +0.009]: small, but the
#   interval excludes 0. In accuracy, +0.002 [-0.004, +0.007] contains 0: no difference can be told from
#   noise. Federation costs little here, and no row left a hospital.
# - **FedAvg against each hospital alone.** Every local model's AUC is below FedAvg's (intervals below
#   0; Cleveland, the largest hospital, by the least). In accuracy Cleveland alone cannot be told from
#   FedAvg (+0.000 [-0.009, +0.009]); the three others are below it.
#
# Next, each model on each hospital's own test split (mean over the five seeds' models), and how often
# it says "sick" on the pooled test set:

# %%
def scores(model):
    """Accuracy on the pooled test set and on each hospital's test split, then the pooled-test AUC."""
    pooled = evaluate(model, pooled_test)
    return [pooled["accuracy"], *(evaluate(model, t)["accuracy"] for t in tests), pooled["auc"]]


results = {name: np.mean([scores(models[name]) for _, models in per_seed], axis=0) for name in seeded}
says_sick = {name: np.mean([(predict(models[name], pooled_test.x).argmax(1) == 1).float().mean().item()
                            for _, models in per_seed]) for name in seeded}
print(f"accuracy, mean over {len(per_seed)} seeds; the pooled test set has {len(pooled_test)} patients, "
      f"{pooled_test.y.float().mean():.0%} of them with heart disease")
print(f"{'trained on':20s} {'pooled test':>11s} " + " ".join(f"{h:>11s}" for h in HOSPITALS)
      + "  pooled AUC  says 'sick'")
for name, row in results.items():
    print(f"{name:20s} " + " ".join(f"{v:11.3f}" for v in row) + f"  {says_sick[name]:10.0%}")
fig, ax = plt.subplots(figsize=(11, 3.6), layout="constrained")
plots.client_bars({name: row[:-1] for name, row in results.items()}, client_names=["pooled test", *HOSPITALS],
                  ax=ax, ylabel="test accuracy (mean of 5 seeds)")
ax.set_xlabel("test set")
ax.set_ylim(0, 1)
ax.legend(fontsize="small", loc="center left", bbox_to_anchor=(1.0, 0.5), title="trained on")
ax.set_title("Heart disease: who trained the model (bars) vs whose patients it is tested on (groups)")
plt.show()

# %% [markdown]
# The local models of the two sickest hospitals, VA and Switzerland, say "sick" most often (61 % and 59 %
# of the pooled test set, which is 52 % sick). Per-hospital test splits are small (16 Swiss patients, 94 %
# sick, as the first table printed), so one patient moves a hospital's accuracy by several points: read
# those columns as descriptions, not rankings.
#
# ### Our numbers next to FLamby's
#
# FLamby publishes its Fed-Heart-Disease results per training seed (`heart_seed42.csv` to
# `heart_seed46.csv` in `flamby/results/results_benchmark_fed_heart_disease/`, owkin/FLamby). The cell
# holds their means over those five seeds: accuracy on the pooled test set, and the average of the four
# per-hospital accuracies, which the paper's figure plots. Ours are means over our five seeds.

# %%
FLAMBY = {  # mean over seeds 42-46 of FLamby's published results (accuracy)
    "pooled": {"pooled test": 0.795, "mean of 4 hospitals": 0.774},
    "local: cleveland": {"pooled test": 0.788}, "local: hungarian": {"pooled test": 0.731},
    "local: switzerland": {"pooled test": 0.617}, "local: va": {"pooled test": 0.699},
    "FedAvg": {"pooled test": 0.757, "mean of 4 hospitals": 0.748},
}
print(f"{'trained on':20s} {'pooled test':>22s}   {'mean of 4 hospitals':>22s}")
print(f"{'':20s} {'ours':>10s} {'FLamby':>11s}   {'ours':>10s} {'FLamby':>11s}")
for name, row in results.items():
    theirs = FLAMBY[name].get("mean of 4 hospitals")
    print(f"{name:20s} {row[0]:10.3f} {FLAMBY[name]['pooled test']:11.3f}   {np.mean(row[1:-1]):10.3f} "
          + (f"{theirs:11.3f}" if theirs else f"{'-':>11s}"))
flamby_gap = FLAMBY["FedAvg"]["pooled test"] - FLAMBY["pooled"]["pooled test"]
print(f"\nFedAvg minus pooled, pooled-test accuracy: FLamby {flamby_gap:+.3f} (mean of its 5 seeds, no interval "
      f"published); ours {results['FedAvg'][0] - results['pooled'][0]:+.3f} (paired interval in the table above)")

# %% [markdown]
# The clearest difference is FedAvg: FLamby's is 0.038 below its pooled model (printed, with no
# interval), while ours cannot be told from its pooled model (the paired accuracy interval above contains
# 0). The setups differ in three ways:
#
# - **Training budget.** FLamby's FedAvg takes 100 local SGD steps per round, batches of 4, learning rate
#   0.001, 15 rounds (`flamby/datasets/fed_heart_disease/common.py`), and its pooled and local baselines
#   use Adam. Ours gives everyone the same optimizer and learning rate, and FedAvg 30 rounds.
# - **Missing values.** We fill in cholesterol 0 and flag it; FLamby keeps the 0.
# - **The normalization trap, in FLamby itself.** FLamby's `HeartDiseaseRaw`
#   (`flamby/datasets/fed_heart_disease/dataset.py`, "Per-center Normalization", `normalize=True` by
#   default) standardizes every centre with *its own* training statistics, and the pooled baseline with
#   pooled ones. Its FedAvg trains on four differently scaled copies of the features; its pooled model
#   does not.
#
# Beware a mixed quote: "pooled 0.795, FedAvg 0.748" compares FLamby's pooled model on the pooled test set
# with FedAvg's *mean over the four hospitals' test sets*. Always check which test set a number is on.
#
# The last cell tests the third difference: the same FedAvg on the same five seeds, but each hospital
# standardizes with its own statistics, as FLamby does. If the trap explains much of FLamby's gap, this
# run should land near FLamby's FedAvg and clearly below ours.

# %%
own_train = [standardize(d, m, s) for d, (m, s) in zip(raw_train, local_stats)]
own_test = pool([standardize(d, m, s) for d, (m, s) in zip(raw_test, local_stats)])
own = evidence.repeat(lambda seed: run_federated(logreg(seed), own_train, own_test, rounds=30, local=HEART_LOCAL,
                                                 seed=seed, progress=False), name="FedAvg, local statistics")
for key in ("accuracy", "auc"):
    print(f"{key:8s} FedAvg, federated statistics: {seeded['FedAvg'].summary(key)}")
    print(f"{key:8s} FedAvg, local statistics:     {own.summary(key)}")
    print(f"{key:8s} local minus federated (paired): {evidence.paired_difference(own, seeded['FedAvg'], key)}")
print(f"FLamby's FedAvg, pooled-test accuracy (local statistics, mean of its 5 seeds): {FLAMBY['FedAvg']['pooled test']}")

# %% [markdown]
# With local statistics our FedAvg changes by −0.046 [−0.053, −0.040] in accuracy and −0.070 [−0.072,
# −0.069] in AUC (paired, 5 seeds) and lands at 0.749, near FLamby's 0.757. So in our setup the trap alone
# costs accuracy of the same order as FLamby's FedAvg-to-pooled gap (0.038, no interval). The two are not
# directly comparable: FLamby's gap also comes with its optimizer, budget and missing-value handling,
# the two differences we did not test.
#
# ## Recap
#
# - **Feature shift** (same patients, different scanners) differs in the inputs; **FedBN** keeps the
#   batch-normalization layers local for it. Our one run is a demonstration, not evidence.
# - Real federations have label skew, quantity skew and feature shift **all at once**, and data recorded
#   differently: a cholesterol of 0 meant "not measured", mostly for sick patients at two sites. Fill it
#   in from federated statistics and flag it, rather than teach the model a site shortcut.
# - **Feature statistics are a federated computation too**: pooled statistics leak raw data, local ones
#   put hospitals on different scales, federated ones (from $n_k$, $\sum x$, $\sum x^2$) equal the pooled ones.
# - On five seeds, FedAvg beats every hospital alone in AUC and comes close to pooled training, the
#   reference. Compare with benchmarks on the same test set, metric and preprocessing: FLamby's per-centre
#   standardization is the normalization trap; in our setup it costs FedAvg accuracy of the same order as
#   FLamby's gap, though the two setups are not directly comparable.
#
# *Further reading:* FedBN (Li et al., ICLR 2021); FLamby (Ogier du Terrail et al., NeurIPS 2022).
#
# **Next:** [04a · Medical use cases across hospitals](04a_cross_silo_use_cases.ipynb): disease
# prediction hospital by hospital, imaging across scanners, and personalization.
#
# *The datasets are for teaching only: not for clinical use.*
#
# **Play with it:** every knob of this course, live, in the [playground](playground.ipynb).
