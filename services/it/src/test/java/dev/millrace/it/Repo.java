package dev.millrace.it;

import static org.assertj.core.api.Assertions.assertThat;

import dev.millrace.cli.local.LocalSystem;
import dev.millrace.contract.PipelineService;
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.EnumSet;
import java.util.List;

/** The repository root (system property {@code millrace.repo.root}, set by the root pom) and its packaged apps. */
final class Repo {
    private Repo() {
    }

    static Path root() {
        String root = System.getProperty("millrace.repo.root");
        assertThat(root).as("system property millrace.repo.root (the root pom sets it for surefire)").isNotBlank();
        Path path = Path.of(root).toAbsolutePath().normalize();
        assertThat(Files.isDirectory(path.resolve("services"))).as("%s is the repository root", path).isTrue();
        return path;
    }

    /** Fails (never skips) when the broker, a service, the trainer or the teacher is not packaged: these tests would prove nothing. */
    static Path packagedRoot() {
        Path root = root();
        List<String> missing = LocalSystem.missingArtifacts(root, EnumSet.allOf(PipelineService.class), true, true);
        assertThat(missing).as("packaged apps the end-to-end tests start (run ./mvnw -DskipTests package first, "
                + "or ./mvnw verify, where services/it comes last)").isEmpty();
        return root;
    }
}
