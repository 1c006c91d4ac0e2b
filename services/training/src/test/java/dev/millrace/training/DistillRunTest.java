package dev.millrace.training;

import static org.assertj.core.api.Assertions.assertThat;
import static org.assertj.core.api.Assertions.assertThatThrownBy;
import static org.assertj.core.api.Assertions.within;

import dev.millrace.contract.Topics;
import dev.millrace.core.record.Stage;
import dev.millrace.core.tokenizer.TokenizerFolder;
import dev.millrace.kafkalocal.LocalKafka;
import dev.millrace.proto.v1.Batch;
import dev.millrace.proto.v1.WireStage;
import dev.millrace.training.checkpoint.Checkpoint;
import dev.millrace.training.checkpoint.CheckpointStore;
import dev.millrace.training.checkpoint.ReferenceIdentity;
import dev.millrace.training.checkpoint.TrainerState;
import dev.millrace.training.model.MiniMind;
import dev.millrace.training.run.BatchMismatchException;
import dev.millrace.training.run.StepLog;
import dev.millrace.training.run.StepReport;
import dev.millrace.training.run.TrainingRun;
import dev.millrace.training.run.TrainingSettings;
import dev.millrace.training.train.AdamW;
import dev.millrace.training.train.BatchTensors;
import dev.millrace.training.train.DistillLoss;
import dev.millrace.training.train.LrSchedule;
import dev.millrace.training.train.Trainer;
import java.io.IOException;
import java.nio.file.Files;
import java.nio.file.Path;
import java.time.Duration;
import java.util.List;
import java.util.Map;
import java.util.Properties;
import java.util.TreeMap;
import java.util.UUID;
import org.apache.kafka.clients.producer.KafkaProducer;
import org.apache.kafka.clients.producer.ProducerConfig;
import org.apache.kafka.clients.producer.ProducerRecord;
import org.apache.kafka.common.serialization.ByteArraySerializer;
import org.apache.kafka.common.serialization.StringSerializer;
import org.junit.jupiter.api.AfterAll;
import org.junit.jupiter.api.BeforeAll;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;

/**
 * Both distillation modes over a real broker. Sequence-level: a distill run trains the student from {@code init}
 * with cross-entropy on {@code <prefix>.distill.batches}. Logit-level: with a teacher checkpoint each step's loss is
 * {@code α·ce + (1-α)·τ²·kl}, its parts in {@code steps.jsonl}, the teacher's identity in every checkpoint; a
 * crashed run resumes exactly with the same teacher and refuses another one or none; a teacher of another
 * tokenizer is refused; SFT batches distil too.
 */
class DistillRunTest {
    private static final int T = 16;
    private static final int ROWS = 3;
    private static final int VOCAB = 4096;

    @TempDir
    static Path brokerDir;
    private static LocalKafka kafka;
    private static KafkaProducer<String, byte[]> producer;
    private static String fingerprint;

    @TempDir
    Path dir;

    @BeforeAll
    static void startBroker() throws IOException {
        kafka = LocalKafka.start(brokerDir);
        Properties p = new Properties();
        p.put(ProducerConfig.BOOTSTRAP_SERVERS_CONFIG, kafka.bootstrapServers());
        p.put(ProducerConfig.ACKS_CONFIG, "all");
        p.put(ProducerConfig.TRANSACTIONAL_ID_CONFIG, "distill-test-" + UUID.randomUUID());
        producer = new KafkaProducer<>(p, new StringSerializer(), new ByteArraySerializer());
        producer.initTransactions();
        try (TokenizerFolder tokenizer = TokenizerFolder.bundled()) {
            fingerprint = tokenizer.fingerprint();
        }
    }

    @AfterAll
    static void stopBroker() {
        if (producer != null) {
            producer.close();
        }
        if (kafka != null) {
            kafka.close();
        }
    }

    /** A checkpoint of the tiny model as the trainer writes one, its tokenizer the bundled folder. */
    private static Path checkpoint(Path where, MiniMind model) throws IOException {
        try (model; AdamW adamw = new AdamW(AdamW.Settings.defaults(), model.weights())) {
            TrainerState state = new TrainerState(10, 0, "sft", fingerprint, "tiny", Map.of(), List.of(), 100, 0, null);
            return new CheckpointStore(where, 1).write(10, d -> Checkpoint.write(d, model, adamw, state, TokenizerFolder.bundledPath()));
        }
    }

    /** {@code count} batches of {@code stage} (rows as loss-mask writes them), one transaction each; returns them. */
    private static List<Batch> commit(String topic, WireStage stage, long seed, int count) {
        List<Batch> batches = TestBatches.randomUnpacked(seed, count, T, ROWS, VOCAB).stream()
                .map(b -> b.toBuilder().setStage(stage).setTokenizerFingerprint(fingerprint)
                        .setBatchId(b.getBatchId().replace("sft", stage == WireStage.DISTILL ? "distill" : "sft")).build())
                .toList();
        for (Batch batch : batches) {
            producer.beginTransaction();
            producer.send(new ProducerRecord<>(topic, 0, batch.getBatchId(), batch.toByteArray()));
            producer.commitTransaction();
        }
        return batches;
    }

    private static final class SimulatedCrash extends RuntimeException {
        SimulatedCrash() {
            super("simulated crash");
        }
    }

    /** Runs to its end (or a simulated crash after step {@code crashAt}; then null), the step reports into {@code steps}. */
    private static TrainingRun.Outcome train(TrainingSettings settings, Map<Long, StepReport> steps, long crashAt) throws IOException {
        try (TrainingRun run = TrainingRun.open(settings, step -> {
            steps.put(step.step(), step);
            if (step.step() == crashAt) {
                throw new SimulatedCrash();
            }
        })) {
            return run.run();
        } catch (SimulatedCrash e) {
            return null;
        }
    }

    private TrainingSettings.Builder settings(Stage stage, String prefix, Path init) {
        return TrainingSettings.builder(kafka.bootstrapServers(), stage, T, dir.resolve("unused"), TokenizerFolder.bundledPath())
                .topics(new Topics(prefix))
                .keepCheckpoints(100)
                .init(init)
                .trainer(Trainer.Settings.defaults(LrSchedule.constant(1e-3, 0)))
                .checkpointEverySteps(2)
                .untilIdle(Duration.ofSeconds(20));
    }

    @Test
    void sequenceLevelTrainsTheStudentFromInitWithCrossEntropyOnTheDistillBatches() throws Exception {
        String prefix = "distill-seq";
        String topic = new Topics(prefix).batches(Stage.DISTILL);
        assertThat(topic).isEqualTo("distill-seq.distill.batches");
        kafka.createTopics(1, topic);
        List<Batch> batches = commit(topic, WireStage.DISTILL, 11, 3);
        Path sft = checkpoint(dir.resolve("sft"), MiniMind.initialise(TestBatches.tiny(), 1));
        double firstLoss;
        try (MiniMind init = Checkpoint.loadModel(sft)) {
            firstLoss = new Trainer(init, null, Trainer.Settings.defaults(LrSchedule.constant(1e-3, 0)), 0).loss(BatchTensors.from(batches.get(0)));
        }

        Path out = dir.resolve("student");
        Map<Long, StepReport> steps = new TreeMap<>();
        assertThat(train(settings(Stage.DISTILL, prefix, sft).checkpointDir(out).maxSteps(3).build(), steps, 0).ended())
                .isEqualTo(TrainingRun.Ended.MAX_STEPS);

        assertThat(steps.keySet()).containsExactly(1L, 2L, 3L);
        assertThat(steps.get(1L).result().loss()).as("the init weights' cross-entropy of the first batch").isCloseTo(firstLoss, within(1e-5));
        assertThat(steps.values()).allSatisfy(s -> assertThat(s.result().distill()).isNull());
        TrainerState last = Checkpoint.readState(new CheckpointStore(out, 100).newest().orElseThrow());
        assertThat(last.stage()).isEqualTo("distill");
        assertThat(last.step()).isEqualTo(3);
        assertThat(last.distillTeacher()).isNull();
        assertThat(last.startedFrom()).isEqualTo(sft.toAbsolutePath().toString());
        assertThat(Files.readString(out.resolve(StepLog.FILE))).doesNotContain("\"ce\"").doesNotContain("\"kl\"");
    }

    @Test
    void logitLevelDistilsFromAFrozenTeacherResumesExactlyWithItAndRefusesAnother() throws Exception {
        String prefix = "distill-logit";
        String topic = new Topics(prefix).batches(Stage.DISTILL);
        kafka.createTopics(1, topic);
        commit(topic, WireStage.DISTILL, 12, 5);
        Path sft = checkpoint(dir.resolve("sft"), MiniMind.initialise(TestBatches.tiny(), 1));
        Path teacher = checkpoint(dir.resolve("teacher"), TestBatches.sharpModel(TestBatches.tiny(), 2));
        Path otherTeacher = checkpoint(dir.resolve("other-teacher"), TestBatches.sharpModel(TestBatches.tiny(), 3));
        DistillLoss.Settings distill = new DistillLoss.Settings(0.4, 2.0);
        TrainingSettings settings = settings(Stage.DISTILL, prefix, sft).distillTeacher(teacher).distill(distill).maxSteps(5).build();

        Path a = dir.resolve("a");
        Map<Long, StepReport> uninterrupted = new TreeMap<>();
        assertThat(train(settings.toBuilder().checkpointDir(a).build(), uninterrupted, 0).ended()).isEqualTo(TrainingRun.Ended.MAX_STEPS);
        assertThat(uninterrupted.keySet()).containsExactly(1L, 2L, 3L, 4L, 5L);
        for (StepReport step : uninterrupted.values()) {
            DistillLoss.Parts parts = step.result().distill();
            assertThat(parts).as("step %d", step.step()).isNotNull();
            assertThat(step.result().loss()).as("step %d: α·ce + (1-α)·τ²·kl", step.step())
                    .isCloseTo(0.4 * parts.ce() + 0.6 * 4.0 * parts.kl(), within(1e-4));
            assertThat(parts.kl()).isGreaterThan(0.01);
        }
        String log = Files.readString(a.resolve(StepLog.FILE));
        assertThat(log.lines()).hasSize(5).allSatisfy(line -> assertThat(line).contains(",\"ce\":").contains(",\"kl\":"));
        TrainerState lastA = Checkpoint.readState(new CheckpointStore(a, 100).newest().orElseThrow());
        assertThat(lastA.distillTeacher()).isEqualTo(ReferenceIdentity.of(teacher));
        assertThat(Files.readString(new CheckpointStore(a, 100).newest().orElseThrow().resolve(Checkpoint.STATE)))
                .contains("\"distill_teacher\"").contains(ReferenceIdentity.of(teacher).sha256());

        Path b = dir.resolve("b");
        assertThat(train(settings.toBuilder().checkpointDir(b).build(), new TreeMap<>(), 3)).isNull(); // last checkpoint: step 2

        // Another teacher, or none: refused before anything is trained or written.
        assertThatThrownBy(() -> TrainingRun.open(settings.toBuilder().checkpointDir(b).distillTeacher(otherTeacher).build(), step -> { }))
                .isInstanceOf(IllegalStateException.class)
                .hasMessageContaining("a resumed run keeps its teacher")
                .hasMessageContaining(ReferenceIdentity.of(teacher).sha256())
                .hasMessageContaining(ReferenceIdentity.of(otherTeacher).sha256());
        assertThatThrownBy(() -> TrainingRun.open(settings.toBuilder().checkpointDir(b).distillTeacher(null).build(), step -> { }))
                .isInstanceOf(IllegalStateException.class)
                .hasMessageContaining("no teacher is set")
                .hasMessageContaining("a resumed run keeps its teacher");
        assertThat(new CheckpointStore(b, 100).newest().map(CheckpointStore::step)).contains(2L);

        // The same teacher: exactly the uninterrupted run.
        Map<Long, StepReport> resumed = new TreeMap<>();
        assertThat(train(settings.toBuilder().checkpointDir(b).build(), resumed, 0).ended()).isEqualTo(TrainingRun.Ended.MAX_STEPS);
        assertThat(resumed.keySet()).containsExactly(3L, 4L, 5L);
        for (long step : resumed.keySet()) {
            assertThat(resumed.get(step).result().loss()).as("loss of step %d", step).isCloseTo(uninterrupted.get(step).result().loss(), within(1e-6));
            assertThat(resumed.get(step).result().distill().kl()).isCloseTo(uninterrupted.get(step).result().distill().kl(), within(1e-6));
        }

        // A checkpoint trained without a teacher does not resume with one.
        Path c = dir.resolve("c");
        assertThat(train(settings.toBuilder().checkpointDir(c).distillTeacher(null).maxSteps(2).build(), new TreeMap<>(), 0).ended())
                .isEqualTo(TrainingRun.Ended.MAX_STEPS);
        assertThatThrownBy(() -> TrainingRun.open(settings.toBuilder().checkpointDir(c).build(), step -> { }))
                .isInstanceOf(IllegalStateException.class)
                .hasMessageContaining("was trained without a distillation teacher");
    }

    @Test
    void aTeacherOfAnotherTokenizerIsRefusedAndSftBatchesDistilToo() throws Exception {
        String prefix = "distill-sft";
        String topic = new Topics(prefix).batches(Stage.SFT);
        kafka.createTopics(1, topic);
        commit(topic, WireStage.SFT, 13, 2);
        Path teacher = checkpoint(dir.resolve("teacher"), TestBatches.sharpModel(TestBatches.tiny(), 2));
        Path otherTokenizer = dir.resolve("other-tokenizer");
        Files.createDirectories(otherTokenizer);
        try (var files = Files.list(teacher)) {
            for (Path f : files.toList()) {
                Files.copy(f, otherTokenizer.resolve(f.getFileName()));
            }
        }
        Files.writeString(otherTokenizer.resolve("chat_template.jinja"), "{{ messages }}"); // another fingerprint

        TrainingSettings.Builder sft = settings(Stage.SFT, prefix, null).modelPreset("tiny").maxSteps(2);
        assertThatThrownBy(() -> TrainingRun.open(sft.checkpointDir(dir.resolve("refused")).distillTeacher(otherTokenizer).build(), step -> { }))
                .isInstanceOf(BatchMismatchException.class)
                .hasMessageContaining("the distillation teacher " + otherTokenizer)
                .hasMessageContaining(fingerprint);

        Map<Long, StepReport> steps = new TreeMap<>();
        Path out = dir.resolve("sft-out");
        assertThat(train(sft.checkpointDir(out).distillTeacher(teacher).build(), steps, 0).ended()).isEqualTo(TrainingRun.Ended.MAX_STEPS);
        assertThat(steps.keySet()).containsExactly(1L, 2L);
        assertThat(steps.values()).allSatisfy(s -> assertThat(s.result().distill()).isNotNull());
        assertThat(Checkpoint.readState(new CheckpointStore(out, 100).newest().orElseThrow()).distillTeacher()).isEqualTo(ReferenceIdentity.of(teacher));
    }
}
