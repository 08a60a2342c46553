# %% [markdown]
# # 07 · Where next: from fedlite to real federated-learning frameworks
#
# > **中文摘要：**把课程中的概念对应到 Flower、TensorFlow Federated、NVIDIA FLARE、Fed-BioMed、FLamby、FATE 与 PySyft 的术语，并把课程的客户端移植到 Flower 的接口。
# > 比较各框架的适用场景，为五种典型情形选择工具，作为从教学代码走向真实部署的下一步。
#
# Everything in this course ran in one Python process: the "hospitals" (and notebook 04b's simulated "devices")
# were lists of tensors, the "network" was a function call, and `fedlite` was written to be read, not deployed. A real federation
# needs what we skipped: programs that run at each hospital, encrypted and authenticated connections,
# identities for every site, jobs that survive a restart, and someone at each site who decides what code
# may touch the data. That is what federated-learning frameworks provide.
#
# Articles about FL usually name a handful of tools: PySyft and the OpenMined community behind it,
# TensorFlow Federated, FATE. Practitioners in medicine add Flower, NVIDIA FLARE, Fed-BioMed and the
# FLamby benchmark. They use different words for the same few ideas, and the ideas are the ones you
# already know. This chapter is a dictionary and a map: what each tool calls `run_federated`,
# `local_train`, `fedavg`, FedProx or secure aggregation, and which tool to reach for when.
#
# **In this notebook you will**
# - recap the course's ideas under their `fedlite` names, with one last FedAvg run on the four
#   heart-disease hospitals;
# - turn a model into the plain list of NumPy arrays that frameworks send over the network, and back;
# - port the course's FedAvg client to Flower's `NumPyClient` interface, and check in code that a round
#   through that interface gives exactly the global model of `run_federated`;
# - meet Flower, TensorFlow Federated, NVIDIA FLARE, Fed-BioMed, FLamby, FATE, and PySyft with OpenMined,
#   each with a table "fedlite name → their name";
# - place the tools on a map and pick one for five typical situations.
#
# **Time:** about 70 minutes (the notebook itself runs in about ten seconds).
# **Prerequisites:** [01 · Centralized vs federated](01_centralized_vs_federated.ipynb) and
# [02 · FedAvg math](02_fedavg_math.ipynb). The tables also use FedProx and FedBN from
# [03a](03a_non_iid_hospitals.ipynb) and the heart-disease hospitals from [03b](03b_real_hospitals.ipynb);
# personalization from [04a](04a_cross_silo_use_cases.ipynb), the simulated devices with their dropouts
# and the toy vertical model from [04b](04b_devices_and_drug_discovery.ipynb); secure aggregation and DP from
# [05](05_privacy_attacks_and_defenses.ipynb); and compression, deadlines, robust aggregation and update
# validation from [06](06_systems_and_robustness.ipynb).
#
# *A note on sources.* Every API name and fact about a framework below was checked against that project's
# own documentation or source code. These projects move fast: names change between major versions (we
# point out where they already have), so check the documentation of the version you install.
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
# ## The course in fedlite's words
#
# | idea | notebook | in `fedlite` (module paths under `fedlite/`) |
# |---|---|---|
# | the round loop: sample, broadcast, train locally, aggregate, evaluate | 01 | `run_federated(model, clients, test, rounds=...)` |
# | one hospital's local training, and what it sends back | 01 | `local_train(model, data, LocalConfig(...), seed=...)` → `ClientResult(state, num_samples, loss)` |
# | the FedAvg weights $n_k/n$ | 00, 02 | `fedavg(states, num_samples)` |
# | FedSGD: one full-batch gradient step per round | 02 | `LocalConfig(epochs=1, batch_size=None)` |
# | only some hospitals take part in a round | 01 | `participation=` |
# | hospitals that differ (non-IID) | 03a, 03b | `heterogeneity.partition.dirichlet`, `.shards`, `.quantity_skew`; `heterogeneity.hospitals.scanner_shift` |
# | FedProx: a leash on local training | 03a | `LocalConfig(mu=...)` |
# | FedAvgM, FedAdam: a smarter server step | 03a | `server_optimizer=ServerMomentum(...)`, `server_optimizer=ServerAdam(...)` |
# | FedBN: normalization layers stay at home | 03b | `local_keys=batchnorm_keys(model)` |
# | feature statistics without pooling rows | 03b | `heterogeneity.normalize.federated_mean_std` |
# | personalization: adapt the global model to each hospital | 04a | `heterogeneity.personalize.fine_tune_all(model, clients, epochs=E, ...)`; FedBN-style local normalization with `local_keys=batchnorm_keys(model)` |
# | cross-device: many devices, a few asked per round, some lost | 04b, 06 | `participation=q` and `on_update=robustness.participation.RandomDropout(p, seed=...)` (an `on_update` hook that returns `None` means the update never arrived) |
# | vertical FL: same patients, different columns | 04b (a toy) | a hand-written vertical logistic regression on the heart features, with no private set intersection and no encryption |
# | secure aggregation | 05 | `privacy.secagg.SecureFedAvg` (through the hooks `on_update=` and `aggregate=`) |
# | DP-FedAvg and its budget $\varepsilon$ | 05 | `privacy.dp.DPFedAvg`, `privacy.dp.dp_epsilon` |
# | a round deadline that drops slow hospitals | 06 | `robustness.participation.Deadline(speeds, deadline)` |
# | compressed updates | 06 | `on_update=robustness.compression.Quantize(bits=8)` or `.TopK(ratio)` (error feedback); a hook reads $w_t$ from its `context.broadcast` |
# | a faulty or malicious hospital | 06 | attacks in `robustness.malicious` (`flip_labels`, `scaled`, `sign_flipped`, `non_finite_update`); `aggregate=krum`, `median`, `trimmed_mean` (in `robustness.defences`) |
# | check every update before aggregating | 06 | `aggregate=robustness.defences.Validated(fedavg, max_ratio=...)` |
# | what happened, round by round | all | `History` |
#
# One last run to have a reference: FedAvg on the four heart-disease hospitals of notebook 03b (the
# natural split that FLamby calls Fed-Heart-Disease), logistic regression, 30 rounds of one local epoch.
# The features are prepared as in 03b: a cholesterol of 0 means "not measured" (all of Switzerland, a
# quarter of VA), so it is filled with the mean of the measured values and flagged in a 14th, 0/1 feature;
# then every feature is standardized with federated statistics. Every model is tested on the pooled
# test set. This is one seed: a reference for the checks below, not a comparison of methods.

# %%
import matplotlib.pyplot as plt
import numpy as np
import torch

from fedlite import LocalConfig, evaluate, local_train, make_model, run_federated
from fedlite.data import pool
from fedlite.datasets.heart import heart_hospitals

SEED, ROUNDS = 0, 30
# 03b's pipeline: cholesterol 0 ("not measured") filled with the federated mean of the measured values
# and flagged in a 0/1 column chol_missing; then standardized with federated statistics (three sums per hospital)
HOSPITALS, trains, tests, _, _ = heart_hospitals()
pooled_test = pool(tests)
LOCAL = LocalConfig(lr=0.05, batch_size=16)
NUM_FEATURES = trains[0].x.shape[1]  # 13 UCI features + chol_missing


def logreg():
    return make_model("logreg", seed=0, in_features=NUM_FEATURES)


reference_model = logreg()
reference = run_federated(reference_model, trains, pooled_test, rounds=ROUNDS, local=LOCAL, seed=SEED,
                          name="run_federated", progress=False, batched=False)  # the reference loop: see below
print("hospitals:", ", ".join(f"{h} ({len(d)} train)" for h, d in zip(HOSPITALS, trains)))
print(f"run_federated, {ROUNDS} rounds: pooled-test accuracy {reference.final():.3f}, "
      f"AUC {reference.final('auc'):.3f}; {reference.total_bytes / 1e3:.1f} kB of weights sent in all")

# %% [markdown]
# ## What actually travels: a list of arrays
#
# In `fedlite` a model's weights are its `state_dict`: names mapped to tensors. Frameworks are more
# frugal. Flower's `NumPyClient`, for instance, receives the global model as a plain Python `list` of
# NumPy arrays and returns one; NVIDIA FLARE's Client API wraps the weights in an `FLModel`. The names
# never travel, because every site builds the same model and knows them. The only contract is the
# **order**: the receiver zips the arrays with its own `state_dict()` keys.
#
# `fedlite.interop` holds the two conversions, and FedAvg on such lists:
#
# - `to_ndarrays(state)`: one array per state entry, in the state's order, dtypes kept;
# - `from_ndarrays(arrays, like=model.state_dict())`: names back, shapes checked;
# - `weighted_average([(arrays_k, n_k), ...])`: $\sum_k \frac{n_k}{n}$ arrays$_k$. It is `fedavg` on
#   lists: it names the arrays by position and hands them to `fedlite.aggregate.fedavg`.
#
# A model with BatchNorm layers shows why "every entry" matters: its state holds more than its trainable
# parameters.

# %%
# NBVAL_CHECK_OUTPUT
from fedlite.interop import from_ndarrays, to_ndarrays, weighted_average

cnn = make_model("cnn", seed=0, norm=True)
state = cnn.state_dict()
arrays = to_ndarrays(state)
print(f"trainable parameter tensors: {len(list(cnn.parameters()))}; state entries, buffers included: "
      f"{len(state)}; arrays sent: {len(arrays)}")
for (name, tensor), array in list(zip(state.items(), arrays))[:7]:
    print(f"  {name:30s} {tuple(array.shape)!s:14s} {array.dtype}")
back = from_ndarrays(arrays, like=state)
print("round trip exact, names and dtypes restored:",
      all(torch.equal(back[k], state[k]) and back[k].dtype == state[k].dtype for k in state))

# %% [markdown]
# The running mean and variance of each BatchNorm layer, and its integer counter, are buffers: they are
# not trained by gradient descent, but they are part of the model and have to travel (or, under FedBN,
# deliberately stay home).
#
# **Exercise 1.** Write the conversion yourself: given a state (a mapping from names to tensors), return
# one NumPy array per entry, in the state's order. The check runs your function on the CNN above.

# %%
from fedlite.exercises.nb07 import check_to_ndarrays


def my_to_ndarrays(state):
    arrays = ...  # a list with one NumPy array per entry of state, in the state's order
    return arrays


check_to_ndarrays(my_to_ndarrays)

# %% [markdown]
# ## Porting the course's client to Flower
#
# A Flower client that trains with PyTorch usually subclasses `flwr.client.NumPyClient` and implements
# three methods. Each one is a part of the round you already know:
#
# | Flower's `NumPyClient` method | returns | the same step in `fedlite` |
# |---|---|---|
# | `get_parameters(config)` | the local model as a list of arrays | `to_ndarrays(model.state_dict())` |
# | `fit(parameters, config)` | `(parameters, num_examples, metrics)` | load the global model, `local_train`, send back `result.state` and $n_k$ = `result.num_samples` |
# | `evaluate(parameters, config)` | `(loss, num_examples, metrics)` | load the global model, `evaluate` on the hospital's own test data |

# %% [markdown]
# Notebook [08 · From simulation to hospitals](08_from_simulation_to_hospitals.ipynb) does this for real:
# the course's client and FedAvg become a Flower App (`deploy/heart_fl/` in the repository) written with
# Flower 1.42's current **Message API**, and run under Flower's Simulation Runtime and as a TLS-secured
# deployment of four authenticated hospital processes, with the same model as `run_federated`. In that
# API the three methods above become message handlers:
#
# | `NumPyClient` (above) | Message API (notebook 08's app) | the same step in `fedlite` |
# |---|---|---|
# | `get_parameters` | the ServerApp builds the initial `ArrayRecord` itself | `make_model(..., seed=...)`, `model.state_dict()` |
# | `fit` | a `@app.train()` handler replying an `ArrayRecord` and a `MetricRecord` with `num-examples` | `local_train`, $n_k$ = `result.num_samples` |
# | `evaluate` | a `@app.evaluate()` handler replying a `MetricRecord` | `evaluate` on the hospital's own test data |
# | (no equivalent) | a `@app.query()` handler: any other question, e.g. sums for standardization | `summary_stats` |
# | `config` from `on_fit_config_fn` | the `ConfigRecord` passed to `FedAvg.start(train_config=...)`, plus `server-round` | `LocalConfig`, the round number |
#
# Two details matter when porting, and 08's app handles both:
#
# - **Seeds.** `run_federated` gives each hospital its own seed, `round_seed(seed, round, client)`. A client
#   must therefore know a stable index of its own (08 derives it from the hospital's name in its node
#   configuration) and receive the base seed and the round in the config; then every batch is shuffled
#   exactly as in `fedlite`.
# - **Metrics.** The Message API's `FedAvg` averages every metric the clients report, weighted by
#   `num-examples` (the key `weighted_by_key`); a weighted mean of per-hospital accuracies is the accuracy on
#   the pooled test set. (In the older `NumPyClient` style only the loss was averaged unless you passed
#   `evaluate_metrics_aggregation_fn`.)
#
# *Versions.* Most Flower tutorials still use the `NumPyClient` style; Flower 1.21 made the Message API the
# recommended one, and its strategies live in `flwr.serverapp.strategy` (`FedAvg(fraction_train=...)`
# instead of `fraction_fit`). Flower's guide "Upgrade to Message API" shows how to move an app.
#
# Is the mapping exact? We can test it without Flower: the next cell implements the same three methods
# on top of `fedlite`, plus the strategy's side of a round (send the arrays and a config, collect
# `(arrays, num_examples)`, average with the weights $n_k/n$). `run_federated` is asked for its reference
# loop (`batched=False`), which calls `local_train` once per hospital just as the client below does; by
# default it may train all hospitals at once as one vectorized computation, whose results agree with the
# loop only up to float rounding (about $10^{-8}$ here).

# %%
from fedlite.simulation import round_seed


class HospitalClient:
    """The course's client behind Flower's NumPyClient interface: lists of arrays in, lists of arrays out."""

    def __init__(self, cid, train, test):
        self.cid, self.train, self.test, self.model = cid, train, test, logreg()

    def get_parameters(self, config):
        return to_ndarrays(self.model.state_dict())

    def fit(self, parameters, config):
        self.model.load_state_dict(from_ndarrays(parameters, like=self.model.state_dict()))
        seed = round_seed(config["seed"], config["round"], self.cid)  # the seeds run_federated uses
        result = local_train(self.model, self.train, LOCAL, seed=seed)
        return to_ndarrays(result.state), result.num_samples, {"train_loss": result.loss}

    def evaluate(self, parameters, config):
        self.model.load_state_dict(from_ndarrays(parameters, like=self.model.state_dict()))
        metrics = evaluate(self.model, self.test)
        return metrics["loss"], len(self.test), {"accuracy": metrics["accuracy"]}


def strategy_round(clients, parameters, server_round):
    """One FedAvg round as a strategy runs it: configure, fit everywhere, weight by num_examples."""
    config = {"round": server_round, "seed": SEED}
    replies = [client.fit(parameters, config) for client in clients]
    return weighted_average([(arrays, num_examples) for arrays, num_examples, _ in replies])


clients = [HospitalClient(k, train, test) for k, (train, test) in enumerate(zip(trains, tests))]
initial = to_ndarrays(logreg().state_dict())
after_one = strategy_round(clients, initial, server_round=1)

one_round = logreg()
run_federated(one_round, trains, pooled_test, rounds=1, local=LOCAL, seed=SEED, progress=False, batched=False)
gap = max(np.abs(a - b).max() for a, b in zip(after_one, to_ndarrays(one_round.state_dict())))
print(f"largest difference from run_federated's global model after one round: {gap:.1e}")

# %%
# NBVAL_CHECK_OUTPUT
print("the NumPyClient-style round equals run_federated's round (largest difference < 1e-6):", gap < 1e-6)

# %% [markdown]
# The same global model: the difference printed above is zero here (at most float rounding on another
# machine). The framework's interface and `fedlite`'s loop are two spellings of one algorithm.
#
# Now all 30 rounds through the interface. After every round the server also asks each hospital to
# `evaluate` the new global model on its *own* test patients and averages the accuracies with the
# weights `num_examples` (in the `NumPyClient` style, that is the job of `weighted_accuracy` above), so
# no test set is ever pooled. Because the pooled test set is just the four hospitals' test sets side by
# side, that weighted average is exactly the pooled-test accuracy that `run_federated` records.

# %%
parameters, federated_accuracy = initial, []
for server_round in range(1, ROUNDS + 1):
    parameters = strategy_round(clients, parameters, server_round)
    reports = [client.evaluate(parameters, {}) for client in clients]
    sizes = np.array([num_examples for _, num_examples, _ in reports])
    accuracies = np.array([metrics["accuracy"] for _, _, metrics in reports])
    federated_accuracy.append(float(sizes @ accuracies / sizes.sum()))
final_gap = max(np.abs(a - b).max() for a, b in zip(parameters, to_ndarrays(reference_model.state_dict())))
accuracy_gap = np.abs(np.array(federated_accuracy) - reference.metric("accuracy")).max()
print(f"after {ROUNDS} rounds: largest weight difference {final_gap:.1e}, "
      f"largest accuracy difference {accuracy_gap:.1e}")

# %%
fig, ax = plt.subplots(figsize=(7.5, 3.6), layout="constrained")
rounds = range(1, ROUNDS + 1)
ax.plot(rounds, reference.metric("accuracy"), color="tab:blue", linewidth=3, alpha=0.5,
        label="fedlite: run_federated, pooled test set")
ax.plot(rounds, federated_accuracy, "o", color="tab:orange", markersize=4,
        label="NumPyClient-style port: each hospital evaluates,\naccuracies weighted by num_examples")
ax.axhline(pooled_test.y.float().mean().item(), color="black", linestyle=":", linewidth=1,
           label="always answering 'disease'")
ax.set(xlabel="round", ylabel="test accuracy", title="Two spellings of FedAvg on the four heart-disease hospitals")
ax.legend(fontsize="small", loc="center right")
ax.grid(alpha=0.3)
plt.show()

# %% [markdown]
# The dots sit on the line in every round. Porting the course's code to a framework changes the plumbing
# (processes, network, serialization, who starts what), not the mathematics.
#
# ## The tools, one by one
#
# For each tool: who makes it, its licence, what it is for, and a dictionary from `fedlite`'s names to
# its own. Two distinctions organize the landscape:
#
# - **simulation or production**: does the tool run many simulated clients on one machine (to study
#   algorithms), or real clients on real sites (to train a model that gets used)? Several tools do both.
# - **cross-silo or cross-device**: a few institutions, each with many records and a reliable server
#   (hospitals), or very many devices, each with few records, often offline (phones, wearables)?
#   Most of this course is cross-silo; notebook 04b simulated the cross-device side: many small devices,
#   a few asked per round, some of them dropping out.

# %% [markdown]
# ### Flower
#
# Flower (`flwr`) began as a research project at the University of Oxford and is developed by Flower
# Labs under the Apache 2.0 licence. It works with any ML library (PyTorch, TensorFlow, JAX,
# scikit-learn, XGBoost, ...). The same app runs in the Simulation Runtime (many virtual clients on one
# machine, built on Ray) or in the Deployment Runtime (real clients), without changing the code. Its
# examples range from medical imaging with MONAI to Android and iOS clients, and its companion library
# Flower Datasets partitions datasets into simulated clients.
#
# | `fedlite` | Flower |
# |---|---|
# | `run_federated(..., rounds=R)` | a `ServerApp` that runs a `Strategy`: `strategy.start(grid, initial_arrays, num_rounds=R)` (Message API; `ServerConfig(num_rounds=R)` in the `NumPyClient` style) |
# | `local_train` → `ClientResult` | a `@app.train()` handler in a `ClientApp` replying `ArrayRecord` + `MetricRecord` with `num-examples` (`NumPyClient.fit` → `(parameters, num_examples, metrics)`) |
# | `evaluate` on a hospital's own test data | a `@app.evaluate()` handler (`NumPyClient.evaluate` → `(loss, num_examples, metrics)`) |
# | the hospitals of one process | SuperNodes, one per site, each told its data by `--node-config`; the server is the SuperLink (notebook 08) |
# | `normalize.federated_mean_std` | a `@app.query()` handler returning $n_k$, sums and sums of squares (notebook 08's app) |
# | `fedavg`, weights $n_k/n$ | the `FedAvg` strategy, weights from `num_examples` |
# | `participation=` | `fraction_fit` (`fraction_train` in the Message API) |
# | `server_optimizer=ServerMomentum(...)`, `ServerAdam(...)` | the `FedAvgM` and `FedAdam` strategies (also `FedAdagrad`, `FedYogi`) |
# | `LocalConfig(mu=...)` (FedProx) | the `FedProx` strategy with `proximal_mu`: it only sends μ, and the client must add the proximal term to its loss |
# | `local_keys=batchnorm_keys(model)` (FedBN) | a how-to guide, "Implement FedBN": the client keeps its BatchNorm layers |
# | `aggregate=krum`, `median`, `trimmed_mean` | the `Krum`, `FedMedian` and `FedTrimmedAvg` strategies (also `Bulyan`); multi-Krum is `Krum(num_clients_to_keep=m)` in the `NumPyClient`-era API and a separate `MultiKrum` strategy only in the Message API |
# | `privacy.DPFedAvg` | wrappers such as `DifferentialPrivacyServerSideFixedClipping` and `DifferentialPrivacyClientSideFixedClipping` |
# | `secagg.SecureFedAvg` | `SecAggPlusWorkflow` on the server with `secaggplus_mod` on the clients (the SecAgg+ protocol) |
# | `partition.iid`, `dirichlet`, `shards` | Flower Datasets' `IidPartitioner`, `DirichletPartitioner`, `ShardPartitioner`, `PathologicalPartitioner` |
#
# Note where FedProx lives: in Flower as in `fedlite`, the server only chooses μ, and the proximal term is
# part of *local* training. Where each idea runs (server or client) is the same in every framework.

# %% [markdown]
# ### TensorFlow Federated (TFF)
#
# TFF comes from Google under the Apache 2.0 licence. It is built for research and experimentation: it
# ships a single-machine simulation runtime, a high-level Federated Learning API (`tff.learning`) and a
# lower-level Federated Core for writing new federated algorithms. It grew out of Google's cross-device
# work (its own introduction cites prediction models for phone keyboards), and models are TensorFlow
# models, so the course's PyTorch code would have to be rewritten. *Status:* TFF is still published;
# its repository now lives in Google's **Parfait** GitHub organization (google-parfait/tensorflow-federated;
# Parfait was announced in January 2025), its releases are 0.x versions marked "pre-release", and Google
# runs production cross-device training on a separate platform (Parfait's federated-compute), which
# executes computations written in TFF.
#
# | `fedlite` | TensorFlow Federated |
# |---|---|
# | `run_federated(...)` | `tff.learning.algorithms.build_weighted_fed_avg(model_fn, client_optimizer_fn, server_optimizer_fn)` builds a `LearningProcess`; each call of its `next` method is one round |
# | `LocalConfig` (the local optimizer) | `client_optimizer_fn` |
# | `server_optimizer=...` | `server_optimizer_fn` (by default SGD with learning rate 1.0, built by `tff.learning.optimizers.build_sgdm`) |
# | the weights $n_k/n$ | `client_weighting` (by default the number of examples) |
# | equal weights | `build_unweighted_fed_avg` |
# | FedSGD | `build_fed_sgd` |
# | FedProx | `build_weighted_fed_prox` |
# | `aggregate=...` | `model_aggregator` (a factory from `tff.aggregators`) |

# %% [markdown]
# ### NVIDIA FLARE (NVFlare)
#
# NVFlare comes from NVIDIA under the Apache 2.0 licence and is designed for production: secure
# provisioning of the sites, orchestration and monitoring, multi-party deployments across institutions
# and countries (cross-silo), with an FL Simulator for development. It works with PyTorch, TensorFlow,
# MONAI, XGBoost and others, ships reference algorithms (FedAvg, FedProx, FedOpt, cyclic weight
# transfer), privacy filters (differential privacy, homomorphic encryption), and lists an integration
# with Flower among its features. Its APIs have changed over versions: the Client API is the
# recommended way to federate existing training code; Controllers and Executors are the lower-level
# layer for custom workflows.
#
# | `fedlite` | NVIDIA FLARE |
# |---|---|
# | `run_federated(...)` (the server's loop) | a server-side workflow (a *controller*); `ScatterAndGather` is the classic FedAvg workflow |
# | `local_train` | with the Client API: `flare.init()`, then per round `flare.receive()` → train → `flare.send(FLModel(...))`; or a custom `Executor` |
# | a `state_dict` | `FLModel.params` (the Client API example loads it with `model.load_state_dict(input_model.params)`) |
# | $n_k$ | metadata in `FLModel.meta`: the Client API example sends `NUM_STEPS_CURRENT_ROUND`, the number of local training steps (epochs × batches), and the aggregator weights each update by it. That is proportional to $n_k$ (up to each site's last, partial batch) only when every site uses the same batch size and number of epochs |
# | `fedavg` | an `Aggregator` component of the workflow |
# | `on_update=` (touch an update before it is aggregated) | task result filters (the DP and encryption filters are such filters) |
# | running everything on one machine | the FL Simulator (`nvflare simulator`) |

# %% [markdown]
# ### Fed-BioMed
#
# Fed-BioMed is developed by Inria and Université Côte d'Azur under the Apache 2.0 licence, for
# biomedical research: real deployments across hospitals (cross-silo), with PyTorch and scikit-learn.
# A *researcher* component defines and runs the experiment; each *node* is a hospital's installation that
# holds datasets registered under tags. Its safeguards are the ones notebook 05 asked for: a node can
# refuse any training plan that a person at the hospital has not reviewed and approved (it compares code
# hashes), secure aggregation is built in (Joye-Libert encryption with multi-party key generation, or
# low-overhead masking), and training can use differential privacy.
#
# | `fedlite` | Fed-BioMed |
# |---|---|
# | `run_federated(...)` | `Experiment(tags=..., training_plan_class=..., training_args=..., round_limit=..., aggregator=FedAverage())`, then `exp.run()` |
# | a hospital's `Data` | a dataset deployed on a `Node`, found through its tags |
# | `local_train` + `LocalConfig` | a `TrainingPlan` (for PyTorch a `TorchTrainingPlan` with `init_model`, `init_optimizer`, `training_data`, `training_step`) + `training_args` (`epochs` or `num_updates`, `loader_args={"batch_size": ...}`, `optimizer_args={"lr": ...}`) |
# | `fedavg` | the `FedAverage` aggregator (also `Scaffold`) |
# | `LocalConfig(mu=...)` (FedProx) | `training_args["fedprox_mu"]` |
# | `privacy.DPFedAvg` | `training_args["dp_args"]` |
# | `secagg.SecureFedAvg` | secure aggregation, activated through the `Experiment` (and enforceable by each node) |
# | no counterpart: the code simply runs | training plan approval on each node |
#
# One design choice is worth a look: Fed-BioMed recommends `num_updates` (the same number of local steps
# at every node) over `epochs`, because with epochs a large hospital takes more steps per round than a
# small one and pulls the model further; the course met that trade-off as client drift in notebooks 02
# and 03.

# %% [markdown]
# ### FLamby
#
# FLamby is a benchmark suite for cross-silo FL in healthcare, started at Owkin (owkin/FLamby on
# GitHub) and released under the MIT licence; its paper appeared at NeurIPS 2022 (Datasets and
# Benchmarks). It provides seven medical datasets with their *natural* split into hospitals (Fed-Camelyon16, Fed-LIDC-IDRI, Fed-ISIC2019,
# Fed-TCGA-BRCA, Fed-Heart-Disease, Fed-IXITiny, Fed-KITS2019), a baseline model and metric for each,
# implementations of standard strategies that run on one machine, and published results. It is not a
# deployment tool: it is the yardstick, and its PyTorch datasets can be plugged into frameworks such as
# Fed-BioMed. Notebook 03b compared our heart-disease numbers with its results.
#
# | `fedlite` | FLamby |
# |---|---|
# | `load_heart_disease()[h]["train"]` | `FedHeartDisease(center=k, train=True, pooled=False)` from `flamby.datasets.fed_heart_disease` |
# | `pool(...)` | `FedHeartDisease(train=True, pooled=True)` |
# | `make_model("logreg", ...)`, `evaluate` | the dataset's `Baseline`, `BaselineLoss` and `metric` |
# | `run_federated(..., rounds=R)` | a strategy from `flamby.strategies`, e.g. `FedAvg(training_dataloaders=..., model=..., loss=..., optimizer_class=..., learning_rate=..., num_updates=..., nrounds=R).run()` |
# | `LocalConfig(epochs=1)` | `num_updates`: a fixed number of local steps per round, not epochs |
# | `LocalConfig(mu=...)`, `server_optimizer=ServerAdam(...)` | the `FedProx` and `FedAdam` strategies (also `Scaffold`, `Cyclic`, `FedYogi`, `FedAdagrad`, `FedAvgFineTuning`) |
# | notebook 03b's comparison table | `flamby/benchmarks/fed_benchmark.py` and the results in `flamby/results/` |

# %% [markdown]
# ### FATE
#
# FATE (Federated AI Technology Enabler) was started by WeBank's AI department, is hosted by the Linux
# Foundation and is released under the Apache 2.0 licence. It is an industrial, cross-silo platform
# (standalone, cluster and Kubernetes deployments) whose secure protocols rest on homomorphic encryption
# (Paillier) and secure multi-party computation. It is the tool in this list built around **vertical**
# FL, where the parties hold *different columns about the same people*, next to horizontal FL, where they
# hold the same columns about different people. Every federation of this course was horizontal except one
# toy: notebook 04b trained a vertical logistic regression on the heart features split between a GP
# practice and a cardiology clinic. It assumed both parties already list the same patients in the same
# order, and it sent partial scores and errors in the clear. FATE supplies exactly those two missing
# pieces: a private set intersection, and encrypted protocols. Its parties are called `guest`, `host`
# and `arbiter`; in vertical jobs the guest holds the labels.
#
# | `fedlite` | FATE |
# |---|---|
# | a hospital (client) | a party: `guest` or `host` |
# | the server | the `arbiter` (it coordinates, and aggregates in horizontal jobs) |
# | `run_federated` with `fedavg` (horizontal FL) | the "Homo" components: `HomoNN` (its trainers `FedAVGClient` and `FedAVGServer`), `HomoLR` |
# | notebook 04b's toy vertical logistic regression (GP and cardiology clinic; no PSI, no encryption) | vertical FL: `CoordinatedLR`, `SSHELR`, `HeteroSecureBoost`, ... |
# | none: notebook 04b's toy simply assumed the two parties' patients were already lined up | the `PSI` component (private set intersection), which finds the shared patients without revealing the others |
# | `secagg`, `privacy` | secure protocols: Paillier encryption, Diffie-Hellman key exchange |
# | `normalize.federated_mean_std` | the `Statistics` and `FeatureScale` components |

# %% [markdown]
# ### PySyft and OpenMined
#
# **OpenMined** is an open-source community and organization working on privacy-enhancing technologies;
# **PySyft** is its main library (Apache 2.0). PySyft is not a FedAvg framework first: it is a tool for
# *remote data science*. In the 0.9 series, a data owner runs a **Datasite** that holds each dataset twice:
# the real data, and a **mock** version with the same structure and fake values. A data scientist
# explores the mock, writes a function against it, and submits it as a **code request**; a person on
# the data owner's side reviews the code, approves or denies it, and only then does it run on the real
# data, and only its result comes back. From version 0.10 ("PySyft v2") the same workflow runs over
# cloud storage that organizations already use (datasets and jobs live in the `syft-rds` package); code
# written for the Datasite API needs `syft<0.10`.
#
# | `fedlite` | PySyft (0.9 Datasite API) |
# |---|---|
# | a hospital | a data owner's Datasite |
# | a hospital's `Data` | an `Asset` inside a `Dataset`, with `data=` (private) and `mock=` (public) |
# | code that runs at the hospital | a function decorated with `@sy.syft_function`, sent as a code request |
# | no counterpart: the code simply runs | the data owner's review: the request is approved or denied |
# | `run_federated`'s rounds | none in this workflow: PySyft governs *which* code may run on *whose* data |
#
# That governance question is one the course raised and could not answer in code: in notebook 05 the
# server could attack the updates; with PySyft (and Fed-BioMed's training plan approval) a person at the
# hospital decides what may run there in the first place.

# %% [markdown]
# **Exercise 2.** Match each `fedlite` name with Flower's term. The cell below lists Flower's terms,
# lettered in alphabetical order; answer with a dict `{fedlite name: letter}` with one entry for each name in `FEDLITE_NAMES`.
# There are as many letters as names: use each letter once.

# %%
# NBVAL_CHECK_OUTPUT
from fedlite.exercises.nb07 import FEDLITE_NAMES, FLOWER_TERMS, check_flower_matches

print("fedlite names:", ", ".join(FEDLITE_NAMES))
for letter, term in FLOWER_TERMS.items():
    print(f"  {letter}: {term}")

# %%
my_matches = ...  # e.g. {"run_federated": "?", "local_train": "?", ...}
check_flower_matches(my_matches)

# %% [markdown]
# ## A map of the landscape
#
# The chart places each tool along the two distinctions from the start of the tour: what it runs
# (simulation or production) and who its clients are (cross-device or cross-silo), one row per tool. The
# bars are ranges, not points: most tools cover more than one setting, `fedlite` included, whose
# hospitals are cross-silo while notebook 04b's simulated devices stand at the cross-device end. The placement is our reading of each project's own
# documentation (what it ships and what it says it is for), not a measurement. PySyft is hatched because
# it governs which code may run on whose data rather than running FedAvg rounds.

# %%
# name: ((from, to) on simulation 0 ... production 1, (from, to) on cross-device 0 ... cross-silo 1, note)
TOOLS = {
    "fedlite (this course)": ((0.00, 0.15), (0.10, 1.00), "one process: simulated hospitals (and devices in 04b)"),
    "FLamby": ((0.00, 0.25), (0.85, 1.00), "benchmark on real hospital splits"),
    "TensorFlow Federated": ((0.00, 0.35), (0.00, 0.45), "simulation runtime; Google deploys TFF code elsewhere"),
    "Flower": ((0.00, 0.90), (0.00, 1.00), "one app: simulation or deployment, phones to hospitals"),
    "NVIDIA FLARE": ((0.30, 1.00), (0.70, 1.00), "simulator, then provisioned production"),
    "Fed-BioMed": ((0.45, 1.00), (0.80, 1.00), "biomedical research across hospitals"),
    "FATE": ((0.50, 1.00), (0.75, 1.00), "industrial; horizontal and vertical FL"),
    "PySyft (OpenMined)": ((0.50, 1.00), (0.75, 1.00), "remote data science with code review"),
}
colors = plt.cm.tab10(np.arange(len(TOOLS)))
fig, (left, right) = plt.subplots(1, 2, figsize=(12, 4.4), sharey=True, layout="constrained")
for row, (name, (scope, scale, note)) in enumerate(TOOLS.items()):
    hatch = "//" if name.startswith("PySyft") else None
    for ax, (start, stop) in ((left, scope), (right, scale)):
        ax.barh(row, stop - start, left=start, height=0.6, color=colors[row], alpha=0.75, hatch=hatch,
                edgecolor="white")
    right.text(1.03, row, note, va="center", fontsize=8.5)
left.set(yticks=range(len(TOOLS)), yticklabels=list(TOOLS), xlim=(0, 1), xticks=[0, 1],
         title="what it runs")
left.set_xticklabels(["simulation,\nresearch", "production\ndeployment"])
right.set(xlim=(0, 1), xticks=[0, 1], title="who the clients are")
right.set_xticklabels(["cross-device\n(many phones)", "cross-silo\n(a few institutions)"])
left.invert_yaxis()
for ax in (left, right):
    ax.grid(axis="x", alpha=0.3)
fig.suptitle("Where each tool lives (a qualitative map, from each project's documentation)")
plt.show()

# %% [markdown]
# ## When to use which
#
# | your situation | reach first for | why | also consider |
# |---|---|---|---|
# | **research simulation**: a new aggregation rule, many simulated clients, a paper's ablation | Flower (Simulation Runtime) | framework-agnostic, many strategies built in, and the same code later runs for real | TFF if your models are TensorFlow and your setting is cross-device; `fedlite` to understand each step |
# | **medical production deployment** across hospitals | NVIDIA FLARE or Fed-BioMed | provisioning, authenticated connections, deployment tooling; Fed-BioMed adds node-side approval of training plans and built-in secure aggregation, designed for hospitals | Flower's Deployment Runtime |
# | **benchmarking** a method on real medical splits | FLamby | natural hospital splits, baselines, published results to compare with | its datasets inside the framework you deploy with |
# | **vertical FL**: different columns about the same patients | FATE | private set intersection, then vertical ("Hetero", "Coordinated") components | NVIDIA FLARE has a vertical-FL example |
# | **privacy-first data science**: analyses on data you may not see, each one reviewed by its owner | PySyft | mock data to write code against, and a human approval step before code touches real data | Fed-BioMed's training plan approval and federated analytics |
#
# Whatever you choose, the course's lessons carry over unchanged: weight by $n_k$, expect non-IID
# hospitals and measure drift, standardize with federated statistics, do not mistake "only weights are
# shared" for privacy, and compare with pooled and local-only baselines on the same test set.
#
# **Exercise 3.** A regional cancer registry records each patient's diagnosis and five-year survival; a
# university sequencing lab holds tumour gene-panel results, many of them for the same patients. They want
# one survival-risk model that uses both, but neither may hand over its records, nor even reveal which
# patients it has that the other does not. Which kind of FL is this, and which tool of this chapter is
# built for it? Answer with a pair of strings: `("horizontal" or "vertical", tool name)`.

# %%
from fedlite.exercises.nb07 import check_vertical

my_answer = ...  # ("horizontal" or "vertical", "tool name")
check_vertical(my_answer)

# %% [markdown]
# ## What fedlite left out, and the frameworks do not
#
# A few things no notebook of this course showed, because they are engineering rather than learning, and
# every production framework has to get right:
#
# - **Identity and transport**: each site gets credentials, connections use TLS, often mutual TLS
#   (NVIDIA FLARE provisions sites; Flower and Fed-BioMed document TLS and certificate set-up).
# - **Governance**: who may submit which job, and a record of what ran (Fed-BioMed's training plan
#   approval, PySyft's code requests).
# - **Failure**: sites that crash or go offline in the middle of a round, and jobs that must resume
#   (notebooks 04b and 06 simulated dropouts and deadlines; a framework has to survive real ones).
# - **Data engineering**: every hospital formats its records differently; mapping them onto one schema
#   (and the same preprocessing, as the normalization trap of notebook 03b showed, with one agreed way
#   of writing a missing value: two of our hospitals wrote an unmeasured cholesterol as 0) is often most
#   of the work.
#
# ## Recap
#
# - Every framework implements the same round: sample, broadcast, train locally, aggregate with the
#   weights $n_k/n$, evaluate. Only the names differ: `run_federated` is a Flower `ServerApp` with a
#   `Strategy`, a TFF `LearningProcess`, an NVIDIA FLARE workflow, a Fed-BioMed `Experiment`, a FLamby
#   strategy's `run()`.
# - What travels is a list of arrays in a fixed order, plus the count $n_k$. With `to_ndarrays`,
#   `from_ndarrays` and `weighted_average`, the course's client ran behind Flower's `NumPyClient`
#   interface and reproduced `run_federated`'s global model exactly.
# - Where an idea runs does not change between tools: FedProx's term is part of local training, the
#   server optimizer is the server's, FedBN's layers stay at the site.
# - The tools differ in purpose: Flower and TFF for research simulation (Flower also deploys), NVIDIA FLARE,
#   Fed-BioMed and FATE for production across institutions (FATE for vertical FL), FLamby for
#   benchmarking on real medical splits, PySyft (OpenMined's library) for reviewed remote data science.
#
# **Next:** [08 · From simulation to hospitals](08_from_simulation_to_hospitals.ipynb) runs the course's
# FedAvg on Flower for real, across separate processes with TLS and authenticated hospitals, and the
# [two-hospital checklist](../docs/two_hospital_checklist.md) lists what a real two-site project needs
# beyond the code. The [FAQ and glossary](../docs/faq.md) answers the five questions every introduction to
# FL asks, each with links to the notebook that shows the answer.
#
# *The datasets are for teaching only: not for clinical use.*
#
# **Play with it:** every knob of this course, live, in the [playground](playground.ipynb).
