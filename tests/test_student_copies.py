"""`make student` writes clean copies of the notebooks, and the copies run with every exercise unsolved."""

from __future__ import annotations

import importlib.util
import re
from pathlib import Path

import nbformat
import pytest

ROOT = Path(__file__).resolve().parent.parent
spec = importlib.util.spec_from_file_location("student", ROOT / "tools" / "student.py")
student = importlib.util.module_from_spec(spec)
spec.loader.exec_module(student)

MAIN = sorted((ROOT / "notebooks").glob("[0-9][0-9]*_*.ipynb"))
EXERCISE = re.compile(r"= \.\.\.")


def is_exercise(cell: nbformat.NotebookNode) -> bool:
    return cell.cell_type == "code" and bool(EXERCISE.search(cell.source)) and "check_" in cell.source


def toy_notebook() -> nbformat.NotebookNode:
    nb = nbformat.v4.new_notebook()
    done = nbformat.v4.new_code_cell("# NBVAL_CHECK_OUTPUT\nx = 1\nprint(x)", execution_count=1)
    done.outputs = [nbformat.v4.new_output("stream", text="1\n")]
    answer = nbformat.v4.new_code_cell("answer = 42\ncheck(answer)", metadata={"tags": ["solution"]})
    nb.cells = [nbformat.v4.new_markdown_cell("# Title"), done,
                nbformat.v4.new_code_cell("answer = ...\ncheck(answer)"), answer]
    return nb


def test_a_copy_has_no_outputs_no_solution_cells_and_no_nbval_markers():
    copy = student.student_copy(toy_notebook())
    assert [c.source for c in copy.cells] == ["# Title", "x = 1\nprint(x)", "answer = ...\ncheck(answer)"]
    code = [c for c in copy.cells if c.cell_type == "code"]
    assert all(c.outputs == [] and c.execution_count is None for c in code)


def test_no_notebooks_is_a_clear_error(tmp_path):
    with pytest.raises(RuntimeError, match="no notebooks"):
        student.write_student_copies(tmp_path / "out", notebooks=tmp_path)


def test_every_main_notebook_gets_a_copy_that_keeps_its_exercises(tmp_path):
    written = student.write_student_copies(tmp_path)
    assert [p.name for p in written] == [p.name for p in MAIN]
    assert not list(tmp_path.glob("*solutions*")), "solutions are not handed out"
    for source, copy in zip(MAIN, written):
        original = nbformat.read(source, as_version=4)
        cleaned = nbformat.read(copy, as_version=4)
        assert [c.source.replace("# NBVAL_CHECK_OUTPUT\n", "") for c in original.cells] == \
               [c.source for c in cleaned.cells]
        assert sum(map(is_exercise, cleaned.cells)) >= 2
        assert not any(c.get("outputs") for c in cleaned.cells)


@pytest.mark.slow
def test_student_copies_run_top_to_bottom_and_every_check_says_not_yet(tmp_path):
    """Runs every copy in a fresh kernel, as a learner who solved nothing would (about 3 minutes)."""
    from nbclient import NotebookClient

    for path in student.write_student_copies(tmp_path):
        nb = nbformat.read(path, as_version=4)
        NotebookClient(nb, timeout=600, kernel_name="python3",
                       resources={"metadata": {"path": str(tmp_path)}}).execute()
        for cell in filter(is_exercise, nb.cells):
            printed = "".join(o.get("text", "") for o in cell.outputs)
            assert "not yet" in printed and "✓" not in printed, f"{path.name}: {cell.source!r} printed {printed!r}"
