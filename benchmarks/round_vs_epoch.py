"""Time one FedAvg round against one centralized epoch over the same images.

Setting (from the foundation issue): 10 clients x 470 images each, SmallCNN,
1 local epoch, batch size 32; the centralized epoch runs over the same 4,700
pooled images. Prints the median of several repeats, after one warm-up.

    python benchmarks/round_vs_epoch.py [--repeats 5]
"""

from __future__ import annotations

import argparse
import statistics
import time

import torch

import fedlite as fl
from fedlite.heterogeneity.partition import iid


def images(n: int = 4700) -> fl.Data:
    """The first n PneumoniaMNIST training images (or their announced synthetic twin)."""
    from fedlite.datasets import load_medmnist

    splits = load_medmnist("pneumoniamnist")  # announces the synthetic twin if the files are absent
    kind = "synthetic twin (timing is the same)" if splits.synthetic else "real"
    print(f"data: PneumoniaMNIST train ({kind}), first {n} of {len(splits['train'])} images")
    return splits["train"].subset(range(n))


def timed(fn) -> float:
    start = time.perf_counter()
    fn()
    return time.perf_counter() - start


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--repeats", type=int, default=5)
    args = parser.parse_args()
    data = images()
    clients = fl.subsets(data, iid(len(data), 10, seed=0))
    test = data.subset(range(624))
    config = fl.LocalConfig(epochs=1, batch_size=32, lr=0.05)
    model = fl.make_model("cnn", seed=0)

    def fedavg_round() -> None:
        fl.run_federated(model, clients, test, rounds=1, local=config, progress=False)

    def central_epoch() -> None:
        fl.run_centralized(model, data, test, epochs=1, local=config, progress=False)

    print(f"torch {torch.__version__}, {torch.get_num_threads()} threads")
    for name, fn in (("FedAvg round (10 x 470, E=1, B=32)", fedavg_round),
                     ("centralized epoch (4,700, B=32)", central_epoch)):
        fn()  # warm-up
        times = [timed(fn) for _ in range(args.repeats)]
        print(f"{name:38s} median {statistics.median(times):.3f} s  (min {min(times):.3f}, max {max(times):.3f})")


if __name__ == "__main__":
    main()
