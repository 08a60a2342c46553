"""One workload of benchmarks/workloads.py, run end to end by Flower's Simulation Runtime or by fedlite.

    python benchmarks/flower_sim.py table --engine flower --rounds 3
    python benchmarks/flower_sim.py cnn --engine fedlite --rounds 3

Both engines do the same work: FedAvg over every client for ``--rounds``
rounds, each client running :func:`fedlite.client.local_train` (Flower) or the
engine ``run_federated`` picks (fedlite), seeded per round and client the same
way. The script prints one line ``seconds=<wall time>`` measured from the
start of this process's imports to the end of the run: start-up included.
Needs ``flwr[simulation]`` (the optional extra ``flower``) for ``--engine flower``.

Flower API followed (1.42, Message API): https://flower.ai/docs/framework/ref-api/flwr.simulation.run_simulation.html
and https://flower.ai/docs/framework/ref-api/flwr.serverapp.strategy.FedAvg.html.
"""

from __future__ import annotations

import time

STARTED = time.perf_counter()

import argparse  # noqa: E402
import functools  # noqa: E402
import os  # noqa: E402
import sys  # noqa: E402
from pathlib import Path  # noqa: E402

sys.path.insert(0, str(Path(__file__).resolve().parent))
# Ray's workers are new processes: they find fedlite and workloads.py through PYTHONPATH
os.environ["PYTHONPATH"] = os.pathsep.join(
    [str(Path(__file__).resolve().parent), str(Path(__file__).resolve().parent.parent),
     os.environ.get("PYTHONPATH", "")])
# Ray on a busy 2-core machine (deploy/flower_local.py's workaround, plus health checks): its helper
# processes need longer than the defaults to start and to answer, or the raylet is declared dead;
# its memory monitor would kill workers when *other* users fill the machine's memory. Ray turns
# 127.0.0.1 into the machine's network address unless its multi-machine mode is off (the switch is
# named for Windows/macOS, where it is off by default): off, every Ray service uses the loopback address.
RAY_ENV = {"RAY_ENABLE_WINDOWS_OR_OSX_CLUSTER": "0",
           "RAY_agent_register_timeout_ms": "120000", "RAY_raylet_start_wait_time_s": "120",
           "RAY_health_check_initial_delay_ms": "60000", "RAY_health_check_period_ms": "10000",
           "RAY_health_check_timeout_ms": "60000", "RAY_health_check_failure_threshold": "30",
           "RAY_memory_monitor_refresh_ms": "0", "RAY_DEDUP_LOGS": "0", "OMP_NUM_THREADS": "1",
           "FLWR_DISABLE_UPDATE_CHECK": "1", "RAY_USAGE_STATS_ENABLED": "0"}
for _key, _value in RAY_ENV.items():
    os.environ.setdefault(_key, _value)


@functools.lru_cache(maxsize=2)
def workload(name: str):  # noqa: ANN201 (one per Ray worker process, built once)
    from workloads import WORKLOADS

    return WORKLOADS[name]()


def free_port() -> int:
    """A TCP port on 127.0.0.1 that nobody listens on right now."""
    import socket

    with socket.socket() as sock:
        sock.bind(("127.0.0.1", 0))
        return sock.getsockname()[1]


def fix_ray_agent_ports() -> None:
    """Let Ray's raylet start on a busy machine: its agents get fixed ports, announced in advance.

    The raylet waits a hard-coded 15 s for its node agents (dashboard agent,
    runtime-env agent) to write the ports they listen on into files of the
    session folder, and aborts when they start slower (ray-project/ray#65983,
    "Raylet crashes on slow dashboard agent startup due to a hard-coded 15s
    port-file timeout") -- what killed Flower's simulation on this busy 2-core
    machine, where importing the agents takes longer. ``ray.init`` exposes
    neither, so this benchmark (and only it) gives every agent a free port of
    127.0.0.1 and writes those port files before the raylet starts; the agents
    then bind exactly these ports. Private API of Ray 2.55.
    """
    from ray._private import node, parameter
    from ray._raylet import persist_port

    names = ("metrics_agent_port", "metrics_export_port", "dashboard_agent_listen_port", "runtime_env_agent_port")
    init, start_raylet = parameter.RayParams.__init__, node.Node.start_raylet

    def params_init(self, *args, **kwargs) -> None:  # noqa: ANN001
        init(self, *args, **kwargs)
        for name in names:
            if not getattr(self, name, None):
                setattr(self, name, free_port())

    def announce_then_start(self, *args, **kwargs):  # noqa: ANN001, ANN202
        for name in names:  # the file names are Ray's own constants: <name>_<node id>
            persist_port(self._session_dir, self._node_id, name, getattr(self._ray_params, name))
        return start_raylet(self, *args, **kwargs)

    parameter.RayParams.__init__ = params_init
    node.Node.start_raylet = announce_then_start


def flower(name: str, rounds: int) -> None:
    from flwr.app import ArrayRecord, ConfigRecord, Context, Message, MetricRecord, RecordDict
    from flwr.clientapp import ClientApp
    from flwr.serverapp import Grid, ServerApp
    from flwr.serverapp.strategy import FedAvg
    from flwr.simulation import run_simulation

    from fedlite.client import local_train
    from fedlite.simulation import round_seed

    num_clients = len(workload(name).clients)
    client_app, server_app = ClientApp(), ServerApp()
    replies: list[tuple[int, int]] = []   # (answers, errors) per round: a run with failed clients is no figure

    class CheckedFedAvg(FedAvg):
        def aggregate_train(self, server_round, messages):  # noqa: ANN001, ANN201
            messages = list(messages)
            replies.append((len(messages), sum(m.has_error() for m in messages)))
            return super().aggregate_train(server_round, messages)

    @client_app.train()
    def train(msg: Message, context: Context) -> Message:
        w = workload(name)
        k = int(context.node_config["partition-id"])
        model = w.model(0)
        model.load_state_dict(msg.content["arrays"].to_torch_state_dict())
        result = local_train(model, w.clients[k], w.local, seed=round_seed(0, int(msg.content["config"]["server-round"]), k))
        metrics = MetricRecord({"train-loss": result.loss, "num-examples": result.num_samples})
        return Message(RecordDict({"arrays": ArrayRecord(result.state), "metrics": metrics}), reply_to=msg)

    @server_app.main()
    def main(grid: Grid, context: Context) -> None:
        strategy = CheckedFedAvg(fraction_train=1.0, fraction_evaluate=0.0, min_train_nodes=num_clients,
                          min_available_nodes=num_clients)
        strategy.start(grid=grid, initial_arrays=ArrayRecord(workload(name).model(0).state_dict()),
                       num_rounds=rounds, timeout=600, train_config=ConfigRecord({}))

    import tempfile

    fix_ray_agent_ports()
    with tempfile.TemporaryDirectory(prefix="fedlite-ray-") as ray_tmp:
        # Ray binds 127.0.0.1 only (no other network), without a dashboard, in a folder of its own
        init_args = {"num_cpus": os.cpu_count() or 1, "include_dashboard": False,
                     "_node_ip_address": "127.0.0.1", "_temp_dir": ray_tmp}
        run_simulation(server_app=server_app, client_app=client_app, num_supernodes=num_clients,
                       backend_config={"client_resources": {"num_cpus": 1, "num_gpus": 0.0},
                                       "init_args": init_args})
    if replies != [(num_clients, 0)] * rounds:
        sys.exit(f"Flower's run is incomplete: (replies, errors) per round {replies}, expected "
                 f"{[(num_clients, 0)] * rounds}")


def fedlite_run(name: str, rounds: int) -> None:
    import fedlite as fl

    w = workload(name)
    history = fl.run_federated(w.model(0), w.clients, w.test, rounds=rounds, local=w.local, progress=False)
    print(f"engine: {history.engine}")


def main(started: float = STARTED) -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("workload", choices=["table", "cnn"])
    parser.add_argument("--engine", choices=["flower", "fedlite"], default="flower")
    parser.add_argument("--rounds", type=int, default=3)
    args = parser.parse_args()
    (flower if args.engine == "flower" else fedlite_run)(args.workload, args.rounds)
    print(f"seconds={time.perf_counter() - started:.3f}", flush=True)


if __name__ == "__main__":
    # Ray's workers unpickle the ClientApp's functions by module name, and cannot import __main__:
    # run this file as the importable module flower_sim (its folder is on the path), timed from here.
    import flower_sim

    flower_sim.main(STARTED)
