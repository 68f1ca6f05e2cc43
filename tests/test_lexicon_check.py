"""Lexicons a trainer can edit: every bad line is a clear error, `lexicon check` runs a folder's
examples, and `--lexicons` / the rubric's `lexicons` key audit with a shop's own folder."""

from __future__ import annotations

import json
import shutil
from pathlib import Path

import pytest

from cs_audit.audit import Auditor
from cs_audit.lexicon import LexiconError, bundled_lexicon_dir, lexicon_fingerprint
from cs_audit.lexicon_check import check_folder
from cs_audit.parallel import audit_conversations
from cs_audit.rubric import load_rubric
from conftest import conversation, write_csv

SHOP_GREETING = "木子家居为您服务"
SHOP_CHAT = [("S1", "2024-04-15 10:00:00", "buyer", "", "在吗"),
             ("S1", "2024-04-15 10:00:20", "agent", "shop:a", f"{SHOP_GREETING}，请问有什么需要"),
             ("S1", "2024-04-15 10:00:40", "buyer", "", "好的谢谢")]


@pytest.fixture
def shop_folder(tmp_path: Path, run_cli) -> Path:
    folder = tmp_path / "shop-lexicons"
    result = run_cli("lexicon", "copy", folder)
    assert result.exit_code == 0, result.stderr
    return folder


def append_line(path: Path, line: str) -> int:
    """Append ``line`` to a text file; return its line number."""
    text = path.read_text(encoding="utf-8")
    if text and not text.endswith("\n"):
        text += "\n"
    path.write_text(text + line + "\n", encoding="utf-8")
    return text.count("\n") + 1


def add_shop_greeting(folder: Path) -> None:
    """What the README's worked example does: a phrase, and examples both ways."""
    append_line(folder / "tone_greeting.txt", f"{SHOP_GREETING} | phrase")
    table = folder / "examples" / "tone.greeting.tsv"
    append_line(table, f"fire\tagent\t{SHOP_GREETING}，请问有什么需要")
    append_line(table, "pass\tagent\t木子家居的沙发这周包邮")


# --- every bad line is a clear error ---------------------------------------------------------

BAD_LINES = [
    # (file in the lexicon folder, appended line, fragment of the message)
    ("tone_greeting.txt", "您好呀呀 | phrase | bogus_tag", "unknown option 'bogus_tag' for a phrase"),
    ("tone_greeting.txt", "您好呀呀 | phrase | @bogus_rule", "no rule 'bogus_rule' in rules.txt"),
    ("tone_greeting.txt", "| phrase", "empty phrase before '|'"),
    ("tone_greeting.txt", "您好 | phrase", "is already listed on line"),
    ("tone_greeting.txt", "您好呀呀", "expected 'phrase | kind [| option …]'"),
    ("tone_thanks.txt", "多谢多谢 | phrase | whole_wrod", "unknown option 'whole_wrod'"),
    ("tone_thanks.txt", "多谢多谢 | phrse", "did you mean 'phrase'?"),
    ("tone_rude.txt", "滚出去吧 | phrase", "needs a suggestion"),
    ("tone_rude.txt", "滚出去吧 | phrase | say=请您稍等 | @quoted", "applies to every phrase of tone.rude"),
    ("rules.txt", "new_rule | excuse | after", "expected 'name | effect | where | note"),
    ("rules.txt", "new_rule | forgive | after | a note", "effect 'forgive' is not one of excuse, require, class"),
    ("rules.txt", "new_rule | excuse | nearby | a note", "where 'nearby' is not one of"),
    ("rules.txt", "new_rule | excuse | after | a note | sometimes", "unknown option 'sometimes'"),
    ("rules.txt", "new_rule | excuse | after | a note | unless=nothing", "names class 'nothing'"),
    ("rules.txt", "quoted | excuse | after | a note", "declared twice"),
    ("rules.txt", "lonely_rule | excuse | after | a note", "rule 'lonely_rule' has no words"),
    ("tone_context.txt", "但是 | @no_such_rule", "no rule 'no_such_rule'"),
    ("tone_context.txt", "但是", "expected 'phrase | kind"),
    ("tone_context.txt", "但是 | phrase", "holds context words only"),
    ("tone_context.txt", "《 | @quoted", "two characters"),
    ("context.txt", "吗 | @question_end | side=after", "unknown option 'side=after' for a context word"),
    ("jieba_user_dict.txt", "滚筒 0", "frequency 0 is not allowed"),
    ("jieba_user_dict.txt", "滚筒 5 6", "expected 'word [frequency] [tag]'"),
    ("risk_contact.txt", "飞信 | channal", "unknown kind 'channal'"),
    ("risk_contact.txt", "飞信 | channel | lable=Fetion", "unknown option 'lable=Fetion'"),
    ("risk_contact.txt", "飞信 | channel | as=", "unknown option 'as='"),
    ("risk_contact.txt", "加好友 | intent | for=Wechat", "no channel has as=Wechat (did you mean 'WeChat'?)"),
    ("risk_contact.txt", "加好友 | intent | side=both", "side=both: use before, after, any"),
    ("risk_contact.txt", "加好友 | intent | reach=far", "reach=far: a number of characters"),
    ("risk_contact.txt", "··· | phrase", "empty once normalised"),
    ("risk_payment.txt", "转我 | phrase | strong", "unknown option 'strong' for a phrase"),
    ("risk_review.txt", "返现 | frase", "unknown kind 'frase'"),
    ("risk_safe.txt", "请勿 | @warned | anywhere", "unknown option 'anywhere' for a context word"),
    ("risk_safe.txt", "请勿 | phrase", "holds context words only"),
    ("risk_lookalike.txt", "徽章 | 微", "expected 'character | character'"),
    ("escalation.txt", "投诉你 | phrase | as=complain", "escalation phrases need as= one of"),
    ("escalation.txt", "投诉你 | phrase | as=complaint | for=review", "unknown option 'for=review' for a phrase"),
    ("escalation.txt", "工商 | @negated | after=不", "unknown option 'after=不' for a context word"),
    ("dispute_types.txt", "快递 | phrase | as=shipping", "dispute.type phrases need as= one of"),
    ("dispute_types.txt", "破损 | phrase | as=quality | sometimes", "unknown option 'sometimes'"),
    ("dispute_types.txt", "破损 | phrase | as=quality | with=", "option 'with='"),
    ("dispute_types.txt", "碎了一地 | phrase | as=quality | needs=remedy", "needs=remedy: dispute.type phrases take"),
    ("dispute_steps.txt", "补发 | phrase | as=remedy", "is already listed on line"),
    ("dispute_steps.txt", "补发 | @negated | asks", "unknown option 'asks' for a context word"),
    ("acknowledgements.txt", "好的 | thanks", "an acknowledgement is a phrase alone"),
    ("examples/tone.greeting.tsv", "fire\tagent", "three tab-separated columns"),
    ("examples/tone.greeting.tsv", "fires\tagent\t您好", "label 'fires' (did you mean 'fire'?)"),
    ("examples/tone.greeting.tsv", "fire\tagnet\t您好", "role 'agnet' (did you mean 'agent'?)"),
    ("examples/dispute.type.tsv", "logistic\tbuyer\t快递还没到", "label 'logistic'"),
    ("examples/dispute.steps.tsv", "respond\tagent\t在的", "label 'respond'"),
    ("categories/tone.greeting.toml", 'colour = "red"', "unknown key 'colour'"),
    ("categories/tone.greeting.toml", 'why = "unterminated', "invalid TOML"),
]


@pytest.mark.parametrize("file_name, line, message", BAD_LINES,
                         ids=[f"{name}:{line}" for name, line, _ in BAD_LINES])
def test_a_bad_line_in_any_lexicon_file_is_reported_with_file_line_and_the_line(
        run_cli, shop_folder, file_name, line, message):
    path = shop_folder / file_name
    number = append_line(path, line)
    result = run_cli("lexicon", "check", shop_folder)
    assert result.exit_code == 2, result.output
    assert message in result.stderr
    if file_name.endswith(".toml") and "unknown key" in message:
        assert f"{path}: " in result.stderr  # a whole-file problem: no line
    else:
        assert f"{path}:{number}: " in result.stderr
        assert f"    {line.strip()}" in result.stderr  # the offending line, as written
    assert "Traceback" not in result.output


def test_a_missing_required_file_is_named(run_cli, shop_folder):
    (shop_folder / "tone_wait.txt").unlink()
    result = run_cli("lexicon", "check", shop_folder)
    assert result.exit_code == 2
    assert f"{shop_folder / 'tone_wait.txt'}: missing file" in result.stderr
    assert "cs-audit lexicon copy" in result.stderr


def test_a_file_that_is_not_utf8_is_named_with_the_line_of_the_bad_byte(run_cli, shop_folder):
    path = shop_folder / "risk_review.txt"
    number = append_line(path, "placeholder")
    path.write_bytes(path.read_bytes().replace("placeholder".encode(), "好评返现".encode("gb18030")))
    result = run_cli("lexicon", "check", shop_folder)
    assert result.exit_code == 2
    assert f"{path}:{number}: not UTF-8 text" in result.stderr


def test_an_example_table_of_no_category_is_an_error(run_cli, shop_folder):
    (shop_folder / "examples" / "tone.greting.tsv").write_text("fire\tagent\t您好\n", encoding="utf-8")
    result = run_cli("lexicon", "check", shop_folder)
    assert result.exit_code == 2 and "no category 'tone.greting'" in result.stderr


def test_a_utf8_file_with_a_byte_order_mark_is_read(shop_folder):
    path = shop_folder / "tone_greeting.txt"
    path.write_bytes(b"\xef\xbb\xbf" + path.read_bytes())
    assert check_folder(shop_folder).problems == ()


def test_every_bad_line_of_every_file_is_listed_not_only_the_first(run_cli, shop_folder):
    where = [(shop_folder / "tone_greeting.txt", "您好呀呀 | phrase | bogus_tag"),
             (shop_folder / "tone_greeting.txt", "再来一个 | other_bogus"),
             (shop_folder / "risk_contact.txt", "飞信 | channal"),
             (shop_folder / "escalation.txt", "投诉你 | phrase | as=complain"),
             (shop_folder / "dispute_steps.txt", "补发 | phrase | as=remedy"),
             (shop_folder / "examples" / "tone.rude.tsv", "fire\tagnet\t不知道")]
    lines = [(path, append_line(path, line)) for path, line in where]
    result = run_cli("lexicon", "check", shop_folder)
    assert result.exit_code == 2
    for path, number in lines:
        assert f"{path}:{number}: " in result.stderr
    assert "6 problem(s)" in result.stderr


def test_loaders_raise_one_error_type_carrying_path_and_line(shop_folder):
    number = append_line(shop_folder / "escalation.txt", "投诉你 | phrase | as=complain")
    with pytest.raises(LexiconError) as caught:
        Auditor(load_rubric("default"), shop_folder)
    assert caught.value.path == shop_folder / "escalation.txt"
    assert caught.value.line == number


@pytest.mark.parametrize("command", ["audit", "review", "explain"])
def test_commands_print_lexicon_errors_and_exit_2(run_cli, shop_folder, tmp_path, command):
    path = shop_folder / "tone_rude.txt"
    number = append_line(path, "滚出去吧 | phrase")
    chats = write_csv(tmp_path / "chats.csv", SHOP_CHAT)
    args = {"audit": ["audit", chats], "review": ["review", chats, "--conversation", "S1"],
            "explain": ["explain", "tone.rude"]}[command]
    if command == "explain":
        (shop_folder / "examples" / "tone.rude.tsv").write_text("fire\tagent\n", encoding="utf-8")
        path, number = shop_folder / "examples" / "tone.rude.tsv", 1
    result = run_cli(*args, "--lexicons", shop_folder)
    assert result.exit_code == 2, result.output
    assert result.stderr.startswith(f"{path}:{number}: ")
    assert "Traceback" not in result.output


def test_rules_reports_a_rubric_whose_lexicons_folder_is_missing(run_cli, tmp_path):
    rubric = tmp_path / "shop.toml"
    rubric.write_text('name = "shop"\nextends = "default"\nlexicons = "no-such-folder"\n', encoding="utf-8")
    result = run_cli("rules", "--rubric", rubric)
    assert result.exit_code == 2
    assert f"{rubric}:3: lexicons = 'no-such-folder': no folder" in result.stderr


def test_the_rubric_key_lexicons_must_be_a_string(run_cli, tmp_path):
    rubric = tmp_path / "shop.toml"
    rubric.write_text('name = "shop"\nlexicons = 3\n', encoding="utf-8")
    result = run_cli("rubric", "validate", rubric)
    assert result.exit_code == 2 and f"{rubric}:2: lexicons must be a string" in result.stderr


# --- lexicon check ---------------------------------------------------------------------------

def test_the_bundled_lexicons_pass_their_own_check(run_cli):
    result = run_cli("lexicon", "check")
    assert result.exit_code == 0, result.output
    assert "tone.greeting" in result.stdout and "dispute.steps" in result.stdout
    assert "examples pass" in result.stdout


def test_a_failing_example_exits_1_naming_its_file_and_line(run_cli, shop_folder):
    table = shop_folder / "examples" / "tone.greeting.tsv"
    fires = append_line(table, f"fire\tagent\t{SHOP_GREETING}")  # the phrase is not listed yet
    passes = append_line(table, "pass\tagent\t亲，您好")  # a greeting labelled as a look-alike
    result = run_cli("lexicon", "check", shop_folder)
    assert result.exit_code == 1, result.output
    assert f"{table}:{fires}: fire [agent] {SHOP_GREETING} — did not fire" in result.stdout
    assert f"{table}:{passes}: pass [agent] 亲，您好 — fired on" in result.stdout
    assert "FAIL" in result.stdout and "2 example(s) fail" in result.stderr


def test_dispute_and_refusal_tables_are_run_too(run_cli, shop_folder):
    table = shop_folder / "examples" / "dispute.type.tsv"
    number = append_line(table, "quality\tbuyer\t今天天气不错")
    refusal = shop_folder / "examples" / "risk.refusal.tsv"
    refused = append_line(refusal, "fire\tagent\t好的，加我微信吧")
    result = run_cli("lexicon", "check", shop_folder)
    assert result.exit_code == 1
    assert f"{table}:{number}: quality [buyer] 今天天气不错 — main type none" in result.stdout
    assert f"{refusal}:{refused}: " in result.stdout and "not counted as a refusal" in result.stdout


def test_lexicon_copy_refuses_a_folder_that_is_not_empty(run_cli, shop_folder):
    result = run_cli("lexicon", "copy", shop_folder)
    assert result.exit_code == 2 and "not an empty folder" in result.stderr


# --- auditing with a shop's folder -----------------------------------------------------------

def _greetings(document) -> list[str]:
    return [d["text"] for c in document["conversations"] for d in c["detections"]
            if d["category"] == "tone.greeting"]


def test_a_shop_phrase_with_its_examples_passes_the_check_and_fires_in_the_audit(
        run_cli, audit_json, shop_folder, tmp_path):
    add_shop_greeting(shop_folder)
    checked = run_cli("lexicon", "check", shop_folder)
    assert checked.exit_code == 0, checked.output
    chats = write_csv(tmp_path / "chats.csv", SHOP_CHAT)
    _, bundled = audit_json(chats)
    assert SHOP_GREETING not in _greetings(bundled)
    code, shop = audit_json(chats, "--lexicons", shop_folder)
    assert code == 0 and SHOP_GREETING in _greetings(shop)


def test_review_and_explain_use_the_shop_folder(run_cli, shop_folder, tmp_path):
    add_shop_greeting(shop_folder)
    chats = write_csv(tmp_path / "chats.csv", SHOP_CHAT)
    review = run_cli("review", chats, "--conversation", "S1", "--lexicons", shop_folder, "--no-color")
    assert review.exit_code == 0 and "tone.greeting" in review.stdout
    table = shop_folder / "examples" / "tone.greeting.tsv"
    table.write_text(f"fire\tagent\t{SHOP_GREETING}\npass\tagent\t木子家居的沙发\n", encoding="utf-8")
    explained = run_cli("explain", "tone.greeting", "--lexicons", shop_folder)
    assert explained.exit_code == 0 and f"[agent] {SHOP_GREETING}" in explained.stdout


def test_the_rubric_key_names_a_folder_relative_to_the_rubric_and_the_option_wins(
        audit_json, shop_folder, tmp_path):
    add_shop_greeting(shop_folder)
    rubric = tmp_path / "rubrics" / "shop.toml"
    rubric.parent.mkdir()
    rubric.write_text('name = "shop"\nextends = "default"\nlexicons = "../shop-lexicons"\n',
                      encoding="utf-8")
    chats = write_csv(tmp_path / "chats.csv", SHOP_CHAT)
    _, by_rubric = audit_json(chats, "--rubric", rubric)
    assert SHOP_GREETING in _greetings(by_rubric)
    bundled_copy = tmp_path / "plain"
    shutil.copytree(bundled_lexicon_dir(), bundled_copy)
    _, by_option = audit_json(chats, "--rubric", rubric, "--lexicons", bundled_copy)
    assert SHOP_GREETING not in _greetings(by_option)


def test_worker_processes_detect_with_the_same_folder(shop_folder):
    add_shop_greeting(shop_folder)
    auditor = Auditor(load_rubric("default"), shop_folder)
    chats = [conversation(("agent", "10:00:00", f"{SHOP_GREETING}"), conversation_id=f"C{n}")
             for n in range(6)]
    alone = list(audit_conversations(auditor, chats, jobs=1))
    forked = list(audit_conversations(auditor, chats, jobs=2, chunk_size=1))
    assert [r.detections for r in forked] == [r.detections for r in alone]
    assert all(any(d.text == SHOP_GREETING for d in r.detections) for r in forked)


def test_models_are_rebuilt_when_the_folder_content_changes(shop_folder):
    rubric = load_rubric("default")
    before = lexicon_fingerprint(shop_folder)
    assert before == lexicon_fingerprint(bundled_lexicon_dir())
    first = Auditor(rubric, shop_folder).detectors
    assert Auditor(rubric, shop_folder).detectors is first  # built once per process
    add_shop_greeting(shop_folder)
    assert lexicon_fingerprint(shop_folder) != before
    edited = Auditor(rubric, shop_folder)  # same path, new content: built anew
    assert edited.detectors is not first
    found = edited.detectors.others[0].detect(conversation(("agent", "10:00:00", SHOP_GREETING)))
    assert [d.text for d in found] == [SHOP_GREETING]


def test_the_start_up_cache_never_serves_the_bundled_jieba_table_for_another_user_dict(shop_folder):
    from cs_audit.analysis.segment import WordSegmenter

    text = "木子家居沙发"
    bundled = WordSegmenter.from_user_dict(bundled_lexicon_dir() / "jieba_user_dict.txt")
    assert "木子家居" not in bundled.tokens(text)  # warms the cache with the bundled words
    append_line(shop_folder / "jieba_user_dict.txt", "木子家居 2000")
    shop = WordSegmenter.from_user_dict(shop_folder / "jieba_user_dict.txt")
    assert "木子家居" in shop.tokens(text)


def test_json_report_of_a_shop_folder_is_otherwise_unchanged(audit_json, shop_folder, tmp_path):
    chats = write_csv(tmp_path / "chats.csv", SHOP_CHAT)
    _, bundled = audit_json(chats)
    _, copied = audit_json(chats, "--lexicons", shop_folder)
    assert json.dumps(copied["conversations"]) == json.dumps(bundled["conversations"])
