package dev.millrace.training;

import static org.assertj.core.api.Assertions.assertThat;
import static org.assertj.core.api.Assertions.assertThatThrownBy;
import static org.assertj.core.api.Assertions.within;

import dev.millrace.contract.Topics;
import dev.millrace.core.record.Stage;
import dev.millrace.core.tokenizer.TokenizerFolder;
import dev.millrace.kafkalocal.LocalKafka;
import dev.millrace.proto.v1.Batch;
import dev.millrace.training.checkpoint.BatchRanges;
import dev.millrace.training.checkpoint.Checkpoint;
import dev.millrace.training.checkpoint.CheckpointStore;
import dev.millrace.training.checkpoint.TrainerState;
import dev.millrace.training.eval.EvalSet;
import dev.millrace.training.model.MiniMind;
import dev.millrace.training.run.BatchMismatchException;
import dev.millrace.training.run.StepLog;
import dev.millrace.training.run.StepReport;
import dev.millrace.training.run.TrainingRun;
import dev.millrace.training.run.TrainingSettings;
import dev.millrace.training.run.VanishedOffsetsException;
import dev.millrace.training.train.AdamW;
import dev.millrace.training.train.LrSchedule;
import dev.millrace.training.train.Trainer;
import java.io.IOException;
import java.io.UncheckedIOException;
import java.nio.file.Files;
import java.nio.file.Path;
import java.time.Duration;
import java.util.ArrayList;
import java.util.List;
import java.util.Map;
import java.util.Properties;
import java.util.OptionalDouble;
import java.util.Random;
import java.util.SortedMap;
import java.util.TreeMap;
import java.util.UUID;
import java.util.concurrent.CompletableFuture;
import java.util.concurrent.TimeUnit;
import java.util.concurrent.atomic.AtomicReference;
import org.apache.kafka.clients.admin.Admin;
import org.apache.kafka.clients.admin.RecordsToDelete;
import org.apache.kafka.clients.producer.KafkaProducer;
import org.apache.kafka.clients.producer.ProducerConfig;
import org.apache.kafka.clients.producer.ProducerRecord;
import org.apache.kafka.common.TopicPartition;
import org.apache.kafka.common.serialization.ByteArraySerializer;
import org.apache.kafka.common.serialization.StringSerializer;
import org.junit.jupiter.api.AfterAll;
import org.junit.jupiter.api.BeforeAll;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;

/**
 * Exactly-once training over a real broker (in-process): batches written in transactions as loss-mask
 * writes them, one of them aborted; runs that crash after a checkpoint and resume; offsets that are gone;
 * batches that do not fit the model.
 */
class ExactlyOnceTrainingTest {
    private static final int T = 16;
    private static final int ROWS = 2;
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
        p.put(ProducerConfig.TRANSACTIONAL_ID_CONFIG, "trainer-test-" + UUID.randomUUID());
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

    /** {@code count} SFT batches of partition {@code partition}, ids {@code sft-p<partition>-<n>}; every third one packed. */
    private static List<Batch> batches(long seed, int partition, int count) {
        return batches(seed, partition, count, T);
    }

    /** As above, rows of {@code seqLen}. */
    private static List<Batch> batches(long seed, int partition, int count, int seqLen) {
        Random random = new Random(seed);
        List<Batch> out = new ArrayList<>();
        for (int b = 0; b < count; b++) {
            String id = String.format("sft-p%d-%08d", partition, b);
            Batch batch;
            if (b % 3 == 2) {
                List<List<TestBatches.Example>> rows = List.of(
                        List.of(TestBatches.example(random, VOCAB, 7, 2), TestBatches.example(random, VOCAB, 6, 3)),
                        List.of(TestBatches.example(random, VOCAB, 12, 4)));
                batch = TestBatches.packed(id, seqLen, ROWS, rows);
            } else {
                List<TestBatches.Example> rows = List.of(TestBatches.example(random, VOCAB, 4 + random.nextInt(seqLen - 3), 2));
                batch = TestBatches.unpacked(id, seqLen, ROWS, rows); // one example: the second row is a filler row
            }
            out.add(batch.toBuilder().setTokenizerFingerprint(fingerprint).build());
        }
        return out;
    }

    /** Each batch in its own committed transaction, as loss-mask writes them. */
    private static void commit(String topic, int partition, List<Batch> batches) throws Exception {
        for (Batch b : batches) {
            producer.beginTransaction();
            producer.send(new ProducerRecord<>(topic, partition, b.getBatchId(), b.toByteArray()));
            producer.commitTransaction();
        }
    }

    private static void abort(String topic, int partition, Batch batch) throws Exception {
        producer.beginTransaction();
        producer.send(new ProducerRecord<>(topic, partition, batch.getBatchId(), batch.toByteArray())).get();
        producer.abortTransaction();
    }

    private TrainingSettings.Builder settings(String prefix, Path checkpoints) {
        return TrainingSettings.builder(kafka.bootstrapServers(), Stage.SFT, T, checkpoints, TokenizerFolder.bundledPath())
                .topics(new Topics(prefix))
                .keepCheckpoints(100)
                .modelPreset("tiny")
                .seed(7);
    }

    private static final class SimulatedCrash extends RuntimeException {
        SimulatedCrash() {
            super("simulated crash");
        }
    }

    /** Runs until a bound; {@code crashAt > 0}: the run dies right after that step, writing nothing more. */
    private static TrainingRun.Outcome train(TrainingSettings.Builder settings, Map<Long, Double> losses, long crashAt) throws IOException {
        try (TrainingRun run = TrainingRun.open(settings.build(), step -> {
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

    /** The batch ids a checkpoint's ranges name, in order. */
    private static List<String> ids(TrainerState state) {
        List<String> out = new ArrayList<>();
        for (BatchRanges.Range r : state.batchRanges()) {
            String prefix = r.from().substring(0, r.from().lastIndexOf('-') + 1);
            long first = Long.parseLong(r.from().substring(prefix.length()));
            for (long i = 0; i < r.count(); i++) {
                out.add(String.format("%s%08d", prefix, first + i));
            }
            assertThat(out.get(out.size() - 1)).isEqualTo(r.to());
        }
        return out;
    }

    private static TreeMap<Long, TrainerState> chain(Path checkpoints) throws IOException {
        TreeMap<Long, TrainerState> out = new TreeMap<>();
        for (Path c : new CheckpointStore(checkpoints, 100).list()) {
            out.put(CheckpointStore.step(c), Checkpoint.readState(c));
        }
        return out;
    }

    @Test
    void aRunResumedAfterACrashContinuesAsIfUninterruptedAndTrainsEveryBatchOnce() throws Exception {
        String prefix = "resume";
        String topic = new Topics(prefix).batches(Stage.SFT);
        kafka.createTopics(1, topic);
        List<Batch> committed = batches(1, 0, 12);
        commit(topic, 0, committed.subList(0, 5));
        abort(topic, 0, batches(99, 0, 6).get(5).toBuilder().setBatchId("sft-p0-aborted").build());
        commit(topic, 0, committed.subList(5, 12));

        // Accumulation 2: 12 batches make 6 optimiser steps; a checkpoint every 2 steps.
        TrainingSettings settings = settings(prefix, dir.resolve("unused"))
                .trainer(new Trainer.Settings(LrSchedule.cosine(1e-2, 6), 1.0, 2, AdamW.Settings.defaults()))
                .checkpointEverySteps(2)
                .maxSteps(6)
                .untilIdle(Duration.ofSeconds(20))
                .build();

        Map<Long, Double> uninterrupted = new TreeMap<>();
        Path a = dir.resolve("a");
        assertThat(train(settings.toBuilder().checkpointDir(a), uninterrupted, 0).ended()).isEqualTo(TrainingRun.Ended.MAX_STEPS);
        assertThat(uninterrupted.keySet()).containsExactly(1L, 2L, 3L, 4L, 5L, 6L);

        Path b = dir.resolve("b");
        Map<Long, Double> crashed = new TreeMap<>();
        assertThat(train(settings.toBuilder().checkpointDir(b), crashed, 5)).isNull(); // dies after step 5; the last checkpoint is step 4
        assertThat(crashed.keySet()).containsExactly(1L, 2L, 3L, 4L, 5L);
        assertThat(new CheckpointStore(b, 100).newest().map(CheckpointStore::step)).contains(4L);

        // The resumed run ignores init: the directory already holds checkpoints.
        Map<Long, Double> resumed = new TreeMap<>();
        TrainingRun.Outcome outcome = train(settings.toBuilder().checkpointDir(b).init(new CheckpointStore(a, 100).newest().orElseThrow()), resumed, 0);
        assertThat(outcome.ended()).isEqualTo(TrainingRun.Ended.MAX_STEPS);
        assertThat(resumed.keySet()).containsExactly(5L, 6L);
        for (long step : resumed.keySet()) {
            assertThat(resumed.get(step)).as("loss of step %d after the resume", step).isCloseTo(uninterrupted.get(step), within(1e-6));
        }
        assertThat(crashed.get(4L)).isEqualTo(uninterrupted.get(4L));

        // The step log: step 5 twice (the run that died, then the resumed one); the last line of each step is the uninterrupted run's.
        assertThat(Files.readAllLines(b.resolve(StepLog.FILE))).hasSize(7);
        SortedMap<Long, StepLog.Line> logged = StepLog.read(b.resolve(StepLog.FILE));
        assertThat(logged.keySet()).containsExactly(1L, 2L, 3L, 4L, 5L, 6L);
        SortedMap<Long, StepLog.Line> loggedA = StepLog.read(a.resolve(StepLog.FILE));
        for (long step : uninterrupted.keySet()) {
            assertThat(logged.get(step).loss()).as("logged loss of step %d", step).isCloseTo(uninterrupted.get(step), within(1e-6));
            assertThat(loggedA.get(step).loss()).isEqualTo(uninterrupted.get(step));
            assertThat(logged.get(step).batches()).isEqualTo(2);
            assertThat(logged.get(step).evalLoss()).isEmpty();
        }

        TreeMap<Long, TrainerState> states = chain(b);
        assertThat(states.keySet()).containsExactly(2L, 4L, 6L);
        List<String> covered = new ArrayList<>();
        states.values().forEach(s -> covered.addAll(ids(s)));
        assertThat(covered).containsExactlyElementsOf(committed.stream().map(Batch::getBatchId).toList());
        TrainerState last = states.get(6L);
        assertThat(last.startedFrom()).isEqualTo(b.resolve("step-00000004").toAbsolutePath().toString());
        assertThat(last.offsets()).containsExactly(Map.entry(topic + "-0", 25L)); // 13 transactions of a batch and a marker: the last batch is at 24
        assertThat(last.tokenizerFingerprint()).isEqualTo(fingerprint);
        assertThat(last.stage()).isEqualTo("sft");
        assertThat(states.get(2L).startedFrom()).isNull();
    }

    @Test
    void abortedBatchesAreNeverTrainedAndEachPassTrainsEveryCommittedBatchOnce() throws Exception {
        String prefix = "aborted";
        String topic = new Topics(prefix).batches(Stage.SFT);
        kafka.createTopics(2, topic);
        List<Batch> p0 = batches(2, 0, 5);
        List<Batch> p1 = batches(3, 1, 4);
        commit(topic, 0, p0.subList(0, 2));
        abort(topic, 0, batches(98, 0, 1).get(0).toBuilder().setBatchId("sft-p0-aborted").build());
        commit(topic, 0, p0.subList(2, 5));
        commit(topic, 1, p1);
        abort(topic, 1, batches(97, 1, 1).get(0).toBuilder().setBatchId("sft-p1-aborted").build());

        Path checkpoints = dir.resolve("ckpt");
        Map<Long, Double> losses = new TreeMap<>();
        TrainingRun.Outcome outcome = train(settings(prefix, checkpoints)
                .trainer(Trainer.Settings.defaults(LrSchedule.constant(1e-3, 0)))
                .checkpointEverySteps(9)
                .untilIdle(Duration.ofSeconds(20))
                .passes(2), losses, 0);

        assertThat(outcome.ended()).isEqualTo(TrainingRun.Ended.PASSES);
        assertThat(outcome.step()).isEqualTo(18);
        assertThat(outcome.pass()).isEqualTo(1);
        TreeMap<Long, TrainerState> states = chain(checkpoints);
        assertThat(states.keySet()).containsExactly(9L, 18L);
        List<String> expected = new ArrayList<>();
        p0.forEach(x -> expected.add(x.getBatchId()));
        p1.forEach(x -> expected.add(x.getBatchId()));
        for (TrainerState s : states.values()) {
            assertThat(ids(s)).containsExactlyInAnyOrderElementsOf(expected);
            assertThat(s.offsets()).containsExactly(Map.entry(topic + "-0", 11L), Map.entry(topic + "-1", 7L));
        }
        assertThat(states.get(9L).pass()).isEqualTo(0);
        assertThat(states.get(18L).pass()).isEqualTo(1);

        // Resumed after both passes: nothing is left to train.
        TrainingRun.Outcome again = train(settings(prefix, checkpoints).untilIdle(Duration.ofSeconds(20)).passes(2), new TreeMap<>(), 0);
        assertThat(again.ended()).isEqualTo(TrainingRun.Ended.PASSES);
        assertThat(again.step()).isEqualTo(18);
        assertThat(chain(checkpoints).keySet()).containsExactly(9L, 18L);
    }

    @Test
    void offsetsThatAreGoneStopTrainingWithTheTopicPartitionAndOffsets() throws Exception {
        String prefix = "vanished";
        String topic = new Topics(prefix).batches(Stage.SFT);
        kafka.createTopics(1, topic);
        commit(topic, 0, batches(4, 0, 4));
        Path checkpoints = dir.resolve("ckpt");
        TrainingSettings.Builder settings = settings(prefix, checkpoints).maxSteps(2).untilIdle(Duration.ofSeconds(20));
        assertThat(train(settings, new TreeMap<>(), 0).step()).isEqualTo(2);
        assertThat(Checkpoint.readState(new CheckpointStore(checkpoints, 100).newest().orElseThrow()).offsets())
                .containsExactly(Map.entry(topic + "-0", 3L));

        try (Admin admin = kafka.admin()) {
            admin.deleteRecords(Map.of(new TopicPartition(topic, 0), RecordsToDelete.beforeOffset(6))).all().get(30, TimeUnit.SECONDS);
        }
        assertThatThrownBy(() -> TrainingRun.open(settings.build(), null))
                .isInstanceOf(VanishedOffsetsException.class)
                .hasMessageContaining(topic)
                .hasMessageContaining("partition 0: the checkpoint's next offset is 3 but the log now starts at 6");
    }

    @Test
    void aBatchOfAnotherTTokenizerOrVocabularyStopsTrainingWithBothValues() throws Exception {
        String prefix = "mismatch";
        String topic = new Topics(prefix).batches(Stage.SFT);
        kafka.createTopics(1, topic);
        Batch good = batches(5, 0, 1).get(0);
        commit(topic, 0, List.of(good, good.toBuilder().setBatchId("sft-p0-00000001").setSeqLen(T * 2).build()));
        TrainingSettings.Builder settings = settings(prefix, dir.resolve("t")).untilIdle(Duration.ofSeconds(20));
        Map<Long, Double> losses = new TreeMap<>();
        assertThatThrownBy(() -> train(settings, losses, 0))
                .isInstanceOf(BatchMismatchException.class)
                .hasMessageContaining("sft-p0-00000001 at " + topic + "-0@2")
                .hasMessageContaining("T=32")
                .hasMessageContaining("T=16");
        assertThat(losses).containsOnlyKeys(1L); // the good batch before it was trained

        String other = new Topics("fingerprint").batches(Stage.SFT);
        kafka.createTopics(1, other);
        commit(other, 0, List.of(good.toBuilder().setTokenizerFingerprint("another-tokenizer").build()));
        assertThatThrownBy(() -> train(settings(prefix, dir.resolve("f")).topics(new Topics("fingerprint"))
                .untilIdle(Duration.ofSeconds(20)), new TreeMap<>(), 0))
                .isInstanceOf(BatchMismatchException.class)
                .hasMessageContaining("another-tokenizer")
                .hasMessageContaining(fingerprint);

        String ids = new Topics("vocabulary").batches(Stage.SFT);
        kafka.createTopics(1, ids);
        commit(ids, 0, List.of(TestBatches.withId(good, 0, 3, VOCAB + 904)));
        assertThatThrownBy(() -> train(settings(prefix, dir.resolve("v")).topics(new Topics("vocabulary"))
                .untilIdle(Duration.ofSeconds(20)), new TreeMap<>(), 0))
                .isInstanceOf(BatchMismatchException.class)
                .hasMessageContaining("token id 5000")
                .hasMessageContaining("vocabulary of 4096");
    }

    @Test
    void batchesOfAnUnfinishedAccumulationGroupAreLeftForTheNextRun() throws Exception {
        String prefix = "pending";
        String topic = new Topics(prefix).batches(Stage.SFT);
        kafka.createTopics(1, topic);
        List<Batch> all = batches(6, 0, 4);
        commit(topic, 0, all.subList(0, 3));
        Path checkpoints = dir.resolve("ckpt");
        // Accumulation 2 over 3 batches: one step; the third batch waits for a partner when the topic goes idle.
        TrainingSettings.Builder settings = settings(prefix, checkpoints)
                .trainer(new Trainer.Settings(LrSchedule.constant(1e-3, 0), 1.0, 2, AdamW.Settings.defaults()))
                .checkpointEverySteps(0)
                .untilIdle(Duration.ofMillis(1500));
        TrainingRun.Outcome first = train(settings, new TreeMap<>(), 0);
        assertThat(first.ended()).isEqualTo(TrainingRun.Ended.IDLE);
        assertThat(first.step()).isEqualTo(1);
        TrainerState state = Checkpoint.readState(first.lastCheckpoint());
        assertThat(state.offsets()).containsExactly(Map.entry(topic + "-0", 3L)); // after the step's second batch, at 2
        assertThat(ids(state)).containsExactly("sft-p0-00000000", "sft-p0-00000001");

        commit(topic, 0, all.subList(3, 4));
        TrainingRun.Outcome second = train(settings, new TreeMap<>(), 0);
        assertThat(second.step()).isEqualTo(2);
        TrainerState next = Checkpoint.readState(second.lastCheckpoint());
        assertThat(ids(next)).containsExactly("sft-p0-00000002", "sft-p0-00000003");
        assertThat(next.offsets()).containsExactly(Map.entry(topic + "-0", 7L));
    }

    @Test
    void aStoppedRunWritesAFinalCheckpointAtItsLastStep() throws Exception {
        String prefix = "stopped";
        String topic = new Topics(prefix).batches(Stage.SFT);
        kafka.createTopics(1, topic);
        commit(topic, 0, batches(8, 0, 6));
        Path checkpoints = dir.resolve("ckpt");
        AtomicReference<TrainingRun> running = new AtomicReference<>();
        TrainingRun.Outcome outcome;
        try (TrainingRun run = TrainingRun.open(settings(prefix, checkpoints).checkpointEverySteps(0).untilIdle(Duration.ofSeconds(20)).build(),
                step -> {
                    if (step.step() == 3) {
                        running.get().stop(); // as SIGTERM does, from another thread in the service
                    }
                })) {
            running.set(run);
            outcome = run.run();
        }
        assertThat(outcome.ended()).isEqualTo(TrainingRun.Ended.STOPPED);
        assertThat(outcome.step()).isEqualTo(3);
        assertThat(chain(checkpoints).keySet()).containsExactly(3L);
        assertThat(Checkpoint.readState(outcome.lastCheckpoint()).offsets()).containsExactly(Map.entry(topic + "-0", 5L));

        // A checkpoint interval of 0: a checkpoint after every step.
        TrainingRun.Outcome resumed = train(settings(prefix, checkpoints).checkpointEverySteps(0).checkpointInterval(Duration.ZERO)
                .maxSteps(5).untilIdle(Duration.ofSeconds(20)), new TreeMap<>(), 0);
        assertThat(resumed.ended()).isEqualTo(TrainingRun.Ended.MAX_STEPS);
        assertThat(chain(checkpoints).keySet()).containsExactly(3L, 4L, 5L);
    }

    @Test
    void theEvalFileIsEvaluatedEveryNStepsAndStepsReportTheirTimeWaitingForData() throws Exception {
        int seqLen = 48;
        String prefix = "eval";
        String topic = new Topics(prefix).batches(Stage.SFT);
        kafka.createTopics(1, topic);
        List<Batch> all = batches(10, 0, 4, seqLen);
        commit(topic, 0, all.subList(0, 3));
        Path evalFile = dir.resolve("eval.jsonl");
        Files.write(evalFile, List.of(
                "{\"conversations\": [{\"role\": \"user\", \"content\": \"What is 15% of 80?\"}, {\"role\": \"assistant\", \"content\": \"12.\"}]}",
                "not json",
                "{\"conversations\": [{\"role\": \"user\", \"content\": \"Hi\"}, {\"role\": \"assistant\", \"content\": \"Hello! How can I help?\"}]}"));
        Path checkpoints = dir.resolve("ckpt");
        TrainingSettings settings = settings(prefix, checkpoints).seqLen(seqLen).evalFile(evalFile).evalEverySteps(2)
                .checkpointEverySteps(2).untilIdle(Duration.ofSeconds(4)).build();

        List<StepReport> reports = new ArrayList<>();
        List<Boolean> waitingDuringSteps = new ArrayList<>();
        List<Long> backlogChecksAtStep = new ArrayList<>();
        AtomicReference<TrainingRun> current = new AtomicReference<>();
        TrainingRun.Outcome outcome;
        boolean waitingWhenIdle;
        double heldSeconds;
        try (TrainingRun run = TrainingRun.open(settings, step -> {
            synchronized (reports) {
                reports.add(step);
                waitingDuringSteps.add(current.get().batchesWaiting()); // its batch is in hand until the step is done
                backlogChecksAtStep.add(current.get().backlogChecks());
                reports.notifyAll();
            }
        })) {
            current.set(run);
            assertThat(run.evalSet()).isPresent();
            assertThat(run.evalSet().get().rejected()).hasSize(1);
            CompletableFuture<TrainingRun.Outcome> running = CompletableFuture.supplyAsync(() -> {
                try {
                    return run.run();
                } catch (IOException e) {
                    throw new UncheckedIOException(e);
                }
            });
            synchronized (reports) {
                long deadline = System.currentTimeMillis() + 30_000;
                while (reports.size() < 3 && System.currentTimeMillis() < deadline) {
                    reports.wait(1000);
                }
            }
            // The run waits for the fourth batch: once it has checked its position against the topic's end on an
            // idle poll after step 3, it has nothing in hand and the topic is read to its end.
            long checksAtStep3;
            synchronized (reports) {
                assertThat(reports).hasSize(3);
                checksAtStep3 = backlogChecksAtStep.get(2);
            }
            long deadline = System.nanoTime() + TimeUnit.SECONDS.toNanos(30);
            while (run.backlogChecks() <= checksAtStep3) {
                assertThat(System.nanoTime()).as("an idle poll's backlog check after step 3").isLessThan(deadline);
                Thread.sleep(20);
            }
            waitingWhenIdle = run.batchesWaiting();
            long idleSince = run.lastStepNanos();
            assertThat(TrainingRun.stuck(System.nanoTime(), idleSince, waitingWhenIdle, Duration.ZERO)).isFalse();
            long heldFrom = System.nanoTime(); // the run is waiting for data from before here until the batch is committed
            commit(topic, 0, all.subList(3, 4));
            heldSeconds = (System.nanoTime() - heldFrom) / 1e9;
            outcome = running.get(60, TimeUnit.SECONDS);
            assertThat(run.lastStepNanos()).isGreaterThan(idleSince);
            assertThat(run.batchesWaiting()).isFalse();
        }
        assertThat(waitingWhenIdle).isFalse();
        assertThat(waitingDuringSteps).containsExactly(true, true, true, true);
        assertThat(outcome.ended()).isEqualTo(TrainingRun.Ended.IDLE);
        assertThat(reports).extracting(StepReport::step).containsExactly(1L, 2L, 3L, 4L);
        assertThat(reports).extracting(r -> r.evalLoss().isPresent()).containsExactly(false, true, false, true);
        for (StepReport r : reports) {
            assertThat(r.seconds()).isPositive().isGreaterThanOrEqualTo(r.dataWaitSeconds());
        }
        // Step 4 waited for its batch at least while the test held it back (from a moment the run was already idle until it was committed).
        assertThat(reports.get(3).dataWaitSeconds()).isPositive().isGreaterThanOrEqualTo(heldSeconds);
        assertThat(reports.get(3).seconds()).isGreaterThanOrEqualTo(reports.get(3).dataWaitSeconds());

        // The eval loss is the eval file's loss under the weights of that step (here: the checkpoint of step 4).
        EvalSet evalSet;
        try (TokenizerFolder tokenizer = TokenizerFolder.bundled()) {
            evalSet = EvalSet.prepare(evalFile, Stage.SFT, seqLen, EvalSet.defaultPreparer(Stage.SFT, tokenizer, seqLen));
        }
        assertThat(evalSet.records()).hasSize(2);
        try (MiniMind model = Checkpoint.loadModel(outcome.lastCheckpoint())) {
            assertThat(reports.get(3).evalLoss().getAsDouble()).isCloseTo(evalSet.evaluate(model, 16).meanLoss(), within(1e-6));
        }
        SortedMap<Long, StepLog.Line> logged = StepLog.read(checkpoints.resolve(StepLog.FILE));
        assertThat(logged.get(2L).evalLoss()).isEqualTo(reports.get(1).evalLoss());
        assertThat(logged.get(4L).evalLoss()).isEqualTo(reports.get(3).evalLoss());
        assertThat(logged.get(3L).evalLoss()).isEqualTo(OptionalDouble.empty());
    }

    @Test
    void anEvalFileWithNothingToEvaluateStopsTheRunBeforeItStarts() throws Exception {
        String prefix = "noeval";
        kafka.createTopics(1, new Topics(prefix).batches(Stage.SFT));
        Path evalFile = Files.write(dir.resolve("eval.jsonl"), List.of("not json", "{\"text\": 3}"));
        assertThatThrownBy(() -> TrainingRun.open(settings(prefix, dir.resolve("ckpt")).evalFile(evalFile).build(), null))
                .isInstanceOf(IllegalArgumentException.class)
                .hasMessageContaining(evalFile.toString())
                .hasMessageContaining("no sft record with a trained token at T=16 (0 records, 2 lines rejected)");
    }
}
