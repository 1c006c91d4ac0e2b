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
import java.io.ByteArrayOutputStream;
import java.nio.charset.StandardCharsets;
import java.nio.file.Files;
import java.nio.file.Path;
import java.time.Duration;
import java.util.ArrayList;
import java.util.EnumSet;
import java.util.HashSet;
import java.util.List;
import java.util.Map;
import java.util.Set;
import org.junit.jupiter.params.ParameterizedTest;
import org.junit.jupiter.params.provider.EnumSource;

/**
 * Exactly once across a crash in the middle of a stream, for chat-template and for loss-mask: the
 * service is started only once its input topic holds every record (the sample plus 1,200 short
 * conversations), so it works through a backlog; as soon as it has committed some output (and not
 * all of it), it is killed with SIGKILL and started again. Every
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
    @EnumSource(value = PipelineService.class, names = {"CHAT_TEMPLATE", "LOSS_MASK"})
    void everyGoodRecordIsInExactlyOneBatchRowAfterAServiceIsKilledMidStream(PipelineService victim) throws Exception {
        List<byte[]> chunks = chunks();
        ByteArrayOutputStream all = new ByteArrayOutputStream();
        chunks.forEach(all::writeBytes);
        Expectations expected = Expectations.of(all.toByteArray(), T);
        Set<String> ids = expected.acceptedIds();

        Path root = Repo.packagedRoot();
        Path target = Files.createDirectories(root.resolve("services/it/target"));
        // The victim starts only once its input holds every record, so it is killed while working through a backlog.
        Set<PipelineService> others = EnumSet.allOf(PipelineService.class);
        others.remove(victim);
        try (LocalSystem system = LocalSystem.start(root, PipelineChecks.quickFailover(new LocalSystem.Options().seqLen(T).batchSize(B)
                .batchLingerMs(500).services(others).runDir(Files.createTempDirectory(target, "kill-" + victim.id() + "-")).progress(System.err)))) {
            IngestClient ingest = new IngestClient(system.ingestUri());
            long accepted = 0;
            for (byte[] chunk : chunks) {
                accepted += ingest.post(Stage.SFT, chunk).accepted();
            }
            assertThat(accepted).isEqualTo(expected.acceptedLines());
            String input = victim == PipelineService.CHAT_TEMPLATE ? system.topics().raw(Stage.SFT) : system.topics().tokenized(Stage.SFT);
            long deadline = System.nanoTime() + TIMEOUT.toNanos();
            while (!new HashSet<>(PipelineChecks.keys(system.bootstrapServers(), input)).containsAll(ids)) {
                if (System.nanoTime() > deadline) {
                    fail("%s did not receive every record within %s; logs in %s", input, TIMEOUT, system.logDir());
                }
                Thread.sleep(250);
            }

            system.startService(victim, Map.of());
            long before;
            while (true) {
                before = produced(system, victim);
                if (before > 0) {
                    break;
                }
                if (System.nanoTime() > deadline) {
                    fail("%s produced nothing within %s; logs in %s", victim.id(), TIMEOUT, system.logDir());
                }
                Thread.sleep(100);
            }
            int status = ServiceFaults.kill(system, victim);
            long atKill = produced(system, victim);
            System.err.printf("%s killed (exit %d) after %d committed output records (%d seen just before); %d distinct ids expected%n",
                    victim.id(), status, atKill, before, ids.size());
            assertThat(status).as("exit status of a process killed by SIGKILL (128 + 9)").isEqualTo(137);
            assertThat(atKill).as("records %s had committed output for when it was killed: some, not all", victim.id()).isBetween(1L, ids.size() - 1L);
            ServiceFaults.restart(system, victim, Map.of());

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
