package dev.millrace.it;

import static org.assertj.core.api.Assertions.assertThat;
import static org.assertj.core.api.Assertions.fail;

import dev.millrace.cli.local.IngestClient;
import dev.millrace.cli.local.LocalSystem;
import dev.millrace.cli.local.LocalSystem.Service;
import com.google.protobuf.InvalidProtocolBufferException;
import dev.millrace.cli.ops.TopicScan;
import dev.millrace.core.record.Stage;
import dev.millrace.proto.v1.Batch;
import java.io.ByteArrayOutputStream;
import java.nio.charset.StandardCharsets;
import java.nio.file.Files;
import java.nio.file.Path;
import java.time.Duration;
import java.util.ArrayList;
import java.util.List;
import java.util.Map;
import java.util.Set;
import java.util.concurrent.CompletableFuture;
import java.util.concurrent.TimeUnit;
import org.junit.jupiter.params.ParameterizedTest;
import org.junit.jupiter.params.provider.EnumSource;

/**
 * Exactly once across a crash in the middle of a stream, for chat-template and for loss-mask: records
 * are posted in chunks while the test watches the service's output topic; as soon as the service
 * has committed some output (and not all of it), it is killed with SIGKILL and started again. Every
 * good record must end in exactly one batch row, equal to what {@code ./millrace prepare} gives, and
 * every record id must be on the templated topic exactly once (read_committed): the killed
 * transaction's output is invisible, nothing was lost, nothing repeated.
 */
class MidStreamKillTest {
    static final int T = 128;
    static final int B = 16;
    static final int SYNTHETIC = 1200;
    static final int CHUNK = 50;
    static final Duration TIMEOUT = Duration.ofMinutes(5);

    @ParameterizedTest
    @EnumSource(value = Service.class, names = {"CHAT_TEMPLATE", "LOSS_MASK"})
    void everyGoodRecordIsInExactlyOneBatchRowAfterAServiceIsKilledMidStream(Service victim) throws Exception {
        List<byte[]> chunks = chunks();
        ByteArrayOutputStream all = new ByteArrayOutputStream();
        chunks.forEach(all::writeBytes);
        Expectations expected = Expectations.of(all.toByteArray(), T);
        Set<String> ids = expected.acceptedIds();

        Path root = Repo.packagedRoot();
        Path target = Files.createDirectories(root.resolve("services/it/target"));
        try (LocalSystem system = LocalSystem.start(root, new LocalSystem.Options().seqLen(T).batchSize(B).batchLingerMs(500)
                .runDir(Files.createTempDirectory(target, "kill-" + victim.id() + "-")).progress(System.err))) {
            IngestClient ingest = new IngestClient(system.ingestUri());
            String templated = system.topics().templated(Stage.SFT);
                        // Chunks are posted one after the other while the main thread watches the templated topic.
            CompletableFuture<List<IngestClient.Answer>> posting = CompletableFuture.supplyAsync(() -> {
                List<IngestClient.Answer> answers = new ArrayList<>();
                for (byte[] chunk : chunks) {
                    answers.add(ingest.post("sft", chunk));
                }
                return answers;
            });

            long deadline = System.nanoTime() + TIMEOUT.toNanos();
            long before;
            while (true) {
                before = produced(system, victim);
                if (before > 0) {
                    break;
                }
                if (System.nanoTime() > deadline || posting.isCompletedExceptionally()) {
                    fail("%s produced nothing within %s; logs in %s", victim.id(), TIMEOUT, system.logDir());
                }
                Thread.sleep(100);
            }
            int status = system.kill(victim);
            long atKill = produced(system, victim);
            System.err.printf("%s killed (exit %d) after %d committed output records (%d seen just before); %d distinct ids expected%n",
                    victim.id(), status, atKill, before, ids.size());
            assertThat(status).as("exit status of a process killed by SIGKILL (128 + 9)").isEqualTo(137);
            assertThat(atKill).as("records %s had committed output for when it was killed: some, not all", victim.id()).isBetween(1L, ids.size() - 1L);

            system.restart(victim, Map.of());
            List<IngestClient.Answer> answers = posting.get(TIMEOUT.toSeconds(), TimeUnit.SECONDS);
            assertThat(answers.stream().mapToLong(IngestClient.Answer::accepted).sum()).isEqualTo(expected.acceptedLines());

            PipelineChecks.Output output = PipelineChecks.await(system, Stage.SFT, ids, TIMEOUT);
            PipelineChecks.assertEveryGoodRecordInExactlyOneRow(expected, output.batches(), T);
            PipelineChecks.assertEveryDownstreamRejectIsOneDeadLetter(expected, output.deadLetters());
            List<String> onTemplated = PipelineChecks.keys(system.bootstrapServers(), templated);
            assertThat(onTemplated).as("record ids on %s (read_committed)", templated).doesNotHaveDuplicates()
                    .containsExactlyInAnyOrderElementsOf(ids);
            assertThat(system.deadServices()).as("processes that exited on their own").isEmpty();
        }
    }

    /** How many records the service has committed output for: templated records, or records in batch rows. */
    private static long produced(LocalSystem system, Service service) {
        if (service == Service.CHAT_TEMPLATE) {
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

    /** The bundled sample, then short synthetic conversations, in chunks of {@value #CHUNK} lines. */
    static List<byte[]> chunks() throws Exception {
        List<byte[]> lines = new ArrayList<>(LossMaskKillTest.splitLines(EndToEndTest.sample()));
        for (int i = 0; i < SYNTHETIC; i++) {
            lines.add(String.format("{\"messages\": [{\"role\": \"user\", \"content\": \"Exactly-once check %d: what is %d plus %d?\"},"
                    + " {\"role\": \"assistant\", \"content\": \"%d plus %d is %d.\"}]}", i, i, i + 1, i, i + 1, 2 * i + 1)
                    .getBytes(StandardCharsets.UTF_8));
        }
        List<byte[]> chunks = new ArrayList<>();
        for (int from = 0; from < lines.size(); from += CHUNK) {
            chunks.add(LossMaskKillTest.join(lines.subList(from, Math.min(lines.size(), from + CHUNK))));
        }
        return chunks;
    }
}
