package dev.millrace.ingest;

import dev.millrace.contract.DeadLetters;
import dev.millrace.core.record.Reason;
import dev.millrace.ingest.EnabledStages.StageIngest;
import dev.millrace.ingest.LineIngester.Accepted;
import dev.millrace.ingest.LineIngester.Ingested;
import dev.millrace.proto.v1.DeadLetter;
import jakarta.inject.Inject;
import jakarta.inject.Singleton;
import java.util.ArrayDeque;
import java.util.ArrayList;
import java.util.List;
import java.util.Optional;
import java.util.concurrent.CompletableFuture;
import java.util.concurrent.CompletionException;

/**
 * Produces what a request or a chunk of a file gave: records keyed by their record id, dead letters
 * by {@link DeadLetters#key}, and counts each once the broker has acknowledged it. Every outcome tells
 * {@link BrokerOutage} whether the broker is away, so that HTTP requests ({@link Sends}) are refused at
 * once meanwhile.
 */
@Singleton
public class RecordProducer {
    /**
     * How many records one HTTP request may have sent and not yet had acknowledged, and how many bytes:
     * a body is read only as fast as the broker takes it, and what waits is bounded per request. Together
     * with {@code millrace.ingest.max-concurrent-requests} (4) it keeps the producer's buffer (32 MiB by
     * default, where a send that finds no room would block) from filling up with HTTP records.
     */
    static final int MAX_UNACKNOWLEDGED_RECORDS = 1024;
    static final long MAX_UNACKNOWLEDGED_BYTES = 4L << 20;

    private final RecordSink sink;
    private final BrokerOutage outage;

    @Inject
    RecordProducer(RecordSink sink) {
        this(sink, new BrokerOutage());
    }

    RecordProducer(RecordSink sink, BrokerOutage outage) {
        this.sink = sink;
        this.outage = outage;
    }

    /**
     * Sends everything at once and completes when the broker has acknowledged it all (or failed any).
     * A send that fails at once (no metadata for the topic within max.block.ms: the broker is down or
     * the topic is missing) stops the rest, which would each wait as long again before failing.
     */
    CompletableFuture<Void> produce(StageIngest ingest, Ingested result) {
        for (int i = 0; i < result.lines(); i++) {
            ingest.metrics().in();
        }
        return send(ingest, result);
    }

    /**
     * As {@link #produce}, for a result whose produce failed: the same messages again (the same record
     * ids, so a record the broker had acknowledged is dropped downstream as a duplicate), its lines not
     * counted in a second time.
     */
    CompletableFuture<Void> produceAgain(StageIngest ingest, Ingested result) {
        return send(ingest, result);
    }

    private CompletableFuture<Void> send(StageIngest ingest, Ingested result) {
        if (result.accepted().isEmpty() && result.rejected().isEmpty()) {
            return sends(ingest, result); // nothing sent: no news of the broker
        }
        // Completes only once the outcome is recorded: the next request already knows the broker is away.
        return sends(ingest, result).whenComplete((ignored, error) -> outage.outcome(error));
    }

    private CompletableFuture<Void> sends(StageIngest ingest, Ingested result) {
        List<CompletableFuture<Void>> sends = new ArrayList<>(result.lines());
        for (Accepted accepted : result.accepted()) {
            CompletableFuture<Void> sent = sink.send(accepted.topic(), accepted.record().getRecordId(), accepted.record().toByteArray());
            if (sent.isCompletedExceptionally()) {
                return sent;
            }
            sends.add(sent.thenRun(() -> ingest.metrics().out()));
        }
        for (DeadLetter letter : result.rejected()) {
            Reason reason = Reason.valueOf(letter.getReason());
            CompletableFuture<Void> sent = sink.send(ingest.dlqTopic(), DeadLetters.key(letter), letter.toByteArray());
            if (sent.isCompletedExceptionally()) {
                return sent;
            }
            sends.add(sent.thenRun(() -> ingest.metrics().deadLetter(reason)));
        }
        return CompletableFuture.allOf(sends.toArray(CompletableFuture[]::new));
    }

    /**
     * The sends of one HTTP request, made line by line as its body is read ({@link Sends}); refused
     * while the broker is known to be away.
     */
    Sends sends(StageIngest ingest) {
        return new Sends(ingest, MAX_UNACKNOWLEDGED_RECORDS, MAX_UNACKNOWLEDGED_BYTES);
    }

    Sends sends(StageIngest ingest, int maxUnacknowledgedRecords, long maxUnacknowledgedBytes) {
        return new Sends(ingest, maxUnacknowledgedRecords, maxUnacknowledgedBytes);
    }

    /**
     * One request's records and dead letters, sent as they come, with at most so many records and bytes
     * unacknowledged: a send beyond that first waits for the oldest acknowledgement. The first send asks
     * {@link BrokerOutage} whether the broker is away (and is refused at once if so); {@link #finish}
     * waits for the rest and reports the outcome. Failures come as {@link CompletionException}s, as from
     * {@code produce(...).join()}. Used by one thread.
     */
    final class Sends {
        private final StageIngest ingest;
        private final int maxRecords;
        private final long maxBytes;
        private final ArrayDeque<InFlight> inFlight = new ArrayDeque<>();
        private long inFlightBytes;
        private boolean sentAny;
        private boolean reported;

        private record InFlight(CompletableFuture<Void> acknowledged, int bytes) {
        }

        private Sends(StageIngest ingest, int maxRecords, long maxBytes) {
            this.ingest = ingest;
            this.maxRecords = maxRecords;
            this.maxBytes = maxBytes;
        }

        /**
         * Sends what some lines gave (records and dead letters).
         *
         * @throws CompletionException caused by {@link BrokerOutage.BrokerAway} when refused (nothing of the request
         *     was sent), or by the error of a send that failed (the outcome is then reported)
         */
        void send(Ingested lines) {
            if (lines.accepted().isEmpty() && lines.rejected().isEmpty()) {
                return;
            }
            if (!sentAny) {
                Optional<BrokerOutage.BrokerAway> refused = outage.refusal();
                if (refused.isPresent()) {
                    reported = true; // nothing sent: no news of the broker
                    throw new CompletionException(refused.get());
                }
                sentAny = true;
            }
            for (int i = 0; i < lines.lines(); i++) {
                ingest.metrics().in();
            }
            for (Accepted accepted : lines.accepted()) {
                send(accepted.topic(), accepted.record().getRecordId(), accepted.record().toByteArray(), () -> ingest.metrics().out());
            }
            for (DeadLetter letter : lines.rejected()) {
                Reason reason = Reason.valueOf(letter.getReason());
                send(ingest.dlqTopic(), DeadLetters.key(letter), letter.toByteArray(), () -> ingest.metrics().deadLetter(reason));
            }
        }

        private void send(String topic, String key, byte[] value, Runnable onAcknowledged) {
            while (!inFlight.isEmpty() && (inFlight.size() >= maxRecords || inFlightBytes + value.length > maxBytes)) {
                InFlight oldest = inFlight.poll();
                inFlightBytes -= oldest.bytes();
                await(oldest.acknowledged());
            }
            CompletableFuture<Void> sent = sink.send(topic, key, value);
            if (sent.isCompletedExceptionally()) {
                await(sent); // failed at once (no metadata within max.block.ms): the rest would each wait as long
            }
            inFlight.add(new InFlight(sent.thenRun(onAcknowledged), value.length));
            inFlightBytes += value.length;
        }

        /** Waits for one send; a failure is reported as the outcome at once and thrown. */
        private void await(CompletableFuture<Void> sent) {
            try {
                sent.join();
            } catch (CompletionException e) {
                report(e);
                throw e;
            }
        }

        /**
         * Waits until every send is acknowledged and reports the outcome; does nothing more once a failure
         * was reported.
         *
         * @throws CompletionException caused by the error of a send that failed
         */
        void finish() {
            while (!inFlight.isEmpty() && !reported) {
                await(inFlight.poll().acknowledged());
            }
            inFlightBytes = 0;
            report(null);
        }

        /**
         * For a request that ends in a way no answer foresees (an error escaping the resource): reports the
         * outcome, so that a probe of the broker is not left open, and leaves the sends to complete alone.
         */
        void abandon(Throwable error) {
            report(error);
        }

        private void report(Throwable error) {
            if (sentAny && !reported) {
                reported = true;
                outage.outcome(error);
            }
        }
    }
}
