package dev.millrace.core.prepare;

import dev.millrace.core.mask.Row;

/**
 * Counts for {@code --stats}, the demo summary and batch metrics (docs/semantics.md#fill): {@code nonpad_share} =
 * non-padding tokens / (rows x T), {@code trained_share} = sum of unshifted masks / (rows x T).
 * Filler rows that only complete a batch are never added here.
 */
public final class FillStats {
    private long records;
    private long rejected;
    private long rows;
    private long slots;
    private long nonPad;
    private long trained;

    public void addRejected() {
        rejected++;
    }

    public void addRecord() {
        records++;
    }

    /** Counts a prepared line: its row(s), or its rejection. */
    public void add(Prepared prepared) {
        if (prepared instanceof Prepared.Example e) {
            addRecord();
            addRow(e.row());
        } else if (prepared instanceof Prepared.Windows w) {
            addRecord();
            w.rows().forEach(this::addRow);
        } else if (prepared instanceof Prepared.Pair p) {
            addRecord();
            addRow(p.chosen().row());
            addRow(p.rejected().row());
        } else {
            addRejected();
        }
    }

    public void addRow(Row row) {
        rows++;
        slots += row.seqLen();
        nonPad += row.realLength();
        trained += row.trainedTokens();
    }

    public long records() {
        return records;
    }

    public long rejected() {
        return rejected;
    }

    public long rows() {
        return rows;
    }

    public double nonPadShare() {
        return slots == 0 ? 0.0 : (double) nonPad / slots;
    }

    public double trainedShare() {
        return slots == 0 ? 0.0 : (double) trained / slots;
    }

    /** Batches of {@code batchSize} rows needed for these rows (the last one completed with filler rows). */
    public long batches(int batchSize) {
        return (rows + batchSize - 1) / batchSize;
    }
}
