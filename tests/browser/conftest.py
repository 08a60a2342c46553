"""Fixtures for the real-browser tests: a JupyterLab on 127.0.0.1 and Debian's Chromium driven by Playwright.

These tests run only when selected with ``-m browser`` (``make test-browser``); ``make test`` skips them,
so the course's own tests never need a browser. Everything the tests start is stopped whatever happens:
the JupyterLab server (and the kernels it started) and the browser.

- JupyterLab serves a *copy* of ``notebooks/`` from a temporary folder (autosave must never touch the
  repository), on a random free port with a random token, with ``expose_app_in_browser`` so a test can
  ask the page which kernel state it is in.
- Chromium is Debian's ``/usr/bin/chromium`` (Playwright's own browser download is not used), headless,
  with a fresh profile and no background networking.
"""

from __future__ import annotations

import os
import secrets
import shutil
import signal
import socket
import subprocess
import sys
import tempfile
import time
import urllib.error
import urllib.request
from collections.abc import Iterator
from dataclasses import dataclass, field
from pathlib import Path

import pytest

REPO = Path(__file__).resolve().parents[2]
CHROMIUM = Path(os.environ.get("FEDLITE_CHROMIUM", "/usr/bin/chromium"))
SCREENSHOTS = REPO / "tests" / "browser" / "screenshots"   # git-ignored; look here after a run
CHROMIUM_ARGS = ["--headless", "--no-sandbox", "--disable-gpu", "--disable-quic", "--no-first-run",
                 "--disable-background-networking", "--disable-component-update", "--disable-sync"]
READY_SECONDS = 90


def pytest_configure(config: pytest.Config) -> None:
    """A terminated run (CI timeout, kill) still stops JupyterLab and Chromium: SIGTERM ends pytest
    through SystemExit, which runs the fixtures' ``finally`` blocks."""
    if "browser" in (config.getoption("markexpr") or ""):
        signal.signal(signal.SIGTERM, lambda *_: sys.exit(f"{__name__}: terminated"))


def pytest_collection_modifyitems(config: pytest.Config, items: list[pytest.Item]) -> None:
    """Skip the browser tests unless the run selected them (``-m browser``)."""
    if "browser" in (config.getoption("markexpr") or ""):
        return
    skip = pytest.mark.skip(reason="real-browser test: run `make test-browser` (needs /usr/bin/chromium)")
    for item in items:
        if "browser" in item.keywords:
            item.add_marker(skip)


def free_port() -> int:
    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        return s.getsockname()[1]


@dataclass
class Lab:
    """A running JupyterLab: where it is, its token, and the folder it serves."""

    url: str
    token: str
    root: Path
    process: subprocess.Popen
    runtime: Path

    def open_url(self, path: str) -> str:
        return f"{self.url}/lab/tree/{path}?token={self.token}&reset"


def _get(url: str) -> int:
    try:
        with urllib.request.urlopen(url, timeout=2) as response:  # 127.0.0.1 only
            return response.status
    except (urllib.error.URLError, OSError):
        return 0


def _kernel_pids(runtime: Path) -> list[int]:
    """Processes whose command line names a connection file in this server's runtime folder (its kernels)."""
    pids = []
    for entry in Path("/proc").iterdir():
        if entry.name.isdigit():
            try:
                cmdline = (entry / "cmdline").read_bytes().decode(errors="replace")
            except OSError:
                continue
            if str(runtime) in cmdline:
                pids.append(int(entry.name))
    return pids


def _stop(lab: Lab) -> None:
    """Ask the server to shut down (it stops its kernels), then end its process group and any kernel left."""
    request = urllib.request.Request(f"{lab.url}/api/shutdown?token={lab.token}", method="POST")
    try:
        urllib.request.urlopen(request, timeout=5)
        lab.process.wait(timeout=15)
    except (urllib.error.URLError, OSError, subprocess.TimeoutExpired):
        pass
    for sig in (signal.SIGTERM, signal.SIGKILL):
        if lab.process.poll() is None:
            try:
                os.killpg(lab.process.pid, sig)
                lab.process.wait(timeout=10)
            except (ProcessLookupError, subprocess.TimeoutExpired):
                pass
    for pid in _kernel_pids(lab.runtime):
        try:
            os.kill(pid, signal.SIGKILL)
        except ProcessLookupError:
            pass


def _write_settings(folder: Path) -> None:
    """Every cell stays in the page (no virtual scrolling), and JupyterLab fetches no news."""
    for plugin, settings in {"notebook-extension/tracker": '{"windowingMode": "none"}',
                             "apputils-extension/notification": '{"fetchNews": "false", "checkForUpdates": false}'}.items():
        package, name = plugin.split("/")
        path = folder / "@jupyterlab" / package / f"{name}.jupyterlab-settings"
        path.parent.mkdir(parents=True, exist_ok=True)
        path.write_text(settings)


@pytest.fixture(scope="session")
def lab() -> Iterator[Lab]:
    """JupyterLab on 127.0.0.1 (random port and token) serving a temporary copy of the notebooks."""
    home = Path(tempfile.mkdtemp(prefix="fedlite-lab-"))
    root, runtime = home / "course", home / "runtime"
    shutil.copytree(REPO / "notebooks", root / "notebooks")
    port, token = free_port(), secrets.token_hex(24)
    env = {**os.environ, "JUPYTER_RUNTIME_DIR": str(runtime), "JUPYTER_CONFIG_DIR": str(home / "config"),
           "IPYTHONDIR": str(home / "ipython"), "PYTHONPATH": os.pathsep.join(
               [str(REPO)] + [p for p in os.environ.get("PYTHONPATH", "").split(os.pathsep) if p]),
           "OMP_NUM_THREADS": os.environ.get("OMP_NUM_THREADS", "1")}
    command = [sys.executable, "-m", "jupyterlab", "--no-browser", "--ip=127.0.0.1", f"--port={port}",
               "--port-retries=0", f"--IdentityProvider.token={token}", f"--ServerApp.root_dir={root}",
               f"--LabApp.workspaces_dir={home / 'workspaces'}", f"--LabApp.user_settings_dir={home / 'settings'}",
               "--LabApp.expose_app_in_browser=True", "--ServerApp.disable_check_xsrf=False"]
    if os.getuid() == 0:
        command.append("--allow-root")
    _write_settings(home / "settings")
    log = open(home / "jupyter.log", "wb")
    process = subprocess.Popen(command, cwd=root, env=env, stdout=log, stderr=subprocess.STDOUT,
                               start_new_session=True)
    server = Lab(f"http://127.0.0.1:{port}", token, root, process, runtime)
    try:
        deadline = time.monotonic() + READY_SECONDS
        while _get(f"{server.url}/api/status?token={token}") != 200:
            if process.poll() is not None or time.monotonic() > deadline:
                raise RuntimeError(f"JupyterLab did not start within {READY_SECONDS} s; its log: "
                                   f"{(home / 'jupyter.log').read_text(errors='replace')[-2000:]}")
            time.sleep(0.5)
        yield server
    finally:
        _stop(server)
        log.close()
        shutil.rmtree(home, ignore_errors=True)


@dataclass
class Browser:
    """One Chromium page plus the console errors it logged."""

    page: object
    console_errors: list[str] = field(default_factory=list)


@pytest.fixture(scope="session")
def chromium_context() -> Iterator[object]:
    if not CHROMIUM.exists():
        pytest.fail(f"{CHROMIUM} not found. Install Debian's Chromium: sudo apt-get install -y chromium")
    sync_api = pytest.importorskip("playwright.sync_api", reason="pip install -e '.[browser]'")
    profile = tempfile.mkdtemp(prefix="fedlite-chromium-")
    with sync_api.sync_playwright() as playwright:
        context = playwright.chromium.launch_persistent_context(
            profile, executable_path=str(CHROMIUM), headless=True, args=CHROMIUM_ARGS,
            viewport={"width": 1400, "height": 1000})
        try:
            yield context
        finally:
            context.close()
            shutil.rmtree(profile, ignore_errors=True)


@pytest.fixture
def browser(chromium_context: object) -> Iterator[Browser]:
    """A fresh page; console errors are collected in ``console_errors``."""
    page = chromium_context.new_page()
    result = Browser(page)
    page.on("console", lambda m: result.console_errors.append(m.text) if m.type == "error" else None)
    page.on("pageerror", lambda e: result.console_errors.append(f"page error: {e}"))
    page.set_default_timeout(30_000)
    try:
        yield result
    finally:
        try:  # stop this page's kernels now: each holds the course's data in memory
            page.evaluate("() => window.jupyterapp && window.jupyterapp.serviceManager.sessions.shutdownAll()")
        except Exception:  # noqa: BLE001 (the server's own shutdown stops them anyway)
            pass
        page.close()


@pytest.fixture(scope="session")
def screenshots() -> Path:
    SCREENSHOTS.mkdir(parents=True, exist_ok=True)
    return SCREENSHOTS
