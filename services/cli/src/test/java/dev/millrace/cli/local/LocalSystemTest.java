package dev.millrace.cli.local;

import dev.millrace.contract.PipelineService;
import dev.millrace.contract.ServiceSettings;
import static org.assertj.core.api.Assertions.assertThat;
import static org.assertj.core.api.Assertions.assertThatThrownBy;

import dev.millrace.core.record.Stage;
import java.io.ByteArrayOutputStream;
import java.io.PrintStream;
import java.nio.charset.StandardCharsets;
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.EnumSet;
import java.util.List;
import java.util.Set;
import java.util.stream.Collectors;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;

/**
 * The orchestration's failure paths, without packaged services (the end-to-end tests in services/it
 * start the real system).
 */
class LocalSystemTest {

    private static Set<Long> children() {
        return ProcessHandle.current().descendants().filter(ProcessHandle::isAlive).map(ProcessHandle::pid).collect(Collectors.toSet());
    }

    @Test
    void namesEveryMissingArtifact(@TempDir Path root) {
        assertThat(LocalSystem.missingArtifacts(root, EnumSet.allOf(PipelineService.class))).containsExactly(
                "services/kafka-local/target/millrace-kafka-local.jar",
                "services/kafka-local/target/lib/",
                "services/ingest/target/quarkus-app/quarkus-run.jar",
                "services/chat-template/target/quarkus-app/quarkus-run.jar",
                "services/tokenize/target/quarkus-app/quarkus-run.jar",
                "services/loss-mask/target/quarkus-app/quarkus-run.jar");
        assertThat(LocalSystem.missingArtifacts(root, EnumSet.of(PipelineService.INGEST))).as("only the services asked for").hasSize(3);
        assertThat(LocalSystem.missingArtifacts(root, EnumSet.noneOf(PipelineService.class), true, true)).containsExactly(
                "services/kafka-local/target/millrace-kafka-local.jar",
                "services/kafka-local/target/lib/",
                "services/trainer/target/quarkus-app/quarkus-run.jar",
                "services/teacher/target/quarkus-app/quarkus-run.jar");
    }

    @Test
    void theOptionsGiveTheServicesTypedSettings() {
        ServiceSettings settings = new LocalSystem.Options().stages(List.of(Stage.DPO, Stage.SFT)).topicPrefix("p").seqLen(64).batchSize(4)
                .batchLingerMs(250).packing(EnumSet.of(Stage.SFT)).settings();
        assertThat(settings).isEqualTo(new ServiceSettings(List.of(Stage.DPO, Stage.SFT), "p", 64, 4, 250, Set.of(Stage.SFT)));
        assertThat(new LocalSystem.Options().settings()).as("the demo's defaults")
                .isEqualTo(new ServiceSettings(List.of(Stage.SFT), "millrace", 256, 8, 1000, Set.of()));
    }

    @Test
    void refusesToStartWhenSomethingIsNotBuiltAndSaysHowToBuildIt(@TempDir Path root) {
        Set<Long> before = children();
        assertThatThrownBy(() -> LocalSystem.start(root, new LocalSystem.Options().progress(new PrintStream(new ByteArrayOutputStream()))))
                .isInstanceOf(IllegalStateException.class)
                .hasMessageContaining("services/loss-mask/target/quarkus-app/quarkus-run.jar")
                .hasMessageContaining("./mvnw -DskipTests package");
        assertThat(children()).isSubsetOf(before);
    }

    @Test
    void aBrokerThatDiesOnStartIsReportedWithItsLogAndNothingIsLeftRunning(@TempDir Path root) throws Exception {
        // A "packaged" broker that is not one: the JVM cannot find the main class and exits.
        Files.createDirectories(root.resolve(LocalBroker.LIB));
        Files.write(root.resolve(LocalBroker.JAR), new byte[0]);
        ByteArrayOutputStream progress = new ByteArrayOutputStream();
        Set<Long> before = children();

        assertThatThrownBy(() -> LocalSystem.start(root, new LocalSystem.Options()
                .services(Set.of()).runDir(root.resolve("run")).progress(new PrintStream(progress, true, StandardCharsets.UTF_8))))
                .isInstanceOf(IllegalStateException.class)
                .hasMessageContaining("the kafka broker exited")
                .hasMessageContaining("dev.millrace.kafkalocal.LocalKafka");

        assertThat(children()).isSubsetOf(before);
        assertThat(root.resolve("run/logs/kafka.log")).exists();
        assertThat(progress.toString(StandardCharsets.UTF_8)).contains("run directory " + root.resolve("run"))
                .contains("millrace: local run stopped; logs kept in " + root.resolve("run/logs"));
    }

    @Test
    void refusesARunDirectoryThatHoldsBrokerData(@TempDir Path root) throws Exception {
        Files.createDirectories(root.resolve(LocalBroker.LIB));
        Files.write(root.resolve(LocalBroker.JAR), new byte[0]);
        Files.createDirectories(root.resolve("run/kafka"));
        assertThatThrownBy(() -> LocalSystem.start(root, new LocalSystem.Options().services(Set.of()).runDir(root.resolve("run"))))
                .isInstanceOf(IllegalStateException.class).hasMessageContaining("already holds broker data");
    }
}
