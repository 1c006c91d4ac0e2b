package dev.millrace.cli.ingest;

import static org.assertj.core.api.Assertions.assertThat;

import java.io.ByteArrayOutputStream;
import java.io.PrintStream;
import java.nio.charset.StandardCharsets;
import java.util.List;
import java.util.concurrent.atomic.AtomicLong;
import org.junit.jupiter.api.Test;

/** The progress line with a hand-driven clock. */
class ProgressTest {
    private final AtomicLong now = new AtomicLong(1_000_000);
    private final ByteArrayOutputStream bytes = new ByteArrayOutputStream();
    private final PrintStream err = new PrintStream(bytes, true, StandardCharsets.UTF_8);

    private static IngestTotals totals(long records, long accepted, long rejected) {
        IngestTotals t = new IngestTotals();
        t.add(records, new IngestClient.Answer(200, accepted, rejected, 0, List.of(), ""));
        return t;
    }

    @Test
    void withoutATerminalALineIsPrintedEveryFewSecondsAndAtTheEnd() {
        Progress progress = new Progress(err, false, 5_000, now::get);

        now.addAndGet(1_000);
        progress.update(totals(1000, 990, 10), "a.jsonl");
        now.addAndGet(4_000);
        progress.update(totals(5000, 4990, 10), "a.jsonl");
        progress.println("a.jsonl:7 INVALID_JSON bad");
        now.addAndGet(1_000);
        progress.finish(totals(6000, 5990, 10), null);

        assertThat(bytes.toString(StandardCharsets.UTF_8).split("\n")).containsExactly(
                "millrace ingest: 5000 records (1000/s) accepted=4990 rejected=10 a.jsonl",
                "a.jsonl:7 INVALID_JSON bad",
                "millrace ingest: 6000 records (1000/s) accepted=5990 rejected=10");
    }

    @Test
    void onATerminalTheLineIsRedrawnInPlaceAndClearedForListedLines() {
        Progress progress = new Progress(err, true, 5_000, now::get);

        now.addAndGet(500);
        progress.update(totals(500, 500, 0), "a.jsonl");
        progress.println("a.jsonl:3 EMPTY_CONVERSATION x");
        now.addAndGet(500);
        progress.finish(totals(1000, 999, 1), null);

        String text = bytes.toString(StandardCharsets.UTF_8);
        String first = "millrace ingest: 500 records (1000/s) accepted=500 rejected=0 a.jsonl";
        assertThat(text).isEqualTo("\r" + first + "\r" + " ".repeat(first.length()) + "\r" + "a.jsonl:3 EMPTY_CONVERSATION x\n"
                + "\rmillrace ingest: 1000 records (1000/s) accepted=999 rejected=1\n");
    }
}
