"""Shared fixtures: where the real data is, environment switches, and loopback HTTP servers.

Tests never reach the internet: every test runs with ``FEDLITE_MIRROR``
pointing at a closed port on 127.0.0.1, so a download a test did not plan for
fails at once instead of calling a publisher; download tests start their own
server on 127.0.0.1.
"""

from __future__ import annotations

import functools
import os
import shutil
import socket
import threading
from collections.abc import Callable, Iterator
from http.server import BaseHTTPRequestHandler, SimpleHTTPRequestHandler, ThreadingHTTPServer
from pathlib import Path

import pytest

from fedlite.datasets.catalog import DATASETS

REPO = Path(__file__).resolve().parent.parent
SHARED_DATA = REPO.parent / "shared" / "data"
CALLER_DATA = os.environ.get("FEDLITE_DATA")  # before any fixture changes it


def has_all_files(folder: Path) -> bool:
    """True if ``folder`` holds every file of every downloadable dataset."""
    return all((folder / info.subdir / spec.name).is_file()
               for info in DATASETS.values() for spec in info.files)


def closed_port() -> int:
    """A loopback port nobody listens on (bound, then released)."""
    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        return s.getsockname()[1]


@pytest.fixture(autouse=True)
def _never_the_internet(monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.setenv("FEDLITE_MIRROR", f"http://127.0.0.1:{closed_port()}")
    monkeypatch.setenv("no_proxy", "127.0.0.1,localhost")
    monkeypatch.setenv("NO_PROXY", "127.0.0.1,localhost")


def find_real_data() -> Path:
    """``$FEDLITE_DATA`` if it holds the official files, else ``<repo>/../shared/data``.

    Skips the test if neither has them.
    """
    candidates = [Path(CALLER_DATA)] if CALLER_DATA else []
    for folder in candidates + [SHARED_DATA]:
        if has_all_files(folder):
            return folder
    pytest.skip("real dataset files not found: set FEDLITE_DATA to a folder with medmnist/ and "
                "uci_heart_disease/ (e.g. after `make data`) or provide ../shared/data")


@pytest.fixture
def mirror_dir(tmp_path: Path) -> Path:
    """A writable copy of the real heart-disease files, laid out like a data directory.

    Serve it with ``http_server(mirror_dir)`` or use it as ``FEDLITE_DATA``;
    tests may tamper with it (the originals are never touched).
    """
    source = find_real_data() / "uci_heart_disease"
    target = tmp_path / "mirror" / "uci_heart_disease"
    target.mkdir(parents=True)
    for path in source.iterdir():
        shutil.copyfile(path, target / path.name)
    return target.parent


@pytest.fixture
def real_data_dir(monkeypatch: pytest.MonkeyPatch) -> Path:
    """A folder with the official files (:func:`find_real_data`), also set as ``FEDLITE_DATA``."""
    folder = find_real_data()
    monkeypatch.setenv("FEDLITE_DATA", str(folder))
    return folder


@pytest.fixture
def empty_data_dir(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> Path:
    """An empty data directory, set as ``FEDLITE_DATA`` (nothing cached)."""
    folder = tmp_path / "data"
    folder.mkdir()
    monkeypatch.setenv("FEDLITE_DATA", str(folder))
    return folder


@pytest.fixture
def allow_synthetic(monkeypatch: pytest.MonkeyPatch) -> None:
    """Allow the synthetic fallback even if the caller's shell forbids it."""
    monkeypatch.delenv("FEDLITE_REQUIRE_REAL_DATA", raising=False)


@pytest.fixture
def require_real(monkeypatch: pytest.MonkeyPatch) -> None:
    """``FEDLITE_REQUIRE_REAL_DATA=1``: a missing dataset must be an error."""
    monkeypatch.setenv("FEDLITE_REQUIRE_REAL_DATA", "1")


@pytest.fixture
def offline_url() -> str:
    """A URL on 127.0.0.1 where nothing listens: "the server is unreachable"."""
    return f"http://127.0.0.1:{closed_port()}"


class QuietFiles(SimpleHTTPRequestHandler):
    """Serves a folder, without logging every request to stderr."""

    def log_message(self, *args: object) -> None:
        pass


class BrokenTransfer(BaseHTTPRequestHandler):
    """Promises twice the bytes it sends, then closes: a transfer that breaks off."""

    body = b"only half of what was promised"

    def do_GET(self) -> None:  # noqa: N802 (http.server's naming)
        self.send_response(200)
        self.send_header("Content-Length", str(2 * len(self.body)))
        self.end_headers()
        self.wfile.write(self.body)
        self.close_connection = True

    def log_message(self, *args: object) -> None:
        pass


@pytest.fixture
def http_server() -> Iterator[Callable[..., str]]:
    """Start HTTP servers on 127.0.0.1 (random free port, own thread); returns their base URL.

    ``http_server(folder)`` serves the files in ``folder``;
    ``http_server(broken=True)`` answers every request with a transfer that breaks off.
    """
    servers: list[ThreadingHTTPServer] = []

    def start(folder: Path | None = None, *, broken: bool = False) -> str:
        handler = BrokenTransfer if broken else functools.partial(QuietFiles, directory=str(folder))
        server = ThreadingHTTPServer(("127.0.0.1", 0), handler)
        threading.Thread(target=server.serve_forever, kwargs={"poll_interval": 0.05},
                         daemon=True).start()
        servers.append(server)
        return f"http://127.0.0.1:{server.server_address[1]}"

    yield start
    for server in servers:
        server.shutdown()
        server.server_close()


@pytest.fixture
def one_thread() -> Iterator[None]:
    """Run a test on one torch thread: its tensors are tiny, so one thread is as fast, and it cannot be
    stalled by a second thread waiting for a core on a busy machine."""
    import torch

    before = torch.get_num_threads()
    torch.set_num_threads(1)
    yield
    torch.set_num_threads(before)
