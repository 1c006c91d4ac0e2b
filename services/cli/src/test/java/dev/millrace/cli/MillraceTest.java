package dev.millrace.cli;

import static org.assertj.core.api.Assertions.assertThat;

import java.nio.file.Files;
import java.nio.file.Path;
import org.junit.jupiter.api.Test;

/** The entry point itself. */
class MillraceTest {

    @Test
    void printsTheVersionOfThePoms() throws Exception {
        CliRun run = CliRun.of("--version");

        assertThat(run.exitCode()).isZero();
        assertThat(run.outLines()).hasSize(1);
        assertThat(run.outLines().get(0)).matches("millrace \\d+\\.\\d+\\.\\d+(-SNAPSHOT)?");
        String version = run.outLines().get(0).substring("millrace ".length());
        String rootPom = Files.readString(Path.of(System.getProperty("millrace.repo.root"), "pom.xml"));
        assertThat(rootPom).as("the root pom's own version").contains("<artifactId>millrace</artifactId>\n  <version>" + version + "</version>");
    }
}
