"""fedlite: a small, readable federated-learning toolkit for the course notebooks.

Start reading at :mod:`fedlite.simulation` (the round loop), then
:mod:`fedlite.client` (local training) and :mod:`fedlite.aggregate` (FedAvg).
"""

from fedlite.aggregate import fedavg
from fedlite.client import LocalConfig, local_train
from fedlite.data import Data, make_data, pool, subsets
from fedlite.environment import limit_threads
from fedlite.history import History
from fedlite.metrics import evaluate
from fedlite.models import make_model
from fedlite.server import ServerAdam, ServerMomentum
from fedlite.simulation import (RoundContext, batchnorm_keys, federated_round, run_centralized, run_federated,
                                run_local_only, start_federation)

__version__ = "0.1.0"

limit_threads()  # a container's CPU quota, not the host's core count (see fedlite.environment)

__all__ = [
    "Data", "History", "LocalConfig", "RoundContext", "ServerAdam", "ServerMomentum", "batchnorm_keys",
    "evaluate", "fedavg", "federated_round", "local_train", "make_data", "make_model", "pool",
    "run_centralized", "run_federated", "run_local_only", "start_federation", "subsets",
]
