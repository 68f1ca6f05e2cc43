"""How well an audit agrees with a QA team's own ratings, and the points per check that fit them.

``cs-audit calibrate REPORT.json --ratings RATINGS.csv`` reads a JSON report (SPEC §4) and a
table of human ratings: a conversation id, a rating (1-5, 0-100 or pass/fail) and, optionally,
a human verdict per check (a column named after the check id: pass/fail). It computes:

- for each check with human verdicts: precision and recall of the tool's failures against the
  human's, and Cohen's kappa (agreement beyond chance);
- for each check: the mean rating of the conversations it passed and of those it failed, and the
  correlation of passing with the rating (a check whose failures do not go with worse ratings
  carries no signal, or runs backwards);
- Spearman's rank correlation of the score with the rating, with a bootstrap 95% interval;
- points per check fitted to the ratings: the rating is modelled as a constant less a
  non-negative weight for each failed check (non-negative least squares by coordinate descent,
  deterministic), and the weights are scaled so the fitted points add up to the rubric's. A
  check failed fewer than ``MIN_FAILURES`` times keeps its points: there is too little to fit.

Small samples are refused (``MIN_CONVERSATIONS``): a fit on a handful of chats says nothing.
Pure functions of plain data; the CLI reads the files and prints.
"""

from __future__ import annotations

import csv
import math
import random
from collections.abc import Iterable, Mapping, Sequence
from dataclasses import dataclass, field
from pathlib import Path

MIN_CONVERSATIONS = 30
MIN_FAILURES = 5
BOOTSTRAP_SAMPLES = 1000
BOOTSTRAP_SEED = 20261202
# Words a rating or verdict cell may use for pass and fail (Chinese QA sheets use these).
PASS_WORDS = frozenset({"pass", "passed", "ok", "yes", "y", "true", "1", "通过", "合格", "是"})
FAIL_WORDS = frozenset({"fail", "failed", "no", "n", "false", "0", "不通过", "不合格", "否"})
ID_COLUMNS = ("conversation_id", "id", "会话id", "会话ID")
RATING_COLUMNS = ("rating", "score", "评分", "得分")


class CalibrationError(ValueError):
    """Input that cannot be calibrated on: names the file (and line) and what to do."""


@dataclass(frozen=True)
class Ratings:
    """Human ratings scaled to 0..1, and human check verdicts (True: the check should fail)."""

    scale: str  # "1-5", "0-100" or "pass/fail"
    values: dict[str, float]
    verdicts: dict[str, dict[str, bool]] = field(default_factory=dict)  # check → id → failed


@dataclass(frozen=True)
class CheckFigures:
    rule: str
    severity: str
    points: float
    applied: int
    failed: int
    rating_passed: float | None
    rating_failed: float | None
    correlation: float | None
    fitted_points: float | None
    human: dict[str, float | int | None] | None = None


@dataclass(frozen=True)
class Calibration:
    conversations: int
    unmatched_ratings: int
    unrated_conversations: int
    scale: str
    spearman: float | None
    spearman_interval: tuple[float, float] | None
    checks: tuple[CheckFigures, ...]

    def as_dict(self) -> dict:
        return {
            "conversations": self.conversations,
            "unmatched_ratings": self.unmatched_ratings,
            "unrated_conversations": self.unrated_conversations,
            "rating_scale": self.scale,
            "spearman_score_rating": self.spearman,
            "spearman_95ci": list(self.spearman_interval) if self.spearman_interval else None,
            "checks": [check.__dict__ for check in self.checks],
        }


# --- reading ------------------------------------------------------------------------------------

def read_ratings(path: Path) -> Ratings:
    """Read RATINGS.csv; errors name the file and line."""
    try:
        text = path.read_text(encoding="utf-8-sig")
    except (OSError, UnicodeDecodeError) as error:
        raise CalibrationError(f"{path}: cannot read the ratings ({error}); save them as UTF-8 CSV") from None
    reader = csv.reader(text.splitlines())
    header = next(reader, None)
    if not header:
        raise CalibrationError(f"{path}:1: empty file; expected a header such as 'conversation_id,rating'")
    names = [name.strip() for name in header]
    id_column = next((i for i, name in enumerate(names) if name in ID_COLUMNS), None)
    rating_column = next((i for i, name in enumerate(names) if name.lower() in RATING_COLUMNS), None)
    if id_column is None or rating_column is None:
        raise CalibrationError(f"{path}:1: the header needs a conversation_id column and a rating column "
                               f"(got {', '.join(names)})")
    raw: dict[str, str] = {}
    verdicts: dict[str, dict[str, bool]] = {}
    check_columns = [(i, name) for i, name in enumerate(names) if i not in (id_column, rating_column) and name]
    for number, row in enumerate(reader, start=2):
        if not any(cell.strip() for cell in row):
            continue
        if len(row) <= max(id_column, rating_column):
            raise CalibrationError(f"{path}:{number}: expected at least {max(id_column, rating_column) + 1} columns")
        conversation = row[id_column].strip()
        if conversation in raw:
            raise CalibrationError(f"{path}:{number}: conversation {conversation!r} is rated twice")
        raw[conversation] = row[rating_column].strip()
        for index, check in check_columns:
            cell = row[index].strip().lower() if index < len(row) else ""
            if not cell:
                continue
            if cell not in PASS_WORDS | FAIL_WORDS:
                raise CalibrationError(f"{path}:{number}: {check} = {row[index]!r}: write pass or fail")
            verdicts.setdefault(check, {})[conversation] = cell in FAIL_WORDS
    if not raw:
        raise CalibrationError(f"{path}: no ratings below the header")
    scale, values = _scaled(raw, path)
    return Ratings(scale, values, verdicts)


def _scaled(raw: Mapping[str, str], path: Path) -> tuple[str, dict[str, float]]:
    words = {value.lower() for value in raw.values()}
    if words <= PASS_WORDS | FAIL_WORDS and not all(word.replace(".", "").isdigit() for word in words):
        return "pass/fail", {key: 0.0 if value.lower() in FAIL_WORDS else 1.0 for key, value in raw.items()}
    numbers: dict[str, float] = {}
    for key, value in raw.items():
        try:
            number = float(value)
        except ValueError:
            raise CalibrationError(f"{path}: rating {value!r} of {key!r} is not a number or pass/fail") from None
        if not math.isfinite(number):
            raise CalibrationError(f"{path}: rating {value!r} of {key!r} is not a finite number")
        numbers[key] = number
    low, high = min(numbers.values()), max(numbers.values())
    if low >= 1 and high <= 5:
        return "1-5", {key: (value - 1) / 4 for key, value in numbers.items()}
    if low >= 0 and high <= 100:
        return "0-100", {key: value / 100 for key, value in numbers.items()}
    raise CalibrationError(f"{path}: ratings run from {low:g} to {high:g}; use 1-5, 0-100 or pass/fail")


# --- statistics ---------------------------------------------------------------------------------

def ranks(values: Sequence[float]) -> list[float]:
    """1-based ranks, ties given their mean rank."""
    order = sorted(range(len(values)), key=values.__getitem__)
    result = [0.0] * len(values)
    start = 0
    while start < len(order):
        end = start
        while end + 1 < len(order) and values[order[end + 1]] == values[order[start]]:
            end += 1
        for position in range(start, end + 1):
            result[order[position]] = (start + end) / 2 + 1
        start = end + 1
    return result


def pearson(xs: Sequence[float], ys: Sequence[float]) -> float | None:
    if len(xs) < 3:
        return None
    mean_x, mean_y = sum(xs) / len(xs), sum(ys) / len(ys)
    covariance = sum((x - mean_x) * (y - mean_y) for x, y in zip(xs, ys))
    spread = math.sqrt(sum((x - mean_x) ** 2 for x in xs) * sum((y - mean_y) ** 2 for y in ys))
    return covariance / spread if spread else None


def spearman(xs: Sequence[float], ys: Sequence[float]) -> float | None:
    return pearson(ranks(xs), ranks(ys)) if len(xs) >= 3 else None


def bootstrap_interval(xs: Sequence[float], ys: Sequence[float], samples: int = BOOTSTRAP_SAMPLES,
                       seed: int = BOOTSTRAP_SEED) -> tuple[float, float] | None:
    """The 2.5th and 97.5th percentiles of Spearman over resamples (seeded: the same every run)."""
    generator = random.Random(seed)
    size = len(xs)
    found = []
    for _ in range(samples):
        picks = [generator.randrange(size) for _ in range(size)]
        value = spearman([xs[i] for i in picks], [ys[i] for i in picks])
        if value is not None:
            found.append(value)
    if len(found) < samples // 2:
        return None
    found.sort()
    return found[int(0.025 * (len(found) - 1))], found[int(0.975 * (len(found) - 1))]


def cohen_kappa(first: Sequence[bool], second: Sequence[bool]) -> float | None:
    total = len(first)
    if not total:
        return None
    observed = sum(a == b for a, b in zip(first, second)) / total
    p_first, p_second = sum(first) / total, sum(second) / total
    expected = p_first * p_second + (1 - p_first) * (1 - p_second)
    return None if expected == 1 else (observed - expected) / (1 - expected)


def nonnegative_fit(failures: Sequence[Sequence[float]], target: Sequence[float],
                    rounds: int = 2000) -> list[float]:
    """Weights w >= 0 minimising sum((target - (b - failures @ w))^2) with b free.

    Coordinate descent on centred data: each weight in turn is set to its best non-negative
    value given the others, until nothing moves. Deterministic; exact for these small sizes.
    """
    rows, columns = len(failures), len(failures[0]) if failures else 0
    if not rows or not columns:
        return [0.0] * columns
    means = [sum(row[j] for row in failures) / rows for j in range(columns)]
    target_mean = sum(target) / rows
    # rating - mean = -(X - mean) @ w  →  A = -(X - mean), y = rating - mean
    a = [[-(row[j] - means[j]) for j in range(columns)] for row in failures]
    y = [value - target_mean for value in target]
    weights = [0.0] * columns
    residual = list(y)
    norms = [sum(row[j] ** 2 for row in a) for j in range(columns)]
    for _ in range(rounds):
        moved = 0.0
        for j in range(columns):
            if not norms[j]:
                continue
            step = sum(a[i][j] * residual[i] for i in range(rows)) / norms[j]
            new = max(0.0, weights[j] + step)
            change = new - weights[j]
            if change:
                for i in range(rows):
                    residual[i] -= a[i][j] * change
                weights[j] = new
                moved = max(moved, abs(change))
        if moved < 1e-12:
            break
    return weights


# --- the calibration ----------------------------------------------------------------------------

def calibrate(report: Mapping, ratings: Ratings) -> Calibration:
    """Everything ``cs-audit calibrate`` prints, from a SPEC §4 report and the human ratings."""
    conversations = {c["id"]: c for c in report.get("conversations", [])}
    rated = [cid for cid in conversations if cid in ratings.values]
    if len(rated) < MIN_CONVERSATIONS:
        raise CalibrationError(
            f"only {len(rated)} conversation(s) of the report have a rating; calibration needs at "
            f"least {MIN_CONVERSATIONS} to say anything (check that the ids match the report's)")
    scores = [conversations[cid]["score"] for cid in rated]
    values = [ratings.values[cid] for cid in rated]
    usable = [(s, v) for s, v in zip(scores, values) if s is not None]
    rho = spearman([s for s, _ in usable], [v for _, v in usable])
    interval = bootstrap_interval([s for s, _ in usable], [v for _, v in usable]) if rho is not None else None

    rules: dict[str, dict] = {}
    for cid in rated:
        for check in conversations[cid]["checks"]:
            rules.setdefault(check["rule"], {"severity": check["severity"],
                                             "points": check["max_points"], "results": {}})
            rules[check["rule"]]["results"][cid] = check["passed"]
    order = list(rules)
    fittable = [rule for rule in order if sum(1 for passed in rules[rule]["results"].values()
                                              if not passed) >= MIN_FAILURES]
    matrix = [[0.0 if rules[rule]["results"].get(cid, True) else 1.0 for rule in fittable] for cid in rated]
    weights = dict(zip(fittable, nonnegative_fit(matrix, values))) if fittable else {}
    scored_total = sum(rules[rule]["points"] for rule in fittable)
    weight_total = sum(weights.values())

    figures = []
    for rule in order:
        results = rules[rule]["results"]
        passed_ratings = [ratings.values[cid] for cid, ok in results.items() if ok]
        failed_ratings = [ratings.values[cid] for cid, ok in results.items() if not ok]
        applied = list(results)
        correlation = pearson([1.0 if results[cid] else 0.0 for cid in applied],
                              [ratings.values[cid] for cid in applied])
        fitted = None
        if rule in weights:
            fitted = round(weights[rule] / weight_total * scored_total, 1) if weight_total else 0.0
        figures.append(CheckFigures(
            rule=rule, severity=rules[rule]["severity"], points=rules[rule]["points"],
            applied=len(applied), failed=len(failed_ratings),
            rating_passed=_mean(passed_ratings), rating_failed=_mean(failed_ratings),
            correlation=correlation, fitted_points=fitted,
            human=_agreement(results, ratings.verdicts.get(rule)),
        ))
    return Calibration(
        conversations=len(rated),
        unmatched_ratings=sum(1 for cid in ratings.values if cid not in conversations),
        unrated_conversations=len(conversations) - len(rated),
        scale=ratings.scale, spearman=rho, spearman_interval=interval, checks=tuple(figures))


def _mean(values: Sequence[float]) -> float | None:
    return sum(values) / len(values) if values else None


def _agreement(results: Mapping[str, bool], human: Mapping[str, bool] | None) -> dict | None:
    if not human:
        return None
    both = [cid for cid in results if cid in human]
    if not both:
        return None
    tool_fails = [not results[cid] for cid in both]
    human_fails = [human[cid] for cid in both]
    agree = sum(t and h for t, h in zip(tool_fails, human_fails))
    return {
        "compared": len(both),
        "precision": agree / sum(tool_fails) if any(tool_fails) else None,
        "recall": agree / sum(human_fails) if any(human_fails) else None,
        "kappa": cohen_kappa(tool_fails, human_fails),
    }


def fitted_rubric(calibration: Calibration, extends: str, name: str) -> str:
    """A rubric TOML that extends the one used and sets the fitted points of each fitted check."""
    lines = [f"# Points fitted by cs-audit calibrate on {calibration.conversations} rated conversations",
             f"# (ratings {calibration.scale}); Spearman(score, rating) before the fit: "
             f"{_shown(calibration.spearman)}. Review before adopting.",
             f'name = "{name}"', f'extends = "{extends}"', ""]
    for check in calibration.checks:
        if check.fitted_points is None:
            continue
        lines += [f"[checks.{check.rule}]",
                  f"points = {check.fitted_points:g}  # was {check.points:g}; "
                  f"failed {check.failed} of {check.applied}", ""]
    return "\n".join(lines)


def _shown(value: float | None) -> str:
    return "—" if value is None else f"{value:.2f}"


def table_rows(calibration: Calibration) -> Iterable[list]:
    for check in calibration.checks:
        human = check.human or {}
        yield [check.rule, check.severity, f"{check.points:g}",
               "—" if check.fitted_points is None else f"{check.fitted_points:g}",
               f"{check.failed}/{check.applied}", _shown(check.rating_passed),
               _shown(check.rating_failed), _shown(check.correlation),
               _shown(human.get("precision")), _shown(human.get("recall")), _shown(human.get("kappa"))]


TABLE_HEADERS = ["check", "severity", "points", "fitted", "failed", "rating passed", "rating failed",
                 "r(pass, rating)", "precision", "recall", "kappa"]
