package dev.millrace.cli.ingest;

import java.io.BufferedInputStream;
import java.io.ByteArrayOutputStream;
import java.io.IOException;
import java.io.InputStream;
import java.io.UncheckedIOException;
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.Iterator;
import java.util.NoSuchElementException;
import java.util.zip.GZIPInputStream;

/**
 * Reads a JSONL file ({@code .gz}: gzip) as {@link Chunk}s of at most {@code maxLines} lines and,
 * unless one line alone is longer, {@code maxBytes} bytes, in constant memory. Lines end in
 * {@code \n} or {@code \r\n} (the {@code \r} is dropped, as core's line reader does); blank lines
 * stay in the body so that line numbers stay the file's. Of a line longer than {@code maxLineBytes}
 * only the first {@code maxLineBytes + 1} bytes are kept and sent: the service rejects it as
 * {@code RECORD_TOO_LARGE} all the same (its own limit is lower) and its dead letter keeps the same
 * first bytes, but the CLI never holds an arbitrarily long line.
 */
public final class ChunkReader implements Iterator<Chunk>, AutoCloseable {
    private final InputStream in;
    private final int maxLines;
    private final int maxBytes;
    private final int keep;
    private final byte[] buffer = new byte[64 * 1024];
    private int pos;
    private int limit;
    private boolean eof;
    private long lineNumber;
    /** A line read but not yet placed: it did not fit into the previous chunk. */
    private byte[] pending;
    private boolean pendingBlank;
    private Chunk next;

    public ChunkReader(InputStream in, int maxLines, int maxBytes, int maxLineBytes) {
        this.in = in;
        this.maxLines = maxLines;
        this.maxBytes = maxBytes;
        this.keep = maxLineBytes + 1;
    }

    /** Opens a file, gunzipping it when its name ends in {@code .gz}. */
    public static ChunkReader open(Path file, int maxLines, int maxBytes, int maxLineBytes) throws IOException {
        InputStream in = new BufferedInputStream(Files.newInputStream(file), 64 * 1024);
        if (file.getFileName().toString().endsWith(".gz")) {
            try {
                in = new GZIPInputStream(in, 64 * 1024);
            } catch (IOException e) {
                in.close();
                throw e;
            }
        }
        return new ChunkReader(in, maxLines, maxBytes, maxLineBytes);
    }

    /** Lines read so far (those of the chunks returned and a line held for the next chunk). */
    public long linesRead() {
        return lineNumber;
    }

    /** @throws UncheckedIOException when the file cannot be read further (e.g. a corrupt gzip stream) */
    @Override
    public boolean hasNext() {
        if (next == null) {
            next = readChunk();
        }
        return next != null;
    }

    @Override
    public Chunk next() {
        if (!hasNext()) {
            throw new NoSuchElementException();
        }
        Chunk chunk = next;
        next = null;
        return chunk;
    }

    private Chunk readChunk() {
        ByteArrayOutputStream body = new ByteArrayOutputStream();
        long first = 0;
        int lines = 0;
        int records = 0;
        while (lines < maxLines) {
            if (pending == null && !readLine()) {
                break;
            }
            int size = (lines > 0 ? 1 : 0) + pending.length;
            if (lines > 0 && body.size() + size > maxBytes) {
                break; // the line starts the next chunk
            }
            if (lines == 0) {
                first = lineNumber;
            } else {
                body.write('\n');
            }
            body.writeBytes(pending);
            lines++;
            records += pendingBlank ? 0 : 1;
            pending = null;
        }
        return lines == 0 ? null : new Chunk(first, lines, records, body.toByteArray());
    }

    /** Reads the next line into {@link #pending}; false at the end of the stream. */
    private boolean readLine() {
        if (eof) {
            return false;
        }
        ByteArrayOutputStream line = new ByteArrayOutputStream();
        long length = 0;
        boolean blank = true;
        boolean lastWasCr = false;
        boolean sawAnything = false;
        while (true) {
            if (pos == limit && !fill()) {
                eof = true;
                if (!sawAnything) {
                    return false;
                }
                break;
            }
            sawAnything = true;
            byte b = buffer[pos++];
            if (b == '\n') {
                break;
            }
            if (line.size() < keep) {
                line.write(b);
            }
            length++;
            lastWasCr = b == '\r';
            blank &= b == ' ' || b == '\t' || b == '\r';
        }
        byte[] bytes = line.toByteArray();
        if (lastWasCr && bytes.length == length) {
            bytes = java.util.Arrays.copyOf(bytes, bytes.length - 1);
        }
        lineNumber++;
        pending = bytes;
        pendingBlank = blank;
        return true;
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

    @Override
    public void close() throws IOException {
        in.close();
    }
}
