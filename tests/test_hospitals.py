"""Simulated hospitals: each skew covers every image once; scanner shift is real and fixed."""

from __future__ import annotations

import numpy as np
import pytest
import torch

from fedlite.heterogeneity import partition
from fedlite.data import Data
from fedlite.heterogeneity.hospitals import make_hospitals, scanner_params, scanner_shift


@pytest.fixture
def images() -> Data:
    """200 smooth random grey 1x28x28 images in [0, 1] with balanced labels."""
    g = torch.Generator().manual_seed(0)
    coarse = torch.rand(200, 1, 7, 7, generator=g)
    x = torch.nn.functional.interpolate(coarse, size=(28, 28), mode="bilinear")
    return Data(x, torch.arange(200) % 2)


def test_scanner_shift_is_deterministic_per_hospital(images):
    first, again = scanner_shift(images.x, 2, seed=7), scanner_shift(images.x, 2, seed=7)
    other_hospital = scanner_shift(images.x, 3, seed=7)
    other_seed = scanner_shift(images.x, 2, seed=8)
    assert torch.equal(first, again)
    assert not torch.equal(first, other_hospital) and not torch.equal(first, other_seed)


def test_scanner_shift_changes_each_hospitals_pixel_statistics(images):
    # Execute: 4 hospitals, same images
    shifted = [scanner_shift(images.x, k, seed=0) for k in range(4)]
    means = torch.tensor([s.mean() for s in shifted])
    stds = torch.tensor([s.std() for s in shifted])
    # Assert: every scanner moves mean or std clearly, and the hospitals differ from each other
    change = torch.maximum((means - images.x.mean()).abs(), (stds - images.x.std()).abs())
    assert (change > 0.02).all(), change
    assert means.max() - means.min() > 0.05 and stds.max() - stds.min() > 0.02
    assert all(s.shape == images.x.shape and 0 <= s.min() and s.max() <= 1 for s in shifted)


def test_every_scanner_is_away_from_the_identity():
    for k in range(20):
        s = scanner_params(k, seed=0)
        assert abs(np.log(s.gamma)) >= 0.15 and abs(np.log(s.contrast)) >= 0.15
        assert abs(s.brightness) >= 0.03


def test_scanner_hospitals_match_scanner_shift_for_test_images(images):
    # Prepare: the iid partition that skew="scanner" uses
    parts = partition.iid(len(images), 3, seed=5)
    # Execute
    hospitals = make_hospitals(images, 3, skew="scanner", seed=5)
    # Assert: hospital k's images are exactly scanner_shift(., k) of its share
    for k, (hospital, idx) in enumerate(zip(hospitals, parts)):
        assert torch.equal(hospital.x, scanner_shift(images.subset(idx).x, k, seed=5))


@pytest.mark.parametrize("skew", ["iid", "label", "quantity", "scanner"])
def test_every_skew_keeps_every_label_once(images, skew):
    hospitals = make_hospitals(images, 4, skew=skew, alpha=0.5, seed=1)
    assert len(hospitals) == 4 and sum(len(h) for h in hospitals) == len(images)
    labels = torch.cat([h.y for h in hospitals])
    assert torch.bincount(labels).tolist() == torch.bincount(images.y).tolist()


def test_label_skew_is_skewed_and_quantity_skew_is_unequal(images):
    label = make_hospitals(images, 4, skew="label", alpha=0.1, seed=0)
    quantity = make_hospitals(images, 4, skew="quantity", alpha=0.5, seed=0)
    shares = [h.y.float().mean().item() for h in label]
    assert max(shares) - min(shares) > 0.5
    assert max(map(len, quantity)) > 2 * min(map(len, quantity))


def test_bad_skew_and_tabular_scanner_are_explained(images):
    with pytest.raises(ValueError, match="iid, label, quantity, scanner"):
        make_hospitals(images, 2, skew="site", seed=0)
    table = Data(torch.rand(10, 3), torch.zeros(10).long())
    with pytest.raises(ValueError, match=r"\(N, C, H, W\)"):
        make_hospitals(table, 2, skew="scanner", seed=0)
