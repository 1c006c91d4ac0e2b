package dev.millrace.cli.ops;

import java.io.PrintStream;
import java.time.Instant;
import java.util.List;
import java.util.Locale;

/** The table of {@code ./millrace batches}: one line per batch, oldest first. */
public final class BatchesOutput {
    /** Characters of a record id shown in the first-records column. */
    static final int ID_CHARS = 12;

    private BatchesOutput() {
    }

    public static TextTable table(List<BatchListing.Summary> batches) {
        TextTable table = new TextTable("BATCH", "PARTITION", "OFFSET", "TIME (UTC)", "ROWS", "NONPAD", "TRAINED", "RECORDS", "FIRST RECORDS");
        for (BatchListing.Summary b : batches) {
            table.row(b.batchId(), b.partition(), b.offset(), time(b.timestampMs()), b.realRows() + "/" + b.rows(),
                    share(b.nonpadShare()), share(b.trainedShare()), b.records(), firstRecords(b));
        }
        return table;
    }

    public static void print(PrintStream out, List<BatchListing.Summary> batches) {
        table(batches).print(out);
    }

    static String share(double share) {
        return String.format(Locale.ROOT, "%.3f", share);
    }

    static String time(long ms) {
        return ms < 0 ? "-" : Instant.ofEpochMilli(ms).toString().replaceFirst("\\.\\d+Z$", "Z");
    }

    /** The first record ids, shortened; "…" when the batch has more. */
    static String firstRecords(BatchListing.Summary b) {
        if (b.firstRecords().isEmpty()) {
            return "-";
        }
        StringBuilder text = new StringBuilder();
        for (String id : b.firstRecords()) {
            if (!text.isEmpty()) {
                text.append(',');
            }
            text.append(id.length() > ID_CHARS ? id.substring(0, ID_CHARS) + "…" : id);
        }
        if (b.records() > b.firstRecords().size()) {
            text.append(",…");
        }
        return text.toString();
    }
}
