# %% [markdown]
# # 05 · Privacy, honestly: gradient inversion, secure aggregation and differential privacy
#
# > **中文摘要：**检验“只共享参数就能保护隐私”这一说法：诚实但好奇（honest-but-curious）的服务器可以用梯度反演攻击（gradient inversion）从一次模型更新重建患者的 X 光片。
# > 再试两种防御——安全聚合（secure aggregation）与差分隐私（differential privacy）——计算隐私预算 ε，比较各自的代价以及仍未受保护的内容。
#
# Articles about federated learning often say it "protects privacy because only parameters are shared".
# This notebook tests that sentence on a chest X-ray. A curious server that receives one hospital's model
# update can rebuild the X-ray the update came from. Then we try the two standard defences, one at a
# time, attack them the same way, and count what each one costs.
#
# **In this notebook you will**
# - rebuild a patient's X-ray from the update that hospital shared (gradient inversion), and see how the
#   batch size and the number of local steps change the result;
# - use secure aggregation (pairwise masks that cancel in the sum), including a hospital that drops out
#   in the middle of a round, and watch the same attack fail on the sum;
# - use DP-FedAvg (clip each update, add Gaussian noise), compute its privacy budget $\varepsilon$ with
#   Opacus's accountant, and trace a privacy-utility curve on the heart-disease hospitals;
# - put the cost of each defence (AUC, compute, bytes) and the attack's success per observer in one
#   table, on 5 seeds, and list what stays unprotected.
#
# **Time:** about 85 minutes. **Prerequisites:** [01 · Centralized vs federated](01_centralized_vs_federated.ipynb)
# and [02 · FedAvg math](02_fedavg_math.ipynb) (FedSGD is one gradient step per round; the $n_k/n$
# weights); the idea of a gradient.
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
import ipywidgets
import matplotlib.pyplot as plt
import numpy as np
import torch

import fedlite as fl
from fedlite import plots
from fedlite.privacy import dp, inversion, secagg
from fedlite.state import copy_state, norm, update_of
from fedlite.datasets import load_medmnist

torch.set_num_threads(1)  # the attack works on one tiny image at a time: too little to share between cores
xray = load_medmnist("pneumoniamnist")
train, test = xray["train"], xray["test"]
hospital_a = train.subset([0])       # hospital A trains on one patient's X-ray
average_xray = train.x.mean(dim=0)   # a guess anyone can make without seeing an update
print(f"hospital A: 1 X-ray of shape {tuple(hospital_a.x.shape[1:])}, label {hospital_a.y.item()} "
      f"(1 = pneumonia); the average X-ray is taken over {len(train):,} training images")

# %% [markdown]
# Every experiment starts from the course's small CNN with the same initial weights, as in round 1 of a
# federation. Hospital A takes a single local step on its data: FedSGD from notebook 02, the setting in
# which a hospital's update is exactly one gradient. `snapshot` copies a model's weights.

# %%
one_step = fl.LocalConfig(epochs=1, batch_size=None, lr=0.02, momentum=0.9)


def new_model() -> torch.nn.Module:
    return fl.make_model("cnn", seed=0)


# %% [markdown]
# ## 1 · The attack: an X-ray from an update
#
# ### What the server receives
#
# `run_federated` has a hook, `on_update(context, client, result)`, that decides what of each hospital's
# result reaches the server (`context` says which round it is and what the server broadcast). An **honest-but-curious** server follows the protocol to the letter, but
# keeps a copy of everything it receives:

# %%
seen = {}


def curious_server(context, client, result):
    seen[client] = result.state   # keep a copy of the update...
    return result                 # ...and otherwise do exactly what the protocol says


model = new_model()
sent = copy_state(model)            # the global weights the server broadcast
fl.run_federated(model, [hospital_a], test, rounds=1, local=one_step, on_update=curious_server, progress=False)
update_norm = norm(update_of(seen[0], sent))
print(f"hospital A sent {sum(t.numel() for t in seen[0].values()):,} numbers; "
      f"its update w_A - w has L2 norm {update_norm:.4f}")

# %% [markdown]
# ### Step 1: from update to gradient, and the label for free
#
# One SGD step is $w_A = w - \eta\, g$, so the server knows the gradient $g = (w - w_A)/\eta$.
# Its last entries belong to the output layer's bias, and for a single image with cross-entropy that
# gradient is $\mathrm{softmax}(z) - \mathrm{onehot}(y)$: every entry is positive except the true
# class's. So the label can simply be read off (iDLG, Zhao et al. 2020):

# %%
attacker = new_model()            # the server's own copy of the model it sent
target = inversion.gradient_from_update(attacker, sent, seen[0], lr=one_step.lr)
label = inversion.infer_label(target)
print("gradient of the output bias:", target[-1].numpy().round(4))
print(f"inferred label: {label}; true label: {hospital_a.y.item()}")

# %% [markdown]
# ### Step 2: find an image with the same gradient
#
# Start from random pixels $x$ and change them until the gradient they *would* produce, $g(x)$, points
# the same way as the observed one (Geiping et al. 2020, "Inverting gradients"):
#
# $$\min_{x \in [0,1]^{28\times 28}} \; 1 - \cos\big(g(x),\, g_{\text{observed}}\big) + \lambda\, \mathrm{TV}(x)$$
#
# The total variation $\mathrm{TV}$ (the mean jump between neighbouring pixels) is a weak prior for
# smooth images. Because of the cosine, the length of the update does not matter, only its direction.
# `inversion.invert_gradient` runs 200 Adam steps; each needs a second derivative through the network,
# which PyTorch provides.
#
# We score a reconstruction with the mean squared error (MSE) against the true image and with the
# **peak signal-to-noise ratio**, $\mathrm{PSNR} = 10 \log_{10}(1/\mathrm{MSE})$ dB for pixels in
# $[0, 1]$ (higher is closer). A PSNR means little without a baseline. We use two: the random image the
# attack starts from, and the average X-ray, which any attacker can guess without seeing an update.
# Chest X-rays look alike, so the average already scores well. The attack has learned something about
# *this* patient only if it beats the average.

# %%
rec = inversion.invert_gradient(attacker, target, [label], steps=200, seed=0)
start = torch.rand((1, 1, 28, 28), generator=torch.Generator().manual_seed(0))  # the attack's random start
mse_rec = inversion.mse(rec.images, hospital_a.x)
psnr_none = inversion.psnr(rec.images, hospital_a.x)
psnr_random, psnr_average = inversion.psnr(start, hospital_a.x), inversion.psnr(average_xray[None], hospital_a.x)
print(f"reconstruction: MSE {mse_rec:.5f}, PSNR {psnr_none:.1f} dB")
print(f"baselines:      random start {psnr_random:.1f} dB, average X-ray {psnr_average:.1f} dB")

# %%
plots.image_grid({"": [hospital_a.x[0], start[0], average_xray, rec.images[0]]},
                 captions={"": ["hospital A's X-ray", f"random start\n{psnr_random:.1f} dB",
                                f"average X-ray\n{psnr_average:.1f} dB", f"rebuilt from update\n{psnr_none:.1f} dB"]},
                 size=1.8)
plt.show()

# %% [markdown]
# The cells above print the reconstruction's PSNR next to both baselines and show the three images
# next to the original (one patient and one seed: a demonstration; section 4 repeats the attack on five
# patients and seeds). The rebuilt image is not pixel-perfect, but it shows this patient's own
# anatomy (the outline of the lungs and the heart shadow), not just "a chest". The server never
# received a single pixel.
#
# Two honest caveats. Our model is the untrained network of round 1, the easiest case for the attack;
# and hospital A took one step on one image, the worst case for A. Geiping et al. also rebuild images
# from trained networks, with an attack that is stronger than ours.

# %% [markdown]
# **Exercise 1.** An attack on another hospital's update reports an MSE of `0.0025` against the true
# image (pixels in $[0, 1]$). What is its PSNR in dB? Compute it with NumPy.

# %%
from fedlite.exercises.nb05 import check_dangling_masks, check_noise_std, check_psnr, check_smallest_sigma

my_psnr = ...  # hint: np.log10
check_psnr(my_psnr, mse=0.0025)

# %% [markdown]
# ### Batch size and local steps
#
# Hospital A was the worst case: one image and one step. Real hospitals train on batches and take many
# local steps, and both mix more into a single update. `attack_first(b, e, steps)` lets a hospital that
# holds the first `b` training X-rays take `e` full-batch SGD steps, and attacks what it sends. For a batch we
# hand the attacker the labels, as Geiping et al. do for batches (with two classes an attacker could
# also try every combination). A batch comes back in no particular order, so `inversion.matched_psnr`
# pairs each true image with its closest reconstruction before scoring. To save time the attack takes
# 150 steps here instead of 200, and `lru_cache` remembers each result, so a repeated setting is free.

# %%
from functools import lru_cache


ATTACK_STEPS = 150


@lru_cache(maxsize=None)
def attack_first(batch_size, local_steps, steps):
    """The hospital trains on the first `batch_size` X-rays; the server attacks. (images, mean PSNR)"""
    data, model = train.subset(range(batch_size)), new_model()
    sent = copy_state(model)
    local = fl.LocalConfig(epochs=local_steps, batch_size=None, lr=0.02, momentum=0.9)
    result = fl.local_train(model, data, local, seed=0)
    rec = inversion.reconstruct(new_model(), sent, result.state, labels=data.y, steps=steps)
    return rec.images, float(np.mean(inversion.matched_psnr(rec.images, data.x)))


batch_sizes, step_counts = [1, 2, 4, 8], [1, 5, 20]
by_batch = {b: attack_first(b, 1, ATTACK_STEPS)[1] for b in batch_sizes}
by_steps = {e: attack_first(1, e, ATTACK_STEPS)[1] for e in step_counts}
average_by_batch = {b: float(np.mean([inversion.psnr(average_xray, x) for x in train.x[:b]])) for b in batch_sizes}
print("mean PSNR (dB) by batch size (1 step):     ", {b: round(p, 1) for b, p in by_batch.items()})
print("mean PSNR (dB) by local steps (1 image):   ", {e: round(p, 1) for e, p in by_steps.items()})
print("average-X-ray baseline (dB) by batch size: ", {b: round(p, 1) for b, p in average_by_batch.items()})

# %%
fig, (left, right) = plt.subplots(1, 2, figsize=(9, 3.2), layout="constrained", sharey=True)
left.plot(batch_sizes, list(by_batch.values()), marker="o", label="attack (1 local step)")
left.plot(batch_sizes, list(average_by_batch.values()), "k--", label="baseline: average X-ray")
left.set(xscale="log", xticks=batch_sizes, xticklabels=batch_sizes, xlabel="images in the hospital's batch",
         ylabel="PSNR of the reconstruction (dB)", title="More images per update")
right.plot(step_counts, list(by_steps.values()), marker="o", color="tab:red", label="attack (1 image)")
right.axhline(psnr_average, color="k", linestyle="--", label="baseline: average X-ray")
right.set(xscale="log", xticks=step_counts, xticklabels=step_counts, xlabel="local SGD steps before sending",
          title="More local steps per update")
for ax in (left, right):
    ax.minorticks_off()
    ax.grid(alpha=0.3)
    ax.legend(fontsize="small", loc="lower left")
plt.show()

# %% [markdown]
# Both panels fall towards the baseline. Compare the printed rows (one seed, a demonstration): with a
# batch of 4 or 8 images, the attack's mean PSNR is no better than simply guessing the average X-ray. So the one-image result of
# section 1 is a **worst case**: one image, one local step, an untrained network. Keep the lesson (an
# update can leak a patient's image), but scope the claim: it does not show that every update of every
# hospital leaks its images. These curves are a single-run demonstration and do not show *why* the
# attack weakens. The explanation the literature gives (Dimitrov et al. 2022, "Data
# leakage in federated averaging") is that with more images the update is the *average* of their
# gradients, so the attack must untangle several patients from one vector, and that after several local
# steps the update is no longer one gradient, so an attack that assumes one models it wrongly. By that
# account the leak is worst for FedSGD, which sends exactly one gradient per round.
#
# Do not read this as a defence. Both effects come from *our* simple attack. Geiping et al. conclude
# that averaging gradients over several iterations or several images does not protect privacy;
# GradInversion (Yin et al. 2021) rebuilds batches of 8 to 48 ImageNet images from a ResNet-50; and a
# malicious server can change the model it sends so that single images stand out (Fowl et al. 2022,
# "Robbing the Fed"). A large batch gives no guarantee.
#
# **Try it.** `explore` shows the X-rays of one hospital next to what the attack makes of its update
# (paired up, with each image's PSNR). The static call below shows a batch of four. Then move the
# sliders and press **Run Interact**: a batch of 16 or 500 attack steps takes a few seconds.

# %%
def explore(batch_size=4, local_steps=1, attack_steps=ATTACK_STEPS):
    """Attack the update of a hospital with `batch_size` X-rays that took `local_steps` SGD steps."""
    data = train.subset(range(batch_size))
    images, mean_psnr = attack_first(batch_size, local_steps, attack_steps)
    paired = images[inversion.match(images, data.x)]
    scores = [f"{inversion.psnr(r, x):.1f} dB" for r, x in zip(paired, data.x)]
    plots.image_grid({"X-rays": list(data.x), "rebuilt": list(paired)}, captions={"rebuilt": scores})
    plt.suptitle(f"batch {batch_size}, {local_steps} local step(s): mean PSNR {mean_psnr:.1f} dB", fontsize=10)
    plt.show()


explore()

# %%
ipywidgets.interact_manual(explore, batch_size=(1, 16), local_steps=(1, 20), attack_steps=(50, 500, 50));

# %% [markdown]
# ## 2 · Defence one: secure aggregation
#
# FedAvg only needs the *sum* $\sum_k n_k w_k$ (and $\sum_k n_k$), not the individual updates. Secure
# aggregation (Bonawitz et al. 2017) lets the server learn that sum and nothing else. Every pair of
# hospitals $i < j$ agrees on a secret seed and expands it into a random vector $r_{ij}$. Hospital $i$
# adds $r_{ij}$ to what it sends, and hospital $j$ subtracts it:
#
# $$y_i = x_i + \sum_{j > i} r_{ij} - \sum_{j < i} r_{ji} \pmod{2^{48}}.$$
#
# Each $y_i$ on its own is uniformly random. In the sum, every $r_{ij}$ appears once with $+$ and once
# with $-$, so $\sum_i y_i = \sum_i x_i$ exactly. Floats do not add exactly (the order of additions
# changes the last bits), so `fedlite.privacy.secagg` first turns each number into an integer, $\mathrm{round}(x
# \cdot 2^{24})$, and does all arithmetic modulo $2^{48}$. Here are three hospitals with three numbers
# each:

# %%
# NBVAL_CHECK_OUTPUT
toy = {0: np.array([0.5, -1.25, 2.0]), 1: np.array([1.0, 0.25, -0.5]), 2: np.array([-0.25, 0.0, 1.5])}
clients = sorted(toy)
masked = {k: secagg.mask(k, secagg.encode(v), clients, session_seed=7) for k, v in toy.items()}
for k in clients:
    print(f"hospital {'ABC'[k]}: x = {toy[k]}  ->  the server sees y = {masked[k]}")
total = secagg.decode(secagg.unmask_sum(masked, clients, session_seed=7))
print("sum of the y, decoded:", total, "   plain sum of the x:", sum(toy.values()))

# %% [markdown]
# The masked vectors are integers between 0 and $2^{48}$ with no visible link to the $x$. Their sum,
# decoded, is the plain sum to the last digit.
#
# ### Secure FedAvg on X-rays, and the attack on the sum
#
# `secagg.SecureFedAvg` plugs the same idea into the round loop with both hooks. `on_update` makes
# each hospital send `mask(encode([n_k * w_k, n_k]))`, and `aggregate` unmasks the sum and divides.
# Hospital A (our one X-ray) now trains together with hospitals B and C, which hold 16 X-rays each. To
# compare, we (the course authors, not the server) also keep each hospital's true vector:

# %%
hospitals = [hospital_a, train.subset(range(100, 116)), train.subset(range(200, 216))]
model = new_model()
sent = copy_state(model)
secure = secagg.SecureFedAvg(num_clients=3, session_seed=0)
truth = {}


def mask_and_keep_truth(context, client, result):
    truth[client] = secagg.weighted_vector(result)
    return secure.on_update(context, client, result)  # only the masked vector leaves the hospital


fl.run_federated(model, hospitals, test, rounds=1, local=one_step, on_update=mask_and_keep_truth,
                 aggregate=secure.aggregate, progress=False)
after_secure = copy_state(model)

# %%
plain = new_model()
fl.run_federated(plain, hospitals, test, rounds=1, local=one_step, progress=False)
gap = max((plain.state_dict()[k] - after_secure[k]).abs().max().item() for k in after_secure)
what_server_saw = secagg.decode(secure.seen[0])
correlation = np.corrcoef(what_server_saw, truth[0])[0, 1]
print(f"secure vs plain FedAvg: largest weight difference {gap:.1e} (fixed-point rounding)")
print(f"hospital A's masked vector vs its true vector: correlation {correlation:+.4f}")
print(f"true values span {truth[0].min():+.2f} .. {truth[0].max():+.2f}; "
      f"masked ones span {what_server_saw.min():+.2e} .. {what_server_saw.max():+.2e}")

# %% [markdown]
# The cell above prints three facts. Secure FedAvg gives the same model as plain FedAvg, up to the
# fixed-point rounding. What the server received from hospital A is uncorrelated with A's true vector.
# And its values are spread over millions, where the true weights are small numbers.
#
# The server can still run the attack on the one thing it learns, the aggregate update (the new global
# model minus the old one). That update mixes A's X-ray with the 32 X-rays of B and C:

# %%
rec_sum = inversion.reconstruct(new_model(), sent, after_secure, steps=200)
psnr_secure = inversion.psnr(rec_sum.images, hospital_a.x)
print(f"attack on the securely aggregated update: PSNR {psnr_secure:.1f} dB against hospital A's X-ray "
      f"(average-X-ray baseline {psnr_average:.1f} dB; without secure aggregation {psnr_none:.1f} dB)")
plots.image_grid({"": [hospital_a.x[0], rec.images[0], rec_sum.images[0]]},
                 captions={"": ["hospital A's X-ray", f"from A's own update\n{psnr_none:.1f} dB",
                                f"from the secure sum\n{psnr_secure:.1f} dB"]}, size=1.8)
plt.show()

# %% [markdown]
# The reconstruction from the sum does not show hospital A's patient. Compare its PSNR, printed above,
# with the average-X-ray baseline.
#
# ### A hospital drops out in the middle of a round
#
# Suppose hospital C masks its vector and then loses its connection. The masks it shares with A and B
# no longer cancel. The protocol recovers: A and B reveal the seeds they shared with C, and the server
# regenerates those masks and removes them. The `on_update` hook returning `None` is exactly such a
# lost message:

# %%
model = new_model()
secure = secagg.SecureFedAvg(num_clients=3, session_seed=1)


def mask_then_lose_c(context, client, result):
    masked = secure.on_update(context, client, result)  # C masks with A and B...
    return None if client == 2 else masked              # ...but its message never arrives


history = fl.run_federated(model, hospitals, test, rounds=1, local=one_step, on_update=mask_then_lose_c,
                           aggregate=secure.aggregate, progress=False)
plain_ab = new_model()
fl.run_federated(plain_ab, hospitals[:2], test, rounds=1, local=one_step, progress=False)
gap_ab = max((plain_ab.state_dict()[k] - model.state_dict()[k]).abs().max().item() for k in plain_ab.state_dict())
print("arrived:", {"ABC"[k]: bool(c["arrived"]) for k, c in history.rounds[0].clients.items()})
print(f"secure sum of A and B vs plain FedAvg of A and B: largest difference {gap_ab:.1e}")

# %% [markdown]
# **Exercise 2.** Four hospitals A, B, C, D mask their vectors with one mask per pair. Then B and D drop
# out. Which pairwise masks are left over in the sum of the vectors that arrive, so that A and C must
# reveal their seeds? Answer with a set of pairs of names; the format is `{("X", "Y"), ("Y", "Z")}` for
# masks between made-up hospitals X, Y and Z.

# %%
my_pairs = ...
check_dangling_masks(my_pairs, hospitals=["A", "B", "C", "D"], dropped=["B", "D"])

# %% [markdown]
# **What secure aggregation does not protect.** It hides each vector from an honest-but-curious server,
# and no more:
# - **The sum itself.** With two hospitals, each one can subtract its own vector from the sum and
#   obtain the other's. If a hospital is alone in a round, the sum *is* its update. And if different
#   rounds sum different subsets of hospitals, the server can subtract one sum from another.
# - **A malicious server.** It can claim that a hospital dropped out in order to unmask it, or collude
#   with some hospitals. The real protocol uses threshold secret sharing and a second mask per hospital
#   to resist some of this; our readable version omits both (see the `fedlite/privacy/secagg.py` docstring).
# - **Poisoned updates.** The server cannot inspect vectors it cannot see, so it cannot filter out a
#   faulty or malicious hospital's update either (notebook 06).

# %% [markdown]
# ## 3 · Defence two: differential privacy (DP-FedAvg)
#
# Secure aggregation hides the pieces but not what the sum reveals. Differential privacy limits what
# *any* output can reveal about one participant. DP-FedAvg (McMahan et al. 2018) changes a round with
# $K$ hospitals, each taking part with probability $q$, in three places:
#
# 1. **Clip** (at the hospital): the update $\Delta_k = w_k - w$ is scaled down to norm at most $S$, the
#    *clip norm* (papers often call it $C$; symbols: [notation card](../docs/notation.md)),
#    $\Delta_k \leftarrow \Delta_k \cdot \min(1, S/\lVert\Delta_k\rVert)$.
# 2. **Capped weights**: hospital $k$ weighs $\omega_k = \min(n_k/\hat n, 1)$ for a cap $\hat n$, or
#    $\omega_k = 1$ for all (equal weighting). Since $\omega_k \le 1$, no hospital can move the weighted sum
#    by more than $S$. FedAvg's uncapped $n_k/n$ would let a large hospital move it further.
# 3. **Noise and a fixed denominator** (at the server):
#    $$w \leftarrow w + \frac{1}{qW}\Big(\sum_{k \text{ arrived}} \omega_k \Delta_k + \mathcal{N}(0, \sigma^2 S^2 I)\Big),
#      \qquad W = \textstyle\sum_{\text{all } k} \omega_k .$$
#    $qW$ is the *expected* total weight, fixed before training. Dividing by the number of hospitals
#    that actually arrived would leak: that number differs with and without a hospital, and under
#    dropouts. The noise on the average has standard deviation $\sigma S/(qW)$; the *noise multiplier*
#    $\sigma$ sets the privacy.
#
# `dp.DPFedAvg` does all three through the same two hooks (`num_samples` lists every hospital's size,
# `participation` is $q$, `weight_cap` is $\hat n$; no cap means equal weights). First, the attack. We
# take the worst case for hospital A: it is alone in the round, so the model the server releases moves
# by A's clipped update plus the noise. Here the clip norm is half of A's update norm (printed in
# section 1), so clipping really shortens it. That is a demonstration choice: a real deployment must fix
# $S$ without looking at the private updates, or pay privacy to adapt it (Andrew et al. 2021).
# Beside each $\sigma$ the cell prints the $\varepsilon$ of this single round (at the $\delta$ of the
# budget section below).

# %%
CLIP = update_norm / 2
sigmas = [0.0, 0.01, 0.1, 1.0]


def released_step(sigma):
    """Global weights before and after one DP-FedAvg round in which hospital A is alone."""
    model = new_model()
    before = copy_state(model)
    mechanism = dp.DPFedAvg(clip=CLIP, noise_multiplier=sigma, num_samples=[len(hospital_a)], seed=0)
    fl.run_federated(model, [hospital_a], test, rounds=1, local=one_step, on_update=mechanism.on_update,
                     aggregate=mechanism.aggregate, progress=False)
    return before, copy_state(model)


dp_psnr = {}
for sigma in sigmas:
    dp_rec = inversion.reconstruct(new_model(), *released_step(sigma), steps=200)
    dp_psnr[sigma] = (dp_rec.images[0], inversion.psnr(dp_rec.images, hospital_a.x))
DELTA = 1e-3
for sigma, (_, p) in dp_psnr.items():
    eps = "∞ (no noise)" if sigma == 0 else f"{dp.dp_epsilon(sigma, 1.0, 1, DELTA):.3g}"
    print(f"σ = {sigma:<5g} PSNR {p:5.1f} dB   ε after this one round = {eps}")

# %%
plots.image_grid({"": [hospital_a.x[0]] + [image for image, _ in dp_psnr.values()]},
                 captions={"": ["hospital A's X-ray"] + [f"σ = {s:g}{' (clip only)' if s == 0 else ''}\n{p:.1f} dB"
                                                          for s, (_, p) in dp_psnr.items()]}, size=1.6)
plt.show()

# %% [markdown]
# **Clipping alone made no difference to this attack that we can detect.** With $\sigma = 0$ the PSNR
# printed above is close to the undefended one of section 1 (one run). Section 4 repeats it on 5 seeds:
# the change cannot be told from noise. None is expected: the attack compares only directions, and
# clipping only changes the length. Noise helps. In this run, as $\sigma$ grows, the PSNR falls to the
# level of the random start, long before $\sigma$ reaches 1 (section 4 confirms the fall on 5 seeds).
# The noise goes into every one of the $d \approx 102{,}000$ parameters: its norm is about
# $\sigma S \sqrt{d} \approx 320\,\sigma S$, against at most $S$ for the update, which is why DP is
# expected to cost accuracy on large models (section 4 measures it).
# But read the $\varepsilon$ beside each $\sigma$: the noise levels that already spoil *this* attack
# come with budgets so large that they promise nothing. Defeating one attack is not a privacy guarantee;
# only $\sigma$ near 1 or above gives an $\varepsilon$ that means something.
#
# Mind who sees what. In DP-FedAvg as written above, the server adds the noise itself, so the server
# still receives A's clipped, noise-free update: the $\sigma = 0$ image is what *it* can rebuild. The
# noisy images are what everybody else can rebuild: the other hospitals, and anyone who receives the
# model. To keep the server out as well, the hospitals add the noise themselves before secure
# aggregation (more in section 4).
#
# **Exercise 3.** Four hospitals use DP-FedAvg with clip norm $S = 0.1$, noise multiplier
# $\sigma = 2$, equal weights and all four taking part every round ($q = 1$, so $qW = 4$). What is the
# standard deviation of the noise on each coordinate of the *average* update the server adds to the model?

# %%
my_std = ...
check_noise_std(my_std, clip=0.1, noise_multiplier=2.0, clients=4)

# %% [markdown]
# ### The privacy budget $\varepsilon$
#
# A training run is $(\varepsilon, \delta)$-differentially private at the **hospital level** if adding
# or removing any one hospital's entire data changes the probability of every possible outcome by at
# most a factor $e^{\varepsilon}$, except with probability $\delta$. Smaller $\varepsilon$ means more
# privacy.
#
# **The unit of privacy is the hospital.** This is *not* the same as giving each patient that
# $\varepsilon$. Two datasets that differ in one patient differ inside one hospital: its clipped update
# can move by up to $2S$ (from one edge of the clipping ball to the other), twice the sensitivity the
# accountant assumed, so a patient-level statement costs more, and it needs a $\delta$ far below
# $1/n$ for $n$ patients. Our $\delta = 10^{-3}$ suits four hospitals (it is below $1/4$); with a few
# hundred patients per hospital it would allow a noticeable chance of a patient's data leaking outright.
# A patient-level guarantee is usually obtained differently: each hospital clips and noises every
# patient's gradient (DP-SGD), as in FLamby's experiment discussed below.
#
# Every round spends some budget: `dp.dp_epsilon(noise_multiplier, sample_rate, rounds, delta)`
# adds it up with Opacus's Rényi-DP accountant. `sample_rate` is the chance that a hospital takes part
# in a round (1 here: all hospitals, every round). We use $\delta = 10^{-3}$.

# %%
budget_rounds = np.arange(1, 41)
budget_sigmas = [0.5, 1.0, 2.0, 4.0, 8.0]
budget = {s: [dp.dp_epsilon(s, 1.0, int(r), DELTA) for r in budget_rounds] for s in budget_sigmas}
for s in budget_sigmas:
    print(f"sigma = {s:3g}: epsilon after 1, 10, 40 rounds = "
          f"{budget[s][0]:7.2f} {budget[s][9]:7.2f} {budget[s][39]:7.2f}")

# %% [markdown]
# $\varepsilon$ grows with every round and falls as the noise grows. The cell above prints both trends.
#
# ### Privacy against accuracy, on the heart-disease hospitals
#
# How much accuracy does a given $\varepsilon$ cost? On the X-ray CNN, section 4 finds the cost erratic
# from seed to seed. We therefore trace the curve on a model with few parameters: logistic regression
# ($14 \times 2$ weights $+\ 2$ biases $= 30$ parameters) on the four heart-disease hospitals (Cleveland,
# Hungary, Switzerland, VA Long Beach). A cholesterol of 0 in these files means "not measured" (all of
# Switzerland, part of VA), so it is treated as missing: replaced by the federated mean of the measured
# values, with a 0/1 column that says it was missing (`impute_missing`). The features are then
# standardized with *federated* statistics (`fedlite.heterogeneity.normalize`): only per-hospital counts,
# sums and sums of squares leave the hospitals, and secure aggregation could hide even those. Each
# hospital takes one full-batch step per round, for 10 rounds.

# %%
from fedlite.datasets.heart import heart_hospitals

names, heart_train, heart_tests, _, _ = heart_hospitals(missing_cholesterol=True)
heart_test = fl.pool(heart_tests)
heart_sizes = [len(d) for d in heart_train]
print("training patients per hospital:", dict(zip(names, heart_sizes)), f"  pooled test set: {len(heart_test)}; "
      f"features: {heart_train[0].x.shape[1]} (cholesterol 0 treated as missing)")

# %% [markdown]
# DP-FedAvg changes three things at once compared with FedAvg: the **weighting** (equal instead of
# $n_k/n$), the **clipping** and the **noise**. To see which one costs what, we add them one at a time,
# on 5 seeds each (the seed sets the initial weights and the noise), and compare every step with the one
# before it on the same seeds (paired differences, `fedlite.evidence`):
#
# 1. FedAvg with $n_k/n$; 2. equal weights, no clipping ($S$ huge), no noise; 3. equal weights and
# clipping at $S = 0.1$, no noise; 4. then noise, $\sigma$ from 0.5 to 8.
#
# $S = 0.1$ is fixed in advance for this logistic regression; the cell prints the median update norm
# for teaching only (choosing $S$ from it would spend privacy that no $\varepsilon$ here counts).

# %%
from fedlite import evidence

HEART_ROUNDS, HEART_CLIP = 10, 0.1
full_batch = fl.LocalConfig(epochs=1, batch_size=None, lr=0.5)
clip_norms = []


def heart_run(seed, *, equal=False, clip=None, sigma=0.0):
    """FedAvg on the heart hospitals; `equal`: DP-FedAvg's equal weights; `clip`, `sigma`: S and σ."""
    model = fl.make_model("logreg", seed=seed, in_features=heart_train[0].x.shape[1])
    hooks = {}
    if equal:
        mechanism = dp.DPFedAvg(clip=clip or 1e9, noise_multiplier=sigma, num_samples=heart_sizes, seed=seed)
        hooks = {"on_update": mechanism.on_update, "aggregate": mechanism.aggregate}
        if clip:
            clip_norms.append(mechanism.norms)
    return fl.run_federated(model, heart_train, heart_test, rounds=HEART_ROUNDS, local=full_batch,
                            progress=False, **hooks)


steps = {"FedAvg (n_k/n)": {}, "equal weights": {"equal": True},
         f"+ clipping S = {HEART_CLIP}": {"equal": True, "clip": HEART_CLIP}}
steps.update({f"+ noise σ = {s:g}": {"equal": True, "clip": HEART_CLIP, "sigma": s} for s in budget_sigmas})
ladder = {name: evidence.repeat(lambda seed, kw=kw: heart_run(seed, **kw), name=name) for name, kw in steps.items()}
print(f"median update norm before clipping: {np.median([n for ns in clip_norms for n in ns]):.3f} "
      f"(S = {HEART_CLIP}, fixed in advance)")
previous = None
for name, runs in ladder.items():
    s = runs.summary("auc")
    eps = next((f"ε = {dp.dp_epsilon(sg, 1.0, HEART_ROUNDS, DELTA):6.2f}" for sg in budget_sigmas
                if name.endswith(f"σ = {sg:g}")), "ε = ∞      ")
    step = "" if previous is None else f"   step vs. previous row: {evidence.paired_difference(runs, previous, 'auc')}"
    print(f"{name:<22} {eps}  AUC {s.mean:.3f} [{s.low:.3f}, {s.high:.3f}]{step}")
    previous = runs if "noise" not in name else ladder[f"+ clipping S = {HEART_CLIP}"]

# %%
fig, (left, right) = plt.subplots(1, 2, figsize=(10, 3.6), layout="constrained")
for s in budget_sigmas:
    left.plot(budget_rounds, budget[s], label=f"σ = {s:g}")
left.set(yscale="log", xlabel="rounds (every hospital, every round)", ylabel=f"ε at δ = {DELTA:g}",
         title="The budget grows with every round")
left.legend(fontsize="small", ncol=2)
epsilons = [dp.dp_epsilon(s, 1.0, HEART_ROUNDS, DELTA) for s in budget_sigmas]
noisy = [ladder[f"+ noise σ = {s:g}"].summary("auc") for s in budget_sigmas]
right.errorbar(epsilons, [n.mean for n in noisy], yerr=[n.half_width for n in noisy], marker="o", capsize=3,
               label="equal weights + clipping + noise")
for name, color in [("FedAvg (n_k/n)", "black"), ("equal weights", "tab:green"),
                    (f"+ clipping S = {HEART_CLIP}", "tab:red")]:
    right.axhline(ladder[name].summary("auc").mean, color=color, linestyle="--", label=f"{name} (no noise)")
right.set(xscale="log", xlabel=f"ε after {HEART_ROUNDS} rounds (smaller = more private)",
          ylabel="test AUC (mean, 95% interval)", title="Heart disease, 4 hospitals: privacy vs utility")
for ax in (left, right):
    ax.grid(alpha=0.3)
right.legend(fontsize="small", loc="lower right")
plt.show()

# %% [markdown]
# Read the printed ladder from the top, one step at a time; each "step vs. previous row" is a paired
# interval over the same 5 seeds (noise rows are compared with the clipped, noise-free row). Where that
# interval contains 0, this budget cannot tell the step from noise, and the text should not blame that
# step for a gap. On the right, read from right to left: as $\varepsilon$ shrinks, the AUC falls and
# its interval widens.
#
# On these 5 seeds, switching to equal weights changes nothing that can be told from noise (its interval
# contains 0), and clipping at $S = 0.1$ costs a little AUC with an interval that excludes 0. For the
# noise, the mean AUC falls as $\sigma$ grows, but only the step to $\sigma = 8$ prints an interval that
# excludes 0 against the clipped run; for $\sigma$ from 0.5 to 4 no cost of the added noise can be told
# from seed-to-seed variation on 5 seeds. So at large $\varepsilon$ the only detectable gap is clipping's;
# at $\varepsilon \approx 1.2$ ($\sigma = 8$) the noise adds a detectable cost of its own. And every
# $\varepsilon$ here is hospital-level, at $\delta = 10^{-3}$.
#
# **How does this compare with published work?** McMahan et al. (2018) trained language models with
# user-level DP-FedAvg "with only a negligible cost in predictive accuracy", given "a sufficiently large
# number of users", a requirement they call "easily met by even small internet-scale datasets". With
# very many users per round, the noise $\sigma S/(qW)$ is divided by a very large expected weight. We have four
# hospitals: the same $\varepsilon$ buys far more noise per round, and at $\sigma = 8$ we pay in AUC. FLamby
# (Ogier du Terrail et al. 2022), the benchmark whose Fed-Heart-Disease split we use, added a
# differential-privacy experiment on this dataset with Opacus. Theirs protects *patients*: DP-SGD clips
# and noises every patient's gradient inside each hospital, and their $\varepsilon$ counts patients, not
# hospitals. Their numbers measure something different from our curve, so we do not set them side by
# side. Protecting whole hospitals, as here, is the stronger promise, and with four hospitals it is the
# costlier one.
#
# **Exercise 4.** You will train 20 rounds with all four hospitals ($q = 1$, $\delta = 10^{-3}$), and the
# ethics board allows at most $\varepsilon = 5$. Which is the *smallest* noise multiplier among the
# candidates that stays within that budget? (Smaller noise, better model.) Use `dp.dp_epsilon`.

# %%
candidates = [0.5, 1.0, 2.0, 4.0, 8.0]
my_sigma = ...
check_smallest_sigma(my_sigma, candidates, target_epsilon=5.0, rounds=20, sample_rate=1.0, delta=1e-3)

# %% [markdown]
# ## 4 · What each defence costs, and what stays unprotected
#
# Now the defences side by side: plain FedAvg, secure aggregation, and DP-FedAvg with a small and a
# large noise multiplier, on 5 seeds (`benchmarks/seeds.py nb05` stored them in
# `fedlite/results/nb05.json`; CI re-runs it and checks the numbers; re-run it with
# `python benchmarks/seeds.py nb05`, which takes the time printed below). Seed $s$ picks hospital A's
# patient (training X-ray $s$; seed 0 is the one above), the initial weights, the attack's start and
# the noise.
#
# - **Attack**, split by **who looks**. The curious *server* sees A's update (plain FedAvg), only the
#   sum of A, B and C (secure aggregation), or A's clipped, noise-free update (central DP adds the noise
#   itself). *Others* see only what is released: the aggregate of A, B and C, or, under DP, A's clipped
#   update plus noise with A alone in the round (section 3's worst case). Success is the PSNR **above
#   the average-X-ray guess** for the same patient: if its interval contains 0, the attack learned
#   nothing the average did not already show.
# - **Cost**: FedAvg with the defence, three IID hospitals sharing all 4,708 training X-rays, two rounds
#   (scaled down for speed), $S = 0.5$ fixed in advance. "Defence s": seconds inside the defence's
#   hooks, measured when stored. $\varepsilon$: the budget of those two rounds at $\delta = 10^{-3}$.

# %%
costs, cost_meta = evidence.load(evidence.stored("nb05"))
COST_ROUNDS, COST_SIGMAS = cost_meta["rounds"], cost_meta["sigmas"]
guess = costs["none"].values["psnr_average"][:, 0]    # the average X-ray against each seed's patient


def interval(x, digits=1):
    """A paired difference as 'mean [low, high]', with * if the interval contains 0."""
    return f"{x.mean:+.{digits}f} [{x.low:+.{digits}f}, {x.high:+.{digits}f}]{'*' if x.contains(0) else ' '}"


epsilon = {"none": "∞", "secure": "∞"} | {f"dp_{s:g}": f"{dp.dp_epsilon(s, 1.0, COST_ROUNDS, DELTA):.3g}"
                                          for s in COST_SIGMAS}
print(f"stored from {len(cost_meta['seeds'])} seeds in {cost_meta['seconds_when_stored']} s "
      f"({cost_meta['cpu_seconds_when_stored']} s of CPU); mean [95% interval]; * = the interval contains 0")
print(f"{'defence':<20} {'AUC':>19} {'AUC minus plain FedAvg':>26} {'defence s':>9} {'MB up':>6} "
      f"{'attack, server: dB':>21} {'attack, others: dB':>21} {'ε':>6}")
for key, run in costs.items():
    auc = run.summary("auc")
    vs_plain = interval(evidence.paired_difference(run, costs["none"], "auc"), 3) if key != "none" else ""
    server, others = (interval(evidence.paired_values(run.values[f"psnr_{who}"][:, 0], guess))
                      for who in ("server", "others"))
    print(f"{run.name:<20} {auc.mean:.3f} [{auc.low:.3f}, {auc.high:.3f}] {vs_plain:>26} "
          f"{np.mean(cost_meta['defence_seconds'][key]):9.2f} {cost_meta['mb_up_per_hospital_round'][key]:6.2f} "
          f"{server:>21} {others:>21} {epsilon[key]:>6}")
print(f"(attack columns: PSNR minus the average-X-ray guess, {guess.mean():.1f} dB on average; MB uploaded per "
      f"hospital per round)")
clip_only = evidence.paired_values(costs[f"dp_{COST_SIGMAS[0]:g}"].values["psnr_server"][:, 0],
                                   costs["none"].values["psnr_server"][:, 0])
print(f"clipped, noise-free update minus unclipped update, PSNR for the server: {interval(clip_only)} dB")
print(f"final AUC per seed, DP-FedAvg σ = {COST_SIGMAS[-1]:g}:", costs[f"dp_{COST_SIGMAS[-1]:g}"].final("auc").round(2).tolist())

# %% [markdown]
# The table shows AUC only (it needs no decision threshold). Read it row by row, and read each interval
# before its mean:
#
# - **Plain FedAvg**: the server's attack beats the average-X-ray guess (its interval excludes 0), so
#   section 1's leak is not one lucky patient. What everybody else sees, the aggregate of A, B and C,
#   gives an attack whose interval contains 0: no better than the guess.
# - **Secure aggregation** moves the server into that second column: from the sum alone, its attack is
#   no better than the guess. It costs no AUC: the sum is exact, so the model is plain FedAvg's up to
#   fixed-point rounding (the difference prints as 0). It costs bytes: each masked number travels as a
#   64-bit integer, 8 bytes instead of 4 (float32), as the MB column counts (a packed 48-bit encoding
#   could send 6), and compute for the masks, which grows with the number of hospitals. Key agreement
#   adds a few messages per round, which we do not count.
# - **DP-FedAvg** costs almost no compute and no bytes. With three hospitals, noise of standard
#   deviation $\sigma S/3$ lands on each of the 102k parameters. Its AUC cost cannot be told from noise
#   at this budget (5 seeds, 2 rounds): both intervals of the difference to plain FedAvg contain 0, at
#   $\sigma = 0.1$ and at $\sigma = 1$, although at $\sigma = 1$ three of the five seeds end below 0.5
#   (printed last). Read the $\varepsilon$ beside them: at $\sigma = 0.1$ the attack on the released model
#   falls far *below* the guess (it rebuilds noise), but an $\varepsilon$ in the hundreds promises
#   nothing; $\sigma = 1$ gives $\varepsilon$ about 5. And under central DP the server still sees each
#   clipped, noise-free update: its attack still beats the guess, and the last line shows that clipping
#   changed its PSNR by an amount that cannot be told from 0. DP-FedAvg was designed for many
#   participants (McMahan et al. 2018); with few, the alternatives are fewer parameters or protection at
#   the patient level inside each hospital (DP-SGD).
# - Neither is complete on its own. Deployed systems combine them: each hospital clips and adds its
#   share of the noise before masking, so the server sees only a noisy sum ("distributed DP").
#
# **What stays unprotected, even with both:**
# - **The final model.** It is released to every hospital, and an over-fitted model leaks its training
#   patients to membership-inference attacks (is this patient's record in the training set?). DP bounds
#   that leak; secure aggregation does nothing against it.
# - **Metadata.** Who takes part in which round, how long each hospital trains, and the sample counts
#   $n_k$ unless they are hidden in the sum, as `SecureFedAvg` does.
# - **A malicious server or colluding hospitals.** Our secure aggregation assumes an honest-but-curious
#   server. A server that lies about dropouts, or a model built to leak, needs stronger protocols.
# - **Data quality and poisoning.** Privacy tools hide updates, and that also hides bad ones
#   (notebook 06).
# - **$\varepsilon$ is a worst-case bound, not a measurement.** An $\varepsilon$ of 10 does not say that an
#   attack will succeed; an $\varepsilon$ of 1 says that no attack can learn much.

# %% [markdown]
# ## Recap
#
# - "Only parameters are shared" is not privacy. From one hospital's update, a curious server rebuilt
#   the patient's X-ray, better than the average-X-ray guess on 5 seeds (`fedlite.privacy.inversion`: `gradient_from_update`, `infer_label`, `invert_gradient`,
#   `reconstruct`, `psnr`). Larger batches and more local steps made *our* attack weaker, but they
#   guarantee nothing.
# - **Secure aggregation** (`fedlite.privacy.secagg`: `mask`, `unmask_sum`, `SecureFedAvg`) lets the server
#   learn only the exact sum. Pairwise masks cancel, a dropout is repaired by revealing the dropped
#   hospital's seeds, and the attack on the sum was no better than the guess (5 seeds). It does not protect what the sum reveals, and
#   it does not stop a malicious server.
# - **DP-FedAvg** (`fedlite.privacy.dp`: `DPFedAvg`, `dp_epsilon`): clip each update to a fixed $S$, weigh
#   hospitals equally (or with capped weights), add noise of std $\sigma S$ to the sum and divide by the
#   expected total weight. Clipping alone changed the attack by nothing that 5 seeds can tell from noise;
#   noise spoils it, but the small $\sigma$ that already does so comes with an $\varepsilon$ too large to
#   promise anything, and the server still sees each clipped update. `dp_epsilon` counts the budget with
#   Opacus's accountant: $\varepsilon$ grows with rounds and falls with noise; it is *hospital-level*, not
#   a per-patient guarantee. On the four heart hospitals clipping cost a little AUC, and of the noise
#   levels only $\sigma = 8$ ($\varepsilon \approx 1.2$) cost more, detectably (5 seeds, section 3).
# - Costs: secure aggregation costs bytes and compute. DP's AUC cost on the X-ray CNN cannot be told
#   from noise at our budget (5 seeds, 2 rounds), though at $\sigma = 1$ three seeds fell below 0.5.
#   Neither protects the final model, the metadata, or against a malicious server.
#
# **Next:** [06 · Systems and robustness](06_systems_and_robustness.ipynb): communication, stragglers and
# dropouts, and what a faulty or malicious hospital can do to the global model.
# **Previous:** [04b · Patients' devices and drug discovery](04b_devices_and_drug_discovery.ipynb).
#
# *The datasets and models are for teaching only: not for clinical use.*
#
# **Play with it:** every knob of this course, live, in the [playground](playground.ipynb).
