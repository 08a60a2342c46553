"""Every notebook matches its text twin, was run top to bottom, and has the parts a chapter needs."""

import re
from pathlib import Path

import jupytext
import nbformat
import pytest

NOTEBOOKS = Path(__file__).resolve().parent.parent / "notebooks"
MAIN = sorted(NOTEBOOKS.glob("[0-9][0-9]*_*.ipynb"))
SOLUTIONS = sorted((NOTEBOOKS / "solutions").glob("*.ipynb"))
ALL = MAIN + SOLUTIONS
PLAYGROUND = NOTEBOOKS / "playground.ipynb"   # not a chapter (no number), but it has a twin like one


def number(ipynb: Path) -> str:
    """A notebook's number: the part of its name before the first underscore ("03a" for 03a_non_iid_hospitals)."""
    return ipynb.name.split("_")[0]


def test_notebook_numbers_are_two_digits_with_an_optional_part_letter():
    assert all(re.fullmatch(r"\d\d[a-z]?", number(p)) for p in ALL), [p.name for p in ALL]
    assert len({number(p) for p in MAIN}) == len(MAIN), "two notebooks share a number"


def twin_of(ipynb: Path) -> Path:
    return ipynb.parent / "text" / (ipynb.stem + ".py")


def test_there_are_notebooks_and_every_one_has_a_twin_and_vice_versa():
    assert MAIN, "no notebooks found"
    twins = sorted(NOTEBOOKS.glob("text/*.py")) + sorted(NOTEBOOKS.glob("solutions/text/*.py"))
    assert sorted(map(twin_of, ALL + [PLAYGROUND])) == sorted(twins)


@pytest.mark.parametrize("ipynb", ALL + [PLAYGROUND], ids=lambda p: p.name)
def test_notebook_cells_equal_its_text_twin(ipynb):
    stored = nbformat.read(ipynb, as_version=4)
    twin = jupytext.read(twin_of(ipynb))
    assert [(c.cell_type, c.source) for c in stored.cells] == [(c.cell_type, c.source) for c in twin.cells], \
        f"{ipynb.name} differs from {twin_of(ipynb).name}: run `make notebooks`"


@pytest.mark.parametrize("ipynb", ALL, ids=lambda p: p.name)
def test_outputs_come_from_one_clean_top_to_bottom_run(ipynb):
    cells = [c for c in nbformat.read(ipynb, as_version=4).cells if c.cell_type == "code"]
    assert [c.execution_count for c in cells] == list(range(1, len(cells) + 1)), "re-run with `make notebooks`"
    errors = [o for c in cells for o in c.outputs if o.output_type == "error"]
    assert not errors, f"stored error output: {errors[0].get('ename')}"


@pytest.mark.parametrize("ipynb", MAIN, ids=lambda p: p.name)
def test_each_chapter_has_goals_time_prerequisites_plot_exercises_recap(ipynb):
    nb = nbformat.read(ipynb, as_version=4)
    text = "\n".join(c.source for c in nb.cells if c.cell_type == "markdown")
    assert nb.cells[0].source.startswith(f"# {number(ipynb)} ·"), "first cell: '# NN · Title'"
    for part in ("In this notebook you will", "**Time:**", "**Prerequisites:**", "## Recap", "**Next:**"):
        assert part in text, f"missing {part!r}"
    images = [o for c in nb.cells if c.cell_type == "code" for o in c.outputs if "image/png" in o.get("data", {})]
    assert images, "no plot"
    exercises = [c for c in nb.cells if c.cell_type == "code" and re.search(r"= \.\.\.", c.source)
                 and "check_" in c.source]
    assert len(exercises) >= 2, "needs at least two auto-checked exercises left for the learner"
    assert (NOTEBOOKS / "solutions" / f"{number(ipynb)}_solutions.ipynb").exists(), "no solutions notebook"


@pytest.mark.parametrize("ipynb", SOLUTIONS, ids=lambda p: p.name)
def test_every_solution_check_is_verified_by_nbval_and_passed(ipynb):
    cells = [c for c in nbformat.read(ipynb, as_version=4).cells if c.cell_type == "code" and "check_" in c.source
             and "import" not in c.source]
    assert cells, "a solutions notebook must run the checks"
    for cell in cells:
        assert "# NBVAL_CHECK_OUTPUT" in cell.source, "check cells must be compared by nbval"
        printed = "".join(o.get("text", "") for o in cell.outputs)
        assert "✓" in printed and "✗" not in printed and "○" not in printed, printed
