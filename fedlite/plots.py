"""The course's recurring pictures: learning curves, partition heat-maps, client sizes.

Each function draws on a Matplotlib ``Axes`` (a new one if none is given) and
returns it, so notebooks can combine, label and restyle them.
"""

from __future__ import annotations

from collections.abc import Sequence

import matplotlib.pyplot as plt
import numpy as np
from matplotlib.axes import Axes

from fedlite.history import History


def _axes(ax: Axes | None, size: tuple[float, float] = (6, 3.5)) -> Axes:
    return ax if ax is not None else plt.subplots(figsize=size, layout="constrained")[1]


def learning_curves(histories: Sequence[History], key: str = "accuracy", *,
                    ax: Axes | None = None, target: float | None = None,
                    target_label: str | None = None) -> Axes:
    """Global test ``key`` per round for several runs on one axis (optional dashed target line)."""
    ax = _axes(ax)
    for h in histories:
        ax.plot([r.round for r in h.rounds], h.metric(key), marker="o", markersize=3, label=h.name)
    label = target_label or (f"target {target:g}" if target is not None else None)
    return _per_round_axes(ax, f"test {key}", target, label)


def _per_round_axes(ax: Axes, ylabel: str, line: float | None, line_label: str | None) -> Axes:
    """Finish a per-round plot: an optional dashed reference line, labels, grid, legend."""
    if line is not None:
        ax.axhline(line, color="grey", linestyle="--", linewidth=1, label=line_label)
    ax.set_xlabel("round (epoch for non-federated runs)")
    ax.set_ylabel(ylabel)
    ax.grid(alpha=0.3)
    ax.legend(fontsize="small")
    return ax


def partition_heatmap(counts: np.ndarray, *, class_names: Sequence[str] | None = None,
                      ax: Axes | None = None, title: str = "") -> Axes:
    """Heat-map of a clients x classes count table (from ``partition.label_counts``)."""
    counts = np.asarray(counts)
    ax = _axes(ax, (1.2 + 0.9 * counts.shape[1], 0.8 + 0.35 * counts.shape[0]))
    image = ax.imshow(counts, cmap="Blues", aspect="auto")
    for (k, c), value in np.ndenumerate(counts):
        ax.text(c, k, str(value), ha="center", va="center", fontsize=8,
                color="white" if value > counts.max() / 2 else "black")
    ax.set_xticks(range(counts.shape[1]), class_names or range(counts.shape[1]))
    ax.set_yticks(range(counts.shape[0]), [f"client {k}" for k in range(counts.shape[0])])
    ax.set_xlabel("class")
    ax.set_title(title)
    plt.colorbar(image, ax=ax, label="samples")
    return ax


def client_sizes(sizes: Sequence[int], *, labels: Sequence[str] | None = None,
                 ax: Axes | None = None, title: str = "") -> Axes:
    """Bar chart of how many samples each client holds."""
    ax = _axes(ax)
    names = list(labels) if labels is not None else [str(k) for k in range(len(sizes))]
    ax.bar(names, sizes, color="tab:blue")
    ax.set_ylabel("samples")
    ax.set_title(title)
    ax.grid(axis="y", alpha=0.3)
    return ax


def client_bars(values: dict[str, Sequence[float]], *, client_names: Sequence[str],
                ax: Axes | None = None, ylabel: str = "accuracy") -> Axes:
    """Grouped bars: one group per client, one bar per setting (e.g. local-only vs FedAvg)."""
    ax = _axes(ax)
    width = 0.8 / len(values)
    x = np.arange(len(client_names))
    for i, (setting, numbers) in enumerate(values.items()):
        ax.bar(x + (i - (len(values) - 1) / 2) * width, numbers, width, label=setting)
    ax.set_xticks(x, client_names)
    ax.set_ylabel(ylabel)
    ax.grid(axis="y", alpha=0.3)
    ax.legend(fontsize="small")
    return ax


def federation_diagram(hospitals: Sequence[str] = ("Hospital A", "Hospital B", "Hospital C", "Hospital D",
                                                   "Hospital E"),
                       *, ax: Axes | None = None) -> Axes:
    """The picture behind FL: one server, several hospitals (the course's five by default); weights
    travel, patient data stays put."""
    ax = _axes(ax, (1.6 * len(hospitals) + 1, 3.6))
    ax.set_xlim(0, 10)
    ax.set_ylim(0, 6)
    ax.axis("off")
    box = {"boxstyle": "round,pad=0.4", "linewidth": 1.2}
    ax.text(5, 5.2, "server\n(aggregates: w = Σ n_k/n · w_k)", ha="center", va="center",
            bbox={**box, "facecolor": "#fde9c8"})
    xs = np.linspace(1.3, 8.7, len(hospitals))
    for x, name in zip(xs, hospitals):
        ax.text(x, 1.0, f"{name}\npatient data stays", ha="center", va="center", fontsize=8,
                bbox={**box, "facecolor": "#dbe9f6"})
        ax.annotate("", xy=(x - 0.15, 1.7), xytext=(5 - 0.15, 4.6),
                    arrowprops={"arrowstyle": "->", "color": "tab:blue", "linewidth": 1.2})
        ax.annotate("", xy=(5 + 0.15, 4.6), xytext=(x + 0.15, 1.7),
                    arrowprops={"arrowstyle": "->", "color": "tab:orange", "linewidth": 1.2})
    ax.text(0.1, 3.3, "global model w ↓", color="tab:blue", fontsize=9)
    ax.text(7.4, 3.3, "updated w_k ↑", color="tab:orange", fontsize=9)
    return ax


def image_grid(rows: dict[str, Sequence[np.ndarray]], *, captions: dict[str, Sequence[str]] | None = None,
               size: float = 1.35) -> plt.Figure:
    """Grayscale images in ``[0, 1]``, one labelled row per entry of ``rows`` (e.g. originals vs
    reconstructions); ``captions[row]`` puts a short text under each image (e.g. its PSNR).

    Images may be arrays or tensors of shape ``(H, W)`` or ``(1, H, W)``; rows may differ in length.
    """
    width = max(len(images) for images in rows.values())
    fig, axes = plt.subplots(len(rows), width, figsize=(0.3 + size * width, 0.25 + 1.25 * size * len(rows)),
                             layout="constrained", squeeze=False)
    for r, (name, images) in enumerate(rows.items()):
        for c, ax in enumerate(axes[r]):
            ax.set_xticks([])
            ax.set_yticks([])
            if c >= len(images):
                ax.axis("off")
                continue
            ax.imshow(np.asarray(images[c]).squeeze(), cmap="gray", vmin=0, vmax=1)
            if captions and name in captions:
                ax.set_xlabel(captions[name][c], fontsize=8)
        axes[r, 0].set_ylabel(name, fontsize=9)
    return fig


def mean_band(runs: Sequence, key: str = "auc", *, ax: Axes | None = None, level: float = 0.95,
              baseline: float | None = None, baseline_label: str | None = None) -> Axes:
    """Mean over seeds (line) and its ``level`` t interval (shaded band) per round, one colour per method.

    ``runs`` are :class:`fedlite.evidence.Repeated` results. Where two bands overlap, the picture alone
    cannot rank the methods: use :func:`fedlite.evidence.paired_difference` on the final round.
    """
    ax = _axes(ax)
    for r in runs:
        mean, low, high = r.band(key, level)
        x = np.arange(1, len(mean) + 1)
        (line,) = ax.plot(x, mean, marker="o", markersize=3, label=f"{r.name} ({len(r.seeds)} seeds)")
        ax.fill_between(x, low, high, color=line.get_color(), alpha=0.2, linewidth=0)
    label = baseline_label or (f"{baseline:g}" if baseline is not None else None)
    return _per_round_axes(ax, f"test {key} (mean, {level:.0%} interval)", baseline, label)
