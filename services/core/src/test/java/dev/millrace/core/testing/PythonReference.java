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

    /** One result per non-blank input line: the rendered text, or null where Python raised. */
    public static List<String> renderMiniMindJsonl(Path tokenizerFolder, byte[] jsonl) throws IOException, InterruptedException {
        Path script = SharedData.require("tools/hf_render.py");
        requirePythonWithJinja();
        Process p = new ProcessBuilder("python3", script.toString(), tokenizerFolder.toString(), "--jsonl", "--minimind")
                .redirectError(ProcessBuilder.Redirect.INHERIT)
                .start();
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
            throw new IOException("hf_render.py failed with exit code " + p.exitValue());
        }
        feeder.join();
        List<String> results = new ArrayList<>();
        for (String line : new String(out, StandardCharsets.UTF_8).split("\n")) {
            if (line.isEmpty()) {
                continue;
            }
            JsonNode node = JSON.readTree(line);
            results.add(node.has("text") ? node.get("text").asText() : null);
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
