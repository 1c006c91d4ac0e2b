package dev.millrace.streams;

import dev.millrace.core.record.MalformedMessage;
import dev.millrace.core.record.Stage;

/**
 * How many sides a record has on the templated and tokenized topics: a DPO pair two (chosen, then
 * rejected), every other record one (a conversation, or a pretrain text).
 */
public final class SideCount {
    private SideCount() {
    }

    public static int of(Stage stage) {
        return stage == Stage.DPO ? 2 : 1;
    }

    /** @throws MalformedMessage when a message of this stage has another number of sides (a malformed message) */
    public static void check(Stage stage, int count) {
        if (count != of(stage)) {
            throw new MalformedMessage("a " + stage.id() + " record has " + of(stage)
                    + (stage == Stage.DPO ? " sides (chosen, then rejected)" : " side") + ", this one has " + count);
        }
    }
}
