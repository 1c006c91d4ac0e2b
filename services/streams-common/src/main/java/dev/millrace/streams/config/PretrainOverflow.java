package dev.millrace.streams.config;

import java.util.Locale;

/**
 * What a pretrain text longer than T becomes ({@code pretrain-overflow}): one row, truncated, or
 * consecutive windows of T, one row each (docs/semantics.md#pretrain).
 */
public enum PretrainOverflow {
    TRUNCATE, SPLIT;

    public String id() {
        return name().toLowerCase(Locale.ROOT);
    }

    public static PretrainOverflow fromId(String id) {
        for (PretrainOverflow o : values()) {
            if (o.id().equals(id)) {
                return o;
            }
        }
        throw new IllegalArgumentException("pretrain-overflow must be truncate or split, got '" + id + "'");
    }
}
