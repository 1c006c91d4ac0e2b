package dev.millrace.core.json;

import java.io.ByteArrayOutputStream;
import java.io.IOException;
import java.io.InputStream;
import java.io.UncheckedIOException;
import java.util.Arrays;
import java.util.Iterator;
import java.util.NoSuchElementException;

/**
 * Splits a byte stream into lines on {@code \n}, dropping one trailing {@code \r}. Reads bytes,
 * never characters, so invalid UTF-8 reaches the parser intact. Line numbers count every line,
 * blank ones included. Memory stays bounded by the longest line, or, with a {@code keep} bound, by
 * {@code keep} plus a 64 KiB buffer: of a longer line only the first {@code keep} bytes are kept and
 * the rest is counted ({@link RawLine#length()}), so one endless line cannot exhaust memory and a
 * line over a record limit can still be rejected with its true length.
 */
public final class LineReader implements Iterator<RawLine> {
    private final InputStream in;
    private final int keep;
    private final byte[] buffer = new byte[64 * 1024];
    private int pos;
    private int limit;
    private long lineNumber;
    private RawLine next;
    private boolean eof;
    /** The last byte of the line being read (0 when it has none yet). */
    private byte lastByte;

    public LineReader(InputStream in) {
        this(in, Integer.MAX_VALUE);
    }

    /** @param keep how many bytes of a line are kept; lines are counted in full */
    public LineReader(InputStream in, int keep) {
        if (keep < 1) {
            throw new IllegalArgumentException("keep must be at least 1 byte, got " + keep);
        }
        this.in = in;
        this.keep = keep;
    }

    /** The number of the last line read (0 before the first). */
    public long linesRead() {
        return lineNumber;
    }

    /** @throws UncheckedIOException when the stream cannot be read (e.g. a corrupt gzip stream) */
    @Override
    public boolean hasNext() {
        if (next == null && !eof) {
            next = readLine();
        }
        return next != null;
    }

    @Override
    public RawLine next() {
        if (!hasNext()) {
            throw new NoSuchElementException();
        }
        RawLine line = next;
        next = null;
        return line;
    }

    private RawLine readLine() {
        ByteArrayOutputStream kept = new ByteArrayOutputStream();
        long length = 0;
        boolean blank = true;
        boolean sawAnything = false;
        while (true) {
            if (pos == limit && !fill()) {
                eof = true;
                return sawAnything ? finish(kept, length, blank) : null;
            }
            sawAnything = true;
            int start = pos;
            while (pos < limit && buffer[pos] != '\n') {
                blank &= RawLine.isBlankByte(buffer[pos]);
                pos++;
            }
            int run = pos - start;
            kept.write(buffer, start, (int) Math.min(run, keep - kept.size()));
            length += run;
            lastByte = run > 0 ? buffer[pos - 1] : lastByte;
            if (pos < limit) { // found '\n'
                pos++;
                return finish(kept, length, blank);
            }
        }
    }

    private RawLine finish(ByteArrayOutputStream kept, long length, boolean blank) {
        byte[] bytes = kept.toByteArray();
        if (length > 0 && lastByte == '\r') {
            if (bytes.length == length) { // the \r was kept: drop it
                bytes = Arrays.copyOf(bytes, bytes.length - 1);
            }
            length--;
        }
        lastByte = 0;
        return new RawLine(++lineNumber, bytes, length, blank);
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
