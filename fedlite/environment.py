"""Check the learner's set-up, and keep PyTorch from using more CPU threads than it has.

On Binder and in other containers, PyTorch sees all the host's cores but the
container may only get one or two. Running, say, 16 threads on 2 cores makes
training several times *slower*, so :func:`limit_threads` caps the thread
count at the container's CPU quota (cgroup v2 ``cpu.max`` or v1
``cpu.cfs_quota_us``, of the process's own cgroup) and CPU affinity.
"""

from __future__ import annotations

import math
import os
import platform
from pathlib import Path

import torch


CGROUP_ROOT = Path("/sys/fs/cgroup")


def _own_cgroups(proc_cgroup: Path) -> dict[str, str]:
    """``/proc/self/cgroup`` as ``{controller: path}``; the cgroup v2 entry is under key ``""``."""
    own: dict[str, str] = {}
    for line in proc_cgroup.read_text().splitlines():
        _, controllers, path = line.split(":", 2)
        for name in controllers.split(",") if controllers else [""]:
            own[name] = path
    return own


def _ancestors(root: Path, path: str) -> list[Path]:
    """``root/path`` and every parent up to ``root``: a quota anywhere above also limits us."""
    folder = root / path.strip("/")
    return [folder, *[p for p in folder.parents if p.is_relative_to(root)]]


def _quota_v1(folder: Path) -> float | None:
    quota = int((folder / "cpu.cfs_quota_us").read_text())
    return quota / int((folder / "cpu.cfs_period_us").read_text()) if quota > 0 else None


def _quota_v2(folder: Path) -> float | None:
    quota, period = (folder / "cpu.max").read_text().split()[:2]
    return None if quota == "max" else int(quota) / int(period)


def cgroup_cpu_limit(root: Path = CGROUP_ROOT, proc_cgroup: Path = Path("/proc/self/cgroup")) -> float | None:
    """The CPU quota (in cores, e.g. ``1.5``) of this process's own cgroup, or ``None`` if unlimited.

    cgroup v2: ``cpu.max`` holds ``"<quota> <period>"`` or ``"max <period>"``.
    cgroup v1: ``cpu.cfs_quota_us / cpu.cfs_period_us`` (quota ``-1`` = none)
    in the ``cpu`` controller's hierarchy. The process's cgroup path comes from
    ``/proc/self/cgroup``; the smallest quota on that path or any parent wins.
    """
    try:
        own = _own_cgroups(proc_cgroup)
    except (OSError, ValueError):
        return None
    places: list[tuple[Path, object]] = []
    if "cpu" in own:
        for mount in ("cpu", "cpu,cpuacct", "cpuacct,cpu"):
            places += [(f, _quota_v1) for f in _ancestors(root / mount, own["cpu"])]
    if "" in own:
        for mount in (root, root / "unified"):
            places += [(f, _quota_v2) for f in _ancestors(mount, own[""])]
    limits = []
    for folder, read in places:
        try:
            limits.append(read(folder))  # type: ignore[operator]
        except (OSError, ValueError):
            continue
    found = [q for q in limits if q is not None]
    return min(found) if found else None


def cpu_quota() -> int:
    """Cores this process may really use: the smaller of its CPU affinity and its cgroup's quota (rounded up)."""
    cores = len(os.sched_getaffinity(0)) if hasattr(os, "sched_getaffinity") else (os.cpu_count() or 1)
    limit = cgroup_cpu_limit()
    return cores if limit is None else min(cores, max(1, math.ceil(limit)))


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
