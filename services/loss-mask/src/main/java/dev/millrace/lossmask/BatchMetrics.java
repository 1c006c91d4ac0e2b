package dev.millrace.lossmask;

import dev.millrace.core.record.Stage;
import dev.millrace.proto.v1.Batch;
import io.micrometer.core.instrument.Counter;
import io.micrometer.core.instrument.DistributionSummary;
import io.micrometer.core.instrument.MeterRegistry;
import io.micrometer.core.instrument.Timer;
import java.time.Duration;

/**
 * Batch metrics: batches sent, filler rows, non-pad and trained tokens, the fill shares of each
 * batch (as CLI.md defines them, over real rows) and how long a batch waited to fill.
 */
final class BatchMetrics {
    private final Counter batches;
    private final Counter fillerRows;
    private final Counter nonPadTokens;
    private final Counter trainedTokens;
    private final DistributionSummary nonPadShare;
    private final DistributionSummary trainedShare;
    private final Timer fillLatency;

    BatchMetrics(MeterRegistry registry, Stage stage) {
        String s = stage.id();
        batches = registry.counter("millrace.batches", "stage", s);
        fillerRows = registry.counter("millrace.batch.filler.rows", "stage", s);
        nonPadTokens = registry.counter("millrace.batch.tokens", "stage", s, "kind", "nonpad");
        trainedTokens = registry.counter("millrace.batch.tokens", "stage", s, "kind", "trained");
        nonPadShare = DistributionSummary.builder("millrace.batch.nonpad.share").tag("stage", s).register(registry);
        trainedShare = DistributionSummary.builder("millrace.batch.trained.share").tag("stage", s).register(registry);
        fillLatency = Timer.builder("millrace.batch.fill.latency").tag("stage", s).register(registry);
    }

    void sent(Batch batch, long nowMs) {
        batches.increment();
        fillerRows.increment(batch.getRowsCount() - batch.getRealRows());
        nonPadTokens.increment(batch.getNonpadTokens());
        trainedTokens.increment(batch.getTrainedTokens());
        double slots = (double) batch.getRealRows() * batch.getSeqLen();
        if (slots > 0) {
            nonPadShare.record(batch.getNonpadTokens() / slots);
            trainedShare.record(batch.getTrainedTokens() / slots);
        }
        fillLatency.record(Duration.ofMillis(Math.max(0, nowMs - batch.getCreatedAtMs())));
    }
}
