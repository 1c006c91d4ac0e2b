package dev.millrace.core.mask;

import java.util.Locale;

/** Which assistant turns are trained (docs/semantics.md#sft-rule-8-train-on): all of them (default) or only the last. */
public enum TrainOn {
    ALL, LAST;

    public String id() {
        return name().toLowerCase(Locale.ROOT);
    }

    public static TrainOn fromId(String id) {
        for (TrainOn t : values()) {
            if (t.id().equals(id)) {
                return t;
            }
        }
        throw new IllegalArgumentException("train-on must be all or last, got '" + id + "'");
    }
}
