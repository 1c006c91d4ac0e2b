package dev.millrace.core.record;

/** Non-fatal findings: the record is still trained, and each one is counted (docs/reasons.md). */
public enum Warning {
    /** Truncation cut an assistant turn, or part of one, off the row. */
    ASSISTANT_TURN_TRUNCATED,
    /** Special-token text appears inside message content (policy {@code allow}). */
    SPECIAL_TOKEN_IN_CONTENT,
    /** The pattern rule was fooled and the record was masked with the span rule instead. */
    MASK_PATTERN_MISMATCH,
    /** The chat template left out part of the record and it is trained as rendered (policy {@code partial-render=accept}). */
    TEMPLATE_DROPPED_CONTENT
}
