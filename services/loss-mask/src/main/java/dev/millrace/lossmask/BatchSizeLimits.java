package dev.millrace.lossmask;

import dev.millrace.contract.Topics;
import dev.millrace.core.batch.LargestBatch;
import dev.millrace.core.record.Stage;
import dev.millrace.proto.v1.Batch;
import java.nio.ByteBuffer;
import java.nio.charset.StandardCharsets;
import java.util.Locale;
import java.util.Optional;
import org.apache.kafka.common.record.AbstractRecords;
import org.apache.kafka.common.record.CompressionType;
import org.apache.kafka.common.record.Record;
import org.apache.kafka.common.record.RecordBatch;

/**
 * Whether a stage's largest possible batch fits the two limits Kafka puts on it
 * (docs/failures.md#state-and-batch-size-limits): the producer's {@code max.request.size}, which it
 * compares with the record before compression, and the batch topic's {@code max.message.bytes}. A
 * batch over either fails its transaction and the stream thread on every retry, so the service
 * refuses to start instead.
 */
final class BatchSizeLimits {
    /** The producer setting, as a loss-mask property. */
    static final String MAX_REQUEST_SIZE_PROPERTY = "kafka-streams.producer.max.request.size";

    private BatchSizeLimits() {
    }

    /** The shape of a stage's batches and what the largest one takes as a Kafka record. */
    record Largest(Stage stage, int batchSize, int seqLen, boolean packed, long recordBytes) {
    }

    /**
     * The largest batch of the stage ({@link LargestBatch}: every row at its longest) as a Kafka record
     * of its own: key, value and Kafka's record and record-batch framing, measured as the producer
     * measures a record for {@code max.request.size} (uncompressed).
     */
    static Largest largest(Stage stage, int seqLen, int batchSize, boolean packed, int packBuffer, int vocabSize,
                           String fingerprint, Topics topics) {
        Batch batch = LargestBatch.of(stage, seqLen, batchSize, packed, vocabSize - 1, packBuffer, fingerprint, topics.raw(stage));
        byte[] key = batch.getBatchId().getBytes(StandardCharsets.UTF_8);
        int bytes = AbstractRecords.estimateSizeInBytesUpperBound(RecordBatch.CURRENT_MAGIC_VALUE, CompressionType.NONE,
                ByteBuffer.wrap(key), ByteBuffer.wrap(batch.toByteArray()), Record.EMPTY_HEADERS);
        return new Largest(stage, batchSize, seqLen, packed, bytes);
    }

    /**
     * Why the stage's largest batch cannot be sent, or empty when it fits both limits.
     *
     * @param maxMessageBytes the batch topic's {@code max.message.bytes}
     */
    static Optional<String> problem(Largest largest, int maxRequestSize, String topic, long maxMessageBytes) {
        if (largest.recordBytes() <= maxRequestSize && largest.recordBytes() <= maxMessageBytes) {
            return Optional.empty();
        }
        return Optional.of(String.format(Locale.ROOT,
                "the largest possible %s batch (B=%d, T=%d%s%s) is %,d bytes as a Kafka record, but the producer's "
                        + "max.request.size is %,d bytes (%s) and the topic %s has max.message.bytes=%,d: raise %s to at least "
                        + "%d bytes, or lower B (millrace.batch-size) or T (millrace.seq-len) (docs/failures.md#state-and-batch-size-limits)",
                largest.stage().id(), largest.batchSize(), largest.seqLen(), largest.packed() ? ", packed" : "",
                largest.stage() == Stage.DPO ? ", chosen and rejected rows" : "", largest.recordBytes(), maxRequestSize,
                MAX_REQUEST_SIZE_PROPERTY, topic, maxMessageBytes,
                largest.recordBytes() > maxRequestSize && largest.recordBytes() > maxMessageBytes ? "both"
                        : largest.recordBytes() > maxRequestSize ? "max.request.size" : "the topic's max.message.bytes",
                largest.recordBytes()));
    }
}
