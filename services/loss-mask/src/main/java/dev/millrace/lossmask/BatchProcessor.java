package dev.millrace.lossmask;

import com.google.protobuf.InvalidProtocolBufferException;
import dev.millrace.core.batch.BatchAssembler;
import dev.millrace.core.prepare.SftPreparer;
import dev.millrace.core.record.Reason;
import dev.millrace.core.record.RecordRejected;
import dev.millrace.core.record.Stage;
import dev.millrace.core.record.Warning;
import dev.millrace.core.wire.RowCodec;
import dev.millrace.proto.v1.Batch;
import dev.millrace.proto.v1.RecordRef;
import dev.millrace.proto.v1.Row;
import dev.millrace.proto.v1.Source;
import dev.millrace.proto.v1.TokenizedRecord;
import dev.millrace.proto.v1.TopicOffset;
import dev.millrace.streams.StepProcessor;
import dev.millrace.streams.WireSpans;
import io.micrometer.core.instrument.MeterRegistry;
import java.nio.ByteBuffer;
import java.time.Duration;
import java.util.ArrayList;
import java.util.List;
import org.apache.kafka.streams.processor.PunctuationType;
import org.apache.kafka.streams.processor.api.ProcessorContext;
import org.apache.kafka.streams.state.KeyValueStore;

/**
 * Masks each tokenized record into a row (core's mask rule) and adds it to the task's open batch;
 * a full batch is sent at once, a partial one when it has lingered long enough. The open batch
 * and the batch sequence number are kept in a state store, so batch ids are stable across restarts.
 */
final class BatchProcessor extends StepProcessor {
    private static final String OPEN = "open";
    private static final String SEQUENCE = "sequence";

    private final SftPreparer preparer;
    private final BatchAssembler assembler;
    private final String fingerprint;
    private final Duration linger;
    private final BatchMetrics batchMetrics;
    private KeyValueStore<String, byte[]> store;

    BatchProcessor(Stage stage, SftPreparer preparer, BatchAssembler assembler, String fingerprint, Duration linger,
                   MeterRegistry registry) {
        super("loss-mask", stage, registry);
        this.preparer = preparer;
        this.assembler = assembler;
        this.fingerprint = fingerprint;
        this.linger = linger;
        this.batchMetrics = new BatchMetrics(registry, stage);
    }

    static String storeName(Stage stage) {
        return "open-batch-" + stage.id();
    }

    @Override
    public void init(ProcessorContext<String, byte[]> context) {
        super.init(context);
        store = context.getStateStore(storeName(stage));
        Duration check = Duration.ofMillis(Math.max(50, Math.min(1000, linger.toMillis() / 4)));
        context.schedule(check, PunctuationType.WALL_CLOCK_TIME, this::sendIfLingered);
    }

    @Override
    protected byte[] transform(String key, byte[] value, TopicOffset input) throws RecordRejected, InvalidProtocolBufferException {
        TokenizedRecord in = TokenizedRecord.parseFrom(value);
        if (!fingerprint.equals(in.getTokenizerFingerprint())) {
            throw new RecordRejected(Reason.TOKENIZER_MISMATCH, "the record was tokenized with tokenizer folder "
                    + in.getTokenizerFingerprint() + " but batches here are for " + fingerprint);
        }
        if (in.getSidesCount() != 1) {
            throw new IllegalArgumentException("a conversation record has " + in.getSidesCount() + " sides, expected 1");
        }
        SftPreparer.Masked masked = preparer.mask(ids(in.getSides(0).getIdsList()), WireSpans.tokenSpans(in.getSides(0)));
        List<String> warnings = new ArrayList<>(in.getWarningsList());
        for (Warning w : masked.warnings()) {
            warnings.add(w.name());
            metrics().warning(w);
        }
        RecordRef ref = RecordRef.newBuilder().setRecordId(in.getRecordId()).setRaw(in.getRaw()).build();
        Row row = RowCodec.toProto(masked.row(), List.of(ref), List.of())
                .toBuilder().addAllWarnings(warnings).build();

        long now = context.currentSystemTimeMs();
        long sequence = sequence();
        Batch open = assembler.add(openBatch(), assembler.batchId(context.taskId().partition(), sequence), row, now);
        metrics().out();
        if (assembler.isFull(open)) {
            send(open, now);
        } else {
            store.put(OPEN, open.toByteArray());
        }
        return null; // batches are sent under their own key
    }

    private void sendIfLingered(long now) {
        Batch open = openBatch();
        if (open != null && now - open.getCreatedAtMs() >= linger.toMillis()) {
            send(open, now);
        }
    }

    private void send(Batch open, long now) {
        Batch batch = assembler.close(open);
        emit(batch.getBatchId(), batch.toByteArray(), now);
        store.delete(OPEN);
        store.put(SEQUENCE, ByteBuffer.allocate(Long.BYTES).putLong(sequence() + 1).array());
        batchMetrics.sent(batch, now);
    }

    private Batch openBatch() {
        byte[] bytes = store.get(OPEN);
        try {
            return bytes == null ? null : Batch.parseFrom(bytes);
        } catch (InvalidProtocolBufferException e) {
            throw new IllegalStateException("the open batch in the state store is unreadable", e);
        }
    }

    private long sequence() {
        byte[] bytes = store.get(SEQUENCE);
        return bytes == null ? 0 : ByteBuffer.wrap(bytes).getLong();
    }

    private static int[] ids(List<Integer> list) {
        int[] ids = new int[list.size()];
        for (int i = 0; i < ids.length; i++) {
            ids[i] = list.get(i);
        }
        return ids;
    }

    @Override
    protected Source sourceOf(byte[] value) {
        try {
            return TokenizedRecord.parseFrom(value).getSource();
        } catch (InvalidProtocolBufferException e) {
            return null;
        }
    }
}
