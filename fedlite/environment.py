"""Check the learner's set-up, and keep PyTorch from using more CPU threads than it has.

On Binder and in other containers, PyTorch sees all the host's cores but the
container may only get one or two. Running, say, 16 threads on 2 cores makes
training several times *slower*, so :func:`limit_threads` caps the thread
count at the container's CPU quota (cgroup ``cpu.max``) and CPU affinity.
"""

from __future__ import annotations

import math
import os
import platform
from pathlib import Path

import torch


def cpu_quota() -> int:
    """Cores this process may really use: the smaller of its CPU affinity and the cgroup quota."""
    cores = len(os.sched_getaffinity(0)) if hasattr(os, "sched_getaffinity") else (os.cpu_count() or 1)
    try:
        quota, period = Path("/sys/fs/cgroup/cpu.max").read_text().split()[:2]
        if quota != "max":
            cores = min(cores, max(1, math.ceil(int(quota) / int(period))))
    except (OSError, ValueError):
        pass
    return cores


def limit_threads() -> int:
    """Lower ``torch.set_num_threads`` to :func:`cpu_quota` if it is higher; return the count used."""
    if torch.get_num_threads() > cpu_quota():
        torch.set_num_threads(cpu_quota())
    return torch.get_num_threads()


def report() -> dict[str, str]:
    """Print (and return) library versions, CPU threads and the status of every dataset."""
    import matplotlib
    import numpy

    from fedlite import __version__, datasets

    facts = {
        "python": platform.python_version(),
        "fedlite": __version__,
        "torch": torch.__version__,
        "numpy": numpy.__version__,
        "matplotlib": matplotlib.__version__,
        "CPU threads used by torch": f"{limit_threads()} (cores available: {cpu_quota()})",
        "GPU": "not needed; this course runs on the CPU",
        "data directory": str(datasets.data_dir()),
    }
    facts.update({f"dataset {name}": datasets.status(name) for name in datasets.available()})
    width = max(map(len, facts))
    for key, value in facts.items():
        print(f"{key:<{width}}  {value}")
    return facts
