package dev.millrace.streams.testing;

import dev.millrace.core.chat.ParsedRecord;
import dev.millrace.core.chat.RecordReader;
import dev.millrace.core.json.StrictJson;
import dev.millrace.core.record.RecordId;
import dev.millrace.core.record.RecordRejected;
import dev.millrace.core.record.Stage;
import dev.millrace.core.wire.StageCodec;
import dev.millrace.proto.v1.RawRecord;
import dev.millrace.proto.v1.Source;

/** Test inputs built the way ingest builds them, with core's reader, so the tests never hand-write a normalised form. */
public final class TestRecords {
    private TestRecords() {
    }

    /** The raw record ingest makes of one input line of the stage (any accepted format). */
    public static RawRecord raw(Stage stage, String line) throws RecordRejected {
        return raw(stage, line, "");
    }

    /** As {@link #raw(Stage, String)}, with the teacher id of a distill answer. */
    public static RawRecord raw(Stage stage, String line, String teacherId) throws RecordRejected {
        RecordReader.Result read = RecordReader.read(StrictJson.parse(line), stage, null);
        ParsedRecord record = read.record();
        return RawRecord.newBuilder()
                .setRecordId(RecordId.of(stage, record.normalised()))
                .setStage(StageCodec.toWire(stage))
                .setFormat(read.format().id())
                .setNormalisedJson(RecordId.canonicalJson(record.normalised()))
                .setSource(Source.newBuilder().setKind("http").setName("test").setLine(1))
                .setTeacherId(teacherId)
                .build();
    }

    /** The record core reads from one input line of the stage (a conversation, a DPO pair or a text). */
    public static ParsedRecord parsed(Stage stage, String line) throws RecordRejected {
        return RecordReader.read(StrictJson.parse(line), stage, null).record();
    }
}
