package dev.millrace.it;

import dev.millrace.core.chat.Conversation;
import dev.millrace.core.json.LineReader;
import dev.millrace.core.json.RawLine;
import dev.millrace.core.mask.Row;
import dev.millrace.core.prepare.Prepared;
import dev.millrace.core.prepare.SftOptions;
import dev.millrace.core.prepare.SftPreparer;
import dev.millrace.core.record.Reason;
import dev.millrace.core.record.RecordRejected;
import dev.millrace.core.record.Stage;
import dev.millrace.core.tokenizer.TokenizerFolder;
import java.io.ByteArrayInputStream;
import java.io.IOException;
import java.io.UncheckedIOException;
import java.util.ArrayList;
import java.util.LinkedHashMap;
import java.util.List;
import java.util.Map;
import java.util.Set;
import java.util.stream.Collectors;

/**
 * What the system should make of each line of an NDJSON body, computed offline with core's
 * {@link SftPreparer} (what {@code ./millrace prepare} prints), bundled tokenizer, same T.
 */
final class Expectations {

    enum Kind { BLANK, INGEST_REJECT, DOWNSTREAM_REJECT, GOOD }

    /** One line: its kind, record id (when it parses), row (good lines) and reason (rejected lines). */
    record Line(long number, byte[] bytes, Kind kind, String recordId, Row row, Reason reason) {
    }

    final List<Line> lines;
    final String fingerprint;
    final int padId;

    private Expectations(List<Line> lines, String fingerprint, int padId) {
        this.lines = lines;
        this.fingerprint = fingerprint;
        this.padId = padId;
    }

    static Expectations of(byte[] body, int seqLen) {
        try (TokenizerFolder folder = TokenizerFolder.bundled()) {
            return of(body, folder, new SftOptions(Stage.SFT, seqLen, null));
        } catch (IOException e) {
            throw new UncheckedIOException(e);
        }
    }

    /** The same, for a given tokenizer folder and stage settings (mask rule, special-token policy, ...). */
    static Expectations of(byte[] body, TokenizerFolder folder, SftOptions options) {
        SftPreparer preparer = new SftPreparer(folder, options);
        List<Line> lines = new ArrayList<>();
        LineReader reader = new LineReader(new ByteArrayInputStream(body));
        while (reader.hasNext()) {
            RawLine raw = reader.next();
            if (raw.isBlank()) {
                lines.add(new Line(raw.number(), raw.bytes(), Kind.BLANK, null, null, null));
                continue;
            }
            Conversation conversation;
            try {
                conversation = preparer.read(raw.bytes());
            } catch (RecordRejected e) {
                lines.add(new Line(raw.number(), raw.bytes(), Kind.INGEST_REJECT, null, null, e.reason()));
                continue;
            }
            String id = preparer.recordId(conversation);
            Prepared prepared = preparer.prepare(raw);
            if (prepared instanceof Prepared.Example example) {
                lines.add(new Line(raw.number(), raw.bytes(), Kind.GOOD, id, example.row(), null));
            } else {
                lines.add(new Line(raw.number(), raw.bytes(), Kind.DOWNSTREAM_REJECT, id, null, ((Prepared.Rejected) prepared).reason()));
            }
        }
        return new Expectations(List.copyOf(lines), folder.fingerprint(), folder.padId());
    }

    /**
     * The same lines, where the good lines of {@code ids} are downstream rejects with reason
     * {@code UNEXPECTED_ERROR} (records a step was made to throw on: docs/failures.md#fault-injection-tests-only).
     */
    Expectations withUnexpectedErrors(Set<String> ids) {
        List<Line> changed = lines.stream().map(l -> l.kind() == Kind.GOOD && ids.contains(l.recordId())
                ? new Line(l.number(), l.bytes(), Kind.DOWNSTREAM_REJECT, l.recordId(), null, Reason.UNEXPECTED_ERROR) : l).toList();
        return new Expectations(changed, fingerprint, padId);
    }

    List<Line> of(Kind kind) {
        return lines.stream().filter(l -> l.kind() == kind).toList();
    }

    /** Good lines by record id (the first line of each id; later lines with the same id are duplicates). */
    Map<String, Line> goodById() {
        Map<String, Line> byId = new LinkedHashMap<>();
        of(Kind.GOOD).forEach(l -> byId.putIfAbsent(l.recordId(), l));
        return byId;
    }

    /** Lines that repeat the record id of an earlier line (any kind that has an id). */
    Map<String, List<Long>> repeatedIds() {
        return lines.stream().filter(l -> l.recordId() != null)
                .collect(Collectors.groupingBy(Line::recordId, LinkedHashMap::new, Collectors.mapping(Line::number, Collectors.toList())))
                .entrySet().stream().filter(e -> e.getValue().size() > 1)
                .collect(Collectors.toMap(Map.Entry::getKey, Map.Entry::getValue, (a, b) -> a, LinkedHashMap::new));
    }

    /** Distinct ids of every line ingest accepts: each must end in a batch row or a downstream dead letter. */
    Set<String> acceptedIds() {
        return lines.stream().filter(l -> l.kind() == Kind.GOOD || l.kind() == Kind.DOWNSTREAM_REJECT)
                .map(Line::recordId).collect(Collectors.toSet());
    }

    long acceptedLines() {
        return lines.stream().filter(l -> l.kind() == Kind.GOOD || l.kind() == Kind.DOWNSTREAM_REJECT).count();
    }
}
