package dev.millrace.cli.ops;

import com.fasterxml.jackson.databind.JsonNode;
import com.fasterxml.jackson.databind.ObjectMapper;
import com.fasterxml.jackson.databind.node.ObjectNode;
import com.google.protobuf.InvalidProtocolBufferException;
import dev.millrace.core.record.Reason;
import dev.millrace.core.record.Stage;
import dev.millrace.core.wire.StageCodec;
import dev.millrace.proto.v1.DeadLetter;
import dev.millrace.proto.v1.RawRecord;
import dev.millrace.proto.v1.TemplatedRecord;
import dev.millrace.proto.v1.TokenizedRecord;
import dev.millrace.proto.v1.TopicOffset;
import java.io.IOException;
import java.nio.charset.StandardCharsets;
import java.util.Optional;
import org.apache.kafka.clients.consumer.ConsumerRecord;

/**
 * The input line behind a dead letter, ready to fix and post to ingest again. A dead letter raised at
 * ingest carries the line's original bytes. One raised downstream carries the message it rejected
 * (a raw, templated or tokenized record); the line is then the raw record's normalised JSON: taken
 * from the message itself when it is a raw record, else read from the raw topic at the offset the
 * message names (its lineage). Normalised JSON is a valid input line of the same stage that gives the
 * same record id ({"messages": ..., "tools": ...} for conversations, {"text": ...} for pretrain; DPO
 * pairs are written back in the {"chosen": [msgs], "rejected": [msgs]} input shape).
 */
public final class OriginalLine {
    private static final ObjectMapper JSON = new ObjectMapper();

    private OriginalLine() {
    }

    /** A line (without its newline) for {@code stage}, and the teacher id of a distill answer (empty when none). */
    public record Line(byte[] bytes, Stage stage, String teacherId) {
    }

    /** Either a line, or why the dead letter has none. */
    public record Resolved(Line line, String unavailable) {
        static Resolved of(Line line) {
            return new Resolved(line, null);
        }

        static Resolved none(String why) {
            return new Resolved(null, why);
        }
    }

    public static Resolved of(TopicScan scan, DeadLetter letter) {
        Stage stage;
        try {
            stage = StageCodec.fromWire(letter.getStage());
        } catch (IllegalArgumentException e) {
            return Resolved.none("the dead letter names no stage");
        }
        if ("ingest".equals(letter.getService()) || !letter.hasInput()) {
            if (Reason.RECORD_TOO_LARGE.name().equals(letter.getReason())) {
                return Resolved.none("the dead letter keeps only the first " + letter.getOriginal().size()
                        + " bytes of a line over the size limit; fix the line in its source (" + source(letter) + ")");
            }
            return Resolved.of(new Line(letter.getOriginal().toByteArray(), stage, ""));
        }
        String topic = letter.getInput().getTopic();
        try {
            if (topic.endsWith(".templated")) {
                return fromRaw(scan, TemplatedRecord.parseFrom(letter.getOriginal()).getRaw(), stage);
            }
            if (topic.endsWith(".tokenized")) {
                return fromRaw(scan, TokenizedRecord.parseFrom(letter.getOriginal()).getRaw(), stage);
            }
            return line(RawRecord.parseFrom(letter.getOriginal()), stage);
        } catch (InvalidProtocolBufferException e) {
            return Resolved.none("the rejected message from " + topic + " is not a record of that topic (" + letter.getReason()
                    + "): it was not produced by Millrace's ingest, so there is no input line to re-submit");
        }
    }

    private static Resolved fromRaw(TopicScan scan, TopicOffset raw, Stage stage) {
        if (raw.getTopic().isEmpty()) {
            return Resolved.none("the rejected message names no raw record (lineage missing)");
        }
        Optional<ConsumerRecord<byte[], byte[]>> message;
        try {
            message = scan.fetch(raw.getTopic(), raw.getPartition(), raw.getOffset());
        } catch (RuntimeException e) {
            return Resolved.none("cannot read its raw record at " + TraceOutput.raw(raw) + ": " + e.getMessage());
        }
        if (message.isEmpty()) {
            return Resolved.none("its raw record at " + TraceOutput.raw(raw) + " is gone (retention?)");
        }
        if (message.get().value() == null) {
            return Resolved.none("the message at " + TraceOutput.raw(raw) + " is a tombstone (no value), not a raw record");
        }
        try {
            return line(RawRecord.parseFrom(message.get().value()), stage);
        } catch (InvalidProtocolBufferException e) {
            return Resolved.none("the message at " + TraceOutput.raw(raw) + " is not a raw record");
        }
    }

    private static Resolved line(RawRecord raw, Stage stage) {
        String json = raw.getNormalisedJson();
        if (json.isEmpty()) {
            return Resolved.none("the raw record " + raw.getRecordId() + " has no normalised JSON");
        }
        if (stage == Stage.DPO) {
            try {
                json = dpoInputShape(json);
            } catch (IOException | IllegalArgumentException e) {
                return Resolved.none("the DPO record " + raw.getRecordId() + " has unreadable normalised JSON: " + e.getMessage());
            }
        }
        return Resolved.of(new Line(json.getBytes(StandardCharsets.UTF_8), stage, raw.getTeacherId()));
    }

    /** {"chosen": {"messages": m1, "tools": t}, "rejected": {"messages": m2, ...}} to {"chosen": m1, "rejected": m2, "tools": t}. */
    static String dpoInputShape(String normalised) throws IOException {
        JsonNode n = JSON.readTree(normalised);
        JsonNode chosen = n.path("chosen");
        JsonNode rejected = n.path("rejected");
        if (!chosen.path("messages").isArray() || !rejected.path("messages").isArray()) {
            throw new IllegalArgumentException("expected chosen and rejected objects with messages");
        }
        ObjectNode out = JSON.createObjectNode();
        out.set("chosen", chosen.get("messages"));
        out.set("rejected", rejected.get("messages"));
        if (chosen.has("tools")) {
            out.set("tools", chosen.get("tools"));
        }
        return JSON.writeValueAsString(out);
    }

    static String source(DeadLetter letter) {
        return letter.hasSource() ? TraceOutput.source(letter.getSource()) : "unknown source";
    }
}
