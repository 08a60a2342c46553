"""Offline behaviour (issue 11 §1): no data and no network must leave no litter and never crash.

Every test runs with ``FEDLITE_MIRROR`` on a closed loopback port (conftest), so each download
fails at once, as on a laptop without network.
"""

from __future__ import annotations

import os
import tempfile
from pathlib import Path

import pytest
import torch

from fedlite import datasets
from fedlite.datasets.__main__ import main as cli
from fedlite.datasets.download import DataNotAvailable, NotWritable, fetch, missing_files
from fedlite.datasets.synthetic import SyntheticDataWarning


def test_failed_fetch_removes_the_data_folders_it_created(tmp_path, monkeypatch):
    # Prepare: FEDLITE_DATA names a folder (and a parent) that do not exist yet
    target = tmp_path / "course" / "data"
    monkeypatch.setenv("FEDLITE_DATA", str(target))
    # Execute
    with pytest.raises(DataNotAvailable, match="could not be downloaded"):
        fetch("breastmnist", progress=False)
    # Assert: neither <FEDLITE_DATA>/medmnist nor FEDLITE_DATA nor its new parent is left behind
    assert list(tmp_path.iterdir()) == []


def test_fallback_after_a_failed_fetch_leaves_no_empty_folder(tmp_path, monkeypatch, allow_synthetic):
    target = tmp_path / "data"
    monkeypatch.setenv("FEDLITE_DATA", str(target))
    with pytest.warns(SyntheticDataWarning):
        splits = datasets.load_heart_disease()
    assert splits.synthetic is True
    assert not target.exists()


def test_a_data_folder_that_existed_before_is_kept(empty_data_dir):
    with pytest.raises(DataNotAvailable):
        fetch("pneumoniamnist", progress=False)
    assert empty_data_dir.is_dir() and list(empty_data_dir.iterdir()) == []


def deny_writes(monkeypatch: pytest.MonkeyPatch) -> None:
    """Make creating the download's temporary file fail as in a read-only folder (EACCES).

    Tests run as root in CI containers, where ``chmod`` does not stop writes.
    """
    def refuse(*args: object, dir: str | None = None, **kwargs: object) -> tuple[int, str]:
        raise PermissionError(13, "Permission denied", dir)

    monkeypatch.setattr(tempfile, "mkstemp", refuse)


def test_read_only_data_dir_with_a_missing_file_falls_back_loudly(empty_data_dir, allow_synthetic,
                                                                    monkeypatch, capsys):
    deny_writes(monkeypatch)
    with pytest.warns(SyntheticDataWarning, match="cannot take a download.*Permission denied"):
        splits = datasets.load_medmnist("breastmnist")
    assert splits.synthetic is True
    assert "NOT REAL" in capsys.readouterr().err  # the banner
    assert list(empty_data_dir.iterdir()) == []


def test_read_only_data_dir_is_an_error_when_real_data_is_required(empty_data_dir, require_real,
                                                                   monkeypatch):
    deny_writes(monkeypatch)
    with pytest.raises(RuntimeError, match="cannot take a download") as err:
        datasets.load_medmnist("breastmnist")
    assert "FEDLITE_REQUIRE_REAL_DATA" in str(err.value)
    assert "set FEDLITE_DATA to a writable folder" in str(err.value)


def test_fetch_into_a_read_only_folder_says_so(empty_data_dir, monkeypatch):
    deny_writes(monkeypatch)
    with pytest.raises(NotWritable, match="copy the file into"):
        fetch("breastmnist", progress=False)


@pytest.mark.skipif(os.name != "posix" or os.geteuid() == 0, reason="root ignores file permissions")
def test_read_only_by_permissions_falls_back(empty_data_dir, allow_synthetic):
    empty_data_dir.chmod(0o555)
    try:
        with pytest.warns(SyntheticDataWarning, match="cannot take a download"):
            assert datasets.load_heart_disease().synthetic is True
    finally:
        empty_data_dir.chmod(0o755)


def without_va(mirror_dir: Path) -> Path:
    """The copy of the real heart files, minus VA's: 3 of 4 files present."""
    (mirror_dir / "uci_heart_disease" / "processed.va.data").unlink()
    return mirror_dir


def test_three_of_four_heart_files_names_the_missing_one(mirror_dir, monkeypatch, require_real):
    monkeypatch.setenv("FEDLITE_DATA", str(without_va(mirror_dir)))
    assert missing_files("heart_disease") == ["processed.va.data"]
    with pytest.raises(RuntimeError) as err:
        datasets.load_heart_disease()
    message = str(err.value)
    assert "only 3 of 4 files of 'heart_disease'" in message
    assert "missing: processed.va.data" in message


def test_three_of_four_heart_files_fall_back_naming_the_missing_one(mirror_dir, monkeypatch,
                                                                    allow_synthetic):
    monkeypatch.setenv("FEDLITE_DATA", str(without_va(mirror_dir)))
    with pytest.warns(SyntheticDataWarning, match="3 of 4 files.*missing: processed.va.data"):
        assert datasets.load_heart_disease().synthetic is True


def test_cli_list_names_the_missing_file(mirror_dir, monkeypatch, capsys):
    monkeypatch.setenv("FEDLITE_DATA", str(without_va(mirror_dir)))
    assert cli(["list"]) == 0
    out = capsys.readouterr().out
    heart = [line for line in out.splitlines() if "heart_disease" in line][0]
    assert "partial" in heart
    assert "only 3 of 4 files; missing: processed.va.data" in out


def test_heart_hospitals_accepts_the_splits_a_notebook_loaded(empty_data_dir, allow_synthetic):
    # A notebook loads in a cell of its own (the offline banner shows there), then standardizes.
    from fedlite.datasets.heart import heart_hospitals

    with pytest.warns(SyntheticDataWarning):
        heart = datasets.load_heart_disease(seed=2)
        loaded_here = heart_hospitals(seed=2)
    given = heart_hospitals(heart)
    assert heart.synthetic is True and given.names == loaded_here.names
    for a, b in zip(given.trains + given.tests, loaded_here.trains + loaded_here.tests):
        assert torch.equal(a.x, b.x) and torch.equal(a.y, b.y)
