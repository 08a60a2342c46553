"""The playground in a real browser: Run All, then move every control once (and pick a preset); after
each move the dashboard must finish a new run, its figure (rendered pixels) must change, and there must be
no error output and no widget errors. α, the algorithm and the attack must also change the verdict."""

from __future__ import annotations

import re
import time
from pathlib import Path

import pytest

import jlab  # tests/browser/jlab.py

pytestmark = pytest.mark.browser


def slug(name: str) -> str:
    return re.sub(r"\W+", "_", name)


def control(page, kind: str, label: str):
    if kind == "checkbox":  # its description is a span inside the clickable label
        return page.locator(".widget-checkbox", has_text=label).first
    return page.locator(f".widget-{kind}:has(label:text-is({label!r}))").first


def run_number(text: str) -> int:
    found = re.search(r"run (\d+) updated in", text)
    return int(found.group(1)) if found else 0


def wait_update(page, summary, verdict, before: int, timeout: float = 120) -> str:
    """Wait until the dashboard finished a run newer than run ``before`` (the status line names each run);
    fail at once if it reports a problem instead."""
    deadline = time.monotonic() + timeout
    while time.monotonic() < deadline:
        text = summary.inner_text()
        if run_number(text) > before and jlab.state(page).status == "idle":
            return text
        if "⚠" in verdict.inner_text():
            raise AssertionError(f"the playground reported a problem: {verdict.inner_text()}")
        time.sleep(0.3)
    raise TimeoutError(f"the playground did not finish run {before + 1} within {timeout} s "
                       f"(status line: {summary.inner_text()!r})")


def select(page, label: str, option: str):
    return lambda: control(page, "dropdown", label).locator("select").select_option(option)


def move(page, label: str, kind: str = "slider"):
    return lambda: jlab.move_control(control(page, kind, label))


def slide_down(page, label: str):
    def act() -> None:
        handle = control(page, "slider", label).locator(".noUi-handle").first
        handle.focus()
        handle.press("ArrowLeft")
    return act


def test_playground_every_control_changes_the_picture(lab, browser, screenshots: Path) -> None:
    page = browser.page
    jlab.open_notebook(page, lab, "notebooks/playground.ipynb")
    result = jlab.run_all(page, timeout=240)
    assert result.errors == [], result.errors
    image = page.locator(".widget-image").first
    verdict = page.locator(".widget-html", has_text="verdict:").first
    summary = page.locator(".widget-html", has_text="updated in").first
    image.scroll_into_view_if_needed()
    page.screenshot(path=screenshots / "playground_00_after_run_all.png", full_page=False)

    # every control of the dashboard once (each step names the control it moves), in an order where
    # every combination is one the course defines (DP noise is back to 0 before the aggregator moves)
    steps = [("data → X-rays", select(page, "data", "PneumoniaMNIST X-rays")),
             ("skew → label skew", select(page, "skew (X-ray)", "label skew")),
             ("α one step", move(page, "skew α")),
             ("algorithm → FedProx", select(page, "algorithm", "FedProx")),
             ("attack → sign flip", select(page, "hospital 0 attacks", "sign flip")),
             ("hospitals one step", move(page, "hospitals (X-ray)")),
             ("scanner shift on", move(page, "scanner shift (X-ray)", "checkbox")),
             ("local epochs one step", move(page, "local epochs E")),
             ("batch size → next", move(page, "batch size B", "dropdown")),
             ("learning rate one step", move(page, "learning rate η")),
             ("local momentum one step", move(page, "local momentum")),
             ("FedProx μ one step", move(page, "FedProx μ")),
             ("participation one step", move(page, "participation q")),
             ("dropout one step", move(page, "dropout p")),
             ("DP noise σ one step", move(page, "DP noise σ")),
             ("DP clip one step", move(page, "DP clip S")),
             ("DP δ → next", move(page, "DP δ", "dropdown")),
             ("DP noise σ back to 0", slide_down(page, "DP noise σ")),
             ("aggregator → median", select(page, "aggregator", "median")),
             ("compression → 8-bit", select(page, "compression", "8-bit")),
             ("rounds one step down", slide_down(page, "rounds T")),  # down: a shorter run keeps the pass fast
             ("seeds one step", move(page, "seeds")),
             ("preset → 06 attack", lambda: page.locator(".widget-dropdown:has(label:text-is('preset')) select")
              .select_option("06 · one hospital sign-flips, the median defends"))]
    seconds = {}
    for i, (name, act) in enumerate(steps, start=1):
        pixels, said, line = image.screenshot(), verdict.inner_text(), summary.inner_text()
        act()
        line = wait_update(page, summary, verdict, run_number(line))
        seconds[name] = float(re.search(r"updated in ([\d.]+) s", line).group(1))
        image.scroll_into_view_if_needed()
        page.screenshot(path=screenshots / f"playground_{i:02d}_{slug(name)}.png")
        assert image.screenshot() != pixels, f"{name}: the figure did not change"
        if name.startswith(("α", "algorithm", "attack")):  # these change the numbers the verdict reads
            assert verdict.inner_text() != said, f"{name}: the verdict did not change ({said!r})"
        if name == "DP noise σ one step":
            assert re.search(r"ε = \d", line), f"DP on, but no finite ε in {line!r}"
        print(f"playground: {name}: updated in {seconds[name]:.1f} s; {verdict.inner_text()}")
    assert "plain FedAvg" in verdict.inner_text()
    assert jlab.state(page).errors == []
    widget_errors = [e for e in browser.console_errors if re.search(r"widget|jupyter-widgets|ipywidgets", e, re.I)]
    assert widget_errors == [], widget_errors
