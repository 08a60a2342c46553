"""The few models the course trains.

- :class:`LogisticRegression` -- one linear layer; for tabular data such as
  the heart-disease hospitals (and the model FLamby uses there).
- :class:`MLP` -- one hidden layer, for tabular data.
- :class:`SmallCNN` -- about 102k parameters for 1x28x28 images; an epoch of
  ~4,700 images trains in well under a second on two CPU cores. Optional
  BatchNorm layers (``norm=True``) are what FedBN keeps local.
- :class:`KerasCNN` -- the conv32-conv64-dropout-fc128 network from the
  Keras MNIST example that many FL tutorials (and the course's seed article)
  use: ~1.2M parameters, about 12x the bytes per round of :class:`SmallCNN`.

Use :func:`make_model` to build one with a seeded initialisation. A model's
weights travel as its ``state_dict``; :func:`state_bytes`, :func:`flatten` and
:func:`distance` measure such a state.
"""

from __future__ import annotations

import torch
from torch import Tensor, nn


class LogisticRegression(nn.Module):
    """``logits = W x + b``; softmax cross-entropy makes it (multinomial) logistic regression."""

    def __init__(self, in_features: int, num_classes: int = 2) -> None:
        super().__init__()
        self.linear = nn.Linear(in_features, num_classes)

    def forward(self, x: Tensor) -> Tensor:
        return self.linear(x.flatten(1))


class MLP(nn.Module):
    """``Linear -> ReLU -> Linear``: the smallest network that is not linear."""

    def __init__(self, in_features: int, num_classes: int = 2, hidden: int = 32) -> None:
        super().__init__()
        self.net = nn.Sequential(nn.Flatten(), nn.Linear(in_features, hidden), nn.ReLU(),
                                 nn.Linear(hidden, num_classes))

    def forward(self, x: Tensor) -> Tensor:
        return self.net(x)


class SmallCNN(nn.Module):
    """Two 3x3 conv blocks (8 and 16 channels, each followed by 2x2 max-pooling)
    and two dense layers: 28x28 -> 14x14 -> 7x7 -> 128 -> classes.

    About 102k parameters, most of them in the first dense layer; the narrow
    convolutions keep an epoch over ~4,700 images near half a second on two
    CPU cores.

    With ``norm=True`` each conv is followed by BatchNorm; FedBN (Li et al.
    2021) keeps exactly those layers local to each hospital.
    """

    def __init__(self, num_classes: int = 2, in_channels: int = 1, norm: bool = False) -> None:
        super().__init__()

        def block(c_in: int, c_out: int) -> list[nn.Module]:
            layers: list[nn.Module] = [nn.Conv2d(c_in, c_out, 3, padding=1)]
            if norm:
                layers.append(nn.BatchNorm2d(c_out))
            return layers + [nn.ReLU(), nn.MaxPool2d(2)]

        self.features = nn.Sequential(*block(in_channels, 8), *block(8, 16))
        self.classifier = nn.Sequential(nn.Flatten(), nn.Linear(16 * 7 * 7, 128), nn.ReLU(),
                                        nn.Linear(128, num_classes))

    def forward(self, x: Tensor) -> Tensor:
        return self.classifier(self.features(x))


class KerasCNN(nn.Module):
    """conv32 -> conv64 -> maxpool -> dropout(0.25) -> fc128 -> dropout(0.5) -> classes."""

    def __init__(self, num_classes: int = 2, in_channels: int = 1) -> None:
        super().__init__()
        self.net = nn.Sequential(
            nn.Conv2d(in_channels, 32, 3), nn.ReLU(), nn.Conv2d(32, 64, 3), nn.ReLU(),
            nn.MaxPool2d(2), nn.Dropout(0.25), nn.Flatten(),
            nn.Linear(64 * 12 * 12, 128), nn.ReLU(), nn.Dropout(0.5), nn.Linear(128, num_classes))

    def forward(self, x: Tensor) -> Tensor:
        return self.net(x)


MODELS = {"logreg": LogisticRegression, "mlp": MLP, "cnn": SmallCNN, "keras_cnn": KerasCNN}


def make_model(name: str, *, seed: int, **kwargs: object) -> nn.Module:
    """Build model ``name`` (one of :data:`MODELS`) with weights initialised from ``seed``.

    The global torch RNG is left as it was, so building a model never changes
    what happens later in a notebook.
    """
    if name not in MODELS:
        raise ValueError(f"unknown model {name!r}; choose one of {sorted(MODELS)}")
    with torch.random.fork_rng(devices=[]):
        torch.manual_seed(seed)
        return MODELS[name](**kwargs)  # type: ignore[arg-type]


def count_parameters(model: nn.Module) -> int:
    """Number of trainable numbers in ``model``."""
    return sum(p.numel() for p in model.parameters() if p.requires_grad)
