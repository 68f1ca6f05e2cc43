"""Which conversations and findings fail the gate: one rule for the exit code and the CI reports.

A JUnit testcase, a GitHub annotation and a SARIF result are red exactly when the finding
they show is one the gate counts, so a CI page shows what broke the build and nothing else.
"""

from __future__ import annotations

from dataclasses import dataclass

from cs_audit.model import SEVERITY_RANK, CheckResult, ConversationResult

# Failed info checks are notes (greeting, explanation…), never failures of a conversation.
NOTE_SEVERITY = "info"


@dataclass(frozen=True)
class GateRule:
    """The gates as the user set them (``--fail-under``, ``--fail-on``, ``--baseline``).

    - With ``--fail-on SEVERITY``, a failed check at or above it, not in the baseline, fails.
    - With ``--fail-under SCORE``, a conversation scoring below SCORE fails (the gate itself
      judges the mean: these are the conversations that pull it down), with its failed checks
      other than info notes.
    - With neither gate, a conversation fails by the rubric's own verdict (failed or critical),
      with its failed checks other than info notes: a passing conversation never fails for a
      minor finding.
    """

    fail_under: float | None = None
    fail_on: str = "never"
    baseline: frozenset[tuple[str, str]] = frozenset()

    @property
    def has_gate(self) -> bool:
        return self.fail_under is not None or self.fail_on in SEVERITY_RANK

    def counted_by_fail_on(self, result: ConversationResult, check: CheckResult) -> bool:
        """Whether ``check`` counts for ``--fail-on`` (failed, severe enough, not known before)."""
        threshold = SEVERITY_RANK.get(self.fail_on)
        return (threshold is not None and not check.passed
                and SEVERITY_RANK[check.severity] <= threshold
                and (result.id, check.rule) not in self.baseline)

    def failing_checks(self, result: ConversationResult) -> list[CheckResult]:
        """The failed checks that make ``result`` fail the gate, in the rubric's order (empty
        when it does not fail)."""
        by_verdict = (not self.has_gate and not result.passed) or (
            self.fail_under is not None and result.score < self.fail_under)
        return [check for check in result.checks
                if self.counted_by_fail_on(result, check)
                or (by_verdict and not check.passed and check.severity != NOTE_SEVERITY)]

    def fails(self, result: ConversationResult) -> bool:
        """Whether the conversation fails the gate."""
        if self.failing_checks(result):
            return True
        # A critical or low-scoring conversation whose failed checks are all notes still fails.
        return (not self.has_gate and not result.passed) or (
            self.fail_under is not None and result.score < self.fail_under)
