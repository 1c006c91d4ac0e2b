package dev.millrace.training;

import static org.assertj.core.api.Assertions.assertThat;
import static org.assertj.core.api.Assertions.assertThatThrownBy;
import static org.assertj.core.api.Assertions.within;

import dev.millrace.contract.Topics;
import dev.millrace.core.record.Stage;
import dev.millrace.core.tokenizer.TokenizerFolder;
import dev.millrace.kafkalocal.LocalKafka;
import dev.millrace.proto.v1.Batch;
import dev.millrace.training.checkpoint.Checkpoint;
import dev.millrace.training.checkpoint.CheckpointStore;
import dev.millrace.training.checkpoint.ReferenceIdentity;
import dev.millrace.training.checkpoint.TrainerState;
import dev.millrace.training.dpo.DpoLoss;
import dev.millrace.training.model.MiniMind;
import dev.millrace.training.run.TrainingRun;
import dev.millrace.training.run.TrainingSettings;
import dev.millrace.training.train.AdamW;
import dev.millrace.training.train.LrSchedule;
import dev.millrace.training.train.Trainer;
import java.io.IOException;
import java.nio.file.Path;
import java.time.Duration;
import java.util.ArrayList;
import java.util.List;
import java.util.Map;
import java.util.Properties;
import java.util.Random;
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
 * DPO over a real broker: the policy starts from {@code init}, the reference is {@code init} frozen; a run resumed
 * after a crash continues exactly as the uninterrupted one, and refuses a different reference; DPO without
 * {@code init} is refused.
 */
class DpoRunTest {
    private static final int T = 16;
    private static final int PAIRS = 3;
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
        p.put(ProducerConfig.TRANSACTIONAL_ID_CONFIG, "dpo-test-" + UUID.randomUUID());
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

    /** An SFT checkpoint of the tiny model (weights from {@code seed}) as the trainer writes one. */
    private static Path sftCheckpoint(Path where, long seed) throws IOException {
        try (MiniMind model = MiniMind.initialise(TestBatches.tiny(), seed); AdamW adamw = new AdamW(AdamW.Settings.defaults(), model.weights())) {
            TrainerState state = new TrainerState(10, 0, "sft", fingerprint, "tiny", Map.of(), List.of(), 100, 0, null);
            return new CheckpointStore(where, 1).write(10, d -> Checkpoint.write(d, model, adamw, state, TokenizerFolder.bundledPath()));
        }
    }

    private static void commitPairs(String topic, int count) {
        Random random = new Random(3);
        for (int b = 0; b < count; b++) {
            List<TestBatches.Pair> pairs = new ArrayList<>();
            for (int i = 0; i < PAIRS - (b % 2); i++) { // every other batch ends with a filler pair
                pairs.add(TestBatches.pair(random, VOCAB, 3 + random.nextInt(4), 3 + random.nextInt(8), 3 + random.nextInt(8)));
            }
            Batch batch = TestBatches.dpo(String.format("dpo-p0-%08d", b), T, PAIRS, pairs).toBuilder().setTokenizerFingerprint(fingerprint).build();
            producer.beginTransaction();
            producer.send(new ProducerRecord<>(topic, 0, batch.getBatchId(), batch.toByteArray()));
            producer.commitTransaction();
        }
    }

    private static final class SimulatedCrash extends RuntimeException {
        SimulatedCrash() {
            super("simulated crash");
        }
    }

    private static TrainingRun.Outcome train(TrainingSettings settings, Map<Long, DpoLoss.Totals> steps, Map<Long, Double> losses, long crashAt)
            throws IOException {
        try (TrainingRun run = TrainingRun.open(settings, step -> {
            steps.put(step.step(), step.dpo());
            losses.put(step.step(), step.result().loss());
            if (step.step() == crashAt) {
                throw new SimulatedCrash();
            }
        })) {
            return run.run();
        } catch (SimulatedCrash e) {
            return null;
        }
    }

    @Test
    void aResumedDpoRunContinuesExactlyAgainstTheSameReferenceAndRefusesAnother() throws Exception {
        String prefix = "dpo-resume";
        String topic = new Topics(prefix).batches(Stage.DPO);
        kafka.createTopics(1, topic);
        commitPairs(topic, 6);
        Path sft = sftCheckpoint(dir.resolve("sft"), 1);
        Path otherSft = sftCheckpoint(dir.resolve("other-sft"), 2);

        TrainingSettings settings = TrainingSettings.builder(kafka.bootstrapServers(), Stage.DPO, T, dir.resolve("unused"), TokenizerFolder.bundledPath())
                .topics(new Topics(prefix))
                .keepCheckpoints(100)
                .modelPreset("tiny")
                .init(sft)
                .trainer(Trainer.Settings.defaults(LrSchedule.constant(1e-3, 0)))
                .checkpointEverySteps(2)
                .maxSteps(6)
                .untilIdle(Duration.ofSeconds(20))
                .build();

        Map<Long, DpoLoss.Totals> uninterrupted = new TreeMap<>();
        Map<Long, Double> uninterruptedLoss = new TreeMap<>();
        Path a = dir.resolve("a");
        assertThat(train(settings.toBuilder().checkpointDir(a).build(), uninterrupted, uninterruptedLoss, 0).ended())
                .isEqualTo(TrainingRun.Ended.MAX_STEPS);
        assertThat(uninterrupted.keySet()).containsExactly(1L, 2L, 3L, 4L, 5L, 6L);
        // Policy = reference at the start: every margin 0, the loss ln 2; then the policy moves away from the reference.
        assertThat(uninterruptedLoss.get(1L)).isCloseTo(Math.log(2), within(1e-5));
        assertThat(uninterrupted.get(1L).pairs()).isEqualTo(PAIRS);
        assertThat(uninterrupted.get(2L).pairs()).isEqualTo(PAIRS - 1); // its filler pair is not counted
        assertThat(uninterrupted.get(6L).meanMargin()).isNotZero();
        TrainerState lastA = Checkpoint.readState(new CheckpointStore(a, 100).newest().orElseThrow());
        assertThat(lastA.dpoReference()).isEqualTo(ReferenceIdentity.of(sft));
        assertThat(lastA.stage()).isEqualTo("dpo");

        Path b = dir.resolve("b");
        Map<Long, DpoLoss.Totals> crashed = new TreeMap<>();
        assertThat(train(settings.toBuilder().checkpointDir(b).build(), crashed, new TreeMap<>(), 3)).isNull(); // last checkpoint: step 2

        // Another reference: refused before anything is trained or written.
        assertThatThrownBy(() -> TrainingRun.open(settings.toBuilder().checkpointDir(b).init(otherSft).build(), step -> { }))
                .isInstanceOf(IllegalStateException.class)
                .hasMessageContaining("a resumed DPO run keeps its reference")
                .hasMessageContaining(ReferenceIdentity.of(sft).sha256())
                .hasMessageContaining(ReferenceIdentity.of(otherSft).sha256());
        assertThat(new CheckpointStore(b, 100).newest().map(CheckpointStore::step)).contains(2L);

        // The same reference (init given again, or read from the checkpoint): exactly the uninterrupted run.
        Map<Long, DpoLoss.Totals> resumed = new TreeMap<>();
        Map<Long, Double> resumedLoss = new TreeMap<>();
        assertThat(train(settings.toBuilder().checkpointDir(b).init(null).build(), resumed, resumedLoss, 0).ended())
                .isEqualTo(TrainingRun.Ended.MAX_STEPS);
        assertThat(resumed.keySet()).containsExactly(3L, 4L, 5L, 6L);
        for (long step : resumed.keySet()) {
            assertThat(resumedLoss.get(step)).as("loss of step %d", step).isCloseTo(uninterruptedLoss.get(step), within(1e-6));
            assertThat(resumed.get(step).margin()).as("margin of step %d", step).isCloseTo(uninterrupted.get(step).margin(), within(1e-6));
            assertThat(resumed.get(step).accurate()).isEqualTo(uninterrupted.get(step).accurate());
        }
    }

    @Test
    void dpoWithoutInitIsRefused() {
        TrainingSettings settings = TrainingSettings.builder(kafka.bootstrapServers(), Stage.DPO, T, dir.resolve("c"), TokenizerFolder.bundledPath())
                .topics(new Topics("dpo-noinit"))
                .modelPreset("tiny")
                .build();
        assertThatThrownBy(() -> TrainingRun.open(settings, step -> { }))
                .isInstanceOf(IllegalArgumentException.class)
                .hasMessageContaining("DPO trains a policy from an SFT checkpoint");
    }
}
