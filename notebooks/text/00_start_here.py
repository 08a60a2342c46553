# %% [markdown]
# # 00 · Start here: federated learning for healthcare
#
# > **中文摘要：**本课程在真实医疗数据上讲解联邦学习（federated learning）：模型走向数据，数据留在医院。
# > 本笔记本检查运行环境并估算本机完成全部课程所需的时间，初看胸部 X 光数据，并认识贯穿全课程的聚合权重 $n_k/n$。
#
# A hospital that wants to detect pneumonia on chest X-rays needs many X-rays, from many patients,
# from many machines. No single hospital has enough, and data-protection law (the GDPR in Europe, HIPAA
# in the US) and the patients' trust make pooling the records hard. **Federated learning** trains one
# model across hospitals anyway: the model travels to the data, learns there, and only its weights come
# back. It does not take a project outside the law: weights computed from patients' records can leak them
# (notebook 05), and under the GDPR such model updates can themselves be personal data, so a federation
# still needs a legal basis, agreements between the sites and safeguards.
#
# **In this notebook you will**
# - see what the course covers and in which order;
# - check that your set-up works (libraries, CPU threads, datasets);
# - take a first look at the chest X-rays the course trains on;
# - learn to read the course's numbers: accuracy against the constant answer, AUC and its noise;
# - meet the one formula the whole course keeps coming back to: the FedAvg weights $n_k / n$.
#
# **Time:** about 35 minutes. **Prerequisites:** Python basics (lists, functions, `import`).
# No GPU is needed anywhere in the course.
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
# ## The idea in one picture
#
# A server holds the current model $w$. Every round it sends $w$ to the five hospitals (blue); each
# hospital trains on its own patients and sends back its updated weights $w_k$ (orange); the server
# averages them, giving each hospital a say proportional to its number of patients $n_k$. Patient data
# never leaves the blue boxes.

# %%
import matplotlib.pyplot as plt

from fedlite import plots

plots.federation_diagram()
plt.show()

# %% [markdown]
# ## The course map
#
# | # | notebook | the question it answers |
# |---|---|---|
# | 00 | start here | what is this, and does my set-up work? |
# | 01 | centralized vs federated | how close does FL get to pooling the data, and what travels over the network? |
# | 02 | FedAvg math | why is FedAvg a weighted average, and when is it exactly centralized training? |
# | 03a | non-IID hospitals | what happens when hospitals' mixes of diagnoses and sizes differ, and what helps? |
# | 03b | real hospitals | different scanners (FedBN); four real heart-disease hospitals, federated normalization, FLamby |
# | 04a | use cases across hospitals | disease prediction hospital by hospital, imaging across scanners, personalization |
# | 04b | patients' devices and drug discovery | cross-device FL with dropouts; MELLODDY; vertical FL |
# | 05 | privacy attacks and defences | can a model update leak an X-ray? what do secure aggregation and differential privacy buy? |
# | 06 | systems and robustness | communication cost, dropouts, and a faulty or malicious hospital |
# | 07 | where next | real FL frameworks (Flower, NVFlare, FLamby, ...) mapped to what you learned |
#
# A 3-hour workshop covers 01 → 02 → 03a, with this notebook done at home the day before; the README lists
# each notebook's honest time. Each notebook runs in about a minute on a laptop CPU.
#
# **How to run the course.** On your own Linux machine with Python 3.11: `make lab` in the project folder
# installs everything into `.venv` and opens JupyterLab here. On Binder: the launch link in the README
# builds the same environment in the cloud (about 2 GB of memory is enough).

# %% [markdown]
# ## Check your set-up
#
# The next cell prints the library versions, how many CPU threads PyTorch will use, and whether each
# dataset is on disk (`verified` = present with the right checksum, `missing` = it will be downloaded on
# first use, `bundled` = ships inside a library).

# %%
from fedlite import environment

facts = environment.report()

# %% [markdown]
# ### How long will the course take on this machine?
#
# Most of the course is reading and thinking (the README's learning path gives each notebook's honest
# time, a long working day in all), but every notebook also trains models. The next cell times one
# small FedAvg round (five hospitals of 200 X-rays, one local epoch of the course's CNN), after a
# warm-up round that also pays for loading the code, and compares it with the same round on the
# course's reference machine (2 CPU cores), where all the notebooks together compute for about
# 200 seconds.

# %%
import time

from fedlite import LocalConfig, make_model, run_federated
from fedlite.data import subsets
from fedlite.datasets import load_medmnist
from fedlite.heterogeneity import partition

REFERENCE_ROUND_SECONDS = 0.25  # this round on the reference machine (2 cores), measured on 2026-12-02
REFERENCE_COURSE_SECONDS = 200  # every notebook top to bottom on that machine (instructor guide, `make bench`)

xray = load_medmnist("pneumoniamnist")
small, probe = xray["train"].subset(range(1000)), xray["test"].subset(range(200))
five_hospitals = subsets(small, partition.iid(len(small), 5, seed=0))


def one_round() -> float:
    """Seconds for one FedAvg round of the course's CNN on five hospitals of 200 X-rays."""
    start = time.perf_counter()
    run_federated(make_model("cnn", seed=0), five_hospitals, probe, rounds=1, seed=0, progress=False,
                  local=LocalConfig(lr=0.02, momentum=0.9, batch_size=32))
    return time.perf_counter() - start


one_round()  # warm-up
seconds = min(one_round() for _ in range(2))
speed = REFERENCE_ROUND_SECONDS / seconds
print(f"one round: {seconds:.2f} s here, {REFERENCE_ROUND_SECONDS} s on the reference machine "
      f"(this machine runs at {speed:.1f}x its speed)")
print(f"expected computing time for the whole course here: about "
      f"{max(1, round(REFERENCE_COURSE_SECONDS / speed / 60))} minute(s), on top of the reading and exercises")

# %% [markdown]
# ## A first look at the data
#
# The course's main image dataset is **PneumoniaMNIST** (from MedMNIST v2): paediatric chest X-rays,
# shrunk to 28×28 pixels, labelled *normal* (0) or *pneumonia* (1). `load_medmnist` downloads the
# official file once (checksum-verified) and returns ready-to-train tensors: images scaled to $[0, 1]$,
# one label per image.

# %%
train, test = xray["train"], xray["test"]  # xray was loaded by the timing cell above
print(f"train: {len(train)} images of shape {tuple(train.x.shape[1:])}; val: {len(xray['val'])}; test: {len(test)}")
print(f"real data: {not xray.synthetic}")

# %% [markdown]
# Eight images of each class. Can you see the difference? The pneumonia cases tend to show hazy,
# whiter lung fields, but at 28×28 pixels it is subtle, which is why we need a model.

# %%
plots.image_grid({"normal": train.x[train.y == 0][:8], "pneumonia": train.x[train.y == 1][:8]})
plt.show()

# %% [markdown]
# ## Reading the numbers
#
# Every notebook judges its models on the same held-out **test** set, with two numbers:
#
# - **Accuracy** counts correct answers after a threshold (the model says "pneumonia" when that class
#   gets the higher probability). It must be read against the **constant classifier**: a model that
#   always answers "pneumonia" scores the test set's share of pneumonia cases, and the test set's mix
#   is not the training set's (Exercise 2 below computes it). An accuracy near that share means the
#   model has learned nothing useful yet, however high it looks.
# - **ROC AUC** asks whether the model *ranks* a random pneumonia X-ray above a random normal one. It
#   needs no threshold; the constant classifier scores 0.5. The course prefers AUC when comparing methods.
# - **Noise.** With 624 test X-rays, a model's AUC would move by about one standard error if another test
#   set of the same size were drawn (Hanley & McNeil 1982). And one training run is one draw: a different
#   seed (initial weights, batch order) gives a different model. So whenever the course *ranks* methods,
#   it repeats them on at least 5 seeds and prints a 95 % interval (`fedlite.evidence`); where the
#   interval of a difference contains 0, no difference can be told from noise.

# %%
from fedlite.metrics import auc_standard_error

n_pos, n_neg = int((test.y == 1).sum()), int((test.y == 0).sum())
print(f"test set: {n_pos} pneumonia, {n_neg} normal; training set: {(train.y == 1).float().mean():.1%} pneumonia")
for auc in (0.80, 0.90, 0.95):
    print(f"a model with test AUC {auc:.2f}: standard error ± {auc_standard_error(auc, n_pos, n_neg):.3f}")

# %% [markdown]
# ## Five hospitals
#
# In the next notebooks we pretend these X-rays come from five hospitals that may not pool them.
# `fedlite.heterogeneity.partition.iid` deals the images out at random; each hospital's share is a list of indices
# into the training set. (Notebook 03a makes the hospitals differ, as real ones do.)

# %%
# NBVAL_CHECK_OUTPUT
from fedlite.heterogeneity import partition

parts = partition.iid(len(train), 5, seed=0)
sizes = [len(p) for p in parts]
print("images per hospital:", sizes, "  total:", sum(sizes))

# %% [markdown]
# When the server averages the hospitals' models, hospital $k$ gets the weight
#
# $$ \frac{n_k}{n}, \qquad n = n_1 + n_2 + \dots + n_K, $$
#
# its share of all training samples. Notebook 02 shows why this is the right weight. Here the hospitals
# are nearly equal, so each gets about a fifth.
#
# ### The course's symbols
#
# Each symbol means one thing everywhere in the course; the full list is the
# [notation card](../docs/notation.md), and the terms are in the [glossary](../docs/glossary.md).
#
# | symbol | meaning | in code |
# |---|---|---|
# | $K$, $k$ | number of hospitals (clients); one of them | `num_clients`, `k` |
# | $n_k$, $n$ | samples of hospital $k$; of all hospitals | `num_samples` |
# | $T$, $t$ | rounds; one round | `rounds` |
# | $q$ | participation rate: fraction of hospitals asked per round | `participation` |
# | $E$, $B$ | local epochs; local batch size | `epochs`, `batch_size` |
# | $\tau_k$ | local steps per round, $E \cdot \lceil n_k / B \rceil$ | `local_steps` |
# | $\eta$ | local learning rate | `lr` |
# | $w_t$, $w_k$, $\Delta_k$ | global weights of round $t$; hospital $k$'s weights after training; its update $w_k - w_t$ | `broadcast`, `state`, `delta` |
# | $\alpha$ | Dirichlet concentration (how skewed simulated hospitals are) | `alpha` |
# | $S$, $\sigma$, $\varepsilon$, $\delta$ | DP clip norm, noise multiplier, privacy budget | `clip_norm`, `noise_multiplier`, `epsilon`, `delta` |

# %% [markdown]
# ## Exercises
#
# Replace each `...` with your answer and run the cell. The check prints ✓ or a hint.
#
# **Exercise 1.** Five hospitals hold 1200, 300, 2500, 150 and 558 X-rays. What FedAvg weight does
# hospital 3 (the one with 150, counting from 0) get? Give a number between 0 and 1.

# %%
from fedlite.exercises.nb00 import check_fedavg_weight, check_test_baseline

unequal_sizes = [1200, 300, 2500, 150, 558]
my_weight = ...  # your answer, e.g. a Python expression
check_fedavg_weight(my_weight, unequal_sizes, client=3)

# %% [markdown]
# **Exercise 2.** What accuracy does the constant classifier (always "pneumonia", label 1) get on the
# **test** set? Compute it from `test.y`; don't type a number in. Compare it with the training share the
# cell under "Reading the numbers" printed: which one should an accuracy be read against, and why?

# %%
my_baseline = ...  # hint: (test.y == 1) is a tensor of True/False
check_test_baseline(my_baseline, test, train)

# %% [markdown]
# ## Recap
#
# - Federated learning moves the model to the data; hospitals send back weights, never records.
# - The server's average gives hospital $k$ the weight $n_k / n$.
# - Read accuracy against the constant classifier of the **test** set; prefer AUC to compare models, and
#   trust a ranking only when it holds over several seeds with an interval that excludes 0.
# - The course runs on real, openly licensed medical data, on a CPU, in about a minute per notebook.
# - The helper package `fedlite` is meant to be read: start with `fedlite/simulation.py`.
#
# **Next:** [01 · Centralized vs federated](01_centralized_vs_federated.ipynb): train on pooled
# X-rays, on each hospital alone, and with FedAvg, and compare.
#
# *The datasets are for teaching only: not for clinical use.*
#
# **Play with it:** every knob of this course, live, in the [playground](playground.ipynb).
