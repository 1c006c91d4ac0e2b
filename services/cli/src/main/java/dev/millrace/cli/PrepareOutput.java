package dev.millrace.cli;

import com.fasterxml.jackson.databind.ObjectMapper;
import com.fasterxml.jackson.databind.node.ArrayNode;
import com.fasterxml.jackson.databind.node.ObjectNode;
import dev.millrace.core.mask.Row;
import dev.millrace.core.pack.PackedRow;
import dev.millrace.core.prepare.FillStats;
import dev.millrace.core.prepare.Prepared;
import dev.millrace.core.record.Warning;
import dev.millrace.core.tokenizer.Tokenizer;
import java.io.PrintStream;
import java.io.UncheckedIOException;

/** Writes {@code prepare}'s documented output: one JSON line per record, the stats line, or explain tables. */
final class PrepareOutput {
    private static final ObjectMapper JSON = new ObjectMapper();
    private final PrintStream out;
    private final Tokenizer tokenizer;

    PrepareOutput(PrintStream out, Tokenizer tokenizer) {
        this.out = out;
        this.tokenizer = tokenizer;
    }

    void json(Prepared prepared) {
        ObjectNode line = JSON.createObjectNode();
        line.put("line", prepared.line());
        if (prepared instanceof Prepared.Example e) {
            line.put("id", e.recordId());
            line.put("text", e.text());
            line.set("input_ids", ints(e.row().ids()));
            line.set("loss_mask", ints(e.row().mask()));
            ArrayNode warnings = line.putArray("warnings");
            e.warnings().forEach(w -> warnings.add(w.name()));
        } else if (prepared instanceof Prepared.Windows w) {
            for (int k = 0; k < w.rows().size(); k++) {
                ObjectNode window = JSON.createObjectNode();
                window.put("line", w.line());
                window.put("id", w.recordId());
                window.put("window", k);
                window.put("text", w.text());
                window.set("input_ids", ints(w.rows().get(k).ids()));
                window.set("loss_mask", ints(w.rows().get(k).mask()));
                window.putArray("warnings");
                write(window);
            }
            return;
        } else if (prepared instanceof Prepared.Pair p) {
            line.put("id", p.recordId());
            line.set("chosen", side(p.chosen()));
            line.set("rejected", side(p.rejected()));
            ArrayNode warnings = line.putArray("warnings");
            p.warnings().forEach(w -> warnings.add(w.name()));
        } else if (prepared instanceof Prepared.Rejected r) {
            ObjectNode error = line.putObject("error");
            error.put("reason", r.reason().name());
            error.put("message", r.message());
        }
        write(line);
    }

    /** {@code --packing on}: one line per packed row (docs/cli.md#prepare). */
    void packed(long rowNumber, PackedRow row) {
        ObjectNode line = JSON.createObjectNode();
        line.put("row", rowNumber);
        line.set("input_ids", ints(row.ids()));
        line.set("loss_mask", ints(row.mask()));
        line.set("segment_ids", ints(row.segmentIds()));
        line.set("position_ids", ints(row.positionIds()));
        ArrayNode lines = line.putArray("lines");
        row.lines().forEach(lines::add);
        write(line);
    }

    private static ObjectNode side(Prepared.Side side) {
        ObjectNode node = JSON.createObjectNode();
        node.put("text", side.text());
        node.set("input_ids", ints(side.row().ids()));
        node.set("loss_mask", ints(side.row().mask()));
        return node;
    }

    void stats(FillStats fill) {
        ObjectNode line = JSON.createObjectNode();
        ObjectNode stats = line.putObject("stats");
        stats.put("records", fill.records());
        stats.put("rejected", fill.rejected());
        stats.put("rows", fill.rows());
        stats.put("nonpad_share", fill.nonPadShare());
        stats.put("trained_share", fill.trainedShare());
        write(line);
    }

    /** The seed notebook's walk-through: per position, X, Y and whether predicting Y is trained. */
    void explain(Prepared prepared) {
        if (prepared instanceof Prepared.Rejected r) {
            out.printf("line %d: rejected, %s: %s%n%n", r.line(), r.reason(), r.message());
            return;
        }
        if (prepared instanceof Prepared.Windows w) {
            for (int k = 0; k < w.rows().size(); k++) {
                explainRow(w.line(), w.recordId(), "window " + k, w.text(), w.rows().get(k), java.util.List.of());
            }
            return;
        }
        if (prepared instanceof Prepared.Pair p) {
            explainRow(p.line(), p.recordId(), "chosen", p.chosen().text(), p.chosen().row(), p.warnings());
            explainRow(p.line(), p.recordId(), "rejected", p.rejected().text(), p.rejected().row(), p.warnings());
            return;
        }
        Prepared.Example e = (Prepared.Example) prepared;
        explainRow(e.line(), e.recordId(), null, e.text(), e.row(), e.warnings());
    }

    private void explainRow(long lineNumber, String recordId, String side, String text, Row row, java.util.List<Warning> warnings) {
        Row.Shifted s = row.shift();
        int t = row.seqLen();
        out.printf("line %d  id %s%s%n", lineNumber, recordId, side == null ? "" : "  (" + side + ")");
        out.printf("T=%d: %d real tokens%s, %d padding, %d trained targets%s%n", t, row.realLength(),
                row.truncated() ? " (truncated)" : "", t - row.realLength(), sum(s.lossMask()),
                warnings.isEmpty() ? "" : ", warnings " + warnings.stream().map(Warning::name).toList());
        out.println("text:");
        out.println(text);
        out.printf("%6s  %6s %-18s %6s %-18s %s%n", "k", "X[k]", "", "Y[k]", "", "loss_mask[k]");
        int last = Math.min(t - 1, row.realLength()); // one row past the real tokens shows the first padding target
        for (int k = 0; k < last; k++) {
            out.printf("%6d  %6d %-18s %6d %-18s %d%n", k, s.x()[k], token(s.x()[k]), s.y()[k], token(s.y()[k]), s.lossMask()[k]);
        }
        if (last < t - 1) {
            out.printf("%6s  padding up to k = %d: loss_mask 0%n", "…", t - 2);
        }
        out.println();
    }

    private String token(int id) {
        String text = tokenizer.decode(id).replace("\\", "\\\\").replace("\n", "\\n").replace("\t", "\\t").replace("\r", "\\r");
        return "`" + text + "`";
    }

    private static int sum(int[] values) {
        int s = 0;
        for (int v : values) {
            s += v;
        }
        return s;
    }

    private static ArrayNode ints(int[] values) {
        ArrayNode array = JSON.createArrayNode();
        for (int v : values) {
            array.add(v);
        }
        return array;
    }

    private void write(ObjectNode line) {
        try {
            out.print(JSON.writeValueAsString(line));
            out.print('\n');
        } catch (com.fasterxml.jackson.core.JsonProcessingException e) {
            throw new UncheckedIOException(e);
        }
    }
}
