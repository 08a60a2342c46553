# %% [markdown]
# # 01 · Centralized vs federated: five hospitals, one model
#
# > **中文摘要：**五家医院、一个模型：对比集中式训练（centralized training）、仅本地训练（local-only training）与联邦平均（FedAvg），并亲手写出一轮联邦训练的循环。
# > 逐轮、逐院比较准确率与 AUC，统计网络上传输的字节数，说明联邦学习能保护什么、不能保护什么。
#
# Five hospitals each hold chest X-rays labelled *normal* or *pneumonia*. Together they could train a good
# pneumonia detector; alone, the small ones cannot. They may not pool their images. This notebook puts
# three options side by side, on the same model and the same held-out test set:
#
# 1. **Centralized**: pool all images in one place and train there (the reference, which the rules
#    usually forbid in practice);
# 2. **Local only**: every hospital trains on its own images and keeps its own model;
# 3. **Federated (FedAvg)**: the hospitals train one shared model without moving a single image.
#
# **In this notebook you will**
# - write the FedAvg round loop yourself (sample, broadcast, train locally, average, evaluate), then see
#   that `fedlite.run_federated` does exactly the same;
# - compare the three options in accuracy and ROC AUC, round by round and hospital by hospital, and check
#   on five seeds which differences are larger than the noise;
# - count what travels over the network, and compare it with the images that never moved;
# - say what federated learning does and does not protect.
#
# **Time:** about 50 minutes. **Prerequisites:** [00 · Start here](00_start_here.ipynb); a PyTorch
# training loop (forward, loss, backward, optimizer step) seen once before.
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
# ## The data and the five hospitals
#
# We use PneumoniaMNIST (28×28 chest X-rays). `make_hospitals(..., skew="quantity")` deals the training
# images out to five hospitals of very different sizes (seed 3 gives a spread from a small clinic to a
# large teaching hospital); the mix of diagnoses is the same everywhere. The hospitals' shares of the
# images are drawn at random; `alpha=1.0` is the knob of that draw (a Dirichlet concentration: smaller
# values give more unequal hospitals, notebook 03a shows it in pictures, and the
# [glossary](../docs/glossary.md) defines it). Notebook 03a makes the hospitals differ in other ways. The
# test set stays with us, the course authors, to judge every model fairly.

# %%
import matplotlib.pyplot as plt
import torch

import fedlite as fl
from fedlite import plots
from fedlite.datasets import load_medmnist
from fedlite.heterogeneity.hospitals import make_hospitals

xray = load_medmnist("pneumoniamnist")
train, test = xray["train"], xray["test"]
hospitals = make_hospitals(train, 5, skew="quantity", alpha=1.0, seed=3)
names = ["A", "B", "C", "D", "E"]
sizes = [len(h) for h in hospitals]
print("images per hospital:", dict(zip(names, sizes)))

# %%
plots.client_sizes(sizes, labels=[f"hospital {n}" for n in names], title="Training X-rays per hospital")
plt.show()

# %% [markdown]
# Every run below uses the same model (`SmallCNN`, about 100k parameters, the same starting weights) and
# the same local training settings: plain SGD with momentum, mini-batches of 32. One *round* of federated
# training costs each hospital one pass over its own images, so one round is comparable to one *epoch* of
# centralized training.

# %%
config = fl.LocalConfig(epochs=1, batch_size=32, lr=0.02, momentum=0.9)
ROUNDS = 10


def new_model() -> torch.nn.Module:
    return fl.make_model("cnn", seed=0)  # the same initial weights for every run


print(f"model: {fl.models.count_parameters(new_model()):,} parameters; {ROUNDS} rounds / epochs per run")

# %% [markdown]
# ## Option 1: pool everything (centralized)
#
# `fl.pool(hospitals)` concatenates the five hospitals' images into one tensor. In a real deployment this
# tensor would not exist: building it means copying every patient's X-ray to one server.

# %%
pooled = fl.pool(hospitals)
central = fl.run_centralized(new_model(), pooled, test, epochs=ROUNDS, local=config, progress=False)
print(central)

# %% [markdown]
# ## Option 2: every hospital alone (local only)
#
# Each hospital trains its own copy of the model on its own images for the same number of epochs.
# Nothing is shared, and nothing is learned from anybody else.

# %%
local_only, _ = fl.run_local_only(new_model(), hospitals, test, epochs=ROUNDS, local=config, progress=False)
final_local = local_only.client_metric("auc")[-1]
for name, n, auc in zip(names, sizes, final_local):
    print(f"hospital {name} ({n:4d} images) alone: test AUC {auc:.3f}")

# %% [markdown]
# ## Option 3: federated averaging, written out by hand
#
# FedAvg (McMahan et al. 2017) repeats one round many times. In each round:
#
# 1. **sample** the hospitals that take part (here: all five);
# 2. **broadcast**: the server sends the current global weights $w_t$ to each of them;
# 3. **train locally**: each hospital runs `local_train` on its own images, which never leave the building;
# 4. **aggregate**: each hospital sends back only its new weights $w_k$ and its count $n_k$, and the
#    server averages them, $w_{t+1} = \sum_k \frac{n_k}{n} w_k$;
# 5. **evaluate** the new global model.
#
# Here it is as a plain loop. `fl.local_train` is the ordinary PyTorch training loop (open
# `fedlite/client.py` to read it), and `round_seed` gives each hospital in each round its own
# reproducible shuffling.

# %%
from fedlite.simulation import round_seed


def fedavg_by_hand(hospitals, test, rounds, config, seed=0):
    model = new_model()
    global_state = {name: t.clone() for name, t in model.state_dict().items()}
    for t in range(1, rounds + 1):
        states, counts = [], []
        for k, data in enumerate(hospitals):              # 1. sample: every hospital takes part
            model.load_state_dict(global_state)           # 2. broadcast: start from the global model
            result = fl.local_train(model, data, config, seed=round_seed(seed, t, k))  # 3. train at home
            states.append(result.state)                   # only weights and a count leave the hospital
            counts.append(result.num_samples)
        n = sum(counts)                                   # 4. aggregate: w = sum_k (n_k / n) w_k
        global_state = {name: sum(c / n * s[name] for s, c in zip(states, counts)) for name in states[0]}
        model.load_state_dict(global_state)
        print(f"round {t}: test", {k: round(v, 3) for k, v in fl.evaluate(model, test).items()})  # 5. evaluate
    return model


by_hand = fedavg_by_hand(hospitals, test, rounds=2, config=config)

# %% [markdown]
# `fl.run_federated` is the same loop, with a few extras you will use later (sampling a fraction of the
# hospitals, a server optimizer, layers that stay local). Run for the same two rounds with the same seed:

# %%
same = new_model()
fl.run_federated(same, hospitals, test, rounds=2, local=config, seed=0, progress=False)
largest_gap = max((by_hand.state_dict()[k] - same.state_dict()[k]).abs().max().item() for k in same.state_dict())
print(f"largest difference between the two models' weights: {largest_gap:.1e}")

# %% [markdown]
# Not exactly zero, and the reason is worth a minute. Our loop adds the weighted states in float32;
# `fl.fedavg` adds them in float64 and rounds once at the end. After one round the two differ only in the
# last digits; the next round of training amplifies that a little. Up to float32 rounding, they agree:

# %%
# NBVAL_CHECK_OUTPUT
print("same model up to float32 rounding (largest difference < 1e-3):", largest_gap < 1e-3)

# %% [markdown]
# Now the full run, with a progress bar this once:

# %%
federated = fl.run_federated(new_model(), hospitals, test, rounds=ROUNDS, local=config, seed=0)
print(federated)

# %% [markdown]
# ## The three options side by side
#
# Left: accuracy; right: ROC AUC, after every round (or epoch). For local only, the curve is the
# $n_k/n$-weighted average of the five hospitals' own models.
#
# A warning about accuracy on this test set: 62.5% of its X-rays show pneumonia, against 74% in the
# training images, so a model that always says "pneumonia" already scores 0.625 and accuracy jumps when
# the decision threshold shifts. AUC does not depend on a threshold and is the steadier measure here.

# %%
fig, axes = plt.subplots(1, 2, figsize=(11, 3.8), layout="constrained")
runs = [central, local_only, federated]
always_pneumonia = (test.y == 1).float().mean().item()
plots.learning_curves(runs, "accuracy", ax=axes[0], target=always_pneumonia,
                      target_label=f"always say 'pneumonia' ({always_pneumonia:.3f})")
plots.learning_curves(runs, "auc", ax=axes[1])
axes[0].set_title("accuracy")
axes[1].set_title("ROC AUC")
plt.show()
print(fl.history.table(runs))

# %% [markdown]
# The table above prints each option's final numbers for **one seed** (one set of initial weights, one
# batch order): a demonstration, not yet evidence. Is FedAvg really below the pooled model and above the
# local-only average, or would another seed swap them? The next section answers with five seeds.
#
# ## Is the ranking real? Five seeds, with intervals
#
# Five seeds of all three options take about 2.5 minutes of CPU, more than this notebook's budget, so
# the script `benchmarks/seeds.py` ran them (seeds 0 to 4; the seed sets the initial weights and the
# batch order, the hospitals stay the same; seed 0 is the run above) and stored every round's test
# metrics in `fedlite/results/nb01.json`. CI re-runs the script and checks the stored numbers. To
# re-run it yourself: `python benchmarks/seeds.py nb01` from the project folder.
#
# `fedlite.evidence` summarizes it: for each option, the mean of the five final values and a 95 %
# Student-t interval; and, because all three options ran on the *same* seeds, the **paired** difference
# to FedAvg, seed by seed, with its own interval. An interval that contains 0 means this budget cannot
# tell the two apart.

# %%
from fedlite import evidence

seeded, seeded_meta = evidence.load(evidence.stored("nb01"))
options = [seeded["centralized"], seeded["local_only"], seeded["fedavg"]]
for key in ("auc", "accuracy"):
    print(evidence.comparison_table(options, key, reference=seeded["fedavg"]), end="\n\n")

# %%
fig, axes = plt.subplots(1, 2, figsize=(11, 3.8), layout="constrained")
plots.mean_band(options, "auc", ax=axes[0])
plots.mean_band(options, "accuracy", ax=axes[1], baseline=always_pneumonia,
                baseline_label=f"always 'pneumonia' ({always_pneumonia:.3f})")
axes[0].set_title("ROC AUC, mean and 95% interval over 5 seeds")
axes[1].set_title("accuracy, mean and 95% interval over 5 seeds")
plt.show()

# %% [markdown]
# Read the two tables above. In **AUC**, the intervals of the paired differences exclude 0: on these
# hospitals, with ten rounds, the pooled model ranks X-rays better than FedAvg, and FedAvg better than
# the hospitals alone, on every seed. The gaps are about one or two Hanley-McNeil standard errors of a
# single AUC (notebook 00), small in absolute terms. In **accuracy** the picture is different: the
# interval of "centralized minus FedAvg" contains 0, so at this budget no difference between pooling and
# FedAvg can be told from noise, and the accuracy curves swing from round to round as the threshold
# moves. Pooled training is the **reference** to measure against, not a ceiling that federated training
# can never reach: with one seed, FedAvg's accuracy can come out above it.
#
# The average hides who gains. Each hospital's own model against the federated one, on the same test set
# (seed 0, the demonstration run):

# %%
plots.client_bars({"alone (local only)": final_local, "federated (FedAvg)": [federated.final("auc")] * 5,
                   "pooled (centralized)": [central.final("auc")] * 5},
                  client_names=[f"{n}\n{s} imgs" for n, s in zip(names, sizes)], ylabel="test AUC")
plt.ylim(0.5, 1.0)
plt.title("Each hospital's model on the common test set")
plt.show()

# %% [markdown]
# Which hospitals gain from the federation, and which gain little, in this one run? (Exercise 3 asks you
# to find the biggest winner; with one seed it is an observation, not yet a ranking.) A hospital with few X-rays has little to learn from alone; the federation lends it what the
# others learned, without lending it their images. A large hospital may gain little or nothing, and that
# is a real question in practice: why should it join? Notebook 04a returns to this fairness question.

# %% [markdown]
# ## What travelled over the network
#
# Every round, each hospital downloads the global model and uploads its own: two copies of about 100k
# float32 numbers. The X-rays themselves never moved. How do the two compare?

# %%
image_bytes = pooled.x.numel()  # 1 byte per pixel: how the X-rays are stored as files
sent = [0.0]
for r in federated.rounds:
    sent.append(sent[-1] + (r.bytes_down + r.bytes_up) / 1e6)
print(f"model traffic per round: {(federated.rounds[0].bytes_down + federated.rounds[0].bytes_up) / 1e6:.2f} MB; "
      f"after {ROUNDS} rounds: {sent[-1]:.1f} MB")
print(f"the training X-rays themselves (8-bit pixels): {image_bytes / 1e6:.1f} MB")

# %%
plt.figure(figsize=(6, 3.5), layout="constrained")
plt.plot(range(ROUNDS + 1), sent, marker="o", label="model weights sent (both directions)")
plt.axhline(image_bytes / 1e6, color="tab:red", linestyle="--", label="all training X-rays, uploaded once")
plt.xlabel("round")
plt.ylabel("MB over the network (cumulative)")
plt.legend()
plt.grid(alpha=0.3)
plt.show()

# %% [markdown]
# A surprise for many: with small images and this many rounds, FedAvg can move *more* bytes than uploading
# the images once would. Federated learning is not a bandwidth saving in general; it is a way to keep the
# records where they are. (With full-size scans of several megabytes each the balance tips the other way,
# and notebook 06 shows how to shrink the updates.)

# %% [markdown]
# ## What federated learning protects, and what it does not
#
# **Protects:** raw records never leave the hospital; no central copy exists to be breached, sold or
# subpoenaed; each hospital keeps control of who touches its data.
#
# **Does not, on its own, protect:** the model updates are computed *from* the patients' data and can leak
# it. From a single update, an attacker (or a curious server) can sometimes reconstruct a training image
# or tell whether a given patient was in the training set. Notebook 05 runs such an attack on these
# X-rays, then the defences: secure aggregation and differential privacy.

# %% [markdown]
# ## Exercises
#
# **Exercise 1.** How many bytes does one hospital upload in one round? (Every parameter is a 4-byte
# float32.) Compute it from `new_model()`.

# %%
from fedlite.exercises.nb01 import check_biggest_gain, check_my_fedavg, check_upload_bytes

my_bytes = ...  # hint: sum(p.numel() for p in new_model().parameters())
check_upload_bytes(my_bytes, new_model())

# %% [markdown]
# **Exercise 2.** Write the aggregation step yourself: given a list of state dicts and the hospitals'
# sample counts, return the FedAvg average as a dict. The check runs it on toy hospitals of very unequal
# sizes and compares with `fl.fedavg`.

# %%
def my_fedavg(states, counts):
    result = ...  # a dict {name: weighted average of states[k][name] over the hospitals k}
    return result


check_my_fedavg(my_fedavg)

# %% [markdown]
# **Exercise 3.** Which hospital gains the most AUC from joining the federation? Answer with its index
# (0 for A, ..., 4 for E), computed from `local_only` and `federated` or read off the bar chart.

# %%
my_hospital = ...
check_biggest_gain(my_hospital, local_only, federated)

# %% [markdown]
# ## Recap
#
# - Centralized training on pooled data is the reference; local-only training is what hospitals do without
#   collaboration. On five seeds, FedAvg's AUC sits between the two (both paired intervals exclude 0),
#   without moving any image; in accuracy, pooled and FedAvg cannot be told apart at this budget.
# - One run is a demonstration; a ranking needs several seeds and an interval (`fedlite.evidence`).
# - One FedAvg round is: sample, broadcast, train locally, aggregate with weights $n_k/n$, evaluate.
#   `fl.run_federated` is exactly that loop.
# - In the seed-0 run the small hospitals gain the most and a large one gains little, which matters for who
#   joins (one seed: check it on more before relying on it).
# - What travels is model weights, not images, and it is not always fewer bytes.
# - Keeping data at home is not the same as keeping it private: updates can leak (notebook 05).
#
# **Next:** [02 · The FedAvg math](02_fedavg_math.ipynb): why the weights are $n_k/n$, when FedAvg is
# exactly centralized training, and when it is not.
#
# *The datasets are for teaching only: not for clinical use.*
#
# **Play with it:** every knob of this course, live, in the [playground](playground.ipynb).
