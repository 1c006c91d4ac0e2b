package dev.millrace.cli.local;

import static org.assertj.core.api.Assertions.assertThat;

import java.nio.file.Files;
import java.nio.file.Path;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;

class RepoRootTest {

    @Test
    void theSystemPropertyWins(@TempDir Path dir) {
        String before = System.getProperty("millrace.repo.root");
        try {
            System.setProperty("millrace.repo.root", dir.toString());
            assertThat(RepoRoot.locate()).contains(dir.toAbsolutePath().normalize());
        } finally {
            if (before == null) {
                System.clearProperty("millrace.repo.root");
            } else {
                System.setProperty("millrace.repo.root", before);
            }
        }
    }

    @Test
    void recognisesACheckout(@TempDir Path dir) throws Exception {
        assertThat(RepoRoot.isRoot(dir)).isFalse();
        Files.createDirectories(dir.resolve("services/kafka-local"));
        Files.writeString(dir.resolve("pom.xml"), "<project/>");
        assertThat(RepoRoot.isRoot(dir)).isTrue();
    }

    @Test
    void theBuildsOwnCheckoutIsFound() {
        // Tests run from services/cli/target/test-classes inside the checkout.
        String before = System.getProperty("millrace.repo.root");
        try {
            System.clearProperty("millrace.repo.root");
            if (System.getenv("MILLRACE_HOME") == null) {
                assertThat(RepoRoot.locate()).hasValueSatisfying(root -> assertThat(RepoRoot.isRoot(root)).isTrue());
            }
        } finally {
            if (before != null) {
                System.setProperty("millrace.repo.root", before);
            }
        }
    }
}
