"""How good is a model? Accuracy, ROC AUC and a one-call :func:`evaluate`.

ROC AUC is the probability that a randomly chosen positive case gets a
higher score than a randomly chosen negative one (ties count one half). It
is computed here from ranks (the Mann-Whitney U statistic)::

    AUC = (R_pos - n_pos (n_pos + 1) / 2) / (n_pos * n_neg)

where ``R_pos`` is the sum of the positives' ranks among all scores. It
does not depend on a decision threshold, which matters in medicine where a
screening test and a confirmatory test use different thresholds.
"""

from __future__ import annotations

from collections.abc import Sequence

import torch
import torch.nn.functional as F
from torch import Tensor, nn

from fedlite.data import Data, check_for_model


def accuracy(logits: Tensor, y: Tensor) -> float:
    """Fraction of samples whose highest logit is the true class."""
    if logits.shape[0] != y.shape[0] or logits.shape[0] == 0:
        raise ValueError(f"need matching non-empty logits and labels, got {logits.shape[0]} and {y.shape[0]}")
    return (logits.argmax(dim=1) == y).double().mean().item()


def _ranks(scores: Tensor) -> Tensor:
    """1-based ranks of ``scores``; tied scores share their average rank."""
    values, inverse, counts = torch.unique(scores.double(), return_inverse=True, return_counts=True)
    ends = counts.cumsum(0).double()
    average = ends - (counts.double() - 1) / 2
    return average[inverse]


def roc_auc(scores: Tensor, y: Tensor) -> float:
    """Binary ROC AUC of ``scores`` (higher = more positive) for labels ``y`` in {0, 1}.

    Returns ``nan`` when ``y`` holds only one class (AUC is undefined then).
    Raises ``ValueError`` for labels other than 0 and 1 and for NaN scores,
    which have no rank.
    """
    if scores.shape != y.shape or scores.ndim != 1:
        raise ValueError(f"scores and y must be 1-D of equal length, got {tuple(scores.shape)} and {tuple(y.shape)}")
    if not ((y == 0) | (y == 1)).all():
        raise ValueError(f"binary ROC AUC needs labels 0 and 1 only, got {sorted(set(y.tolist()))[:5]}; "
                         "for more classes use macro_auc, or pass (y == c) for one class")
    if scores.isnan().any():
        raise ValueError("scores contain NaN, which has no rank; check the model's outputs (did training diverge?)")
    pos = y == 1
    n_pos, n_neg = int(pos.sum()), int((~pos).sum())
    if n_pos == 0 or n_neg == 0:
        return float("nan")
    rank_sum = _ranks(scores)[pos].sum().item()
    return (rank_sum - n_pos * (n_pos + 1) / 2) / (n_pos * n_neg)


def auc_standard_error(auc: float, n_pos: int, n_neg: int) -> float:
    """Standard error of an AUC measured on ``n_pos`` positive and ``n_neg`` negative test cases.

    Hanley & McNeil (1982), "The meaning and use of the area under a ROC curve", Radiology 143, eq. 2::

        SE^2 = [A(1-A) + (n_pos-1)(Q1 - A^2) + (n_neg-1)(Q2 - A^2)] / (n_pos n_neg),
        Q1 = A / (2 - A),  Q2 = 2 A^2 / (1 + A).

    It measures how much the AUC of one fixed model would move if another test set of the same size were
    drawn: two models' AUCs a few SE apart on one test set cannot be told apart by that test set alone.
    (Two models scored on the *same* cases are correlated; DeLong et al. 1988 give the exact paired test.)
    """
    if not 0 <= auc <= 1:
        raise ValueError(f"auc must be in [0, 1], got {auc!r}")
    if n_pos < 1 or n_neg < 1:
        raise ValueError(f"need at least one positive and one negative case, got {n_pos} and {n_neg}")
    q1, q2 = auc / (2 - auc), 2 * auc**2 / (1 + auc)
    variance = (auc * (1 - auc) + (n_pos - 1) * (q1 - auc**2) + (n_neg - 1) * (q2 - auc**2)) / (n_pos * n_neg)
    return variance ** 0.5


def macro_auc(probs: Tensor, y: Tensor) -> float:
    """ROC AUC for any number of classes: binary AUC on class 1, else the
    unweighted mean of one-vs-rest AUCs over the classes present."""
    if probs.shape[1] == 2:
        return roc_auc(probs[:, 1], y)
    aucs = [roc_auc(probs[:, c], (y == c).long()) for c in range(probs.shape[1]) if (y == c).any()]
    aucs = [a for a in aucs if a == a]
    return sum(aucs) / len(aucs) if aucs else float("nan")


@torch.no_grad()
def predict(model: nn.Module, x: Tensor, batch_size: int = 2048) -> Tensor:
    """Logits of ``model`` on ``x``, in evaluation mode (no dropout, frozen BatchNorm)."""
    model.eval()
    return torch.cat([model(x[i:i + batch_size]) for i in range(0, x.shape[0], batch_size)])


def evaluate(model: nn.Module, data: Data, who: str = "the evaluation data") -> dict[str, float]:
    """Cross-entropy ``loss``, ``accuracy`` and ROC ``auc`` of ``model`` on ``data``.

    ``who`` names the data in the ``ValueError`` raised when they do not fit
    the model (labels outside ``0 .. C-1``, features of the wrong shape or dtype).
    """
    check_for_model(model, data, who)
    logits = predict(model, data.x)
    return {"loss": F.cross_entropy(logits, data.y).item(),
            "accuracy": accuracy(logits, data.y),
            "auc": macro_auc(logits.softmax(dim=1), data.y)}


def evaluate_clients(model: nn.Module | Sequence[nn.Module], parts: Sequence[Data]) -> list[dict[str, float]]:
    """:func:`evaluate` on each client's own data, in client order.

    ``model`` is one model for every client (a global model), or one model per
    client (``model[k]`` on ``parts[k]``: local-only or personalized models).
    """
    models = list(model) if isinstance(model, Sequence) else [model] * len(parts)
    if len(models) != len(parts):
        raise ValueError(f"got {len(models)} models for {len(parts)} clients; pass one model, or one per client")
    return [evaluate(m, part) for m, part in zip(models, parts)]
