package dev.millrace.core.record;

/**
 * Every dead-letter reason code Millrace uses, in one place (docs/reasons.md). The enum names are
 * the wire and CLI codes. {@link #checkedAtIngest()} says whether ingest can decide it without a
 * tokenizer or template (docs/cli.md#http-ingest); the others arise downstream.
 */
public enum Reason {
    INVALID_JSON(true),
    INVALID_UTF8(true),
    RECORD_TOO_LARGE(true),
    UNKNOWN_FORMAT(true),
    MISSING_FIELD(true),
    WRONG_TYPE(true),
    UNKNOWN_ROLE(true),
    ROLE_ORDER(true),
    EMPTY_CONVERSATION(true),
    /** A {@code raise_exception} or render failure, carrying the template's message. */
    TEMPLATE_ERROR(false),
    TEMPLATE_NOT_PREFIX_CONSISTENT(false),
    /**
     * The rendered text leaves out part of the record (a message's content, a tool call's function
     * name): {@code RenderCoverage}; not under the {@code partial-render=accept} policy.
     */
    TEMPLATE_DROPPED_CONTENT(false),
    /**
     * The conversation (or a DPO side) has more messages than the per-record limit
     * ({@code max-messages}): its template work would grow with the square of its length.
     */
    TOO_MANY_MESSAGES(false),
    /**
     * The chat template work on one record (its render and the span rule's prefix renders) took
     * longer than the per-record time budget ({@code record-time-budget-ms}) and was stopped.
     */
    RECORD_TIME_BUDGET_EXCEEDED(false),
    /** At ingest only when there is no assistant message; downstream when truncation left no 1. */
    NO_TRAINABLE_TOKENS(true),
    DPO_PROMPT_MISMATCH(true),
    TOKENIZER_MISMATCH(false),
    /** Only under the {@code special-tokens-in-content=reject} policy. */
    SPECIAL_TOKEN_IN_CONTENT(false),
    /**
     * The teacher's answer to a distill prompt reached {@code max-new-tokens} without an end-of-turn token, under
     * the teacher's {@code on-max-new-tokens=drop} policy (its default): an unfinished answer is not trained on.
     */
    TEACHER_MAX_NEW_TOKENS(false),
    /** A message on an internal topic that does not parse as its protobuf type (version skew, a foreign producer). */
    MALFORMED_MESSAGE(false),
    /**
     * A step failed on the record in a way it does not expect (a bug, or input no rule foresaw): the
     * record is dead-lettered with the exception's class and message, and the step goes on.
     */
    UNEXPECTED_ERROR(false);

    private final boolean checkedAtIngest;

    Reason(boolean checkedAtIngest) {
        this.checkedAtIngest = checkedAtIngest;
    }

    public boolean checkedAtIngest() {
        return checkedAtIngest;
    }
}
