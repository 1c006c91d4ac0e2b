package dev.millrace.it;

import static org.assertj.core.api.Assertions.assertThat;
import static org.assertj.core.api.Assertions.fail;

import dev.millrace.cli.ingest.IngestClient;
import dev.millrace.cli.local.LocalSystem;
import dev.millrace.contract.PipelineService;
import dev.millrace.cli.ops.TopicScan;
import dev.millrace.core.json.LineReader;
import dev.millrace.core.record.Stage;
import java.io.ByteArrayInputStream;
import java.io.ByteArrayOutputStream;
import java.nio.charset.StandardCharsets;
import java.nio.file.Files;
import java.nio.file.Path;
import java.time.Duration;
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
import org.junit.jupiter.api.Test;

/**
 * Exactly once across a crash of the loss-mask service while it holds an open batch. The test
 * first observes that loss-mask has consumed the first records and committed its input offsets
 * past them while no batch exists yet (B is larger than what was sent and the linger is long), so
 * those records live only in its open-batch state. Then it kills loss-mask with SIGKILL, starts it
 * again, sends the rest, and finds every good record in exactly one batch row, equal to what
 * {@code ./millrace prepare} gives.
 */
class LossMaskKillTest {
    static final int T = 256;
    static final int B = 64;
    static final int FIRST_LINES = 40;
    static final String LOSS_MASK_GROUP = "millrace-loss-mask"; // its Kafka Streams application id
    static final Duration TIMEOUT = Duration.ofMinutes(4);

    @Test
    void everyGoodRecordIsInExactlyOneBatchRowAfterLossMaskIsKilledWithAnOpenBatch() throws Exception {
        byte[] sample = EndToEndTest.sample();
        List<byte[]> lines = splitLines(sample);
        byte[] first = join(lines.subList(0, FIRST_LINES));
        byte[] rest = join(lines.subList(FIRST_LINES, lines.size()));
        Expectations all = Expectations.of(sample, T);
        Set<String> firstIds = Expectations.of(first, T).acceptedIds();
        assertThat(firstIds).as("records of the first part").hasSizeBetween(10, B - 1);

        Path root = Repo.packagedRoot();
        Path target = Files.createDirectories(root.resolve("services/it/target"));
        // A linger far longer than the test: until the kill, only a full batch could be sent, and B is more than the first part.
        try (LocalSystem system = LocalSystem.start(root, PipelineChecks.quickFailover(new LocalSystem.Options().seqLen(T).batchSize(B)
                .batchLingerMs(Duration.ofHours(1).toMillis()).runDir(Files.createTempDirectory(target, "kill-loss-mask-")).progress(System.err)))) {
            IngestClient ingest = new IngestClient(system.ingestUri());
            assertThat(ingest.post(Stage.SFT, first).accepted()).isEqualTo(Expectations.of(first, T).acceptedLines());

            String tokenized = system.topics().tokenized(Stage.SFT);
            String batches = system.topics().batches(Stage.SFT);
            boolean observed = false;
            long deadline = System.nanoTime() + TIMEOUT.toNanos();
            try (Admin admin = Admin.create(Map.of(AdminClientConfig.BOOTSTRAP_SERVERS_CONFIG, system.bootstrapServers()));
                 TopicScan scan = new TopicScan(system.bootstrapServers())) {
                while (!observed) {
                    if (System.nanoTime() > deadline) {
                        fail("loss-mask did not consume and commit the first %d records within %s; logs in %s", firstIds.size(), TIMEOUT, system.logDir());
                    }
                    Thread.sleep(250);
                    Set<String> ids = new HashSet<>();
                    Map<TopicPartition, Long> lastData = new HashMap<>();
                    scan.readAll(tokenized, r -> {
                        ids.add(new String(r.key(), StandardCharsets.UTF_8));
                        lastData.merge(new TopicPartition(r.topic(), r.partition()), r.offset(), Math::max);
                    });
                    if (!ids.containsAll(firstIds)) {
                        continue;
                    }
                    Map<TopicPartition, OffsetAndMetadata> committed = admin.listConsumerGroupOffsets(LOSS_MASK_GROUP)
                            .partitionsToOffsetAndMetadata().get(30, TimeUnit.SECONDS);
                    boolean consumedAll = lastData.entrySet().stream().allMatch(e -> committed.containsKey(e.getKey())
                            && committed.get(e.getKey()).offset() > e.getValue());
                    if (!consumedAll) {
                        continue;
                    }
                    long batchCount = scan.readAll(batches, r -> { });
                    assertThat(batchCount).as("batches before the kill: B=%d is more than the %d records sent and the linger is an hour", B, firstIds.size())
                            .isZero();
                    observed = true;
                    System.err.printf("observed: loss-mask committed %s past the last tokenized records %s; no batch yet%n", committed, lastData);
                }
            }
            assertThat(observed).as("loss-mask had consumed and committed the first records, with no batch sent").isTrue();

            int status = ServiceFaults.kill(system, PipelineService.LOSS_MASK);
            assertThat(status).as("exit status of a process killed by SIGKILL (128 + 9)").isEqualTo(137);
            ServiceFaults.restart(system, PipelineService.LOSS_MASK, Map.of("millrace.batch-linger-ms", "1000"));

            IngestClient.Answer answer = ingest.post(Stage.SFT, rest);
            assertThat(answer.status()).isIn(200, 422);

            PipelineChecks.Output output = PipelineChecks.await(system, Stage.SFT, all.acceptedIds(), TIMEOUT);
            PipelineChecks.assertEveryGoodRecordInExactlyOneRow(all, output.batches(), T);
            PipelineChecks.assertEveryDownstreamRejectIsOneDeadLetter(all, output.deadLetters());
            assertThat(system.deadServices()).as("processes that exited on their own").isEmpty();
        }
    }

    /** The lines of a body as bytes (one sample line is deliberately not UTF-8). */
    static List<byte[]> splitLines(byte[] body) {
        List<byte[]> lines = new java.util.ArrayList<>();
        LineReader reader = new LineReader(new ByteArrayInputStream(body));
        while (reader.hasNext()) {
            lines.add(reader.next().bytes());
        }
        return lines;
    }

    static byte[] join(List<byte[]> lines) {
        ByteArrayOutputStream out = new ByteArrayOutputStream();
        for (byte[] line : lines) {
            out.writeBytes(line);
            out.write('\n');
        }
        return out.toByteArray();
    }
}
