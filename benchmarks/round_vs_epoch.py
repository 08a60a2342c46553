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
from fedlite.partition import iid


def images(n: int = 4700) -> fl.Data:
    """The first n PneumoniaMNIST training images, or random ones if the data is absent (announced)."""
    try:
        from fedlite.datasets import load_medmnist
        train = load_medmnist("pneumoniamnist")["train"]
        print(f"data: PneumoniaMNIST train, first {n} of {len(train)} images")
        return train.subset(range(n))
    except Exception as err:  # timing does not depend on pixel values
        print(f"data: random 1x28x28 images (PneumoniaMNIST not loaded: {err})")
        g = torch.Generator().manual_seed(0)
        return fl.Data(torch.rand(n, 1, 28, 28, generator=g), torch.randint(0, 2, (n,), generator=g))


def timed(fn) -> float:
    start = time.perf_counter()
    fn()
    return time.perf_counter() - start


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--repeats", type=int, default=5)
    args = parser.parse_args()
    data = images()
    clients = fl.split(data, iid(len(data), 10, seed=0))
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
