"""Every link in the project's Markdown leads somewhere: relative links to files in the repo, and the
Binder badge, the Colab links and the notebooks' Colab install cell to the project's own repository."""

from __future__ import annotations

import re
import tomllib
from pathlib import Path
from urllib.parse import unquote, urlparse

import nbformat
import pytest

ROOT = Path(__file__).resolve().parent.parent
DOCS = [ROOT / "README.md", ROOT / "CONTRIBUTING.md", ROOT / "data" / "README.md", *sorted((ROOT / "docs").glob("*.md"))]
MAIN = sorted((ROOT / "notebooks").glob("[0-9][0-9]*_*.ipynb"))
LINK = re.compile(r"\]\(\s*<?([^)\s>]+)>?(?:\s+\"[^\"]*\")?\s*\)")   # ](target "optional title"), also inside badges
REPOSITORY = tomllib.loads((ROOT / "pyproject.toml").read_text())["project"]["urls"]["Repository"]
SLUG = urlparse(REPOSITORY).path.strip("/")           # owner/name on GitHub


def links(path: Path) -> list[str]:
    return LINK.findall(path.read_text(encoding="utf-8"))


def test_link_pattern_reads_plain_titled_and_anchored_links(tmp_path):
    page = tmp_path / "page.md"
    page.write_text('[a](x.md) [b](../y.ipynb#part) [c](z.md "title") [d](https://e.org) [e](#top)')
    assert links(page) == ["x.md", "../y.ipynb#part", "z.md", "https://e.org", "#top"]


@pytest.mark.parametrize("doc", DOCS, ids=lambda p: str(p.relative_to(ROOT)))
def test_relative_links_point_to_files_in_the_repo(doc):
    local = [t for t in links(doc) if not urlparse(t).scheme and not t.startswith("#")]
    missing = [t for t in local if not (doc.parent / unquote(t.split("#")[0])).exists()]
    assert not missing, f"{doc.name} links to files that do not exist: {missing}"


def test_binder_badge_opens_notebook_00_of_this_repository():
    binder = [t for t in links(ROOT / "README.md") if t.startswith("https://mybinder.org/v2/gh/")]
    assert len(binder) == 1, "README needs exactly one Binder launch link"
    url = urlparse(binder[0])
    assert url.path == f"/v2/gh/{SLUG}/HEAD"
    assert url.query == "urlpath=lab/tree/notebooks/00_start_here.ipynb"
    assert (ROOT / "notebooks" / "00_start_here.ipynb").exists()
    assert (ROOT / "environment.yml").exists() and (ROOT / "postBuild").exists(), "what Binder builds from"


def test_every_notebook_has_a_colab_link_to_a_file_that_exists():
    prefix = f"https://colab.research.google.com/github/{SLUG}/blob/main/"
    colab = [t.removeprefix(prefix) for t in links(ROOT / "README.md") if t.startswith(prefix)]
    assert sorted(colab) == [str(p.relative_to(ROOT)) for p in MAIN]


@pytest.mark.parametrize("ipynb", MAIN, ids=lambda p: p.name)
def test_each_notebook_installs_this_repository_on_colab_and_only_there(ipynb):
    first_code = next(c for c in nbformat.read(ipynb, as_version=4).cells if c.cell_type == "code")
    assert 'if "google.colab" in sys.modules:' in first_code.source
    assert f"fedlite @ git+{REPOSITORY}" in first_code.source
