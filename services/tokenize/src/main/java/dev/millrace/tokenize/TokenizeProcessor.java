package dev.millrace.tokenize;

import com.google.protobuf.InvalidProtocolBufferException;
import dev.millrace.contract.PipelineService;
import dev.millrace.core.record.Reason;
import dev.millrace.core.record.RecordRejected;
import dev.millrace.core.record.Stage;
import dev.millrace.proto.v1.RenderedSide;
import dev.millrace.proto.v1.Source;
import dev.millrace.proto.v1.TemplatedRecord;
import dev.millrace.proto.v1.TokenizedRecord;
import dev.millrace.proto.v1.TokenizedSide;
import dev.millrace.proto.v1.TopicOffset;
import dev.millrace.streams.SideCount;
import dev.millrace.streams.StepProcessor;
import io.micrometer.core.instrument.Counter;
import io.micrometer.core.instrument.MeterRegistry;

/**
 * Turns each rendered side into token ids ({@link StageTokenizer}; a DPO pair's two sides, chosen
 * first), refusing text rendered for another tokenizer folder.
 */
final class TokenizeProcessor extends StepProcessor {
    private final StageTokenizer tokenizer;
    private final String fingerprint;
    private final Counter tokens;

    TokenizeProcessor(Stage stage, StageTokenizer tokenizer, String fingerprint, MeterRegistry registry) {
        super(PipelineService.TOKENIZE.id(), stage, registry);
        this.tokenizer = tokenizer;
        this.fingerprint = fingerprint;
        this.tokens = registry.counter("millrace.tokens", "service", PipelineService.TOKENIZE.id(), "stage", stage.id());
    }

    @Override
    protected byte[] transform(String key, byte[] value, TopicOffset input) throws RecordRejected, InvalidProtocolBufferException {
        TemplatedRecord in = TemplatedRecord.parseFrom(value);
        if (!fingerprint.equals(in.getTokenizerFingerprint())) {
            // Ids from another tokenizer (or template version) must never reach a batch.
            throw new RecordRejected(Reason.TOKENIZER_MISMATCH, "the record was rendered for tokenizer folder "
                    + in.getTokenizerFingerprint() + " but this service tokenizes with " + fingerprint);
        }
        SideCount.check(stage, in.getSidesCount());
        TokenizedRecord.Builder out = TokenizedRecord.newBuilder()
                .setRecordId(in.getRecordId())
                .setStage(in.getStage())
                .setTokenizerFingerprint(fingerprint)
                .addAllWarnings(in.getWarningsList())
                .setSource(in.getSource())
                .setRaw(in.getRaw())
                .setTeacherId(in.getTeacherId());
        for (RenderedSide side : in.getSidesList()) {
            TokenizedSide t = tokenizer.tokenize(side);
            out.addSides(t);
            tokens.increment(t.getIdsCount());
        }
        return out.build().toByteArray();
    }

    @Override
    protected Source sourceOf(byte[] value) {
        try {
            return TemplatedRecord.parseFrom(value).getSource();
        } catch (InvalidProtocolBufferException e) {
            return null;
        }
    }
}
