package dev.millrace.core.record;

import java.util.Locale;

/** The training stages; the lower-case name is used in topic names, record ids and the CLI. */
public enum Stage {
    PRETRAIN, SFT, DPO, DISTILL;

    public String id() {
        return name().toLowerCase(Locale.ROOT);
    }

    public static Stage fromId(String id) {
        for (Stage s : values()) {
            if (s.id().equals(id)) {
                return s;
            }
        }
        throw new IllegalArgumentException("unknown stage '" + id + "' (expected pretrain, sft, dpo or distill)");
    }
}
