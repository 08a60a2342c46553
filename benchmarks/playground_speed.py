"""Seconds per playground update (what a learner waits after moving one control), heart and X-ray.

    python benchmarks/playground_speed.py

The first picture of each dataset also computes the references (FedAvg, centralized, local only) and
is reported apart; each later update changes one knob (the references are cached, as in the dashboard).
Wall time depends on what else runs on the machine; CPU time of this process (one torch thread) is
printed beside it and is close to the wall time on an idle single CPU.
"""

from __future__ import annotations

import io
import sys
import time
from dataclasses import replace
from pathlib import Path

import torch

sys.path.insert(0, str(Path(__file__).resolve().parent.parent))
from fedlite import playground as pg  # noqa: E402

CHANGES = [{"algorithm": "FedProx"}, {"attack": "sign flip"}, {"aggregator": "median"},
           {"compression": "8-bit"}, {"noise_multiplier": 1.0}, {"lr": 0.1}]


def update(settings: pg.Settings) -> tuple[float, float]:
    """Wall and CPU seconds of one dashboard update: run, verdict, figure as PNG."""
    wall, cpu = time.perf_counter(), time.process_time()
    out = pg.play(settings)
    pg.verdict(out)
    fig = pg.figure(out)
    fig.savefig(io.BytesIO(), format="png", dpi=72)
    return time.perf_counter() - wall, time.process_time() - cpu


def main() -> int:
    torch.set_num_threads(1)
    for name, base in (("heart", pg.Settings()), ("xray", pg.Settings(**pg.XRAY))):
        pg.federation_for(base)
        first = update(base)
        times = [update(replace(base, **change)) for change in CHANGES]
        walls, cpus = [w for w, _ in times], [c for _, c in times]
        print(f"{name:5s} first picture {first[0]:5.2f} s wall ({first[1]:.2f} s CPU); one-knob update: "
              f"median {sorted(walls)[len(walls) // 2]:.2f} s wall, max {max(walls):.2f}; "
              f"median {sorted(cpus)[len(cpus) // 2]:.2f} s CPU, max {max(cpus):.2f}")
    return 0


if __name__ == "__main__":
    raise SystemExit(main())
