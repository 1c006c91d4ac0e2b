package dev.millrace.core.prepare;

import dev.millrace.core.json.LineReader;
import dev.millrace.core.json.RawLine;
import dev.millrace.core.record.Reason;
import java.io.BufferedInputStream;
import java.io.IOException;
import java.io.InputStream;
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.function.Consumer;

/** One stage's preparation of one input line; never throws for bad data (a bad line is {@link Prepared.Rejected}). */
public interface LinePreparer {
    Prepared prepare(RawLine line);

    /**
     * {@link #prepare}, except that an exception no rule foresaw (a bug, or input nothing anticipated; a stack
     * overflow on a deeply nested line too) becomes that line's {@code UNEXPECTED_ERROR} instead of ending the
     * file: one line never costs the lines after it.
     */
    default Prepared prepareOrReport(RawLine line) {
        try {
            return prepare(line);
        } catch (RuntimeException | StackOverflowError e) {
            return new Prepared.Rejected(line.number(), Reason.UNEXPECTED_ERROR, "preparing the line failed in a way no rule foresees (a bug to report): "
                    + e.getClass().getName() + ": " + e.getMessage());
        }
    }

    /**
     * Prepares every line of a JSONL file in order, handing each result to {@code sink}; blank lines are
     * skipped (they are no records). What {@code ./millrace prepare} prints and {@code eval} scores.
     */
    default void prepareFile(Path input, Consumer<Prepared> sink) throws IOException {
        try (InputStream in = new BufferedInputStream(Files.newInputStream(input))) {
            LineReader lines = new LineReader(in);
            while (lines.hasNext()) {
                RawLine line = lines.next();
                if (!line.isBlank()) {
                    sink.accept(prepareOrReport(line));
                }
            }
        }
    }
}
