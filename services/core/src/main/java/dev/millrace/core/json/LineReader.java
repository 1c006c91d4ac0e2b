package dev.millrace.core.json;

import java.io.ByteArrayOutputStream;
import java.io.IOException;
import java.io.InputStream;
import java.io.UncheckedIOException;
import java.util.Iterator;
import java.util.NoSuchElementException;

/**
 * Splits a byte stream into lines on {@code \n}, dropping one trailing {@code \r}. Reads bytes,
 * never characters, so invalid UTF-8 reaches the parser intact; memory stays bounded by the
 * longest line. Line numbers count every line, blank ones included.
 */
public final class LineReader implements Iterator<RawLine> {
    private final InputStream in;
    private final byte[] buffer = new byte[64 * 1024];
    private int pos;
    private int limit;
    private long lineNumber;
    private RawLine next;
    private boolean eof;

    public LineReader(InputStream in) {
        this.in = in;
    }

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
        ByteArrayOutputStream line = new ByteArrayOutputStream();
        boolean sawAnything = false;
        while (true) {
            if (pos == limit && !fill()) {
                eof = true;
                return sawAnything ? finish(line) : null;
            }
            int start = pos;
            while (pos < limit && buffer[pos] != '\n') {
                pos++;
            }
            line.write(buffer, start, pos - start);
            sawAnything = true;
            if (pos < limit) { // found '\n'
                pos++;
                return finish(line);
            }
        }
    }

    private RawLine finish(ByteArrayOutputStream line) {
        byte[] bytes = line.toByteArray();
        if (bytes.length > 0 && bytes[bytes.length - 1] == '\r') {
            bytes = java.util.Arrays.copyOf(bytes, bytes.length - 1);
        }
        return new RawLine(++lineNumber, bytes);
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
