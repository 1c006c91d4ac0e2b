package dev.millrace.core.prepare;

import java.util.Locale;

/**
 * What to do with special-token text inside message content (docs/semantics.md#sft-rule-6-special-tokens-in-content): HF
 * tokenizes it as the special token, so by default Millrace does too and counts a warning;
 * {@code reject} makes the record a dead letter instead.
 */
public enum SpecialTokenPolicy {
    ALLOW, REJECT;

    public String id() {
        return name().toLowerCase(Locale.ROOT);
    }

    public static SpecialTokenPolicy fromId(String id) {
        for (SpecialTokenPolicy p : values()) {
            if (p.id().equals(id)) {
                return p;
            }
        }
        throw new IllegalArgumentException("special-tokens-in-content must be allow or reject, got '" + id + "'");
    }
}
