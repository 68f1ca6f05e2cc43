"""Whether a phrase stands inside quotes, found by the quote marks' positions, equals the plain
search of the text that the engine used before (which scanned the text again for every phrase)."""

from __future__ import annotations

import random

import pytest

from cs_audit.analysis.engine import Target, load_engine
from cs_audit.resources import data_dir

PIECES = ["“", "”", "「", "」", '"', "《", "》", "爱买不买", "亲", "，", "这种话", "我们不说"]


def plain_inside_quotes(scan, pairs, target) -> bool:
    source = scan.halfwidth_source()
    start, end = scan.original_span(target.start, target.end)
    for pair in pairs:
        opening, closing = pair[0], pair[1]
        if source.find(closing, end) < 0:
            continue
        if opening == closing:
            if source.count(opening, 0, start) % 2 == 1:
                return True
        elif source.rfind(opening, 0, start) > source.rfind(closing, 0, start):
            return True
    return False


@pytest.fixture(scope="module")
def engine():
    return load_engine(data_dir("lexicons"))


def test_the_bundled_lexicons_have_a_quote_rule(engine):
    assert any(engine.quotes.values())


@pytest.mark.parametrize("seed", range(30))
def test_quote_positions_give_the_plain_search_verdict(engine, seed):
    generator = random.Random(seed)
    text = "".join(generator.choice(PIECES) for _ in range(generator.randint(1, 60)))
    scan = engine.scan(text)
    for (family, rule_name), pairs in engine.quotes.items():
        rule = engine.rules[rule_name]
        for family_name in ([family] if family != "*" else ["tone"]):
            for hit in scan.triggers(family_name):
                target = Target.of(hit)
                expected = plain_inside_quotes(scan, scan._quote_pairs(family_name, rule), target)
                assert scan._inside_quotes(family_name, rule, target) == expected, (text, hit)
