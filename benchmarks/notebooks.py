"""Run every notebook top to bottom; report wall time and the kernel's peak memory.

Each notebook is built from its text twin (``notebooks/**/text/NN_name.py``,
jupytext percent format) and executed in a fresh kernel, exactly as a learner
would run it. The peak resident memory (``ru_maxrss``) of the kernel process
is read by one extra cell at the end, which is not saved.

    python benchmarks/notebooks.py            # measure only, write nothing
    python benchmarks/notebooks.py --write    # also store the fresh .ipynb (make notebooks)
    python benchmarks/notebooks.py 01 02      # only notebooks whose name contains 01 or 02

Budgets (from the course standards): <= 60 s and <= 1.5 GB per notebook,
<= 6 min for the whole main sequence, on 2 CPU cores.
"""

from __future__ import annotations

import argparse
import os
import sys
import time
from pathlib import Path

import jupytext
import nbformat
from nbclient import NotebookClient
from nbclient.exceptions import CellExecutionError

ROOT = Path(__file__).resolve().parent.parent
NOTEBOOKS = ROOT / "notebooks"
KERNELSPEC = {"display_name": "Python 3 (ipykernel)", "language": "python", "name": "python3"}
# peak memory (kB) and CPU seconds of the kernel and its children: CPU time barely grows when other users
# load the machine, wall time does -- on a shared machine it is the steadier of the two figures
PEAK_CELL = ("import resource; s, c = resource.getrusage(resource.RUSAGE_SELF), "
             "resource.getrusage(resource.RUSAGE_CHILDREN); "
             "print(s.ru_maxrss, s.ru_utime + s.ru_stime + c.ru_utime + c.ru_stime)")
BUDGET_SECONDS, BUDGET_MB = 60, 1536


def text_twins() -> list[Path]:
    """All notebook text files: the main sequence first, then the solutions."""
    return sorted(NOTEBOOKS.glob("text/*.py")) + sorted(NOTEBOOKS.glob("solutions/text/*.py"))


def ipynb_for(text: Path) -> Path:
    return text.parent.parent / (text.stem + ".ipynb")


def build(text: Path) -> nbformat.NotebookNode:
    """The notebook as the text twin defines it, with the course's kernel."""
    nb = jupytext.read(text)
    nb.metadata = {"kernelspec": KERNELSPEC, "language_info": {"name": "python"}}
    return nb


def execute(nb: nbformat.NotebookNode, cwd: Path) -> tuple[float, float, float]:
    """Run ``nb`` in place in a fresh kernel; return (wall seconds, peak kernel memory in MB, kernel CPU seconds)."""
    nb.cells.append(nbformat.v4.new_code_cell(PEAK_CELL))
    client = NotebookClient(nb, timeout=900, kernel_name="python3", resources={"metadata": {"path": str(cwd)}})
    start = time.perf_counter()
    try:
        client.execute()
    finally:
        seconds = time.perf_counter() - start
        last = nb.cells.pop()
    printed = "".join(o.get("text", "") for o in last.get("outputs", []) if o.get("name") == "stdout").split()
    peak_kb, cpu = map(float, printed[-2:]) if len(printed) >= 2 else (float("nan"),) * 2
    return seconds, peak_kb / 1024, cpu


def main() -> int:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--write", action="store_true", help="save the executed notebooks")
    parser.add_argument("only", nargs="*", help="substrings of notebook names to run")
    args = parser.parse_args()
    if args.write:  # stored outputs must come from the real data, never the synthetic fallback
        os.environ["FEDLITE_REQUIRE_REAL_DATA"] = "1"
    texts = [t for t in text_twins() if not args.only or any(s in t.stem for s in args.only)]
    rows, total, cpu_total, failed = [], 0.0, 0.0, []
    for text in texts:
        target = ipynb_for(text)
        nb = build(text)
        try:
            seconds, peak_mb, cpu = execute(nb, target.parent)
        except CellExecutionError as err:  # report it and go on: one broken notebook must not hide the others
            failed.append(target.name)
            print(f"{target.relative_to(ROOT)!s:48s} FAILED: {str(err).strip().splitlines()[-1][:200]}", flush=True)
            continue
        if "solutions" not in text.parts:
            total, cpu_total = total + seconds, cpu_total + cpu
        if args.write:
            nbformat.write(nb, target)
        flag = "" if seconds <= BUDGET_SECONDS and peak_mb <= BUDGET_MB else "  OVER BUDGET"
        rows.append(f"{target.relative_to(ROOT)!s:48s} {seconds:7.1f} s {peak_mb:8.0f} MB {cpu:7.1f} s CPU{flag}")
        print(rows[-1], flush=True)
    note = f"  (without failed {', '.join(failed)})" if failed else ""
    print(f"{'main sequence total':48s} {total:7.1f} s {'':11s} {cpu_total:7.1f} s CPU{note}")
    return 1 if failed else 0


if __name__ == "__main__":
    sys.exit(main())
