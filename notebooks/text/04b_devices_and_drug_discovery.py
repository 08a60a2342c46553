# %% [markdown]
# # 04b · Patients' devices and drug discovery: cross-device and vertical FL
#
# > **中文摘要：**跨设备联邦学习（cross-device FL）：100 台模拟的患者设备，每轮按参与率抽样，部分设备掉线；比较随机掉线与依赖患者病情的掉线有何不同。
# > 了解药企之间的联邦训练项目 MELLODDY 与骨架划分（scaffold split），并在心脏病特征上训练一个小型纵向联邦学习（vertical FL）模型。
#
# Notebook 04a worked three uses of federated learning *across hospitals*: a handful of reliable
# clients with many records each. The two remaining uses of the usual list look different. Remote care
# with wearables federates **many small, unreliable devices**; drug discovery federates **competing
# companies**, and sometimes parties that hold different measurements of the same patients or
# compounds. As in 04a, every part runs on data where the kit allows, and says plainly where it stops.
#
# **In this notebook you will**
# - simulate remote monitoring: 100 patients' devices, 10 of them asked per round, some dropping out
#   mid-round, and see that random dropouts leave the expected mix of data behind the model unchanged
#   while dropouts that depend on the patient shift it (a 20-round run is too short to show any effect
#   on the model itself);
# - see how drug companies federate (cross-silo, MELLODDY), what vertical federated learning is, and
#   train a small vertical model on the heart-disease features;
# - end with one table: use case → setting → main risk → what the course showed.
#
# **Time:** about 50 minutes (the notebook itself runs in under a minute).
# **Prerequisites:** [01 · Centralized vs federated](01_centralized_vs_federated.ipynb),
# [02 · FedAvg math](02_fedavg_math.ipynb), [03a · Non-IID hospitals](03a_non_iid_hospitals.ipynb) and
# [03b · Real hospitals](03b_real_hospitals.ipynb): `run_federated`, the weights $n_k/n$, the Dirichlet
# α, and the four heart-disease hospitals with federated standardization.
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
# Every number below comes from a cell you can run. Every run uses seed 0. The runs are short so that
# the notebook stays under a minute, and the text says where a longer run could change the picture.

# %%
import matplotlib.pyplot as plt
import numpy as np
import torch

from fedlite import LocalConfig, make_model, plots, pool, run_federated
from fedlite.heterogeneity import partition
from fedlite.data import subsets
from fedlite.datasets import load_medmnist
from fedlite.datasets.heart import heart_hospitals
from fedlite.exercises.nb04b import check_expected_arrivals, check_fl_settings

SEED = 0

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
#   server asks a random fraction $q$ of them, the participation rate (McMahan et al. 2017, who call it
#   $C$, used 100 clients and $q = 0.1$; symbols: [notation card](../docs/notation.md));
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
# A dropout is easy to express with the round loop's hook: `run_federated(..., on_update=hook)` calls
# `hook(round, device, result)` for every trained update, and whatever the hook returns is what reaches
# the server; `None` means nothing arrives. The device has trained, and its work is lost. The course's
# hook for this is `fedlite.robustness.participation.RandomDropout(p, seed=SEED)`: it loses device $k$'s update with
# probability `p` (one number for every device) or `p[k]` (one per device), drawn from a generator seeded
# by the seed, the round and the device, so that every run is reproducible.
#
# **Exercise 1.** Each round the server asks a fraction $q$ = `PARTICIPATION` of the $K$ = `NUM_DEVICES` devices,
# and each asked device drops out with probability $p$ = 0.3. On average, how many updates reach the
# server per round? Compute it from the variables, so that it stays right if they change.

# %%
my_arrivals = ...  # use NUM_DEVICES, PARTICIPATION and the dropout probability 0.3
check_expected_arrivals(my_arrivals, NUM_DEVICES, PARTICIPATION, 0.3)

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
from fedlite.robustness.participation import RandomDropout

DEV_LOCAL = LocalConfig(lr=0.02, momentum=0.9, batch_size=16)
drop_prob = {"all report": np.zeros(NUM_DEVICES),
             "30% drop at random": np.full(NUM_DEVICES, 0.3),
             "the sicker drop more": np.where(mostly_sick, 0.4, 0.0)}
device_runs = {name: run_federated(make_model("cnn", seed=0, norm=True), devices, dev_test, rounds=DEV_ROUNDS,
                                   local=DEV_LOCAL, participation=PARTICIPATION, on_update=RandomDropout(p, seed=SEED),
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
#   idea as personalization in notebook 04a (section 3);
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
#    g = \frac{1/(1 + e^{-z}) - y}{n}, \qquad
#    w_{\text{GP}} \leftarrow w_{\text{GP}} - \eta\, x_{\text{GP}}^\top g, \quad
#    w_{\text{card}} \leftarrow w_{\text{card}} - \eta\, x_{\text{card}}^\top g . $$
#
# The GP sends its partial scores $x_{\text{GP}} w_{\text{GP}}$, the clinic (which holds the labels)
# sends back the error $g$, and each party updates only its own weights. No feature column leaves its
# owner. The features were standardized with statistics over the training rows, column by column, so
# each party could have done that on its own columns. The next cell loads the four heart-disease
# hospitals and standardizes them with federated statistics, as in notebook 03b.

# %%
_, trains, tests, _, _ = heart_hospitals()

# %%
from fedlite.metrics import roc_auc
from fedlite.datasets.readers import HEART_FEATURES

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
# **Exercise 2.** Name the FL setting of each scenario in `SCENARIOS` (printed below): a pair
# `(scale, partition)` with scale `"cross-silo"` or `"cross-device"`, and partition `"horizontal"` or
# `"vertical"`.

# %%
from fedlite.exercises.nb04b import SCENARIOS

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
# | disease prediction across hospitals | cross-silo, horizontal | a hospital unlike the others (Switzerland) is served worst, and its small test set hides it | pooled, local-only and FedAvg per hospital on four real hospitals: the three larger sites gain; the Swiss local model's high accuracy is a constant "sick", and a 16-patient test split with one healthy patient cannot rank the Swiss models; federated standardization (03b) |
# | medical imaging | cross-silo, horizontal | scanner and site shift; small sites with weak local models | four simulated scanners and very unequal sizes: the two small hospitals gained most, the clinic above all |
# | personalized treatment | cross-silo, horizontal, personal models | gains at one hospital, losses at another; choosing $E$ on the test set | fine-tuning slides between the global and the local model; FedBN-style local normalization; on the heart data both moved the threshold more than the ranking |
# | remote care, wearables | cross-device, horizontal | who participates: dropouts that depend on the patient bias the data behind the model | 100 stand-in devices, 10 per round: random dropouts cost updates, patient-dependent ones shift the long-run data mix; 20 rounds show no clear effect on the model; a jittery threshold; no real wearable data |
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
