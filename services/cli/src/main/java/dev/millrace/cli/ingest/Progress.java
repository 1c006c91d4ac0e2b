package dev.millrace.cli.ingest;

import java.io.PrintStream;
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.Locale;
import java.util.function.LongSupplier;

/**
 * The progress line on standard error: records sent, records/s, accepted, rejected, the current
 * file. On a terminal it is redrawn in place ({@code \r}) a few times a second; otherwise (a log
 * file, a pipe) one line is printed every {@code lineEveryMs}.
 */
public final class Progress {
    private final PrintStream err;
    private final boolean terminal;
    private final long lineEveryMs;
    private final LongSupplier clockMs;
    private final long startMs;
    private long lastMs;
    private int drawnWidth;

    public Progress(PrintStream err, boolean terminal, long lineEveryMs, LongSupplier clockMs) {
        this.err = err;
        this.terminal = terminal;
        this.lineEveryMs = lineEveryMs;
        this.clockMs = clockMs;
        this.startMs = clockMs.getAsLong();
        this.lastMs = startMs;
    }

    /** Whether standard error of this process is a terminal (Linux: fd 2 is a tty device; elsewhere: a console is attached). */
    public static boolean stderrIsTerminal() {
        try {
            String target = Files.readSymbolicLink(Path.of("/proc/self/fd/2")).toString();
            return target.startsWith("/dev/pts/") || target.startsWith("/dev/tty");
        } catch (Exception e) {
            return System.console() != null;
        }
    }

    /** Shows the counts if it is time to (every call on a terminal is cheap: redraws are spaced too). */
    public void update(IngestTotals totals, String file) {
        long now = clockMs.getAsLong();
        if (now - lastMs < (terminal ? 200 : lineEveryMs)) {
            return;
        }
        lastMs = now;
        draw(line(totals, file, now));
    }

    /** Prints a line (a rejected record) without garbling the progress line. */
    public void println(String text) {
        clear();
        err.println(text);
    }

    /** The last state, ending the in-place line. */
    public void finish(IngestTotals totals, String file) {
        String text = line(totals, file, clockMs.getAsLong());
        if (terminal) {
            draw(text);
            err.println();
            drawnWidth = 0;
        } else {
            err.println(text);
        }
    }

    private String line(IngestTotals totals, String file, long now) {
        double seconds = Math.max(1, now - startMs) / 1000.0;
        return String.format(Locale.ROOT, "millrace ingest: %d records (%.0f/s) accepted=%d rejected=%d%s",
                totals.records(), totals.records() / seconds, totals.accepted(), totals.rejected(), file == null ? "" : " " + file);
    }

    private void draw(String text) {
        if (terminal) {
            String padded = text.length() < drawnWidth ? text + " ".repeat(drawnWidth - text.length()) : text;
            err.print("\r" + padded);
            err.flush();
            drawnWidth = text.length();
        } else {
            err.println(text);
        }
    }

    private void clear() {
        if (terminal && drawnWidth > 0) {
            err.print("\r" + " ".repeat(drawnWidth) + "\r");
            drawnWidth = 0;
        }
    }
}
