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


@functools.lru_cache(maxsize=2)
def workload(name: str):  # noqa: ANN201 (one per Ray worker process, built once)
    from workloads import WORKLOADS

    return WORKLOADS[name]()


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
        strategy = FedAvg(fraction_train=1.0, fraction_evaluate=0.0, min_train_nodes=num_clients,
                          min_available_nodes=num_clients)
        strategy.start(grid=grid, initial_arrays=ArrayRecord(workload(name).model(0).state_dict()),
                       num_rounds=rounds, timeout=600, train_config=ConfigRecord({}))

    run_simulation(server_app=server_app, client_app=client_app, num_supernodes=num_clients,
                   backend_config={"client_resources": {"num_cpus": 1, "num_gpus": 0.0}})


def fedlite_run(name: str, rounds: int) -> None:
    import fedlite as fl

    w = workload(name)
    history = fl.run_federated(w.model(0), w.clients, w.test, rounds=rounds, local=w.local, progress=False)
    print(f"engine: {history.engine}")


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("workload", choices=["table", "cnn"])
    parser.add_argument("--engine", choices=["flower", "fedlite"], default="flower")
    parser.add_argument("--rounds", type=int, default=3)
    args = parser.parse_args()
    (flower if args.engine == "flower" else fedlite_run)(args.workload, args.rounds)
    print(f"seconds={time.perf_counter() - STARTED:.3f}", flush=True)


if __name__ == "__main__":
    main()
