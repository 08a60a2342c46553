# %% [markdown]
# # 03 · Non-IID hospitals: when patients and scanners differ
#
# Notebooks 01 and 02 dealt the X-rays out to the hospitals at random, so every hospital looked like a
# small copy of the whole dataset. Real hospitals are not like that. A children's hospital sees more
# pneumonia than a sports clinic; a university hospital has fifty times the patients of a rural one; two
# X-ray machines from different vendors produce different-looking images of the same lungs. Statisticians
# call data like this **non-IID**: the hospitals' samples are not *independent and identically
# distributed* draws from one common distribution. It is the normal case in medicine, and it is where
# federated learning gets hard.
#
# **In this notebook you will**
# - build the standard kinds of non-IID hospitals (label skew with a Dirichlet α, quantity skew,
#   pathological shards, scanner shift) and see each as a heat-map;
# - measure what each one does to FedAvg, and see *client drift*: hospitals pulling the model apart;
# - try the remedies (FedProx, server momentum, FedBN; FedAdam is one line away) and judge honestly what
#   they buy here;
# - meet a natural split, four real heart-disease hospitals, and the normalization trap: computing
#   feature statistics is itself a federated question;
# - compare pooled, local-only and federated training with the published FLamby benchmark.
#
# **Time:** about 45 minutes (the notebook itself runs in under a minute).
# **Prerequisites:** [01 · Centralized vs federated](01_centralized_vs_federated.ipynb) and
# [02 · FedAvg math](02_fedavg_math.ipynb): the round loop `run_federated` and the weights $n_k/n$.

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
# | feature shift | how the inputs look | different X-ray machines and settings | `hospitals.scanner_shift` |
# | natural split | all of the above at once | real hospitals, real records | `load_heart_disease()` |
#
# The first four are *simulated*: we cut one dataset into hospitals on purpose, so we can turn each kind of
# difference up or down on its own. The last one is real, and comes in the second half of the notebook.

# %% [markdown]
# ## The X-rays, scaled down for speed
#
# We use PneumoniaMNIST again and five hospitals. To keep the whole notebook under a minute on a laptop,
# we train on a random half of the training images with mini-batches of 16 (the course default is all
# 4,708 images with batches of 32; set `HALF = False` to use them all, and each round takes about twice as
# long).
#
# One warning about the numbers, once and for all: the test set is 62.5% pneumonia, so a model that
# answers "pneumonia" for every image scores an **accuracy of 0.625** without having learned anything.
# That is why every result below shows the **AUC** next to the accuracy: AUC measures whether the model
# *ranks* sick patients above healthy ones, and a constant answer scores 0.5.

# %%
import matplotlib.pyplot as plt
import numpy as np

from fedlite import LocalConfig, make_model, partition, plots, run_federated
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
# How do you cut a dataset into hospitals whose diagnoses are mixed *differently*, by a controllable
# amount? The standard recipe (Hsu, Qi & Brown 2019) takes each class in turn and shares its images out
# with random proportions $p = (p_1, \dots, p_K)$ drawn from a **Dirichlet distribution**
# $\mathrm{Dir}(\alpha, \dots, \alpha)$:
#
# - a large concentration $\alpha$ (say 100) gives nearly equal proportions, so every hospital gets
#   its fair share of every class: almost IID;
# - a small $\alpha$ (say 0.1) puts nearly all of a class into one or two hospitals.
#
# To put a number on "how skewed", `fedlite.heterogeneity.label_skew` compares each hospital's mix of
# diagnoses with the federation's overall mix (the total-variation distance, averaged with the weights
# $n_k/n$): 0 means identical mixes. With two classes and a pneumonia share $p$, the largest possible
# value is $2p(1-p)$, reached when every hospital holds a single class; the cell prints it first.

# %%
# NBVAL_CHECK_OUTPUT
from fedlite.heterogeneity import label_skew

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
# The numbers are easier to read as pictures. Each heat-map has one row per hospital and one column per
# diagnosis; the colour and the number in a cell say how many X-rays of that kind the hospital holds.

# %%
CLASSES = ["normal", "pneumonia"]


def heatmap(c, ax=None, title=""):
    """`plots.partition_heatmap`, with rows named H0, H1, ... as in the rest of the notebook."""
    ax = plots.partition_heatmap(c, class_names=CLASSES, ax=ax, title=title)
    ax.set_yticks(range(len(c)), [f"H{k}" for k in range(len(c))])
    ax.set_ylabel("hospital")
    ax.set_xlabel("diagnosis")
    return ax


fig, axes = plt.subplots(1, 3, figsize=(11, 3.2), layout="constrained")
for ax, name in zip(axes, ["Dirichlet α=100", "Dirichlet α=0.5", "Dirichlet α=0.1"]):
    heatmap(counts[name], ax, f"{name}  (skew {label_skew(counts[name]):.2f})")
plt.show()

# %% [markdown]
# From left to right the rows stop looking alike. At α = 0.1 some hospitals hold almost only pneumonia
# and others almost only normal X-rays, and the sizes are very unequal too: the Dirichlet recipe skews the
# amounts as a side effect.
#
# Two more simulated federations. **Pathological shards** (McMahan et al. 2017, the paper that introduced
# FedAvg): sort the images by label, cut them into $2K$ equal shards and give each hospital two shards at
# random, so most hospitals see one or two classes only. **Quantity skew**: the labels are mixed fairly
# everywhere, only the *number* of patients differs (drawn with a Dirichlet α as well).

# %%
fig, axes = plt.subplots(1, 2, figsize=(8, 3.2), layout="constrained")
for ax, name in zip(axes, ["shards", "quantity α=0.5"]):
    heatmap(counts[name], ax, f"{name}  (skew {label_skew(counts[name]):.2f})")
plt.show()

# %% [markdown]
# With only two diagnoses, two shards can hold the same class, and then a hospital never sees the other
# diagnosis at all. Quantity skew has almost no label skew, yet one hospital may hold a handful of
# X-rays: FedAvg's weights $n_k/n$ make sure such a hospital gets a say in proportion to its data.
#
# ### Try it: slide α
#
# `explore(alpha, seed)` draws a Dirichlet partition and its heat-map. Below is the picture for α = 0.3;
# move the sliders (the partition is cheap, so the picture follows the slider) and watch the skew.
# Which α makes the rows look alike? Does a different seed change the story or only the details?

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

# %%
interact(explore, alpha=FloatLogSlider(value=0.3, base=10, min=-2, max=2, step=0.1, continuous_update=False),
         seed=IntSlider(value=0, min=0, max=9, continuous_update=False));

# %% [markdown]
# **Exercise 1.** In the `"shards"` federation above, how many of the five hospitals hold X-rays of only
# one diagnosis? Compute it from `counts["shards"]` (a hospitals × diagnoses table); don't type the number.

# %%
from fedlite.exercises.nb03 import check_federated_mean, check_remedy, check_single_class_hospitals

my_count = ...  # hint: (counts["shards"] > 0) is a table of True/False
check_single_class_hospitals(my_count, counts["shards"])

# %% [markdown]
# ## What skew does to FedAvg
#
# Now we train the same model with the same FedAvg settings on four federations of the same images:
# IID, Dirichlet α = 0.1, shards and quantity skew. Every run starts from the same `SmallCNN` (seed 0)
# and trains 5 rounds of one local epoch per hospital; only the way the images are dealt out differs.
# Five rounds are few, chosen for speed (try `ROUNDS = 15` if you have a minute). This cell trains 20
# rounds in all and is the slowest so far.

# %%
from fedlite.data import split

ROUNDS = 5
fedavg_runs = {}
for name in ["IID", "Dirichlet α=0.1", "shards", "quantity α=0.5"]:
    model = make_model("cnn", seed=0)
    fedavg_runs[name] = run_federated(model, split(train, splits[name]), test, rounds=ROUNDS,
                                      local=LOCAL, seed=SEED, name=name, progress=False)
    if name == "IID":
        iid_model = model  # the trained global model; we come back to it below
for h in fedavg_runs.values():
    print(f"{h.name:16s} final accuracy {h.final():.3f}   AUC per round "
          + " ".join(f"{a:.2f}" for a in h.metric("auc")))

# %%
from matplotlib.ticker import MaxNLocator


def curves(histories, title):
    """Test accuracy and AUC per round, side by side, with the 'always pneumonia' accuracy marked."""
    fig, (left, right) = plt.subplots(1, 2, figsize=(12, 3.6), layout="constrained")
    plots.learning_curves(histories, "accuracy", ax=left)
    left.axhline(0.625, color="black", linestyle=":", linewidth=1, label="always 'pneumonia'")
    plots.learning_curves(histories, "auc", ax=right, target=0.5)
    right.set_ylabel("test AUC (0.5 = coin toss)")
    for ax in (left, right):
        ax.set_xlabel("round")
        ax.xaxis.set_major_locator(MaxNLocator(integer=True))
        ax.get_legend().remove()
    fig.legend(*left.get_legend_handles_labels(), loc="outside right center", fontsize="small")
    fig.suptitle(title)
    plt.show()


curves(list(fedavg_runs.values()), "FedAvg on the same X-rays, dealt out four ways")

# %% [markdown]
# Read the AUC panel first (the grey dashed line at 0.5 is a coin toss). The IID federation climbs
# steadily. Under strong label skew (α = 0.1) the curve is jagged: a round that helps is often undone by
# the next one. The accuracy panel shows why: the global model keeps flipping between "everyone has
# pneumonia" (0.625) and "nobody has" (0.375).
#
# The shards federation shows a subtler failure. Its AUC climbs like the IID one, so the model *ranks*
# patients well, yet its accuracy sits on the 0.625 line: the hospitals that hold only pneumonia pull the
# average towards that answer, and the decision threshold ends up in the wrong place. Here the threshold,
# not the ranking, is what label skew broke. Quantity skew on its own does no harm, because the $n_k/n$
# weights already account for it.
#
# ## Client drift: hospitals pulling the model apart
#
# Why does label skew hurt? Notebook 02 gave the answer in weight space: each hospital minimizes the loss
# on *its own* patients, so during a round's local steps each model walks towards its own hospital's
# optimum, **client drift** (Karimireddy et al. 2020), and the average of models that walked apart is not
# the model that fits everyone. A hospital that only sees pneumonia learns "say pneumonia"; one that only
# sees normal X-rays learns the opposite.
#
# Here we look at the *directions* of the hospitals' updates. `client_drift` gives the well-trained IID
# global model to every hospital, lets each train one local epoch, and does *not* average. It measures
# each update $\Delta_k = w_k - w$, its cosine with the average update
# $\Delta = \sum_k \frac{n_k}{n}\Delta_k$, and an **agreement** score
# $\lVert\Delta\rVert / \sum_k \frac{n_k}{n}\lVert\Delta_k\rVert$ between 0 and 1: 1 when all hospitals
# push the model the same way, near 0 when their pushes cancel out.

# %%
from fedlite.heterogeneity import client_drift
from fedlite.metrics import predict

drift, says_pneumonia, probe = {}, {}, make_model("cnn", seed=0)
for name in ["IID", "Dirichlet α=0.1"]:
    drift[name] = client_drift(iid_model, split(train, splits[name]), LOCAL, seed=SEED)
    says_pneumonia[name] = []
    for state in drift[name].states:  # each hospital's locally trained model, before averaging
        probe.load_state_dict(state)
        says_pneumonia[name].append((predict(probe, test.x).argmax(1) == 1).float().mean().item())
    print(f"{name:16s} agreement {drift[name].agreement:.2f}   cosines "
          + " ".join(f"{c:+.2f}" for c in drift[name].cosines))

# %%
fig, (left, right) = plt.subplots(1, 2, figsize=(11, 3.4), layout="constrained")
names = [f"H{k}" for k in range(K)]
plots.client_bars({n: d.cosines for n, d in drift.items()}, client_names=names, ax=left,
                  ylabel="cosine(Δ_k, average Δ)")
left.axhline(0, color="black", linewidth=0.8)
left.set_title("Do the hospitals push the same way?")
plots.client_bars(says_pneumonia, client_names=names, ax=right, ylabel="share of test X-rays")
right.axhline(test.y.float().mean().item(), color="black", linestyle=":", linewidth=1,
              label="true pneumonia share")
right.legend(fontsize="small")
right.set_title("How often each local model says 'pneumonia'")
for ax in (left, right):
    ax.set_xlabel("hospital")
plt.show()

# %% [markdown]
# With IID hospitals all updates point roughly the way of the average (every cosine is clearly positive;
# one local epoch of mini-batch noise keeps them below 1), and every local model still says "pneumonia"
# at a sensible rate. With α = 0.1 the hospitals holding only, or almost only, normal X-rays (H1, H3 and
# H4 in the heat-map) push in the *opposite* direction: negative cosines. The two large hospitals with
# (almost) a single diagnosis end their one local epoch giving the same answer for nearly every test
# X-ray: H2 (only pneumonia) says "pneumonia", H4 (almost only normal) says "normal". The agreement
# score printed above the plot sums this up in one number per federation.
#
# ## Remedies, and what they buy here
#
# Three families of fixes attack the problem at different places in the round loop:
#
# - **FedProx** (Li et al. 2020) changes *local training*: each hospital minimizes
#   $F_k(w) + \frac{\mu}{2}\lVert w - w_{\text{global}}\rVert^2$, so a local model is pulled back towards
#   the global model it started from and cannot drift far. In `fedlite`: `LocalConfig(mu=...)`.
# - **Server momentum, FedAvgM** (Hsu et al. 2019) and **FedAdam** (Reddi et al. 2021) change the
#   *server step*: the averaged update $\Delta$ is treated as a gradient and fed to momentum or Adam,
#   which smooths the global model's path across rounds. In `fedlite`: `server=ServerMomentum(...)` or
#   `server=ServerAdam(...)`.
# - **FedBN** (Li et al. 2021) targets *feature shift* rather than label skew; it is the next section.
#
# We run FedProx and FedAvgM on the hardest federation, α = 0.1, with common settings (μ = 0.1; server
# learning rate 1 with momentum 0.9), chosen beforehand and not tuned on our test set. The FedAvg run is
# the one from above. (To keep the notebook fast we leave FedAdam to you: add
# `"FedAdam": dict(local=LOCAL, server=ServerAdam(lr=0.01))` to `remedies` and run the cell again.)

# %%
from dataclasses import replace

from fedlite import History, ServerAdam, ServerMomentum  # ServerAdam: for your own FedAdam run

skewed = split(train, splits["Dirichlet α=0.1"])
remedies = {"FedProx μ=0.1": dict(local=replace(LOCAL, mu=0.1)),
            "FedAvgM": dict(local=LOCAL, server=ServerMomentum(lr=1.0, momentum=0.9))}
remedy_runs = [History("FedAvg", fedavg_runs["Dirichlet α=0.1"].rounds)]
for name, settings in remedies.items():
    remedy_runs.append(run_federated(make_model("cnn", seed=0), skewed, test, rounds=ROUNDS, seed=SEED,
                                     name=name, progress=False, **settings))
curves(remedy_runs, "Remedies on Dirichlet α=0.1 hospitals (FedAvg for reference)")

# %% [markdown]
# A single final number hides the jaggedness, so the next cell prints two: the mean AUC over the last
# three rounds (is the model good?) and the gap between the best and worst of those three rounds (is it
# stable?).

# %%
for h in remedy_runs:
    last = np.array(h.metric("auc")[-3:])
    print(f"{h.name:14s} mean AUC, last 3 rounds {last.mean():.3f}   best - worst {last.max() - last.min():.3f}"
          f"   final accuracy {h.final():.3f}")

# %% [markdown]
# Compare each remedy with the FedAvg row. In our run FedProx's proximal term damps the swings most,
# because it attacks the cause: local models may not wander far from the global one. Server momentum
# works on the *averaged* update; when the hospitals' updates largely cancel, there is little consistent
# direction for momentum to build on, so at this budget it barely changes the picture, and it can even
# carry a bad step further. (FedAdam works on the same averaged update; try it and compare.) And look at the
# accuracy column: even the steadiest run has not fixed its decision threshold yet. It ranks well, but
# would still need more rounds, or a threshold chosen on validation data, before anyone used its yes/no
# answers.
#
# That is a real lesson, not a failure of the code: remedies have hyper-parameters, help in some regimes
# and not others, and must be judged on validation data for the problem at hand. (Change `SEED` at the
# top to deal the hospitals differently and see how much of the picture is luck of the draw.)
#
# ## Feature shift and FedBN
#
# Now the hospitals have the same mix of patients but different **scanners**. `make_hospitals(...,
# split="scanner")` deals the X-rays out at random, then passes each hospital's images through that
# hospital's own fixed gamma, contrast, brightness, blur and noise. Here is one test X-ray as the five
# scanners show it.

# %%
from fedlite.data import Data
from fedlite.hospitals import make_hospitals, scanner_shift

example = test.x[:1]
fig, axes = plt.subplots(1, K + 1, figsize=(10, 2.2), layout="constrained")
for k, ax in enumerate(axes):
    image = example if k == 0 else scanner_shift(example, k - 1, seed=SEED)
    ax.imshow(image[0, 0], cmap="gray", vmin=0, vmax=1)
    ax.set_title("original" if k == 0 else f"scanner of H{k - 1}", fontsize=9)
    ax.axis("off")
plt.show()

# %% [markdown]
# A model trained across these hospitals must cope with five kinds of pixel statistics. **FedBN** (Li,
# Jiang, Zhang, Kamp & Dou, ICLR 2021) uses a model with batch-normalization layers, which standardize
# the activations with running means and variances and then rescale them, and keeps exactly those
# layers **local**: each hospital keeps its own normalization, everything else is averaged as usual. In
# `fedlite`: `make_model("cnn", seed=0, norm=True)` adds the BatchNorm layers, and
# `local_keys=batchnorm_keys(model)` keeps them at home.
#
# Because FedBN gives every hospital its own model, each hospital must be tested on *its own* scanner's
# images: `client_tests[k]` is the test set as hospital $k$'s scanner shows it (every second test image,
# to halve the evaluation time). We compare FedAvg and FedBN with the same BatchNorm model, `ROUNDS`
# rounds each.

# %%
from fedlite import batchnorm_keys

scanner_hospitals = make_hospitals(train, K, split="scanner", seed=SEED)
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

# %%
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
# Read the bars hospital by hospital. On our simulated scanners FedBN's effect is modest and not uniform:
# the bars show which hospitals gained and which lost, and the two means printed above the plot need not
# even agree on the direction. Two honest reasons: our scanner shifts are mild for a CNN whose BatchNorm layers
# already standardize every training batch with that batch's own statistics, and our runs are short.
# FedBN was designed for, and evaluated on, real multi-site images whose differences go well beyond a
# gamma curve and a little blur.
#
# **Exercise 2.** Five hospitals serve the same population and see the same mix of diagnoses, but each has
# a different X-ray machine. Which remedy from this notebook targets exactly this situation? Answer with
# one of `"fedprox"`, `"fedavgm"`, `"fedadam"`, `"fedbn"`.

# %%
my_remedy = ...  # a string
check_remedy(my_remedy)

# %% [markdown]
# ## A natural split: four heart-disease hospitals
#
# Simulations let us turn one kind of difference up at a time. Real federations have all of them at
# once. The UCI Heart Disease data (donated to the UCI repository in 1988) come from four sites: the
# Cleveland Clinic, the Hungarian Institute of Cardiology in Budapest, the university hospitals of Zürich
# and Basel (Switzerland), and the VA Medical Center in Long Beach. FLamby (Ogier du Terrail et al.,
# NeurIPS 2022 Datasets and Benchmarks) turned them into a federated benchmark, Fed-Heart-Disease: 13
# features per patient (age, sex, blood pressure, cholesterol, chest-pain type, ...) and the label "any
# heart disease". `fedlite` reproduces FLamby's preprocessing and train/test split exactly, but leaves
# the features raw.

# %%
from fedlite.datasets import load_heart_disease
from fedlite.readers import HEART_FEATURES

heart = load_heart_disease()
HOSPITALS = list(heart)
raw_train = [heart[h]["train"] for h in HOSPITALS]
raw_test = [heart[h]["test"] for h in HOSPITALS]
CHOL = HEART_FEATURES.index("chol")
print(f"{'hospital':12s} {'train':>5s} {'test':>5s} {'disease share':>14s} {'mean cholesterol':>17s}")
for h, tr, te in zip(HOSPITALS, raw_train, raw_test):
    print(f"{h:12s} {len(tr):5d} {len(te):5d} {tr.y.float().mean().item():14.2f} "
          f"{tr.x[:, CHOL].mean().item():17.1f}")

# %% [markdown]
# Everything is different at once: the sizes (quantity skew), the disease share (label skew; the Swiss
# training split has no healthy patient at all), and the features themselves. Switzerland's mean
# cholesterol printed above is no typo: the Swiss sites recorded cholesterol as 0 for every patient. In the
# original data that is how "not measured" was written down.
#
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
# That is `fedlite.normalize.federated_mean_std`. The next cell shows what the hospitals send for the
# age column, then checks the federated statistics against the pooled ones (computed here, on purpose
# and only once, the forbidden way).

# %%
from fedlite.data import pool
from fedlite.normalize import federated_mean_std, local_mean_std, standardize, summary_stats

AGE = HEART_FEATURES.index("age")
for h, data in zip(HOSPITALS, raw_train):
    n_k, s_k, q_k = summary_stats(data)
    print(f"{h:12s} sends n_k = {n_k:3d}, sum of ages = {s_k[AGE]:6.0f}, "
          f"sum of squared ages = {q_k[AGE]:7.0f}")
fed_mean, fed_std = federated_mean_std(raw_train)
pooled_mean, pooled_std = local_mean_std(pool(raw_train))  # needs everyone's rows: the leak
print(f"largest difference, federated vs pooled: mean {(fed_mean - pooled_mean).abs().max():.2e}, "
      f"std {(fed_std - pooled_std).abs().max():.2e}")

# %% [markdown]
# The federated statistics equal the pooled ones to float32 precision, and no row left a hospital.
# (The sums themselves still say something about a hospital; secure aggregation, in notebook 05, hides
# even those from the server.)
#
# **Exercise 3.** The hospitals report, for the age column, the pairs $(n_k, s_k)$ in `age_shares`. Compute
# the federated mean age from those pairs alone.

# %%
age_shares = [(summary_stats(d)[0], summary_stats(d)[1][AGE].item()) for d in raw_train]
my_mean_age = ...  # use only age_shares
check_federated_mean(my_mean_age, age_shares)

# %% [markdown]
# What if each hospital simply standardized with its *own* statistics (`local_mean_std`)? That is
# private too, but then the same raw value means different things at different hospitals. The heat-map
# shows how far each hospital's own mean sits from the pooled mean, in pooled standard deviations.

# %%
local_stats = [local_mean_std(d) for d in raw_train]
offset = np.stack([((m - pooled_mean) / pooled_std).numpy() for m, _ in local_stats])
fig, ax = plt.subplots(figsize=(10, 2.8), layout="constrained")
image = ax.imshow(offset, cmap="RdBu_r", vmin=-2.5, vmax=2.5, aspect="auto")
for (k, j), v in np.ndenumerate(offset.round(1) + 0.0):  # + 0.0 turns -0.0 into 0.0
    ax.text(j, k, f"{v:+.1f}", ha="center", va="center", fontsize=8,
            color="white" if abs(v) > 1.5 else "black")
ax.set_xticks(range(len(HEART_FEATURES)), HEART_FEATURES, rotation=30, ha="right")
ax.set_yticks(range(len(HOSPITALS)), HOSPITALS)
plt.colorbar(image, ax=ax, label="offset in pooled stds")
ax.set_title("How far each hospital's own feature means are from the federation's")
plt.show()

# %% [markdown]
# Most features differ by a fraction of a standard deviation, which is ordinary between-hospital
# variation. Switzerland's cholesterol stands out by far: with every value 0, its own standard deviation is
# 0 as well, so local standardization would turn "not measured" into "perfectly average". With the
# federated statistics, every hospital maps the same raw value to the same input.
#
# ### Pooled, local-only and FedAvg, side by side
#
# Now the comparison FLamby makes, with the same model (logistic regression, as in FLamby) and the same
# federated standardization for everyone:
#
# - **pooled**: all four training sets in one place (the unattainable ideal);
# - **local-only**: each hospital trains alone on its own patients;
# - **FedAvg**: the four hospitals train together, 30 rounds of one local epoch.
#
# Every model is tested on the **pooled test set** (all four hospitals' test splits together) and on each
# hospital's own test split. Plain SGD with batches of 16 and learning rate 0.05 for all runs: 30 epochs
# of a few hundred rows each take a second or two.

# %%
from fedlite import evaluate, run_centralized

trains = [standardize(d, fed_mean, fed_std) for d in raw_train]
tests = [standardize(d, fed_mean, fed_std) for d in raw_test]
pooled_test = pool(tests)
HEART_LOCAL = LocalConfig(lr=0.05, batch_size=16)


def scores(model):
    """Accuracy on the pooled test set and on each hospital's test set, then the pooled-test AUC."""
    pooled = evaluate(model, pooled_test)
    return [pooled["accuracy"], *(evaluate(model, t)["accuracy"] for t in tests), pooled["auc"]]


def logreg():
    return make_model("logreg", seed=0, in_features=len(HEART_FEATURES))

# %%
models = {"pooled": logreg()}
run_centralized(models["pooled"], pool(trains), pooled_test, epochs=30, local=HEART_LOCAL, seed=SEED,
                progress=False)
for h, data in zip(HOSPITALS, trains):
    models[f"local: {h}"] = logreg()
    run_centralized(models[f"local: {h}"], data, pooled_test, epochs=30, local=HEART_LOCAL, seed=SEED,
                    progress=False)
models["FedAvg"] = logreg()
run_federated(models["FedAvg"], trains, pooled_test, rounds=30, local=HEART_LOCAL, seed=SEED, progress=False)
results = {name: scores(m) for name, m in models.items()}
says_sick = {name: (predict(m, pooled_test.x).argmax(1) == 1).float().mean().item()
             for name, m in models.items()}
print(f"accuracy; the pooled test set has {len(pooled_test)} patients, "
      f"{pooled_test.y.float().mean():.0%} of them with heart disease")
print(f"{'trained on':20s} {'pooled test':>11s} " + " ".join(f"{h:>11s}" for h in HOSPITALS)
      + "  pooled AUC  says 'sick'")
for name, row in results.items():
    print(f"{name:20s} " + " ".join(f"{v:11.3f}" for v in row) + f"  {says_sick[name]:10.0%}")

# %%
columns = ["pooled test", *HOSPITALS]
fig, ax = plt.subplots(figsize=(11, 3.6), layout="constrained")
plots.client_bars({name: row[:-1] for name, row in results.items()}, client_names=columns, ax=ax,
                  ylabel="test accuracy")
ax.set_xlabel("test set")
ax.set_ylim(0, 1)
ax.legend(fontsize="small", loc="center left", bbox_to_anchor=(1.0, 0.5), title="trained on")
ax.set_title("Heart disease: who trained the model (bars) vs whose patients it is tested on (groups)")
plt.show()

# %% [markdown]
# What to look for in the table and the plot:
#
# - **FedAvg lands close to pooled training**, without a single row leaving a hospital. With a linear
#   model, federated statistics and a few hundred patients, federated learning recovers most of what
#   pooling would give.
# - **Local-only models are uneven, and inherit their hospital's habits.** The Hungarian hospital sees
#   mostly healthy patients, and its model says "sick" too rarely; on the Swiss test split, where almost
#   everyone is sick, it collapses. The Swiss model has never seen a healthy patient. It still ranks
#   patients better than chance (presumably because what makes a patient look "Swiss" overlaps with signs
#   of disease), but its high score at home mostly reflects that 15 of the 16 Swiss test patients are sick.
# - **Per-hospital test sets are small** (16 Swiss test patients; one of them is healthy), so a single
#   patient moves a hospital's accuracy by several points. Read the per-hospital columns with that in mind.
#
# ### Our numbers next to FLamby's
#
# FLamby publishes its Fed-Heart-Disease results per training seed in its repository
# (`flamby/results/results_benchmark_fed_heart_disease/heart_seed42.csv` to `heart_seed46.csv` in
# owkin/FLamby). The cell below holds their means over the five seeds: accuracy on the pooled test set,
# and the average of the four per-hospital test accuracies, which is what the paper's benchmark figure
# plots.

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
    ours_mean = np.mean(row[1:-1])
    theirs = FLAMBY[name].get("mean of 4 hospitals")
    print(f"{name:20s} {row[0]:10.3f} {FLAMBY[name]['pooled test']:11.3f}   {ours_mean:10.3f} "
          + (f"{theirs:11.3f}" if theirs else f"{'-':>11s}"))

# %% [markdown]
# Our pooled model lands on FLamby's pooled number, and in both studies Cleveland's (the largest
# hospital's) local model is the best local one on the pooled test set. The other local models differ
# more, and FLamby's own vary a lot between seeds: its Swiss model scores between 0.42 and 0.75 on the
# pooled test set depending on the seed. The clearest difference is FedAvg: FLamby's is several points
# below its pooled model, ours is level with it or close. The setups differ in ways that plausibly
# explain this:
#
# - **Training budget.** FLamby's FedAvg takes 100 local SGD steps per round with batches of 4 and
#   learning rate 0.001, for 15 rounds (the results files and the round formula in
#   `flamby/datasets/fed_heart_disease/common.py`), while its pooled and local baselines use Adam. Ours
#   gives pooled, local and FedAvg the same optimizer and learning rate, and FedAvg 30 rounds.
# - **Seeds.** FLamby's numbers are means over five training seeds; its FedAvg varies from seed to seed
#   by several points. Ours is one seed (change `SEED` to see the spread).
# - **Preprocessing.** We standardize with federated statistics from the raw features; FLamby's pipeline
#   has its own scaling choices.
#
# A note on reading benchmarks: "pooled 0.795, FedAvg 0.748", as sometimes quoted, mixes two metrics.
# 0.795 is FLamby's pooled model on the pooled test set, 0.748 is FedAvg's *mean over the four hospitals'
# test sets*; on the pooled test set FLamby's FedAvg scores 0.757. Always check which test set a number
# was measured on.
#
# Finally, the normalization trap in numbers: the same FedAvg, but each hospital standardizes with its
# own statistics.

# %%
own_train = [standardize(d, m, s) for d, (m, s) in zip(raw_train, local_stats)]
own_test = pool([standardize(d, m, s) for d, (m, s) in zip(raw_test, local_stats)])
model = logreg()
own = run_federated(model, own_train, own_test, rounds=30, local=HEART_LOCAL, seed=SEED, progress=False)
print(f"FedAvg, federated statistics: pooled-test accuracy {results['FedAvg'][0]:.3f}, "
      f"AUC {results['FedAvg'][-1]:.3f}")
print(f"FedAvg, local statistics:     pooled-test accuracy {own.final():.3f}, AUC {own.final('auc'):.3f}")

# %% [markdown]
# Compare the two lines: with local statistics the hospitals feed the shared model inputs on different
# scales, and the pooled test set shows the cost. Federated statistics cost one extra round of
# communication (three numbers per feature per hospital) and give every hospital the same scale.
#
# ## Recap
#
# - Hospitals differ in their **diagnosis mix** (label skew), their **size** (quantity skew) and their
#   **inputs** (feature shift, e.g. scanners); real federations have all of these at once.
# - A Dirichlet α controls label skew: small α, few diagnoses per hospital. Quantity skew alone is handled
#   by FedAvg's $n_k/n$ weights; strong label skew makes FedAvg jagged.
# - The cause is **client drift**: local models move towards their own hospital's answer, and their
#   updates partly cancel in the average.
# - **FedProx** limits drift at the hospitals; **FedAvgM / FedAdam** change the server's step; **FedBN**
#   keeps normalization local for feature shift. None is free or universal: judge them on your data.
# - **Feature statistics are a federated computation too**: pooled statistics leak raw data, local ones
#   put hospitals on different scales, federated ones (from $n_k$, $\sum x$, $\sum x^2$) equal the pooled
#   ones exactly.
# - On the four heart-disease hospitals, FedAvg comes close to pooled training and beats most local-only
#   models; compare with published benchmarks on the same test set and metric.
#
# **Next:** [04 · Medical use cases](04_medical_use_cases.ipynb): disease prediction, imaging,
# personalization, wearables and drug discovery, each with a small federated example.
#
# *The datasets are for teaching only: not for clinical use.*
#
# **Play with it:** every knob of this course, live, in the [playground](playground.ipynb).
