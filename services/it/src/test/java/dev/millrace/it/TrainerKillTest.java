package dev.millrace.it;

import static org.assertj.core.api.Assertions.assertThat;

import com.fasterxml.jackson.databind.JsonNode;
import com.fasterxml.jackson.databind.ObjectMapper;
import dev.millrace.cli.Millrace;
import dev.millrace.cli.local.LocalSystem;
import dev.millrace.cli.local.ManagedProcess;
import dev.millrace.cli.local.TrainerOptions;
import dev.millrace.contract.Topics;
import dev.millrace.core.batch.BatchAssembler;
import dev.millrace.core.mask.Row;
import dev.millrace.core.record.Stage;
import dev.millrace.core.tokenizer.TokenizerFolder;
import dev.millrace.core.wire.RowCodec;
import dev.millrace.proto.v1.Batch;
import dev.millrace.proto.v1.WireStage;
import dev.millrace.training.NumpyReference;
import dev.millrace.training.eval.EvalSet;
import dev.millrace.training.model.MiniMind;
import dev.millrace.training.checkpoint.BatchRanges;
import dev.millrace.training.checkpoint.Checkpoint;
import dev.millrace.training.checkpoint.TrainerState;
import java.io.ByteArrayOutputStream;
import java.io.PrintStream;
import java.nio.charset.StandardCharsets;
import java.nio.file.Files;
import java.nio.file.Path;
import java.time.Duration;
import java.util.ArrayList;
import java.util.EnumSet;
import java.util.LinkedHashMap;
import java.util.List;
import java.util.Locale;
import java.util.Map;
import java.util.Properties;
import java.util.Random;
import java.util.TreeMap;
import java.util.UUID;
import java.util.concurrent.TimeUnit;
import java.util.stream.Stream;
import org.apache.kafka.clients.admin.Admin;
import org.apache.kafka.clients.admin.AdminClientConfig;
import org.apache.kafka.clients.admin.NewTopic;
import org.apache.kafka.clients.producer.KafkaProducer;
import org.apache.kafka.clients.producer.ProducerConfig;
import org.apache.kafka.clients.producer.ProducerRecord;
import org.apache.kafka.common.serialization.ByteArraySerializer;
import org.apache.kafka.common.serialization.StringSerializer;
import org.junit.jupiter.api.Test;

/**
 * Exactly-once training across a SIGKILL of the packaged trainer service, over the real broker. Batches are
 * written as loss-mask writes them (one transaction each, one transaction aborted). Trainer B checkpoints at
 * step 4, trains steps 5 and 6, and is killed; a new trainer on the same checkpoint directory resumes. Trainer
 * A trains the same topic uninterrupted. The first step after the restart is step 5, every step's loss from
 * there on equals A's, and the chain of B's checkpoints names every committed batch exactly once and never
 * the aborted one. Last, {@code ./millrace eval} on the service's final checkpoint agrees with the numpy reference.
 */
class TrainerKillTest {
    static final int T = 32;
    static final int ROWS = 4;
    static final int FIRST = 6;
    static final int SECOND = 6;
    static final int CHECKPOINT_EVERY = 4;
    /** A topic prefix of this test's own, whose batch topic has ONE partition: the same data order in every run. */
    static final String PREFIX = "trainkill";
    static final Duration TIMEOUT = Duration.ofMinutes(3);
    private static final ObjectMapper JSON = new ObjectMapper();

    @Test
    void aKilledTrainerResumesAtTheStepAfterItsCheckpointWithTheLossesOfAnUninterruptedRun() throws Exception {
        Path root = Repo.packagedRoot();
        Path target = Files.createDirectories(root.resolve("services/it/target"));
        Path runDir = Files.createTempDirectory(target, "kill-trainer-");
        String fingerprint;
        try (TokenizerFolder tokenizer = TokenizerFolder.bundled()) {
            fingerprint = tokenizer.fingerprint();
        }
        List<Batch> committed = batches(fingerprint, FIRST + SECOND);
        Batch aborted = batches(fingerprint, 1).get(0).toBuilder().setBatchId("sft-p0-aborted").build();
        Topics topics = new Topics(PREFIX);
        String topic = topics.batches(Stage.SFT);

        try (LocalSystem system = LocalSystem.start(root, new LocalSystem.Options().seqLen(T).stages(List.of(Stage.SFT))
                .services(EnumSet.noneOf(dev.millrace.contract.PipelineService.class)).runDir(runDir).progress(System.err)
                // One libtorch thread: runs A and B compute every step identically.
                .property("ai.djl.pytorch.num_threads", "1").property("ai.djl.pytorch.num_interop_threads", "1"));
             Admin admin = Admin.create(Map.of(AdminClientConfig.BOOTSTRAP_SERVERS_CONFIG, system.bootstrapServers()));
             KafkaProducer<String, byte[]> producer = transactionalProducer(system.bootstrapServers())) {
            admin.createTopics(List.of(new NewTopic(topic, 1, (short) 1))).all().get(30, TimeUnit.SECONDS);
            Map<String, String> prefix = Map.of("millrace.topic-prefix", PREFIX);
            for (Batch b : committed.subList(0, FIRST)) {
                send(producer, topic, b, true);
            }

            // B: trains what is there (6 steps), checkpointing at 4; then it is killed, waiting for more.
            Path dirB = runDir.resolve("checkpoints-b");
            system.startTrainer(trainer(dirB).bounds(0, 0, null), prefix);
            awaitStep(dirB, FIRST);
            assertThat(checkpoints(dirB)).as("checkpoints before the kill").containsExactly("step-00000004");
            ManagedProcess killed = system.trainer(Stage.SFT).process();
            ProcessHandle.of(killed.pid()).ifPresent(ProcessHandle::destroyForcibly);
            assertThat(killed.awaitExit(Duration.ofSeconds(30))).as("the trainer ended after SIGKILL").isTrue();
            assertThat(killed.exitValue()).isEqualTo(137);
            assertThat(checkpoints(dirB)).as("a SIGKILL writes nothing").containsExactly("step-00000004");

            // The rest arrives, an aborted transaction among it; B restarts on the same directory and ends when idle.
            send(producer, topic, aborted, false);
            for (Batch b : committed.subList(FIRST, FIRST + SECOND)) {
                send(producer, topic, b, true);
            }
            system.startTrainer(trainer(dirB).bounds(0, 0, Duration.ofSeconds(4)), prefix);
            system.awaitTrainer(Stage.SFT, TIMEOUT, () -> { });

            // A: the same topic, uninterrupted, from a fresh directory.
            Path dirA = runDir.resolve("checkpoints-a");
            system.startTrainer(trainer(dirA).bounds(0, 0, Duration.ofSeconds(4)), prefix);
            system.awaitTrainer(Stage.SFT, TIMEOUT, () -> { });

            List<JsonNode> logB = stepLog(dirB);
            List<Long> stepsB = logB.stream().map(n -> n.get("step").asLong()).toList();
            assertThat(stepsB).as("B's steps: 1..6, killed; resumed after the checkpoint at 4: 5..12")
                    .containsExactly(1L, 2L, 3L, 4L, 5L, 6L, 5L, 6L, 7L, 8L, 9L, 10L, 11L, 12L);
            Map<Long, Double> lossA = new TreeMap<>();
            stepLog(dirA).forEach(n -> lossA.put(n.get("step").asLong(), n.get("loss").asDouble()));
            assertThat(lossA).as("A trained every committed batch, one step each").hasSize(FIRST + SECOND);
            for (JsonNode step : logB) {
                long s = step.get("step").asLong();
                assertThat(step.get("loss").asDouble()).as("loss of step %d, B (incl. after the restart) vs uninterrupted A", s)
                        .isEqualTo(lossA.get(s));
            }

            List<String> chain = new ArrayList<>();
            for (String name : checkpoints(dirB)) {
                TrainerState state = Checkpoint.readState(dirB.resolve(name));
                for (BatchRanges.Range r : state.batchRanges()) {
                    chain.addAll(expand(r));
                }
            }
            assertThat(chain).as("the checkpoints' batch ranges, in order: every committed batch exactly once, never the aborted one")
                    .containsExactlyElementsOf(committed.stream().map(Batch::getBatchId).toList());
            TrainerState last = Checkpoint.readState(dirB.resolve(checkpoints(dirB).get(checkpoints(dirB).size() - 1)));
            assertThat(last.step()).isEqualTo(FIRST + SECOND);
            assertThat(last.offsets()).as("next offset: just after the last batch (13 transactions: a batch and its marker each)").containsEntry(topic + "-0", 25L);

            evalAgreesWithTheNumpyReference(dirB.resolve(checkpoints(dirB).get(checkpoints(dirB).size() - 1)), runDir);
        }
    }

    /**
     * {@code ./millrace eval} on the checkpoint the service wrote: its mean loss over prepare's rows of a few lines of the
     * SFT sample is the loss the independent numpy model computes from the checkpoint's files for the same rows.
     */
    private static void evalAgreesWithTheNumpyReference(Path checkpoint, Path work) throws Exception {
        int evalT = 128;
        Path input = work.resolve("eval.jsonl");
        Files.write(input, new String(DemoExpectations.sample(Stage.SFT), StandardCharsets.UTF_8).lines().limit(6).toList(), StandardCharsets.UTF_8);
        ByteArrayOutputStream out = new ByteArrayOutputStream();
        ByteArrayOutputStream err = new ByteArrayOutputStream();
        int code;
        try (PrintStream o = new PrintStream(out, true, StandardCharsets.UTF_8); PrintStream e = new PrintStream(err, true, StandardCharsets.UTF_8)) {
            code = Millrace.run(new String[] {"eval", "--checkpoint", checkpoint.toString(), "--stage", "sft", "--input", input.toString(),
                    "--seq-len", String.valueOf(evalT)}, o, e);
        }
        assertThat(code).as(err.toString(StandardCharsets.UTF_8)).isZero();
        List<String> lines = out.toString(StandardCharsets.UTF_8).lines().toList();
        double evalLoss = JSON.readTree(lines.get(lines.size() - 1)).get("mean_loss").asDouble();

        EvalSet set;
        try (TokenizerFolder folder = TokenizerFolder.open(checkpoint)) {
            set = EvalSet.prepare(input, Stage.SFT, evalT, EvalSet.defaultPreparer(Stage.SFT, folder, evalT));
        }
        assertThat(set.rows()).as("rows to evaluate").isNotEmpty();
        Batch.Builder batch = Batch.newBuilder().setBatchId("eval").setStage(WireStage.SFT).setSeqLen(evalT);
        set.rows().forEach(row -> batch.addRows(RowCodec.toProto(row, List.of(), List.of())));
        int vocab;
        try (MiniMind model = Checkpoint.loadModel(checkpoint)) {
            vocab = model.config().vocabSize();
        }
        NumpyReference.Result reference = NumpyReference.run(checkpoint, batch.build(), work, vocab);
        System.err.printf(Locale.ROOT, "eval of the trained checkpoint: %.6f, numpy reference %.6f%n", evalLoss, reference.loss());
        assertThat(Math.abs(evalLoss - reference.loss())).as("eval %f vs numpy %f", evalLoss, reference.loss())
                .isLessThanOrEqualTo(1e-4 * Math.max(1, Math.abs(reference.loss())));
    }

    private static TrainerOptions trainer(Path dir) {
        return new TrainerOptions(Stage.SFT, dir).model("tiny").set("checkpoint-every-steps", CHECKPOINT_EVERY).set("keep-checkpoints", 50)
                .set("lr", 1e-3);
    }

    /** Random examples (a prompt part and a trained part) in unpacked batches of ROWS rows of T, ids sft-p0-00000000 on. */
    static List<Batch> batches(String fingerprint, int count) {
        Random random = new Random(count);
        List<Batch> out = new ArrayList<>();
        for (int b = 0; b < count; b++) {
            BatchAssembler assembler = new BatchAssembler(Stage.SFT, fingerprint, T, ROWS, 0);
            Batch open = null;
            for (int r = 0; r < ROWS; r++) {
                int length = 4 + random.nextInt(T - 4);
                int[] ids = new int[length];
                int[] mask = new int[length];
                for (int i = 0; i < length; i++) {
                    ids[i] = 3 + random.nextInt(4000);
                    mask[i] = i < length / 3 ? 0 : 1;
                }
                open = assembler.add(open, String.format("sft-p0-%08d", b), RowCodec.toProto(Row.fit(ids, mask, T, 0), List.of(), List.of()), 0);
            }
            out.add(assembler.close(open));
        }
        return out;
    }

    private static KafkaProducer<String, byte[]> transactionalProducer(String bootstrap) {
        Properties p = new Properties();
        p.put(ProducerConfig.BOOTSTRAP_SERVERS_CONFIG, bootstrap);
        p.put(ProducerConfig.ACKS_CONFIG, "all");
        p.put(ProducerConfig.TRANSACTIONAL_ID_CONFIG, "trainer-kill-test-" + UUID.randomUUID());
        KafkaProducer<String, byte[]> producer = new KafkaProducer<>(p, new StringSerializer(), new ByteArraySerializer());
        producer.initTransactions();
        return producer;
    }

    private static void send(KafkaProducer<String, byte[]> producer, String topic, Batch batch, boolean commit) throws Exception {
        producer.beginTransaction();
        producer.send(new ProducerRecord<>(topic, 0, batch.getBatchId(), batch.toByteArray())).get();
        if (commit) {
            producer.commitTransaction();
        } else {
            producer.abortTransaction();
        }
    }

    /** Waits until the step log holds {@code step}. */
    private static void awaitStep(Path dir, long step) throws Exception {
        long deadline = System.nanoTime() + TIMEOUT.toNanos();
        while (true) {
            if (Files.exists(dir.resolve("steps.jsonl")) && stepLog(dir).stream().anyMatch(n -> n.get("step").asLong() >= step)) {
                return;
            }
            assertThat(System.nanoTime()).as("step %d within %s", step, TIMEOUT).isLessThan(deadline);
            Thread.sleep(100);
        }
    }

    private static List<JsonNode> stepLog(Path dir) throws Exception {
        List<JsonNode> out = new ArrayList<>();
        for (String line : Files.readAllLines(dir.resolve("steps.jsonl"), StandardCharsets.UTF_8)) {
            if (!line.isBlank()) {
                out.add(JSON.readTree(line));
            }
        }
        return out;
    }

    /** The checkpoint directories, oldest first. */
    private static List<String> checkpoints(Path dir) throws Exception {
        try (Stream<Path> entries = Files.list(dir)) {
            return entries.map(p -> p.getFileName().toString()).filter(n -> n.startsWith("step-")).sorted().toList();
        }
    }

    /** The batch ids of a range ({@code <stage>-p<partition>-<sequence>}, consecutive sequences). */
    private static List<String> expand(BatchRanges.Range r) {
        String prefix = r.from().substring(0, r.from().lastIndexOf('-') + 1);
        long from = Long.parseLong(r.from().substring(prefix.length()));
        List<String> ids = new ArrayList<>();
        for (long i = 0; i < r.count(); i++) {
            ids.add(String.format("%s%08d", prefix, from + i));
        }
        return ids;
    }
}
