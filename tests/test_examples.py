"""Every detection category against its labelled example table, through the real detector set.

The tables live in lexicons/examples/ and also feed `cs-audit explain`; a category or lexicon
without examples fails the meta-tests below.
"""

from __future__ import annotations

import pytest

from cs_audit.analysis.detectors import Detectors, detect_all
from cs_audit.catalog import documented_categories, examples_path, load_doc, load_examples
from cs_audit.model import DETECTION_CATEGORIES, Conversation, Message
from cs_audit.resources import data_dir

MINIMUM_EACH_WAY = 40
# Which category each lexicon serves; a new lexicon file must be added here (and so get examples).
LEXICON_CATEGORIES = {
    "acknowledgements": None,  # response metrics; tested in test_response.py
    "context": "risk.contact",  # shared context words: every table exercises them
    "rules": "tone.rude",  # the context rules of every detector
    "dispute_steps": "dispute.steps",
    "dispute_types": "dispute.type",
    "escalation": "buyer.escalation",
    "questions": "buyer.ignored_question",
    "jieba_user_dict": "tone.rude",
    "risk_contact": "risk.contact",
    "risk_lookalike": "risk.contact",
    "risk_payment": "risk.payment",
    "risk_refusal": "risk.refusal",
    "risk_review": "risk.review",
    "risk_safe": "risk.contact",
    "tone_apology": "tone.apology",
    "tone_closing": "tone.closing",
    "tone_context": "tone.rude",
    "tone_empathy": "tone.empathy",
    "tone_greeting": "tone.greeting",
    "tone_rude": "tone.rude",
    "tone_thanks": "tone.thanks",
    "tone_wait": "tone.wait",
}


@pytest.fixture(scope="module")
def detectors():
    return Detectors.build()


def _rows():
    for category in DETECTION_CATEGORIES:
        for example in load_examples(category):
            yield pytest.param(category, example, id=f"{category}:{example.line}")


@pytest.mark.parametrize("category, example", list(_rows()))
def test_example_fires_or_not(detectors, category, example):
    conversation = Conversation("X", "examples", (Message(0, example.role, example.text),))
    found = [d for d in detect_all(detectors.all, conversation) if d.category == category]
    if example.fires:
        assert found, f"{category} should fire on: {example.text}"
        for detection in found:
            start, end = detection.span
            assert example.text[start:end] == detection.text
    else:
        assert not found, f"{category} should not fire on: {example.text} (got {found[0].text!r})"


@pytest.mark.parametrize("category", DETECTION_CATEGORIES)
def test_every_category_has_enough_examples_both_ways(category):
    assert examples_path(category).exists(), f"{category} has no example table"
    examples = load_examples(category)
    fires = sum(1 for e in examples if e.fires)
    assert fires >= MINIMUM_EACH_WAY and len(examples) - fires >= MINIMUM_EACH_WAY


@pytest.mark.parametrize("category", DETECTION_CATEGORIES)
def test_every_category_is_documented(category):
    doc = load_doc(category)
    assert doc.title and doc.looks_for and doc.why


def test_documentation_names_only_real_categories():
    assert set(documented_categories()) == set(DETECTION_CATEGORIES)


def test_every_lexicon_belongs_to_a_category_with_examples():
    for path in sorted(data_dir("lexicons").glob("*.txt")):
        assert path.stem in LEXICON_CATEGORIES, f"lexicons/{path.name}: which category? add it here"
        category = LEXICON_CATEGORIES[path.stem]
        if category:
            assert examples_path(category).exists(), f"lexicons/{path.name}: {category} has no examples"


@pytest.mark.parametrize("example", load_examples("risk.refusal"),
                         ids=lambda e: f"risk.refusal:{e.line}")
def test_refusal_examples(detectors, example):
    assert detectors.risk.refuses_off_platform(example.text) == example.fires, example.text
