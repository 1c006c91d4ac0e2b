package dev.millrace.core.testing;

import static org.junit.jupiter.api.Assertions.fail;
import static org.junit.jupiter.api.Assumptions.abort;

import com.fasterxml.jackson.databind.JsonNode;
import com.fasterxml.jackson.databind.ObjectMapper;
import java.io.ByteArrayOutputStream;
import java.io.IOException;
import java.io.InputStream;
import java.nio.charset.StandardCharsets;
import java.nio.file.Path;
import java.util.ArrayList;
import java.util.LinkedHashSet;
import java.util.List;
import java.util.Optional;
import java.util.Set;
import java.util.concurrent.TimeUnit;

/**
 * The project's Python reference renderer, {@code services/core/src/test/python/render_reference.py}
 * (Python Jinja2 set up as HF's {@code apply_chat_template} sets it up), run as a test oracle.
 * Test-only: production rendering is Java.
 *
 * <p>The interpreter is the first of {@code $MILLRACE_PYTHON}, {@code python3} on PATH and
 * {@code /usr/bin/python3} that can {@code import jinja2} (Debian's {@code python3-jinja2} installs for
 * {@code /usr/bin/python3}, which need not be the {@code python3} first on PATH). None: the test is
 * skipped with a message, or fails under {@code CI=true}.
 */
public final class PythonReference {
    private static final ObjectMapper JSON = new ObjectMapper();

    private PythonReference() {
    }

    /** One Python result: the text (and generation spans when asked), or the error Python raised. */
    public record Result(String text, String error, JsonNode spans) {
        public boolean failed() {
            return error != null;
        }

        static Result of(JsonNode node) {
            return node.has("text")
                    ? new Result(node.get("text").asText(), null, node.get("spans"))
                    : new Result(null, node.path("error").asText("unknown error"), null);
        }
    }

    public static Path script() {
        return SharedData.repoRoot().resolve("services/core/src/test/python/render_reference.py");
    }

    /** The interpreters tried, in order ({@link PythonInterpreters}). */
    static List<String> candidates() {
        return PythonInterpreters.candidates();
    }

    /** The first candidate that imports jinja2, if any. */
    public static Optional<String> interpreter() {
        return PythonInterpreters.find("jinja2");
    }

    /** The interpreter, or skip the test (fail it under {@code CI=true}) saying what was tried. */
    public static String requireInterpreter() {
        return PythonInterpreters.require("jinja2", "the Python reference");
    }

    /**
     * Runs the reference script over request records (see its docstring), one result per request;
     * {@code tokenizerFolder} (may be null) supplies the template and special tokens a request does not give.
     */
    public static List<Result> render(Path tokenizerFolder, List<? extends JsonNode> requests) throws IOException, InterruptedException {
        StringBuilder jsonl = new StringBuilder();
        for (JsonNode request : requests) {
            jsonl.append(JSON.writeValueAsString(request)).append('\n');
        }
        List<Result> results = new ArrayList<>();
        for (JsonNode node : renderRaw(tokenizerFolder, jsonl.toString().getBytes(StandardCharsets.UTF_8))) {
            results.add(Result.of(node));
        }
        if (results.size() != requests.size()) {
            throw new IOException(script() + " answered " + results.size() + " of " + requests.size() + " requests");
        }
        return results;
    }

    /** The script's result lines as JSON, as it wrote them. */
    static List<JsonNode> renderRaw(Path tokenizerFolder, byte[] jsonl) throws IOException, InterruptedException {
        List<String> command = new ArrayList<>(List.of(requireInterpreter(), script().toString()));
        if (tokenizerFolder != null) {
            command.addAll(List.of("--tokenizer", tokenizerFolder.toString()));
        }
        Process p = new ProcessBuilder(command).redirectError(ProcessBuilder.Redirect.INHERIT).start();
        Thread feeder = new Thread(() -> {
            try (var in = p.getOutputStream()) {
                in.write(jsonl);
            } catch (IOException ignored) {
                // the process died; its exit code says so
            }
        });
        feeder.start();
        byte[] out = readAll(p.getInputStream());
        if (!p.waitFor(120, TimeUnit.SECONDS)) {
            p.destroyForcibly();
            throw new IOException(String.join(" ", command) + " did not finish within 120 s");
        }
        if (p.exitValue() != 0) {
            throw new IOException(String.join(" ", command) + " failed with exit code " + p.exitValue());
        }
        feeder.join();
        List<JsonNode> results = new ArrayList<>();
        for (String line : new String(out, StandardCharsets.UTF_8).split("\n")) {
            if (!line.isEmpty()) {
                results.add(JSON.readTree(line));
            }
        }
        return results;
    }

    private static byte[] readAll(InputStream in) throws IOException {
        ByteArrayOutputStream buffer = new ByteArrayOutputStream();
        in.transferTo(buffer);
        return buffer.toByteArray();
    }
}
