# %% [markdown]
# # 00 · Start here: federated learning for healthcare
#
# A hospital that wants to detect pneumonia on chest X-rays needs many X-rays, from many patients,
# from many machines. No single hospital has enough, and the law (and the patients' trust) keep the
# records where they are. **Federated learning** trains one model across hospitals anyway: the model
# travels to the data, learns there, and only its weights come back.
#
# **In this notebook you will**
# - see what the course covers and in which order;
# - check that your set-up works (libraries, CPU threads, datasets);
# - take a first look at the chest X-rays the course trains on;
# - meet the one formula the whole course keeps coming back to: the FedAvg weights $n_k / n$.
#
# **Time:** about 10 minutes. **Prerequisites:** Python basics (lists, functions, `import`).
# No GPU is needed anywhere in the course.

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
# A server holds the current model $w$. Every round it sends $w$ to the hospitals (blue); each
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
# | 03 | non-IID hospitals | what happens when hospitals' patients and scanners differ, and what helps? |
# | 04 | medical use cases | disease prediction, imaging, personalization, wearables, drug discovery |
# | 05 | privacy attacks and defences | can a model update leak an X-ray? what do secure aggregation and differential privacy buy? |
# | 06 | systems and robustness | communication cost, dropouts, and a faulty or malicious hospital |
# | 07 | where next | real FL frameworks (Flower, NVFlare, FLamby, ...) mapped to what you learned |
#
# A 3-hour workshop covers 00 → 01 → 02 → 03 → 05. Each notebook runs in about a minute on a laptop CPU.
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
# ## A first look at the data
#
# The course's main image dataset is **PneumoniaMNIST** (from MedMNIST v2): paediatric chest X-rays,
# shrunk to 28×28 pixels, labelled *normal* (0) or *pneumonia* (1). `load_medmnist` downloads the
# official file once (checksum-verified) and returns ready-to-train tensors: images scaled to $[0, 1]$,
# one label per image.

# %%
from fedlite.datasets import load_medmnist

xray = load_medmnist("pneumoniamnist")
train, test = xray["train"], xray["test"]
print(f"train: {len(train)} images of shape {tuple(train.x.shape[1:])}; val: {len(xray['val'])}; test: {len(test)}")
print(f"real data: {not xray.synthetic}")

# %% [markdown]
# Eight images of each class. Can you see the difference? The pneumonia cases tend to show hazy,
# whiter lung fields, but at 28×28 pixels it is subtle, which is why we need a model.

# %%
plots.image_grid({"normal": train.x[train.y == 0][:8], "pneumonia": train.x[train.y == 1][:8]})
plt.show()

# %% [markdown]
# ## Five hospitals
#
# In the next notebooks we pretend these X-rays come from five hospitals that may not pool them.
# `fedlite.heterogeneity.partition.iid` deals the images out at random; each hospital's share is a list of indices
# into the training set. (Notebook 03 makes the hospitals differ, as real ones do.)

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

# %% [markdown]
# ## Exercises
#
# Replace each `...` with your answer and run the cell. The check prints ✓ or a hint.
#
# **Exercise 1.** Five hospitals hold 1200, 300, 2500, 150 and 558 X-rays. What FedAvg weight does
# hospital 3 (the one with 150, counting from 0) get? Give a number between 0 and 1.

# %%
from fedlite.exercises.nb00 import check_fedavg_weight, check_positive_share

unequal_sizes = [1200, 300, 2500, 150, 558]
my_weight = ...  # your answer, e.g. a Python expression
check_fedavg_weight(my_weight, unequal_sizes, hospital=3)

# %% [markdown]
# **Exercise 2.** What fraction of the training images show pneumonia (label 1)? Compute it from
# `train.y`; don't type a number in. (Why ask? A model that always says "pneumonia" gets exactly this
# accuracy, so every accuracy in the course should be read against it.)

# %%
my_share = ...  # hint: (train.y == 1) is a tensor of True/False
check_positive_share(my_share, train)

# %% [markdown]
# ## Recap
#
# - Federated learning moves the model to the data; hospitals send back weights, never records.
# - The server's average gives hospital $k$ the weight $n_k / n$.
# - The course runs on real, openly licensed medical data, on a CPU, in about a minute per notebook.
# - The helper package `fedlite` is meant to be read: start with `fedlite/simulation.py`.
#
# **Next:** [01 · Centralized vs federated](01_centralized_vs_federated.ipynb): train on pooled
# X-rays, on each hospital alone, and with FedAvg, and compare.
#
# *The datasets are for teaching only: not for clinical use.*
#
# **Play with it:** every knob of this course, live, in the [playground](playground.ipynb).
