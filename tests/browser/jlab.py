"""Driving a notebook in JupyterLab from Playwright: open it, Run All, wait, read errors, move widgets.

Run All goes through the menu bar, as a learner would; the kernel's state and the cells' outputs are
read from the notebook model that JupyterLab exposes (``window.jupyterapp``), which is exact where the
DOM is only a rendering.
"""

from __future__ import annotations

import hashlib
import time
from dataclasses import dataclass

CURRENT = "window.jupyterapp.shell.currentWidget"

STATE_JS = f"""(upto) => {{
  const w = {CURRENT};
  if (!w || !w.content || !w.content.model || !w.sessionContext) return null;
  const kernel = w.sessionContext.session && w.sessionContext.session.kernel;
  const cells = w.content.model.cells, errors = [];
  let pending = 0;
  const last = upto === null || upto === undefined ? cells.length - 1 : upto;
  for (let i = 0; i <= last; i++) {{
    const c = cells.get(i);
    if (c.type !== 'code') continue;
    if (c.executionCount === null) pending++;
    for (const o of c.outputs.toJSON()) {{
      if (o.output_type === 'error') errors.push(`cell ${{i}}: ${{o.ename}}: ${{o.evalue}}`);
      if (o.output_type === 'stream' && o.name === 'stderr' && /Traceback|Error/.test(String(o.text)))
        errors.push(`cell ${{i}} stderr: ${{String(o.text).slice(0, 300)}}`);
    }}
  }}
  return {{status: kernel ? kernel.status : 'none', pending, errors, path: w.context.path}};
}}"""


@dataclass
class NotebookState:
    status: str
    pending: int
    errors: list[str]
    path: str


def state(page, upto: int | None = None) -> NotebookState:
    """Kernel status, code cells not yet run, and error outputs (of cells ``0..upto``; all by default)."""
    raw = page.evaluate(STATE_JS, upto)
    if raw is None:
        raise RuntimeError("no notebook is open in JupyterLab")
    return NotebookState(**raw)


def wait_idle(page, timeout: float, *, settle: float = 1.0, upto: int | None = None) -> NotebookState:
    """Wait until the kernel is idle (for ``settle`` seconds in a row); fail after ``timeout`` seconds."""
    deadline, idle_since = time.monotonic() + timeout, None
    while time.monotonic() < deadline:
        s = state(page, upto)
        if s.status == "idle":
            idle_since = idle_since or time.monotonic()
            if time.monotonic() - idle_since >= settle:
                return s
        else:
            idle_since = None
        time.sleep(0.25)
    raise TimeoutError(f"kernel not idle after {timeout} s (last state: {state(page)})")


def open_notebook(page, lab, path: str, timeout: float = 90) -> NotebookState:
    """Open ``path`` (relative to the served folder) and wait for its kernel to be idle."""
    page.goto(lab.open_url(path))
    page.wait_for_function(f"() => window.jupyterapp && {CURRENT} && {CURRENT}.context "
                           f"&& {CURRENT}.context.path === {path!r} && {CURRENT}.sessionContext.session "
                           f"&& {CURRENT}.sessionContext.session.kernel", timeout=timeout * 1000)
    return wait_idle(page, timeout)


def menu(page, top: str, item: str) -> None:
    """Click ``top`` in the menu bar, then ``item`` in the menu it opens."""
    page.locator(".lm-MenuBar-itemLabel", has_text=top).first.click()
    page.locator(".lm-Menu-itemLabel").get_by_text(item, exact=True).click()


def run_all(page, timeout: float, *, upto: int | None = None) -> NotebookState:
    """Clear every output, then Run ▸ Run All Cells; wait until each code cell ran or one failed.

    With ``upto``, run only cells ``0..upto`` (Run ▸ Run All Above Selected Cell, then that cell):
    the widgets of a notebook need the cells above them, not the rest of the notebook.
    """
    menu(page, "Edit", "Clear Outputs of All Cells")
    if upto is None:
        menu(page, "Run", "Run All Cells")
    else:
        page.evaluate(f"(i) => {{ {CURRENT}.content.activeCellIndex = i; }}", upto)
        menu(page, "Run", "Run All Above Selected Cell")
        wait_idle(page, timeout, settle=2.0, upto=upto - 1)
        menu(page, "Run", "Run Selected Cell")
    deadline = time.monotonic() + timeout
    while True:
        s = wait_idle(page, max(1.0, deadline - time.monotonic()), settle=2.0, upto=upto)
        if s.pending == 0 or s.errors:
            return s
        if time.monotonic() > deadline:
            raise TimeoutError(f"Run All did not finish in {timeout} s: {s}")


def signature(locator) -> str:
    """A fingerprint of what an output shows: its text and the bytes of every image in it."""
    text = locator.inner_text()
    images = locator.locator("img").evaluate_all("els => els.map(e => e.src)")
    return hashlib.sha256("\n".join([text, *images]).encode()).hexdigest()


def wait_changed(page, locator, before: str, timeout: float) -> str:
    """Wait until the kernel is idle and ``locator`` shows something else than ``before``."""
    deadline = time.monotonic() + timeout
    while time.monotonic() < deadline:
        s = state(page)
        if s.status == "idle":
            after = signature(locator)
            if after != before:
                return after
        time.sleep(0.3)
    raise TimeoutError(f"output did not change within {timeout} s")


def move_control(control) -> str:
    """Change one ipywidgets control once (slider: one step by keyboard; dropdown: another option;
    checkbox: toggle). Returns a description of what was done."""
    kind = control.evaluate("e => e.className")
    if "widget-dropdown" in kind:
        select = control.locator("select")
        options = select.locator("option").all_inner_texts()
        current = select.evaluate("s => s.selectedIndex")
        target = (current + 1) % len(options)
        select.select_option(index=target)
        return f"dropdown -> {options[target]!r}"
    if "widget-checkbox" in kind:
        control.locator("input").click()
        return "checkbox toggled"
    if "widget-slider" in kind:
        readout = control.locator(".widget-readout")
        before = readout.inner_text()
        handle = control.locator(".noUi-handle").first
        handle.focus()
        handle.press("ArrowRight")
        if readout.inner_text() == before:  # at the maximum: step down instead
            handle.press("ArrowLeft")
        return f"slider {before} -> {readout.inner_text()}"
    raise ValueError(f"no way to move a control of class {kind!r}")


LAST_INTERACT_JS = f"""() => {{
  const cells = {CURRENT}.content.model.cells;
  let found = -1;
  for (let i = 0; i < cells.length; i++)
    if (cells.get(i).type === 'code' && /interact(_manual)?\\(/.test(cells.get(i).sharedModel.getSource())) found = i;
  return found;
}}"""


def last_interact_cell(page) -> int:
    """Index of the last code cell that calls ``interact``/``interact_manual`` (-1 if none)."""
    return page.evaluate(LAST_INTERACT_JS)


CONTROLS = ".widget-slider, .widget-dropdown, .widget-checkbox"
