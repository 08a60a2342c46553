"""Offline fallback: synthetic twins of the course datasets, announced loudly.

On a machine with neither network nor cached files a lesson can still run on
a *synthetic twin*. It keeps what the lessons count -- shapes, classes, split
sizes, the real **label sequence** of every split (so every label-based
partition gives the real hospital sizes and class mixes), and for the heart
hospitals the real per-split mean and standard deviation of each continuous
feature (:mod:`fedlite.datasets.twin_facts`, measured on the official files by
``tools/twin_facts.py``) -- while images and feature rows are generated
deterministically from ``seed``, with class-dependent structure so models still
visibly learn. Nothing a model learns from it says anything about real
patients, so every use raises a :class:`SyntheticDataWarning` and shows a
banner, and the loaders flag it (``splits.synthetic``). ``FEDLITE_REQUIRE_REAL_DATA=1``
turns the fallback into an error.
"""

from __future__ import annotations

import base64
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


def pack_labels(y: np.ndarray) -> str:
    """Binary labels as text: packed bits, zlib-compressed, base64 (see :func:`unpack_labels`)."""
    y = np.asarray(y)
    if not np.isin(y, (0, 1)).all():
        raise ValueError("pack_labels stores binary labels only (0 or 1)")
    return base64.b64encode(zlib.compress(np.packbits(y.astype(np.uint8)).tobytes(), 9)).decode()


def unpack_labels(text: str, n: int) -> np.ndarray:
    """The ``n`` labels stored by :func:`pack_labels`, as ``int64``."""
    bits = np.frombuffer(zlib.decompress(base64.b64decode(text)), dtype=np.uint8)
    return np.unpackbits(bits, count=n).astype(np.int64)


def real_labels(key: str, counts: tuple[int, ...]) -> np.ndarray:
    """The real label sequence of split ``key`` (e.g. ``"breastmnist/train"``), checked against ``counts``."""
    from fedlite.datasets.twin_facts import LABELS

    y = unpack_labels(LABELS[key], sum(counts))
    if tuple(np.bincount(y, minlength=len(counts))) != tuple(counts):
        raise RuntimeError(f"twin_facts labels of {key} disagree with the catalog's class counts "
                           f"{counts}; regenerate them with tools/twin_facts.py")
    return y


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
    Split sizes, class counts and the order of the labels equal the real ones.
    """
    info = get_info(name)
    anatomy, pattern = _smooth(_rng(seed, name, "templates"), 2)
    splits = {}
    for split, counts in info.class_counts.items():
        rng = _rng(seed, name, split)
        y = real_labels(f"{name}/{split}", counts)
        sign = (2 * y - 1)[:, None, None]
        x = (0.5 + 0.12 * anatomy + 0.03 * sign * pattern + 0.12 * _smooth(rng, len(y))
             + 0.03 * rng.normal(size=(len(y), 28, 28)))
        splits[split] = make_data(np.clip(x, 0, 1)[:, None].astype(np.float32), y)
    return splits


# Continuous heart features: column in HEART_FEATURES, decimals kept, and the shift with disease
# in standard deviations (older, higher blood pressure and cholesterol, lower maximum heart rate,
# more ST depression), so a model still has something to learn.
HEART_CONTINUOUS_COLUMNS = {"age": 0, "trestbps": 2, "chol": 3, "thalach": 5, "oldpeak": 7}
_DECIMALS = {"age": 0, "trestbps": 0, "chol": 0, "thalach": 0, "oldpeak": 1}
_SHIFT = {"age": 0.6, "trestbps": 0.3, "chol": 0.2, "thalach": -1.0, "oldpeak": 1.25}
_HEART_BINARY = {"sex": (0.6, 0.2), "fbs": (0.12, 0.05), "exang": (0.15, 0.45)}  # P(1|y=0), shift
_CP = np.array([[0.10, 0.30, 0.35, 0.25], [0.05, 0.07, 0.13, 0.75]])  # P(cp = 1..4 | y)
_RESTECG = np.array([0.6, 0.2, 0.2])  # P(restecg = 0..2)


def synthetic_heart_disease(*, seed: int = 0) -> dict[str, dict[str, Data]]:
    """A synthetic twin of Fed-Heart-Disease: 4 hospitals, 13 raw features, same counts.

    Each hospital split keeps its real label sequence and, for every continuous
    feature, its real sum (so means, and federated means, are exact), its real
    standard deviation (up to rounding) and its real number of zeros -- e.g.
    cholesterol is 0 ("not recorded") throughout Switzerland and in 22 of VA's
    85 training rows, as in the real files. Given the label, disease shifts each
    continuous feature by a fixed number of standard deviations and raises
    exercise angina and asymptomatic chest pain (``cp = 4``). Columns follow
    :data:`fedlite.datasets.readers.HEART_FEATURES`.
    """
    from fedlite.datasets.twin_facts import HEART_CONTINUOUS

    info = get_info("heart_disease")
    out: dict[str, dict[str, Data]] = {}
    for hospital in HOSPITALS:
        out[hospital] = {}
        for split in ("train", "test"):
            key = f"{hospital}/{split}"
            rng = _rng(seed, "heart", hospital, split)
            y = real_labels(f"heart_disease/{key}", info.class_counts[key])
            out[hospital][split] = make_data(_heart_rows(rng, y, HEART_CONTINUOUS[key]), y)
    return out


def _with_moments(rng: np.random.Generator, signal: np.ndarray, total: float, std: float,
                  zeros: int, decimals: int) -> np.ndarray:
    """``signal`` plus noise, shaped to the real column: ``zeros`` rows exactly 0 (a value
    "not recorded", like cholesterol in Switzerland and VA), the others rescaled so the whole
    column has sum ``total`` and standard deviation ``std``, rounded to ``decimals``; then a
    few rows are nudged by one unit so that rounding does not change the sum."""
    n, unit = len(signal), 10.0 ** -decimals
    x = np.zeros(n)
    rest = np.sort(rng.permutation(n)[zeros:])  # the rows with a recorded value
    if len(rest):
        mean = total / len(rest)
        var = max((std ** 2 + (total / n) ** 2) * n / len(rest) - mean ** 2, 0.0)
        z = signal[rest] + rng.normal(size=len(rest))
        z = (z - z.mean()) / (z.std() or 1.0)
        x[rest] = np.round(mean + np.sqrt(var) * z, decimals)
        missing = int(round((total - x.sum()) / unit))  # a few units lost to rounding
        rows = rng.choice(rest, size=abs(missing), replace=abs(missing) > len(rest))
        np.add.at(x, rows, np.sign(missing) * unit)
    return np.round(x, decimals)


def _heart_rows(rng: np.random.Generator, y: np.ndarray,
                facts: dict[str, tuple[float, float, int]]) -> np.ndarray:
    cont = {k: _with_moments(rng, _SHIFT[k] * y, *facts[k], _DECIMALS[k])
            for k in HEART_CONTINUOUS_COLUMNS}
    binary = {k: (rng.random(len(y)) < p + d * y).astype(float)
              for k, (p, d) in _HEART_BINARY.items()}
    cp = np.array([rng.choice(4, p=_CP[c]) + 1 for c in y])
    restecg = rng.choice(3, size=len(y), p=_RESTECG)
    columns = [cont["age"], binary["sex"], cont["trestbps"], cont["chol"], binary["fbs"],
               cont["thalach"], binary["exang"], cont["oldpeak"],
               cp == 2, cp == 3, cp == 4, restecg == 1, restecg == 2]
    return np.column_stack(columns).astype(np.float64)
