package dev.millrace.cli.ops;

import com.fasterxml.jackson.core.JsonProcessingException;
import com.fasterxml.jackson.databind.ObjectMapper;
import com.fasterxml.jackson.databind.node.ObjectNode;
import dev.millrace.proto.v1.DeadLetter;
import java.io.PrintStream;
import java.time.Instant;
import java.util.List;
import java.util.Locale;

/** Prints dead letters: a human table, or one JSON object per line (docs/cli.md). */
public final class DlqOutput {
    /** How much of the original the listing shows. */
    public static final int PREFIX_BYTES = 80;
    private static final ObjectMapper JSON = new ObjectMapper();

    private DlqOutput() {
    }

    public static void table(PrintStream out, List<DeadLetterScan.Entry> entries) {
        String format = "%-9s %-20s %-30s %-8s %-13s %-28s %-14s %s%n";
        out.printf(Locale.ROOT, format, "POSITION", "AT (UTC)", "REASON", "STAGE", "SERVICE", "SOURCE", "RECORD", "ORIGINAL (FIRST BYTES)");
        for (DeadLetterScan.Entry e : entries) {
            DeadLetter d = e.letter();
            String record = d.getRecordId().isEmpty() ? "-" : d.getRecordId().substring(0, Math.min(12, d.getRecordId().length())) + "…";
            out.printf(Locale.ROOT, format, e.position(), Instant.ofEpochMilli(d.getAtMs()).toString().replaceFirst("\\.\\d+Z$", "Z"),
                    d.getReason(), stage(d), d.getService(), OriginalLine.source(d), record, EscapedPrefix.of(d.getOriginal().toByteArray(), PREFIX_BYTES));
        }
    }

    public static void json(PrintStream out, List<DeadLetterScan.Entry> entries) {
        for (DeadLetterScan.Entry e : entries) {
            DeadLetter d = e.letter();
            ObjectNode o = JSON.createObjectNode();
            o.put("position", e.position());
            o.put("partition", e.partition());
            o.put("offset", e.offset());
            o.put("at_ms", d.getAtMs());
            o.put("reason", d.getReason());
            o.put("message", d.getMessage());
            o.put("stage", stage(d));
            o.put("service", d.getService());
            if (d.hasSource()) {
                ObjectNode s = o.putObject("source");
                s.put("kind", d.getSource().getKind());
                s.put("name", d.getSource().getName());
                s.put("line", d.getSource().getLine());
            }
            if (!d.getRecordId().isEmpty()) {
                o.put("record_id", d.getRecordId());
            }
            if (d.hasInput()) {
                ObjectNode i = o.putObject("input");
                i.put("topic", d.getInput().getTopic());
                i.put("partition", d.getInput().getPartition());
                i.put("offset", d.getInput().getOffset());
            }
            o.put("original_bytes", d.getOriginal().size());
            o.put("original_prefix", EscapedPrefix.of(d.getOriginal().toByteArray(), PREFIX_BYTES));
            try {
                out.println(JSON.writeValueAsString(o));
            } catch (JsonProcessingException ex) {
                throw new IllegalStateException(ex);
            }
        }
    }

    static String stage(DeadLetter d) {
        return d.getStage().name().toLowerCase(Locale.ROOT);
    }
}
