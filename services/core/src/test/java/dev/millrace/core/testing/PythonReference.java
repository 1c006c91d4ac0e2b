package dev.millrace.core.testing;

import static org.junit.jupiter.api.Assertions.fail;
import static org.junit.jupiter.api.Assumptions.abort;

import com.fasterxml.jackson.databind.JsonNode;
import com.fasterxml.jackson.databind.ObjectMapper;
import java.io.ByteArrayOutputStream;
import java.io.IOException;
import java.io.InputStream;
import java.nio.charset.StandardCharsets;
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.ArrayList;
import java.util.List;
import java.util.concurrent.TimeUnit;

/**
 * Runs {@code ../shared/tools/hf_render.py} (Python Jinja2 set up like HF apply_chat_template) as a
 * test oracle. Test-only: production rendering is Java. Missing python3/Jinja2 skips, or fails under CI=true.
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
    }

    /** One result per non-blank input line: the rendered text, or null where Python raised. */
    public static List<String> renderMiniMindJsonl(Path tokenizerFolder, byte[] jsonl) throws IOException, InterruptedException {
        List<String> texts = new ArrayList<>();
        for (Result r : renderJsonl(tokenizerFolder, jsonl, "--minimind")) {
            texts.add(r.text());
        }
        return texts;
    }

    /**
     * hf_render.py's {@code --jsonl} mode on a tokenizer folder: records
     * {@code {"messages", "tools", "add_generation_prompt", "vars"}} in, one result per record out.
     */
    public static List<Result> renderJsonl(Path tokenizerFolder, byte[] jsonl, String... extraArgs)
            throws IOException, InterruptedException {
        Path script = SharedData.require("tools/hf_render.py");
        List<String> command = new ArrayList<>(List.of("python3", script.toString(), tokenizerFolder.toString(), "--jsonl"));
        command.addAll(List.of(extraArgs));
        return run(command, jsonl);
    }

    /**
     * Many small templates at once with hf_render.py's environment (test resource
     * {@code python/render_snippets.py}): records {@code {"template", "messages", "tools",
     * "add_generation_prompt", "vars", "special", "spans"}}.
     */
    public static List<Result> renderSnippets(byte[] jsonl) throws IOException, InterruptedException {
        Path tools = SharedData.require("tools/hf_render.py").getParent();
        Path helper = Files.createTempFile("render_snippets", ".py");
        try (InputStream in = PythonReference.class.getResourceAsStream("/python/render_snippets.py")) {
            Files.write(helper, in.readAllBytes());
        }
        try {
            return run(List.of("python3", helper.toString(), tools.toString()), jsonl);
        } finally {
            Files.deleteIfExists(helper);
        }
    }

    private static List<Result> run(List<String> command, byte[] jsonl) throws IOException, InterruptedException {
        requirePythonWithJinja();
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
        if (!p.waitFor(120, TimeUnit.SECONDS) || p.exitValue() != 0) {
            throw new IOException(command.get(1) + " failed with exit code " + p.exitValue());
        }
        feeder.join();
        List<Result> results = new ArrayList<>();
        for (String line : new String(out, StandardCharsets.UTF_8).split("\n")) {
            if (line.isEmpty()) {
                continue;
            }
            JsonNode node = JSON.readTree(line);
            results.add(node.has("text")
                    ? new Result(node.get("text").asText(), null, node.get("spans"))
                    : new Result(null, node.path("error").asText("unknown error"), null));
        }
        return results;
    }

    private static byte[] readAll(InputStream in) throws IOException {
        ByteArrayOutputStream buffer = new ByteArrayOutputStream();
        in.transferTo(buffer);
        return buffer.toByteArray();
    }

    private static void requirePythonWithJinja() {
        String problem = null;
        try {
            Process p = new ProcessBuilder("python3", "-c", "import jinja2").redirectErrorStream(true).start();
            if (!p.waitFor(30, TimeUnit.SECONDS) || p.exitValue() != 0) {
                problem = "python3 cannot import jinja2";
            }
        } catch (IOException | InterruptedException e) {
            problem = "python3 is not available: " + e.getMessage();
        }
        if (problem != null) {
            if ("true".equalsIgnoreCase(System.getenv("CI"))) {
                fail(problem + " (CI=true: the rendering parity test must run)");
            }
            abort(problem + "; skipping the rendering parity test");
        }
    }

    public static byte[] bytes(Path file) throws IOException {
        return Files.readAllBytes(file);
    }
}
