"""The playground's controls and views (ipywidgets), on top of :mod:`fedlite.playground`.

A change to any control re-runs :func:`fedlite.playground.play` and redraws every view together.
Runs happen in one background thread so the page stays live; a change made during a run **cancels**
it at the next seed and starts the newest settings (intermediate settings are skipped, never queued
one by one: dragging a slider through five values costs one run, not five). ipywidgets delivers each
change as a separate message, so without this a fast learner would wait for every stale picture.
The figure is a PNG in an ``Image`` widget, which a background thread may update safely.
"""

from __future__ import annotations

import io
import threading
import time
from dataclasses import fields, replace

import ipywidgets as w

from fedlite import playground as pg

_clock = time.perf_counter  # a name the tests can replace with a clock of their own


def _controls() -> dict[str, w.Widget]:
    slider = {"continuous_update": False, "style": {"description_width": "110px"}}
    pick = {"style": {"description_width": "110px"}}
    return {
        "data": w.Dropdown(options=[("heart-disease hospitals", "heart"), ("PneumoniaMNIST X-rays", "xray")],
                           description="data", **pick),
        "hospitals": w.IntSlider(4, 2, 20, description="hospitals (X-ray)", **slider),
        "skew": w.Dropdown(options=pg.SKEWS, description="skew (X-ray)", **pick),
        "alpha": w.FloatLogSlider(0.5, base=10, min=-2, max=2, step=0.1, description="skew α", **slider),
        "scanner": w.Checkbox(False, description="scanner shift (X-ray)", indent=False),
        "epochs": w.IntSlider(1, 1, 10, description="local epochs E", **slider),
        "batch_size": w.Dropdown(options=[("8", 8), ("16", 16), ("32", 32), ("64", 64), ("256 (full batch)", 256)], value=256,
                                 description="batch size B", **pick),
        "lr": w.FloatLogSlider(0.5, base=10, min=-3, max=0.5, step=0.1, description="learning rate η", **slider),
        "momentum": w.FloatSlider(0.0, min=0.0, max=0.9, step=0.1, description="local momentum", **slider),
        "algorithm": w.Dropdown(options=pg.ALGORITHMS, description="algorithm", **pick),
        "mu": w.FloatLogSlider(0.1, base=10, min=-3, max=1, step=0.25, description="FedProx μ", **slider),
        "participation": w.FloatSlider(1.0, min=0.25, max=1.0, step=0.25, description="participation q", **slider),
        "dropout": w.FloatSlider(0.0, min=0.0, max=0.8, step=0.1, description="dropout p", **slider),
        "noise_multiplier": w.FloatSlider(0.0, min=0.0, max=3.0, step=0.25, description="DP noise σ", **slider),
        "clip_norm": w.FloatLogSlider(0.1, base=10, min=-2, max=1, step=0.25, description="DP clip S", **slider),
        "delta": w.Dropdown(options=[("1e-3", 1e-3), ("1e-5", 1e-5), ("1e-7", 1e-7)], value=1e-5, description="DP δ", **pick),
        "attack": w.Dropdown(options=pg.ATTACKS, description="hospital 0 attacks", **pick),
        "aggregator": w.Dropdown(options=pg.AGGREGATORS, description="aggregator", **pick),
        "compression": w.Dropdown(options=pg.COMPRESSIONS, description="compression", **pick),
        "seeds": w.IntSlider(1, 1, 5, description="seeds", **slider),
        "rounds": w.IntSlider(20, 1, 40, description="rounds T", **slider),
    }


DATA_DEFAULTS = {"heart": {k: getattr(pg.Settings(), k) for k in ("batch_size", "lr", "momentum", "rounds")},
                 "xray": {k: v for k, v in pg.XRAY.items() if k != "data"}}
"""Switching the data switches local training to what suits it (full-batch logistic regression; SGD
with momentum on mini-batches for the X-ray MLP)."""

GROUPS = {"data": ("data", "hospitals", "skew", "alpha", "scanner"),
          "local training": ("epochs", "batch_size", "lr", "momentum", "algorithm", "mu"),
          "who shows up · privacy": ("participation", "dropout", "noise_multiplier", "clip_norm", "delta"),
          "attack · defence · bytes": ("attack", "aggregator", "compression", "seeds", "rounds")}


class Playground:
    """The dashboard: ``Playground().widget`` is what the notebook displays."""

    def __init__(self, settings: pg.Settings = pg.Settings()) -> None:
        self.controls = _controls()
        self.preset = w.Dropdown(options=["(choose a preset)", *pg.PRESETS], description="preset",
                                 style={"description_width": "110px"}, layout=w.Layout(width="480px"))
        self.progress = w.FloatProgress(0.0, min=0.0, max=1.0, description="idle", bar_style="success")
        self.image = w.Image(format="png", layout=w.Layout(width="100%"))
        self.verdict = w.HTML()
        self.summary = w.HTML()
        self.code = w.Textarea(layout=w.Layout(width="100%", height="90px"), description="copy as code")
        self.seconds = 0.0
        self.runs = 0  # finished runs: the status line names the latest, so every finish is a visible change
        self._wanted: pg.Settings | None = None
        self._wake = threading.Event()
        self._lock = threading.Lock()
        self.set(settings)
        for control in self.controls.values():
            control.observe(self._changed, names="value")
        self.preset.observe(self._preset, names="value")
        columns = [w.VBox([w.HTML(f"<b>{name}</b>"), *(self.controls[k] for k in keys)])
                   for name, keys in GROUPS.items()]
        wrap = w.Layout(flex_flow="row wrap")  # a narrow notebook puts columns below, instead of clipping them
        self.widget = w.VBox([self.preset, w.HBox(columns, layout=wrap), self.progress, self.verdict, self.summary,
                              self.image, self.code])
        threading.Thread(target=self._worker, daemon=True).start()

    # --- settings <-> controls ---------------------------------------------------------------
    def settings(self) -> pg.Settings:
        return pg.Settings(**{f.name: self.controls[f.name].value for f in fields(pg.Settings)})

    def set(self, settings: pg.Settings) -> None:
        """Show ``settings`` in the controls without starting a run per control."""
        self._quiet = True
        try:
            for f in fields(pg.Settings):
                self.controls[f.name].value = getattr(settings, f.name)
        finally:
            self._quiet = False

    def _preset(self, change: dict) -> None:
        if change["new"] in pg.PRESETS:
            self.set(pg.PRESETS[change["new"]])
            self._changed(None)

    def _changed(self, change: dict | None) -> None:
        if self._quiet:
            return
        if change is not None and change["owner"] is self.controls["data"]:
            # each dataset has its own sensible local training (as in the notebooks): switch to it
            self.set(replace(self.settings(), **DATA_DEFAULTS[change["new"]]))
        try:
            settings = self.settings()
        except ValueError as err:  # a combination the course does not define: say why, run nothing
            self.verdict.value = f"<span style='color:#b00'>⚠ {err}</span>"
            return
        with self._lock:
            self._wanted = settings
        self._wake.set()

    # --- running -----------------------------------------------------------------------------
    def _stale(self, settings: pg.Settings) -> bool:
        with self._lock:
            return self._wanted is not None and self._wanted != settings

    def _worker(self) -> None:
        while True:
            self._wake.wait()
            self._wake.clear()
            with self._lock:
                settings, self._wanted = self._wanted, None
            if settings is not None:
                try:
                    self.update(settings)
                except Exception as err:  # shown, not swallowed: the learner sees what went wrong
                    self.verdict.value = f"<span style='color:#b00'>⚠ {type(err).__name__}: {err}</span>"
                    self.progress.description, self.progress.bar_style = "failed", "danger"

    def update(self, settings: pg.Settings | None = None) -> pg.Outcome | None:
        """Run ``settings`` (default: the controls) and redraw; ``None`` if a newer change cancelled it."""
        settings = settings or self.settings()
        start = _clock()
        self.progress.description, self.progress.bar_style, self.progress.value = "running…", "info", 0.0
        outcomes = []
        for seed in range(settings.seeds):  # one seed at a time, so a newer change can cancel in between
            if self._stale(settings):
                self.progress.description = "cancelled"
                return None
            outcomes.append(pg.play(settings, seeds=[seed]))
            self.progress.value = (seed + 1) / settings.seeds
        out = pg.merge(outcomes)
        fig = pg.figure(out)
        buffer = io.BytesIO()
        fig.savefig(buffer, format="png", dpi=72)
        self.image.value = buffer.getvalue()
        self.verdict.value = f"<b>verdict:</b> {pg.verdict(out)}"
        self.seconds = _clock() - start
        self.runs += 1
        self.summary.value = f"{pg.summary(out)} · run {self.runs} updated in {self.seconds:.1f} s"
        self.code.value = pg.as_code(settings)
        self.progress.description, self.progress.bar_style = "done", "success"
        return out
