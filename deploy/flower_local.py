"""Run the heart-disease Flower App on this machine: simulation, or a real deployment of
one SuperLink and one SuperNode per hospital, each a separate OS process.

Everything here is plumbing with bounded waits:

- :class:`Processes` starts commands in their own process group with their output in a
  log file, waits for a log line with a deadline, and stops *everything* it started --
  including the ``flower-superexec`` children Flower starts in their own session
  (killing a SuperNode alone leaves its superexec running) -- whatever happens;
- :func:`simulate` runs the app with Flower's Simulation Runtime (``flwr run``
  against a ``flower-superlink --simulation`` we start on a free port);
- :func:`deploy` runs it with the Deployment Runtime: TLS certificates from
  ``deploy/certs.py``, ``--enable-supernode-auth``, every node's public key registered
  with ``flwr supernode register``, then ``flwr run``.

Commands and flags are those of Flower 1.42
(https://flower.ai/docs/framework/how-to-run-flower-with-deployment-engine.html,
https://flower.ai/docs/framework/ref-api-cli.html). ``FLWR_HOME`` is always a folder of
the run (never the user's ``~/.flwr``) and ``FLWR_DISABLE_UPDATE_CHECK=1`` keeps the CLI
off the network.
"""

from __future__ import annotations

import json
import os
import shutil
import signal
import socket
import subprocess
import sys
import tempfile
import threading
import time
from collections.abc import Callable, Sequence
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

DEPLOY = Path(__file__).resolve().parent
APP = DEPLOY / "heart_fl"
REPO = DEPLOY.parent
BIN = Path(sys.executable).parent          # flower-superlink, flwr, ... live beside this Python
HOSPITALS = ("cleveland", "hungarian", "switzerland", "va")


def free_port() -> int:
    """A TCP port on 127.0.0.1 that nobody listens on right now."""
    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        return s.getsockname()[1]


def flower_env(flwr_home: Path, **extra: str) -> dict[str, str]:
    """Environment for every Flower process: a private FLWR_HOME, no update check, this
    repository's fedlite first on the path, one thread per process."""
    env = dict(os.environ)
    env.update(FLWR_HOME=str(flwr_home), FLWR_DISABLE_UPDATE_CHECK="1", OMP_NUM_THREADS="1",
               PATH=f"{BIN}{os.pathsep}{env.get('PATH', '')}", PYTHONUNBUFFERED="1",
               PYTHONPATH=os.pathsep.join([str(REPO)] + [p for p in env.get("PYTHONPATH", "").split(os.pathsep) if p]),
               RAY_DEDUP_LOGS="0",
               # Ray (the simulation engine) gives its helper processes a few seconds to start;
               # on a busy 2-core machine that is not enough, so wait longer.
               RAY_agent_register_timeout_ms="120000", RAY_raylet_start_wait_time_s="120")
    env.update(extra)
    return env


def _children() -> dict[int, list[int]]:
    """Parent pid -> child pids, from /proc."""
    tree: dict[int, list[int]] = {}
    for entry in Path("/proc").iterdir():
        if entry.name.isdigit():
            try:
                ppid = int((entry / "stat").read_text().rsplit(")", 1)[1].split()[1])
            except (OSError, IndexError, ValueError):
                continue
            tree.setdefault(ppid, []).append(int(entry.name))
    return tree


def descendants(pid: int) -> list[int]:
    """Every process below ``pid`` (children, grandchildren, ...)."""
    tree, found, todo = _children(), [], [pid]
    while todo:
        for child in tree.get(todo.pop(), []):
            found.append(child)
            todo.append(child)
    return found


@dataclass
class Proc:
    name: str
    popen: subprocess.Popen
    log: Path
    family: set[int] = field(default_factory=set)   # every pid ever seen below it

    def text(self) -> str:
        return self.log.read_text(errors="replace") if self.log.exists() else ""

    def tail(self, lines: int = 25) -> str:
        return "\n".join(self.text().splitlines()[-lines:])


class Processes:
    """Start, watch and (always) stop a set of processes; use as a context manager."""

    def __init__(self, logs: Path, env: dict[str, str]) -> None:
        self.logs, self.env, self.procs = logs, env, {}
        self.cleanup: list[Path] = []          # temporary folders removed after the processes
        logs.mkdir(parents=True, exist_ok=True)

    def __enter__(self) -> Processes:
        return self

    def __exit__(self, *exc: object) -> None:
        self.stop_all()

    def start(self, name: str, argv: Sequence[str], prefix: Sequence[str] = ()) -> Proc:
        """Start ``argv`` in a new session (its own process group), output to ``logs/<name>.log``."""
        log = self.logs / f"{name}.log"
        with open(log, "wb") as out:
            popen = subprocess.Popen([*prefix, *argv], stdout=out, stderr=subprocess.STDOUT,
                                     stdin=subprocess.DEVNULL, env=self.env, start_new_session=True)
        self.procs[name] = proc = Proc(name, popen, log)
        return proc

    def watch(self) -> None:
        """Remember every descendant now alive (a killed parent orphans its children)."""
        for proc in self.procs.values():
            if proc.popen.poll() is None:
                proc.family.update(descendants(proc.popen.pid))

    def wait_for(self, proc: Proc, text: str | Callable[[str], bool], timeout: float) -> float:
        """Seconds until ``text`` appears in ``proc``'s log; RuntimeError if it exits or the time is up."""
        test = (lambda log: text in log) if isinstance(text, str) else text
        start = time.monotonic()
        while not test(proc.text()):
            self.watch()
            if proc.popen.poll() is not None:
                raise RuntimeError(f"{proc.name} exited with code {proc.popen.returncode} before it was "
                                   f"ready; last lines of {proc.log}:\n{proc.tail()}")
            if time.monotonic() - start > timeout:
                raise RuntimeError(f"{proc.name} not ready after {timeout:.0f} s; last lines of {proc.log}:\n{proc.tail()}")
            time.sleep(0.2)
        return time.monotonic() - start

    def kill(self, name: str, sig: int = signal.SIGKILL) -> None:
        """Kill one process's whole group at once (the failure drill's "pull the plug")."""
        proc = self.procs[name]
        self.watch()
        _signal_groups(proc.family, sig, leaders=[proc.popen.pid])
        proc.popen.wait(timeout=10)

    def stop_all(self, grace: float = 5.0) -> None:
        """SIGTERM every process group we started (and any descendant's group), then SIGKILL."""
        self.watch()
        pids, leaders = set(), [proc.popen.pid for proc in self.procs.values()]
        for proc in self.procs.values():
            pids |= {proc.popen.pid} | proc.family
        _signal_groups(pids, signal.SIGTERM, leaders)
        deadline = time.monotonic() + grace
        while time.monotonic() < deadline and any(_alive(p) for p in pids):
            time.sleep(0.1)
        _signal_groups([p for p in pids if _alive(p)], signal.SIGKILL, leaders)
        for proc in self.procs.values():
            try:
                proc.popen.wait(timeout=5)
            except subprocess.TimeoutExpired:  # pragma: no cover - SIGKILL cannot be ignored
                pass
        self.sweep()
        for folder in self.cleanup:
            shutil.rmtree(folder, ignore_errors=True)

    def alive(self) -> list[int]:
        """Pids we started, saw below them, or that carry our ``FLWR_HOME`` and still run."""
        pids = set(marked(self.env["FLWR_HOME"]))
        for proc in self.procs.values():
            pids |= {proc.popen.pid} | proc.family
        return sorted(p for p in pids if _alive(p))

    def sweep(self, timeout: float = 10.0) -> list[int]:
        """Kill stragglers started after the last :meth:`watch` (Flower starts a process per
        message), found by our ``FLWR_HOME`` in their environment; return those still alive."""
        deadline = time.monotonic() + timeout
        while (left := self.alive()) and time.monotonic() < deadline:
            _signal_groups(left, signal.SIGKILL)
            for pid in left:
                try:
                    os.kill(pid, signal.SIGKILL)
                except ProcessLookupError:
                    pass
            time.sleep(0.2)
        return self.alive()


def marked(flwr_home: str) -> list[int]:
    """Processes whose environment has ``FLWR_HOME=<flwr_home>``: every process of one run
    inherits it from us (readable for our own processes, or any as root)."""
    needle = f"FLWR_HOME={flwr_home}".encode() + b"\0"
    found = []
    for entry in Path("/proc").iterdir():
        if entry.name.isdigit() and int(entry.name) != os.getpid():
            try:
                if needle in (entry / "environ").read_bytes():
                    found.append(int(entry.name))
            except OSError:
                continue
    return found


def _alive(pid: int) -> bool:
    try:
        state = Path(f"/proc/{pid}/stat").read_text().rsplit(")", 1)[1].split()[0]
    except (OSError, IndexError):
        return False
    return state != "Z"


def _signal_groups(pids: Sequence[int] | set[int], sig: int, leaders: Sequence[int] = ()) -> None:
    """Send ``sig`` to the process group of every pid; ``leaders`` started their own group
    (``start_new_session``), so their group id is their pid even after they exited."""
    groups = set(leaders)
    for pid in pids:
        try:
            groups.add(os.getpgid(pid))
        except ProcessLookupError:
            continue
    for group in groups:
        if group != os.getpgid(0):       # never our own group
            try:
                os.killpg(group, sig)
            except ProcessLookupError:
                pass


# --------------------------------------------------------------------------- the flwr CLI

def write_connection(flwr_home: Path, name: str, address: str, *, root_certificates: Path | None = None) -> None:
    """Add ``[superlink.<name>]`` to ``$FLWR_HOME/config.toml`` (insecure unless a CA is given)."""
    flwr_home.mkdir(parents=True, exist_ok=True)
    config = flwr_home / "config.toml"
    text = config.read_text() if config.exists() else f'[superlink]\ndefault = "{name}"\n'
    security = (f'root-certificates = "{root_certificates}"' if root_certificates else "insecure = true")
    config.write_text(text + f'\n[superlink.{name}]\naddress = "{address}"\n{security}\n')


def flwr(args: Sequence[str], env: dict[str, str], timeout: float, log: Path | None = None,
         prefix: Sequence[str] = ()) -> subprocess.CompletedProcess:
    """Run the ``flwr`` CLI with a deadline; RuntimeError (with its output) if it fails."""
    try:
        done = subprocess.run([*prefix, str(BIN / "flwr"), *args], env=env, capture_output=True, text=True,
                              timeout=timeout, start_new_session=True)
    except subprocess.TimeoutExpired as err:
        raise RuntimeError(f"`flwr {' '.join(args)}` did not finish within {timeout:.0f} s:\n{err.stdout}") from err
    if log:
        with open(log, "a") as out:
            out.write(f"$ flwr {' '.join(args)}\n{done.stdout}{done.stderr}\n")
    if done.returncode != 0:
        raise RuntimeError(f"`flwr {' '.join(args)}` failed ({done.returncode}):\n{done.stdout}\n{done.stderr}")
    return done


def run_config(settings: dict[str, Any]) -> str:
    """``{"num-server-rounds": 3, "out-dir": "/x"}`` -> ``num-server-rounds=3 out-dir="/x"`` (TOML values)."""
    return " ".join(f"{k}={json.dumps(v)}" for k, v in settings.items())


def submit(connection: str, settings: dict[str, Any], env: dict[str, str], out: Path, timeout: float,
           extra: Sequence[str] = (), prefix: Sequence[str] = ()) -> dict[str, Any]:
    """``flwr run`` the app, stream its log to ``out/flwr_run.log``, return ``result.json`` read back."""
    out.mkdir(parents=True, exist_ok=True)
    settings = {**settings, "out-dir": str(out)}
    flwr(["run", str(APP), connection, "--run-config", run_config(settings), "--stream", *extra],
         env, timeout, log=out / "flwr_run.log", prefix=prefix)
    result = out / "result.json"
    if not result.exists():
        raise RuntimeError(f"the run ended without writing {result}; see {out / 'flwr_run.log'}")
    return json.loads(result.read_text())


# --------------------------------------------------------------------------- the two runtimes

@dataclass
class RunReport:
    result: dict[str, Any]
    out: Path
    startup_seconds: float = 0.0
    run_seconds: float = 0.0
    logs: dict[str, Path] = field(default_factory=dict)


def simulate(work: Path, settings: dict[str, Any], *, timeout: float = 240.0) -> RunReport:
    """The app under Flower's Simulation Runtime (Ray), 4 simulated SuperNodes = partition-ids 0..3."""
    home = work / "flwr_home"
    env = flower_env(home)
    port = free_port()
    write_connection(home, "sim", f"127.0.0.1:{port}")
    with Processes(work / "logs", env) as procs:
        start = time.monotonic()
        env["RAY_ADDRESS"] = start_ray(procs)
        link = procs.start("superlink", [str(BIN / "flower-superlink"), "--insecure", "--simulation",
                                         "--host", "127.0.0.1", "--port", str(port),
                                         "--disable-runtime-dependency-installation"])
        procs.wait_for(link, "Application startup complete", 60)
        startup = time.monotonic() - start
        start = time.monotonic()
        result = submit("sim", settings, env, work / "out", timeout,
                        extra=["--federation-config", "num-supernodes=4"])
        report = RunReport(result, work / "out", startup, time.monotonic() - start,
                           {p.name: p.log for p in procs.procs.values()})
    return report


class RayUnavailable(RuntimeError):
    """Ray, the simulation engine's backend, did not start (see :func:`start_ray`)."""


def _announce_agent_ports(temp: Path, node_id: str, runtime_env_port: int, stop: threading.Event) -> None:
    """Write the port files Ray's node manager waits for, as soon as the session folder exists.

    Ray's node manager waits a hard-coded 15 s for its dashboard agent to write these files and
    aborts otherwise (ray-project/ray#65983); on a busy machine the agent's imports alone take
    longer. Without ``ray[default]`` the agent runs in minimal mode and writes ``-1`` (no metrics,
    no HTTP) for three of them -- we write the same values earlier -- and the runtime-env agent
    binds the fixed ``runtime_env_port`` we gave ``ray start``. The agents overwrite the files with
    the same values when they are up.
    """
    values = {"metrics_agent_port": -1, "metrics_export_port": -1, "dashboard_agent_listen_port": -1,
              "runtime_env_agent_port": runtime_env_port}
    while not stop.is_set():
        sessions = [d for d in temp.glob("session_2*") if d.is_dir()]
        if sessions:
            for name, value in values.items():
                target = sessions[0] / f"{name}_{node_id}"
                if not target.exists():
                    part = target.with_suffix(".part")
                    part.write_text(str(value))
                    part.replace(target)
            return
        time.sleep(0.05)


def _stays_up(ray: Proc, seconds: float = 15.0) -> bool:
    """Whether ``ray start --block`` is still running ``seconds`` after it said it started.

    It stops the whole cluster when any of its processes exits (seen here: ``ray_client_server``
    exiting 8 s after "Ray runtime started"); a run submitted to that cluster would then wait for
    its full timeout, so start-up counts as failed and :func:`start_ray` tries again.
    """
    deadline = time.monotonic() + seconds
    while time.monotonic() < deadline:
        if ray.popen.poll() is not None or "exited unexpectedly" in ray.text():
            return False
        time.sleep(0.5)
    return True


def start_ray(procs: Processes, num_cpus: int = 2, timeout: float = 120.0, attempts: int = 2) -> str:
    """Start a private one-machine Ray cluster for the simulation engine; return its address.

    Flower's simulation engine runs on Ray and would start it itself; we start the head
    (``ray start --head --block``, so every Ray process stays a child of ours and is stopped with
    the rest), pre-announce the agents' ports (:func:`_announce_agent_ports`, a workaround for a
    15 s start-up limit in Ray), and let Flower's ``ray.init()`` join through ``RAY_ADDRESS``.
    """
    for attempt in range(1, attempts + 1):
        port, runtime_env_port = free_port(), free_port()
        node_id = os.urandom(28).hex()
        temp = Path(tempfile.mkdtemp(prefix="fl_ray_", dir="/tmp"))   # Ray's socket paths must stay short
        procs.cleanup.append(temp)
        procs.env["RAY_OVERRIDE_NODE_ID_FOR_TESTING"] = node_id
        stop = threading.Event()
        announcer = threading.Thread(target=_announce_agent_ports, args=(temp, node_id, runtime_env_port, stop),
                                     daemon=True)
        announcer.start()
        ray = procs.start(f"ray{attempt}", [str(BIN / "ray"), "start", "--head", "--block", "--port", str(port),
                                            "--node-ip-address", "127.0.0.1", "--num-cpus", str(num_cpus),
                                            "--include-dashboard", "false", "--disable-usage-stats",
                                            "--runtime-env-agent-port", str(runtime_env_port),
                                            "--ray-client-server-port", str(free_port()), "--temp-dir", str(temp)])
        del procs.env["RAY_OVERRIDE_NODE_ID_FOR_TESTING"]
        node_manager_died = lambda: any("Check failed" in p.read_text(errors="replace")  # noqa: E731
                                        for p in temp.glob("session_*/logs/raylet.out"))
        try:
            procs.wait_for(ray, lambda log: "Ray runtime started" in log or node_manager_died(), timeout)
            if not node_manager_died() and _stays_up(ray):
                return f"127.0.0.1:{port}"
            err = RuntimeError(f"Ray stopped while starting (see {ray.log} and raylet.out in {temp})")
        except RuntimeError as failed:
            err = failed
        finally:
            stop.set()
        procs.kill(ray.name)
        if attempt == attempts:
            raise RayUnavailable(f"Ray did not start in {attempts} attempts (busy machine?): {err}") from err
    raise AssertionError("unreachable")


@dataclass
class Deployment:
    """A running SuperLink + SuperNodes (TLS + node authentication); see :func:`deployment`."""
    procs: Processes
    env: dict[str, str]
    work: Path
    connection: str
    startup_seconds: float
    address: tuple[str, int] = ("127.0.0.1", 0)
    cli_prefix: Sequence[str] = ()

    def run(self, settings: dict[str, Any], timeout: float = 240.0, out: str = "out") -> RunReport:
        start = time.monotonic()
        result = submit(self.connection, settings, self.env, self.work / out, timeout, prefix=self.cli_prefix)
        return RunReport(result, self.work / out, self.startup_seconds, time.monotonic() - start,
                         {p.name: p.log for p in self.procs.procs.values()})


def read_address(work: Path) -> tuple[str, int]:
    """The SuperLink's ``(host, port)`` of the deployment in ``work`` (from its FLWR_HOME/config.toml)."""
    text = (work / "flwr_home" / "config.toml").read_text()
    address = text.split("[superlink.hospitals]", 1)[1].split('address = "', 1)[1].split('"', 1)[0]
    host, port = address.rsplit(":", 1)
    return host, int(port)


def data_file(hospital: str) -> str:
    """The real file of ``hospital`` if the course's data folder has it, else "" (synthetic twin)."""
    root = Path(os.environ.get("FEDLITE_DATA", REPO / "data"))
    path = root / "uci_heart_disease" / f"processed.{hospital}.data"
    return str(path) if path.is_file() else ""


def start_deployment(procs: Processes, work: Path, *, hospitals: Sequence[str] = HOSPITALS,
                     superlink_host: str = "127.0.0.1", superlink_prefix: Sequence[str] = (),
                     node_prefix: Callable[[str], Sequence[str]] = lambda h: (),
                     register: Sequence[str] | None = None, cli_prefix: Sequence[str] = (),
                     timeout: float = 90.0) -> Deployment:
    """Start 1 SuperLink and one SuperNode per hospital, TLS on, only registered nodes admitted.

    ``superlink_prefix`` / ``node_prefix(h)`` put a process into a network namespace
    (``ip netns exec NS``); ``register`` lists the hospitals whose public keys the operator
    registers (default: all). Returns once every registered node is connected.
    """
    start = time.monotonic()
    certs = work / "certs"
    subprocess.run([sys.executable, str(DEPLOY / "certs.py"), str(certs), "--ip", superlink_host,
                    *[a for h in hospitals for a in ("--node", h)]],
                   check=True, capture_output=True, timeout=60)
    port = free_port()
    address = f"{superlink_host}:{port}"
    home = Path(procs.env["FLWR_HOME"])
    write_connection(home, "hospitals", address, root_certificates=certs / "ca.crt")
    link = procs.start("superlink", [str(BIN / "flower-superlink"), "--host", superlink_host, "--port", str(port),
                                     "--ssl-ca-certfile", str(certs / "ca.crt"),
                                     "--ssl-certfile", str(certs / "server.pem"),
                                     "--ssl-keyfile", str(certs / "server.key"),
                                     "--enable-supernode-auth", "--disable-runtime-dependency-installation",
                                     "--database", str(work / "superlink.db")], superlink_prefix)
    procs.wait_for(link, "Application startup complete", timeout)
    for h in hospitals if register is None else register:
        flwr(["supernode", "register", str(certs / f"{h}.pub"), "hospitals", "--name", h], procs.env, 60,
             log=procs.logs / "flwr_cli.log", prefix=cli_prefix)
    for h in hospitals:
        node_config = f'hospital="{h}"' + (f' data-file="{data_file(h)}"' if data_file(h) else "")
        procs.start(h, [str(BIN / "flower-supernode"), "--superlink", address,
                        "--root-certificates", str(certs / "ca.crt"),
                        "--auth-supernode-private-key", str(certs / h),
                        "--node-config", node_config, "--port", str(free_port())], node_prefix(h))
    for h in hospitals if register is None else register:
        procs.wait_for(procs.procs[h], _connected, timeout)
    return Deployment(procs, procs.env, work, "hospitals", time.monotonic() - start, (superlink_host, port),
                      cli_prefix)


def _connected(log: str) -> bool:
    """A SuperNode's log shows the id the SuperLink gave it (Flower 1.42 logs ``SuperNode ID: <id>``)."""
    return "SuperNode ID:" in log


# --------------------------------------------------------------------------- the same run in fedlite

def fedlite_reference(settings: dict[str, Any], drop: tuple[str, int] | None = None) -> tuple[Any, dict[str, Any]]:
    """The app's run in one process with :func:`fedlite.run_federated`: the course's heart-disease
    pipeline (:func:`fedlite.datasets.heart.heart_hospitals`: cholesterol 0 imputed and flagged,
    federated standardization), same hospital order, initial model, seeds and local training.
    ``drop=(hospital, round)``: that hospital's updates stop arriving from that round on (the
    failure drill). The reference engine (``batched=False``) trains each hospital with
    ``local_train``, as every ClientApp does. Returns ``(history, final state)``."""
    from fedlite import LocalConfig, pool, run_federated
    from fedlite.datasets.heart import heart_hospitals
    sys.path.insert(0, str(APP))
    from heart_fl.task import make_global_model

    defaults = {"num-server-rounds": 3, "seed": 0, "lr": 0.05, "batch-size": 16, "local-epochs": 1}
    s = {**defaults, **{k: v for k, v in settings.items() if k in defaults}}
    names, trains, tests, _, _ = heart_hospitals()
    if tuple(names) != HOSPITALS:
        raise RuntimeError(f"heart_hospitals() gave the hospitals in the order {names}; the app numbers them {HOSPITALS}")
    model = make_global_model(int(s["seed"]))
    local = LocalConfig(epochs=int(s["local-epochs"]), batch_size=int(s["batch-size"]) or None, lr=float(s["lr"]))
    on_update = None
    if drop is not None:
        gone, first = HOSPITALS.index(drop[0]), drop[1]
        on_update = lambda context, k, r: None if (k == gone and context.round >= first) else r  # noqa: E731
    history = run_federated(model, trains, pool(tests), rounds=int(s["num-server-rounds"]), local=local,
                            seed=int(s["seed"]), on_update=on_update, progress=False, batched=False)
    return history, {k: v.clone() for k, v in model.state_dict().items()}


def load_state(out: Path) -> dict[str, Any]:
    """``final_state.npz`` written by the ServerApp, as tensors (no pickle)."""
    import numpy as np
    import torch

    with np.load(out / "final_state.npz", allow_pickle=False) as npz:
        return {k: torch.from_numpy(npz[k]) for k in npz.files}


# --------------------------------------------------------------------------- all three runs, for notebook 08

def _summary(report: RunReport, state: dict[str, Any]) -> dict[str, Any]:
    got = load_state(report.out)
    gap = max(float((got[k] - state[k]).abs().max()) for k in state)
    rounds = sorted(report.result["evaluate"], key=int)
    return {"startup_seconds": round(report.startup_seconds, 1), "run_seconds": round(report.run_seconds, 1),
            "max_weight_gap": gap, "evaluate": [report.result["evaluate"][t] for t in rounds],
            "messages": report.result["messages"], "loaded": report.result["loaded"],
            "logs": {name: "\n".join(path.read_text(errors="replace").splitlines()[-12:])
                     for name, path in report.logs.items() if path.exists()}}


def record(work: Path, rounds: int = 2, *, simulation: bool = True, deployment: bool = True,
           drill: bool = True, round_timeout: float = 600.0, run_timeout: float = 1800.0) -> dict[str, Any]:
    """Run fedlite, Flower's simulation, the TLS deployment and the failure drill on the same
    settings; return what notebook 08 shows (numbers, bytes, timings, log tails)."""
    import flwr

    settings = {"num-server-rounds": rounds, "round-timeout": round_timeout}
    start = time.monotonic()
    history, state = fedlite_reference(settings)
    out: dict[str, Any] = {"flwr_version": flwr.__version__, "rounds": rounds,
                           "fedlite": {"seconds": round(time.monotonic() - start, 2),
                                       "evaluate": [{"loss": r.test["loss"], "accuracy": r.test["accuracy"]}
                                                    for r in history.rounds],
                                       "bytes_up": [r.bytes_up for r in history.rounds],
                                       "bytes_down": [r.bytes_down for r in history.rounds]}}
    if simulation:
        try:
            out["simulation"] = _summary(simulate(work / "simulation", settings, timeout=run_timeout), state)
        except RayUnavailable as err:
            out["simulation"] = {"error": str(err).splitlines()[0]}
    if deployment or drill:
        with Processes(work / "deployment" / "logs", flower_env(work / "deployment" / "flwr_home")) as procs:
            dep = start_deployment(procs, work / "deployment", timeout=300)
            if deployment:
                out["deployment"] = _summary(dep.run(settings, timeout=run_timeout), state)
            if drill:
                out["drill"] = run_drill(dep, rounds=2)
        out["processes_left"] = procs.alive()
    return out


def run_drill(dep: Deployment, rounds: int = 2, hospital: str = "va", timeout: float = 600.0) -> dict[str, Any]:
    """Kill ``hospital``'s SuperNode (its whole process group) while the ServerApp pauses after
    round 1; return who was sent what and who answered, per message wave.

    ``timeout`` (the strategy's round timeout) is generous on purpose: the round then ends when
    the SuperLink declares the node gone (no heartbeat for 2 x 30 s in Flower 1.42) and answers
    for it with a "Node Unavailable" error, not when our clock runs out."""
    import threading

    progress = dep.work / "drill" / "progress.json"

    def kill_after_round_1() -> None:
        deadline = time.monotonic() + 900
        while time.monotonic() < deadline and not (progress.exists() and '"round": 1' in progress.read_text()):
            time.sleep(0.2)
        dep.procs.kill(hospital)

    killer = threading.Thread(target=kill_after_round_1, daemon=True)
    killer.start()
    report = dep.run({"num-server-rounds": rounds, "min-nodes": 3, "round-timeout": timeout,
                      "pause-after-round": 1, "pause-seconds": 5.0}, timeout=900, out="drill")
    killer.join(timeout=10)
    return {"killed": hospital, "round_timeout": timeout,
            "messages": report.result["messages"], "evaluate": report.result["evaluate"],
            "run_seconds": round(report.run_seconds, 1)}


def main(argv: Sequence[str] | None = None) -> int:
    """``python deploy/flower_local.py --record notebooks/results/08_flower_runs.json``"""
    import argparse

    parser = argparse.ArgumentParser(description="Run the heart-disease app three ways and store the results.")
    parser.add_argument("--record", type=Path, required=True, help="JSON file to write")
    parser.add_argument("--rounds", type=int, default=2)
    args = parser.parse_args(argv)
    work = Path(tempfile.mkdtemp(prefix="heart_fl_"))
    try:
        result = record(work, args.rounds)
    finally:
        shutil.rmtree(work, ignore_errors=True)
    args.record.parent.mkdir(parents=True, exist_ok=True)
    args.record.write_text(json.dumps(result, indent=1) + "\n")
    print(f"wrote {args.record}")
    return 0


if __name__ == "__main__":
    sys.exit(main())
