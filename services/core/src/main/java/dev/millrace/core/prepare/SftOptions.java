package dev.millrace.core.prepare;

import dev.millrace.core.chat.InputFormat;
import dev.millrace.core.record.Stage;

/**
 * Per-stage settings for conversation stages (sft, distill).
 *
 * @param seqLen the row length T
 * @param format a forced input format, or null to detect per record
 */
public record SftOptions(Stage stage, int seqLen, InputFormat format) {
    public SftOptions {
        if (stage != Stage.SFT && stage != Stage.DISTILL) {
            throw new IllegalArgumentException("conversation preparation is for sft and distill, not " + stage.id());
        }
        if (seqLen < 2) {
            throw new IllegalArgumentException("--seq-len must be at least 2");
        }
    }
}
