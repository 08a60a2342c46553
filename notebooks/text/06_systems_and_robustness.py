# %% [markdown]
# # 06 · Systems and robustness: bytes, stragglers and a malicious hospital
#
# > **中文摘要：**统计每轮通信的字节数，用量化（quantization）和带误差反馈（error feedback）的 Top-k 稀疏化压缩更新，并模拟部分参与、随机掉线与截止时间。
# > 让一家医院发送恶意更新、观察 FedAvg 如何失效，再用坐标中位数、截尾均值（trimmed mean）、Krum 与更新校验（update validation）加以防御。
#
# So far every hospital in our federations had a fast network, finished its local training on time, and
# sent back an honest update. Real federations are messier. A model update may be larger than the
# hospital's whole dataset; a hospital's job runs late or its connection drops; and one participant,
# through a bug or on purpose, can send an update that wrecks the shared model. This notebook measures
# each of these problems on our hospitals and tries the standard remedies.
#
# **In this notebook you will**
# - count the bytes a round costs for each course model, and trade rounds for local work;
# - compress updates with 8-bit (and 4-bit) quantization and with top-k sparsification plus error
#   feedback, and put accuracy against bytes on one plot;
# - let only a fraction of the hospitals take part in each round, lose updates at random, and impose a
#   deadline that drops slow hospitals, then measure what that does to accuracy and to *whose* patients
#   the model serves;
# - attack FedAvg with one faulty or malicious hospital (label flipping, a boosted update, a
#   sign-flipped update, NaN values) on 5 seeds, see which attacks break it, and defend it with the
#   coordinate-wise median, the trimmed mean, Krum and update validation.
#
# **Time:** about 65 minutes (the notebook itself runs in under a minute).
# **Prerequisites:** [02 · FedAvg math](02_fedavg_math.ipynb) (local epochs and rounds to a target) and
# [03b · Real hospitals](03b_real_hospitals.ipynb) (the four heart-disease hospitals and federated
# standardization). The `on_update` hook of `run_federated` appeared in
# [05 · Privacy](05_privacy_attacks_and_defenses.ipynb); we use it for everything here.
# **Symbols and terms:** the [notation card](../docs/notation.md) and the bilingual
# [glossary · 术语表](../docs/glossary.md).

# %%
# On Google Colab, install the course's helper package first (anywhere else this cell does nothing).
import subprocess
import sys

if "google.colab" in sys.modules:
    subprocess.run([sys.executable, "-m", "pip", "install", "--quiet",
                    "fedlite @ git+https://github.com/fedlite-course/fedlite"], check=True)

# %%
import functools
from dataclasses import replace

import matplotlib.pyplot as plt
import numpy as np
import torch
from matplotlib.ticker import MaxNLocator

import fedlite as fl
from fedlite import plots
from fedlite.aggregate import fedavg
from fedlite.datasets import load_medmnist
from fedlite.heterogeneity.hospitals import make_hospitals
from fedlite.models import count_parameters
from fedlite.robustness import compression, defences, malicious, participation
from fedlite.robustness.defences import krum, median, trimmed_mean
from fedlite.state import state_bytes

torch.set_num_threads(1)  # our models are tiny: a second thread only adds overhead
SEED = 0
xray = load_medmnist("pneumoniamnist")
full_train, test = xray["train"], xray["test"]
print(f"X-rays: {len(full_train):,} for training, {len(test)} for testing "
      f"({(test.y == 1).float().mean():.3f} of the test X-rays show pneumonia)")

# %% [markdown]
# ## 1 · Communication
#
# ### What one round costs
#
# Every round, the server sends the global model to each chosen hospital (download) and each hospital
# sends its new model back (upload). A float32 number takes 4 bytes, so a model of $d$ parameters costs
# $4d$ bytes each way per hospital, and a round with $K$ hospitals costs $2 \cdot 4d \cdot K$ bytes. The
# cell below counts that for every model of the course, for a federation of 5 hospitals. For scale,
# the last line gives the size of all our training X-rays as 8-bit pixels (28 × 28 bytes each),
# which is how the image files store them.

# %%
# NBVAL_CHECK_OUTPUT
K, ROUNDS_PER_STUDY = 5, 100
course_models = {
    "logistic regression, heart (14 features)": fl.make_model("logreg", seed=0, in_features=14),
    "logistic regression, X-ray (784 pixels)": fl.make_model("logreg", seed=0, in_features=784),
    "MLP, X-ray (32 hidden units)": fl.make_model("mlp", seed=0, in_features=784),
    "SmallCNN, X-ray (course default)": fl.make_model("cnn", seed=0),
    "KerasCNN, X-ray (tutorial model)": fl.make_model("keras_cnn", seed=0),
}
print(f"{'model':42s} {'parameters':>10s} {'one upload':>11s} {'one round, K=5':>15s} {'100 rounds':>11s}")
for name, model in course_models.items():
    one = state_bytes(model.state_dict())
    print(f"{name:42s} {count_parameters(model):10,d} {one / 1e3:8.1f} kB {2 * K * one / 1e6:12.3f} MB "
          f"{ROUNDS_PER_STUDY * 2 * K * one / 1e6:8.1f} MB")
pixels = len(full_train) * 28 * 28
print(f"all {len(full_train):,} training X-rays as 8-bit pixels: {pixels / 1e6:.2f} MB")

# %% [markdown]
# Read the last two lines together. One upload of the KerasCNN, the model of many FL tutorials, is
# larger than *all* our training X-rays, and a hundred rounds move far more (the last column). Federated
# learning does not save bytes in general; it keeps the records at home, which is a different promise.
# Bytes matter when hospitals sit behind slow or metered links, and they grow with the model.
#
# The rest of this section trains the MLP on the X-rays: five hospitals share half of the training
# images at random (IID). The MLP has a quarter of the SmallCNN's parameters; the byte counts scale with
# the number of parameters, so the *ratios* below carry over to the larger models. Every run starts from
# the same weights.

# %%
half = full_train.subset(np.sort(np.random.default_rng(SEED).permutation(len(full_train))[:len(full_train) // 2]))
xray_hospitals = make_hospitals(half, K, skew="iid", seed=SEED)
LOCAL = fl.LocalConfig(lr=0.02, momentum=0.9, batch_size=32)   # the course's local optimizer
ROUNDS = 6


def new_mlp() -> torch.nn.Module:
    return fl.make_model("mlp", seed=0, in_features=784)


def megabytes_up(history: fl.History) -> np.ndarray:
    """Cumulative MB uploaded by all hospitals after each round."""
    return np.cumsum([r.bytes_up for r in history.rounds]) / 1e6


print("X-rays per hospital:", [len(h) for h in xray_hospitals])

# %% [markdown]
# ### More local work, fewer rounds
#
# Notebook 02 showed that more local epochs $E$ per round reach a target in fewer rounds. Now count
# what that saves in bytes, and what it costs in computation at the hospitals. The target is a test
# AUC of 0.90.

# %%
TARGET = 0.90
by_epochs = {}
for E in [1, 2, 5]:
    by_epochs[E] = fl.run_federated(new_mlp(), xray_hospitals, test, rounds=ROUNDS, local=replace(LOCAL, epochs=E),
                                    seed=SEED, name=f"E = {E}", progress=False)
print(f"{'':8s} {'rounds to AUC 0.90':>19s} {'MB uploaded by then':>20s} {'local epochs by then':>21s}"
      f" {'final AUC':>10s}")
for E, h in by_epochs.items():
    r = h.rounds_to(TARGET, "auc")
    reached = (f"{r:19d} {megabytes_up(h)[r - 1]:20.2f} {E * r:21d}" if r
               else f"{'not in ' + str(ROUNDS):>19s} {'-':>20s} {'-':>21s}")
    print(f"{h.name:8s} {reached} {h.final('auc'):10.3f}")

# %% [markdown]
# Each round moves the same bytes whatever $E$ is, so bytes to the target are proportional to rounds
# to the target. The third column is the price in computation on the hospitals' machines: the local
# epochs each hospital ran until the target was reached. Compare it across the rows (one seed: a
# demonstration): in this run more local work per round cut the bytes far more than it added to the
# total computation. Whether that holds beyond this run would need more seeds; on non-IID hospitals,
# long local training lets the local models drift apart (notebook 03a).
#
# ### Compressing the update
#
# The update a hospital sends does not have to be 32-bit floats. Two classic ways to send less, both
# applied to the *update* $\Delta_k = w_k - w_t$ (new local weights minus the global weights $w_t$ the
# server broadcast), which is much smaller in range than the weights themselves:
#
# - **Quantization** (Konečný et al. 2016; Alistarh et al. 2017, QSGD): map each tensor's range
#   $[\min, \max]$ onto $2^b$ evenly spaced levels and send the level of every number, $b$ bits each,
#   plus the minimum and the step. The error per number is at most half a step.
# - **Top-k sparsification with error feedback** (Seide et al. 2014; Stich, Cordonnier & Jaggi 2018):
#   send only the largest fraction $r$ of entries of each tensor, as (value, index) pairs of 4 + 4
#   bytes. What was not sent is kept in a per-hospital memory and added to the next update, so small
#   but persistent changes get through eventually.
#
# These are `on_update` hooks in `fedlite.robustness.compression`: `Quantize` and `TopK`. A hook is called
# as `hook(context, client, result)`: besides the hospital's new weights it receives the round's context,
# whose `context.broadcast` is the $w_t$ it needs to form $\Delta_k$. The hooks set `upload_bytes`, so the
# run's history counts the compressed size.
#
# Compression pays off over many rounds, so these runs get twice as many rounds as before.

# %%
COMPRESSION_ROUNDS = 2 * ROUNDS


def compressed_run(name, make_hook):
    """FedAvg on the X-ray hospitals, each update passed through the hook `make_hook()` returns."""
    return fl.run_federated(new_mlp(), xray_hospitals, test, rounds=COMPRESSION_ROUNDS, local=LOCAL, seed=SEED,
                            name=name, progress=False, on_update=make_hook())


codecs = {}
for name, make_hook in [
        ("float32 (no compression)", lambda: None),
        ("8-bit quantization", lambda: compression.Quantize(bits=8)),
        ("4-bit quantization", lambda: compression.Quantize(bits=4)),
        ("top-10% + error feedback", lambda: compression.TopK(ratio=0.1)),
        ("top-1% + error feedback", lambda: compression.TopK(ratio=0.01)),
        ("top-1%, no error feedback", lambda: compression.TopK(ratio=0.01, error_feedback=False))]:
    codecs[name] = compressed_run(name, make_hook)
uncompressed = megabytes_up(codecs["float32 (no compression)"])[-1]
print(f"{'':26s} {'MB uploaded':>11s} {'vs float32':>10s} {'final accuracy':>14s} {'final AUC':>9s}")
for name, h in codecs.items():
    mb = megabytes_up(h)[-1]
    print(f"{name:26s} {mb:11.3f} {uncompressed / mb:9.1f}x {h.final():14.3f} {h.final('auc'):9.3f}")

# %%
fig, (left, right) = plt.subplots(1, 2, figsize=(12, 3.8), layout="constrained")
for h in codecs.values():
    for ax, key in [(left, "accuracy"), (right, "auc")]:
        ax.plot(megabytes_up(h), h.metric(key), marker="o", markersize=3, label=h.name)
left.axhline((test.y == 1).float().mean().item(), color="black", linestyle=":", linewidth=1,
             label="always 'pneumonia'")
left.set(ylabel="test accuracy")
right.set(ylabel="test AUC (0.5 = coin toss)")
for ax in (left, right):
    ax.set(xscale="log", xlabel="MB uploaded by all hospitals so far (log scale)")
    ax.grid(alpha=0.3)
fig.legend(*left.get_legend_handles_labels(), loc="outside right center", fontsize="small")
fig.suptitle(f"Accuracy against bytes: {COMPRESSION_ROUNDS} rounds of FedAvg, one dot per round")
plt.show()

# %% [markdown]
# Each line is one run (one seed: a demonstration; gaps of a few hundredths are within what another
# seed could change); a dot is one round, placed at the bytes uploaded so far. A method is better
# when its line sits further left (fewer bytes) at the same height. Compare the rows of the table with
# this in mind:
#
# - **8-bit quantization** sends a quarter of the bytes, and its line has float32's shape, shifted to
#   the left: the rounding error is far below the noise of local SGD. 4-bit halves the bytes again.
# - **Top-k** reaches the largest savings, and sending 10% of the entries costs nothing visible. At 1%
#   the accuracy needs more rounds to leave the "always pneumonia" line, but each round is so cheap
#   that the line still sits far to the left. Compare the last two rows (one seed): their final AUCs
#   differ by less than another seed could change, and the gap in accuracy sits at the default
#   threshold, which jitters from run to run. So this run does not show that error feedback is needed.
#   It is used because, in theory, what is not sent waits in memory and gets through later, while
#   without it top-k can fail to converge (Karimireddy et al. 2019, "Error feedback fixes SignSGD").
# - Downloads are not compressed here (the history still counts them at full size); compressing the
#   broadcast too is common practice.
#
# **Exercise 1.** A hospital sends the *SmallCNN*'s update quantized to **4 bits** a number, exactly as
# `Quantize` does: each tensor costs its levels (4 bits each, rounded up to whole bytes) plus 8 bytes
# for its minimum and step. How many bytes is one upload? Compute it from `cnn_state`, not by hand.

# %%
from fedlite.exercises.nb06 import check_on_time, check_quantized_upload, check_robust_by_hand

cnn_state = course_models["SmallCNN, X-ray (course default)"].state_dict()
my_bytes = ...  # hint: loop over cnn_state.values(); t.numel() is a tensor's size
check_quantized_upload(my_bytes, cnn_state, bits=4)

# %% [markdown]
# ## 2 · Who shows up: partial participation, stragglers and dropouts
#
# In a deployed federation not every hospital answers every round. Google's production system for
# phones (Bonawitz et al. 2019, "Towards federated learning at scale") selects a sample of devices each
# round, gives the round a **reporting deadline**, and simply ignores the devices that do not report
# in time. Hospitals are fewer and more reliable than phones, but the same three mechanisms apply:
#
# - **partial participation**: the server picks a fraction $q$ of the hospitals per round, the
#   participation rate (`run_federated(..., participation=q)`; symbols: [notation card](../docs/notation.md));
# - **random dropouts**: an update is lost with probability $p$ (`participation.RandomDropout(p)`);
# - **stragglers**: a hospital whose round takes longer than the deadline is dropped
#   (`participation.Deadline(speeds, deadline)`).
#
# We use the four real heart-disease hospitals of notebook 03b (Cleveland, Hungary, Switzerland, VA Long
# Beach) with logistic regression and federated standardization; a cholesterol of 0 means "not measured"
# and is treated as missing (imputed, plus a 0/1 indicator: 14 features). Their patients differ, so we can ask
# not only "how accurate?" but "accurate *for whom*?": each hospital's own test patients are
# evaluated every round (`client_tests`). Each hospital takes one full-batch gradient step per round
# (learning rate 0.5), for 30 rounds.

# %%
from fedlite.datasets.heart import heart_hospitals

HOSPITALS, heart_train, heart_tests, _, _ = heart_hospitals()
heart_test = fl.pool(heart_tests)
HEART_LOCAL, HEART_ROUNDS = fl.LocalConfig(batch_size=None, lr=0.5), 30
for h, train, own_test in zip(HOSPITALS, heart_train, heart_tests):
    print(f"{h:12s} {len(train):4d} training patients ({train.y.float().mean():.0%} with heart disease), "
          f"{len(own_test):3d} test patients")


def heart_run(name, **settings):
    """FedAvg on the four heart hospitals; every hospital's own test set is evaluated every round."""
    model = fl.make_model("logreg", seed=0, in_features=heart_train[0].x.shape[1])
    return fl.run_federated(model, heart_train, heart_test, rounds=HEART_ROUNDS, local=HEART_LOCAL,
                            client_tests=heart_tests, seed=SEED, name=name, progress=False, **settings)


def arrival_share(history):
    """Share of the rounds in which each hospital's update reached the server."""
    return np.nan_to_num(history.client_metric("arrived")).mean(axis=0)


# %% [markdown]
# The deadline needs a time for each hospital's round. Suppose all four run the same software on
# similar machines that process 50 patients a second, so that a round takes $n_k / 50$ seconds, times a
# random slowdown (a log-normal factor $e^{0.2 z}$, $z \sim \mathcal N(0, 1)$, drawn per round and
# hospital: shared machines, busy networks). The units are invented; only the ratios matter. The server
# waits at most 2.5 seconds.

# %%
speeds = [50.0] * len(HOSPITALS)
deadline = participation.Deadline(speeds, deadline=2.5, jitter=0.2, seed=SEED)
dropout = participation.RandomDropout(0.3, seed=SEED)
who_shows_up = {
    "everyone, every round": heart_run("everyone"),
    "q = 0.5 (2 of 4 per round)": heart_run("q = 0.5", participation=0.5),
    "q = 0.25 (1 of 4 per round)": heart_run("q = 0.25", participation=0.25),
    "random dropout p = 0.3": heart_run("dropout 0.3", on_update=dropout),
    "deadline 2.5 s": heart_run("deadline 2.5 s", on_update=deadline),
}
print(f"{'':28s} {'pooled acc':>10s} {'AUC':>6s}   accuracy on each hospital's own test patients")
print(f"{'':28s} {'':>10s} {'':>6s}   " + " ".join(f"{h:>11s}" for h in HOSPITALS) + "  worst")
for name, h in who_shows_up.items():
    own = h.client_metric("accuracy")[-1]
    print(f"{name:28s} {h.final():10.3f} {h.final('auc'):6.3f}   " + " ".join(f"{a:11.3f}" for a in own)
          + f"  {own.min():.3f}")
print("\nshare of rounds in which each hospital's update arrived:")
for name, h in who_shows_up.items():
    print(f"{name:28s} " + " ".join(f"{h_:>11s}={p:4.2f}" for h_, p in zip(HOSPITALS, arrival_share(h))))

# %% [markdown]
# Compare each row with the first one (one seed: a demonstration, so read only large gaps). Random
# absences (a fraction $q$, or random dropouts) moved the pooled accuracy by 0.02 or less and the AUC by
# less than 0.01. A plausible reading: every hospital still contributes, only less often, and the model
# averages over rounds. With $q = 0.25$ a single hospital's update *is* the round's step, so the model
# swings towards whoever was picked last, and another seed would land elsewhere. The deadline is
# different. *Who* arrives hardly depends on the seed: a round's time grows with the hospital's number of
# patients, so the deadline drops the *largest* hospitals, Cleveland and Hungary, in nearly every round,
# while little Switzerland always makes it. The model is then trained almost only on Switzerland and VA,
# where most patients are sick. What that did to the model is one seed's demonstration: in this run the
# pooled AUC fell, and Cleveland's own patients lost most. FedAvg's weights $n_k/n$ promised the largest
# hospitals the largest say; the deadline quietly took it away.
#
# The picture below shows, round by round, whose update arrived under the deadline, and each
# hospital's accuracy in each setting.

# %%
fig, (left, right) = plt.subplots(1, 2, figsize=(13, 3.4), layout="constrained", width_ratios=[1, 1.4])
arrived = np.nan_to_num(who_shows_up["deadline 2.5 s"].client_metric("arrived")).T
left.imshow(arrived, cmap="Greens", aspect="auto", vmin=0, vmax=1.3)
left.set(yticks=range(len(HOSPITALS)), yticklabels=HOSPITALS, xlabel="round",
         title="Deadline 2.5 s: green = update arrived in time")
left.set_xticks(range(0, HEART_ROUNDS, 5), range(1, HEART_ROUNDS + 1, 5))
plots.client_bars({name: h.client_metric("accuracy")[-1] for name, h in who_shows_up.items()},
                  client_names=HOSPITALS, ax=right, ylabel="accuracy on own test patients")
right.set(ylim=(0.4, 1.0), xlabel="hospital", title=f"After {HEART_ROUNDS} rounds")
right.legend(fontsize="small", loc="center left", bbox_to_anchor=(1.0, 0.5))
plt.show()

# %% [markdown]
# ### Choosing the deadline
#
# A short deadline makes every round fast, a long one waits for everybody. The next cell sweeps the
# deadline and records, for each, the total simulated time the server waited over the 30 rounds, the
# pooled accuracy, and each hospital's accuracy on its own patients.

# %%
DEADLINES = [1.5, 2.0, 2.5, 3.0, 3.5, 4.0, 5.0]
sweep = {}
for seconds in DEADLINES:
    timer = participation.Deadline(speeds, deadline=seconds, jitter=0.2, seed=SEED)
    history = heart_run(f"deadline {seconds} s", on_update=timer)
    waited = sum(timer.round_time(t) for t in range(1, HEART_ROUNDS + 1))
    sweep[seconds] = (waited, history)
print(f"{'deadline':>8s} {'time waited':>11s} {'pooled acc':>10s} " + " ".join(f"{h:>11s}" for h in HOSPITALS))
for seconds, (waited, h) in sweep.items():
    print(f"{seconds:7.1f}s {waited:10.1f}s {h.final():10.3f} "
          + " ".join(f"{a:11.3f}" for a in h.client_metric("accuracy")[-1]))

# %%
fig, ax = plt.subplots(figsize=(9.5, 3.6), layout="constrained")
for k, name in enumerate(HOSPITALS):
    ax.plot(DEADLINES, [h.client_metric("accuracy")[-1][k] for _, h in sweep.values()], marker="o", label=name)
ax.plot(DEADLINES, [h.final() for _, h in sweep.values()], "k--", marker="s", label="pooled test set")
ax.set(xlabel="deadline per round (simulated seconds)", ylabel=f"accuracy after {HEART_ROUNDS} rounds",
       title="A deadline decides whose patients the model is trained for")
twin = ax.twinx()
twin.bar(DEADLINES, [w for w, _ in sweep.values()], width=0.2, color="grey", alpha=0.25)
twin.set_ylabel("total time waited (grey bars, s)")
ax.set_zorder(twin.get_zorder() + 1)
ax.patch.set_visible(False)
ax.grid(alpha=0.3)
ax.legend(fontsize="small", loc="center left", bbox_to_anchor=(1.12, 0.5))
plt.show()

# %% [markdown]
# Below a certain deadline the large hospitals disappear and, in this one-seed sweep, their patients pay;
# above it, the model serves everybody, and the grey bars show what the wait costs. In practice the
# deadline is set from the measured times of the participants, and systems *over-select*: Bonawitz et al.
# pick about 30% more devices than they need and close the round when enough have reported. Both keep
# rounds short, but neither fixes a hospital that is *always* slow. That needs a longer deadline for that
# hospital, fewer local steps for it (FedProx allows partial work), or asynchronous aggregation.
#
# **Exercise 2.** Four hospitals take part in a round with a deadline of 4 seconds and no random
# slowdown. Their sizes and speeds are below. Which hospitals report in time? Answer with a list of
# names.

# %%
sizes = [199, 172, 30, 85]               # training patients n_k
exercise_speeds = [60.0, 30.0, 10.0, 40.0]  # patients per second
my_on_time = ...
check_on_time(my_on_time, sizes, exercise_speeds, deadline=4.0, names=HOSPITALS)

# %% [markdown]
# ## 3 · A faulty or malicious hospital
#
# FedAvg computes a (weighted) mean, and a mean has no defence: a single participant can move it
# anywhere. Four classic ways one hospital can harm the model, by accident or on purpose
# (`fedlite.robustness.malicious`):
#
# | what hospital 0 does | kind | in `fedlite.robustness.malicious` |
# |---|---|---|
# | trains honestly on **flipped labels** (sick ↔ healthy) | data poisoning | `flip_labels(data)` |
# | sends its update **boosted** ×10: $w_t + 10\,\Delta_0$ (the scaling step of model-replacement backdoors) | model poisoning | `scaled([0], 10)` |
# | sends its update **reversed** and ×4: $w_t - 4\,\Delta_0$ | model poisoning | `sign_flipped([0], 4)` |
# | sends **NaN** everywhere (diverged run, corrupt file) | fault | `non_finite_update([0])` |
#
# And the defences. The first three replace the mean by a rule that ignores extremes
# (`fedlite.robustness.defences`); the last checks every update before aggregating:
#
# - **Coordinate-wise median** (Yin et al. 2018): each weight of the new model is the median of that
#   weight over the hospitals.
# - **Trimmed mean** (Yin et al. 2018): for each weight, drop the $\lfloor\beta K\rfloor$ smallest and as
#   many largest values, and average the rest. With $K = 5$ and $\beta = 0.2$, one of each.
# - **Krum** (Blanchard et al. 2017): pick the single update whose $K - f - 2$ nearest neighbours are
#   closest, for at most $f$ attackers. It needs $K \ge 2f + 3$ hospitals: 5 for one attacker.
# - **Update validation**: reject updates with NaN or Inf, or whose change $\lVert w_k - w_t\rVert$ is
#   more than 3 times the median change of the round, then average the rest with FedAvg
#   (`defences.Validated`). Every rejection is logged.
#
# We return to the five X-ray hospitals of section 1 and the MLP; hospital 0 (one fifth of the data)
# misbehaves in every round. Each attack meets each defence for `ROUNDS` rounds, plus a run without an
# attack that shows what a defence costs when nobody attacks. `attacked_run` runs one cell of that grid:

# %%
BAD = [0]
ATTACKS = {  # attack name -> (hospitals' data, the hook that tampers with what hospital 0 sends)
    "no attack": (xray_hospitals, None),
    "label flip": ([malicious.flip_labels(h) if k in BAD else h for k, h in enumerate(xray_hospitals)], None),
    "boosted x10": (xray_hospitals, malicious.scaled(BAD, 10)),
    "sign flip x4": (xray_hospitals, malicious.sign_flipped(BAD, 4)),
    "NaN update": (xray_hospitals, malicious.non_finite_update(BAD)),
}
DEFENCES = {  # defence name -> a fresh aggregator for one run
    "FedAvg": lambda: fedavg,
    "median": lambda: median,
    "trimmed mean": lambda: functools.partial(trimmed_mean, beta=0.2),
    "Krum": lambda: functools.partial(krum, f=1),
    "validation": lambda: defences.Validated(fedavg, max_ratio=3.0),
}


def attacked_run(attack, defence, seed=SEED):
    """(history or the error message, the aggregator) for one attack against one defence."""
    data, tamper = ATTACKS[attack]
    aggregate = DEFENCES[defence]()
    try:   # batched=True: these hooks only read what they are given, so the fast engine may train
        history = fl.run_federated(fl.make_model("mlp", seed=seed, in_features=784), data, test, rounds=ROUNDS,
                                   local=LOCAL, seed=seed, name=defence, progress=False, on_update=tamper,
                                   aggregate=aggregate, batched=True)
    except RuntimeError as err:      # an aggregator that refuses the update stops the run
        return str(err), aggregate
    return history, aggregate


print(attacked_run("NaN update", "FedAvg")[0].split(". Usual causes")[0])

# %% [markdown]
# That run stopped in round 1. `fedlite`'s aggregators refuse NaN and Inf instead of averaging them: a
# NaN in a mean makes the whole model NaN, and a silent NaN model is worse than a crash. The median,
# the trimmed mean and Krum run the same check and stop too. Against a broken update, only validation
# keeps training going.
#
# **One seed cannot rank defences.** On one seed a boosted update can look harmless and on the next it
# ruins the model. So `benchmarks/seeds.py nb06` ran the whole grid, 25 federations, on 5 seeds (the
# seed sets the MLP's initial weights and the batch order; the hospitals stay the same) and stored every
# round's test metrics in `fedlite/results/nb06.json`; CI re-runs it and checks the stored numbers. To
# re-run it yourself: `python benchmarks/seeds.py nb06` from the project folder (the cell prints how long
# it took when stored). The table gives each cell's final AUC, mean and 95 % interval over the seeds.

# %%
from fedlite import evidence

grid, grid_meta = evidence.load(evidence.stored("nb06"))


def cell(attack, defence, key="auc"):
    run = grid.get(f"{attack} | {defence}")
    return "stopped" if run is None else "{0.mean:.3f} [{0.low:.3f}, {0.high:.3f}]".format(run.summary(key))


def paired(a, b, key="auc"):
    """Paired difference of the final `key`, grid cell a minus cell b, on the same seeds (* = contains 0)."""
    if a not in grid or b not in grid:
        return "-"
    d = evidence.paired_difference(grid[a], grid[b], key)
    return f"{d.mean:+.3f} [{d.low:+.3f}, {d.high:+.3f}]{'*' if d.contains(0) else ' '}"


print(f"final test AUC after {grid_meta['rounds']} rounds, mean [95% interval] over {len(grid_meta['seeds'])} "
      f"seeds; stored in {grid_meta['seconds_when_stored']} s ({grid_meta['cpu_seconds_when_stored']} s of CPU)")
print(f"{'':13s}" + "".join(f"{d:>21s}" for d in DEFENCES))
for a in ATTACKS:
    print(f"{a:13s}" + "".join(f"{cell(a, d):>21s}" for d in DEFENCES))

# %% [markdown]
# Two questions, each answered with paired differences on the same seeds: what does each attack cost
# FedAvg, and how much does each defence recover under the same attack? A `*` marks an interval that
# contains 0: at this budget, that difference cannot be told from noise.

# %%
print("FedAvg attacked minus FedAvg without attack:")
for a in list(ATTACKS)[1:]:
    finals = grid[f"{a} | FedAvg"].final("auc").round(2).tolist() if f"{a} | FedAvg" in grid else "stopped"
    print(f"  {a:13s} AUC {paired(f'{a} | FedAvg', 'no attack | FedAvg'):>26s}"
          f"  accuracy {paired(f'{a} | FedAvg', 'no attack | FedAvg', 'accuracy'):>26s}   AUC per seed: {finals}")
print("\nfinal AUC, each defence minus FedAvg under the same attack:")
print(f"{'':15s}" + "".join(f"{d:>26s}" for d in list(DEFENCES)[1:]))
for a in ATTACKS:
    print(f"  {a:13s}" + "".join(f"{paired(f'{a} | {d}', f'{a} | FedAvg'):>26s}" for d in list(DEFENCES)[1:]))
print("\nfinal AUC, each defence attacked minus the same defence without attack:")
print(f"{'':15s}" + "".join(f"{d:>26s}" for d in list(DEFENCES)[1:]))
for a in list(ATTACKS)[1:]:
    print(f"  {a:13s}" + "".join(f"{paired(f'{a} | {d}', f'no attack | {d}'):>26s}" for d in list(DEFENCES)[1:]))
print("* the interval contains 0;  - FedAvg stopped, nothing to compare with")

# %%
colors = dict(zip(DEFENCES, plt.rcParams["axes.prop_cycle"].by_key()["color"]))
fig, axes = plt.subplots(1, len(ATTACKS), figsize=(15, 3.4), layout="constrained", sharey=True)
for ax, attack in zip(axes, ATTACKS):
    present = [d for d in DEFENCES if f"{attack} | {d}" in grid]
    ax.set_prop_cycle(color=[colors[d] for d in present])
    runs = [evidence.Repeated(d, grid[f"{attack} | {d}"].seeds, grid[f"{attack} | {d}"].values) for d in present]
    plots.mean_band(runs, "auc", ax=ax, baseline=0.5, baseline_label="coin toss")
    stopped = [d for d in DEFENCES if d not in present]
    ax.set_title(attack + ("\n(stopped: " + ", ".join(stopped) + ")" if stopped else ""), fontsize=10)
    ax.get_legend().remove()
    ax.set(xlabel="round", ylabel="test AUC (mean, 95% interval)" if ax is axes[0] else "")
    ax.xaxis.set_major_locator(MaxNLocator(integer=True))
fig.legend(*axes[0].get_legend_handles_labels(), loc="outside right center", fontsize="small")
fig.suptitle("One misbehaving hospital of five: test AUC per round, mean and 95% interval over 5 seeds")
plt.show()

# %% [markdown]
# What the tables and the plot show, on 5 seeds and six rounds:
#
# - **Does one malicious hospital break FedAvg? It depends on the attack.** The reversed update does:
#   its differences to the unattacked run exclude 0, in AUC and in accuracy. The NaN update stops the run.
#   The boosted update ruins some seeds (its AUC per seed is printed) and not others, so the interval
#   of its difference is wide and contains 0: it *can* break FedAvg, but five seeds do not pin down how
#   often. Flipped labels hurt the decision threshold (the accuracy interval excludes 0) more than the
#   ranking of patients (the AUC interval contains 0).
# - **Boosting:** over 5 seeds its cost to FedAvg cannot be told from noise (both intervals contain 0),
#   yet 3 of the 5 seeds collapsed. Boosting is the working part of **model-replacement backdoors**
#   (Bagdasaryan et al. 2020, "How to backdoor federated learning", AISTATS): the attacker trains a model
#   with a hidden behaviour, then scales its update by about $K$ (the number of participants) so that
#   after averaging it *replaces* the global model. Here even an *honest* update boosted ten times (the
#   right direction, a step ten times too long) ruined three seeds. In Bagdasaryan et al.'s account, a
#   poisoned update is dangerous through what it encodes *and* the weight it gets in the mean, and a mean
#   checks neither.
# - **The robust rules**: under every attack they could process, the median, the trimmed mean, Krum
#   and validation end within noise of their own unattacked runs (third table: every interval
#   contains 0), and without an attack they cost nothing that 5 seeds can detect (first row of the
#   second table). Against FedAvg, their gain excludes 0 only for the reversed update; for the boosted
#   update and the label flip the gains are large on the seeds where FedAvg failed, but the intervals
#   contain 0. Krum keeps *one* hospital's model each round and throws the other four updates away, so
#   it learns from a fifth of the data at a time; on these IID hospitals that cost is too small for 5
#   seeds to detect.
# - **Validation** stops the NaN update and the oversized updates. The label flip is a different
#   story: the counts below show that validation caught it on some seeds and let it through on others.
#   A model that fits the true labels makes large errors on flipped ones, so that update is often
#   unusually long, but not always. An attacker who flips fewer labels, or shrinks its update to the
#   usual length, passes every size check. Validation is a first line of defence, not a full one.

# %%
print(f"updates rejected by validation over {grid_meta['rounds']} rounds, per seed")
for attack in ATTACKS:
    counts = grid[f"{attack} | validation"].values
    print(f"  {attack:13s} hospital 0: {counts['rejected_bad'].sum(axis=1).astype(int).tolist()}   "
          f"honest hospitals: {counts['rejected_honest'].sum(axis=1).astype(int).tolist()}")
history, validator = attacked_run("label flip", "validation")   # one live run: its log (seed 0)
print("\nthe log of one run (label flip, seed 0):\n" + validator.summary())

# %% [markdown]
# Validation rejects by size, so it can also reject an honest hospital whose update happens to be
# large in one round. Here it never did (the "honest hospitals" counts are 0), but the log would say
# so, which is why it must be kept and read, never applied silently.
#
# **Robustness may have a price when hospitals differ.** The robust rules assume that honest hospitals
# send *similar* updates, and treat an unusual one as suspicious. Our X-ray hospitals are IID, the easy
# case. The four heart hospitals are not: Switzerland has almost only sick patients. Here is FedAvg
# against the median with nobody attacking, on each hospital's own patients, and what Krum says about four
# hospitals:

# %%
heart_median = heart_run("median", aggregate=median)
print(f"{'':8s} " + " ".join(f"{h:>11s}" for h in HOSPITALS) + "  pooled")
for h in [who_shows_up["everyone, every round"], heart_median]:
    print(f"{h.name:8s} " + " ".join(f"{a:11.3f}" for a in h.client_metric("accuracy")[-1]) + f"  {h.final():.3f}")
try:
    heart_run("Krum", aggregate=functools.partial(krum, f=1))
except RuntimeError as err:
    print("Krum:", str(err).split("failed: ")[1].split(". Usual causes")[0])

# %% [markdown]
# Compare the rows hospital by hospital. The median does not average: it follows the majority of
# updates, so the hospital whose patients are unlike the others', Switzerland, is the one most likely
# to be outvoted. This run (one seed) does not show that: the median did better on the pooled test set
# and at three of the four hospitals, and Switzerland lost 0.06, a single one of its 16 test patients.
# And Krum cannot protect a four-hospital federation against even one attacker. With few, different
# hospitals, check each hospital's accuracy under a robust rule; validation, audits of who takes part,
# and contracts between the hospitals carry more of the weight.
#
# **Exercise 3.** Five hospitals send these values for one weight of the model; the last hospital is
# the attacker. Compute the coordinate-wise median and the trimmed mean with $\beta = 0.2$, and answer
# with the pair `(median, trimmed_mean)`. (The plain mean would be far below zero.)

# %%
values = [0.8, 1.1, 1.0, 1.4, -40.0]
my_pair = ...
check_robust_by_hand(my_pair, values, beta=0.2)

# %% [markdown]
# ## Recap
#
# - **Bytes:** a round costs $2 \cdot 4d$ bytes per hospital for a float32 model of $d$ parameters;
#   large models can cost more per round than the data they learn from. More local epochs means fewer
#   rounds, paid for with computation at the hospitals.
# - **Compression** of the update $\Delta_k = w_k - w_t$ (`compression.Quantize`, `compression.TopK`):
#   8-bit quantization cuts uploads by about 4×; top-k sparsification cuts far more. In our one-seed
#   demonstration every final AUC stayed within 0.02 of float32's, with or without error feedback,
#   which theory recommends for top-k. Hooks read the global model $w_t$ from the round's `context`.
# - **Who shows up** (`participation=C`, `participation.RandomDropout`, `participation.Deadline`): random
#   absences moved little in our one-seed demonstration; a deadline drops the same hospitals nearly every
#   round, here the largest (that follows from their sizes), and in that run their patients lost most.
#   Measure accuracy per hospital, not only pooled.
# - **One malicious hospital** can break FedAvg, depending on the attack (5 seeds, paired intervals):
#   the reversed update and the NaN update did; the boosted update ruined 3 of 5 seeds (a difference
#   that cannot be told from noise), and
#   the label flip cost accuracy more than AUC. Boosting a *poisoned* update is how model-replacement
#   backdoors work (Bagdasaryan et al. 2020). The coordinate-wise median, the trimmed mean and Krum
#   stayed within noise of their unattacked runs on similar hospitals; update validation
#   (`defences.Validated`) rejects broken and oversized updates, logs every rejection, and caught the
#   label flip on some seeds only. None is free: Krum wastes data, and the robust rules can silence an
#   honest but unusual hospital.
#
# **Next:** [07 · Where next](07_where_next.ipynb): from `fedlite` to real federated-learning frameworks,
# and which one to reach for when.
#
# *The datasets and models are for teaching only: not for clinical use.*
#
# **Play with it:** every knob of this course, live, in the [playground](playground.ipynb).
