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
import dev.millrace.proto.v1.RenderedSide;
import dev.millrace.proto.v1.Source;
import dev.millrace.proto.v1.TemplatedRecord;
import dev.millrace.proto.v1.TopicOffset;
import dev.millrace.streams.StepProcessor;
import io.micrometer.core.instrument.MeterRegistry;
import java.util.Map;

/** Renders one raw conversation with the tokenizer folder's chat template (all rules in core). */
final class RenderProcessor extends StepProcessor {
    private final SftPreparer preparer;
    private final String fingerprint;

    RenderProcessor(Stage stage, SftPreparer preparer, String fingerprint, MeterRegistry registry) {
        super("chat-template", stage, registry);
        this.preparer = preparer;
        this.fingerprint = fingerprint;
    }

    @Override
    @SuppressWarnings("unchecked")
    protected byte[] transform(String key, byte[] value, TopicOffset input) throws RecordRejected, InvalidProtocolBufferException {
        RawRecord raw = RawRecord.parseFrom(value);
        Map<String, Object> normalised = (Map<String, Object>) PlainJson.toPlain(StrictJson.parse(raw.getNormalisedJson()));
        Conversation conversation = Conversation.fromNormalised(normalised);
        SftPreparer.Rendered rendered = preparer.template(conversation);
        int assistants = (int) conversation.messages().stream().filter(m -> "assistant".equals(m.get("role"))).count();
        TemplatedRecord.Builder out = TemplatedRecord.newBuilder()
                .setRecordId(raw.getRecordId())
                .setStage(WireStage.toProto(stage))
                .addSides(RenderedSide.newBuilder().setText(rendered.text()).setAssistantMessages(assistants))
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
