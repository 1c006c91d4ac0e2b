package dev.millrace.ingest;

import dev.millrace.core.json.LineReader;
import dev.millrace.core.json.RawLine;

import com.fasterxml.jackson.databind.JsonNode;
import dev.millrace.contract.DeadLetters;
import dev.millrace.contract.PipelineService;
import dev.millrace.contract.Topics;
import dev.millrace.core.chat.Conversation;
import dev.millrace.core.chat.InputFormat;
import dev.millrace.core.chat.RecordReader;
import dev.millrace.core.json.PlainJson;
import dev.millrace.core.json.StrictJson;
import dev.millrace.core.record.Reason;
import dev.millrace.core.record.RecordId;
import dev.millrace.core.record.RecordRejected;
import dev.millrace.core.record.Stage;
import dev.millrace.core.wire.StageCodec;
import dev.millrace.proto.v1.DeadLetter;
import dev.millrace.proto.v1.RawRecord;
import dev.millrace.proto.v1.Source;
import java.io.ByteArrayInputStream;
import java.util.ArrayList;
import java.util.List;
import java.util.function.LongFunction;
import org.jboss.logging.Logger;

/**
 * Turns lines into raw records and dead letters for one stage. Every rule (UTF-8, JSON, format
 * detection, the stage's record shape, roles, DPO pairs, record ids) is core's
 * ({@link RecordReader}); this class adds the per-record size limit, the source of each line, the
 * routing of distillation prompts ({@link DistillPrompts}), the teacher id of answered
 * distillation conversations and the request's {@code resubmitted} mark.
 */
final class LineIngester {
    private static final Logger LOG = Logger.getLogger(LineIngester.class);
    static final String SERVICE = PipelineService.INGEST.id();
    /** The record field that names the teacher of an answered distill conversation (overrides the request's). */
    static final String TEACHER_FIELD = "teacher";
    private final Stage stage;
    private final String rawTopic;
    private final String promptTopic;
    private final int maxRecordBytes;

    LineIngester(Stage stage, Topics topics, int maxRecordBytes) {
        this.stage = stage;
        this.rawTopic = topics.raw(stage);
        this.promptTopic = topics.distillPrompts();
        this.maxRecordBytes = maxRecordBytes;
    }

    /**
     * How the lines of one request or file are read: a forced format (null: detect per line), the
     * teacher (null: none), and whether an operator re-sends them on purpose (marks every record
     * {@code resubmitted}).
     */
    record Request(InputFormat format, String teacher, boolean resubmitted) {
        static final Request DETECT = new Request(null, null);

        Request(InputFormat format, String teacher) {
            this(format, teacher, false);
        }
    }

    /** A good line: the record and the topic it goes to ({@code <stage>.raw}, or distill.prompts for a prompt). */
    record Accepted(String topic, RawRecord record, boolean prompt) {
    }

    /** The accepted records and the dead letters of some lines, each in line order. */
    record Ingested(List<Accepted> accepted, List<DeadLetter> rejected) {
        Ingested() {
            this(new ArrayList<>(), new ArrayList<>());
        }

        int lines() {
            return accepted.size() + rejected.size();
        }

        long prompts() {
            return accepted.stream().filter(Accepted::prompt).count();
        }
    }

    Stage stage() {
        return stage;
    }

    /** The bytes of each line that are kept: enough for the dead letter of a line over the limit. */
    int keepBytes() {
        return maxRecordBytes;
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

    /**
     * Reads lines held in memory (tests; an HTTP body is read as a stream by {@link IngestResource},
     * a file by {@link FileIngester}, each line through {@link #add}).
     *
     * @param sources the source of the line with a given number
     */
    Ingested ingest(byte[] body, Request request, LongFunction<Source> sources, long nowMs) {
        Ingested out = new Ingested();
        LineReader lines = new LineReader(new ByteArrayInputStream(body), maxRecordBytes);
        while (lines.hasNext()) {
            RawLine line = lines.next();
            if (!line.isBlank()) {
                add(out, line, request, sources.apply(line.number()), nowMs);
            }
        }
        return out;
    }

    /** Reads one non-blank line into {@code out}: a record, or a dead letter with the line's original bytes. */
    void add(Ingested out, RawLine line, Request request, Source source, long nowMs) {
        try {
            out.accepted().add(read(line, request, source, nowMs));
        } catch (RecordRejected e) {
            out.rejected().add(DeadLetters.of(SERVICE, stage, e.reason(), e.getMessage(), line.bytes(), source, null, null));
        } catch (RuntimeException | StackOverflowError e) {
            // A bug, or input no rule foresaw: this line becomes a dead letter (its bytes kept, so it can be re-sent once
            // fixed); the other lines of the body or file go on, and the client gets a 422 naming the line, not a 500.
            LOG.errorf(e, "ingest: line %d failed in a way no rule foresees", line.number());
            out.rejected().add(DeadLetters.of(SERVICE, stage, Reason.UNEXPECTED_ERROR, "reading the line failed in a way no rule foresees (a bug to report): "
                    + e.getClass().getName() + ": " + e.getMessage(), line.bytes(), source, null, null));
        }
    }

    private Accepted read(RawLine line, Request request, Source source, long nowMs) throws RecordRejected {
        if (line.length() > maxRecordBytes) {
            throw new RecordRejected(Reason.RECORD_TOO_LARGE, "the line is " + line.length()
                    + " bytes, over the per-record limit of " + maxRecordBytes
                    + " (millrace.ingest.max-record-bytes); the dead letter keeps its first " + maxRecordBytes + " bytes");
        }
        JsonNode json = StrictJson.parse(line.bytes());
        RecordReader.Result read;
        try {
            read = RecordReader.read(json, stage, request.format());
        } catch (RecordRejected e) {
            Conversation prompt = stage == Stage.DISTILL && e.reason() == Reason.NO_TRAINABLE_TOKENS
                    ? DistillPrompts.prompt(json, request.format()) : null;
            if (prompt == null) {
                throw e;
            }
            InputFormat format = request.format() != null ? request.format() : InputFormat.detect(json);
            return new Accepted(promptTopic, record(prompt.normalised(), format, source, nowMs, null, request.resubmitted()), true);
        }
        String teacher = stage == Stage.DISTILL ? teacher(json, request) : null;
        return new Accepted(rawTopic, record(read.record().normalised(), read.format(), source, nowMs, teacher, request.resubmitted()), false);
    }

    private RawRecord record(Object normalised, InputFormat format, Source source, long nowMs, String teacher, boolean resubmitted) {
        RawRecord.Builder b = RawRecord.newBuilder()
                .setRecordId(RecordId.of(stage, normalised))
                .setStage(StageCodec.toWire(stage))
                .setFormat(format.id())
                .setNormalisedJson(RecordId.canonicalJson(normalised))
                .setSource(source)
                .setIngestedAtMs(nowMs)
                .setResubmitted(resubmitted);
        if (teacher != null) {
            b.setTeacherId(teacher);
        }
        return b.build();
    }

    /** The record's own {@code teacher}, else the request's; an answered distill conversation needs one. */
    private static String teacher(JsonNode json, Request request) throws RecordRejected {
        JsonNode own = json.get(TEACHER_FIELD);
        if (own != null && !own.isNull()) {
            if (!own.isTextual() || own.asText().isBlank()) {
                throw new RecordRejected(Reason.WRONG_TYPE, "\"teacher\" must be a non-empty string naming the teacher checkpoint, found "
                        + (own.isTextual() ? "an empty string" : PlainJson.typeName(own)));
            }
            return own.asText();
        }
        if (request.teacher() != null) {
            return request.teacher();
        }
        throw new RecordRejected(Reason.MISSING_FIELD, "an answered distill conversation needs the teacher that wrote its answers: "
                + "give a \"teacher\" field on the record, ?teacher=<id> on the request, or --teacher to ./millrace ingest");
    }
}
