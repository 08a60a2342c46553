"""The FAQ answers the five questions, each with a link to the notebook that shows it.

(That every link leads to a file that exists is tests/test_links.py's job.)"""

from __future__ import annotations

import re
from pathlib import Path

ROOT = Path(__file__).resolve().parent.parent
FAQ = ROOT / "docs" / "faq.md"
NOTEBOOK = re.compile(r"\.\./notebooks/(\d\d[a-z]?)_[a-z_]+\.ipynb")  # 03a: a part of notebook 03


def test_faq_answers_the_five_questions_each_with_notebook_links():
    text = FAQ.read_text(encoding="utf-8")
    questions = re.split(r"^### ", text.split("## Glossary")[0], flags=re.MULTILINE)[1:]
    assert len(questions) == 5, "the FAQ answers exactly the five questions"
    for section in questions:
        assert NOTEBOOK.search(section), f"no notebook link in the answer to: {section.splitlines()[0]}"


def test_faq_links_every_course_notebook_and_has_a_glossary():
    text = FAQ.read_text(encoding="utf-8")
    linked = set(NOTEBOOK.findall(text))
    course = {p.name.split("_")[0] for p in (ROOT / "notebooks").glob("[0-9][0-9]*_*.ipynb")}
    assert len(course) >= 8
    assert linked >= course, f"notebooks never linked: {sorted(course - linked)}"
    glossary = text.split("## Glossary", 1)[1]
    for term in ("FedAvg", "FedSGD", "non-IID", "Client drift", "FedProx", "FedBN", "Secure aggregation",
                 "Differential privacy", "ε", "Cross-silo", "Cross-device", "Horizontal FL", "Vertical FL",
                 "Byzantine", "Krum"):
        assert term.lower() in glossary.lower(), f"glossary misses {term}"
