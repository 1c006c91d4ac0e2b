package dev.millrace.teacher;

import java.util.Locale;

/** What the teacher does with an answer that reached {@code max-new-tokens} without an end-of-turn token. */
public enum OnMaxNewTokens {
    /** A dead letter ({@code TEACHER_MAX_NEW_TOKENS}): an unfinished answer is not trained on. */
    DROP,
    /** The answer is kept as it is and its turn closed (the template ends it with the end-of-turn token); a warning. */
    CLOSE;

    public String id() {
        return name().toLowerCase(Locale.ROOT);
    }

    /** @throws IllegalArgumentException for anything but {@code drop} or {@code close} */
    public static OnMaxNewTokens parse(String value) {
        return switch (value.trim()) {
            case "drop" -> DROP;
            case "close" -> CLOSE;
            default -> throw new IllegalArgumentException("must be drop or close, got '" + value.trim() + "'");
        };
    }
}
