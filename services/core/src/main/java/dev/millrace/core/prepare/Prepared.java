package dev.millrace.core.prepare;

import dev.millrace.core.mask.Row;
import dev.millrace.core.record.Reason;
import dev.millrace.core.record.Warning;
import java.util.List;

/** What preparing one input line gives: a trainable example, or a rejection with its reason. */
public sealed interface Prepared {

    long line();

    /** A record ready for training: its rendered text and its row of T ids with the unshifted mask. */
    record Example(long line, String recordId, String text, Row row, List<Warning> warnings) implements Prepared {
        public Example {
            warnings = List.copyOf(warnings);
        }
    }

    /** A pretrain text longer than T split into consecutive windows ({@code --pretrain-overflow split}). */
    record Windows(long line, String recordId, String text, List<Row> rows) implements Prepared {
        public Windows {
            rows = List.copyOf(rows);
        }
    }

    /** One side of a DPO pair: its rendered text and its row. */
    record Side(String text, Row row) {
    }

    /** A DPO pair ready for training: chosen and rejected rows of the same record. */
    record Pair(long line, String recordId, Side chosen, Side rejected, List<Warning> warnings) implements Prepared {
        public Pair {
            warnings = List.copyOf(warnings);
        }
    }

    /** A record that becomes a dead letter (or a CLI error line). */
    record Rejected(long line, Reason reason, String message) implements Prepared {
    }
}
