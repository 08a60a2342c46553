"""A model as a list of NumPy arrays: the form in which FL frameworks pass weights around.

fedlite keeps a model's weights as its ``state_dict``: an ordered mapping from
names (``"linear.weight"``) to tensors. Most federated-learning frameworks
exchange something simpler: a plain list of NumPy arrays, in a fixed order,
without names. Flower's ``NumPyClient``, for example, receives the global model
in ``fit(parameters, config)`` as such a list and returns one, together with
its number of training examples. Each side knows its own parameter names, so
the names never need to travel; both sides only have to agree on the order.

- :func:`to_ndarrays` turns a state into that list (state order, every tensor,
  buffers included, dtypes kept);
- :func:`from_ndarrays` turns a list back into a state, taking names, dtypes
  and shapes from a reference state (and, if the sender sent them, checking
  the names: arrays of equal shapes cannot be told apart otherwise);
- :func:`weighted_average` is FedAvg on such lists (McMahan et al. 2017,
  Algorithm 1)::

      w = sum_k (n_k / n) * w_k,      n = sum_k n_k

  which *is* :func:`fedlite.aggregate.fedavg`, applied to the arrays named
  by their position (summed in float64, cast back to each array's dtype;
  integer arrays such as BatchNorm's ``num_batches_tracked`` are counters,
  which take the plain mean over clients, rounded).

The three functions are all it takes to put fedlite's client behind a
framework's interface; notebook 07 does it and checks that one round gives
the same global model as :func:`fedlite.run_federated`.
"""

from __future__ import annotations

from collections.abc import Mapping, Sequence

import numpy as np
import torch
from torch import Tensor

from fedlite.aggregate import fedavg

NDArrays = list[np.ndarray]
"""A model's weights as a list of arrays, in its state's order."""


def to_ndarrays(state: Mapping[str, Tensor]) -> NDArrays:
    """The tensors of ``state`` as a list of NumPy arrays, in the state's order.

    Every entry is included (buffers such as BatchNorm's running statistics
    too) and keeps its dtype and shape. The arrays are copies: changing them
    does not change the model.

    Parameters
    ----------
    state
        A model's ``state_dict()`` (or any mapping from names to tensors).
    """
    if len(state) == 0:
        raise ValueError("the state is empty: pass a model's state_dict(), which has at least one tensor")
    return [t.detach().cpu().numpy().copy() for t in state.values()]


def from_ndarrays(arrays: Sequence[np.ndarray], like: Mapping[str, Tensor], *,
                  names: Sequence[str] | None = None) -> dict[str, Tensor]:
    """Give a list of arrays (from :func:`to_ndarrays`) its names back.

    Only counts and shapes can be checked against ``like``: two entries of
    the same shape and dtype (two ``(64,)`` biases, say) that arrive swapped
    are *not* detected, because a bare list carries no names. When the
    sender can add them (e.g. ``list(state)`` in a Flower ``config`` dict),
    pass ``names``: they must be ``like``'s names in ``like``'s order, and any
    difference is an error.

    Parameters
    ----------
    arrays
        One array per entry of ``like``, in the order of ``like``.
    like
        A state of the same architecture, e.g. ``model.state_dict()``: it
        supplies the names, the shapes to check, and the dtypes to cast to.
    names
        Optional: the sender's names of ``arrays``, in the order sent.

    Returns
    -------
    dict
        ``{name: tensor}``, ready for ``model.load_state_dict``.

    Raises
    ------
    ValueError
        If the number of arrays or any array's shape differs from ``like``,
        or ``names`` differ from ``like``'s names.
    """
    if names is not None:
        check_names(names, list(like))
    if len(arrays) != len(like):
        raise ValueError(f"got {len(arrays)} arrays for a model with {len(like)} state entries; "
                         "send every entry of state_dict() (buffers included), in its order")
    state: dict[str, Tensor] = {}
    for (name, ref), array in zip(like.items(), arrays):
        array = np.asarray(array)
        if tuple(array.shape) != tuple(ref.shape):
            raise ValueError(f"{name!r}: array of shape {tuple(array.shape)}, but the model expects "
                             f"{tuple(ref.shape)}; are the arrays in the state's order?")
        state[name] = torch.from_numpy(array.copy()).to(ref.dtype)
    return state


def check_names(sent: Sequence[str], expected: Sequence[str]) -> None:
    """Raise ``ValueError`` unless the sender's names are ``expected``, in that order."""
    if list(sent) == list(expected):
        return
    if sorted(sent) != sorted(expected):
        raise ValueError(f"the sender's names differ from the model's: {sorted(set(sent) ^ set(expected))[:5]}; "
                         "both sides must build the same architecture")
    i = next(i for i, (a, b) in enumerate(zip(sent, expected)) if a != b)
    raise ValueError(f"arrays arrived in another order: position {i} holds {sent[i]!r} but the model "
                     f"expects {expected[i]!r}; send them in state_dict() order")


def weighted_average(results: Sequence[tuple[Sequence[np.ndarray], float]]) -> NDArrays:
    """FedAvg on lists of arrays: ``sum_k (n_k / n) * arrays_k``.

    The arrays are named by their position and handed to
    :func:`fedlite.aggregate.fedavg`, so the math (and every check of its
    input) is the course's one FedAvg, not a second copy of it.

    Parameters
    ----------
    results
        One ``(arrays, n_k)`` pair per client: its model as a list of arrays
        (all clients alike) and its number of training samples, which is what
        a client's ``fit`` returns (apart from its metrics).

    Returns
    -------
    list of numpy.ndarray
        The weighted average, array by array, each in its input dtype
        (integer arrays: the plain, unweighted mean over clients, rounded
        half up, as in :func:`fedlite.aggregate.fedavg`).
    """
    if len(results) == 0:
        raise ValueError("nothing to average: got no (arrays, num_examples) pairs")
    states = [{str(i): torch.from_numpy(np.array(a)) for i, a in enumerate(arrays)} for arrays, _ in results]
    average = fedavg(states, [float(n) for _, n in results])
    return [average[str(i)].numpy() for i in range(len(average))]
