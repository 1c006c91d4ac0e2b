package dev.millrace.cli.ingest;

import java.io.IOException;
import java.io.UncheckedIOException;
import java.nio.file.Path;

/**
 * Sends files to the ingest service chunk by chunk ({@link ChunkReader}, {@link IngestClient}): one
 * chunk in flight at a time, so memory stays constant and the broker has acknowledged every chunk
 * before the next is read. Each rejected line is listed as {@code <file>:<line> <REASON> <message>}.
 */
public final class FileSender {
    private final IngestClient ingest;
    private final IngestClient.Request request;
    private final int chunkLines;
    private final int chunkBytes;
    private final int maxLineBytes;
    private final Progress progress;
    private final IngestTotals totals = new IngestTotals();

    /**
     * @param request the stage and the options of every request ({@code format}, {@code teacher}); each chunk adds
     *                its file as {@code source} and its first line's number
     */
    public FileSender(IngestClient ingest, IngestClient.Request request, int chunkLines, int chunkBytes, int maxLineBytes, Progress progress) {
        this.ingest = ingest;
        this.request = request;
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

    public IngestTotals totals() {
        return totals;
    }

    /**
     * @param file the file to read
     * @param shown how the file is named in listings (as the user gave it)
     */
    public void send(Path file, String shown) throws Unreadable, IngestClient.Failed {
        String source = file.toAbsolutePath().normalize().toString();
        totals.file();
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
                IngestClient.Answer answer = ingest.post(request.from(source, chunk.firstLine()), chunk.body());
                totals.add(chunk.records(), answer);
                sent += chunk.records();
                for (IngestClient.LineError e : answer.errors()) {
                    progress.println(shown + ":" + e.line() + " " + e.reason() + " " + e.message());
                }
                if (answer.rejected() > answer.errors().size()) { // ingest lists the first 1000 rejected lines of a body
                    progress.println(shown + ": " + (answer.rejected() - answer.errors().size()) + " more rejected lines of the chunk from line "
                            + chunk.firstLine() + " are not listed in ingest's answer (./millrace dlq shows every dead letter)");
                }
                progress.update(totals, shown);
            }
        } catch (UncheckedIOException e) {
            throw new Unreadable(shown + " could not be read after line " + chunks.linesRead() + ": " + e.getCause()
                    + " (" + sent + " records of it were sent before)", e);
        } catch (IOException e) {
            // closing a file that was read to its end: nothing was lost
        }
    }
}
