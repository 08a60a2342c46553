"""Notebook 00's picture shows the course's five hospitals, and its set-up check extrapolates the course's
computing time from one timed round (issue 15 §7)."""

from __future__ import annotations

from pathlib import Path

import jupytext
import matplotlib

matplotlib.use("Agg")

from fedlite import plots  # noqa: E402

ROOT = Path(__file__).resolve().parent.parent


def test_the_federation_diagram_draws_five_hospitals_by_default():
    ax = plots.federation_diagram()
    boxes = [t.get_text() for t in ax.texts if "patient data stays" in t.get_text()]
    assert [b.split("\n")[0] for b in boxes] == [f"Hospital {c}" for c in "ABCDE"]


def test_the_diagram_takes_any_number_of_hospitals():
    ax = plots.federation_diagram(["Cleveland", "Hungarian", "Switzerland", "VA"])
    assert sum("patient data stays" in t.get_text() for t in ax.texts) == 4


def test_notebook_00_times_a_round_and_extrapolates_the_course():
    code = "\n".join(c.source for c in jupytext.read(ROOT / "notebooks" / "text" / "00_start_here.py").cells
                     if c.cell_type == "code")
    assert "one_round()" in code and "REFERENCE_COURSE_SECONDS / speed" in code
