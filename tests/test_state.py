"""fedlite.state: the state toolkit, against answer keys computed by hand."""

import math

import pytest
import torch

from fedlite.state import (apply_update, cast_like, copy_state, distance, flatten, norm, state_bytes,
                           update_of)


def test_update_norm_and_distance_by_hand():
    w_k = {"w": torch.tensor([3.0, 5.0]), "b": torch.tensor([[2.0]]), "n": torch.tensor(7)}
    w_t = {"w": torch.tensor([0.0, 1.0]), "b": torch.tensor([[2.0]]), "n": torch.tensor(3)}
    delta = update_of(w_k, w_t)
    assert set(delta) == {"w", "b"}                         # the integer counter is no update
    assert delta["w"].tolist() == [3.0, 4.0]
    assert norm(delta) == 5.0                               # sqrt(3^2 + 4^2 + 0^2)
    assert distance(w_k, w_t) == 5.0
    back = apply_update(w_t, delta, w_k)
    assert back["w"].tolist() == [3.0, 5.0] and int(back["n"]) == 7   # counters come as sent
    assert flatten(w_k).tolist() == [3.0, 5.0, 2.0]


def test_norm_of_non_finite_updates():
    assert math.isnan(norm({"w": torch.tensor([math.nan, 1.0])}))
    assert norm({"w": torch.tensor([math.inf, 1.0])}) == math.inf


def test_cast_like_rounds_integers_instead_of_truncating():
    assert cast_like(torch.tensor(2.7, dtype=torch.float64), torch.tensor(0)).item() == 3
    assert cast_like(torch.tensor(-2.7, dtype=torch.float64), torch.tensor(0)).item() == -3
    out = cast_like(torch.tensor(0.25, dtype=torch.float64), torch.tensor(1.0))
    assert out.dtype == torch.float32 and out.item() == 0.25


def test_copy_state_is_detached_from_later_training():
    model = torch.nn.Linear(2, 1)
    saved = copy_state(model)
    with torch.no_grad():
        model.weight.add_(1.0)
    assert distance(saved, model.state_dict()) == pytest.approx(math.sqrt(2))
    assert not saved["weight"].requires_grad


def test_state_bytes_counts_every_element():
    assert state_bytes({"w": torch.zeros(3, 2), "n": torch.tensor(0, dtype=torch.int64)}) == 6 * 4 + 8
