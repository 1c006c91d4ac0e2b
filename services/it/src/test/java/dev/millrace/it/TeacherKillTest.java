package dev.millrace.it;

import static org.assertj.core.api.Assertions.assertThat;

import com.fasterxml.jackson.databind.JsonNode;
import com.fasterxml.jackson.databind.ObjectMapper;
import dev.millrace.cli.local.LocalSystem;
import dev.millrace.cli.local.ManagedProcess;
import dev.millrace.cli.local.TeacherOptions;
import dev.millrace.contract.PipelineService;
import dev.millrace.contract.Topics;
import dev.millrace.core.chat.Conversation;
import dev.millrace.core.record.RecordId;
import dev.millrace.core.record.Stage;
import dev.millrace.core.tokenizer.TokenizerFolder;
import dev.millrace.proto.v1.RawRecord;
import dev.millrace.proto.v1.Source;
import dev.millrace.proto.v1.WireStage;
import dev.millrace.training.checkpoint.Checkpoint;
import dev.millrace.training.checkpoint.CheckpointHash;
import dev.millrace.training.checkpoint.CheckpointStore;
import dev.millrace.training.checkpoint.TrainerState;
import dev.millrace.training.model.MiniMind;
import dev.millrace.training.model.ModelConfig;
import dev.millrace.training.train.AdamW;
import java.nio.file.Files;
import java.nio.file.Path;
import java.time.Duration;
import java.util.ArrayList;
import java.util.EnumSet;
import java.util.HashMap;
import java.util.LinkedHashMap;
import java.util.List;
import java.util.Map;
import java.util.Properties;
import java.util.Set;
import java.util.TreeMap;
import java.util.concurrent.TimeUnit;
import org.apache.kafka.clients.admin.Admin;
import org.apache.kafka.clients.admin.AdminClientConfig;
import org.apache.kafka.clients.admin.NewTopic;
import org.apache.kafka.clients.consumer.ConsumerConfig;
import org.apache.kafka.clients.consumer.ConsumerRecord;
import org.apache.kafka.clients.consumer.KafkaConsumer;
import org.apache.kafka.clients.producer.KafkaProducer;
import org.apache.kafka.clients.producer.ProducerConfig;
import org.apache.kafka.clients.producer.ProducerRecord;
import org.apache.kafka.common.PartitionInfo;
import org.apache.kafka.common.TopicPartition;
import org.apache.kafka.common.serialization.ByteArrayDeserializer;
import org.apache.kafka.common.serialization.ByteArraySerializer;
import org.apache.kafka.common.serialization.StringDeserializer;
import org.apache.kafka.common.serialization.StringSerializer;
import org.junit.jupiter.api.Test;

/**
 * Exactly-once answering across a SIGKILL of the packaged teacher service, over the real broker. Twenty distill
 * prompts, as ingest writes them, are answered by a tiny checkpoint (sampling at temperature 0.9, 24 new tokens,
 * answers closed at the limit). Teacher A answers a copy of them uninterrupted (its own topic prefix, group and
 * instance id). Teacher B reads them in the reverse order (so at other offsets: each answer's seed is its prompt's
 * record id) and commits a transaction every five prompts: once it has answered the first eight, five
 * answers are committed and three lie in its open transaction, a state that lasts (its commit interval is an hour),
 * and B is killed there (exit 137). The other twelve prompts arrive, B starts again on the same instance id, and
 * {@code distill.raw} ({@code read_committed}) then holds exactly one answer per prompt, each byte for byte A's
 * answer to the same prompt but for its source (the prompt's topic); the three answers of the killed transaction
 * are in the log, aborted, and were written again identically.
 */
class TeacherKillTest {
    static final String PREFIX = "teacherkill";
    static final String REFERENCE_PREFIX = "teacherref";
    static final int FIRST = 8;
    static final int SECOND = 12;
    static final int COMMIT_EVERY = 5;
    static final Duration TIMEOUT = Duration.ofMinutes(3);
    private static final ObjectMapper JSON = new ObjectMapper();

    @Test
    void aKilledTeacherLeavesExactlyOneAnswerPerPromptEachTheAnswerOfAnUninterruptedRun() throws Exception {
        Path root = Repo.packagedRoot();
        Path target = Files.createDirectories(root.resolve("services/it/target"));
        Path runDir = Files.createTempDirectory(target, "kill-teacher-");
        Path checkpoint = tinyCheckpoint(runDir.resolve("checkpoints"));
        String teacherId = CheckpointHash.of(checkpoint);
        List<RawRecord> prompts = prompts(FIRST + SECOND);
        Topics topics = new Topics(PREFIX);
        Topics reference = new Topics(REFERENCE_PREFIX);

        try (LocalSystem system = LocalSystem.start(root, new LocalSystem.Options().stages(List.of(Stage.DISTILL)).topicPrefix(PREFIX)
                .services(EnumSet.noneOf(PipelineService.class)).runDir(runDir).progress(System.err)
                // One libtorch thread in every teacher: runs A and B compute every token identically.
                .property("ai.djl.pytorch.num_threads", "1").property("ai.djl.pytorch.num_interop_threads", "1"));
             Admin admin = Admin.create(Map.of(AdminClientConfig.BOOTSTRAP_SERVERS_CONFIG, system.bootstrapServers()));
             KafkaProducer<String, byte[]> producer = producer(system.bootstrapServers())) {
            admin.createTopics(List.of(new NewTopic(reference.distillPrompts(), 2, (short) 1), new NewTopic(reference.raw(Stage.DISTILL), 2, (short) 1),
                    new NewTopic(reference.dlq(), 2, (short) 1))).all().get(30, TimeUnit.SECONDS);

            // A: every prompt, uninterrupted, on its own prefix, group and instance id; then stopped (SIGTERM).
            send(producer, reference.distillPrompts(), prompts);
            system.startTeacher(teacher(checkpoint), Map.of("millrace.topic-prefix", REFERENCE_PREFIX, "millrace.teacher.instance-id", "teacher-ref-0",
                    "kafka.group.id", "teacher-ref", "millrace.teacher.commit-interval", "500ms"));
            List<ConsumerRecord<String, byte[]>> answersA = awaitCount(system, reference.raw(Stage.DISTILL), "read_committed", FIRST + SECOND);
            assertThat(system.teacher().process().stop(Duration.ofSeconds(30))).as("teacher A stops on SIGTERM").isTrue();

            // B: the prompts in the reverse order, so each lies at another offset than A's (its seed is its record id's).
            List<RawRecord> forB = new ArrayList<>(prompts);
            java.util.Collections.reverse(forB);
            // The first part: five answers committed, three in the open transaction; killed there.
            send(producer, topics.distillPrompts(), forB.subList(0, FIRST));
            system.startTeacher(teacher(checkpoint).set("commit-every-prompts", COMMIT_EVERY).set("commit-interval", "1h"), Map.of());
            awaitCount(system, topics.raw(Stage.DISTILL), "read_committed", COMMIT_EVERY);
            awaitCount(system, topics.raw(Stage.DISTILL), "read_uncommitted", FIRST);
            ManagedProcess killed = system.teacher().process();
            ProcessHandle.of(killed.pid()).ifPresent(ProcessHandle::destroyForcibly);
            assertThat(killed.awaitExit(Duration.ofSeconds(30))).as("the teacher ended after SIGKILL").isTrue();
            assertThat(killed.exitValue()).isEqualTo(137);
            assertThat(read(system, topics.raw(Stage.DISTILL), "read_committed")).as("committed at the kill: the first transaction").hasSize(COMMIT_EVERY);

            // The rest arrives; B starts again on the same instance id (it fences the killed one and aborts its transaction).
            send(producer, topics.distillPrompts(), forB.subList(FIRST, FIRST + SECOND));
            system.startTeacher(teacher(checkpoint).set("commit-every-prompts", COMMIT_EVERY).set("commit-interval", "500ms"), Map.of());
            List<ConsumerRecord<String, byte[]>> answersB = awaitCount(system, topics.raw(Stage.DISTILL), "read_committed", FIRST + SECOND);
            assertThat(system.deadServices()).as("the restarted teacher runs").isEmpty();

            Map<String, RawRecord> byPromptA = byPrompt(system.bootstrapServers(), answersA, reference, prompts);
            Map<String, RawRecord> byPromptB = byPrompt(system.bootstrapServers(), answersB, topics, prompts);
            assertThat(byPromptB.keySet()).as("one answer per prompt").containsExactlyInAnyOrderElementsOf(byPromptA.keySet())
                    .hasSize(FIRST + SECOND);
            for (RawRecord prompt : prompts) {
                RawRecord a = byPromptA.get(prompt.getRecordId());
                RawRecord b = byPromptB.get(prompt.getRecordId());
                assertThat(b.toBuilder().clearSource().build().toByteArray()).as("B's answer to %s, byte for byte A's but for its source",
                        prompt.getRecordId()).isEqualTo(a.toBuilder().clearSource().build().toByteArray());
                assertThat(b.getTeacherId()).isEqualTo(teacherId);
                assertThat(b.getStage()).isEqualTo(WireStage.DISTILL);
                assertThat(b.getNormalisedJson()).startsWith(prompt.getNormalisedJson().substring(0, prompt.getNormalisedJson().length() - 2));
            }
            Set<String> answerTexts = new java.util.HashSet<>();
            for (RawRecord a : byPromptA.values()) {
                JsonNode messages = JSON.readTree(a.getNormalisedJson()).get("messages");
                answerTexts.add(messages.get(messages.size() - 1).get("content").asText());
            }
            assertThat(answerTexts).as("sampled answers, seeded per prompt, differ").hasSizeGreaterThan(1);

            // The killed transaction's three answers are in the log, aborted; the restarted teacher wrote them again, identically.
            List<ConsumerRecord<String, byte[]>> everything = read(system, topics.raw(Stage.DISTILL), "read_uncommitted");
            assertThat(everything).hasSize(FIRST + SECOND + (FIRST - COMMIT_EVERY));
            Map<String, Set<String>> versions = new TreeMap<>();
            for (ConsumerRecord<String, byte[]> r : everything) {
                versions.computeIfAbsent(r.key(), k -> new java.util.HashSet<>()).add(RawRecord.parseFrom(r.value()).toString());
            }
            assertThat(versions).as("every answer id, written once or twice, always the same record").hasSize(FIRST + SECOND)
                    .allSatisfy((id, v) -> assertThat(v).hasSize(1));
            assertThat(read(system, topics.dlq(), "read_committed")).as("no prompt was dead-lettered").isEmpty();
        }
    }

    private static TeacherOptions teacher(Path checkpoint) {
        return new TeacherOptions(checkpoint).maxNewTokens(24).sampling(0.9, 0.9).onMaxNewTokens("close");
    }

    /** A tiny model of random weights over the bundled tokenizer, written as the trainer writes checkpoints. */
    private static Path tinyCheckpoint(Path dir) throws Exception {
        try (TokenizerFolder bundled = TokenizerFolder.bundled();
                MiniMind model = MiniMind.initialise(ModelConfig.preset("tiny", bundled), 11);
                AdamW adamw = new AdamW(AdamW.Settings.defaults(), model.weights())) {
            TrainerState state = new TrainerState(0, 0, "dpo", bundled.fingerprint(), "tiny", Map.of(), List.of(), 0, 0, null);
            return new CheckpointStore(dir, 1).write(0, d -> Checkpoint.write(d, model, adamw, state, bundled.path()));
        }
    }

    /** Distill prompts as ingest writes them to {@code distill.prompts}: a conversation ending in a user turn, keyed by its id. */
    private static List<RawRecord> prompts(int count) {
        List<RawRecord> out = new ArrayList<>();
        for (int i = 0; i < count; i++) {
            List<Map<String, Object>> messages = new ArrayList<>();
            if (i % 3 == 0) {
                messages.add(Map.of("role", "system", "content", "Answer in one sentence."));
            }
            messages.add(Map.of("role", "user", "content", "Question " + i + ": what does a mill race carry?"));
            Map<String, Object> normalised = new Conversation(messages, null).normalised();
            out.add(RawRecord.newBuilder().setRecordId(RecordId.of(Stage.DISTILL, normalised)).setStage(WireStage.DISTILL).setFormat("openai")
                    .setNormalisedJson(RecordId.canonicalJson(normalised))
                    .setSource(Source.newBuilder().setKind("http").setName("teacher-kill-test").setLine(i + 1)).setIngestedAtMs(1_700_000_000_000L + i)
                    .build());
        }
        return out;
    }

    private static KafkaProducer<String, byte[]> producer(String bootstrap) {
        Properties p = new Properties();
        p.put(ProducerConfig.BOOTSTRAP_SERVERS_CONFIG, bootstrap);
        p.put(ProducerConfig.ACKS_CONFIG, "all");
        p.put(ProducerConfig.ENABLE_IDEMPOTENCE_CONFIG, "true");
        return new KafkaProducer<>(p, new StringSerializer(), new ByteArraySerializer());
    }

    private static void send(KafkaProducer<String, byte[]> producer, String topic, List<RawRecord> records) throws Exception {
        for (RawRecord r : records) {
            producer.send(new ProducerRecord<>(topic, r.getRecordId(), r.toByteArray())).get();
        }
    }

    /** The answers by the id of the prompt they answer (found through their source: the prompt's partition and offset). */
    private static Map<String, RawRecord> byPrompt(String bootstrap, List<ConsumerRecord<String, byte[]>> answers, Topics topics, List<RawRecord> prompts)
            throws Exception {
        Map<String, String> promptIdAt = new HashMap<>();
        for (ConsumerRecord<String, byte[]> p : readAll(bootstrap, topics.distillPrompts(), "read_committed")) {
            promptIdAt.put(p.topic() + "-" + p.partition() + "@" + p.offset(), RawRecord.parseFrom(p.value()).getRecordId());
        }
        Map<String, RawRecord> out = new LinkedHashMap<>();
        for (ConsumerRecord<String, byte[]> r : answers) {
            RawRecord answer = RawRecord.parseFrom(r.value());
            assertThat(r.key()).isEqualTo(answer.getRecordId());
            assertThat(answer.getSource().getKind()).isEqualTo("prompt");
            String promptId = promptIdAt.get(answer.getSource().getName() + "@" + answer.getSource().getLine());
            assertThat(promptId).as("the prompt at %s@%d", answer.getSource().getName(), answer.getSource().getLine()).isNotNull();
            assertThat(out.put(promptId, answer)).as("a second answer to prompt %s", promptId).isNull();
        }
        assertThat(out.keySet()).isSubsetOf(prompts.stream().map(RawRecord::getRecordId).toList());
        return out;
    }

    /** Waits until {@code topic} holds {@code count} records at the isolation level, and returns them; more fails. */
    private static List<ConsumerRecord<String, byte[]>> awaitCount(LocalSystem system, String topic, String isolation, int count) throws Exception {
        long deadline = System.nanoTime() + TIMEOUT.toNanos();
        while (true) {
            List<ConsumerRecord<String, byte[]>> records = read(system, topic, isolation);
            assertThat(records.size()).as("%s (%s) holds no more than %d records", topic, isolation, count).isLessThanOrEqualTo(count);
            if (records.size() == count) {
                return records;
            }
            assertThat(system.deadServices()).as("processes that died; logs in %s", system.logDir()).isEmpty();
            assertThat(System.nanoTime()).as("%d records on %s (%s) within %s; teacher log %s", count, topic, isolation, TIMEOUT,
                    system.teacher().process().log()).isLessThan(deadline);
            Thread.sleep(200);
        }
    }

    private static List<ConsumerRecord<String, byte[]>> read(LocalSystem system, String topic, String isolation) {
        return readAll(system.bootstrapServers(), topic, isolation);
    }

    /** Every record of {@code topic} from its beginning to its end now (read_committed: to its last stable offset). */
    private static List<ConsumerRecord<String, byte[]>> readAll(String bootstrap, String topic, String isolation) {
        Properties props = new Properties();
        props.put(ConsumerConfig.BOOTSTRAP_SERVERS_CONFIG, bootstrap);
        props.put(ConsumerConfig.ISOLATION_LEVEL_CONFIG, isolation);
        props.put(ConsumerConfig.ENABLE_AUTO_COMMIT_CONFIG, "false");
        try (KafkaConsumer<String, byte[]> consumer = new KafkaConsumer<>(props, new StringDeserializer(), new ByteArrayDeserializer())) {
            List<TopicPartition> partitions = new ArrayList<>();
            for (PartitionInfo p : consumer.partitionsFor(topic, Duration.ofSeconds(30))) {
                partitions.add(new TopicPartition(topic, p.partition()));
            }
            consumer.assign(partitions);
            consumer.seekToBeginning(partitions);
            Map<TopicPartition, Long> end = consumer.endOffsets(partitions);
            List<ConsumerRecord<String, byte[]>> out = new ArrayList<>();
            long deadline = System.nanoTime() + Duration.ofSeconds(30).toNanos();
            while (partitions.stream().anyMatch(tp -> consumer.position(tp) < end.get(tp))) {
                consumer.poll(Duration.ofMillis(100)).forEach(out::add);
                assertThat(System.nanoTime()).as("reading %s to its end", topic).isLessThan(deadline);
            }
            return out;
        }
    }
}
