"""cs-audit calibrate: agreement with human ratings and verdicts, and points fitted to them."""

from __future__ import annotations

import json
import random
from pathlib import Path

import pytest
from click.testing import CliRunner
from openpyxl import load_workbook

from cs_audit import calibrate as calibration
from cs_audit.cli import main
from cs_audit.rubric import load_rubric

# Four checks of the default rubric; the ratings below depend on two of them only.
TRUE_WEIGHTS = {"closing": 0.4, "no_rude_phrasing": 0.2, "greeting": 0.0, "no_angry_ending": 0.0}
POINTS = {"closing": 15, "no_rude_phrasing": 20, "greeting": 10, "no_angry_ending": 10}


def synthetic(count: int = 400, seed: int = 7) -> tuple[dict, list[tuple[str, float]]]:
    """A report whose checks fail at random, and 0-100 ratings made from known weights."""
    generator = random.Random(seed)
    conversations, ratings = [], []
    for number in range(count):
        failed = {rule: generator.random() < 0.3 for rule in TRUE_WEIGHTS}
        checks = [{"rule": rule, "severity": "minor", "passed": not failed[rule],
                   "points": 0 if failed[rule] else POINTS[rule], "max_points": POINTS[rule],
                   "message": "", "message_index": None} for rule in TRUE_WEIGHTS]
        earned = sum(check["points"] for check in checks)
        conversations.append({"id": f"C{number}", "score": round(100 * earned / sum(POINTS.values()), 1),
                              "checks": checks})
        rating = 90 - 100 * sum(TRUE_WEIGHTS[rule] for rule in TRUE_WEIGHTS if failed[rule])
        ratings.append((f"C{number}", rating))
    report = {"schema": "cs-audit/1", "rubric": {"name": "default", "source": "rubrics/default.toml"},
              "conversations": conversations}
    return report, ratings


def write(tmp_path: Path, report: dict, ratings: list[tuple[str, object]], extra: str = "") -> tuple[Path, Path]:
    report_path = tmp_path / "report.json"
    report_path.write_text(json.dumps(report, ensure_ascii=False), encoding="utf-8")
    ratings_path = tmp_path / "ratings.csv"
    lines = ["conversation_id,rating" + extra] + [f"{cid},{value}" for cid, value in ratings]
    ratings_path.write_text("\n".join(lines) + "\n", encoding="utf-8")
    return report_path, ratings_path


def test_the_fit_recovers_known_weights_as_points(tmp_path):
    report, ratings = synthetic()
    result = calibration.calibrate(report, calibration.read_ratings(write(tmp_path, report, ratings)[1]))
    fitted = {check.rule: check.fitted_points for check in result.checks}
    total = sum(POINTS.values())
    weight_total = sum(TRUE_WEIGHTS.values())
    for rule, weight in TRUE_WEIGHTS.items():
        assert fitted[rule] == pytest.approx(weight / weight_total * total, abs=0.2)


def test_checks_that_run_with_the_ratings_correlate_and_the_rest_do_not(tmp_path):
    report, ratings = synthetic()
    result = calibration.calibrate(report, calibration.read_ratings(write(tmp_path, report, ratings)[1]))
    by_rule = {check.rule: check for check in result.checks}
    assert by_rule["closing"].correlation > 0.5
    assert by_rule["closing"].rating_failed < by_rule["closing"].rating_passed
    assert abs(by_rule["greeting"].correlation) < 0.15
    assert result.spearman > 0.5
    low, high = result.spearman_interval
    assert low <= result.spearman <= high


def test_the_bootstrap_interval_is_the_same_every_run(tmp_path):
    report, ratings = synthetic(120)
    path = write(tmp_path, report, ratings)[1]
    first = calibration.calibrate(report, calibration.read_ratings(path))
    second = calibration.calibrate(report, calibration.read_ratings(path))
    assert first.spearman_interval == second.spearman_interval


def test_fits_never_give_negative_points(tmp_path):
    report, ratings = synthetic()
    # Ratings that go UP when closing fails: its weight would be negative, so it is held at 0.
    flipped = [(cid, 100 - value) for cid, value in ratings]
    result = calibration.calibrate(report, calibration.read_ratings(write(tmp_path, report, flipped)[1]))
    assert all(check.fitted_points >= 0 for check in result.checks if check.fitted_points is not None)
    assert {c.rule: c.fitted_points for c in result.checks}["closing"] == 0


def test_small_samples_are_refused_with_a_clear_message(tmp_path):
    report, ratings = synthetic(12)
    report_path, ratings_path = write(tmp_path, report, ratings)
    result = CliRunner().invoke(main, ["calibrate", str(report_path), "--ratings", str(ratings_path)])
    assert result.exit_code == 2
    assert "needs at least 30" in result.output


def test_a_check_failed_too_rarely_keeps_its_points_unfitted(tmp_path):
    report, ratings = synthetic()
    for conversation in report["conversations"]:
        for check in conversation["checks"]:
            if check["rule"] == "greeting":
                check["passed"], check["points"] = True, check["max_points"]
    result = calibration.calibrate(report, calibration.read_ratings(write(tmp_path, report, ratings)[1]))
    assert {c.rule: c.fitted_points for c in result.checks}["greeting"] is None


@pytest.mark.parametrize(("cells", "scale", "scaled"), [
    (["1", "5", "3"], "1-5", [0.0, 1.0, 0.5]),
    (["0", "100", "40"], "0-100", [0.0, 1.0, 0.4]),
    (["pass", "fail", "通过"], "pass/fail", [1.0, 0.0, 1.0]),
])
def test_rating_scales_are_recognised_and_scaled_to_0_1(tmp_path, cells, scale, scaled):
    path = tmp_path / "r.csv"
    path.write_text("conversation_id,rating\n" + "".join(f"C{i},{c}\n" for i, c in enumerate(cells)),
                    encoding="utf-8")
    ratings = calibration.read_ratings(path)
    assert ratings.scale == scale
    assert [ratings.values[f"C{i}"] for i in range(3)] == pytest.approx(scaled)


@pytest.mark.parametrize(("content", "message"), [
    ("id\nC1\n", "needs a conversation_id column and a rating column"),
    ("conversation_id,rating\nC1,great\n", "is not a number or pass/fail"),
    ("conversation_id,rating\nC1,3\nC1,4\n", ":3: conversation 'C1' is rated twice"),
    ("conversation_id,rating\nC1,250\nC2,3\n", "use 1-5, 0-100 or pass/fail"),
    ("conversation_id,rating,closing\nC1,3,maybe\n", ":2: closing = 'maybe': write pass or fail"),
])
def test_bad_ratings_name_the_file_and_what_to_do(tmp_path, content, message):
    path = tmp_path / "r.csv"
    path.write_text(content, encoding="utf-8")
    with pytest.raises(calibration.CalibrationError, match=message.replace("(", r"\(").replace(")", r"\)")):
        calibration.read_ratings(path)


def test_human_verdicts_give_precision_recall_and_kappa(tmp_path):
    report, ratings = synthetic(60)
    # The human fails closing exactly where the tool does, except the first two conversations.
    rows = []
    for (cid, value), conversation in zip(ratings, report["conversations"]):
        failed = not next(c for c in conversation["checks"] if c["rule"] == "closing")["passed"]
        if cid in ("C0", "C1"):
            failed = not failed
        rows.append((cid, f"{value},{'fail' if failed else 'pass'}"))
    path = write(tmp_path, report, rows, extra=",closing")[1]
    result = calibration.calibrate(report, calibration.read_ratings(path))
    human = {c.rule: c.human for c in result.checks}
    assert human["greeting"] is None
    assert human["closing"]["compared"] == 60
    assert 0.8 < human["closing"]["kappa"] < 1.0
    assert human["closing"]["precision"] > 0.9 and human["closing"]["recall"] > 0.9


def test_cohen_kappa_on_a_known_table():
    # 20 items: both fail 5, both pass 10, tool only 3, human only 2: observed 0.75,
    # expected 0.4 × 0.35 + 0.6 × 0.65 = 0.53, kappa (0.75 - 0.53) / 0.47 = 0.468.
    tool = [True] * 5 + [False] * 10 + [True] * 3 + [False] * 2
    human = [True] * 5 + [False] * 10 + [False] * 3 + [True] * 2
    assert calibration.cohen_kappa(tool, human) == pytest.approx(0.468, abs=1e-3)


def test_the_written_rubric_extends_the_report_rubric_and_loads(tmp_path):
    report, ratings = synthetic()
    report_path, ratings_path = write(tmp_path, report, ratings)
    rubric_path = tmp_path / "fitted.toml"
    result = CliRunner().invoke(main, ["calibrate", str(report_path), "--ratings", str(ratings_path),
                                       "--write-rubric", str(rubric_path)])
    assert result.exit_code == 0, result.output
    fitted = load_rubric(str(rubric_path))
    default = load_rubric("default")
    points = {check.id: check.points for check in fitted.checks}
    assert points["closing"] == pytest.approx(36.7, abs=0.3)
    assert points["greeting"] == 0
    # Checks the ratings could not speak about, and every severity, stay as they were.
    assert points["first_reply"] == {c.id: c.points for c in default.checks}["first_reply"]
    assert [c.severity for c in fitted.checks] == [c.severity for c in default.checks]


def test_json_and_workbook_outputs(tmp_path):
    report, ratings = synthetic()
    report_path, ratings_path = write(tmp_path, report, ratings)
    result = CliRunner().invoke(main, ["calibrate", str(report_path), "--ratings", str(ratings_path),
                                       "--format", "json", "-o", str(tmp_path / "c.xlsx"),
                                       "-o", str(tmp_path / "c.json")])
    assert result.exit_code == 0, result.output
    printed = json.loads(result.output)
    assert printed == json.loads((tmp_path / "c.json").read_text(encoding="utf-8"))
    assert printed["conversations"] == 400 and printed["rating_scale"] == "0-100"
    sheet = load_workbook(tmp_path / "c.xlsx").active
    assert sheet.title == "校准 Calibration"
    values = [cell.value for row in sheet.iter_rows() for cell in row if cell.value is not None]
    assert "closing" in values and not any(isinstance(v, str) and v.startswith("=") for v in values)


def test_a_file_that_is_not_a_report_is_refused(tmp_path):
    path = tmp_path / "x.json"
    path.write_text('{"hello": 1}', encoding="utf-8")
    ratings = tmp_path / "r.csv"
    ratings.write_text("conversation_id,rating\nC1,3\n", encoding="utf-8")
    result = CliRunner().invoke(main, ["calibrate", str(path), "--ratings", str(ratings)])
    assert result.exit_code == 2 and "not a cs-audit JSON report" in result.output


def test_the_table_explains_its_columns(tmp_path):
    report, ratings = synthetic()
    report_path, ratings_path = write(tmp_path, report, ratings)
    result = CliRunner().invoke(main, ["calibrate", str(report_path), "--ratings", str(ratings_path)])
    assert result.exit_code == 0
    assert "400 rated conversations (ratings 0-100); Spearman(score, rating) =" in result.output
    assert "r(pass, rating)" in result.output and "closing" in result.output
