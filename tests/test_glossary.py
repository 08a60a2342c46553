"""The bilingual glossary, the notation card and the Chinese door in (issue 15).

How "used" is detected: each glossary row ends with a `found by` string; a notebook *uses* a term when
that string occurs in its text twin (case-insensitive). Every row must link to a notebook that uses it,
every term the FAQ's glossary defines and every term the issue named must have a row, and every pair
"中文（English）" in the notebooks' Chinese summaries and in README.zh-CN.md must use the glossary's names.
"""

from __future__ import annotations

import re
from pathlib import Path

import jupytext
import pytest

ROOT = Path(__file__).resolve().parent.parent
NOTEBOOKS = ROOT / "notebooks"
GLOSSARY = ROOT / "docs" / "glossary.md"
MAIN = sorted(NOTEBOOKS.glob("[0-9][0-9]*_*.ipynb"))
CJK = re.compile(r"[\u4e00-\u9fff]")
ROW = re.compile(r"^\| (?P<en>[^|]+?) \| (?P<zh>[^|]+?) \| (?P<definition>[^|]+?) \| "
                 r"\[(?P<number>[^\]]+)\]\(\.\./notebooks/(?P<file>[^)]+)\) \| `(?P<match>[^`]+)` \|$", re.M)


def twin(ipynb_name: str) -> Path:
    return NOTEBOOKS / "text" / ipynb_name.replace(".ipynb", ".py")


def rows() -> list[dict[str, str]]:
    return [m.groupdict() for m in ROW.finditer(GLOSSARY.read_text(encoding="utf-8"))]


def english_keys(en: str) -> set[str]:
    """The ways a glossary row's English name may be written: "Federated learning (FL)" is found as
    "federated learning" and as "fl"; "Dirichlet distribution, concentration α" also as "dirichlet distribution"."""
    en = en.lower()
    keys = {en, re.sub(r"\s*\([^)]*\)", "", en).strip()}
    keys |= {inner.strip() for inner in re.findall(r"\(([^)]*)\)", en)}
    keys |= {en.split(",")[0].strip()}
    return {k for k in keys if k}


def chinese_core(zh: str) -> str:
    """"联邦平均（FedAvg）" -> "联邦平均": the Chinese name without its parenthetical."""
    return re.sub(r"（[^）]*）", "", zh).strip()


GLOSSARY_ROWS = rows()


def test_the_glossary_table_is_read_completely():
    table_lines = [l for l in GLOSSARY.read_text(encoding="utf-8").splitlines()
                   if l.startswith("| ") and not l.startswith("| English") and not l.startswith("|---")]
    assert len(GLOSSARY_ROWS) == len(table_lines) >= 60, "a glossary row does not have the five columns"


@pytest.mark.parametrize("row", GLOSSARY_ROWS, ids=lambda r: r["en"])
def test_each_term_has_a_chinese_name_a_definition_and_links_a_notebook_that_uses_it(row):
    assert CJK.search(row["zh"]), f"{row['en']}: no Chinese name"
    assert len(row["definition"].split()) >= 5
    target = NOTEBOOKS / row["file"]
    assert target.exists() and target.name.startswith(row["number"] + "_")
    assert row["match"].lower() in twin(row["file"]).read_text(encoding="utf-8").lower(), \
        f"{row['en']}: notebook {row['number']} does not contain {row['match']!r}"


def test_every_term_appears_once():
    names = [r["en"].lower() for r in GLOSSARY_ROWS]
    assert len(names) == len(set(names))
    cores = [chinese_core(r["zh"]) for r in GLOSSARY_ROWS]
    assert len(cores) == len(set(cores)), "two English terms share one Chinese name"


@pytest.mark.parametrize("term", ["PSNR", "honest-but-curious", "error feedback", "BatchNorm buffers", "δ",
                                  "Rényi DP", "QSAR", "ECFP", "scaffold split", "Dirichlet", "client drift",
                                  "FedAvg", "secure aggregation", "differential privacy", "vertical FL"])
def test_the_terms_the_learner_missed_are_defined(term):
    assert any(term.lower() in r["en"].lower() for r in GLOSSARY_ROWS), f"{term} is not in the glossary"


def faq_terms() -> list[str]:
    faq = (ROOT / "docs" / "faq.md").read_text(encoding="utf-8")
    glossary_part = faq[faq.index("## Glossary"):]
    return re.findall(r"^\*\*(.+?)\.\*\*", glossary_part, flags=re.M)


def test_every_term_of_the_faq_glossary_is_in_the_bilingual_glossary():
    keys = set().union(*(english_keys(r["en"]) for r in GLOSSARY_ROWS))
    text = " ".join(r["en"].lower() for r in GLOSSARY_ROWS)
    missing = []
    for term in faq_terms():
        parts = re.split(r",\s*| and |\s*/\s*", re.sub(r"\s*\([^)]*\)", "", term.lower()))
        missing += [p for p in parts if p.strip() and p.strip() not in keys and p.strip() not in text]
    assert not missing, f"FAQ terms without a glossary row: {missing}"


@pytest.mark.parametrize("ipynb", MAIN, ids=lambda p: p.name)
def test_each_notebook_opens_with_a_two_line_chinese_summary_and_links_card_and_glossary(ipynb):
    first = jupytext.read(twin(ipynb.name)).cells[0].source
    summary = [l for l in first.splitlines() if l.startswith("> ")]
    assert len(summary) == 2 and summary[0].startswith("> **中文摘要：**"), "two lines starting '> **中文摘要：**'"
    assert all(CJK.search(l) for l in summary)
    assert "../docs/notation.md" in first and "../docs/glossary.md" in first


def chinese_texts() -> dict[str, str]:
    texts = {"README.zh-CN.md": (ROOT / "README.zh-CN.md").read_text(encoding="utf-8")}
    for ipynb in MAIN:
        first = jupytext.read(twin(ipynb.name)).cells[0].source
        texts[ipynb.name] = "\n".join(l for l in first.splitlines() if l.startswith("> "))
    return texts


@pytest.mark.parametrize("name, text", chinese_texts().items(), ids=lambda x: x if isinstance(x, str) and
                         x.endswith((".md", ".ipynb")) else "")
def test_chinese_terms_are_the_glossarys(name, text):
    by_english = {key: r for r in GLOSSARY_ROWS for key in english_keys(r["en"])}
    pairs = re.findall(r"([\u4e00-\u9fff]+)（([A-Za-z][A-Za-z \-]*)）", text)
    for before, english in pairs:
        row = by_english.get(english.lower())
        assert row, f"{name}: '{english}' is not a glossary term"
        assert before.endswith(chinese_core(row["zh"])), \
            f"{name}: '{before}（{english}）' but the glossary says {chinese_core(row['zh'])}"


def bash_blocks(text: str) -> list[str]:
    return re.findall(r"```bash\n(.*?)```", text, flags=re.S)


def test_the_chinese_readme_has_the_same_commands_and_links_as_the_english_one():
    english = (ROOT / "README.md").read_text(encoding="utf-8")
    chinese = (ROOT / "README.zh-CN.md").read_text(encoding="utf-8")
    assert bash_blocks(chinese) == bash_blocks(english)
    notebook_links = re.compile(r"\]\(((?:notebooks/|https://colab\.research\.google\.com/)[^)]+\.ipynb)\)")
    assert sorted(notebook_links.findall(chinese)) == sorted(notebook_links.findall(english))
    binder = re.compile(r"\((https://mybinder\.org/v2/gh/[^)]+)\)")
    assert set(binder.findall(chinese)) == set(binder.findall(english))
    times = re.compile(r"^\| (\d\d[a-z]?) \| .*? \| (\d+) min \|", re.M)
    assert dict(times.findall(chinese)) == dict(times.findall(english))
    assert "README.zh-CN.md" in english, "the English README links the Chinese one"
