package dev.millrace.streams.config;

import java.util.Locale;

/**
 * Whether a stage's rows are packed ({@code packing}: on|off). An enum, not a boolean, so that a
 * misspelt value stops the service instead of reading as off.
 */
public enum Packing {
    ON, OFF;

    public String id() {
        return name().toLowerCase(Locale.ROOT);
    }

    public static Packing fromId(String id) {
        for (Packing p : values()) {
            if (p.id().equals(id)) {
                return p;
            }
        }
        throw new IllegalArgumentException("packing must be on or off, got '" + id + "'");
    }
}
