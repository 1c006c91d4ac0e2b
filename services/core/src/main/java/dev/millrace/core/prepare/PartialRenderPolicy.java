package dev.millrace.core.prepare;

import java.util.Locale;

/**
 * What to do with a record the chat template renders only part of (docs/semantics.md#sft-rule-9-partial-renders,
 * {@link dev.millrace.core.template.RenderCoverage}): by default it is a
 * {@code TEMPLATE_DROPPED_CONTENT} dead letter, since training on it trains on broken text;
 * {@code accept} keeps it as rendered and counts a warning.
 */
public enum PartialRenderPolicy {
    REJECT, ACCEPT;

    public String id() {
        return name().toLowerCase(Locale.ROOT);
    }

    public static PartialRenderPolicy fromId(String id) {
        for (PartialRenderPolicy p : values()) {
            if (p.id().equals(id)) {
                return p;
            }
        }
        throw new IllegalArgumentException("partial-render must be reject or accept, got '" + id + "'");
    }
}
