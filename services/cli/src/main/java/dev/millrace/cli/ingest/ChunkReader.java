package dev.millrace.cli.ingest;

import dev.millrace.core.json.LineReader;
import dev.millrace.core.json.RawLine;
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
 * only the first {@code maxLineBytes + 1} bytes are kept and sent (core's bounded line reader): the service rejects it as
 * {@code RECORD_TOO_LARGE} all the same (its own limit is lower) and its dead letter keeps the same
 * first bytes, but the CLI never holds an arbitrarily long line.
 */
public final class ChunkReader implements Iterator<Chunk>, AutoCloseable {
    private final InputStream in;
    private final int maxLines;
    private final int maxBytes;
    private final LineReader lines;
    private long lineNumber;
    /** A line read but not yet placed: it did not fit into the previous chunk. */
    private byte[] pending;
    private boolean pendingBlank;
    private Chunk next;

    public ChunkReader(InputStream in, int maxLines, int maxBytes, int maxLineBytes) {
        this.in = in;
        this.maxLines = maxLines;
        this.maxBytes = maxBytes;
        this.lines = new LineReader(in, maxLineBytes + 1);
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
        if (!lines.hasNext()) {
            return false;
        }
        RawLine line = lines.next();
        lineNumber = line.number();
        pending = line.bytes();
        pendingBlank = line.isBlank();
        return true;
    }

    @Override
    public void close() throws IOException {
        in.close();
    }
}
