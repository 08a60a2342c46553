"""Offline fallback: synthetic twins of the course datasets, announced loudly.

On a machine with neither network nor cached files a lesson can still run on
a *synthetic twin*: same shapes, classes, split sizes, class counts and
hospital structure as the real data (taken from :mod:`fedlite.datasets.catalog`),
generated deterministically from ``seed``, with class-dependent structure so
models still visibly learn. Nothing computed on it says anything about real
patients, so every use raises a :class:`SyntheticDataWarning` and shows a
banner. ``FEDLITE_REQUIRE_REAL_DATA=1`` turns the fallback into an error.
"""

from __future__ import annotations

import os
import sys
import warnings
import zlib

import numpy as np

from fedlite.datasets.catalog import HOSPITALS, get_info
from fedlite.data import Data, make_data

GET_REAL_DATA = ("Get the real files with `make data` or `python -m fedlite.datasets fetch all` "
                 "(needs internet once), or point FEDLITE_DATA at a folder that holds them.")


class SyntheticDataWarning(UserWarning):
    """The data just loaded is synthetic, not the real dataset."""


def require_real_data() -> bool:
    """True if ``$FEDLITE_REQUIRE_REAL_DATA`` is ``1``/``true``/``yes``: no fallback allowed."""
    return os.environ.get("FEDLITE_REQUIRE_REAL_DATA", "").strip().lower() in {"1", "true", "yes"}


def announce_synthetic(name: str, reason: str) -> None:
    """Warn (``SyntheticDataWarning``) and show a banner: notebook HTML box or stderr."""
    message = (f"SYNTHETIC DATA - NOT REAL: the {name!r} files are not available, so fedlite "
               f"generated a synthetic twin with the same shapes, classes and split sizes. "
               f"No number computed from it says anything about real patients. {GET_REAL_DATA}")
    warnings.warn(f"{message} Reason: {reason}", SyntheticDataWarning, stacklevel=3)
    _show_banner(message)


def _show_banner(message: str) -> None:
    try:
        from IPython import get_ipython
        shell = get_ipython()
    except ImportError:
        shell = None
    if shell is None:
        line = "!" * 78
        print(f"\n{line}\n{message}\n{line}\n", file=sys.stderr)
        return
    from IPython.display import display
    html = ('<div style="border:3px solid #d9480f;background:#fff4e6;color:#c92a2a;'
            f'padding:10px;font-weight:bold">&#9888; {message}</div>')
    display({"text/html": html, "text/plain": message}, raw=True)


def _rng(*keys: int | str) -> np.random.Generator:
    """A generator seeded by ``keys`` (strings hashed with CRC32, stable across runs)."""
    ints = [zlib.crc32(k.encode()) if isinstance(k, str) else int(k) for k in keys]
    return np.random.default_rng(ints)


def _labels(rng: np.random.Generator, counts: tuple[int, ...]) -> np.ndarray:
    """Exactly ``counts[c]`` samples of class ``c``, in random order."""
    return rng.permutation(np.repeat(np.arange(len(counts)), counts))


def _smooth(rng: np.random.Generator, n: int, size: int = 28, coarse: int = 7) -> np.ndarray:
    """``n`` smooth random ``size x size`` fields with zero mean and unit std."""
    cells = rng.normal(size=(n, coarse, coarse))
    field = cells.repeat(size // coarse, axis=1).repeat(size // coarse, axis=2)
    for axis in (1, 2):  # 5-pixel moving average along rows, then columns
        padded = np.pad(field, [(0, 0)] + [(2, 2) if a == axis else (0, 0) for a in (1, 2)],
                        mode="edge")
        field = np.lib.stride_tricks.sliding_window_view(padded, 5, axis=axis).mean(-1)
    return (field - field.mean()) / field.std()


def synthetic_medmnist(name: str, *, seed: int = 0) -> dict[str, Data]:
    """A synthetic twin of a MedMNIST dataset: ``(N, 1, 28, 28)`` images in ``[0, 1]``.

    Image = shared anatomy + class pattern + per-image smooth noise + pixel noise::

        x = clip(0.5 + 0.12 a + 0.03 (2y - 1) p + 0.12 e + 0.03 z, 0, 1)

    with fixed smooth fields ``a`` (anatomy) and ``p`` (what separates the two
    classes), a smooth random field ``e`` and white noise ``z`` per image.
    Split sizes and class counts equal the real ones.
    """
    info = get_info(name)
    anatomy, pattern = _smooth(_rng(seed, name, "templates"), 2)
    splits = {}
    for split, counts in info.class_counts.items():
        rng = _rng(seed, name, split)
        y = _labels(rng, counts)
        sign = (2 * y - 1)[:, None, None]
        x = (0.5 + 0.12 * anatomy + 0.03 * sign * pattern + 0.12 * _smooth(rng, len(y))
             + 0.03 * rng.normal(size=(len(y), 28, 28)))
        splits[split] = make_data(np.clip(x, 0, 1)[:, None].astype(np.float32), y)
    return splits


# Per feature: (mean without disease, shift with disease, std, hospital spread).
_HEART_CONTINUOUS = {"age": (50, 5, 8, 3), "trestbps": (130, 5, 17, 5), "chol": (235, 10, 50, 25),
                     "thalach": (150, -20, 20, 8), "oldpeak": (0.4, 1.0, 0.8, 0.2)}
_HEART_BINARY = {"sex": (0.6, 0.2), "fbs": (0.12, 0.05), "exang": (0.15, 0.45)}  # P(1|y=0), shift
_CP = np.array([[0.10, 0.30, 0.35, 0.25], [0.05, 0.07, 0.13, 0.75]])  # P(cp = 1..4 | y)
_RESTECG = np.array([0.6, 0.2, 0.2])  # P(restecg = 0..2)


def synthetic_heart_disease(*, seed: int = 0) -> dict[str, dict[str, Data]]:
    """A synthetic twin of Fed-Heart-Disease: 4 hospitals, 13 raw features, same counts.

    Features are drawn given the label (disease raises age, ST depression
    ``oldpeak``, exercise angina and asymptomatic chest pain ``cp = 4``,
    lowers max heart rate ``thalach``), plus a per-hospital offset so the
    hospitals differ, in the column order of :data:`fedlite.datasets.readers.HEART_FEATURES`.
    """
    info = get_info("heart_disease")
    out: dict[str, dict[str, Data]] = {}
    for h, hospital in enumerate(HOSPITALS):
        offsets = _rng(seed, "heart", hospital).normal(size=len(_HEART_CONTINUOUS))
        out[hospital] = {}
        for split in ("train", "test"):
            rng = _rng(seed, "heart", hospital, split)
            y = _labels(rng, info.class_counts[f"{hospital}/{split}"])
            out[hospital][split] = make_data(_heart_rows(rng, y, offsets), y)
    return out


def _heart_rows(rng: np.random.Generator, y: np.ndarray, offsets: np.ndarray) -> np.ndarray:
    cont = {k: np.maximum(0, rng.normal(m + d * y + s * o, sd))
            for (k, (m, d, sd, s)), o in zip(_HEART_CONTINUOUS.items(), offsets)}
    binary = {k: (rng.random(len(y)) < p + d * y).astype(float)
              for k, (p, d) in _HEART_BINARY.items()}
    cp = np.array([rng.choice(4, p=_CP[c]) + 1 for c in y])
    restecg = rng.choice(3, size=len(y), p=_RESTECG)
    columns = [cont["age"].round(), binary["sex"], cont["trestbps"].round(), cont["chol"].round(),
               binary["fbs"], cont["thalach"].round(), binary["exang"], cont["oldpeak"].round(1),
               cp == 2, cp == 3, cp == 4, restecg == 1, restecg == 2]
    return np.column_stack(columns).astype(np.float64)
