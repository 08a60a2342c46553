"""benchmarks/goals.py reads goal 5 from binder.py's output: the verdict must follow the figures."""

from __future__ import annotations

import sys
from pathlib import Path

sys.path.insert(0, str(Path(__file__).resolve().parent.parent / "benchmarks"))

from goals import binder_summary  # noqa: E402

HEAD = "cgroup v1: 1 CPU, 2 GB, at ['/sys/fs/cgroup/cpu/x']\n"
TAIL = "cgroup v1: peak memory 900 MB, out-of-memory kills: {ooms}, exit code 0\n"


def output(rows: list[tuple[str, float, float]], total: tuple[float, float], ooms: int = 0, extra: str = "") -> str:
    lines = [f"notebooks/{name}.ipynb{'':20s}{wall:7.1f} s      700 MB {cpu:7.1f} s CPU" for name, wall, cpu in rows]
    return HEAD + "\n".join(lines) + "\n" + extra + \
        f"main sequence total{'':29s}{total[0]:7.1f} s {'':11s} {total[1]:7.1f} s CPU\n" + TAIL.format(ooms=ooms)


def test_within_budget_is_met_and_names_the_slowest() -> None:
    figures, _, met = binder_summary(output([("00_start", 9.5, 5.0), ("01_fl", 58.0, 41.0),
                                             ("solutions/01_solutions", 20.0, 30.5)], (67.5, 46.0)))
    assert met
    assert "wall: 01_fl 58.0 s, course 68 s" in figures and "CPU: 01_fl 41.0 s, course 46 s" in figures


def test_each_way_of_failing_the_budget() -> None:
    rows = [("00_start", 9.5, 5.0), ("01_fl", 58.0, 41.0)]
    assert not binder_summary(output([("00_start", 9.5, 5.0), ("01_fl", 61.0, 41.0)], (70.5, 46.0)))[2]  # one > 60 s
    assert not binder_summary(output(rows, (361.0, 46.0)))[2]                                     # course > 6 min
    assert not binder_summary(output(rows, (67.5, 46.0), ooms=1))[2]                              # an OOM kill
    failed = binder_summary(output(rows, (67.5, 46.0), extra="notebooks/06_sys.ipynb   FAILED: ValueError\n"))
    assert not failed[2] and "FAILED 06_sys" in failed[0]
    assert binder_summary("timed out after 10 s") == ("no figures (see the output above)", "<= 60 s; <= 360 s", False)
