"""Downloads against HTTP servers on 127.0.0.1 only: success, tampering, breaks, offline."""

from __future__ import annotations

import hashlib
from pathlib import Path

import pytest

from fedlite import datasets
from fedlite.datasets.catalog import DATASETS
from fedlite.datasets.download import (ChecksumError, DataNotAvailable, download_file, fetch, md5sum,
    mirror_url)

HEART = DATASETS["heart_disease"]


def files_in(folder: Path) -> list[str]:
    """Every file left in ``folder`` (recursively), temporary ones included."""
    return sorted(p.name for p in folder.rglob("*") if p.is_file())


def test_download_file_writes_the_verified_bytes(tmp_path, http_server):
    # Prepare: a blob served from a loopback server (needs no real dataset)
    served = tmp_path / "served"
    served.mkdir()
    blob = bytes(range(256)) * 1000
    (served / "blob.bin").write_bytes(blob)
    url = http_server(served)
    dest = tmp_path / "cache" / "blob.bin"
    # Execute
    download_file(f"{url}/blob.bin", dest, hashlib.md5(blob).hexdigest(), progress=False)
    # Assert: exact bytes, no temporary file left
    assert dest.read_bytes() == blob
    assert files_in(dest.parent) == ["blob.bin"]


def test_fetch_from_mirror_verifies_and_loads(empty_data_dir, mirror_dir, http_server):
    # Execute
    paths = fetch("heart_disease", base_url=http_server(mirror_dir), progress=False)
    # Assert: four verified files, nothing else, and the loader now reads real data
    assert [p.name for p in paths] == [s.name for s in HEART.files]
    assert all(md5sum(p) == s.md5 for p, s in zip(paths, HEART.files))
    assert files_in(empty_data_dir) == sorted(s.name for s in HEART.files)
    assert datasets.load_heart_disease().synthetic is False


def test_loading_downloads_missing_files_from_fedlite_mirror(empty_data_dir, mirror_dir,
                                                             http_server, monkeypatch,
                                                             require_real):
    monkeypatch.setenv("FEDLITE_MIRROR", http_server(mirror_dir))
    hospitals = datasets.load_heart_disease()
    assert hospitals.synthetic is False and len(hospitals["va"]["test"]) == 45
    assert (empty_data_dir / "uci_heart_disease" / "processed.va.data").is_file()


def test_fetch_skips_files_that_are_already_verified(empty_data_dir, mirror_dir, http_server,
                                                     offline_url):
    # Prepare: a first fetch fills the cache
    fetch("heart_disease", base_url=http_server(mirror_dir), progress=False)
    # Execute: fetching again with the server unreachable still succeeds (nothing to download)
    paths = fetch("heart_disease", base_url=offline_url, progress=False)
    # Assert
    assert all(p.is_file() for p in paths)


def test_fetch_replaces_a_corrupt_cached_file(empty_data_dir, mirror_dir, http_server):
    # Prepare
    cached = empty_data_dir / "uci_heart_disease" / "processed.va.data"
    cached.parent.mkdir()
    cached.write_text("corrupt")
    # Execute
    fetch("heart_disease", base_url=http_server(mirror_dir), progress=False)
    # Assert
    assert md5sum(cached) == "4249d03ca7711e84f4444768c9426170"


def test_tampered_download_is_rejected_and_leaves_nothing(empty_data_dir, mirror_dir, http_server):
    # Prepare: the mirror serves a modified Cleveland file (the first file fetched)
    served = mirror_dir / "uci_heart_disease" / "processed.cleveland.data"
    served.write_text(served.read_text().replace("63.0", "36.0", 1))
    # Execute
    with pytest.raises(ChecksumError) as err:
        fetch("heart_disease", base_url=http_server(mirror_dir), progress=False)
    # Assert: expected and actual md5 named; no file, no temporary file
    assert "2d91a8ff69cfd9616aa47b59d6f843db" in str(err.value)
    assert md5sum(served) in str(err.value)
    assert files_in(empty_data_dir) == [] and list(empty_data_dir.iterdir()) == []


def test_broken_transfer_leaves_no_file_and_no_temp_file(empty_data_dir, http_server):
    # Prepare: a server that promises more bytes than it sends, then hangs up
    url = http_server(broken=True)
    # Execute
    with pytest.raises(DataNotAvailable, match="could not be downloaded"):
        fetch("breastmnist", base_url=url, progress=False)
    # Assert
    assert files_in(empty_data_dir) == [] and list(empty_data_dir.iterdir()) == []


def test_download_file_reports_the_broken_transfer(tmp_path, http_server):
    dest = tmp_path / "x.bin"
    with pytest.raises(DataNotAvailable, match="broke off|IncompleteRead|could not download"):
        download_file(f"{http_server(broken=True)}/x.bin", dest, "0" * 32, progress=False)
    assert files_in(tmp_path) == []


def test_unreachable_server_gives_the_offline_message(empty_data_dir, offline_url):
    with pytest.raises(DataNotAvailable) as err:
        fetch("heart_disease", base_url=offline_url, progress=False)
    message = str(err.value)
    assert "could not be downloaded" in message and "connect to the internet" in message
    assert "FEDLITE_DATA" in message and "fetch heart_disease" in message
    assert files_in(empty_data_dir) == [] and list(empty_data_dir.iterdir()) == []


def test_http_404_is_reported_as_not_available(empty_data_dir, tmp_path, http_server):
    url = http_server(tmp_path / "empty_mirror_that_does_not_exist")
    with pytest.raises(DataNotAvailable, match="HTTP 404"):
        fetch("breastmnist", base_url=url, progress=False)


def test_mirror_url_layout_and_scheme_check():
    spec = HEART.files[3]
    assert mirror_url(HEART, spec, "http://127.0.0.1:8000/") == \
        "http://127.0.0.1:8000/uci_heart_disease/processed.va.data"
    with pytest.raises(ValueError, match="http://, https:// or file://"):
        mirror_url(HEART, spec, "ftp://127.0.0.1/data")
