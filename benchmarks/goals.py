"""Issue 13's speed goals in one run: the issue's old figure, the reference path and the batched path side by side.

    python benchmarks/goals.py                 # goals 1-4 (goal 4 needs flwr[simulation])
    python benchmarks/goals.py --notebooks     # also goal 5: every notebook inside 1 CPU / 2 GB (root)
    python benchmarks/goals.py --skip-flower   # goals 1-3 only (4 and 5 are listed as not run)
    python benchmarks/goals.py --notebooks-from binder.log   # goal 5 from a saved binder.py run

Goals 1-3 are ratios of times measured in this one process (median of
``--repeats`` after a warm-up), so a busy machine slows both sides alike;
goal 4 runs each engine end to end in a fresh process (start-up included);
goal 5 runs ``benchmarks/binder.py -- benchmarks/notebooks.py``. The machine's
load average is printed first: figures taken on a loaded machine are noisy.
"""

from __future__ import annotations

import argparse
import os
import re
import statistics
import subprocess
import sys
import time
from collections.abc import Callable
from pathlib import Path

HERE = Path(__file__).resolve().parent
sys.path.insert(0, str(HERE))

import torch  # noqa: E402

import fedlite as fl  # noqa: E402
from fedlite.batched import run_federated_seeds  # noqa: E402
from fedlite.simulation import round_seed  # noqa: E402
from workloads import cnn, table  # noqa: E402

ROWS: list[tuple[str, str, str, str, str, str]] = []
CLOCK = time.perf_counter  # --clock cpu: time.process_time (this process's CPU seconds; steadier on a busy machine)


def timed(fn: Callable[[], object], repeats: int) -> float:
    """Median wall time of ``fn`` over ``repeats`` runs, after one warm-up run."""
    fn()
    times = []
    for _ in range(repeats):
        round_seed.cache_clear()  # every timed run derives its clients' seeds afresh, as a new run would
        start = CLOCK()
        fn()
        times.append(CLOCK() - start)
    return statistics.median(times)


def row(goal: str, old: str, reference: str, batched: str, target: str, met: bool | None) -> None:
    ROWS.append((goal, old, reference, batched, target, "n/a" if met is None else ("yes" if met else "NO")))
    print(f"  -> {goal}: reference {reference}, batched {batched} (target {target})", flush=True)


def round_vs_epoch(w, repeats: int) -> tuple[float, float, float]:
    """Seconds of one centralized epoch, one reference round, one batched round."""
    model = w.model(0)
    epoch = timed(lambda: fl.run_centralized(model, w.pooled, w.test, epochs=1, local=w.local, progress=False),
                  repeats)
    ref = timed(lambda: fl.run_federated(model, w.clients, w.test, rounds=1, local=w.local, progress=False,
                                         batched=False), repeats)
    fast = timed(lambda: fl.run_federated(model, w.clients, w.test, rounds=1, local=w.local, progress=False),
                 repeats)
    return epoch, ref, fast


def goal1(repeats: int) -> None:
    epoch, ref, fast = round_vs_epoch(table(), repeats)
    print(f"goal 1: centralized epoch {epoch * 1e3:.1f} ms, round: reference {ref * 1e3:.1f} ms, "
          f"batched {fast * 1e3:.1f} ms")
    row("1 K=100 table: round / centralized epoch", "3.3x", f"{ref / epoch:.2f}x", f"{fast / epoch:.2f}x",
        "<= 0.5x", fast / epoch <= 0.5)


def goal2(repeats: int, seeds: int = 5, rounds: int = 20) -> None:
    w = table()
    run = lambda batched: fl.run_federated(w.model(0), w.clients, w.test, rounds=rounds, local=w.local,  # noqa: E731
                                           progress=False, batched=batched)
    one_ref = timed(lambda: run(False), max(1, repeats // 2))
    many_ref = timed(lambda: [fl.run_federated(w.model(s), w.clients, w.test, rounds=rounds, local=w.local,
                                               seed=s, progress=False, batched=False) for s in range(seeds)], 1)
    one_fast = timed(lambda: run(None), repeats)
    many_fast = timed(lambda: run_federated_seeds([w.model(s) for s in range(seeds)], w.clients, w.test,
                                                  rounds=rounds, seeds=list(range(seeds)), local=w.local,
                                                  progress=False), repeats)
    print(f"goal 2: one seed: reference {one_ref:.2f} s, batched {one_fast:.2f} s; {seeds} seeds: "
          f"reference loop {many_ref:.2f} s, batched {many_fast:.2f} s "
          f"({many_fast / one_ref:.2f}x one reference seed)")
    row(f"2 {seeds} seeds x {rounds} rounds, K=100: / one seed", "5x", f"{many_ref / one_ref:.2f}x",
        f"{many_fast / one_fast:.2f}x one batched seed ({many_fast / one_ref:.2f}x one reference seed)", "<= 2x",
        many_fast / one_fast <= 2)


def goal3(repeats: int) -> None:
    epoch, ref, fast = round_vs_epoch(cnn(), repeats)
    print(f"goal 3: centralized epoch {epoch:.2f} s, round: reference {ref:.2f} s, batched {fast:.2f} s")
    row("3 K=10 CNN: round / centralized epoch", "keep <= 1.1x", f"{ref / epoch:.2f}x", f"{fast / epoch:.2f}x",
        "<= 1.1x", min(ref, fast) / epoch <= 1.1)


def end_to_end(workload: str, engine: str, rounds: int, timeout: float) -> float | None:
    """Seconds per round of ``benchmarks/flower_sim.py`` (a fresh process, start-up included); None if it failed."""
    command = [sys.executable, str(HERE / "flower_sim.py"), workload, "--engine", engine, "--rounds", str(rounds)]
    process = subprocess.Popen(command, stdout=subprocess.PIPE, stderr=subprocess.STDOUT, text=True,
                               start_new_session=True)
    try:
        out, _ = process.communicate(timeout=timeout)
    except subprocess.TimeoutExpired:
        out = f"timed out after {timeout:.0f} s"
    finally:
        try:
            os.killpg(process.pid, 9)  # Ray's helper processes live in the same session
        except ProcessLookupError:
            pass
        process.wait()
    found = re.search(r"seconds=([\d.]+)", out)
    if not found:
        print(f"  {engine} on {workload} failed; last output:\n" + "\n".join(out.splitlines()[-8:]))
        return None
    return float(found.group(1)) / rounds


def goal4(rounds: int, timeout: float) -> None:
    for workload, label in (("cnn", "K=10 CNN"), ("table", "K=100 table")):
        ours = end_to_end(workload, "fedlite", rounds, timeout)
        flower = end_to_end(workload, "flower", rounds, timeout)
        show = lambda s: "failed" if s is None else f"{s:.2f} s/round"  # noqa: E731
        print(f"goal 4 ({label}, {rounds} rounds, start-up included): Flower {show(flower)}, fedlite {show(ours)}")
        ratio = None if ours is None or flower is None else flower / ours
        row(f"4 Flower / fedlite per round, {label}", "6-7x" if workload == "cnn" else "not measured",
            f"Flower {show(flower)}",
            f"fedlite {show(ours)} -> {'?' if ratio is None else f'{ratio:.1f}x'}", ">= 20x",
            None if ratio is None else ratio >= 20)


def goal5(timeout: float) -> None:
    if os.geteuid() != 0:
        row("5 notebooks in 1 CPU / 2 GB", "01 55.9 s, 03 57.5 s; 252 s", "not run (needs root)", "", "", None)
        return
    command = [sys.executable, str(HERE / "binder.py"), "--cpus", "1", "--memory-gb", "2", "--",
               sys.executable, str(HERE / "notebooks.py")]
    process = subprocess.Popen(command, stdout=subprocess.PIPE, text=True, start_new_session=True)
    try:
        out, _ = process.communicate(timeout=timeout)
    except subprocess.TimeoutExpired:
        process.terminate()            # binder.py removes its cgroup and kills the notebooks' kernels
        out, _ = process.communicate(timeout=60)
        out += f"\ntimed out after {timeout:.0f} s"
    print(out)
    row("5 notebooks in 1 CPU / 2 GB: slowest; course total", "01 55.9 s, 03 57.5 s; 252 s", "(no other path)",
        *binder_summary(out))


def binder_summary(out: str) -> tuple[str, str, bool]:
    """(figures, target, met) from the output of ``binder.py -- notebooks.py``: wall time, and CPU seconds
    (the kernel's; on a loaded machine the wall time also measures the other users)."""
    found = re.findall(r"notebooks/(\S+)\.ipynb\s+([\d.]+) s\s+\d+ MB\s+([\d.]+) s CPU", out)
    wall, cpu = {m[0]: float(m[1]) for m in found}, {m[0]: float(m[2]) for m in found}
    total = re.search(r"main sequence total\s+([\d.]+) s\s+([\d.]+) s CPU", out)
    ooms = re.search(r"out-of-memory kills: (\d+)", out)
    if not wall or total is None:
        return "no figures (see the output above)", "<= 60 s; <= 360 s", False
    slowest, slowest_cpu = max(wall, key=wall.get), max(cpu, key=cpu.get)
    failed = re.findall(r"notebooks/(\S+)\.ipynb\s+FAILED", out)
    met = not failed and max(wall.values()) <= 60 and float(total.group(1)) <= 360 and ooms is not None \
        and ooms.group(1) == "0"
    figures = (f"wall: {slowest} {wall[slowest]:.1f} s, course {float(total.group(1)):.0f} s; CPU: {slowest_cpu} "
               f"{cpu[slowest_cpu]:.1f} s, course {float(total.group(2)):.0f} s; OOM kills "
               f"{ooms.group(1) if ooms else '?'}" + (f"; FAILED {', '.join(failed)}" if failed else ""))
    return figures, "<= 60 s; <= 360 s", met


def main() -> int:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--repeats", type=int, default=5)
    parser.add_argument("--flower-rounds", type=int, default=3)
    parser.add_argument("--skip-flower", action="store_true")
    parser.add_argument("--goals", default="1,2,3,4", help="which of goals 1-4 to measure now (e.g. 4); the "
                        "others are listed as not run. Goal 5: --notebooks or --notebooks-from")
    parser.add_argument("--notebooks", action="store_true", help="goal 5 (needs root; several minutes)")
    parser.add_argument("--timeout", type=float, default=900, help="seconds allowed to each goal-4 run")
    parser.add_argument("--notebooks-from", type=Path, help="goal 5 from a saved output of "
                        "`binder.py --cpus 1 --memory-gb 2 -- python notebooks.py` instead of running it")
    parser.add_argument("--notebooks-timeout", type=float, default=2400, help="seconds allowed to goal 5")
    parser.add_argument("--clock", choices=["wall", "cpu"], default="wall",
                        help="goals 1-3: wall time, or this process's CPU time (use with --threads 1 on a busy "
                             "machine); goals 4-5 are always wall time")
    parser.add_argument("--threads", type=int, default=0, help="torch threads (0: fedlite's default)")
    args = parser.parse_args()
    global CLOCK
    CLOCK = time.process_time if args.clock == "cpu" else time.perf_counter
    if args.threads:
        torch.set_num_threads(args.threads)
    load = os.getloadavg()
    print(f"torch {torch.__version__}, {torch.get_num_threads()} threads, {os.cpu_count()} cores, {args.clock} clock, "
          f"load average {load[0]:.1f} / {load[1]:.1f} / {load[2]:.1f} (1 / 5 / 15 min)", flush=True)
    wanted = {int(g) for g in args.goals.split(",")} - ({4} if args.skip_flower else set())
    old = {1: "3.3x", 2: "5x", 3: "keep <= 1.1x", 4: "6-7x (CNN)"}
    for number, measure in ((1, goal1), (2, goal2), (3, goal3)):
        if number in wanted:
            measure(args.repeats)
        else:
            row(f"{number} (see --goals)", old[number], "not run this time", "", "", None)
    if 4 not in wanted:
        row("4 Flower / fedlite per round", old[4], "not run this time", "", ">= 20x", None)
    else:
        goal4(args.flower_rounds, args.timeout)
    if args.notebooks_from:
        row("5 notebooks in 1 CPU / 2 GB (read from a file)", "01 55.9 s, 03 57.5 s; 252 s",
            f"from {args.notebooks_from.name}", *binder_summary(args.notebooks_from.read_text()))
    elif args.notebooks:
        goal5(args.notebooks_timeout)
    else:
        row("5 notebooks in 1 CPU / 2 GB", "01 55.9 s, 03 57.5 s; 252 s", "not run: add --notebooks (root)", "",
            "<= 60 s; <= 360 s", None)
    widths = [max(len(r[i]) for r in ROWS + [("goal", "old (issue)", "reference path", "batched path", "target",
                                                "met?")]) for i in range(6)]
    header = ("goal", "old (issue)", "reference path", "batched path", "target", "met?")
    print()
    for r in [header, tuple("-" * w for w in widths), *ROWS]:
        print("  ".join(c.ljust(w) for c, w in zip(r, widths)))
    return 0


if __name__ == "__main__":
    sys.exit(main())
