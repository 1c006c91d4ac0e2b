package dev.millrace.core.testing;

import static org.assertj.core.api.Assertions.assertThat;
import static org.junit.jupiter.api.Assertions.fail;

import com.fasterxml.jackson.databind.JsonNode;
import com.fasterxml.jackson.databind.ObjectMapper;
import com.fasterxml.jackson.databind.node.ObjectNode;
import java.io.IOException;
import java.nio.charset.StandardCharsets;
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.ArrayList;
import java.util.List;

/**
 * Render requests with the answers of the Python reference ({@link PythonReference}) committed as a
 * golden file, {@code services/core/src/test/golden/<name>.jsonl}: one line
 * {@code {"request": ..., "result": ...}} per request. Java tests always compare with
 * {@link #expected()} (no Python needed); {@link #assertPythonStillAgrees()} re-renders the requests
 * with the reference script where a Python with Jinja2 is found and fails on any difference, so the
 * committed answers can neither go stale nor be edited by hand unnoticed.
 *
 * <p>To regenerate after an intended change (a new case, an edited template, another Jinja2), run
 * {@link #REGENERATE} and review the diff of the golden files (the methods that re-render golden
 * files are named {@code golden*}; see {@code services/core/src/test/golden/README.md}).
 */
public final class GoldenRenders {
    /** The documented command that rewrites every golden file from the Python reference. */
    public static final String REGENERATE = "./mvnw -B test -pl services/core -am -Dtest='*Test#golden*'"
            + " -Dsurefire.failIfNoSpecifiedTests=false -Dmillrace.golden.write=true";
    /** The date-time {@code strftime_now} reads in golden requests, so the answers never depend on the day. */
    public static final String PINNED_NOW = "2025-03-14T09:26:53";

    private static final ObjectMapper JSON = new ObjectMapper();

    private final String name;
    private final Path tokenizerFolder;
    private final List<ObjectNode> requests;

    private GoldenRenders(String name, Path tokenizerFolder, List<ObjectNode> requests) {
        this.name = name;
        this.tokenizerFolder = tokenizerFolder;
        this.requests = List.copyOf(requests);
    }

    /**
     * @param name            the golden file, relative to the golden folder, without {@code .jsonl}
     * @param tokenizerFolder the folder whose template and special tokens requests without their own use (may be null)
     * @param requests        request records as {@code render_reference.py} reads them
     */
    public static GoldenRenders of(String name, Path tokenizerFolder, List<ObjectNode> requests) {
        return new GoldenRenders(name, tokenizerFolder, requests);
    }

    public static Path folder() {
        return SharedData.repoRoot().resolve("services/core/src/test/golden");
    }

    public Path file() {
        return folder().resolve(name + ".jsonl");
    }

    public List<ObjectNode> requests() {
        return requests;
    }

    private static boolean writeMode() {
        return Boolean.getBoolean("millrace.golden.write");
    }

    /**
     * The committed Python results, one per request. Fails when the file is missing or was written for
     * other requests (a case was added or changed without regenerating). With
     * {@code -Dmillrace.golden.write=true} the file is first rewritten from the Python reference.
     */
    public List<PythonReference.Result> expected() throws IOException, InterruptedException {
        if (writeMode()) {
            if (PythonReference.interpreter().isEmpty()) {
                fail("-Dmillrace.golden.write=true needs a Python with Jinja2 (tried "
                        + String.join(", ", PythonReference.candidates()) + "; MILLRACE_PYTHON names another)");
            }
            write(PythonReference.render(tokenizerFolder, requests));
        }
        if (!Files.exists(file())) {
            fail("golden file " + file() + " is missing; generate it with: " + REGENERATE);
        }
        List<String> lines = Files.readAllLines(file(), StandardCharsets.UTF_8);
        List<PythonReference.Result> results = new ArrayList<>();
        for (int i = 0; i < Math.max(lines.size(), requests.size()); i++) {
            JsonNode committed = i < lines.size() ? JSON.readTree(lines.get(i)) : null;
            JsonNode want = i < requests.size() ? normalised(requests.get(i)) : null;
            if (committed == null || want == null || !want.equals(committed.get("request"))) {
                fail("golden file " + file() + " was written for other requests (line " + (i + 1) + ": committed "
                        + (committed == null ? "nothing" : committed.get("request")) + ", the test now asks "
                        + want + "); regenerate it with: " + REGENERATE);
            }
            results.add(PythonReference.Result.of(committed.get("result")));
        }
        return results;
    }

    /**
     * Renders the requests with the Python reference now and compares every result with the committed
     * file (or rewrites the file under {@code -Dmillrace.golden.write=true}). No Python with Jinja2:
     * skipped with a message, a failure under {@code CI=true}.
     */
    public void assertPythonStillAgrees() throws IOException, InterruptedException {
        PythonReference.requireInterpreter();
        if (writeMode()) {
            expected();
            return;
        }
        List<PythonReference.Result> committed = expected();
        List<PythonReference.Result> python = PythonReference.render(tokenizerFolder, requests);
        List<String> differences = new ArrayList<>();
        for (int i = 0; i < requests.size(); i++) {
            if (!sameOutcome(python.get(i), committed.get(i))) {
                differences.add("line " + (i + 1) + ":\n  committed: " + committed.get(i) + "\n  python:    " + python.get(i));
            }
        }
        assertThat(differences)
                .as("the Python reference (" + PythonReference.interpreter().orElseThrow() + ") no longer renders "
                        + file() + " as committed. If the change is intended, regenerate with: " + REGENERATE
                        + "\n" + String.join("\n", differences))
                .isEmpty();
    }

    /**
     * Same text and spans, or both failed with the same exception type (and, for the template's own
     * {@code raise_exception}, the same message). Other error messages are Jinja2's wording, which
     * changes between releases, and the Java tests never compare them.
     */
    private static boolean sameOutcome(PythonReference.Result python, PythonReference.Result committed) {
        if (python.failed() || committed.failed()) {
            if (!python.failed() || !committed.failed()) {
                return false;
            }
            String type = errorType(python.error());
            return type.equals(errorType(committed.error()))
                    && (!type.equals("TemplateError") || python.error().equals(committed.error()));
        }
        return python.equals(committed);
    }

    private static String errorType(String error) {
        int colon = error.indexOf(':');
        return colon < 0 ? error : error.substring(0, colon);
    }

    private void write(List<PythonReference.Result> results) throws IOException {
        StringBuilder out = new StringBuilder();
        for (int i = 0; i < requests.size(); i++) {
            ObjectNode line = JSON.createObjectNode();
            line.set("request", normalised(requests.get(i)));
            line.set("result", toJson(results.get(i)));
            out.append(JSON.writeValueAsString(line)).append('\n');
        }
        Files.createDirectories(file().getParent());
        Files.writeString(file(), out.toString(), StandardCharsets.UTF_8);
        System.out.println("wrote " + file());
    }

    private static JsonNode toJson(PythonReference.Result result) {
        ObjectNode node = JSON.createObjectNode();
        if (result.failed()) {
            node.put("error", result.error());
        } else {
            node.put("text", result.text());
            if (result.spans() != null) {
                node.set("spans", result.spans());
            }
        }
        return node;
    }

    /** A request as it reads back from its JSON text (number types settle), so comparisons are exact. */
    private static JsonNode normalised(JsonNode request) throws IOException {
        return JSON.readTree(JSON.writeValueAsString(request));
    }
}
