package dev.millrace.core.mask;

import java.util.Locale;

/**
 * How assistant tokens are found (docs/semantics.md, SFT rules 4 and 5): MiniMind's token pattern,
 * or the template-agnostic span rule (prefix-render differences mapped to tokens by offsets).
 */
public enum MaskRule {
    PATTERN, SPAN;

    public String id() {
        return name().toLowerCase(Locale.ROOT);
    }

    public static MaskRule fromId(String id) {
        for (MaskRule r : values()) {
            if (r.id().equals(id)) {
                return r;
            }
        }
        throw new IllegalArgumentException("mask rule must be pattern or span, got '" + id + "'");
    }
}
