package dev.millrace.core.prepare;

import java.util.Locale;

/**
 * Pretrain bos/eos wrapping (docs/semantics.md#pretrain): {@code auto} adds bos unless the text already starts
 * with the bos token and eos unless it already ends with the eos token (MiniMind's
 * {@code pretrain_hq} texts carry their own); {@code always} and {@code never} do what they say.
 */
public enum Wrap {
    AUTO, ALWAYS, NEVER;

    public String id() {
        return name().toLowerCase(Locale.ROOT);
    }

    public static Wrap fromId(String id) {
        for (Wrap w : values()) {
            if (w.id().equals(id)) {
                return w;
            }
        }
        throw new IllegalArgumentException("wrap must be auto, always or never, got '" + id + "'");
    }
}
