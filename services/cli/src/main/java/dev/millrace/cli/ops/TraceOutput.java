package dev.millrace.cli.ops;

import com.fasterxml.jackson.core.JsonProcessingException;
import com.fasterxml.jackson.databind.ObjectMapper;
import com.fasterxml.jackson.databind.node.ObjectNode;
import dev.millrace.proto.v1.Batch;
import dev.millrace.proto.v1.Source;
import dev.millrace.proto.v1.TopicOffset;
import java.io.PrintStream;
import java.util.List;
import java.util.Locale;

/** Prints a {@link BatchTrace}: a human table, or one JSON object per line (docs/cli.md). */
public final class TraceOutput {
    private static final ObjectMapper JSON = new ObjectMapper();

    private TraceOutput() {
    }

    public static void table(PrintStream out, BatchTrace.Found found, List<BatchTrace.Line> lines) {
        Batch b = found.batch();
        out.printf(Locale.ROOT, "batch %s on %s partition %d offset %d: stage %s, T=%d, %d rows (%d real), packed %s, "
                        + "nonpad_share %.3f, trained_share %.3f, tokenizer %s%n",
                b.getBatchId(), found.topic(), found.partition(), found.offset(), b.getStage().name().toLowerCase(Locale.ROOT),
                b.getSeqLen(), b.getRowsCount(), b.getRealRows(), b.getPacked() ? "yes" : "no", b.getNonpadShare(),
                b.getTrainedShare(), b.getTokenizerFingerprint());
        boolean sides = lines.stream().anyMatch(l -> l.side() != null);
        boolean windows = lines.stream().anyMatch(l -> l.window() != null);
        StringBuilder header = new StringBuilder(String.format(Locale.ROOT, "%-4s", "ROW"));
        if (sides) {
            header.append(String.format(Locale.ROOT, " %-8s", "SIDE"));
        }
        if (windows) {
            header.append(String.format(Locale.ROOT, " %-6s", "WINDOW"));
        }
        header.append(String.format(Locale.ROOT, " %-64s %-28s %s", "RECORD", "RAW (TOPIC/PARTITION@OFFSET)", "SOURCE (KIND:NAME:LINE)"));
        out.println(header);
        for (BatchTrace.Line l : lines) {
            StringBuilder line = new StringBuilder(String.format(Locale.ROOT, "%-4d", l.row()));
            if (sides) {
                line.append(String.format(Locale.ROOT, " %-8s", l.side()));
            }
            if (windows) {
                line.append(String.format(Locale.ROOT, " %-6s", l.window() == null ? "" : l.window()));
            }
            if (l.filler()) {
                line.append(" (filler row: padding only, no record)");
            } else {
                line.append(String.format(Locale.ROOT, " %-64s %-28s %s", l.recordId(), raw(l.raw()),
                        l.source() != null ? source(l.source()) : "?"));
                if (l.problem() != null) {
                    line.append("  (").append(l.problem()).append(')');
                }
            }
            out.println(line);
        }
    }

    public static void json(PrintStream out, BatchTrace.Found found, List<BatchTrace.Line> lines) {
        for (BatchTrace.Line l : lines) {
            ObjectNode o = JSON.createObjectNode();
            o.put("batch_id", found.batch().getBatchId());
            o.put("row", l.row());
            if (l.side() != null) {
                o.put("side", l.side());
            }
            if (l.filler()) {
                o.put("filler", true);
            } else {
                o.put("record_id", l.recordId());
                ObjectNode raw = o.putObject("raw");
                raw.put("topic", l.raw().getTopic());
                raw.put("partition", l.raw().getPartition());
                raw.put("offset", l.raw().getOffset());
                if (l.window() != null) {
                    o.put("window", l.window());
                }
                if (l.source() != null) {
                    ObjectNode source = o.putObject("source");
                    source.put("kind", l.source().getKind());
                    source.put("name", l.source().getName());
                    source.put("line", l.source().getLine());
                }
                if (l.problem() != null) {
                    o.put("problem", l.problem());
                }
            }
            try {
                out.println(JSON.writeValueAsString(o));
            } catch (JsonProcessingException e) {
                throw new IllegalStateException(e);
            }
        }
    }

    static String raw(TopicOffset at) {
        return at.getTopic() + "/" + at.getPartition() + "@" + at.getOffset();
    }

    static String source(Source s) {
        return s.getKind() + ":" + s.getName() + ":" + s.getLine();
    }
}
