"""The course in a real browser: Run All on 00, and every interactive control of every widget notebook.

Each scenario saves screenshots to ``tests/browser/screenshots/`` (git-ignored) for a human to look at.
"""

from __future__ import annotations

import re
from pathlib import Path

import pytest

import jlab  # tests/browser/jlab.py (pytest puts this folder on sys.path)
REPO = Path(__file__).resolve().parents[2]

pytestmark = pytest.mark.browser


def widget_notebooks() -> list[str]:
    """Notebooks of the main sequence whose text twin uses ipywidgets (the playground has its own test)."""
    twins = sorted((REPO / "notebooks" / "text").glob("*.py"))
    return [t.stem for t in twins if "ipywidgets" in t.read_text() and t.stem != "playground"]


def test_start_here_runs_clean(lab, browser, screenshots: Path) -> None:
    page = browser.page
    jlab.open_notebook(page, lab, "notebooks/00_start_here.ipynb")
    result = jlab.run_all(page, timeout=120)
    page.screenshot(path=screenshots / "00_after_run_all.png")
    assert result.errors == [], result.errors
    assert result.pending == 0 and result.status == "idle"


@pytest.mark.parametrize("stem", widget_notebooks())
def test_every_control_changes_its_output(lab, browser, screenshots: Path, stem: str) -> None:
    page = browser.page
    jlab.open_notebook(page, lab, f"notebooks/{stem}.ipynb")
    upto = jlab.last_interact_cell(page)
    assert upto >= 0, f"{stem} imports ipywidgets but no cell calls interact"
    result = jlab.run_all(page, timeout=420, upto=upto)  # 02 runs ~60 s alone; a busy CI machine is slower
    assert result.errors == [], result.errors
    interacts = page.locator(".widget-interact")
    assert interacts.count() >= 1, f"{stem}: no interactive widget rendered"
    short = stem.split("_")[0]
    for i in range(interacts.count()):
        panel = interacts.nth(i)
        panel.scroll_into_view_if_needed()
        output = panel.locator(".widget-output").last
        button = panel.locator("button", has_text="Run Interact")
        controls = panel.locator(jlab.CONTROLS)
        if button.count():  # interact_manual shows nothing until the first click
            button.click()
            jlab.wait_idle(page, 120)
        panel.screenshot(path=screenshots / f"{short}_interact{i}_before.png")
        for j in range(controls.count()):
            before = jlab.signature(output)
            done = jlab.move_control(controls.nth(j))
            if button.count():
                button.click()
            jlab.wait_changed(page, output, before, timeout=120)
            label = re.sub(r"\W+", "_", controls.nth(j).inner_text().split("\n")[0])[:20]
            panel.screenshot(path=screenshots / f"{short}_interact{i}_{j}_{label}.png")
            print(f"{stem} interact {i} control {j}: {done}")
    assert jlab.state(page, upto).errors == []
    widget_errors = [e for e in browser.console_errors if re.search(r"widget|jupyter-widgets|ipywidgets", e, re.I)]
    assert widget_errors == [], widget_errors
