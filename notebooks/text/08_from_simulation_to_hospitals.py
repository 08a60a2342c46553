# %% [markdown]
# # 08 · From simulation to hospitals: the course's federation on Flower
#
# > **中文摘要：**把课程的联邦平均（FedAvg）写成一个 Flower 应用，分别用 fedlite、Flower 仿真运行时和真实部署（TLS 加密、节点认证，一个 SuperLink 与四家医院的 SuperNode）运行，核对三者结果一致。
# > 测量每轮通过网络传输的字节数，演练一家医院中途掉线，并对照两家医院真实合作项目的清单。
#
# **Symbols and terms:** the [notation card](../docs/notation.md) and the bilingual
# [glossary · 术语表](../docs/glossary.md).
#
# Until now every "hospital" was a list of tensors in one Python process. Notebook 07 showed how the
# course's client fits Flower's interface, as code to read. This notebook runs it: the FedAvg of the
# heart-disease chapters becomes a **Flower App** (`deploy/heart_fl/` in the repository) and runs three
# ways on the same four hospitals, seed, initial model and settings:
#
# 1. **fedlite**: `run_federated`, one process, as in notebooks 03b-07;
# 2. **Flower's Simulation Runtime**: `flwr run` with four simulated SuperNodes;
# 3. **Flower's Deployment Runtime**: one SuperLink and four SuperNodes (Cleveland, Hungarian,
#    Switzerland, VA) as separate operating-system processes, talking over TLS, each SuperNode
#    authenticated with its own key and reading **only its own hospital's file**.
#
# The claim to check: nothing changes but the plumbing. Then we pull the plug on one hospital mid-run.
#
# **In this notebook you will**
# - see which `fedlite` function each part of a Flower App calls (`local_train`, `summary_stats`,
#   `impute_missing`, FedAvg's $n_k$), and how the server fills the missing cholesterol from sums alone;
# - compare the final models and accuracies of the three runs in one table;
# - measure what crosses the wire per round, on Flower's side and on the course's (`bytes_up`, `bytes_down`);
# - watch a failure drill: a hospital's SuperNode is killed between rounds, and Flower carries on without it;
# - know what a real two-hospital project needs beyond the code ([checklist](../docs/two_hospital_checklist.md)).
#
# **Time:** about 50 minutes of reading. The Flower runs take minutes (their start-up and run times are
# printed below), so by default the notebook reads a stored record of them
# (`notebooks/results/08_flower_runs.json`, written by `python deploy/flower_local.py --record ...`) and
# only reruns the fedlite part: seconds on a quiet machine (28 s when we last ran it on a heavily shared
# 2-core machine, almost all of it starting Python and PyTorch). Set `LIVE = True` below to start every process yourself.
# **Prerequisites:** [03b · Real hospitals](03b_real_hospitals.ipynb) (the heart-disease hospitals and
# federated standardization), [06 · Systems and robustness](06_systems_and_robustness.ipynb) (bytes and
# dropouts) and [07 · Where next](07_where_next.ipynb) (what Flower calls each part). To run live:
# `pip install -e ".[flower]"` in the repository (Flower 1.42).

# %%
# On Google Colab, get the repository (the Flower App lives in it) and install the course with Flower.
import subprocess
import sys

if "google.colab" in sys.modules:
    subprocess.run([sys.executable, "-m", "pip", "install", "--quiet", "flwr[simulation]>=1.42,<1.43",
                    "fedlite @ git+https://github.com/fedlite-course/fedlite"], check=True)
    subprocess.run(["git", "clone", "--quiet", "--depth", "1", "https://github.com/fedlite-course/fedlite",
                    "/content/fedlite"], check=False)                # the Flower App lives in the repository

# %%
import importlib.util
import json
import re
from pathlib import Path

import matplotlib.pyplot as plt

import fedlite

REPO = Path("/content/fedlite") if "google.colab" in sys.modules else Path(fedlite.__file__).resolve().parent.parent
sys.path[:0] = [str(REPO / "deploy"), str(REPO / "deploy" / "heart_fl")]
import flower_local as fl  # noqa: E402  (the process helpers of deploy/)

HAS_FLOWER = importlib.util.find_spec("flwr") is not None
LIVE = False                 # True: start Ray, the SuperLink and the SuperNodes here (minutes)
RECORD = REPO / "notebooks" / "results" / "08_flower_runs.json"
print(f"Flower installed: {HAS_FLOWER}; live runs: {LIVE and HAS_FLOWER}")

# %% [markdown]
# ## The app: fedlite pieces behind Flower's messages
#
# A Flower App has two halves. The **ServerApp** runs at the coordinating server; the **ClientApp** runs
# at each hospital, inside that hospital's SuperNode. They exchange *messages* (Flower's Message API):
# records of arrays, metrics and settings. Our app sends three kinds:
#
# | message | what the hospital does | `fedlite` function | what leaves the hospital |
# |---|---|---|---|
# | `query` (once) | summary of its training rows | `summary_stats` | $n_k$, $\sum x$, $\sum x^2$ per feature; $m_k$, its rows without cholesterol |
# | `train` (each round) | fill and flag the missing cholesterol, standardize, train locally | `impute_missing`, `standardize`, `local_train`, seed `round_seed(seed, t, k)` | new weights $w_k$, $n_k$ |
# | `evaluate` (each round) | the same preparation, then score the global model on its own test rows | `evaluate` | loss, accuracy, test count |
#
# A cholesterol of 0 means "not measured" (all of Switzerland's patients, a quarter of VA's); notebook 03b
# showed that read as a value it is a shortcut to the site and the diagnosis. The course's
# `heart_hospitals()` fills it with the mean of the *measured* values over all hospitals and appends a
# 0/1 feature `chol_missing`, so the model has 14 inputs. A SuperNode sees only its own hospital, so the
# app computes that mean federatedly, with no extra message: a recorded 0 adds nothing to the sums a
# node already sends, so with $m_k$ missing values at hospital $k$ the server gets
#
# $$\text{fill} = \frac{\sum_k s_k[\text{chol}]}{\sum_k (n_k - m_k)},$$
#
# and, from the same sums, what each hospital's rows would sum to after filling and flagging
# ($s_k[\text{chol}] + m_k\,\text{fill}$, $q_k[\text{chol}] + m_k\,\text{fill}^2$, and $m_k$ twice for the
# 0/1 indicator). `combine_summaries` (the server's half of notebook 03b's `federated_mean_std`) turns
# those into the pooled mean and std of the 14 features. The ServerApp sends the fill value, means and
# stds with every message, then hands the rounds to Flower's own `FedAvg` strategy, which weights each
# hospital by its `num-examples`, i.e. $n_k$. The next cell runs the server's half on the nodes' sums and
# compares it with the course's `heart_hospitals()`; no Flower is needed for that.

# %%
import torch  # noqa: E402
from heart_fl.task import impute_summaries, missing_chol_count  # noqa: E402  (plain fedlite, no Flower)

from fedlite.datasets import load_heart_disease  # noqa: E402
from fedlite.datasets.heart import heart_hospitals  # noqa: E402
from fedlite.heterogeneity.normalize import combine_summaries, summary_stats  # noqa: E402

heart = load_heart_disease()  # (offline, the synthetic twin: a banner says so)

# %%
# NBVAL_CHECK_OUTPUT
node_trains = [heart[h]["train"] for h in fl.HOSPITALS]        # each node holds one of these, never the others
missing = [missing_chol_count(d) for d in node_trains]       # m_k, what a node adds to its sums
fill, imputed = impute_summaries([summary_stats(d) for d in node_trains], missing)
server_mean, server_std = combine_summaries(imputed)
course = heart_hospitals(heart)
print("rows without cholesterol:", dict(zip(fl.HOSPITALS, missing)))
print(f"fill value (mean of the measured cholesterol, all hospitals): {fill:.2f} mg/dl; "
      f"features after the indicator: {len(server_mean)}")
print("same mean and std as heart_hospitals():",
      torch.allclose(server_mean, course.mean, rtol=1e-6) and torch.allclose(server_std, course.std, rtol=1e-6))

# %% [markdown]
# Here is the whole of a hospital's training step (`prepare` fills, flags and standardizes):

# %%
source = (REPO / "deploy" / "heart_fl" / "heart_fl" / "client_app.py").read_text()
start = source.index("def local_update")
print(source[start:source.index("\n\n\n", start)])

# %% [markdown]
# How does a SuperNode know which hospital it is? Through Flower's **node configuration**, given when
# the SuperNode starts: `--node-config 'hospital="cleveland" data-file=".../processed.cleveland.data"'`.
# The ClientApp reads that one file and nothing else (`heart_fl/task.py`); the simulation engine instead
# numbers its simulated nodes with `partition-id` 0-3, which the app maps to the same four hospitals.

# %% [markdown]
# ## The three runs
#
# The reference is `fedlite.run_federated` with exactly the app's settings, in this one process:

# %%
ROUNDS = 2
history, fedlite_state = fl.fedlite_reference({"num-server-rounds": ROUNDS})
for r in history.rounds:
    print(f"round {r.round}: loss {r.test['loss']:.4f}, accuracy {r.test['accuracy']:.3f}, "
          f"bytes up {r.bytes_up}, bytes down {r.bytes_down}")

# %% [markdown]
# The two Flower runs start real processes. `flower_local.record` does all of it with bounded waits:
# a private Ray cluster and `flower-superlink --simulation` for the simulation; certificates from
# `deploy/certs.py`, a SuperLink with `--enable-supernode-auth`, each hospital's public key registered
# with `flwr supernode register`, four `flower-supernode` processes, `flwr run`; at the end every process
# group is stopped. With `LIVE = False` we read what the last recorded run produced.

# %%
if LIVE and HAS_FLOWER:
    import tempfile
    runs = fl.record(Path(tempfile.mkdtemp(prefix="heart_fl_")), rounds=ROUNDS)
else:
    runs = json.loads(RECORD.read_text())
print(f"Flower {runs['flwr_version']}, {runs['rounds']} rounds; processes left running afterwards: "
      f"{runs.get('processes_left', [])}")

def show_log(name: str, chars: int = 1200) -> None:
    """The last lines of one process's log, without the terminal colour codes."""
    print(f"\n--- end of the log of {name} (deployment) ---")
    print(re.sub(r"\x1b\[[0-9;]*m", "", runs["deployment"]["logs"][name])[-chars:])


show_log("superlink")
show_log("cleveland")

# %% [markdown]
# Each SuperNode reported what it loaded: its hospital, where from, how many rows, and a fingerprint
# (a hash) of those rows. They match what `fedlite` loads for that hospital, one file per node:

# %%
for hospital, who in runs["deployment"]["loaded"].items():
    print(f"{hospital:12s} {who['n-train']:4d} train / {who['n-test']:3d} test rows, "
          f"fingerprint {who['train-fingerprint']}, from {Path(who['source']).name}")

# %% [markdown]
# ### One table, three runs

# %%
def row(name: str, run: dict) -> str:
    if "error" in run:
        return f"| {name} | not run: {run['error'][:90]} | | | |"
    last = run["evaluate"][-1]
    time_s = f"{run['startup_seconds']:.0f} + {run['run_seconds']:.0f}"
    return (f"| {name} | {last['loss']:.6f} | {last['accuracy']:.4f} | {run['max_weight_gap']:.1e} | {time_s} |")


last = runs["fedlite"]["evaluate"][-1]
lines = ["| run | test loss | test accuracy | max weight gap to fedlite | seconds (start-up + run) |",
         "|---|---|---|---|---|",
         f"| fedlite `run_federated` | {last['loss']:.6f} | {last['accuracy']:.4f} | 0 | {runs['fedlite']['seconds']:.1f} |",
         row("Flower simulation", runs["simulation"]), row("Flower deployment (TLS, 4 processes)", runs["deployment"])]
from IPython.display import Markdown, display  # noqa: E402

display(Markdown("\n".join(lines)))

# %% [markdown]
# The accuracies agree to 15 digits and the largest difference between the final weights is a few times
# $10^{-8}$ (the column above), far below anything a metric can see. This is one seed and one setting,
# a demonstration (the test suite re-runs it and requires a gap below $10^{-6}$), and the runs are
# deterministic, so more seeds would not change what it shows. The residue is float rounding in the
# average: `fedlite.fedavg` sums the hospitals' weights in float64 and rounds once, while Flower's
# `FedAvg` accumulates $\sum_k (n_k/n)\,w_k$ in float32, in the order the replies arrived (we read this
# in Flower's source, `aggregate_arrayrecords` in `flwr/serverapp/strategy/strategy_utils.py`).
# Everything else (data, the cholesterol fill, standardization, seeds, batches, learning rate) is the
# same code: `fedlite`'s reference uses the loop that calls `local_train` per hospital
# (`run_federated(..., batched=False)`), as each ClientApp does. The timing column is the price of real processes: in the deployment each message starts a
# fresh ClientApp process that imports PyTorch (the simulation keeps its workers alive), and the machine
# that recorded these numbers was heavily shared, so the seconds are noisy and far above a quiet laptop's.

# %% [markdown]
# ## What crossed the wire
#
# The course counted bytes as the size of the weights: the logistic regression has $14 \times 2 + 2 = 30$
# float32 numbers, 120 bytes per hospital and direction. Flower's messages carry more: the record
# names, the settings of the round (our 14 means, 14 stds and the cholesterol fill value ride along in
# every message), metadata, and its own serialization. The ServerApp counted every message it sent and received (`wire_bytes`).

# %%
dep = runs["deployment"]
train = [m for m in dep["messages"] if m["type"] == "train"]
flower_down = [m["bytes_down"] for m in train]
flower_up = [m["bytes_up"] for m in train]
payload_up = [m["payload_up"] for m in train]
for t, (d, u, p) in enumerate(zip(flower_down, flower_up, payload_up), start=1):
    print(f"round {t}: Flower sent {d} B down and received {u} B up (arrays alone: {p} B); "
          f"fedlite counts {runs['fedlite']['bytes_down'][t - 1]} B down, {runs['fedlite']['bytes_up'][t - 1]} B up")
other = {m["type"]: m["bytes_down"] + m["bytes_up"] for m in dep["messages"] if m["type"] != "train"}
print("other message kinds, both directions, last occurrence:", other)

# %%
fig, ax = plt.subplots(figsize=(6.5, 3.2))
labels = ["fedlite\nbytes_down", "Flower train\ndown", "fedlite\nbytes_up", "Flower train\nup"]
values = [runs["fedlite"]["bytes_down"][0], flower_down[0], runs["fedlite"]["bytes_up"][0], flower_up[0]]
bars = ax.bar(labels, values, color=["tab:blue", "tab:orange", "tab:blue", "tab:orange"])
ax.bar_label(bars, fmt="%d B")
ax.set_ylabel("bytes in round 1 (4 hospitals)")
ax.set_title("The weights are a small part of what travels")
fig.tight_layout()
plt.show()

# %% [markdown]
# For a model this small the envelope outweighs the letter: most of each message is settings, names
# and metadata. For the CNNs of notebooks 01-06 (tens of thousands of weights) the arrays dominate, and
# the course's `bytes_up`/`bytes_down` become a close estimate; compression (notebook 06) then pays off.

# %% [markdown]
# ## Failure drill: a hospital goes dark
#
# After round 1 the ServerApp pauses five seconds, and in that pause we kill VA's SuperNode (its whole
# process group: the SuperNode *and* the `flower-superexec` it started). Notebook 06 simulated exactly
# this as a dropout: an update that never arrives, and FedAvg over those that did. What does Flower do?

# %%
drill = runs["drill"]
for m in drill["messages"]:
    if m["type"] in ("train", "evaluate"):
        missing = sorted(set(m["sent_to"]) - set(m["replied"]))
        print(f"{m['type']:8s} sent to {len(m['sent_to'])}, answered by {len(m['replied'])} "
              f"in {m['seconds']:5.1f} s; missing: {missing or '-'}")
        for error in m["errors"]:
            print(f"          error for {error['node']}: {error['reason'][:100]}")

# %% [markdown]
# Read the rows from the top. In round 2 Flower still **sent** VA its training message: nothing had told
# it VA was gone. A SuperNode proves it is alive by a heartbeat (every 30 s in Flower 1.42), and the
# SuperLink declares it unavailable only after two missed heartbeats. So the round **waited** (at most
# about a minute after the kill), then the SuperLink answered on VA's behalf with a "Node Unavailable" error, and the round
# **proceeded without it**: `FedAvg` averaged the three updates that arrived, weighted by
# $n_k / (n_{Cle} + n_{Hun} + n_{Swi})$. From then on VA was no longer sampled.
#
# That is the dropout model of notebook 06 (an update that never arrives; FedAvg over those that did),
# now with a clock attached. What you read above is one recorded drill, a demonstration of Flower 1.42's
# behaviour; the test suite repeats the drill and asserts the same sequence, and that its final weights
# equal `run_federated` with an `on_update` hook that drops VA from round 2 on (up to float32 rounding,
# a gap below $10^{-6}$). Three settings decide the
# behaviour, and a real project must choose them: the round timeout (our app gives up on a round after
# `round-timeout` seconds; 600 here, so Flower's heartbeat decided first), the heartbeat (how fast a dead
# site is noticed), and the minimum number of nodes (`min-nodes`, 3 in the drill; with 4 the next round
# would wait for VA to come back instead of continuing).

# %% [markdown]
# ## Exercises
#
# **Exercise 1.** How many bytes does the course's accounting say go *up* in one round of this run?
# Compute it from the model (14 inputs, 2 classes: how many float32 numbers?) and the number of hospitals
# that answer; don't copy
# the printed number.

# %%
from fedlite.exercises.nb08 import check_bytes_up, check_drill_weights, check_overhead  # noqa: E402

my_bytes_up = ...
check_bytes_up(my_bytes_up)

# %% [markdown]
# **Exercise 2.** In round 1 of the deployment, how many times more bytes did Flower receive from the
# hospitals than the course's `bytes_up` counts? Compute the ratio from `flower_up` and `runs["fedlite"]`.

# %%
my_ratio = ...
check_overhead(my_ratio, runs)

# %% [markdown]
# **Exercise 3.** In round 2 of the drill, FedAvg averaged Cleveland, Hungarian and Switzerland. Give
# the weight of each as a dict `{"cleveland": ..., ...}`, computed from the training counts `n-train`
# in `runs["deployment"]["loaded"]`.

# %%
my_weights = ...
check_drill_weights(my_weights, runs)

# %% [markdown]
# ## Recap
#
# - The course's FedAvg ran as a Flower App: `local_train`, `summary_stats` and the seeds are `fedlite`'s;
#   Flower moved the messages and its own `FedAvg` weighted the hospitals by $n_k$.
# - fedlite, Flower's Simulation Runtime and a TLS-secured deployment of four authenticated SuperNodes gave
#   the same model, up to float32 rounding in the average (a few $10^{-8}$) and the same accuracies.
# - Each SuperNode read only its own hospital's file, chosen by its node configuration; only counts, sums
#   and sums of squares left a hospital before training (the count of missing cholesterol values
#   included: from them the server derived the fill value and the 14 features' statistics), and only
#   weights and scores during it.
# - Flower's messages are larger than the weights they carry; for a 30-weight model, about 13 times larger
#   (Exercise 2).
# - When a hospital died, the round waited for its timeout and FedAvg went on with the others: the
#   dropout of notebook 06, now with a clock attached.
# - The code was the easy part. Before two real hospitals train together, work through the
#   [two-hospital checklist](../docs/two_hospital_checklist.md): hosting, ports, certificates, data
#   harmonization (remember Switzerland's cholesterol 0), governance and privacy settings that make sense
#   for two parties.
#
# **Next:** the course ends here. The [FAQ](../docs/faq.md) collects the common questions; for the
# framework landscape go back to [07 · Where next](07_where_next.ipynb).
#
# 中文摘要：本节把课程中的联邦平均（FedAvg）改写成 Flower 应用，在模拟环境和四个带 TLS 与节点认证的独立进程中运行，结果与 fedlite 一致（权重只差约 3e-8 的浮点误差）。
# 当一家医院中途掉线时，Flower 等待超时后用其余三家继续聚合，正是第 06 节的掉线模型；真实部署还需参考两家医院清单。
#
# *The datasets are for teaching only: not for clinical use.*
