"""limit_threads reads the CPU quota of the process's OWN cgroup, in cgroup v1 and v2 layouts (faked here)."""

from __future__ import annotations

from pathlib import Path

import pytest

from fedlite import environment
from fedlite.environment import cgroup_cpu_limit


def write(path: Path, text: str) -> None:
    path.parent.mkdir(parents=True, exist_ok=True)
    path.write_text(text)


def test_v2_reads_cpu_max_of_own_cgroup_not_the_root(tmp_path: Path) -> None:
    write(tmp_path / "proc", "0::/user.slice/binder-abc\n")
    write(tmp_path / "cg/cpu.max", "max 100000\n")
    write(tmp_path / "cg/user.slice/cpu.max", "max 100000\n")
    write(tmp_path / "cg/user.slice/binder-abc/cpu.max", "150000 100000\n")
    assert cgroup_cpu_limit(tmp_path / "cg", tmp_path / "proc") == 1.5


def test_v2_a_parent_quota_limits_too_and_max_means_none(tmp_path: Path) -> None:
    write(tmp_path / "proc", "0::/a/b\n")
    write(tmp_path / "cg/a/cpu.max", "50000 100000\n")
    write(tmp_path / "cg/a/b/cpu.max", "max 100000\n")
    assert cgroup_cpu_limit(tmp_path / "cg", tmp_path / "proc") == 0.5
    write(tmp_path / "cg/a/cpu.max", "max 100000\n")
    assert cgroup_cpu_limit(tmp_path / "cg", tmp_path / "proc") is None


def test_v1_reads_cfs_quota_of_own_cpu_cgroup(tmp_path: Path) -> None:
    write(tmp_path / "proc", "5:memory:/docker/x\n4:cpu,cpuacct:/docker/x\n0::/\n")
    write(tmp_path / "cg/cpu,cpuacct/cpu.cfs_quota_us", "-1\n")
    write(tmp_path / "cg/cpu,cpuacct/cpu.cfs_period_us", "100000\n")
    write(tmp_path / "cg/cpu,cpuacct/docker/x/cpu.cfs_quota_us", "200000\n")
    write(tmp_path / "cg/cpu,cpuacct/docker/x/cpu.cfs_period_us", "100000\n")
    assert cgroup_cpu_limit(tmp_path / "cg", tmp_path / "proc") == 2.0


def test_v1_minus_one_is_unlimited_and_missing_files_are_ignored(tmp_path: Path) -> None:
    write(tmp_path / "proc", "1:cpu:/job\n")
    write(tmp_path / "cg/cpu/job/cpu.cfs_quota_us", "-1\n")
    write(tmp_path / "cg/cpu/job/cpu.cfs_period_us", "100000\n")
    assert cgroup_cpu_limit(tmp_path / "cg", tmp_path / "proc") is None
    assert cgroup_cpu_limit(tmp_path / "cg", tmp_path / "no-such-file") is None


def test_cpu_quota_rounds_a_fraction_up_and_never_exceeds_affinity(monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.setattr(environment, "cgroup_cpu_limit", lambda: 0.5)
    assert environment.cpu_quota() == 1
    monkeypatch.setattr(environment, "cgroup_cpu_limit", lambda: 1000.0)
    assert environment.cpu_quota() == len(environment.os.sched_getaffinity(0))
