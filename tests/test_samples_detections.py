"""What the detectors must and must not find in the bundled samples.

The samples were written apart from the detectors' rules, so they are a held-out check on the
integrated audit: the conversations a supervisor must see flagged, and the look-alikes that
must stay quiet (refusals that mention WeChat, polite 不知道, order numbers, delivery phones).
"""

from __future__ import annotations

import pytest

from cs_audit.audit import Auditor
from cs_audit.parsers import parse_file
from cs_audit.rubric import load_rubric
from conftest import CANONICAL_SAMPLES


@pytest.fixture(scope="module")
def results():
    auditor = Auditor(load_rubric("default"))
    audited = {}
    for path in CANONICAL_SAMPLES:
        for conversation in parse_file(path).conversations:
            audited[conversation.id] = auditor.audit(conversation)
    return audited


def found(result, category, role=None):
    return [d for d in result.detections
            if d.category == category and (role is None or d.role == role)]


def test_exactly_the_shop_off_platform_requests_are_critical(results):
    critical = sorted(cid for cid, result in results.items() if result.critical)
    assert critical == ["DY-0003", "JD-0003", "PDD-0003", "TB-0004"]


@pytest.mark.parametrize("conversation, category", [
    ("TB-0004", "risk.contact"), ("DY-0003", "risk.contact"),
    ("JD-0003", "risk.payment"), ("PDD-0003", "risk.review"),
])
def test_shop_requests_are_found(results, conversation, category):
    assert found(results[conversation], category, "agent")


@pytest.mark.parametrize("conversation, category", [
    ("TB-0005", "risk.contact"), ("PDD-0008", "risk.contact"), ("PDD-0008", "risk.payment"),
])
def test_buyer_requests_are_found_and_the_refusal_credited(results, conversation, category):
    result = results[conversation]
    assert found(result, category, "buyer")
    check = {c.rule: c for c in result.checks}["turns_down_off_platform"]
    assert check.passed


@pytest.mark.parametrize("conversation", ["TB-0005", "DY-0006", "PDD-0004", "PDD-0008"])
def test_warnings_and_refusals_are_not_shop_requests(results, conversation):
    result = results[conversation]
    assert not [d for d in result.detections
                if d.category.startswith("risk.") and d.role in ("agent", "bot")]


def test_delivery_phone_is_personal_data_not_off_platform_contact(results):
    result = results["PDD-0006"]
    assert found(result, "pii.phone")
    assert not found(result, "risk.contact")


@pytest.mark.parametrize("conversation", ["TB-0007", "PDD-0005"])
def test_rude_agents_are_found(results, conversation):
    assert found(results[conversation], "tone.rude", "agent")


@pytest.mark.parametrize("conversation", ["TB-0001", "TB-0008", "JD-0007"])
def test_polite_look_alikes_are_not_rude(results, conversation):
    assert not found(results[conversation], "tone.rude")


@pytest.mark.parametrize("conversation, category", [
    ("TB-0002", "pii.phone"), ("PDD-0006", "pii.phone"), ("JD-0004", "pii.id_card"),
    ("JD-0005", "pii.bank_card"),
])
def test_personal_data_is_found(results, conversation, category):
    assert found(results[conversation], category)


@pytest.mark.parametrize("conversation", ["TB-0006", "JD-0001", "DY-0002", "PDD-0001"])
def test_order_and_tracking_numbers_are_not_personal_data(results, conversation):
    assert not [d for d in results[conversation].detections if d.category.startswith("pii.")]


@pytest.mark.parametrize("conversation", ["JD-0002", "TB-0007", "PDD-0004", "PDD-0005"])
def test_angry_buyers_escalation_is_found(results, conversation):
    assert found(results[conversation], "buyer.escalation", "buyer")


@pytest.mark.parametrize("conversation", ["TB-0001", "PDD-0001", "JD-0001", "DY-0001"])
def test_good_service_passes(results, conversation):
    assert results[conversation].passed
