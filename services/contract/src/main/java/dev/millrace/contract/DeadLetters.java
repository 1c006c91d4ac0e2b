package dev.millrace.contract;

import com.google.protobuf.ByteString;
import dev.millrace.core.record.Reason;
import dev.millrace.core.record.Stage;
import dev.millrace.core.wire.StageCodec;
import dev.millrace.proto.v1.DeadLetter;
import dev.millrace.proto.v1.Source;
import dev.millrace.proto.v1.TopicOffset;

/** Builds dead letters: the reason, a message naming the field, the original bytes and where they came from. */
public final class DeadLetters {
    private DeadLetters() {
    }

    public static DeadLetter of(String service, Stage stage, Reason reason, String message, byte[] original,
                                Source source, String recordId, TopicOffset input) {
        DeadLetter.Builder b = DeadLetter.newBuilder()
                .setService(service)
                .setStage(StageCodec.toWire(stage))
                .setReason(reason.name())
                .setMessage(message == null ? "" : message)
                .setOriginal(ByteString.copyFrom(original == null ? new byte[0] : original))
                .setAtMs(System.currentTimeMillis());
        if (source != null) {
            b.setSource(source);
        }
        if (recordId != null) {
            b.setRecordId(recordId);
        }
        if (input != null) {
            b.setInput(input);
        }
        return b.build();
    }

    /** The key of a dead letter: its record id, or its source when it has none (docs/architecture.md#topics). */
    public static String key(DeadLetter letter) {
        if (!letter.getRecordId().isEmpty()) {
            return letter.getRecordId();
        }
        Source s = letter.getSource();
        return s.getKind() + ":" + s.getName() + ":" + s.getLine();
    }
}
