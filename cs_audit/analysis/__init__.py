"""Analysis: pure functions from a conversation to facts (metrics, detections)."""
