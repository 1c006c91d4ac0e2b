package dev.millrace.lossmask;

import dev.millrace.core.mask.Row;
import dev.millrace.core.record.Warning;
import dev.millrace.proto.v1.RecordRef;
import java.util.List;

/**
 * One masked example a tokenized record gives: its row of T positions as the stage's rule made it
 * (truncated and padded), its lineage, and the warnings the rule found.
 */
record MaskedExample(Row row, RecordRef ref, List<Warning> warnings) {
    MaskedExample {
        warnings = List.copyOf(warnings);
    }
}
