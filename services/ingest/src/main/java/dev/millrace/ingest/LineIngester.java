package dev.millrace.ingest;

import dev.millrace.core.chat.Conversation;
import dev.millrace.core.chat.InputFormat;
import dev.millrace.core.chat.RecordReader;
import dev.millrace.core.json.LineReader;
import dev.millrace.core.json.RawLine;
import dev.millrace.core.prepare.SftOptions;
import dev.millrace.core.prepare.SftPreparer;
import dev.millrace.core.record.Reason;
import dev.millrace.core.record.RecordId;
import dev.millrace.core.record.RecordRejected;
import dev.millrace.core.record.Stage;
import dev.millrace.core.tokenizer.TokenizerFolder;
import dev.millrace.core.wire.WireStage;
import dev.millrace.proto.v1.DeadLetter;
import dev.millrace.proto.v1.RawRecord;
import dev.millrace.proto.v1.Source;
import dev.millrace.streams.DeadLetters;
import java.io.ByteArrayInputStream;
import java.util.ArrayList;
import java.util.Arrays;
import java.util.EnumMap;
import java.util.List;
import java.util.Map;

/**
 * Turns one NDJSON request body into raw records and dead letters. Every rule (UTF-8, JSON, format
 * detection, roles, record ids) is core's; this class only adds the per-record size limit and the
 * HTTP source of each line. Lines are read as bytes; blank lines are skipped but keep their number.
 */
final class LineIngester {
    static final String SERVICE = "ingest";
    private final Stage stage;
    private final int maxRecordBytes;
    private final SftPreparer detecting;
    private final Map<InputFormat, SftPreparer> forced = new EnumMap<>(InputFormat.class);

    LineIngester(Stage stage, TokenizerFolder folder, int maxRecordBytes) {
        this.stage = stage;
        this.maxRecordBytes = maxRecordBytes;
        // T only matters for masking, which happens downstream; reading a conversation ignores it.
        this.detecting = new SftPreparer(folder, new SftOptions(stage, 2, null));
        for (InputFormat f : InputFormat.forStage(stage)) {
            forced.put(f, new SftPreparer(folder, new SftOptions(stage, 2, f)));
        }
    }

    /**
     * The format a {@code ?format=} value forces: null for absent or {@code auto} (detect per line).
     *
     * @throws IllegalArgumentException for any other value, with a message for the client
     */
    static InputFormat forcedFormat(String param, Stage stage) {
        if (param == null || param.equals("auto")) {
            return null;
        }
        List<InputFormat> fitting = InputFormat.forStage(stage);
        for (InputFormat f : fitting) {
            if (f.id().equals(param)) {
                return f;
            }
        }
        throw new IllegalArgumentException("unknown format '" + param + "' for stage " + stage.id() + " (expected auto, "
                + String.join(", ", fitting.stream().map(InputFormat::id).toList()) + ")");
    }

    /** The accepted records and the dead letters of one body, each in line order. */
    record Ingested(List<RawRecord> accepted, List<DeadLetter> rejected) {
        int lines() {
            return accepted.size() + rejected.size();
        }
    }

    /**
     * @param format a format from {@link #forcedFormat}, or null to detect it per line
     * @param requestId names the request in every record's and dead letter's source
     */
    Ingested ingest(byte[] body, InputFormat format, String requestId, long nowMs) {
        SftPreparer preparer = format == null ? detecting : forced.get(format);
        List<RawRecord> accepted = new ArrayList<>();
        List<DeadLetter> rejected = new ArrayList<>();
        LineReader lines = new LineReader(new ByteArrayInputStream(body));
        while (lines.hasNext()) {
            RawLine line = lines.next();
            if (line.isBlank()) {
                continue;
            }
            Source source = Source.newBuilder().setKind("http").setName(requestId).setLine(line.number()).build();
            try {
                accepted.add(read(preparer, format, line, source, nowMs));
            } catch (RecordRejected e) {
                rejected.add(DeadLetters.of(SERVICE, stage, e.reason(), e.getMessage(), original(e.reason(), line), source, null, null));
            }
        }
        return new Ingested(accepted, rejected);
    }

    private RawRecord read(SftPreparer preparer, InputFormat format, RawLine line, Source source, long nowMs) throws RecordRejected {
        if (line.bytes().length > maxRecordBytes) {
            throw new RecordRejected(Reason.RECORD_TOO_LARGE, "the line is " + line.bytes().length
                    + " bytes, over the per-record limit of " + maxRecordBytes
                    + " (millrace.ingest.max-record-bytes); the dead letter keeps its first " + maxRecordBytes + " bytes");
        }
        RecordReader.Result read = preparer.readWithFormat(line.bytes());
        Conversation conversation = read.asConversation();
        InputFormat actual = read.format();
        return RawRecord.newBuilder()
                .setRecordId(preparer.recordId(conversation))
                .setStage(WireStage.toProto(stage))
                .setFormat(actual.id())
                .setNormalisedJson(RecordId.canonicalJson(conversation.normalised()))
                .setSource(source)
                .setIngestedAtMs(nowMs)
                .build();
    }

    /**
     * The line's own bytes, except for a line over the size limit: a Kafka message cannot hold an
     * arbitrarily long line, so its dead letter keeps the first {@code maxRecordBytes} bytes.
     */
    private byte[] original(Reason reason, RawLine line) {
        return reason == Reason.RECORD_TOO_LARGE ? Arrays.copyOf(line.bytes(), maxRecordBytes) : line.bytes();
    }
}
