package dev.millrace.training.run;

import com.fasterxml.jackson.databind.JsonNode;
import com.fasterxml.jackson.databind.ObjectMapper;
import java.io.FileOutputStream;
import java.io.IOException;
import java.io.RandomAccessFile;
import java.nio.charset.StandardCharsets;
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.List;
import java.util.OptionalDouble;
import java.util.SortedMap;
import java.util.TreeMap;

/**
 * The step log, {@code <checkpoint-dir>/steps.jsonl}: one JSON line per optimiser step,
 * {@code {"step":n,"loss":x,"lr":x,"grad_norm":x,"trained_tokens":n,"batches":n,"pass":n}} and
 * {@code "eval_loss":x} when the eval file was evaluated at that step; a DPO step adds its real pairs' count and means,
 * {@code "pairs":n,"reward_accuracy":x,"reward_margin":x,"chosen_logprob":x,"rejected_logprob":x}; a step of logit-level
 * distillation adds its two parts, {@code "ce":x,"kl":x} (the loss is {@code α·ce + (1-α)·τ²·kl}). Each line is appended with one write
 * and flushed (not fsynced): the log is for people and tools watching a run, the checkpoints are the state.
 * The steps after the last checkpoint are trained again after a crash and so appear again; a reader takes
 * the last line of each step ({@link #read}).
 */
public final class StepLog implements AutoCloseable {
    /** Its name in the checkpoint directory. */
    public static final String FILE = "steps.jsonl";
    private static final ObjectMapper JSON = new ObjectMapper();

    /** One line of the log. {@code evalLoss} is empty when the step was not evaluated. */
    public record Line(long step, double loss, double lr, double gradNorm, long trainedTokens, int batches, int pass,
            OptionalDouble evalLoss) {
    }

    private final Path file;
    private final FileOutputStream out;

    private StepLog(Path file) throws IOException {
        this.file = file;
        endTornLine(file);
        this.out = new FileOutputStream(file.toFile(), true);
    }

    /** Opens {@code file} for appending (created if missing). */
    public static StepLog open(Path file) throws IOException {
        return new StepLog(file);
    }

    /** A process killed in the middle of a write can leave a line without its newline: end it, so the next line stands alone. */
    private static void endTornLine(Path file) throws IOException {
        if (!Files.exists(file) || Files.size(file) == 0) {
            return;
        }
        try (RandomAccessFile raf = new RandomAccessFile(file.toFile(), "rw")) {
            raf.seek(raf.length() - 1);
            if (raf.read() != '\n') {
                raf.write('\n');
            }
        }
    }

    public Path file() {
        return file;
    }

    /** Appends the step's line and flushes it. */
    public void append(StepReport report) throws IOException {
        out.write((format(report) + "\n").getBytes(StandardCharsets.UTF_8));
        out.flush();
    }

    /** The step's JSON line, without its newline. */
    public static String format(StepReport report) {
        StringBuilder line = new StringBuilder(160);
        line.append("{\"step\":").append(report.result().step())
                .append(",\"loss\":").append(number(report.result().loss()))
                .append(",\"lr\":").append(number(report.result().lr()))
                .append(",\"grad_norm\":").append(number(report.result().gradNorm()))
                .append(",\"trained_tokens\":").append(report.result().trainedTokens())
                .append(",\"batches\":").append(report.result().batches())
                .append(",\"pass\":").append(report.pass());
        report.evalLoss().ifPresent(loss -> line.append(",\"eval_loss\":").append(number(loss)));
        if (report.dpo() != null && report.dpo().pairs() > 0) {
            line.append(",\"pairs\":").append(report.dpo().pairs())
                    .append(",\"reward_accuracy\":").append(number(report.dpo().accuracy()))
                    .append(",\"reward_margin\":").append(number(report.dpo().meanMargin()))
                    .append(",\"chosen_logprob\":").append(number(report.dpo().meanChosenLogProb()))
                    .append(",\"rejected_logprob\":").append(number(report.dpo().meanRejectedLogProb()));
        }
        if (report.result().distill() != null) {
            line.append(",\"ce\":").append(number(report.result().distill().ce()))
                    .append(",\"kl\":").append(number(report.result().distill().kl()));
        }
        return line.append('}').toString();
    }

    /** JSON has no NaN or infinity (a diverged run's gradient norm): those are written as null. */
    private static String number(double value) {
        return Double.isFinite(value) ? String.valueOf(value) : "null";
    }

    /**
     * The log's lines by step, the last line of each step winning (the steps trained again after a crash
     * replace the lines of the run that died). Blank lines, and a line a kill cut short, are skipped.
     */
    public static SortedMap<Long, Line> read(Path file) throws IOException {
        SortedMap<Long, Line> lines = new TreeMap<>();
        List<String> all = Files.readAllLines(file, StandardCharsets.UTF_8);
        for (int i = 0; i < all.size(); i++) {
            String text = all.get(i).strip();
            if (text.isEmpty()) {
                continue;
            }
            JsonNode node;
            try {
                node = JSON.readTree(text);
            } catch (IOException e) {
                if (!text.endsWith("}")) {
                    continue; // cut short by a kill mid-write
                }
                throw new IOException(file + " line " + (i + 1) + " is not JSON: " + e.getMessage(), e);
            }
            Line line = new Line(node.required("step").asLong(), decimal(node, "loss"), decimal(node, "lr"), decimal(node, "grad_norm"),
                    node.required("trained_tokens").asLong(), node.required("batches").asInt(), node.required("pass").asInt(),
                    node.has("eval_loss") ? OptionalDouble.of(decimal(node, "eval_loss")) : OptionalDouble.empty());
            lines.put(line.step(), line);
        }
        return lines;
    }

    private static double decimal(JsonNode node, String field) {
        JsonNode value = node.required(field);
        return value.isNull() ? Double.NaN : value.asDouble();
    }

    @Override
    public void close() throws IOException {
        out.close();
    }
}
