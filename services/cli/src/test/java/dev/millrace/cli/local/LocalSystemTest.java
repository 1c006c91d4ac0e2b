package dev.millrace.cli.local;

import static org.assertj.core.api.Assertions.assertThat;
import static org.assertj.core.api.Assertions.assertThatThrownBy;

import dev.millrace.contract.Topics;
import dev.millrace.core.record.Stage;
import java.io.ByteArrayOutputStream;
import java.io.PrintStream;
import java.nio.charset.StandardCharsets;
import java.nio.file.Files;
import java.nio.file.Path;
import java.time.Duration;
import java.util.EnumSet;
import java.util.List;
import java.util.Map;
import java.util.Set;
import java.util.stream.Collectors;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;

/**
 * The launcher's failure paths and process handling, without packaged services (the end-to-end
 * tests in services/it start the real system).
 */
class LocalSystemTest {

    private static Set<Long> children() {
        return ProcessHandle.current().descendants().filter(ProcessHandle::isAlive).map(ProcessHandle::pid).collect(Collectors.toSet());
    }

    @Test
    void namesEveryMissingArtifact(@TempDir Path root) {
        assertThat(LocalSystem.missingArtifacts(root, EnumSet.allOf(LocalSystem.Service.class))).containsExactly(
                "services/kafka-local/target/millrace-kafka-local-0.1.0-SNAPSHOT.jar",
                "services/kafka-local/target/lib/",
                "services/ingest/target/quarkus-app/quarkus-run.jar",
                "services/chat-template/target/quarkus-app/quarkus-run.jar",
                "services/tokenize/target/quarkus-app/quarkus-run.jar",
                "services/loss-mask/target/quarkus-app/quarkus-run.jar");
    }

    @Test
    void eachServiceGetsTheStagesItsTopicsToWaitForAndLossMaskThePackedStages(@TempDir Path run) {
        LocalSystem.Options options = new LocalSystem.Options().stages(List.of(Stage.PRETRAIN, Stage.SFT, Stage.DPO, Stage.DISTILL))
                .packing(EnumSet.of(Stage.PRETRAIN, Stage.SFT)).seqLen(512).batchSize(16).batchLingerMs(1000);
        Topics topics = new Topics("millrace");
        Map<String, String> ingest = LocalSystem.serviceProperties(LocalSystem.Service.INGEST, options, topics, "127.0.0.1:1", run, 7);
        Map<String, String> chat = LocalSystem.serviceProperties(LocalSystem.Service.CHAT_TEMPLATE, options, topics, "127.0.0.1:1", run, 8);
        Map<String, String> tokenize = LocalSystem.serviceProperties(LocalSystem.Service.TOKENIZE, options, topics, "127.0.0.1:1", run, 9);
        Map<String, String> lossMask = LocalSystem.serviceProperties(LocalSystem.Service.LOSS_MASK, options, topics, "127.0.0.1:1", run, 10);

        for (Map<String, String> p : List.of(ingest, chat, tokenize, lossMask)) {
            assertThat(p).containsEntry("millrace.stages", "pretrain,sft,dpo,distill")
                    .containsEntry("kafka.bootstrap.servers", "127.0.0.1:1").containsEntry("millrace.topic-prefix", "millrace");
        }
        assertThat(ingest).containsEntry("quarkus.http.port", "7").doesNotContainKeys("quarkus.kafka-streams.topics", "kafka-streams.state.dir");
        assertThat(chat).containsEntry("quarkus.kafka-streams.topics", "millrace.pretrain.raw,millrace.pretrain.templated,"
                + "millrace.sft.raw,millrace.sft.templated,millrace.dpo.raw,millrace.dpo.templated,"
                + "millrace.distill.raw,millrace.distill.templated,millrace.dlq")
                .containsEntry("kafka-streams.state.dir", run.resolve("state/chat-template").toString());
        assertThat(tokenize.get("quarkus.kafka-streams.topics")).startsWith("millrace.pretrain.templated,millrace.pretrain.tokenized,")
                .endsWith(",millrace.distill.templated,millrace.distill.tokenized,millrace.dlq");
        assertThat(lossMask.get("quarkus.kafka-streams.topics")).startsWith("millrace.pretrain.tokenized,millrace.pretrain.batches,")
                .endsWith(",millrace.distill.tokenized,millrace.distill.batches,millrace.dlq");
        assertThat(lossMask).containsEntry("millrace.pretrain.packing", "on").containsEntry("millrace.sft.packing", "on")
                .doesNotContainKeys("millrace.dpo.packing", "millrace.distill.packing")
                .containsEntry("millrace.seq-len", "512").containsEntry("millrace.batch-size", "16").containsEntry("millrace.batch-linger-ms", "1000");
        assertThat(chat).doesNotContainKeys("millrace.sft.packing", "millrace.seq-len");

        // The caller's own properties come last and win.
        options.property("millrace.sft.packing", "off");
        assertThat(LocalSystem.serviceProperties(LocalSystem.Service.LOSS_MASK, options, topics, "127.0.0.1:1", run, 10))
                .containsEntry("millrace.sft.packing", "off");
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
        Files.createDirectories(root.resolve(LocalSystem.KAFKA_LOCAL_LIB));
        Files.write(root.resolve(LocalSystem.KAFKA_LOCAL_JAR), new byte[0]);
        ByteArrayOutputStream progress = new ByteArrayOutputStream();
        Set<Long> before = children();

        assertThatThrownBy(() -> LocalSystem.start(root, new LocalSystem.Options()
                .services(Set.of()).runDir(root.resolve("run")).progress(new PrintStream(progress, true, StandardCharsets.UTF_8))))
                .isInstanceOf(IllegalStateException.class)
                .hasMessageContaining("the kafka broker exited")
                .hasMessageContaining("dev.millrace.kafkalocal.LocalKafka");

        assertThat(children()).isSubsetOf(before);
        assertThat(root.resolve("run/logs/kafka.log")).exists();
        assertThat(progress.toString(StandardCharsets.UTF_8)).contains("run directory " + root.resolve("run"));
    }

    @Test
    void refusesARunDirectoryThatHoldsBrokerData(@TempDir Path root) throws Exception {
        Files.createDirectories(root.resolve(LocalSystem.KAFKA_LOCAL_LIB));
        Files.write(root.resolve(LocalSystem.KAFKA_LOCAL_JAR), new byte[0]);
        Files.createDirectories(root.resolve("run/kafka"));
        assertThatThrownBy(() -> LocalSystem.start(root, new LocalSystem.Options().services(Set.of()).runDir(root.resolve("run"))))
                .isInstanceOf(IllegalStateException.class).hasMessageContaining("already holds broker data");
    }

    @Test
    void aManagedProcessStopsOnSigtermAndKeepsItsLog(@TempDir Path dir) throws Exception {
        ManagedProcess p = ManagedProcess.start("sleeper", List.of("sh", "-c", "echo started; exec sleep 60"), dir, dir.resolve("logs/sleeper.log"));
        long deadline = System.nanoTime() + Duration.ofSeconds(10).toNanos();
        while (!p.logTail(5).contains("started") && System.nanoTime() < deadline) {
            Thread.sleep(20);
        }
        assertThat(p.isAlive()).isTrue();
        assertThat(p.stop(Duration.ofSeconds(10))).as("ended by itself on SIGTERM").isTrue();
        assertThat(p.isAlive()).isFalse();
        assertThat(p.logTail(5)).isEqualTo("started");
    }

    @Test
    void childrenIgnoreTheTerminalsCtrlCSoThatTheLauncherStopsThemInOrder(@TempDir Path dir) throws Exception {
        ManagedProcess p = ManagedProcess.start("sleeper", List.of("sleep", "60"), dir, dir.resolve("sleeper.log"));
        long deadline = System.nanoTime() + Duration.ofSeconds(10).toNanos();
        while (!ProcessHandle.of(p.pid()).flatMap(h -> h.info().command()).orElse("").endsWith("sleep") && System.nanoTime() < deadline) {
            Thread.sleep(20); // until the wrapping shell has set the disposition and exec'd the command
        }
        assertThat(new ProcessBuilder("kill", "-INT", String.valueOf(p.pid())).start().waitFor()).isZero();
        Thread.sleep(300);
        assertThat(p.isAlive()).as("alive after SIGINT").isTrue();
        assertThat(p.stop(Duration.ofSeconds(10))).as("ended by SIGTERM").isTrue();
    }

    @Test
    void aProcessThatIgnoresSigtermIsKilledAfterTheGracePeriod(@TempDir Path dir) throws Exception {
        ManagedProcess p = ManagedProcess.start("stubborn", List.of("sh", "-c", "trap '' TERM; echo started; while :; do sleep 1; done"),
                dir, dir.resolve("stubborn.log"));
        long deadline = System.nanoTime() + Duration.ofSeconds(10).toNanos();
        while (!p.logTail(5).contains("started") && System.nanoTime() < deadline) {
            Thread.sleep(20);
        }
        assertThat(p.stop(Duration.ofMillis(300))).as("needed SIGKILL").isFalse();
        assertThat(p.isAlive()).isFalse();
    }
}
