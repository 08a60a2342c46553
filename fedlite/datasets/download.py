"""Find, download and checksum-verify the dataset files.

Where files live
    ``$FEDLITE_DATA`` if set, else the repository's ``data/`` folder. Inside it
    each dataset has a subfolder (``medmnist/``, ``uci_heart_disease/``), the
    same layout as the course's read-only reference copy, so
    ``FEDLITE_DATA=/path/to/shared/data`` (or a USB stick) just works.

Where files come from
    The publisher's URL, or a mirror: ``base_url`` / ``$FEDLITE_MIRROR`` is a
    folder URL laid out like the data directory, e.g. a workshop LAN server
    started with ``python -m http.server`` inside a data directory.

Safety
    Every file is checked against its official MD5. A download goes to a
    temporary file in the same folder, is hashed, ``fsync``-ed and only then
    moved into place with ``os.replace`` (atomic on one file system). On any
    failure the temporary file is removed, so a half-written file can never
    pass for a real one.
"""

from __future__ import annotations

import contextlib
import hashlib
import http.client
import os
import tempfile
import urllib.error
import urllib.request
from pathlib import Path
from typing import BinaryIO

from tqdm.auto import tqdm

from fedlite.datasets.catalog import DatasetInfo, FileSpec, get_info

TIMEOUT = 30.0  # seconds without data before a download gives up
CHUNK = 1 << 16


class DataNotAvailable(RuntimeError):
    """A dataset file is neither cached nor downloadable (e.g. offline)."""


class ChecksumError(RuntimeError):
    """A file's MD5 differs from the official one (corrupt or tampered file)."""


def data_dir() -> Path:
    """The data directory: ``$FEDLITE_DATA`` if set, else ``<repo>/data``."""
    env = os.environ.get("FEDLITE_DATA", "").strip()
    if env:
        return Path(env).expanduser()
    return Path(__file__).resolve().parent.parent / "data"


def file_path(info: DatasetInfo, spec: FileSpec) -> Path:
    """Where ``spec`` of dataset ``info`` lives, e.g. ``<data_dir>/medmnist/breastmnist.npz``."""
    return data_dir() / info.subdir / spec.name


def md5sum(path: Path) -> str:
    """Hex MD5 digest of a file, read in chunks."""
    digest = hashlib.md5()
    with open(path, "rb") as f:
        for block in iter(lambda: f.read(CHUNK), b""):
            digest.update(block)
    return digest.hexdigest()


def checksum_error(name: str, where: str | Path, expected: str, actual: str) -> ChecksumError:
    """The error raised when a file's MD5 is wrong: what, where, and how to fix it."""
    return ChecksumError(
        f"checksum mismatch for {where}: expected md5 {expected}, got {actual}. The file is "
        f"corrupt or not the official one. Delete it and re-fetch it with "
        f"`python -m fedlite.datasets fetch {name} --force` (or `make data`).")


def is_verified(info: DatasetInfo, spec: FileSpec) -> bool:
    """True if the file exists and has the official MD5."""
    path = file_path(info, spec)
    return path.is_file() and md5sum(path) == spec.md5


def mirror_url(info: DatasetInfo, spec: FileSpec, base_url: str | None = None) -> str:
    """The URL to fetch from: ``base_url`` or ``$FEDLITE_MIRROR`` if set, else the publisher's."""
    base = base_url or os.environ.get("FEDLITE_MIRROR", "").strip()
    url = f"{base.rstrip('/')}/{info.subdir}/{spec.name}" if base else spec.url
    if not url.startswith(("http://", "https://", "file://")):
        raise ValueError(f"download URL must start with http://, https:// or file://, got {url!r}")
    return url


def download_file(url: str, dest: Path, md5: str, *, name: str = "",
                  timeout: float = TIMEOUT, progress: bool = True) -> Path:
    """Download ``url`` to ``dest`` atomically and check its MD5.

    Raises
    ------
    DataNotAvailable
        If the server cannot be reached or the transfer breaks off.
    ChecksumError
        If the downloaded bytes do not have MD5 ``md5``.
    NotWritable
        If ``dest``'s folder cannot be created or written (a read-only data directory).
    In every failure case neither ``dest`` nor a temporary file is left behind,
    nor any folder this call created (e.g. an empty ``$FEDLITE_DATA``).
    """
    new_folders = _missing_folders(dest.parent)
    tmp = None
    try:
        tmp = _temp_file_next_to(dest)
        with open(tmp, "wb") as out:
            actual = _stream(url, out, timeout=timeout, progress=progress, label=dest.name)
            out.flush()
            os.fsync(out.fileno())
        if actual != md5:
            raise checksum_error(name or dest.stem, url, md5, actual)
        os.replace(tmp, dest)
    except BaseException:  # also Ctrl-C: clean up, then re-raise
        if tmp is not None:
            tmp.unlink(missing_ok=True)
        for folder in new_folders:  # deepest first, e.g. <FEDLITE_DATA>/medmnist, then <FEDLITE_DATA>
            with contextlib.suppress(OSError):
                folder.rmdir()  # only succeeds if the folder is still empty
        raise
    return dest


def _missing_folders(folder: Path) -> list[Path]:
    """``folder`` and those of its parents that do not exist yet, deepest first."""
    missing = []
    while not folder.exists() and folder != folder.parent:
        missing.append(folder)
        folder = folder.parent
    return missing


class NotWritable(DataNotAvailable):
    """A file is missing and the data directory cannot take a download (read-only)."""


def _temp_file_next_to(dest: Path) -> Path:
    """An empty temporary file in ``dest``'s folder (so ``os.replace`` stays atomic)."""
    try:
        dest.parent.mkdir(parents=True, exist_ok=True)
        fd, name = tempfile.mkstemp(dir=dest.parent, prefix=f".{dest.name}.", suffix=".part")
    except OSError as err:
        raise NotWritable(f"cannot write to {dest.parent} ({err}); set FEDLITE_DATA to a "
                          "writable folder") from err
    os.close(fd)
    return Path(name)


NETWORK_ERRORS = (urllib.error.URLError, TimeoutError, ConnectionError,
                  http.client.HTTPException)


def _stream(url: str, out: BinaryIO, *, timeout: float, progress: bool, label: str) -> str:
    """Copy the body of ``url`` into ``out``; return its MD5. Breaks off -> DataNotAvailable."""
    digest, received, total = hashlib.md5(), 0, None
    try:
        with urllib.request.urlopen(url, timeout=timeout) as response:
            total = int(response.headers.get("Content-Length") or 0) or None
            with tqdm(total=total, unit="B", unit_scale=True, desc=label,
                      disable=not progress, leave=False) as bar:
                for block in iter(lambda: response.read(CHUNK), b""):
                    out.write(block)
                    digest.update(block)
                    received += len(block)
                    bar.update(len(block))
    except NETWORK_ERRORS as err:
        raise DataNotAvailable(f"could not download {url}: {_reason(err)}") from err
    if total is not None and received != total:
        raise DataNotAvailable(f"download of {url} broke off after {received} of {total} bytes")
    return digest.hexdigest()


def _reason(err: Exception) -> str:
    if isinstance(err, urllib.error.HTTPError):
        return f"HTTP {err.code} {err.reason}"
    return str(getattr(err, "reason", None) or err) or type(err).__name__


def fetch(name: str, *, force: bool = False, base_url: str | None = None,
          progress: bool = True) -> list[Path]:
    """Download every file of dataset ``name`` into the data directory, verified by MD5.

    Files already present with the right checksum are skipped (unless
    ``force``); a present file with a wrong checksum is downloaded again.
    ``base_url`` (or ``$FEDLITE_MIRROR``) replaces the publisher's URL with a
    mirror laid out like the data directory.

    Returns
    -------
    list of Path
        The verified local files (empty for datasets bundled with a package).
    """
    info = get_info(name)
    paths = []
    for spec in info.files:
        path = file_path(info, spec)
        if force or not is_verified(info, spec):
            _download(info, spec, base_url=base_url, progress=progress)
        paths.append(path)
    return paths


def _download(info: DatasetInfo, spec: FileSpec, *, base_url: str | None = None,
              progress: bool = True) -> Path:
    try:
        return download_file(mirror_url(info, spec, base_url), file_path(info, spec), spec.md5,
                             name=info.name, progress=progress)
    except DataNotAvailable as err:
        raise offline_error(info, spec, err) from err


def offline_error(info: DatasetInfo, spec: FileSpec, cause: Exception) -> DataNotAvailable:
    """The error for "not cached and cannot download": what is missing and three ways to fix it."""
    folder = data_dir() / info.subdir
    if isinstance(cause, NotWritable):
        return NotWritable(
            f"{spec.name} of dataset {info.name!r} is not in {folder}, and that folder cannot "
            f"take a download ({cause}). Fix: copy the file into {folder}, or set FEDLITE_DATA "
            f"to a writable folder and run `python -m fedlite.datasets fetch {info.name}`.")
    return DataNotAvailable(
        f"{spec.name} of dataset {info.name!r} is not in {folder} and could "
        f"not be downloaded ({cause}). Fix: connect to the internet and run "
        f"`python -m fedlite.datasets fetch {info.name}` (or `make data`); or set FEDLITE_MIRROR "
        f"to a local mirror URL; or copy the files (e.g. from a USB stick) into a folder "
        f"with a {info.subdir}/ subfolder and set FEDLITE_DATA to that folder.")


def missing_files(name: str) -> list[str]:
    """Names of the dataset's files that are not in the data directory (cached or not, unverified)."""
    info = get_info(name)
    return [spec.name for spec in info.files if not file_path(info, spec).is_file()]


def ensure_files(name: str, *, progress: bool = True) -> list[Path]:
    """Paths of the dataset's files, downloading missing ones; every file is MD5-verified.

    A cached file with a wrong checksum is an error (``ChecksumError``), never
    silently replaced; a missing file that cannot be downloaded raises
    :class:`DataNotAvailable` (:class:`NotWritable` if the folder is read-only),
    naming the missing files when only some are there.
    """
    info = get_info(name)
    missing = missing_files(name)
    paths = []
    for spec in info.files:
        path = file_path(info, spec)
        if path.is_file():
            actual = md5sum(path)
            if actual != spec.md5:
                raise checksum_error(name, path, spec.md5, actual)
        else:
            try:
                _download(info, spec, progress=progress)
            except DataNotAvailable as err:
                if len(missing) == len(info.files):
                    raise
                raise type(err)(f"only {len(info.files) - len(missing)} of {len(info.files)} files "
                                f"of {name!r} are in {path.parent}; missing: {', '.join(missing)}. "
                                f"{err}") from err
        paths.append(path)
    return paths
