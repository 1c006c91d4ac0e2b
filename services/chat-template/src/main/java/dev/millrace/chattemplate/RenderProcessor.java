package dev.millrace.chattemplate;

import com.google.protobuf.InvalidProtocolBufferException;
import dev.millrace.contract.PipelineService;
import dev.millrace.core.json.PlainJson;
import dev.millrace.core.json.StrictJson;
import dev.millrace.core.record.MalformedMessage;
import dev.millrace.core.record.RecordRejected;
import dev.millrace.core.record.Stage;
import dev.millrace.core.record.Warning;
import dev.millrace.core.wire.StageCodec;
import dev.millrace.proto.v1.RawRecord;
import dev.millrace.proto.v1.Source;
import dev.millrace.proto.v1.TemplatedRecord;
import dev.millrace.proto.v1.TopicOffset;
import dev.millrace.streams.StepProcessor;
import io.micrometer.core.instrument.Counter;
import io.micrometer.core.instrument.MeterRegistry;
import java.time.Duration;
import java.util.ArrayList;
import java.util.List;
import java.util.Map;
import org.apache.kafka.streams.KeyValue;
import org.apache.kafka.streams.processor.Cancellable;
import org.apache.kafka.streams.processor.PunctuationType;
import org.apache.kafka.streams.processor.TaskId;
import org.apache.kafka.streams.processor.api.ProcessorContext;
import org.apache.kafka.streams.state.KeyValueIterator;
import org.apache.kafka.streams.state.KeyValueStore;

/**
 * Drops exact duplicates (same record id = same normalised content), then renders the record's
 * sides ({@link StageRenderer}: conversations and both sides of a DPO pair with the tokenizer
 * folder's chat template, a pretrain text as given; all rules in core). Seen ids live in a
 * changelogged store, so a re-sent file changes nothing downstream, across restarts too.
 *
 * <p>Entries expire after {@code retention} (counted from the record's first sighting, wall-clock
 * time): a record whose entry is older than the retention is accepted again, so re-sending a file
 * older than the retention trains on it again. A wall-clock punctuator sweeps expired entries out
 * of the store (a tombstone on the changelog each) with bounded work per run, resuming where the
 * previous run stopped, so a huge store never stalls processing.
 *
 * <p>A record marked {@code resubmitted} (an operator re-sent it on purpose, {@code dlq resubmit}) is
 * never dropped: its id may have been seen when the record was dead-lettered further downstream,
 * which this step cannot know about. It refreshes its entry (first sighting = now) and, when it
 * was a duplicate, is counted in {@code millrace.duplicates.resubmitted}.
 */
final class RenderProcessor extends StepProcessor {
    private final StageRenderer renderer;
    private final String fingerprint;
    /** Entries examined per sweep, at most this many times the deletion bound. */
    static final int SCAN_FACTOR = 10;

    private final Counter duplicates;
    private final Counter expired;
    private final Counter resubmitted;
    private final long retentionMs;
    private final int maxDeletesPerRun;
    private final Map<TaskId, Long> entriesByTask;
    private KeyValueStore<String, Long> seen;
    private TaskId taskId;
    private Cancellable sweep;
    /** The first key the next sweep examines; null: from the start of the store. */
    private String cursor;

    /**
     * @param retention how long a record id is remembered (positive: ChatTemplateConfig checks)
     * @param maxDeletesPerRun the most entries one sweep deletes (positive); it examines at most
     *     {@value #SCAN_FACTOR} times as many
     * @param entriesByTask where this task reports the approximate number of entries in its store
     *     (summed by the {@code millrace.dedup.entries} gauge)
     */
    RenderProcessor(Stage stage, StageRenderer renderer, String fingerprint, MeterRegistry registry,
            Duration retention, int maxDeletesPerRun, Map<TaskId, Long> entriesByTask) {
        super(PipelineService.CHAT_TEMPLATE.id(), stage, registry);
        this.renderer = renderer;
        this.fingerprint = fingerprint;
        this.retentionMs = retention.toMillis();
        this.maxDeletesPerRun = maxDeletesPerRun;
        this.entriesByTask = entriesByTask;
        this.duplicates = registry.counter("millrace.duplicates.dropped", "service", PipelineService.CHAT_TEMPLATE.id(), "stage", stage.id());
        this.expired = registry.counter("millrace.duplicates.expired", "service", PipelineService.CHAT_TEMPLATE.id(), "stage", stage.id());
        this.resubmitted = registry.counter("millrace.duplicates.resubmitted", "service", PipelineService.CHAT_TEMPLATE.id(), "stage", stage.id());
    }

    /** How often the sweep runs: a 24th of the retention, within [1 s, 1 min]. */
    static Duration sweepInterval(Duration retention) {
        long ms = retention.toMillis() / 24;
        return Duration.ofMillis(Math.max(1_000L, Math.min(60_000L, ms)));
    }

    static String seenStoreName(Stage stage) {
        return "seen-record-ids-" + stage.id();
    }

    @Override
    public void init(ProcessorContext<String, byte[]> context) {
        super.init(context);
        seen = context.getStateStore(seenStoreName(stage));
        taskId = context.taskId();
        cursor = null;
        entriesByTask.put(taskId, seen.approximateNumEntries());
        sweep = context.schedule(sweepInterval(Duration.ofMillis(retentionMs)), PunctuationType.WALL_CLOCK_TIME, this::expire);
    }

    @Override
    public void close() {
        if (sweep != null) {
            sweep.cancel();
        }
        if (taskId != null) {
            entriesByTask.remove(taskId);
        }
    }

    /**
     * One sweep: from the cursor on, deletes entries older than the retention, stopping after
     * {@code maxDeletesPerRun} deletions or {@code SCAN_FACTOR} times as many examined entries;
     * the next sweep goes on from there, and after the last key starts over.
     */
    void expire(long now) {
        List<String> doomed = new ArrayList<>();
        String next = null;
        int examined = 0;
        int scanLimit = (int) Math.min(Integer.MAX_VALUE, (long) maxDeletesPerRun * SCAN_FACTOR);
        try (KeyValueIterator<String, Long> it = seen.range(cursor, null)) {
            while (it.hasNext()) {
                if (doomed.size() >= maxDeletesPerRun || examined >= scanLimit) {
                    next = it.peekNextKey();
                    break;
                }
                KeyValue<String, Long> entry = it.next();
                examined++;
                if (isExpired(entry.value, now)) {
                    doomed.add(entry.key);
                }
            }
        }
        for (String key : doomed) {
            seen.delete(key);
        }
        expired.increment(doomed.size());
        cursor = next;
        entriesByTask.put(taskId, seen.approximateNumEntries());
    }

    private boolean isExpired(Long firstSeenMs, long now) {
        return now - firstSeenMs >= retentionMs;
    }

    @Override
    @SuppressWarnings("unchecked")
    protected byte[] transform(String key, byte[] value, TopicOffset input) throws RecordRejected, InvalidProtocolBufferException {
        RawRecord raw = RawRecord.parseFrom(value);
        long now = context.currentSystemTimeMs();
        Long firstSeen = seen.get(raw.getRecordId());
        // An entry the sweep has not reached yet but older than the retention counts as gone.
        if (firstSeen != null && !isExpired(firstSeen, now)) {
            if (!raw.getResubmitted()) {
                duplicates.increment();
                return null;
            }
            resubmitted.increment();
        }
        seen.put(raw.getRecordId(), now);
        if (!(PlainJson.toPlain(StrictJson.parse(raw.getNormalisedJson())) instanceof Map<?, ?> normalised)) {
            throw new MalformedMessage("normalised_json is not a JSON object");
        }
        StageRenderer.RenderedSides rendered = renderer.render((Map<String, Object>) normalised);
        TemplatedRecord.Builder out = TemplatedRecord.newBuilder()
                .setRecordId(raw.getRecordId())
                .setStage(StageCodec.toWire(stage))
                .addAllSides(rendered.sides())
                .setTokenizerFingerprint(fingerprint)
                .setSource(raw.getSource())
                .setRaw(input)
                .setTeacherId(raw.getTeacherId());
        for (Warning w : rendered.warnings()) {
            out.addWarnings(w.name());
            metrics().warning(w);
        }
        return out.build().toByteArray();
    }

    @Override
    protected Source sourceOf(byte[] value) {
        try {
            return RawRecord.parseFrom(value).getSource();
        } catch (InvalidProtocolBufferException e) {
            return null;
        }
    }
}
