package dev.millrace.it;

import static org.assertj.core.api.Assertions.assertThat;
import static org.assertj.core.api.Assertions.fail;

import dev.millrace.cli.ingest.IngestClient;
import dev.millrace.cli.local.LocalSystem;
import dev.millrace.contract.PipelineService;
import com.google.protobuf.InvalidProtocolBufferException;
import dev.millrace.cli.ops.TopicScan;
import dev.millrace.core.record.Stage;
import dev.millrace.proto.v1.Batch;
import java.nio.charset.StandardCharsets;
import java.nio.file.Files;
import java.nio.file.Path;
import java.time.Duration;
import java.util.ArrayList;
import java.util.EnumSet;
import java.util.HashMap;
import java.util.HashSet;
import java.util.List;
import java.util.Map;
import java.util.Set;
import java.util.concurrent.TimeUnit;
import org.apache.kafka.clients.admin.Admin;
import org.apache.kafka.clients.admin.AdminClientConfig;
import org.apache.kafka.clients.consumer.OffsetAndMetadata;
import org.apache.kafka.common.TopicPartition;
import org.junit.jupiter.params.ParameterizedTest;
import org.junit.jupiter.params.provider.EnumSource;

/**
 * Exactly once across a crash in the middle of a stream, for chat-template and for loss-mask. The kill
 * point is a state of the system, not a moment: the input comes in three parts. The victim starts once
 * its input topic holds the first part (a backlog) and works through it; when its consumer group has
 * committed offsets past every record of its input, the first part's output is committed (observed
 * read_committed). The second part is then posted and, once the victim's input holds it, the victim is
 * killed with SIGKILL while it works on it (loss-mask also holds an open batch in its state store: its
 * linger is an hour until the kill); the third part, which also repeats records of the first, is posted
 * only after the restart. So at the kill
 * some output is committed and not all, on a machine of any speed. Every good record must end in
 * exactly one batch row, equal to what {@code ./millrace prepare} gives, and every record id must be on
 * the templated topic exactly once (read_committed): the killed transaction's output is invisible,
 * nothing was lost, nothing repeated.
 */
class MidStreamKillTest {
    static final int T = 128;
    static final int B = 16;
    static final int SYNTHETIC = 1200;
    static final int CHUNK = 50;
    static final int REPEATED = 20;
    static final Duration TIMEOUT = Duration.ofMinutes(5);

    @ParameterizedTest
    @EnumSource(value = PipelineService.class, names = {"CHAT_TEMPLATE", "LOSS_MASK"})
    void everyGoodRecordIsInExactlyOneBatchRowAfterAServiceIsKilledMidStream(PipelineService victim) throws Exception {
        List<byte[]> lines = lines();
        int firstEnd = lines.size() - SYNTHETIC / 2;
        int secondEnd = lines.size() - SYNTHETIC / 4;
        List<byte[]> first = lines.subList(0, firstEnd);
        List<byte[]> second = lines.subList(firstEnd, secondEnd);
        // The third part also repeats records of the first: chat-template must drop them with the duplicate store it restored.
        List<byte[]> third = new ArrayList<>(lines.subList(secondEnd, lines.size()));
        third.addAll(lines.subList(firstEnd - REPEATED, firstEnd));
        List<byte[]> all = new ArrayList<>(lines.subList(0, secondEnd));
        all.addAll(third);
        Expectations expected = Expectations.of(LossMaskKillTest.join(all), T);
        Set<String> ids = expected.acceptedIds();
        Expectations firstExpected = Expectations.of(LossMaskKillTest.join(first), T);
        Set<String> firstIds = firstExpected.acceptedIds();
        Expectations secondExpected = Expectations.of(LossMaskKillTest.join(second), T);

        Path root = Repo.packagedRoot();
        Path target = Files.createDirectories(root.resolve("services/it/target"));
        Set<PipelineService> others = EnumSet.allOf(PipelineService.class);
        others.remove(victim);
        try (LocalSystem system = LocalSystem.start(root, PipelineChecks.quickFailover(new LocalSystem.Options().seqLen(T).batchSize(B)
                .batchLingerMs(500).services(others).runDir(Files.createTempDirectory(target, "kill-" + victim.id() + "-")).progress(System.err)))) {
            IngestClient ingest = new IngestClient(system.ingestUri());
            String input = victim == PipelineService.CHAT_TEMPLATE ? system.topics().raw(Stage.SFT) : system.topics().tokenized(Stage.SFT);
            long deadline = System.nanoTime() + TIMEOUT.toNanos();
            long accepted = post(ingest, first, CHUNK);
            awaitOnTopic(system, input, firstIds, deadline);

            // Until the kill, loss-mask sends only full batches: what does not fill one lives only in its state store.
            system.startService(victim, victim == PipelineService.LOSS_MASK
                    ? Map.of("millrace.batch-linger-ms", String.valueOf(Duration.ofHours(1).toMillis())) : Map.of());
            awaitInputConsumed(system, victim, input, deadline);
            long firstOutput = produced(system, victim);
            if (victim == PipelineService.CHAT_TEMPLATE) {
                assertThat(PipelineChecks.keys(system.bootstrapServers(), system.topics().templated(Stage.SFT)))
                        .as("templated records once chat-template has consumed the first part").doesNotHaveDuplicates()
                        .containsExactlyInAnyOrderElementsOf(firstIds);
            } else {
                assertThat(firstOutput).as("records in batch rows once loss-mask has consumed the first part (%d good records, B=%d)",
                        firstExpected.goodById().size(), B).isBetween(1L, (long) firstExpected.goodById().size());
            }

            // One body: ingest answers once the raw topic holds all of it, so chat-template gets it at once and is killed
            // right then; loss-mask is killed once tokenize has delivered it, while loss-mask works on it.
            long secondAccepted = post(ingest, second, second.size());
            assertThat(secondAccepted).as("second part accepted").isEqualTo(secondExpected.acceptedLines());
            accepted += secondAccepted;
            if (victim == PipelineService.LOSS_MASK) {
                awaitOnTopic(system, input, secondExpected.acceptedIds(), deadline);
            }
            int status = ServiceFaults.kill(system, victim);
            long atKill = produced(system, victim);
            System.err.printf("%s killed (exit %d) with %d records' output committed: %d after the first part, %d records in all%n",
                    victim.id(), status, atKill, firstOutput, ids.size());
            assertThat(status).as("exit status of a process killed by SIGKILL (128 + 9)").isEqualTo(137);
            assertThat(atKill).as("records %s had committed output for when it was killed: the first part's, not the third's", victim.id())
                    .isBetween(firstOutput, ids.size() - 1L);
            ServiceFaults.restart(system, victim, Map.of());

            accepted += post(ingest, third, CHUNK);
            assertThat(accepted).isEqualTo(expected.acceptedLines());
            PipelineChecks.Output output = PipelineChecks.await(system, Stage.SFT, ids, TIMEOUT);
            PipelineChecks.assertEveryGoodRecordInExactlyOneRow(expected, output.batches(), T);
            PipelineChecks.assertEveryDownstreamRejectIsOneDeadLetter(expected, output.deadLetters());
            String templated = system.topics().templated(Stage.SFT);
            List<String> onTemplated = PipelineChecks.keys(system.bootstrapServers(), templated);
            assertThat(onTemplated).as("record ids on %s (read_committed)", templated).doesNotHaveDuplicates()
                    .containsExactlyInAnyOrderElementsOf(ids);
            assertThat(system.deadServices()).as("processes that exited on their own").isEmpty();
        }
    }

    /** Posts {@code lines} in bodies of {@code chunk} lines; returns how many ingest accepted. */
    private static long post(IngestClient ingest, List<byte[]> lines, int chunk) throws Exception {
        long accepted = 0;
        for (int from = 0; from < lines.size(); from += chunk) {
            accepted += ingest.post(Stage.SFT, LossMaskKillTest.join(lines.subList(from, Math.min(lines.size(), from + chunk)))).accepted();
        }
        return accepted;
    }

    private static void awaitOnTopic(LocalSystem system, String topic, Set<String> ids, long deadline) throws InterruptedException {
        while (!new HashSet<>(PipelineChecks.keys(system.bootstrapServers(), topic)).containsAll(ids)) {
            if (System.nanoTime() > deadline) {
                fail("%s did not receive every record within %s; logs in %s", topic, TIMEOUT, system.logDir());
            }
            Thread.sleep(250);
        }
    }

    /**
     * Waits until the service's consumer group (its Kafka Streams application id) has committed offsets
     * past the last record of every partition of its input: under exactly-once, the output for all of
     * it is committed with those offsets (or held in the service's state stores).
     */
    private static void awaitInputConsumed(LocalSystem system, PipelineService service, String input, long deadline) throws Exception {
        String group = "millrace-" + service.id();
        try (Admin admin = Admin.create(Map.of(AdminClientConfig.BOOTSTRAP_SERVERS_CONFIG, system.bootstrapServers()));
             TopicScan scan = new TopicScan(system.bootstrapServers())) {
            while (true) {
                Map<TopicPartition, Long> lastData = new HashMap<>();
                scan.readAll(input, r -> lastData.merge(new TopicPartition(r.topic(), r.partition()), r.offset(), Math::max));
                Map<TopicPartition, OffsetAndMetadata> committed = admin.listConsumerGroupOffsets(group)
                        .partitionsToOffsetAndMetadata().get(30, TimeUnit.SECONDS);
                if (lastData.entrySet().stream().allMatch(e -> committed.get(e.getKey()) != null && committed.get(e.getKey()).offset() > e.getValue())) {
                    System.err.printf("observed: %s committed %s past the last records of %s %s%n", group, committed, input, lastData);
                    return;
                }
                if (System.nanoTime() > deadline) {
                    fail("%s did not commit offsets past its input %s within %s (last records %s, committed %s); logs in %s",
                            group, input, TIMEOUT, lastData, committed, system.logDir());
                }
                Thread.sleep(250);
            }
        }
    }

    /** How many records the service has committed output for: templated records, or records in batch rows. */
    private static long produced(LocalSystem system, PipelineService service) {
        if (service == PipelineService.CHAT_TEMPLATE) {
            return PipelineChecks.keys(system.bootstrapServers(), system.topics().templated(Stage.SFT)).size();
        }
        long[] rows = {0};
        try (TopicScan scan = new TopicScan(system.bootstrapServers())) {
            scan.readAll(system.topics().batches(Stage.SFT), r -> {
                try {
                    rows[0] += Batch.parseFrom(r.value()).getRealRows();
                } catch (InvalidProtocolBufferException e) {
                    throw new AssertionError("not a batch on the batch topic", e);
                }
            });
        }
        return rows[0];
    }

    /** The bundled sample, then short synthetic conversations, one per line. */
    static List<byte[]> lines() throws Exception {
        List<byte[]> lines = new ArrayList<>(LossMaskKillTest.splitLines(EndToEndTest.sample()));
        for (int i = 0; i < SYNTHETIC; i++) {
            lines.add(String.format("{\"messages\": [{\"role\": \"user\", \"content\": \"Exactly-once check %d: what is %d plus %d?\"},"
                    + " {\"role\": \"assistant\", \"content\": \"%d plus %d is %d.\"}]}", i, i, i + 1, i, i + 1, 2 * i + 1)
                    .getBytes(StandardCharsets.UTF_8));
        }
        return lines;
    }
}
