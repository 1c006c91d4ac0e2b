package dev.millrace.it;

import com.fasterxml.jackson.databind.JsonNode;
import dev.millrace.core.chat.RecordReader;
import dev.millrace.core.json.LineReader;
import dev.millrace.core.json.RawLine;
import dev.millrace.core.json.StrictJson;
import dev.millrace.core.mask.Row;
import dev.millrace.core.prepare.DpoPreparer;
import dev.millrace.core.prepare.LinePreparer;
import dev.millrace.core.prepare.Prepared;
import dev.millrace.core.prepare.PretrainPreparer;
import dev.millrace.core.prepare.SftOptions;
import dev.millrace.core.prepare.SftPreparer;
import dev.millrace.core.prepare.Wrap;
import dev.millrace.core.record.Reason;
import dev.millrace.core.record.RecordRejected;
import dev.millrace.core.record.Stage;
import dev.millrace.core.tokenizer.TokenizerFolder;
import java.io.ByteArrayInputStream;
import java.io.IOException;
import java.io.InputStream;
import java.io.UncheckedIOException;
import java.util.ArrayList;
import java.util.HashSet;
import java.util.LinkedHashMap;
import java.util.List;
import java.util.Map;
import java.util.Set;

/**
 * What the demo should report for one stage's bundled sample, computed offline with core's
 * preparers (what {@code ./millrace prepare} prints; bundled tokenizer, the services' defaults:
 * pretrain wrap auto and truncate, SFT rules for sft, distill and both DPO sides).
 *
 * @param records        distinct record ids of the good lines (the system drops repeated ids)
 * @param rejected       lines ingest rejects plus distinct records rejected downstream
 * @param prompts        distill lines that are prompts (no assistant message, last message a user's)
 * @param rows           rows without packing (DPO: chosen and rejected rows)
 * @param nonPad         real tokens of those rows
 * @param trained        trained positions (unshifted mask) of those rows
 * @param leadingTrained how many good examples train their first position (packing masks it when
 *                       the example does not start its row)
 */
record DemoExpectations(Stage stage, long records, long rejected, long prompts, long rows, long nonPad, long trained, long leadingTrained) {
    static final int T = 256; // the demo's default

    static DemoExpectations of(Stage stage) {
        try (TokenizerFolder folder = TokenizerFolder.bundled()) {
            LinePreparer preparer = switch (stage) {
                case PRETRAIN -> new PretrainPreparer(folder, T, null, Wrap.AUTO);
                case SFT, DISTILL -> new SftPreparer(folder, new SftOptions(stage, T, null));
                case DPO -> new DpoPreparer(new SftPreparer(folder, new SftOptions(Stage.DPO, T, null)));
            };
            Map<String, List<Row>> good = new LinkedHashMap<>();
            Set<String> rejectedDownstream = new HashSet<>();
            long rejectedAtIngest = 0;
            long prompts = 0;
            for (RawLine line : lines(sample(stage))) {
                if (line.isBlank()) {
                    continue;
                }
                try {
                    RecordReader.read(StrictJson.parse(line.bytes()), stage, null);
                } catch (RecordRejected e) {
                    if (stage == Stage.DISTILL && e.reason() == Reason.NO_TRAINABLE_TOKENS && isPrompt(line)) {
                        prompts++;
                    } else {
                        rejectedAtIngest++;
                    }
                    continue;
                }
                Prepared p = preparer.prepare(line);
                if (p instanceof Prepared.Example e) {
                    good.putIfAbsent(e.recordId(), List.of(e.row()));
                } else if (p instanceof Prepared.Windows w) {
                    good.putIfAbsent(w.recordId(), w.rows());
                } else if (p instanceof Prepared.Pair pair) {
                    good.putIfAbsent(pair.recordId(), List.of(pair.chosen().row(), pair.rejected().row()));
                } else {
                    rejectedDownstream.add(downstreamId(stage, line));
                }
            }
            List<Row> rows = good.values().stream().flatMap(List::stream).toList();
            return new DemoExpectations(stage, good.size(), rejectedAtIngest + rejectedDownstream.size(), prompts, rows.size(),
                    rows.stream().mapToLong(Row::realLength).sum(), rows.stream().mapToLong(Row::trainedTokens).sum(),
                    rows.stream().filter(r -> r.mask()[0] == 1).count());
        } catch (IOException e) {
            throw new UncheckedIOException(e);
        }
    }

    /** Shares over {@code rows} rows of T. */
    double nonPadShare(long rows) {
        return (double) nonPad / (rows * (double) T);
    }

    /**
     * Trained positions when the same examples are packed into {@code packedRows} rows: each example
     * that does not start a row loses its first position's mask (docs/semantics.md#packing). When every
     * example trains its first position (pretrain) that is all but one per row; when none does
     * (conversations start with an untrained template token) nothing changes.
     */
    long trainedPacked(long packedRows) {
        if (leadingTrained == 0) {
            return trained;
        }
        if (leadingTrained == rows) {
            return trained - (rows - packedRows);
        }
        throw new IllegalStateException(stage.id() + ": some examples train their first position and some do not; the packed count depends on the order");
    }

    private static String downstreamId(Stage stage, RawLine line) {
        try {
            return dev.millrace.core.record.RecordId.of(stage, RecordReader.read(StrictJson.parse(line.bytes()), stage, null).record().normalised());
        } catch (RecordRejected e) {
            throw new IllegalStateException("line " + line.number() + " was read a moment ago", e);
        }
    }

    /** A conversation whose messages hold no assistant message and end with a user's. */
    private static boolean isPrompt(RawLine line) {
        try {
            JsonNode record = StrictJson.parse(line.bytes());
            JsonNode messages = record.has("messages") ? record.get("messages") : record.get("conversations");
            if (messages == null || !messages.isArray() || messages.isEmpty()) {
                return false;
            }
            List<String> roles = new ArrayList<>();
            messages.forEach(m -> roles.add(m.path("role").asText()));
            return !roles.contains("assistant") && "user".equals(roles.get(roles.size() - 1));
        } catch (RecordRejected e) {
            return false;
        }
    }

    static byte[] sample(Stage stage) throws IOException {
        try (InputStream in = DemoExpectations.class.getResourceAsStream("/millrace/samples/" + stage.id() + ".jsonl")) {
            if (in == null) {
                throw new IllegalStateException("no bundled sample for " + stage.id());
            }
            return in.readAllBytes();
        }
    }

    private static List<RawLine> lines(byte[] body) {
        List<RawLine> lines = new ArrayList<>();
        new LineReader(new ByteArrayInputStream(body)).forEachRemaining(lines::add);
        return lines;
    }
}
