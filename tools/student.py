"""Write clean student copies of the course notebooks (``make student``).

A student copy is a main notebook (``notebooks/NN_topic.ipynb``, or ``NNa_topic.ipynb`` for a part) with

- every output and execution count cleared, so learners see only what they run themselves;
- every cell tagged ``solution`` removed (an author may keep a worked answer inline while
  writing; the course keeps its worked answers in ``notebooks/solutions/`` instead);
- the ``# NBVAL_CHECK_OUTPUT`` markers (CI's business, not the learner's) dropped;
- everything else kept, in particular the exercise cells: ``my_answer = ...`` and the
  checker, which answers "not yet" until the learner replaces the ``...``.

The solutions notebooks are not copied. The copies go to ``student/`` (git-ignored: they are
generated, and ``tests/test_student_copies.py`` rebuilds and runs them, so a committed copy could
only go stale).

    python tools/student.py                 # -> student/
    python tools/student.py --out /tmp/s    # somewhere else
"""

from __future__ import annotations

import argparse
import sys
from pathlib import Path

import nbformat

ROOT = Path(__file__).resolve().parent.parent
NOTEBOOKS = ROOT / "notebooks"
MARKER = "# NBVAL_CHECK_OUTPUT"
SOLUTION_TAG = "solution"


def student_cell(cell: nbformat.NotebookNode) -> nbformat.NotebookNode | None:
    """The learner's version of one cell, or ``None`` if the cell is a solution."""
    if SOLUTION_TAG in cell.get("metadata", {}).get("tags", []):
        return None
    source = "\n".join(line for line in cell.source.split("\n") if line.strip() != MARKER)
    if cell.cell_type == "code":
        return nbformat.v4.new_code_cell(source)
    if cell.cell_type == "markdown":
        return nbformat.v4.new_markdown_cell(source)
    return nbformat.v4.new_raw_cell(source)


def student_copy(nb: nbformat.NotebookNode) -> nbformat.NotebookNode:
    """``nb`` without outputs, solution cells, NBVAL markers or cell metadata."""
    copy = nbformat.v4.new_notebook(metadata={k: v for k, v in nb.metadata.items()
                                              if k in ("kernelspec", "language_info")})
    copy.cells = [c for c in map(student_cell, nb.cells) if c is not None]
    return copy


def write_student_copies(out: Path, notebooks: Path = NOTEBOOKS) -> list[Path]:
    """Write a student copy of every main notebook in ``notebooks`` into ``out``; return their paths."""
    sources = sorted(notebooks.glob("[0-9][0-9]*_*.ipynb"))
    if not sources:
        raise RuntimeError(f"no notebooks named NN_topic.ipynb (or NNa_topic.ipynb) in {notebooks}")
    out.mkdir(parents=True, exist_ok=True)
    written = []
    for source in sources:
        target = out / source.name
        nbformat.write(student_copy(nbformat.read(source, as_version=4)), target)
        written.append(target)
    return written


def main() -> int:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--out", type=Path, default=ROOT / "student", help="folder for the copies")
    args = parser.parse_args()
    for path in write_student_copies(args.out):
        print(f"wrote {path}")
    return 0


if __name__ == "__main__":
    sys.exit(main())
