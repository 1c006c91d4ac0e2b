package dev.millrace.core.testing;

import static org.junit.jupiter.api.Assertions.fail;
import static org.junit.jupiter.api.Assumptions.abort;

import java.nio.file.Files;
import java.nio.file.Path;

/**
 * The one way tests reach data outside the repository: the external conformance cases in
 * {@code ../shared/conformance}, an extra check beside the repository's own tests. Resolved from the
 * repository root (Maven runs tests in the module directory; the build passes the root as the system
 * property {@code millrace.repo.root}). Absent: the test is skipped with a message saying so, except
 * under {@code CI=true}, where a missing folder fails the test so a green build cannot hide it.
 * Everything else a test needs is carried by the repository (the MiniMind tokenizer:
 * {@link TestTokenizers}; the Python reference renderer and its golden files: {@link GoldenRenders}).
 */
public final class SharedData {
    private SharedData() {
    }

    public static Path repoRoot() {
        String root = System.getProperty("millrace.repo.root");
        if (root != null && !root.isBlank()) {
            return Path.of(root).toAbsolutePath().normalize();
        }
        Path dir = Path.of("").toAbsolutePath();
        while (dir != null && !Files.exists(dir.resolve("mvnw"))) {
            dir = dir.getParent();
        }
        if (dir == null) {
            throw new IllegalStateException("cannot find the repository root (no mvnw above " + Path.of("").toAbsolutePath() + ")");
        }
        return dir;
    }

    /** {@code ../shared/<relative>}, or skip/fail as described above. */
    private static Path require(String relative) {
        Path path = repoRoot().resolve("..").resolve("shared").resolve(relative).normalize();
        if (!Files.exists(path)) {
            String message = "external conformance data " + path + " is absent (expected ../shared beside the repository)";
            if ("true".equalsIgnoreCase(System.getenv("CI"))) {
                fail(message + "; CI=true, so this is a failure, not a skip");
            }
            abort(message + "; skipping this extra check (the repository's own tests do not need it)");
        }
        return path;
    }

    /** A file of the external MiniMind conformance set, {@code ../shared/conformance/minimind/<file>}. */
    public static Path conformance(String file) {
        return require("conformance/minimind/" + file);
    }
}
