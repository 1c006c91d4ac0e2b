package dev.millrace.it;

import static org.assertj.core.api.Assertions.assertThat;
import static org.assertj.core.api.Assertions.fail;

import dev.millrace.cli.local.IngestClient;
import dev.millrace.cli.local.LocalSystem;
import dev.millrace.cli.local.LocalSystem.Service;
import dev.millrace.core.record.Stage;
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
import org.junit.jupiter.api.Test;

/**
 * Exactly once across a crash of chat-template in the middle of a stream: records are posted in
 * chunks while the test watches {@code sft.templated}; as soon as chat-template has committed some
 * templated records (and, posting still going on, not all), it is killed with SIGKILL and started
 * again. Every good record must end in exactly one batch row, equal to what {@code ./millrace
 * prepare} gives, and every record id must be on the templated topic exactly once (read_committed):
 * the aborted transaction's output is invisible and the duplicate store did not forget or repeat.
 */
class ChatTemplateKillTest {
    static final int T = 128;
    static final int B = 16;
    static final int SYNTHETIC = 1200;
    static final int CHUNK = 50;
    static final Duration TIMEOUT = Duration.ofMinutes(5);

    @Test
    void everyGoodRecordIsInExactlyOneBatchRowAfterChatTemplateIsKilledMidStream() throws Exception {
        List<byte[]> chunks = chunks();
        ByteArrayOutputStream all = new ByteArrayOutputStream();
        chunks.forEach(all::writeBytes);
        Expectations expected = Expectations.of(all.toByteArray(), T);
        Set<String> ids = expected.acceptedIds();

        Path root = Repo.packagedRoot();
        Path target = Files.createDirectories(root.resolve("services/it/target"));
        try (LocalSystem system = LocalSystem.start(root, new LocalSystem.Options().seqLen(T).batchSize(B).batchLingerMs(500)
                .runDir(Files.createTempDirectory(target, "kill-chat-template-")).progress(System.err))) {
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
            int before;
            while (true) {
                before = PipelineChecks.keys(system.bootstrapServers(), templated).size();
                if (before > 0) {
                    break;
                }
                if (System.nanoTime() > deadline || posting.isCompletedExceptionally()) {
                    fail("chat-template produced nothing within %s; logs in %s", TIMEOUT, system.logDir());
                }
                Thread.sleep(100);
            }
            int status = system.kill(Service.CHAT_TEMPLATE);
            int atKill = PipelineChecks.keys(system.bootstrapServers(), templated).size();
            System.err.printf("chat-template killed (exit %d) after %d committed templated records (%d seen just before); %d distinct ids expected%n",
                    status, atKill, before, ids.size());
            assertThat(status).as("exit status of a process killed by SIGKILL (128 + 9)").isEqualTo(137);
            assertThat(atKill).as("templated records committed when chat-template was killed: some, not all").isBetween(1, ids.size() - 1);

            system.restart(Service.CHAT_TEMPLATE, Map.of());
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
