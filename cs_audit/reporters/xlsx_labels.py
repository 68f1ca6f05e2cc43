"""The workbook's words in Chinese and English: sheet names, headers, summary labels.

Data, not logic: each key maps to (Chinese, English). Sheet names follow Excel's rules
(at most 31 characters, none of ``[]:*?/\\``); a test checks every one.
"""

from __future__ import annotations

LANGUAGES = ("zh", "en")

SHEETS: dict[str, tuple[str, str]] = {
    "summary": ("总览 Summary", "Summary"),
    "agents": ("客服 Agents", "Agents"),
    "conversations": ("会话 Conversations", "Conversations"),
    "findings": ("问题 Findings", "Findings"),
    "transcripts": ("对话 Transcripts", "Transcripts"),
    "problems": ("数据问题 Input problems", "Input problems"),
    "rubric": ("规则 Rubric", "Rubric"),
}

LABELS: dict[str, tuple[str, str]] = {
    # Summary
    "title": ("客服质检报告", "cs-audit report"),
    "rubric": ("质检规则", "Rubric"),
    "from": ("开始时间", "From"),
    "to": ("结束时间", "To"),
    "files": ("文件数", "Files"),
    "unreadable_files": ("无法读取的文件", "Unreadable files"),
    "input_problems": ("数据问题", "Input problems"),
    "conversations": ("会话数", "Conversations"),
    "messages": ("消息数", "Messages"),
    "score_mean": ("平均分", "Mean score"),
    "passed": ("合格会话", "Passed"),
    "pass_rate": ("合格率", "Pass rate"),
    "critical_conversations": ("严重问题会话", "Critical conversations"),
    "buyer_turns": ("买家提问轮次", "Buyer turns"),
    "unanswered_turns": ("未回复轮次", "Unanswered turns"),
    "avg_reply": ("平均回复时长(秒)", "Average reply (s)"),
    "slow_replies_over": ("回复慢于 {seconds} 秒", "Replies slower than {seconds} s"),
    "kpi": ("平台考核指标", "Platform KPI"),
    "value": ("实际", "Value"),
    "target": ("目标", "Target"),
    "met": ("达标", "Met"),
    "grade_distribution": ("等级分布", "Grade distribution"),
    "grade": ("等级", "Grade"),
    "agent_scores": ("客服平均分", "Mean score by agent"),
    "top_failed": ("最常未通过的检查", "Most failed checks"),
    "complaint_words": ("买家抱怨最多的词", "Words buyers complained about most"),
    "complaint_note": ("取自纠纷会话及情绪最低值 < 0.3 的会话中的买家消息",
                       "from buyer messages of disputed conversations and of conversations whose "
                       "lowest sentiment is below 0.3"),
    "word": ("词语", "Word"),
    "weight": ("权重", "Weight"),
    # Agents
    "agent": ("客服", "Agent"),
    "messages_sent": ("发送消息数", "Messages sent"),
    "critical": ("严重", "Critical"),
    "turns": ("提问轮次", "Turns"),
    "unanswered": ("未回复", "Unanswered"),
    "slowest_reply": ("最慢回复(秒)", "Slowest reply (s)"),
    "slow_replies": ("慢回复", "Slow replies"),
    "failed_checks": ("未通过的检查", "Failed checks"),
    "most_failed": ("最常见问题", "Most failed checks"),
    # Conversations
    "conversation": ("会话", "Conversation"),
    "source": ("来源文件", "Source"),
    "agents": ("客服", "Agents"),
    "start": ("开始", "Start"),
    "end": ("结束", "End"),
    "score": ("得分", "Score"),
    "passed_flag": ("合格", "Passed"),
    "first_reply": ("首次回复(秒)", "First reply (s)"),
    "sentiment_first": ("买家情绪(开始)", "Sentiment first"),
    "sentiment_last": ("买家情绪(结束)", "Sentiment last"),
    "dispute": ("纠纷类型", "Dispute"),
    "malicious": ("恶意", "malicious"),
    "transcript": ("对话记录", "Transcript"),
    "open_transcript": ("查看对话", "open"),
    "yes": ("是", "yes"),
    "no": ("否", "no"),
    "critical_mark": ("严重", "CRITICAL"),
    # Findings
    "severity": ("严重程度", "Severity"),
    "rule": ("规则", "Rule"),
    "message_number": ("消息序号", "Message #"),
    "time": ("时间", "Time"),
    "role": ("角色", "Role"),
    "evidence": ("原文(已脱敏)", "Evidence"),
    "finding": ("问题", "Finding"),
    "suggestion": ("建议", "Suggestion"),
    # Transcripts
    "sender": ("发送者", "Sender"),
    "text": ("内容(已脱敏)", "Text"),
    "detections": ("检出", "Detections"),
    # Input problems
    "file": ("文件", "File"),
    "line": ("行号", "Line"),
    "problem": ("问题", "Problem"),
    # Rubric
    "check": ("检查项", "Check"),
    "kind": ("类型", "Kind"),
    "check_title": ("说明", "Title"),
    "points": ("分值", "Points"),
    "parameters": ("参数", "Parameters"),
    "pass_score": ("合格分", "Pass score"),
    "grades": ("等级线", "Grades"),
    "service_hours": ("服务时间", "Service hours"),
    "slow_after": ("慢回复阈值(秒)", "Slow after (s)"),
    "description": ("说明", "Description"),
    "kpi_source": ("指标来源", "KPI source"),
}

ROLES: dict[str, tuple[str, str]] = {
    "buyer": ("买家", "buyer"),
    "agent": ("客服", "agent"),
    "bot": ("机器人", "bot"),
    "system": ("系统", "system"),
}


def labels_for(lang: str) -> tuple[dict[str, str], dict[str, str], dict[str, str]]:
    """Sheet names, labels and role names in ``lang`` ("zh" or "en")."""
    if lang not in LANGUAGES:
        raise ValueError(f"unknown report language {lang!r}; use one of {', '.join(LANGUAGES)}")
    position = LANGUAGES.index(lang)
    return ({key: pair[position] for key, pair in SHEETS.items()},
            {key: pair[position] for key, pair in LABELS.items()},
            {key: pair[position] for key, pair in ROLES.items()})
