"""Time of one audit against the length of its messages: is it linear?

Audits a two-message conversation whose messages are N characters of chat (questions, risk words,
complaints, rude words: every detector has work) for growing N, and prints seconds and
microseconds per character. Flat per-character figures mean linear time.

Usage: ``python bench/long_message.py [--sizes 1000,4000,16000,64000]``
"""

from __future__ import annotations

import argparse
import time

FILLER = "亲，您好，请问加微信可以吗？退款还没到账，快递一直不更新，不知道怎么回事，我要投诉，差评！"


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--sizes", default="1000,4000,16000,64000")
    options = parser.parse_args()
    from cs_audit.audit import Auditor
    from cs_audit.model import Conversation, Message
    from cs_audit.rubric import load_rubric

    auditor = Auditor(load_rubric("default"))
    auditor.audit(Conversation("warm", "bench", (Message(0, "buyer", "在吗"),)))
    print("characters  seconds  µs/character")
    for size in (int(part) for part in options.sizes.split(",")):
        text = (FILLER * (size // len(FILLER) + 1))[:size]
        conversation = Conversation("long", "bench", (Message(0, "buyer", text), Message(1, "agent", text)))
        started = time.perf_counter()
        auditor.audit(conversation)
        spent = time.perf_counter() - started
        print(f"{size:>10}  {spent:7.2f}  {spent / (2 * size) * 1e6:12.1f}")


if __name__ == "__main__":
    main()
