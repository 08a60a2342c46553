"""Centralized test accuracy and AUC of the course's default model on every dataset.

These are the references the notebooks compare federated runs against:

- images (PneumoniaMNIST, BreastMNIST): SmallCNN, SGD lr 0.02 momentum 0.9, B=32;
- tables (heart disease, pooled over the 4 hospitals; Breast Cancer Wisconsin): logistic
  regression on features standardized with federated statistics (equal to pooled ones), Adam.

    python benchmarks/reference_accuracy.py [--seeds 3]
"""

from __future__ import annotations

import argparse
import statistics

import fedlite as fl
from fedlite.datasets import load_breast_cancer_wisconsin, load_heart_disease, load_medmnist
from fedlite.heterogeneity.normalize import federated_mean_std, standardize

IMAGES = fl.LocalConfig(lr=0.02, momentum=0.9, batch_size=32)
TABLES = fl.LocalConfig(lr=0.01, optimizer="adam", batch_size=16)


def images(name: str, seed: int, epochs: int) -> fl.History:
    data = load_medmnist(name)
    return fl.run_centralized(fl.make_model("cnn", seed=seed), data["train"], data["test"],
                              epochs=epochs, local=IMAGES, seed=seed, progress=False)


def table(train_parts: list[fl.Data], test_parts: list[fl.Data], seed: int, epochs: int) -> fl.History:
    mean, std = federated_mean_std(train_parts)
    train = standardize(fl.pool(train_parts), mean, std)
    test = standardize(fl.pool(test_parts), mean, std)
    model = fl.make_model("logreg", seed=seed, in_features=train.x.shape[1])
    return fl.run_centralized(model, train, test, epochs=epochs, local=TABLES, seed=seed, progress=False)


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--seeds", type=int, default=3)
    args = parser.parse_args()
    heart = load_heart_disease()
    wisconsin = load_breast_cancer_wisconsin()
    runs = {
        "pneumoniamnist (SmallCNN, 10 epochs)": lambda s: images("pneumoniamnist", s, 10),
        "breastmnist (SmallCNN, 30 epochs)": lambda s: images("breastmnist", s, 30),
        "heart_disease pooled (logreg, 30 epochs)": lambda s: table(
            [h["train"] for h in heart.values()], [h["test"] for h in heart.values()], s, 30),
        "breast_cancer_wisconsin (logreg, 30 epochs)": lambda s: table(
            [wisconsin["train"]], [wisconsin["test"]], s, 30),
    }
    for name, run in runs.items():
        finals = [run(seed) for seed in range(args.seeds)]
        acc = [h.final("accuracy") for h in finals]
        auc = [h.final("auc") for h in finals]
        print(f"{name:45s} accuracy {statistics.mean(acc):.3f} (min {min(acc):.3f}, max {max(acc):.3f})  "
              f"AUC {statistics.mean(auc):.3f}  over {args.seeds} seeds", flush=True)


if __name__ == "__main__":
    main()
