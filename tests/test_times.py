"""The time each notebook claims is the one `tools/estimate_times.py` computes from its content, in every
place a learner or an instructor reads it: the notebook's header, the README's learning path and the
instructor guide; and the 3-hour workshop path fits in 3 hours."""

from __future__ import annotations

import importlib.util
import re
import sys
from pathlib import Path

import jupytext
import nbformat
import pytest

ROOT = Path(__file__).resolve().parent.parent
spec = importlib.util.spec_from_file_location("estimate_times", ROOT / "tools" / "estimate_times.py")
times = importlib.util.module_from_spec(spec)
sys.modules[spec.name] = times  # dataclasses look their module up there
spec.loader.exec_module(times)

TABLE = times.estimates()
MINUTES = {e.number: e.minutes for e in TABLE}
HEADER_TIME = re.compile(r"\*\*Time:\*\* about (\d+) minutes")


def test_the_formula_on_a_hand_counted_notebook(tmp_path):
    """220 words, 3 code cells (one an exercise), 90 s of run time:
    220/110 + 3*1 + 1*4 + round(1.5) = 2 + 3 + 4 + 2 = 11 -> rounded up to 15 minutes."""
    (tmp_path / "text").mkdir()
    words = " ".join(["word"] * 216)  # + "#", "09", "·", "Toy" = 220 words
    twin = (f"# %% [markdown]\n# # 09 · Toy\n# {words}\n\n# %%\nx = 1\n\n# %%\ny = 2\n\n"
            "# %%\nmy_answer = ...\ncheck_toy(my_answer)\n")
    (tmp_path / "text" / "09_toy.py").write_text(twin)
    nb = jupytext.reads(twin, fmt="py:percent")
    for i, cell in enumerate(c for c in nb.cells if c.cell_type == "code"):
        cell.metadata["execution"] = {"iopub.execute_input": f"2026-01-01T00:0{i}:00.000000Z",
                                      "shell.execute_reply": f"2026-01-01T00:0{i}:30.000000Z"}
    nbformat.write(nb, tmp_path / "09_toy.ipynb")
    [toy] = times.estimates(tmp_path)
    assert (toy.words, toy.code_cells, toy.exercises, toy.run_seconds) == (220, 3, 1, 90.0)
    assert toy.minutes == 15


def test_there_is_an_estimate_for_every_notebook():
    main = sorted((ROOT / "notebooks").glob("[0-9][0-9]*_*.ipynb"))
    assert [e.name for e in TABLE] == [p.name for p in main]
    assert all(e.minutes > 0 and e.words > 0 for e in TABLE)


@pytest.mark.parametrize("estimate", TABLE, ids=lambda e: e.number)
def test_each_notebook_header_states_its_estimate(estimate):
    twin = ROOT / "notebooks" / "text" / estimate.name.replace(".ipynb", ".py")
    header = jupytext.read(twin).cells[0].source
    found = HEADER_TIME.findall(header)
    assert found == [str(estimate.minutes)], \
        f"{twin.name}: header says {found}, tools/estimate_times.py says {estimate.minutes} minutes"


def test_readme_learning_path_states_every_estimate():
    rows = re.findall(r"^\| (\d\d[a-z]?) \| \[.*?\| (\d+) min \|", (ROOT / "README.md").read_text(), flags=re.M)
    assert dict(rows) == {k: str(v) for k, v in MINUTES.items()}


def test_instructor_guide_table_is_the_scripts_table():
    guide = (ROOT / "docs" / "instructor_guide.md").read_text()
    assert times.as_markdown(TABLE) in guide, "paste the output of `python tools/estimate_times.py --markdown`"


def test_the_workshop_path_fits_and_every_document_names_it():
    assert times.workshop_minutes(TABLE) + times.WORKSHOP_FRAME_MINUTES <= times.WORKSHOP_MINUTES, \
        "the path and its break must leave the welcome and the wrap-up their minutes"
    path = " → ".join(times.WORKSHOP)
    for doc in ("README.md", "README.zh-CN.md", "docs/instructor_guide.md"):
        if (ROOT / doc).exists():
            assert path in (ROOT / doc).read_text(), f"{doc} does not name the workshop path {path}"
