"""Estimate how long a learner needs for each notebook, from what is in it.

A learner reads the prose, reads and runs every code cell and looks at its output, solves the
exercises, and waits for the computer. So, per notebook,

    minutes = words / WORDS_PER_MINUTE            (markdown cells of the text twin)
            + code cells x CODE_CELL_MINUTES
            + exercises x EXERCISE_MINUTES        (code cells with `= ...` and a `check_` call)
            + run time in whole minutes, at least 1 (the stored notebook's cell timings)

rounded up to the next 5 minutes. The rates are stated below with their reasons. They were checked
against one learner's own clock on the first edition (issue 15: 02 took 60-75 min, 03 and 04 75-90,
05 50-60, 06 55-65): with these rates the old notebooks come out at 60, 75, 85, 80 and 60 minutes,
inside the learner's range except for 05, where the estimate is the more cautious figure, and the old
course at 8 h 20 against the learner's 7-8 h (the first edition claimed 4 h 35).

    python tools/estimate_times.py              # the table
    python tools/estimate_times.py --markdown   # the same, as the Markdown table of the instructor guide
    python tools/estimate_times.py --write      # put the figures into the headers, README and the guide

The time column of README.md and README.zh-CN.md, each notebook's "**Time:**" line and the instructor
guide's table must show these figures; ``tests/test_times.py`` checks that they do.
"""

from __future__ import annotations

import argparse
import math
import re
import sys
from dataclasses import dataclass
from datetime import datetime
from pathlib import Path

import jupytext
import nbformat

ROOT = Path(__file__).resolve().parent.parent
NOTEBOOKS = ROOT / "notebooks"

WORDS_PER_MINUTE = 110
"""Careful reading of technical prose with formulas and tables, by a learner who is new to the topic
(general reading runs at 200-250 words per minute; dense technical text at about half of that)."""
CODE_CELL_MINUTES = 1.0
"""Read a short cell, run it, and look at what it printed or drew."""
EXERCISE_MINUTES = 4.0
"""Think, write a few lines, read the checker's verdict, and try once more after a hint."""
ROUND_TO = 5
"""Estimates are rounded up to a multiple of this many minutes."""

EXERCISE = re.compile(r"= \.\.\.")

WORKSHOP = ["01", "02", "03a"]
"""The 3-hour workshop path (00 is done at home beforehand: it is the set-up check)."""
WORKSHOP_BREAK_MINUTES = 10
WORKSHOP_FRAME_MINUTES = 10
"""The welcome and the wrap-up, outside the notebooks: the path and its break must leave them room."""
WORKSHOP_MINUTES = 180


@dataclass(frozen=True)
class Estimate:
    """What a notebook contains and how long it takes, in minutes."""

    number: str
    name: str
    words: int
    code_cells: int
    exercises: int
    run_seconds: float

    @property
    def run_minutes(self) -> int:
        """Run time in whole minutes, at least 1 (a learner waits for every cell at least once)."""
        return max(1, round(self.run_seconds / 60))

    @property
    def minutes(self) -> int:
        raw = (self.words / WORDS_PER_MINUTE + self.code_cells * CODE_CELL_MINUTES
               + self.exercises * EXERCISE_MINUTES + self.run_minutes)
        return ROUND_TO * math.ceil(raw / ROUND_TO)


def main_notebooks(notebooks: Path = NOTEBOOKS) -> list[Path]:
    """The course notebooks in order (``00_start_here.ipynb`` ... ``07_where_next.ipynb``)."""
    found = sorted(notebooks.glob("[0-9][0-9]*_*.ipynb"))
    if not found:
        raise RuntimeError(f"no notebooks named NN_topic.ipynb in {notebooks}")
    return found


def run_seconds(ipynb: Path) -> float:
    """Sum of the code cells' execution times recorded in a stored notebook (nbclient's timings)."""
    total = 0.0
    for cell in nbformat.read(ipynb, as_version=4).cells:
        timing = cell.get("metadata", {}).get("execution", {})
        if cell.cell_type == "code" and "iopub.execute_input" in timing and "shell.execute_reply" in timing:
            start, end = (datetime.fromisoformat(timing[k].replace("Z", "+00:00"))
                          for k in ("iopub.execute_input", "shell.execute_reply"))
            total += (end - start).total_seconds()
    return total


def estimate(ipynb: Path) -> Estimate:
    """Count a notebook's words, code cells and exercises (from its text twin) and its run time."""
    twin = ipynb.parent / "text" / (ipynb.stem + ".py")
    if not twin.exists():
        raise RuntimeError(f"{ipynb.name} has no text twin {twin}; notebooks are built from their twins")
    cells = jupytext.read(twin).cells
    words = sum(len(c.source.split()) for c in cells if c.cell_type == "markdown")
    code = [c for c in cells if c.cell_type == "code"]
    exercises = sum(1 for c in code if EXERCISE.search(c.source) and "check_" in c.source)
    return Estimate(ipynb.name.split("_")[0], ipynb.name, words, len(code), exercises, run_seconds(ipynb))


def estimates(notebooks: Path = NOTEBOOKS) -> list[Estimate]:
    return [estimate(p) for p in main_notebooks(notebooks)]


def workshop_minutes(table: list[Estimate]) -> int:
    """The workshop path's notebooks plus the break."""
    by_number = {e.number: e for e in table}
    return sum(by_number[n].minutes for n in WORKSHOP) + WORKSHOP_BREAK_MINUTES


def as_markdown(table: list[Estimate]) -> str:
    rows = ["| notebook | words | code cells | exercises | run time | estimate |", "|---|---|---|---|---|---|"]
    rows += [f"| `{e.name}` | {e.words} | {e.code_cells} | {e.exercises} | {e.run_seconds:.0f} s | {e.minutes} min |"
             for e in table]
    total = sum(e.minutes for e in table)
    rows.append(f"| **all** | | | | | **{total} min ({total // 60} h {total % 60:02d})** |")
    return "\n".join(rows)


HEADER_TIME = re.compile(r"(\*\*Time:\*\* about )\d+( minutes)")
README_ROW = r"(^\| {number} \| \[.*?\| )\d+( min \|)"
GUIDE_TABLE = re.compile(r"(<!-- times:start -->\n)(?:.*?\n)?(<!-- times:end -->)", flags=re.S)


def write_figures(table: list[Estimate], root: Path = ROOT) -> list[Path]:
    """Put each estimate into the notebook's header (text twin and stored notebook: the first cell
    only, outputs untouched), the README's learning path and the instructor guide's table; return the
    files that changed."""
    changed = []

    def update(path: Path, new: str) -> None:
        if path.read_text(encoding="utf-8") != new:
            path.write_text(new, encoding="utf-8")
            changed.append(path)

    for e in table:
        ipynb = root / "notebooks" / e.name
        twin = ipynb.parent / "text" / (ipynb.stem + ".py")
        update(twin, HEADER_TIME.sub(rf"\g<1>{e.minutes}\g<2>", twin.read_text(encoding="utf-8"), count=1))
        nb = nbformat.read(ipynb, as_version=4)
        new_first = HEADER_TIME.sub(rf"\g<1>{e.minutes}\g<2>", nb.cells[0].source, count=1)
        if new_first != nb.cells[0].source:
            nb.cells[0].source = new_first
            nbformat.write(nb, ipynb)
            changed.append(ipynb)
    for readme in (root / "README.md", root / "README.zh-CN.md"):
        text = readme.read_text(encoding="utf-8")
        for e in table:
            text = re.sub(README_ROW.format(number=e.number), rf"\g<1>{e.minutes}\g<2>", text, flags=re.M)
        update(readme, text)
    guide = root / "docs" / "instructor_guide.md"
    text = guide.read_text(encoding="utf-8")
    if not GUIDE_TABLE.search(text):
        raise RuntimeError(f"{guide} needs the markers <!-- times:start --> and <!-- times:end -->")
    update(guide, GUIDE_TABLE.sub(lambda m: m.group(1) + as_markdown(table) + "\n" + m.group(2), text))
    return changed


def main() -> int:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--markdown", action="store_true", help="print the instructor guide's Markdown table")
    parser.add_argument("--write", action="store_true", help="put the figures into headers, README and guide")
    args = parser.parse_args()
    table = estimates()
    if args.write:
        for path in write_figures(table):
            print(f"updated {path.relative_to(ROOT)}")
    if args.markdown:
        print(as_markdown(table))
        return 0
    print(f"rates: {WORDS_PER_MINUTE} words/min, {CODE_CELL_MINUTES:g} min per code cell, "
          f"{EXERCISE_MINUTES:g} min per exercise, run time in whole minutes (at least 1); total rounded up to {ROUND_TO}")
    print(f"{'notebook':42s} {'words':>6s} {'cells':>6s} {'exerc.':>6s} {'run':>7s} {'minutes':>8s}")
    for e in table:
        print(f"{e.name:42s} {e.words:6d} {e.code_cells:6d} {e.exercises:6d} {e.run_seconds:6.0f}s {e.minutes:8d}")
    total = sum(e.minutes for e in table)
    print(f"{'all notebooks':42s} {'':27s} {total:8d}  ({total // 60} h {total % 60:02d})")
    workshop = workshop_minutes(table)
    fits = workshop + WORKSHOP_FRAME_MINUTES <= WORKSHOP_MINUTES
    print(f"workshop path {' -> '.join(WORKSHOP)} + {WORKSHOP_BREAK_MINUTES} min break: {workshop} min, "
          f"+ {WORKSHOP_FRAME_MINUTES} min welcome and wrap-up (fits in {WORKSHOP_MINUTES}: {'yes' if fits else 'NO'})")
    return 0


if __name__ == "__main__":
    sys.exit(main())
