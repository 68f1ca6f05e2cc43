"""The domain types: made and pickled by setting their slots, equal to what their classes make."""

from __future__ import annotations

import dataclasses
import pickle
from datetime import datetime

from hypothesis import given
from hypothesis import strategies as st

from cs_audit import model
from cs_audit.audit import Auditor
from cs_audit.model import Message, slot_constructor
from cs_audit.rubric import load_rubric
from conftest import conversation


@given(index=st.integers(0, 10 ** 6), role=st.sampled_from(model.ROLES), text=st.text(max_size=20),
       timestamp=st.one_of(st.none(), st.datetimes()), sender=st.text(max_size=5), line=st.integers(0, 10 ** 6))
def test_a_message_made_from_its_fields_equals_the_one_its_class_makes(index, role, text, timestamp, sender, line):
    made = Message.from_fields(index, role, text, timestamp, sender, line)
    assert made == Message(index, role, text, timestamp, sender, line)
    assert type(made) is Message
    assert pickle.loads(pickle.dumps(made)) == made


def test_a_whole_result_survives_pickling():
    auditor = Auditor(load_rubric("default"))
    result = auditor.audit(conversation(
        ("buyer", "10:00:00", "东西坏了，我要退款，不然给差评"), ("agent", "10:00:40", "亲，非常抱歉，请拍照给我看看"),
        ("agent", "10:01:00", "加我微信 abc12345 私下处理"), ("buyer", "10:05:00", "好的谢谢")))
    assert result.dispute.type and result.detections  # the nested types are all there
    assert pickle.loads(pickle.dumps(result, pickle.HIGHEST_PROTOCOL)) == result


def test_classes_that_check_or_derive_fields_are_made_by_their_class():
    @dataclasses.dataclass(frozen=True, slots=True)
    class Checked:
        value: int

        def __post_init__(self):
            if self.value < 0:
                raise ValueError("negative")

    @dataclasses.dataclass(frozen=True, slots=True)
    class Derived:
        value: int
        twice: int = dataclasses.field(init=False, default=0)

    assert slot_constructor(Checked) is Checked
    assert slot_constructor(Derived) is Derived


def test_every_pickled_domain_type_is_made_by_setting_slots():
    for cls in (model.Message, model.Conversation, model.Detection, model.CheckResult, model.TurnRecord,
                model.KpiCount, model.ResponseMetrics, model.SentimentTrajectory, model.ConversationResult):
        assert cls.from_fields is not cls, cls.__name__
        assert cls.from_fields.__qualname__ == f"{cls.__name__}.from_fields"
    assert model.Message.from_fields(0, "buyer", "在吗", datetime(2026, 1, 1), "", 2).text == "在吗"


def test_field_names_cannot_clash_with_the_generated_code():
    @dataclasses.dataclass(frozen=True, slots=True)
    class Plain:
        made: int
        cls: str

    @dataclasses.dataclass(frozen=True, slots=True)
    class Private:
        _made: int

    assert slot_constructor(Plain)(1, "x") == Plain(1, "x")
    assert slot_constructor(Private) is Private
