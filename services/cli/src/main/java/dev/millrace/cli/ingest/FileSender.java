package dev.millrace.cli.ingest;

import java.io.IOException;
import java.io.UncheckedIOException;
import java.nio.file.Path;

/**
 * Sends files to the ingest service chunk by chunk ({@link ChunkReader}, {@link IngestHttp}): one
 * chunk in flight at a time, so memory stays constant and the broker has acknowledged every chunk
 * before the next is read. Each rejected line is listed as {@code <file>:<line> <REASON> <message>}.
 */
public final class FileSender {
    private final IngestHttp http;
    private final IngestHttp.Target target;
    private final int chunkLines;
    private final int chunkBytes;
    private final int maxLineBytes;
    private final Progress progress;
    private final Tally tally = new Tally();

    public FileSender(IngestHttp http, IngestHttp.Target target, int chunkLines, int chunkBytes, int maxLineBytes, Progress progress) {
        this.http = http;
        this.target = target;
        this.chunkLines = chunkLines;
        this.chunkBytes = chunkBytes;
        this.maxLineBytes = maxLineBytes;
        this.progress = progress;
    }

    /** A file could not be read to its end; what was read before was sent. */
    public static final class Unreadable extends Exception {
        public Unreadable(String message, Throwable cause) {
            super(message, cause);
        }
    }

    public Tally tally() {
        return tally;
    }

    /**
     * @param file the file to read
     * @param shown how the file is named in listings (as the user gave it)
     */
    public void send(Path file, String shown) throws Unreadable, IngestHttp.Failed {
        String source = file.toAbsolutePath().normalize().toString();
        tally.file();
        ChunkReader chunks;
        try {
            chunks = ChunkReader.open(file, chunkLines, chunkBytes, maxLineBytes);
        } catch (IOException e) {
            throw new Unreadable(shown + " cannot be read: " + e, e);
        }
        long sent = 0;
        try (chunks) {
            while (chunks.hasNext()) {
                Chunk chunk = chunks.next();
                if (chunk.records() == 0) {
                    continue; // only blank lines: nothing for the service
                }
                IngestHttp.Answer answer = http.post(target, source, chunk);
                tally.add(chunk.records(), answer);
                sent += chunk.records();
                for (IngestHttp.LineError e : answer.errors()) {
                    progress.println(shown + ":" + e.line() + " " + e.reason() + " " + e.message());
                }
                progress.update(tally, shown);
            }
        } catch (UncheckedIOException e) {
            throw new Unreadable(shown + " could not be read after line " + chunks.linesRead() + ": " + e.getCause()
                    + " (" + sent + " records of it were sent before)", e);
        } catch (IOException e) {
            // closing a file that was read to its end: nothing was lost
        }
    }
}
