package dev.millrace.cli.local;

import static org.assertj.core.api.Assertions.assertThat;
import static org.assertj.core.api.Assertions.assertThatThrownBy;

import java.nio.file.Files;
import java.nio.file.Path;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;

/** The broker launcher without a packaged broker (services/it starts the real one). */
class LocalBrokerTest {

    @Test
    void namesTheMissingBrokerArtifactsWithoutAVersionInTheJarName(@TempDir Path root) throws Exception {
        assertThat(LocalBroker.missingArtifacts(root)).containsExactly("services/kafka-local/target/millrace-kafka-local.jar",
                "services/kafka-local/target/lib/");
        Files.createDirectories(root.resolve("services/kafka-local/target/lib"));
        Files.write(root.resolve("services/kafka-local/target/millrace-kafka-local.jar"), new byte[0]);
        assertThat(LocalBroker.missingArtifacts(root)).isEmpty();
    }

    @Test
    void aBrokerThatExitsBeforeItIsReadyIsReportedWithItsLog(@TempDir Path root) throws Exception {
        // A "packaged" broker that is not one: the JVM cannot find the main class and exits.
        Files.createDirectories(root.resolve(LocalBroker.LIB));
        Files.write(root.resolve(LocalBroker.JAR), new byte[0]);
        LocalBroker broker = LocalBroker.launch(root, root.resolve("run/kafka"), root.resolve("run/logs/kafka.log"));

        assertThatThrownBy(() -> broker.awaitReady(() -> { }))
                .isInstanceOf(IllegalStateException.class)
                .hasMessageContaining("the kafka broker exited with status 1 before it was ready")
                .hasMessageContaining(root.resolve("run/logs/kafka.log").toString())
                .hasMessageContaining("dev.millrace.kafkalocal.LocalKafka");
        assertThat(broker.process().isAlive()).isFalse();
        assertThatThrownBy(broker::bootstrapServers).hasMessageContaining("not ready");
    }

    @Test
    void waitingEndsWhenTheRunIsStopped(@TempDir Path root) throws Exception {
        Files.createDirectories(root.resolve(LocalBroker.LIB));
        Files.write(root.resolve(LocalBroker.JAR), new byte[0]);
        LocalBroker broker = LocalBroker.launch(root, root.resolve("kafka"), root.resolve("kafka.log"));
        try {
            assertThatThrownBy(() -> broker.awaitReady(() -> {
                throw new IllegalStateException("stopped");
            })).hasMessage("stopped");
        } finally {
            broker.process().stop(java.time.Duration.ofSeconds(10));
        }
    }
}
