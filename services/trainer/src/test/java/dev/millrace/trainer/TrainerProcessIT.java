package dev.millrace.trainer;

import static org.assertj.core.api.Assertions.assertThat;

import dev.millrace.contract.Topics;
import dev.millrace.core.record.Stage;
import dev.millrace.core.tokenizer.TokenizerFolder;
import dev.millrace.kafkalocal.LocalKafka;
import dev.millrace.proto.v1.WireStage;
import dev.millrace.training.checkpoint.Checkpoint;
import dev.millrace.training.checkpoint.CheckpointStore;
import dev.millrace.training.checkpoint.ReferenceIdentity;
import dev.millrace.training.checkpoint.TrainerState;
import dev.millrace.training.model.MiniMind;
import dev.millrace.training.model.ModelConfig;
import dev.millrace.training.run.StepLog;
import dev.millrace.training.train.AdamW;
import java.io.IOException;
import java.net.ServerSocket;
import java.net.URI;
import java.net.http.HttpClient;
import java.net.http.HttpRequest;
import java.net.http.HttpResponse;
import java.nio.charset.StandardCharsets;
import java.nio.file.Files;
import java.nio.file.Path;
import java.time.Duration;
import java.util.ArrayList;
import java.util.List;
import java.util.Map;
import java.util.concurrent.TimeUnit;
import org.junit.jupiter.api.AfterAll;
import org.junit.jupiter.api.BeforeAll;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;

/**
 * The packaged service (target/quarkus-app/quarkus-run.jar) as the CLI's local run starts it, a process of its
 * own, over a real broker: a bounded run exits 0 after its final checkpoint; SIGTERM stops a continuous run
 * after its current step with a final checkpoint and exit 0; a run that fails, or a setting the trainer
 * refuses, logs an ERROR and exits 1; a distill run with a teacher checkpoint distils logit-level. Runs after {@code package} (the surefire execution {@code packaged-service}).
 */
class TrainerProcessIT {
    private static final int SEQ_LEN = TrainerTestResource.SEQ_LEN;

    @TempDir
    static Path dir;
    private static LocalKafka kafka;

    @BeforeAll
    static void startBroker() {
        kafka = LocalKafka.start(dir.resolve("kafka"));
    }

    @AfterAll
    static void stopBroker() {
        if (kafka != null) {
            kafka.close();
        }
    }

    /** A topic {@code <prefix>.sft.batches} holding {@code count} committed batches of T = 48. */
    private static void topic(String prefix, int count) {
        String topic = new Topics(prefix).batches(Stage.SFT);
        kafka.createTopics(1, topic);
        BatchTopic.commit(kafka.bootstrapServers(), topic, BatchTopic.batches(prefix.hashCode(), 0, count, SEQ_LEN));
    }

    /**
     * Starts the packaged trainer of {@code tiny} on {@code <prefix>.sft.batches}, its standard output into {@code out}
     * and its standard error into {@code out} with {@code .err} appended.
     */
    private static Process start(String prefix, Path checkpoints, Path out, Map<String, String> settings) throws IOException {
        Path jar = Path.of(System.getProperty("trainer.jar", "target/quarkus-app/quarkus-run.jar"));
        assertThat(jar).as("the packaged service (mvn package builds it)").isRegularFile();
        List<String> command = new ArrayList<>(List.of(Path.of(System.getProperty("java.home"), "bin", "java").toString(), "-Xmx512m",
                "-Dai.djl.pytorch.num_threads=1", "-Dai.djl.pytorch.num_interop_threads=1",
                "-Dkafka.bootstrap.servers=" + kafka.bootstrapServers(), "-Dmillrace.topic-prefix=" + prefix,
                "-Dmillrace.trainer.stage=sft", "-Dmillrace.trainer.model=tiny", "-Dmillrace.trainer.checkpoint-dir=" + checkpoints));
        settings.forEach((key, value) -> command.add("-D" + key + "=" + value));
        command.add("-jar");
        command.add(jar.toString());
        return new ProcessBuilder(command).redirectOutput(out.toFile()).redirectError(stderr(out).toFile()).start();
    }

    private static Path stderr(Path out) {
        return out.resolveSibling(out.getFileName() + ".err");
    }

    /** Both outputs of a trainer started with {@code out}. */
    private static String output(Path out) throws IOException {
        return Files.readString(out, StandardCharsets.UTF_8) + Files.readString(stderr(out), StandardCharsets.UTF_8);
    }

    private static int exitCode(Process process, Path out) throws Exception {
        if (!process.waitFor(120, TimeUnit.SECONDS)) {
            process.destroyForcibly();
            throw new AssertionError("the trainer did not exit within 120 s:\n" + output(out));
        }
        return process.exitValue();
    }

    @Test
    void aBoundedRunWritesItsFinalCheckpointAndExitsZero() throws Exception {
        topic("bounded", 6);
        Path checkpoints = dir.resolve("bounded");
        Path out = dir.resolve("bounded.log");
        Process trainer = start("bounded", checkpoints, out, Map.of("millrace.seq-len", String.valueOf(SEQ_LEN),
                "millrace.trainer.max-steps", "4", "millrace.trainer.checkpoint-every-steps", "3", "millrace.trainer.progress-every-steps", "2",
                "quarkus.http.port", "0"));
        int exit = exitCode(trainer, out);
        String log = output(out);
        assertThat(exit).as(log).isZero();
        assertThat(new CheckpointStore(checkpoints, 3).list()).extracting(CheckpointStore::step).containsExactly(3L, 4L);
        assertThat(StepLog.read(checkpoints.resolve(StepLog.FILE)).keySet()).containsExactly(1L, 2L, 3L, 4L);
        // Progress on standard error.
        assertThat(Files.readString(stderr(out))).contains("trainer sft: step 2/4 loss ").contains("trainer sft: step 4/4 loss ").contains(" eta 0s");
        assertThat(Files.readString(out)).doesNotContain("trainer sft: step 2/4");
        assertThat(log)
                // TrainingRun's own log lines (System.Logger) reach Quarkus' log.
                .contains("checkpoint " + checkpoints.resolve("step-00000004") + ": step 4, pass 0")
                .contains("training ended (MAX_STEPS) at step 4");
    }

    @Test
    void sigtermStopsAContinuousRunAfterItsStepWithAFinalCheckpointAndExitZero() throws Exception {
        topic("sigterm", 3);
        Path checkpoints = dir.resolve("sigterm");
        Path out = dir.resolve("sigterm.log");
        int port;
        try (ServerSocket free = new ServerSocket(0)) {
            port = free.getLocalPort();
        }
        Process trainer = start("sigterm", checkpoints, out, Map.of("millrace.seq-len", String.valueOf(SEQ_LEN),
                "millrace.trainer.checkpoint-every-steps", "0", "millrace.trainer.checkpoint-interval", "1h", "quarkus.http.port", String.valueOf(port)));
        try {
            HttpClient http = HttpClient.newBuilder().connectTimeout(Duration.ofSeconds(2)).build();
            long deadline = System.currentTimeMillis() + 90_000;
            int ready = 0;
            while (System.currentTimeMillis() < deadline && trainer.isAlive()
                    && (ready != 200 || !Files.exists(checkpoints.resolve(StepLog.FILE)) || Files.readAllLines(checkpoints.resolve(StepLog.FILE)).size() < 3)) {
                Thread.sleep(200);
                try {
                    ready = http.send(HttpRequest.newBuilder(URI.create("http://127.0.0.1:" + port + "/q/health/ready")).build(),
                            HttpResponse.BodyHandlers.discarding()).statusCode();
                } catch (IOException notListeningYet) {
                    ready = 0;
                }
            }
            assertThat(ready).as(output(out)).isEqualTo(200);
            HttpResponse<String> live = http.send(HttpRequest.newBuilder(URI.create("http://127.0.0.1:" + port + "/q/health/live")).build(),
                    HttpResponse.BodyHandlers.ofString());
            assertThat(live.statusCode()).isEqualTo(200);
            assertThat(new CheckpointStore(checkpoints, 3).list()).as("no checkpoint before the stop").isEmpty();
        } finally {
            trainer.destroy(); // SIGTERM
        }
        int exit = exitCode(trainer, out);
        String log = output(out);
        assertThat(exit).as(log).isZero();
        assertThat(log).contains("trainer stopping").contains("training ended (STOPPED) at step 3");
        Path last = new CheckpointStore(checkpoints, 3).newest().orElseThrow();
        assertThat(CheckpointStore.step(last)).isEqualTo(3);
        assertThat(Checkpoint.readState(last).offsets()).containsExactly(Map.entry("sigterm.sft.batches-0", 5L)); // after the last batch, at 4 (each batch a transaction and its marker)
    }

    @Test
    void aDistillRunWithATeacherDistilsLogitLevelAndReportsItsCrossEntropyAndKl() throws Exception {
        String prefix = "distill";
        String topic = new Topics(prefix).batches(Stage.DISTILL);
        kafka.createTopics(1, topic);
        BatchTopic.commit(kafka.bootstrapServers(), topic, BatchTopic.batches(prefix.hashCode(), 0, 3, SEQ_LEN).stream()
                .map(b -> b.toBuilder().setStage(WireStage.DISTILL).setBatchId(b.getBatchId().replace("sft", "distill")).build()).toList());
        Path teacher;
        try (TokenizerFolder tokenizer = TokenizerFolder.bundled();
             MiniMind model = MiniMind.initialise(ModelConfig.preset("tiny", tokenizer), 7);
             AdamW adamw = new AdamW(AdamW.Settings.defaults(), model.weights())) {
            TrainerState state = new TrainerState(1, 0, "dpo", tokenizer.fingerprint(), "tiny", Map.of(), List.of(), 0, 0, null);
            teacher = new CheckpointStore(dir.resolve("teacher-ckpt"), 1).write(1, d -> Checkpoint.write(d, model, adamw, state, tokenizer.path()));
        }
        Path checkpoints = dir.resolve("distill");
        Path out = dir.resolve("distill.log");
        Process trainer = start(prefix, checkpoints, out, Map.of("millrace.seq-len", String.valueOf(SEQ_LEN), "millrace.trainer.stage", "distill",
                "millrace.trainer.distill-teacher", teacher.toString(), "millrace.trainer.max-steps", "3",
                "millrace.trainer.progress-every-steps", "3", "quarkus.http.port", "0"));
        int exit = exitCode(trainer, out);
        String log = output(out);
        assertThat(exit).as(log).isZero();
        assertThat(log).contains("distilling from the teacher " + teacher);
        assertThat(Files.readString(stderr(out))).containsPattern("trainer distill: step 3/3 loss \\S+ .* ce \\S+ kl \\S+");
        assertThat(Files.readAllLines(checkpoints.resolve(StepLog.FILE))).hasSize(3).allSatisfy(line -> assertThat(line).contains("\"ce\":").contains("\"kl\":"));
        TrainerState last = Checkpoint.readState(new CheckpointStore(checkpoints, 3).newest().orElseThrow());
        assertThat(last.stage()).isEqualTo("distill");
        assertThat(last.distillTeacher()).isEqualTo(ReferenceIdentity.of(teacher));
    }

    @Test
    void aRunThatFailsAndASettingTheTrainerRefusesLogAnErrorAndExitOne() throws Exception {
        topic("mismatch", 1);
        Path out = dir.resolve("mismatch.log");
        Process trainer = start("mismatch", dir.resolve("mismatch"), out, Map.of("millrace.seq-len", "32", "quarkus.http.port", "0"));
        int exit = exitCode(trainer, out);
        String log = output(out);
        assertThat(exit).as(log).isEqualTo(1);
        assertThat(log).containsPattern("ERROR .*trainer sft stopped: batch sft-p0-00000000 at mismatch.sft.batches-0@0 has T=48, "
                + "the trainer is configured for T=32");

        Path refused = dir.resolve("teacher.log");
        Process teacher = start("mismatch", dir.resolve("teacher"), refused, Map.of("millrace.trainer.stage", "pretrain",
                "millrace.trainer.distill-teacher", dir.resolve("nowhere").toString(), "quarkus.http.port", "0"));
        assertThat(exitCode(teacher, refused)).isEqualTo(1);
        assertThat(output(refused)).contains("millrace.trainer.distill-teacher").contains("this run trains pretrain");

        Path noInit = dir.resolve("dpo.log");
        Process dpo = start("mismatch", dir.resolve("dpo"), noInit, Map.of("millrace.trainer.stage", "dpo", "quarkus.http.port", "0"));
        assertThat(exitCode(dpo, noInit)).isEqualTo(1);
        assertThat(output(noInit)).containsPattern("ERROR .*trainer dpo stopped: DPO trains a policy from an SFT checkpoint .*millrace.trainer.init");
    }
}
