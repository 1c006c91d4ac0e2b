package dev.millrace.training;

import static org.junit.jupiter.api.Assertions.fail;
import static org.junit.jupiter.api.Assumptions.abort;

import com.fasterxml.jackson.databind.JsonNode;
import com.fasterxml.jackson.databind.ObjectMapper;
import com.fasterxml.jackson.databind.node.ArrayNode;
import com.fasterxml.jackson.databind.node.ObjectNode;
import dev.millrace.core.testing.PythonInterpreters;
import dev.millrace.core.wire.RowCodec;
import dev.millrace.proto.v1.Batch;
import dev.millrace.proto.v1.BatchRow;
import java.io.IOException;
import java.nio.ByteBuffer;
import java.nio.ByteOrder;
import java.nio.charset.StandardCharsets;
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.LinkedHashSet;
import java.util.List;
import java.util.Optional;
import java.util.Set;
import java.util.concurrent.TimeUnit;

/**
 * The numpy reference, {@code src/test/python/reference_forward.py}, run as a test oracle. The interpreter is
 * the first of {@code $MILLRACE_PYTHON}, {@code python3} on PATH and {@code /usr/bin/python3} that can
 * {@code import numpy} (Debian's {@code python3-numpy} installs for {@code /usr/bin/python3}). None: the test
 * is skipped with a message, or fails under {@code CI=true}.
 */
public final class NumpyReference {
    private static final ObjectMapper JSON = new ObjectMapper();

    private NumpyReference() {
    }

    /** What the reference computed: logits of X, {@code [B, T-1, vocab]} row-major, and the masked loss. */
    public record Result(double[] logits, double loss, double weightSum) {
    }

    static Path script() {
        return script("reference_forward.py");
    }

    static Path script(String name) {
        Path fromModule = Path.of("src/test/python", name);
        if (Files.isRegularFile(fromModule)) {
            return fromModule.toAbsolutePath();
        }
        return Path.of(System.getProperty("millrace.repo.root", "."), "services/training/src/test/python", name);
    }

    static String requireInterpreter() {
        return PythonInterpreters.require("numpy", "the numpy reference");
    }

    /** Runs the reference on a checkpoint directory and a batch. */
    public static Result run(Path checkpoint, Batch batch, Path work, int vocab) throws IOException, InterruptedException {
        Path batchJson = work.resolve(batch.getBatchId() + ".json");
        Path logitsFile = work.resolve(batch.getBatchId() + ".logits");
        JSON.writeValue(batchJson.toFile(), toJson(batch));
        List<String> command = List.of(requireInterpreter(), script().toString(), checkpoint.toString(), batchJson.toString(), logitsFile.toString());
        Process p = new ProcessBuilder(command).redirectError(ProcessBuilder.Redirect.INHERIT).start();
        String out = new String(p.getInputStream().readAllBytes(), StandardCharsets.UTF_8);
        if (!p.waitFor(120, TimeUnit.SECONDS)) {
            p.destroyForcibly();
            throw new IOException(String.join(" ", command) + " did not finish within 120 s");
        }
        if (p.exitValue() != 0) {
            throw new IOException(String.join(" ", command) + " failed with exit code " + p.exitValue());
        }
        JsonNode answer = JSON.readTree(out);
        ByteBuffer bytes = ByteBuffer.wrap(Files.readAllBytes(logitsFile)).order(ByteOrder.LITTLE_ENDIAN);
        double[] logits = new double[bytes.remaining() / 8];
        bytes.asDoubleBuffer().get(logits);
        int expected = batch.getRowsCount() * (batch.getSeqLen() - 1) * vocab;
        if (logits.length != expected) {
            throw new IOException("reference wrote " + logits.length + " logits, expected " + expected);
        }
        return new Result(logits, answer.path("loss").asDouble(Double.NaN), answer.path("weight_sum").asDouble());
    }

    /**
     * Runs the DPO reference ({@code src/test/python/reference_dpo.py}) on a policy and a reference checkpoint
     * and a DPO batch; returns its JSON answer (per pair log-probs and losses, means over real pairs).
     */
    public static JsonNode runDpo(Path policy, Path reference, Batch batch, double beta, String logProb, Path work)
            throws IOException, InterruptedException {
        Path pairsJson = work.resolve(batch.getBatchId() + ".pairs.json");
        ObjectNode pairs = JSON.createObjectNode();
        for (String side : List.of("chosen", "rejected")) {
            ArrayNode ids = pairs.putArray(side + "_ids");
            ArrayNode mask = pairs.putArray(side + "_mask");
            for (BatchRow row : side.equals("chosen") ? batch.getRowsList() : batch.getRejectedRowsList()) {
                ArrayNode r = ids.addArray();
                for (int id : RowCodec.ids(row)) {
                    r.add(id);
                }
                ArrayNode m = mask.addArray();
                for (int bit : RowCodec.unpackMask(row.getLossMask(), batch.getSeqLen())) {
                    m.add(row.getFiller() ? 0 : bit);
                }
            }
        }
        JSON.writeValue(pairsJson.toFile(), pairs);
        List<String> command = List.of(requireInterpreter(), script("reference_dpo.py").toString(), policy.toString(), reference.toString(),
                pairsJson.toString(), Double.toString(beta), logProb);
        Process p = new ProcessBuilder(command).redirectError(ProcessBuilder.Redirect.INHERIT).start();
        String out = new String(p.getInputStream().readAllBytes(), StandardCharsets.UTF_8);
        if (!p.waitFor(120, TimeUnit.SECONDS)) {
            p.destroyForcibly();
            throw new IOException(String.join(" ", command) + " did not finish within 120 s");
        }
        if (p.exitValue() != 0) {
            throw new IOException(String.join(" ", command) + " failed with exit code " + p.exitValue());
        }
        return JSON.readTree(out);
    }

    /**
     * Runs the distillation reference ({@code src/test/python/reference_distill.py}) on a student and a teacher
     * checkpoint and a batch; returns its JSON answer (loss, ce and kl as means over trained positions).
     */
    public static JsonNode runDistill(Path student, Path teacher, Batch batch, double alpha, double temperature, Path work)
            throws IOException, InterruptedException {
        Path batchJson = work.resolve(batch.getBatchId() + ".distill.json");
        JSON.writeValue(batchJson.toFile(), toJson(batch));
        List<String> command = List.of(requireInterpreter(), script("reference_distill.py").toString(), student.toString(), teacher.toString(),
                batchJson.toString(), Double.toString(alpha), Double.toString(temperature));
        Process p = new ProcessBuilder(command).redirectError(ProcessBuilder.Redirect.INHERIT).start();
        String out = new String(p.getInputStream().readAllBytes(), StandardCharsets.UTF_8);
        if (!p.waitFor(120, TimeUnit.SECONDS)) {
            p.destroyForcibly();
            throw new IOException(String.join(" ", command) + " did not finish within 120 s");
        }
        if (p.exitValue() != 0) {
            throw new IOException(String.join(" ", command) + " failed with exit code " + p.exitValue());
        }
        return JSON.readTree(out);
    }

    /** The batch as the script reads it: the rows' T ids, unshifted masks and, for packed batches, segment and position ids. */
    static ObjectNode toJson(Batch batch) {
        ObjectNode out = JSON.createObjectNode();
        ArrayNode ids = out.putArray("ids");
        ArrayNode mask = out.putArray("mask");
        ArrayNode segments = batch.getPacked() ? out.putArray("segment_ids") : null;
        ArrayNode positions = batch.getPacked() ? out.putArray("position_ids") : null;
        for (BatchRow row : batch.getRowsList()) {
            ArrayNode r = ids.addArray();
            for (int id : RowCodec.ids(row)) {
                r.add(id);
            }
            ArrayNode m = mask.addArray();
            for (int bit : RowCodec.unpackMask(row.getLossMask(), batch.getSeqLen())) {
                m.add(row.getFiller() ? 0 : bit);
            }
            if (batch.getPacked()) {
                row.getSegmentIdsList().forEach(segments.addArray()::add);
                row.getPositionIdsList().forEach(positions.addArray()::add);
            }
        }
        return out;
    }
}
