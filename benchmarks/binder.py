"""Run a command inside Binder's limits: a cgroup with 1 CPU of quota and 2 GB of memory.

    sudo python benchmarks/binder.py [--cpus 1] [--memory-gb 2] -- python benchmarks/notebooks.py

Needs root (it creates a cgroup). The new cgroup is a child of this process's
own cgroup in each hierarchy (so limits above it still apply), for cgroup v2
(``cpu.max``, ``memory.max``, ``memory.swap.max``) or v1 (``cpu.cfs_quota_us``
in the ``cpu`` hierarchy, ``memory.limit_in_bytes`` and ``memory.memsw.limit_in_bytes``
in the ``memory`` one). Afterwards it prints the peak memory and whether the
kernel killed anything for lack of memory, then removes the cgroup, killing
any process of the command that is still in it. Exit code: the command's, or
137 if an out-of-memory kill happened. SIGTERM (e.g. a caller's timeout) also
removes the cgroup and kills what is in it.
"""

from __future__ import annotations

import argparse
import os
import signal
import subprocess
import sys
import time
from pathlib import Path

ROOT = Path("/sys/fs/cgroup")
PERIOD_US = 100_000


def own_path(controller: str) -> str:
    """This process's cgroup path for ``controller`` (``""`` = the v2 unified hierarchy)."""
    for line in Path("/proc/self/cgroup").read_text().splitlines():
        _, controllers, path = line.split(":", 2)
        if controller in (controllers.split(",") if controllers else [""]):
            return path.strip("/")
    raise RuntimeError(f"this process is in no cgroup of controller {controller or 'v2'!r}")


class Cgroup:
    """One cgroup per hierarchy we need; ``limit``, ``enter`` (a pid), ``report``, ``remove``."""

    def __init__(self, cpus: float, memory: int) -> None:
        name = f"fedlite-binder-{os.getpid()}"
        self.v2 = (ROOT / "cgroup.controllers").exists()
        if self.v2:
            parent = ROOT / own_path("")
            wanted = {"cpu", "memory"} - set((parent / "cgroup.subtree_control").read_text().split())
            if wanted:
                (parent / "cgroup.subtree_control").write_text(" ".join(f"+{c}" for c in sorted(wanted)))
            self.dirs = {"cpu": parent / name, "memory": parent / name}
        else:
            self.dirs = {c: ROOT / c / own_path(c) / name for c in ("cpu", "memory")}
        for folder in set(self.dirs.values()):
            folder.mkdir()
        self._limit(cpus, memory)

    def _write(self, controller: str, file: str, value: object, optional: bool = False) -> None:
        path = self.dirs[controller] / file
        if optional and not path.exists():
            return
        path.write_text(str(value))

    def _limit(self, cpus: float, memory: int) -> None:
        if self.v2:
            self._write("cpu", "cpu.max", f"{int(cpus * PERIOD_US)} {PERIOD_US}")
            self._write("memory", "memory.max", memory)
            self._write("memory", "memory.swap.max", 0, optional=True)
        else:
            self._write("cpu", "cpu.cfs_period_us", PERIOD_US)
            self._write("cpu", "cpu.cfs_quota_us", int(cpus * PERIOD_US))
            self._write("memory", "memory.limit_in_bytes", memory)
            self._write("memory", "memory.memsw.limit_in_bytes", memory, optional=True)

    def enter(self, pid: int) -> None:
        for folder in set(self.dirs.values()):
            (folder / "cgroup.procs").write_text(str(pid))

    def pids(self) -> set[int]:
        return {int(p) for folder in set(self.dirs.values())
                for p in (folder / "cgroup.procs").read_text().split()}

    def report(self) -> tuple[float, int]:
        """(peak memory in MB, number of out-of-memory kills)."""
        mem = self.dirs["memory"]
        if self.v2:
            peak = int((mem / "memory.peak").read_text()) if (mem / "memory.peak").exists() else -1
            events = dict(line.split() for line in (mem / "memory.events").read_text().splitlines())
            return peak / 2**20, int(events.get("oom_kill", 0))
        peak = int((mem / "memory.max_usage_in_bytes").read_text())
        control = dict(line.split() for line in (mem / "memory.oom_control").read_text().splitlines())
        return peak / 2**20, int(control.get("oom_kill", 0))

    def remove(self) -> None:
        """Kill what the command left behind (only processes inside this cgroup), then rmdir."""
        deadline = time.monotonic() + 10
        while (left := self.pids()) and time.monotonic() < deadline:
            for pid in left:
                try:
                    os.kill(pid, signal.SIGKILL)
                except ProcessLookupError:
                    pass
            time.sleep(0.2)
        for folder in set(self.dirs.values()):
            folder.rmdir()


def main() -> int:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--cpus", type=float, default=1.0)
    parser.add_argument("--memory-gb", type=float, default=2.0)
    parser.add_argument("command", nargs=argparse.REMAINDER, help="the command to run (after --)")
    args = parser.parse_args()
    command = args.command[1:] if args.command[:1] == ["--"] else args.command
    if not command:
        parser.error("give a command to run after --")
    if os.geteuid() != 0:
        sys.exit("benchmarks/binder.py must run as root: it creates a cgroup under /sys/fs/cgroup. "
                 "Run it with sudo, or measure without limits: python benchmarks/notebooks.py")
    try:
        group = Cgroup(args.cpus, int(args.memory_gb * 2**30))
    except (OSError, RuntimeError) as err:
        sys.exit(f"could not create a cgroup with CPU and memory limits under {ROOT}: {err}. "
                 "Is the cgroup file system mounted read-write, with the cpu and memory controllers?")
    kind = "v2" if group.v2 else "v1"
    print(f"cgroup {kind}: {args.cpus:g} CPU, {args.memory_gb:g} GB, at {sorted(set(map(str, group.dirs.values())))}",
          flush=True)
    def stop(signum: int, _frame: object) -> None:  # a timeout upstream: still clean up (the finally below)
        raise SystemExit(128 + signum)

    signal.signal(signal.SIGTERM, stop)
    signal.signal(signal.SIGHUP, stop)
    try:
        # the child joins the cgroup before exec, so everything it starts is inside too
        child = subprocess.Popen(command, preexec_fn=lambda: group.enter(os.getpid()))
        code = child.wait()
        peak, ooms = group.report()
    finally:
        group.remove()
    print(f"cgroup {kind}: peak memory {peak:.0f} MB, out-of-memory kills: {ooms}, exit code {code}", flush=True)
    return 137 if ooms else code


if __name__ == "__main__":
    sys.exit(main())
