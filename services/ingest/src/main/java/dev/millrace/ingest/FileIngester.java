package dev.millrace.ingest;

import dev.millrace.core.json.LineReader;
import dev.millrace.core.json.RawLine;
import dev.millrace.core.record.Stage;
import dev.millrace.ingest.EnabledStages.StageIngest;
import dev.millrace.ingest.LineIngester.Ingested;
import dev.millrace.proto.v1.Source;
import java.io.BufferedInputStream;
import java.io.IOException;
import java.io.InputStream;
import java.io.UncheckedIOException;
import java.nio.file.Files;
import java.nio.file.Path;
import java.time.Duration;
import java.util.concurrent.CompletionException;
import java.util.concurrent.TimeUnit;
import java.util.function.BooleanSupplier;
import java.util.zip.GZIPInputStream;
import org.jboss.logging.Logger;

/**
 * Streams one JSONL file ({@code .jsonl}, or gzip-compressed {@code .jsonl.gz}) through a stage's
 * {@link LineIngester} in constant memory: a chunk of lines is read, produced, and acknowledged by
 * the broker before the next one is read. Records and dead letters get
 * {@code Source{kind="file", name=<the file's path>, line=n}}.
 *
 * <p>A chunk whose sends time out (the broker is away: {@link BrokerOutage#isBrokerAway}) is sent
 * again, the same messages, every {@link #BROKER_AWAY_RETRY} until the broker acknowledges it or the
 * service stops, however long that takes: an outage pauses the file instead of failing it. Any other
 * failure to produce fails the file.
 */
final class FileIngester {
    private static final Logger LOG = Logger.getLogger(FileIngester.class);
    /** How long a chunk the broker did not answer waits before it is sent again (as long as an HTTP 503's Retry-After). */
    static final Duration BROKER_AWAY_RETRY = Duration.ofSeconds(BrokerOutage.RETRY_AFTER_SECONDS);

    private final RecordProducer producer;
    private final int chunkLines;
    private final long chunkBytes;
    private final long retryMs;

    FileIngester(RecordProducer producer, int chunkLines, long chunkBytes) {
        this(producer, chunkLines, chunkBytes, BROKER_AWAY_RETRY);
    }

    FileIngester(RecordProducer producer, int chunkLines, long chunkBytes, Duration brokerAwayRetry) {
        this.producer = producer;
        this.chunkLines = chunkLines;
        this.chunkBytes = chunkBytes;
        this.retryMs = brokerAwayRetry.toMillis();
    }

    /** Thrown when the ingest was stopped between two chunks (the service is shutting down). */
    static final class Stopped extends Exception {
        Stopped() {
            super("stopped", null, false, false);
        }
    }

    /**
     * @param name the source name of the file's lines
     * @param stopping checked between chunks
     * @return the report: done, or failed with the reason (unreadable, or not acknowledged)
     * @throws Stopped when {@code stopping} turned true before the end: the file should stay where it is
     */
    FileReport ingest(Path file, String name, StageIngest stage, LineIngester.Request request, BooleanSupplier stopping)
            throws Stopped {
        LineIngester ingester = stage.ingester();
        Totals totals = new Totals(stage.stage() == Stage.DISTILL);
        LineReader lines = null;
        try (InputStream in = open(file)) {
            lines = new LineReader(in, ingester.keepBytes());
            Ingested chunk = new Ingested();
            long bytes = 0;
            while (lines.hasNext()) {
                RawLine line = lines.next();
                if (!line.isBlank()) {
                    Source source = Source.newBuilder().setKind("file").setName(name).setLine(line.number()).build();
                    ingester.add(chunk, line, request, source, System.currentTimeMillis());
                    bytes += line.bytes().length;
                }
                if (chunk.lines() >= chunkLines || bytes >= chunkBytes) {
                    if (stopping.getAsBoolean()) {
                        throw new Stopped();
                    }
                    produceAcknowledged(name, stage, chunk, stopping);
                    totals.add(chunk);
                    chunk = new Ingested();
                    bytes = 0;
                }
            }
            produceAcknowledged(name, stage, chunk, stopping);
            totals.add(chunk);
            return totals.report(name, stage, FileReport.DONE, lines.linesRead(), null);
        } catch (IOException | UncheckedIOException e) {
            IOException cause = e instanceof UncheckedIOException u ? u.getCause() : (IOException) e;
            return totals.report(name, stage, FileReport.FAILED, linesRead(lines), "the file could not be read: " + cause);
        } catch (CompletionException e) {
            if (stopping.getAsBoolean()) {
                throw new Stopped(); // the producer is closing with the service: not the file's fault
            }
            return totals.report(name, stage, FileReport.FAILED, linesRead(lines), "the broker did not acknowledge every record of a chunk ("
                    + e.getCause().getMessage() + "); dropping the file again is safe, record ids are content-derived");
        }
    }

    /**
     * Produces a chunk and waits for the broker's acknowledgement; while the broker is away, sends the
     * chunk again every {@link #retryMs} until it is acknowledged.
     *
     * @throws CompletionException for any other failure to produce
     * @throws Stopped when the service stops while the chunk waits for the broker
     */
    private void produceAcknowledged(String name, StageIngest stage, Ingested chunk, BooleanSupplier stopping) throws Stopped {
        try {
            producer.produce(stage, chunk).join();
            return;
        } catch (CompletionException e) {
            if (stopping.getAsBoolean() || !BrokerOutage.isBrokerAway(e)) {
                throw e;
            }
            LOG.warnf("drop directory: %s waits for the broker: a chunk of %d lines was not acknowledged (%s); sending it again "
                    + "every %d s until it is", name, chunk.lines(), e.getCause().getMessage(), retryMs / 1000);
        }
        long since = System.nanoTime();
        for (int attempt = 2; ; attempt++) {
            waitOrStop(stopping);
            try {
                producer.produceAgain(stage, chunk).join();
                LOG.infof("drop directory: %s goes on: the broker acknowledged the chunk at attempt %d, after %d s", name, attempt,
                        TimeUnit.NANOSECONDS.toSeconds(System.nanoTime() - since));
                return;
            } catch (CompletionException e) {
                if (stopping.getAsBoolean() || !BrokerOutage.isBrokerAway(e)) {
                    throw e;
                }
            }
        }
    }

    private void waitOrStop(BooleanSupplier stopping) throws Stopped {
        long until = System.nanoTime() + TimeUnit.MILLISECONDS.toNanos(retryMs);
        while (System.nanoTime() < until) {
            if (stopping.getAsBoolean()) {
                throw new Stopped();
            }
            try {
                Thread.sleep(Math.min(100, Math.max(1, TimeUnit.NANOSECONDS.toMillis(until - System.nanoTime()))));
            } catch (InterruptedException e) {
                Thread.currentThread().interrupt();
                throw new Stopped();
            }
        }
    }

    private static long linesRead(LineReader lines) {
        return lines == null ? 0 : lines.linesRead();
    }

    /** What the acknowledged chunks of a file held. */
    private static final class Totals {
        private long accepted;
        private long rejected;
        private Long prompts;

        Totals(boolean countPrompts) {
            this.prompts = countPrompts ? 0L : null;
        }

        void add(Ingested chunk) {
            accepted += chunk.accepted().size();
            rejected += chunk.rejected().size();
            prompts = prompts == null ? null : prompts + chunk.prompts();
        }

        FileReport report(String name, StageIngest stage, String status, long lines, String error) {
            return new FileReport(name, stage.stage().id(), status, lines, accepted, prompts, rejected, error);
        }
    }

    /** The file's bytes, gunzipped when its name ends in {@code .gz}. */
    static InputStream open(Path file) throws IOException {
        InputStream in = new BufferedInputStream(Files.newInputStream(file), 64 * 1024);
        if (!file.getFileName().toString().endsWith(".gz")) {
            return in;
        }
        try {
            return new GZIPInputStream(in, 64 * 1024);
        } catch (IOException e) {
            in.close();
            throw e;
        }
    }
}
