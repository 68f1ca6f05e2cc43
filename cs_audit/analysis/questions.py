"""Buyer questions no agent message addresses: the ``buyer.ignored_question`` detection.

SPEC §3's ``unanswered`` counts buyer turns no agent message *follows*; a supervisor asks more:
was the question *addressed*? This module finds buyer messages that ask or request something
(the markers are data in ``lexicons/questions.txt``: 吗, ?, 什么, 能不能, 请, 帮我 …, with
``@benign`` look-alikes such as 好几天, 麻烦了), then reads the shop's messages after the buyer's
turn. The question is ignored when:

- no agent or bot message comes after it at all (the chat ends on it);
- the shop's reply to the turn is only a hold (稍等, 我查一下: a ``tone.wait`` phrase and
  little else) and no other shop message comes later;
- the shop's reply only repeats, word for word, a line of at least eight characters it
  already sent earlier in the chat (a canned line pasted again instead of an answer; a short
  好的呢 repeated is an agreement).

- the buyer says so: 我只想问什么时候送, 答非所问, 别跟我说这些 (``as=not_answered`` markers);
  the buyer is the witness that the replies so far missed the question.

An acknowledgement (``acknowledgements.txt``: 好的谢谢, 嗯嗯) or a reply to a closing question
(没有啦, 暂不用了, 没了谢谢) holds no marker and needs no answer. When the buyer writes again
before the shop replies, the shop's next reply is read for the whole turn. Whether a reply's
*content* answers the question is not judged beyond these three cases: a reply on another
topic still counts as addressing it (precision first; see the README's figures).
"""

from __future__ import annotations

from pathlib import Path

from cs_audit.analysis.engine import load_engine
from cs_audit.analysis.phrases import ToneDetector
from cs_audit.analysis.response import AcknowledgementMatcher
from cs_audit.lexicon import bundled_lexicon_dir
from cs_audit.model import Conversation, Detection, Message

CATEGORY = "buyer.ignored_question"
FAMILY = "questions"
SHOP_ROLES = ("agent", "bot")
HOLD_CATEGORY = "tone.wait"
# A hold reply is short: the hold phrase and a few particles (稍等亲, 我帮您查一下哦). A longer
# message with a hold phrase usually carries an answer too (稍等，这款是纯棉的).
HOLD_EXTRA_CHARACTERS = 6
# A line pasted again is a canned line when it says something (亲订单价格已经改好可以付款啦);
# short agreements (好的呢, 是的) repeat naturally.
CANNED_LINE_CHARACTERS = 8

ASKS = "asks"
NOT_ANSWERED = "not_answered"

NOTES = {
    "buyer_says": "the buyer says their question is not being answered (我只想问…, 答非所问)",
    "no_reply": "no agent message comes after this question",
    "hold_only": "the question was met only by a hold (稍等/我查一下) and no answer followed",
    "repeat": "the question was met only by a line the agent had already sent, pasted again",
}
SUGGESTION = "先直接回答买家的问题（例如：亲，运费是因为……），再补充其他信息"


class QuestionDetector:
    """Finds buyer questions the shop left unaddressed; build once, call ``detect`` per chat."""

    category = CATEGORY

    def __init__(self, lexicon_dir: Path | str | None = None,
                 tone: ToneDetector | None = None) -> None:
        """Load the question markers and acknowledgements of ``lexicon_dir`` (default: bundled).

        ``tone`` is the tone detector whose ``tone.wait`` phrases tell a hold; one is built
        from the same folder when not given.
        """
        folder = Path(lexicon_dir) if lexicon_dir is not None else bundled_lexicon_dir()
        self.engine = load_engine(folder)
        self.acknowledgements = AcknowledgementMatcher(folder)
        self.tone = tone if tone is not None else ToneDetector(folder)
        self._asks: dict[str, bool] = {}

    def asks(self, text: str) -> bool:
        """Whether a buyer message asks or requests something that needs an answer."""
        found = self._asks.get(text)
        if found is None:
            if len(self._asks) >= 65_536:
                self._asks.clear()
            found = self._asks[text] = self._asks_uncached(text)
        return found

    def says_not_answered(self, text: str) -> bool:
        """Whether the buyer says their question is not being answered (我只想问…, 答非所问)."""
        return NOT_ANSWERED in self._markers(text)

    def _asks_uncached(self, text: str) -> bool:
        if not text.strip() or self.acknowledgements.is_acknowledgement(text):
            return False
        return bool(self._markers(text))

    def _markers(self, text: str) -> set[str]:
        scan = self.engine.scan(text)
        return {hit.entry.label or ASKS for hit in scan.triggers(FAMILY) if scan.decide(hit).counts}

    def detect(self, conversation: Conversation) -> list[Detection]:
        """One detection per ignored buyer question, on the question's message."""
        messages = conversation.messages
        detections = []
        for position, message in enumerate(messages):
            if message.role != "buyer" or not self.asks(message.text):
                continue
            reason = "buyer_says" if self.says_not_answered(message.text) else self._ignored(
                messages, position)
            if reason is not None:
                detections.append(Detection(
                    category=CATEGORY, message_index=message.index, role=message.role,
                    span=(0, len(message.text)), text=message.text, note=NOTES[reason],
                    suggestion=SUGGESTION))
        return detections

    def _ignored(self, messages: tuple[Message, ...], position: int) -> str | None:
        """Why the question at ``position`` went unaddressed, or None when it was addressed."""
        later = messages[position + 1:]
        shop_later = [m for m in later if m.role in SHOP_ROLES]
        if not shop_later:
            return "no_reply"
        # The reply to the buyer's turn: the shop's messages after it, up to the buyer's next
        # message (the buyer writing on before any reply is still the same turn).
        reply: list[Message] = []
        for message in later:
            if message.role == "buyer":
                if reply:
                    break
                continue
            if message.role in SHOP_ROLES:
                reply.append(message)
        earlier = {m.text.strip() for m in messages[:position] if m.role in SHOP_ROLES}
        if all(self._is_canned_repeat(m, earlier) for m in reply):
            return "repeat"
        if all(self._is_hold(m) for m in reply) and all(
                self._is_hold(m) for m in shop_later):
            return "hold_only"
        return None

    def _is_canned_repeat(self, message: Message, earlier: set[str]) -> bool:
        # 好的/是的 repeated is an answer to a yes-no request, not a pasted line.
        text = message.text.strip()
        return (text in earlier and len(text) >= CANNED_LINE_CHARACTERS
                and not self.acknowledgements.is_acknowledgement(text))

    def _is_hold(self, message: Message) -> bool:
        holds = [d for d in self.tone.detect_message(message) if d.category == HOLD_CATEGORY]
        if not holds:
            return False
        held = sum(d.span[1] - d.span[0] for d in holds)
        return len(message.text.strip()) - held <= HOLD_EXTRA_CHARACTERS
