package dev.millrace.chattemplate;

import com.google.protobuf.InvalidProtocolBufferException;
import dev.millrace.core.chat.Conversation;
import dev.millrace.core.json.StrictJson;
import dev.millrace.core.json.PlainJson;
import dev.millrace.core.prepare.SftPreparer;
import dev.millrace.core.record.RecordRejected;
import dev.millrace.core.record.Stage;
import dev.millrace.core.record.Warning;
import dev.millrace.core.wire.WireStage;
import dev.millrace.proto.v1.RawRecord;
import dev.millrace.streams.WireSpans;
import dev.millrace.proto.v1.Source;
import dev.millrace.proto.v1.TemplatedRecord;
import dev.millrace.proto.v1.TopicOffset;
import dev.millrace.streams.StepProcessor;
import io.micrometer.core.instrument.Counter;
import io.micrometer.core.instrument.MeterRegistry;
import java.util.Map;
import org.apache.kafka.streams.processor.api.ProcessorContext;
import org.apache.kafka.streams.state.KeyValueStore;

/**
 * Drops exact duplicates (same record id = same normalised content), then renders the
 * conversation with the tokenizer folder's chat template (all rules in core). Seen ids live in a
 * changelogged store, so a re-sent file changes nothing downstream, across restarts too.
 */
final class RenderProcessor extends StepProcessor {
    private final SftPreparer preparer;
    private final String fingerprint;
    private final Counter duplicates;
    private KeyValueStore<String, Long> seen;

    RenderProcessor(Stage stage, SftPreparer preparer, String fingerprint, MeterRegistry registry) {
        super("chat-template", stage, registry);
        this.preparer = preparer;
        this.fingerprint = fingerprint;
        this.duplicates = registry.counter("millrace.duplicates.dropped", "service", "chat-template", "stage", stage.id());
    }

    static String seenStoreName(Stage stage) {
        return "seen-record-ids-" + stage.id();
    }

    @Override
    public void init(ProcessorContext<String, byte[]> context) {
        super.init(context);
        seen = context.getStateStore(seenStoreName(stage));
    }

    @Override
    @SuppressWarnings("unchecked")
    protected byte[] transform(String key, byte[] value, TopicOffset input) throws RecordRejected, InvalidProtocolBufferException {
        RawRecord raw = RawRecord.parseFrom(value);
        if (seen.get(raw.getRecordId()) != null) {
            duplicates.increment();
            return null;
        }
        seen.put(raw.getRecordId(), context.currentSystemTimeMs());
        Map<String, Object> normalised = (Map<String, Object>) PlainJson.toPlain(StrictJson.parse(raw.getNormalisedJson()));
        Conversation conversation = Conversation.fromNormalised(normalised);
        SftPreparer.Rendered rendered = preparer.template(conversation);
        int assistants = (int) conversation.messages().stream().filter(m -> "assistant".equals(m.get("role"))).count();
        TemplatedRecord.Builder out = TemplatedRecord.newBuilder()
                .setRecordId(raw.getRecordId())
                .setStage(WireStage.toProto(stage))
                .addSides(WireSpans.side(rendered, assistants))
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
