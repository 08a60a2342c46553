"""Store one small picture per playground preset, for readers whose viewer cannot run widgets.

    python tools/playground_gallery.py      # writes notebooks/playground_presets/<id>.png (needs the real data)

Notebook ``playground`` shows them in a grid; rerun this after changing a preset or the figure.
"""

from __future__ import annotations

import sys
from pathlib import Path

ROOT = Path(__file__).resolve().parent.parent
sys.path.insert(0, str(ROOT))
from fedlite import playground  # noqa: E402

OUT = ROOT / "notebooks" / "playground_presets"
FILES = ["01", "02", "03a", "03b", "04a", "04b", "05", "06a", "06b", "07"]  # one per preset, in PRESETS order


def main() -> int:
    OUT.mkdir(parents=True, exist_ok=True)
    for name, (title, settings) in zip(FILES, playground.PRESETS.items(), strict=True):
        outcome = playground.play(settings)
        fig = playground.figure(outcome)
        fig.suptitle(f"{title}\n{playground.verdict(outcome)}", fontsize=9)
        fig.savefig(OUT / f"{name}.png", dpi=55)
        print(f"{name}.png  {title}")
    return 0


if __name__ == "__main__":
    raise SystemExit(main())
