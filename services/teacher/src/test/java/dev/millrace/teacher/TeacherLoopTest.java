package dev.millrace.teacher;

import static org.assertj.core.api.Assertions.assertThat;

import dev.millrace.contract.Topics;
import dev.millrace.core.chat.Conversation;
import dev.millrace.core.record.Stage;
import dev.millrace.kafkalocal.LocalKafka;
import dev.millrace.proto.v1.DeadLetter;
import dev.millrace.proto.v1.RawRecord;
import dev.millrace.training.generate.ChatModel;
import dev.millrace.training.generate.Generator;
import java.nio.file.Path;
import java.time.Duration;
import java.util.ArrayList;
import java.util.List;
import java.util.Map;
import java.util.Properties;
import java.util.concurrent.atomic.AtomicReference;
import org.apache.kafka.clients.consumer.ConsumerConfig;
import org.apache.kafka.clients.consumer.ConsumerRecord;
import org.apache.kafka.clients.consumer.KafkaConsumer;
import org.apache.kafka.clients.producer.KafkaProducer;
import org.apache.kafka.clients.producer.ProducerConfig;
import org.apache.kafka.clients.producer.ProducerRecord;
import org.apache.kafka.common.KafkaException;
import org.apache.kafka.common.TopicPartition;
import org.apache.kafka.common.serialization.ByteArrayDeserializer;
import org.apache.kafka.common.serialization.ByteArraySerializer;
import org.apache.kafka.common.serialization.StringDeserializer;
import org.apache.kafka.common.serialization.StringSerializer;
import org.junit.jupiter.api.AfterAll;
import org.junit.jupiter.api.BeforeAll;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;

/** The consume-answer-produce loop over a real broker (in-process): what it commits, and a zombie fenced by its successor. */
class TeacherLoopTest {
    static final Duration TIMEOUT = Duration.ofMinutes(2);

    @TempDir
    static Path dir;
    static LocalKafka kafka;
    static ChatModel chat;

    @BeforeAll
    static void start() throws Exception {
        kafka = LocalKafka.start(dir.resolve("kafka"));
        chat = ChatModel.open(PromptAnswererTest.tinyCheckpoint(dir.resolve("checkpoints"), 9));
    }

    @AfterAll
    static void stop() {
        if (chat != null) {
            chat.close();
        }
        if (kafka != null) {
            kafka.close();
        }
    }

    private static Topics topics(String prefix) {
        Topics topics = new Topics(prefix);
        kafka.createTopics(1, topics.distillPrompts(), topics.raw(Stage.DISTILL), topics.dlq());
        return topics;
    }

    private static TeacherLoop loop(Topics topics, String instanceId, int commitEvery, Duration interval, OnMaxNewTokens policy) {
        PromptAnswerer answerer = new PromptAnswerer(chat, new PromptAnswerer.Settings(2, 1.0, 0.9, policy, 2048));
        Map<String, Object> clients = Map.of("bootstrap.servers", kafka.bootstrapServers(), "group.id", "teacher-" + topics.prefix(),
                "session.timeout.ms", "6000");
        return new TeacherLoop(new TeacherLoop.Settings(topics, instanceId, commitEvery, interval, clients), answerer, new TeacherLoop.Listener() {
            @Override
            public void promptIn() {
            }

            @Override
            public void outcome(PromptAnswerer.Outcome outcome) {
            }

            @Override
            public void committed(int prompts) {
            }

            @Override
            public void aborted() {
            }
        });
    }

    /** Runs a loop on a thread of its own; what it ended with lands in {@code failure}. */
    private static Thread run(TeacherLoop loop, AtomicReference<Throwable> failure) {
        Thread t = new Thread(() -> {
            try (loop) {
                loop.run();
            } catch (Throwable e) {
                failure.set(e);
            }
        });
        t.start();
        return t;
    }

    @Test
    void answersAndDeadLettersAreCommittedTogetherAndUnderDropACutAnswerIsADeadLetter() throws Exception {
        Topics topics = topics("drop");
        List<RawRecord> prompts = new ArrayList<>();
        int cut = 0; // answers that reach max-new-tokens, as the model gives them in this JVM
        for (int i = 0; i < 5; i++) {
            Conversation question = PromptAnswererTest.question("Drop question " + i + "?");
            RawRecord prompt = PromptAnswererTest.prompt(question);
            prompts.add(prompt);
            cut += chat.answer(question, chat.settings(2, 1.0, 0.9), Generator.seedOf(prompt.getRecordId())).stoppedByItself() ? 0 : 1;
        }
        send(topics.distillPrompts(), prompts);
        send(topics.distillPrompts(), List.of(new byte[] {(byte) 0xff, (byte) 0xff}));

        AtomicReference<Throwable> failure = new AtomicReference<>();
        TeacherLoop loop = loop(topics, "drop-0", 2, Duration.ofMillis(300), OnMaxNewTokens.DROP);
        Thread thread = run(loop, failure);
        List<ConsumerRecord<String, byte[]>> letters = awaitCount(topics.dlq(), "read_committed", cut + 1);
        List<ConsumerRecord<String, byte[]>> answers = awaitCount(topics.raw(Stage.DISTILL), "read_committed", prompts.size() - cut);
        loop.stop();
        thread.join(TIMEOUT.toMillis());
        assertThat(thread.isAlive()).isFalse();
        assertThat(failure.get()).isNull();

        List<String> reasons = new ArrayList<>();
        for (ConsumerRecord<String, byte[]> r : letters) {
            DeadLetter letter = DeadLetter.parseFrom(r.value());
            reasons.add(letter.getReason());
            assertThat(letter.getService()).isEqualTo("teacher");
            assertThat(letter.getInput().getTopic()).isEqualTo(topics.distillPrompts());
        }
        assertThat(reasons).containsOnly("TEACHER_MAX_NEW_TOKENS", "MALFORMED_MESSAGE").filteredOn("MALFORMED_MESSAGE"::equals).hasSize(1);
        assertThat(reasons).filteredOn("TEACHER_MAX_NEW_TOKENS"::equals).hasSize(cut);
        assertThat(cut).as("a random tiny model rarely ends its turn within two tokens").isPositive();
        for (ConsumerRecord<String, byte[]> r : answers) {
            assertThat(RawRecord.parseFrom(r.value()).getTeacherId()).isEqualTo(chat.id());
        }
        assertThat(committedOffset(topics, "teacher-drop")).as("the group's offset: after every prompt").isEqualTo(prompts.size() + 1L);
    }

    @Test
    void aSecondInstanceWithTheSameIdFencesTheFirstAndEveryPromptIsAnsweredOnce() throws Exception {
        Topics topics = topics("fence");
        List<RawRecord> prompts = new ArrayList<>();
        for (int i = 0; i < 6; i++) {
            prompts.add(PromptAnswererTest.prompt(PromptAnswererTest.question("Fence question " + i + "?")));
        }
        send(topics.distillPrompts(), prompts.subList(0, 3));

        // The zombie: answers the first three and keeps them in an open transaction.
        AtomicReference<Throwable> zombieFailure = new AtomicReference<>();
        TeacherLoop zombie = loop(topics, "fence-0", 100, Duration.ofHours(1), OnMaxNewTokens.CLOSE);
        Thread zombieThread = run(zombie, zombieFailure);
        awaitCount(topics.raw(Stage.DISTILL), "read_uncommitted", 3);
        assertThat(read(topics.raw(Stage.DISTILL), "read_committed")).isEmpty();

        // Its successor, same instance id: the zombie's transaction is aborted, the zombie fenced; everything answered once.
        AtomicReference<Throwable> failure = new AtomicReference<>();
        TeacherLoop successor = loop(topics, "fence-0", 100, Duration.ofMillis(300), OnMaxNewTokens.CLOSE);
        Thread thread = run(successor, failure);
        send(topics.distillPrompts(), prompts.subList(3, 6));
        List<ConsumerRecord<String, byte[]>> answers = awaitCount(topics.raw(Stage.DISTILL), "read_committed", prompts.size());
        zombieThread.join(TIMEOUT.toMillis());
        assertThat(zombieThread.isAlive()).as("the zombie ended").isFalse();
        assertThat(zombieFailure.get()).as("the zombie was fenced").isInstanceOf(KafkaException.class);
        successor.stop();
        thread.join(TIMEOUT.toMillis());
        assertThat(failure.get()).isNull();

        assertThat(answers.stream().map(ConsumerRecord::key).distinct()).hasSize(prompts.size());
        // In the log: the six, and the zombie's aborted answers (its three, and any of the rest it read before it was fenced),
        // each the same bytes as the committed answer to its prompt.
        List<ConsumerRecord<String, byte[]>> everything = read(topics.raw(Stage.DISTILL), "read_uncommitted");
        assertThat(everything).hasSizeGreaterThanOrEqualTo(prompts.size() + 3);
        Map<String, byte[]> committed = new java.util.HashMap<>();
        answers.forEach(r -> committed.put(r.key(), r.value()));
        for (ConsumerRecord<String, byte[]> r : everything) {
            assertThat(r.value()).as("a version of answer %s", r.key()).isEqualTo(committed.get(r.key()));
        }
    }

    private static void send(String topic, List<?> values) throws Exception {
        Properties p = new Properties();
        p.put(ProducerConfig.BOOTSTRAP_SERVERS_CONFIG, kafka.bootstrapServers());
        try (KafkaProducer<String, byte[]> producer = new KafkaProducer<>(p, new StringSerializer(), new ByteArraySerializer())) {
            for (Object v : values) {
                byte[] bytes = v instanceof RawRecord r ? r.toByteArray() : (byte[]) v;
                String key = v instanceof RawRecord r ? r.getRecordId() : null;
                producer.send(new ProducerRecord<>(topic, key, bytes)).get();
            }
        }
    }

    private static long committedOffset(Topics topics, String group) throws Exception {
        var offsets = kafka.admin().listConsumerGroupOffsets(group).partitionsToOffsetAndMetadata().get();
        return offsets.get(new TopicPartition(topics.distillPrompts(), 0)).offset();
    }

    private static List<ConsumerRecord<String, byte[]>> awaitCount(String topic, String isolation, int count) throws Exception {
        long deadline = System.nanoTime() + TIMEOUT.toNanos();
        while (true) {
            List<ConsumerRecord<String, byte[]>> records = read(topic, isolation);
            assertThat(records.size()).as("%s (%s) holds no more than %d", topic, isolation, count).isLessThanOrEqualTo(count);
            if (records.size() == count) {
                return records;
            }
            assertThat(System.nanoTime()).as("%d records on %s within %s", count, topic, TIMEOUT).isLessThan(deadline);
            Thread.sleep(100);
        }
    }

    private static List<ConsumerRecord<String, byte[]>> read(String topic, String isolation) {
        Properties props = new Properties();
        props.put(ConsumerConfig.BOOTSTRAP_SERVERS_CONFIG, kafka.bootstrapServers());
        props.put(ConsumerConfig.ISOLATION_LEVEL_CONFIG, isolation);
        props.put(ConsumerConfig.ENABLE_AUTO_COMMIT_CONFIG, "false");
        try (KafkaConsumer<String, byte[]> consumer = new KafkaConsumer<>(props, new StringDeserializer(), new ByteArrayDeserializer())) {
            TopicPartition tp = new TopicPartition(topic, 0);
            consumer.assign(List.of(tp));
            consumer.seekToBeginning(List.of(tp));
            long end = consumer.endOffsets(List.of(tp)).get(tp);
            List<ConsumerRecord<String, byte[]>> out = new ArrayList<>();
            while (consumer.position(tp) < end) {
                consumer.poll(Duration.ofMillis(100)).forEach(out::add);
            }
            return out;
        }
    }
}
