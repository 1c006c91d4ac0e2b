package dev.millrace.ingest;

import dev.millrace.contract.DeadLetters;
import dev.millrace.core.record.Reason;
import dev.millrace.ingest.EnabledStages.StageIngest;
import dev.millrace.ingest.LineIngester.Accepted;
import dev.millrace.ingest.LineIngester.Ingested;
import dev.millrace.proto.v1.DeadLetter;
import jakarta.inject.Inject;
import jakarta.inject.Singleton;
import java.util.ArrayList;
import java.util.List;
import java.util.Optional;
import java.util.concurrent.CompletableFuture;

/**
 * Produces what a request or a chunk of a file gave: records keyed by their record id, dead letters
 * by {@link DeadLetters#key}, and counts each once the broker has acknowledged it. Every outcome tells
 * {@link BrokerOutage} whether the broker is away, so that HTTP requests are refused at once meanwhile.
 */
@Singleton
public class RecordProducer {
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
     * As {@link #produce}, but while the broker is known to be away (a send timed out a moment ago and
     * none was acknowledged since) nothing is sent and the future fails at once with
     * {@link BrokerOutage.BrokerAway}: an HTTP client is answered 503 in no time and sends again later.
     */
    CompletableFuture<Void> produceUnlessBrokerAway(StageIngest ingest, Ingested result) {
        if (!result.accepted().isEmpty() || !result.rejected().isEmpty()) {
            Optional<BrokerOutage.BrokerAway> refused = outage.refusal();
            if (refused.isPresent()) {
                return CompletableFuture.failedFuture(refused.get());
            }
        }
        return produce(ingest, result);
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
}
