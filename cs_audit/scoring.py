"""Turn analysis facts into rubric check results, a 0-100 score, a grade and pass/fail."""

from __future__ import annotations

from dataclasses import dataclass

from cs_audit.checks import CHECK_KINDS, SHOP_ROLES, ConversationFacts
from cs_audit.model import CheckResult
from cs_audit.rubric import Rubric


@dataclass(frozen=True, slots=True)
class Scorecard:
    """The scored outcome of one conversation."""

    checks: tuple[CheckResult, ...]
    score: float
    grade: str
    passed: bool
    critical: bool
    score_before_critical: float


def score_conversation(facts: ConversationFacts, rubric: Rubric) -> Scorecard:
    """Apply every enabled check of ``rubric`` to ``facts``.

    The score is the share of points earned over the checks that apply (a check that does not
    apply, e.g. a response check without timestamps, neither gives nor costs points), times 100,
    rounded to one decimal. A failed critical check, or an off-platform request by the shop
    (SPEC §4), marks the conversation critical: it fails whatever its points, and its score is the
    rubric's ``critical_score`` (default 0, as the QA products' auto-fail), the points' score kept
    as ``score_before_critical``.
    """
    results: list[CheckResult] = []
    for spec in rubric.checks:
        verdict = CHECK_KINDS[spec.kind].evaluate(facts, spec.params)
        if verdict is None:
            continue
        results.append(CheckResult(
            rule=spec.id, severity=spec.severity, passed=verdict.passed,
            points=spec.points if verdict.passed else 0.0, max_points=spec.points,
            message=verdict.message, message_index=verdict.message_index,
        ))
    available = sum(result.max_points for result in results)
    earned = sum(result.points for result in results)
    score = round(100.0 * earned / available, 1) if available else 100.0
    # SPEC §4: a shop's off-platform request is critical whatever the rubric's checks say.
    shop_risk = any(d.category.startswith("risk.") and d.role in SHOP_ROLES for d in facts.detections)
    critical = shop_risk or any(r.severity == "critical" and not r.passed for r in results)
    points_score = score
    if critical:
        score = rubric.critical_score
    passed = score >= rubric.pass_score and not critical
    return Scorecard(tuple(results), score, rubric.grade_for(score), passed, critical, points_score)
