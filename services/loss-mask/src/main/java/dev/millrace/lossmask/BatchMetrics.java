package dev.millrace.lossmask;

import dev.millrace.core.record.Stage;
import dev.millrace.proto.v1.Batch;
import dev.millrace.proto.v1.BatchRow;
import io.micrometer.core.instrument.Counter;
import io.micrometer.core.instrument.DistributionSummary;
import io.micrometer.core.instrument.MeterRegistry;
import io.micrometer.core.instrument.Timer;
import java.time.Duration;
import java.util.List;

/**
 * Batch metrics per stage: batches sent, filler rows, non-pad and trained tokens, each batch's fill
 * shares as the batch reports them ({@code Batch.nonpad_share}, {@code trained_share}: docs/semantics.md#fill,
 * over real rows, DPO over both sides), how long a batch waited to fill, and with
 * packing the examples and packed rows made (examples per row = their ratio).
 */
final class BatchMetrics {
    private final Counter batches;
    private final Counter fillerRows;
    private final Counter nonPadTokens;
    private final Counter trainedTokens;
    private final DistributionSummary nonPadShare;
    private final DistributionSummary trainedShare;
    private final Timer fillLatency;
    private final Counter packedRows;
    private final Counter packedExamples;

    BatchMetrics(MeterRegistry registry, Stage stage) {
        String s = stage.id();
        batches = registry.counter("millrace.batches", "stage", s);
        fillerRows = registry.counter("millrace.batch.filler.rows", "stage", s);
        nonPadTokens = registry.counter("millrace.batch.tokens", "stage", s, "kind", "nonpad");
        trainedTokens = registry.counter("millrace.batch.tokens", "stage", s, "kind", "trained");
        nonPadShare = DistributionSummary.builder("millrace.batch.nonpad.share").tag("stage", s).register(registry);
        trainedShare = DistributionSummary.builder("millrace.batch.trained.share").tag("stage", s).register(registry);
        fillLatency = Timer.builder("millrace.batch.fill.latency").tag("stage", s).register(registry);
        packedRows = registry.counter("millrace.pack.rows", "stage", s);
        packedExamples = registry.counter("millrace.pack.examples", "stage", s);
    }

    void sent(Batch batch, long nowMs) {
        batches.increment();
        fillerRows.increment(batch.getRowsList().stream().filter(BatchRow::getFiller).count()
                + batch.getRejectedRowsList().stream().filter(BatchRow::getFiller).count());
        nonPadTokens.increment(batch.getNonpadTokens());
        trainedTokens.increment(batch.getTrainedTokens());
        nonPadShare.record(batch.getNonpadShare());
        trainedShare.record(batch.getTrainedShare());
        fillLatency.record(Duration.ofMillis(Math.max(0, nowMs - batch.getCreatedAtMs())));
    }

    /** Packed rows just made; each of their record refs is one example. */
    void packed(List<BatchRow> rows) {
        packedRows.increment(rows.size());
        packedExamples.increment(rows.stream().mapToInt(BatchRow::getRecordsCount).sum());
    }
}
