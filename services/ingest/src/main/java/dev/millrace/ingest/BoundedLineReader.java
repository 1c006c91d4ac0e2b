package dev.millrace.ingest;

import java.io.ByteArrayOutputStream;
import java.io.IOException;
import java.io.InputStream;
import java.io.UncheckedIOException;
import java.util.Iterator;
import java.util.NoSuchElementException;

/**
 * Splits a byte stream into lines as core's {@code LineReader} does ({@code \n} ends a line, one
 * trailing {@code \r} is dropped, blank lines keep their number), but keeps at most {@code keep}
 * bytes of each line and only counts the rest: a file with one endless line cannot exhaust memory,
 * and a line over the record limit is still rejected with its true length. Memory is bounded by
 * {@code keep} plus a 64 KiB buffer.
 */
final class BoundedLineReader implements Iterator<Line> {
    private final InputStream in;
    private final int keep;
    private final byte[] buffer = new byte[64 * 1024];
    private int pos;
    private int limit;
    private long lineNumber;
    private Line next;
    private boolean eof;

    /** @param keep how many bytes of a line are kept; lines are counted in full */
    BoundedLineReader(InputStream in, int keep) {
        this.in = in;
        this.keep = keep;
    }

    /** @throws UncheckedIOException when the stream cannot be read (e.g. a corrupt gzip file) */
    @Override
    public boolean hasNext() {
        if (next == null && !eof) {
            next = readLine();
        }
        return next != null;
    }

    @Override
    public Line next() {
        if (!hasNext()) {
            throw new NoSuchElementException();
        }
        Line line = next;
        next = null;
        return line;
    }

    /** The number of the last line read (0 before the first). */
    long linesRead() {
        return lineNumber;
    }

    private Line readLine() {
        ByteArrayOutputStream kept = new ByteArrayOutputStream();
        long length = 0;
        boolean blank = true;
        boolean lastWasCr = false;
        boolean sawAnything = false;
        while (true) {
            if (pos == limit && !fill()) {
                eof = true;
                return sawAnything ? finish(kept, length, blank, lastWasCr) : null;
            }
            sawAnything = true;
            while (pos < limit) {
                byte b = buffer[pos++];
                if (b == '\n') {
                    return finish(kept, length, blank, lastWasCr);
                }
                if (kept.size() < keep) {
                    kept.write(b);
                }
                length++;
                lastWasCr = b == '\r';
                blank &= b == ' ' || b == '\t' || b == '\r';
            }
        }
    }

    private Line finish(ByteArrayOutputStream kept, long length, boolean blank, boolean lastWasCr) {
        byte[] bytes = kept.toByteArray();
        if (lastWasCr) {
            if (bytes.length == length) { // the \r was kept: drop it
                bytes = java.util.Arrays.copyOf(bytes, bytes.length - 1);
            }
            length--;
        }
        return new Line(++lineNumber, bytes, length, blank);
    }

    private boolean fill() {
        try {
            int n = in.read(buffer);
            if (n <= 0) {
                return false;
            }
            pos = 0;
            limit = n;
            return true;
        } catch (IOException e) {
            throw new UncheckedIOException(e);
        }
    }
}
