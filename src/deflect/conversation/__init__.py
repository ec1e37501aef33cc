"""What a message means in its conversation: the suggester (model + index), the decision policy and its signals, PII
redaction, routing, answer templates, conversation state and the handoff package. Knows nothing of HTTP."""
