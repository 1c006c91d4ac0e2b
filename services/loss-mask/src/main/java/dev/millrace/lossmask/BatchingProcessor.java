package dev.millrace.lossmask;

import com.google.protobuf.InvalidProtocolBufferException;
import dev.millrace.contract.PipelineService;
import dev.millrace.core.batch.BatchAssembler;
import dev.millrace.core.mask.MaskRule;
import dev.millrace.core.mask.Span;
import dev.millrace.core.record.MalformedMessage;
import dev.millrace.core.record.Reason;
import dev.millrace.core.record.RecordRejected;
import dev.millrace.core.record.Stage;
import dev.millrace.proto.v1.Batch;
import dev.millrace.proto.v1.BatchRow;
import dev.millrace.proto.v1.RecordRef;
import dev.millrace.proto.v1.Source;
import dev.millrace.proto.v1.TokenizedRecord;
import dev.millrace.proto.v1.TokenizedSide;
import dev.millrace.proto.v1.TopicOffset;
import dev.millrace.streams.SideCount;
import dev.millrace.streams.WireSpans;
import dev.millrace.streams.StepProcessor;
import io.micrometer.core.instrument.MeterRegistry;
import java.nio.ByteBuffer;
import java.time.Duration;
import java.util.ArrayList;
import java.util.List;
import org.apache.kafka.streams.processor.Cancellable;
import org.apache.kafka.streams.processor.PunctuationType;
import org.apache.kafka.streams.processor.api.ProcessorContext;
import org.apache.kafka.streams.state.KeyValueStore;

/**
 * The batching half of the loss-mask step, shared by every stage: rows (DPO: pairs) go into the
 * task's open batch; a full batch is sent at once, a partial one once it has lingered. The open
 * batch (row by row: {@link OpenBatch}) and the batch sequence number live in the task's
 * changelogged state store, so batch ids
 * are stable and, under exactly_once_v2, a restart neither loses nor repeats a row. Subclasses
 * turn one tokenized record into rows with core's rule for their stage.
 */
abstract class BatchingProcessor extends StepProcessor {
    private static final String SEQUENCE = "sequence";

    private final BatchAssembler assembler;
    private final String fingerprint;
    private final Duration linger;
    private final BatchMetrics batchMetrics;
    private Cancellable punctuator;
    protected KeyValueStore<String, byte[]> store;
    private OpenBatch open;

    BatchingProcessor(Stage stage, BatchAssembler assembler, String fingerprint, Duration linger, MeterRegistry registry) {
        super(PipelineService.LOSS_MASK.id(), stage, registry);
        this.assembler = assembler;
        this.fingerprint = fingerprint;
        this.linger = linger;
        this.batchMetrics = new BatchMetrics(registry, stage);
    }

    static String storeName(Stage stage) {
        return "open-batch-" + stage.id();
    }

    /** How often the lingers are checked: a quarter of the shortest, within 50 ms - 1 s. */
    static Duration checkInterval(Duration... lingers) {
        long shortest = Long.MAX_VALUE;
        for (Duration d : lingers) {
            shortest = Math.min(shortest, d.toMillis());
        }
        return Duration.ofMillis(Math.max(50, Math.min(1000, shortest / 4)));
    }

    @Override
    public void init(ProcessorContext<String, byte[]> context) {
        super.init(context);
        store = context.getStateStore(storeName(stage));
        open = new OpenBatch(store);
        punctuator = context.schedule(checkInterval(lingers()), PunctuationType.WALL_CLOCK_TIME, this::tick);
    }

    @Override
    public void close() {
        if (punctuator != null) {
            punctuator.cancel();
        }
    }

    protected BatchMetrics batchMetrics() {
        return batchMetrics;
    }

    /** The lingers this processor enforces (the punctuator runs often enough for the shortest). */
    protected Duration[] lingers() {
        return new Duration[] {linger};
    }

    /** A wall-clock tick: sends the open batch when it has lingered long enough. */
    protected void tick(long now) {
        Batch start = open.start();
        if (start != null && now - start.getCreatedAtMs() >= linger.toMillis()) {
            send(assembler.withRows(start, open.chosenRows(), open.rejectedRows()), now);
        }
    }

    @Override
    protected final byte[] transform(String key, byte[] value, TopicOffset input) throws RecordRejected, InvalidProtocolBufferException {
        TokenizedRecord in = TokenizedRecord.parseFrom(value);
        if (!fingerprint.equals(in.getTokenizerFingerprint())) {
            throw new RecordRejected(Reason.TOKENIZER_MISMATCH, "the record was tokenized with tokenizer folder "
                    + in.getTokenizerFingerprint() + " but batches here are for " + fingerprint);
        }
        accept(in, context.currentSystemTimeMs());
        metrics().out();
        return null; // batches are sent under their own key
    }

    /** Turns one record into rows and adds them ({@link #addRow}, {@link #addPair}), or rejects it. */
    protected abstract void accept(TokenizedRecord in, long now) throws RecordRejected;

    protected void addRow(BatchRow row, long now) {
        assembler.checkRow(row);
        keepOrSend(row, null, now);
    }

    protected void addPair(BatchRow chosen, BatchRow rejected, long now) {
        assembler.checkPair(chosen, rejected);
        keepOrSend(chosen, rejected, now);
    }

    /**
     * Keeps the row (DPO: the pair) in the open batch, opening one if there is none; the row that
     * fills the batch is not stored but sent with it.
     */
    private void keepOrSend(BatchRow row, BatchRow rejected, long now) {
        Batch start = open.start();
        if (start == null) {
            start = assembler.start(assembler.batchId(context.taskId().partition(), sequence()), now);
            open.open(start);
        }
        if (open.rows() + 1 < assembler.batchSize()) {
            open.add(row, rejected);
            return;
        }
        List<BatchRow> rows = new ArrayList<>(open.chosenRows());
        rows.add(row);
        List<BatchRow> rejectedRows = new ArrayList<>(open.rejectedRows());
        if (rejected != null) {
            rejectedRows.add(rejected);
        }
        send(assembler.withRows(start, rows, rejectedRows), now);
    }

    private void send(Batch full, long now) {
        Batch batch = assembler.close(full);
        emit(batch.getBatchId(), batch.toByteArray(), now);
        open.clear();
        store.put(SEQUENCE, ByteBuffer.allocate(Long.BYTES).putLong(sequence() + 1).array());
        batchMetrics.sent(batch, now);
    }

    private long sequence() {
        byte[] bytes = store.get(SEQUENCE);
        return bytes == null ? 0 : ByteBuffer.wrap(bytes).getLong();
    }

    /** The input's one side (DPO: two), or a malformed-message dead letter. */
    protected static void expectSides(TokenizedRecord in, Stage stage) {
        SideCount.check(stage, in.getSidesCount());
    }

    /**
     * A side's assistant token spans (null: unknown), or a malformed-message dead letter when the
     * span rule needs them and the message has none (a producer that rendered without them).
     */
    protected static List<Span> tokenSpans(TokenizedSide side, MaskRule rule) {
        List<Span> spans = WireSpans.tokenSpans(side);
        if (spans == null && rule == MaskRule.SPAN) {
            throw new MalformedMessage("the span mask rule needs the assistant token spans, and this message has none");
        }
        return spans;
    }

    /** Lineage of a row: the record, where its raw form was read, and (pretrain split) which window. */
    protected static RecordRef ref(TokenizedRecord in, int window) {
        return RecordRef.newBuilder().setRecordId(in.getRecordId()).setRaw(in.getRaw()).setWindow(window).build();
    }

    protected static int[] ids(List<Integer> list) {
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
