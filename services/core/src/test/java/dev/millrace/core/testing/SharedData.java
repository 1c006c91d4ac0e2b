package dev.millrace.core.testing;

import static org.junit.jupiter.api.Assertions.fail;
import static org.junit.jupiter.api.Assumptions.abort;

import java.nio.file.Files;
import java.nio.file.Path;

/**
 * The read-only reference data in {@code ../shared}, resolved from the repository root (Maven runs
 * tests in the module directory). Absent: the test is skipped with a clear message, except under
 * {@code CI=true}, where a missing folder fails the test so a green build cannot hide it.
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
    public static Path require(String relative) {
        Path path = repoRoot().resolve("..").resolve("shared").resolve(relative).normalize();
        if (!Files.exists(path)) {
            String message = "reference data " + path + " is absent (expected ../shared beside the repository)";
            if ("true".equalsIgnoreCase(System.getenv("CI"))) {
                fail(message + "; CI=true, so this is a failure, not a skip");
            }
            abort(message + "; skipping");
        }
        return path;
    }

    public static Path minimindTokenizer() {
        return require("tokenizers/minimind");
    }

    public static Path conformance(String file) {
        return require("conformance/minimind/" + file);
    }
}
