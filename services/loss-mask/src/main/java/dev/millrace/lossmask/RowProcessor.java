package dev.millrace.lossmask;

import dev.millrace.core.batch.BatchAssembler;
import dev.millrace.core.pack.PackBuffer;
import dev.millrace.core.record.RecordRejected;
import dev.millrace.core.record.Stage;
import dev.millrace.core.record.Warning;
import dev.millrace.core.wire.RowCodec;
import dev.millrace.proto.v1.BatchRow;
import dev.millrace.proto.v1.TokenizedRecord;
import io.micrometer.core.instrument.MeterRegistry;
import java.time.Duration;
import java.util.ArrayList;
import java.util.List;
import java.util.Map;
import org.apache.kafka.streams.processor.TaskId;
import org.apache.kafka.streams.processor.api.ProcessorContext;
import org.apache.kafka.streams.state.KeyValueStore;

/**
 * pretrain, sft and distill: each example becomes a row of its own, or with packing on goes into
 * the task's pack buffer, kept in the same changelogged store as the open batch (core's
 * {@link PackBuffer}: one entry per example by arrival sequence), whose packed rows go into
 * batches when it is full or has lingered.
 */
final class RowProcessor extends BatchingProcessor {
    private final RecordMasker masker;
    private final Packing packing;
    private PackBuffer buffer;
    private TaskId taskId;

    /**
     * Packing settings of a stage.
     *
     * @param bufferedByTask where each task reports its buffered examples (summed by a gauge)
     */
    record Packing(int seqLen, int padId, int bufferSize, Duration linger, Map<TaskId, Integer> bufferedByTask) {
    }

    /** @param packing null: one row per example, padded to T */
    RowProcessor(Stage stage, RecordMasker masker, Packing packing, BatchAssembler assembler, String fingerprint,
                 Duration linger, MeterRegistry registry) {
        super(stage, assembler, fingerprint, linger, registry);
        this.masker = masker;
        this.packing = packing;
    }

    @Override
    public void init(ProcessorContext<String, byte[]> context) {
        super.init(context);
        if (packing != null) {
            buffer = new PackBuffer(new PackStore(store), packing.seqLen(), packing.padId(), packing.bufferSize());
            taskId = context.taskId();
            packing.bufferedByTask().put(taskId, buffer.buffered());
        }
    }

    @Override
    public void close() {
        super.close();
        if (taskId != null) {
            packing.bufferedByTask().remove(taskId);
        }
    }

    @Override
    protected Duration[] lingers() {
        return packing == null ? super.lingers() : new Duration[] {super.lingers()[0], packing.linger()};
    }

    @Override
    protected void accept(TokenizedRecord in, long now) throws RecordRejected {
        for (MaskedExample example : masker.mask(in)) {
            List<String> warnings = new ArrayList<>(in.getWarningsList());
            for (Warning w : example.warnings()) {
                warnings.add(w.name());
                metrics().warning(w);
            }
            if (buffer == null) {
                addRow(RowCodec.toProto(example.row(), List.of(example.ref()), List.of()).toBuilder()
                        .addAllWarnings(warnings).build(), now);
            } else {
                addPacked(buffer.add(example.row(), List.of(example.ref()), warnings, now), now);
            }
        }
    }

    /** The pack buffer first (its rows may fill or open a batch), then the open batch. */
    @Override
    protected void tick(long now) {
        if (buffer != null && buffer.lingered(now, packing.linger().toMillis())) {
            addPacked(buffer.flush(), now);
        }
        super.tick(now);
    }

    private void addPacked(List<BatchRow> rows, long now) {
        for (BatchRow row : rows) {
            addRow(row, now);
        }
        batchMetrics().packed(rows);
        packing.bufferedByTask().put(taskId, buffer.buffered());
    }

    /** The pack buffer's view of the task's state store. */
    private record PackStore(KeyValueStore<String, byte[]> kv) implements PackBuffer.Store {
        @Override
        public byte[] get(String key) {
            return kv.get(key);
        }

        @Override
        public void put(String key, byte[] value) {
            kv.put(key, value);
        }

        @Override
        public void delete(String key) {
            kv.delete(key);
        }
    }
}
