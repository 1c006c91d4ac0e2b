package dev.millrace.ingest;

import static org.assertj.core.api.Assertions.assertThat;
import static org.assertj.core.api.Assertions.assertThatThrownBy;

import dev.millrace.core.record.Stage;
import dev.millrace.ingest.EnabledStages.StageIngest;
import dev.millrace.ingest.IngestResourceTest.HeldSink;
import io.micrometer.core.instrument.simple.SimpleMeterRegistry;
import java.nio.file.Files;
import java.nio.file.Path;
import java.time.Duration;
import java.util.ArrayList;
import java.util.HexFormat;
import java.util.List;
import java.util.Map;
import java.util.concurrent.CompletableFuture;
import java.util.concurrent.ConcurrentHashMap;
import java.util.concurrent.CopyOnWriteArrayList;
import java.util.concurrent.TimeUnit;
import java.util.concurrent.atomic.AtomicInteger;
import org.apache.kafka.common.errors.NotEnoughReplicasException;
import org.apache.kafka.common.errors.TimeoutException;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;

/** A file in chunks with a stand-in sink: the next chunk is read only once the broker acknowledged the last. */
class FileIngesterTest {
    private final StageIngest sft = new EnabledStages(IngestConfigTest.mapped(Map.of("millrace.ingest.max-record-bytes", "1024")), new SimpleMeterRegistry()).get(Stage.SFT).orElseThrow();

    private static Path file(Path dir, int lines) throws Exception {
        StringBuilder text = new StringBuilder();
        for (int n = 1; n <= lines; n++) {
            text.append(n == 2 ? "{\"conversations\": []}" : "{\"conversations\": [{\"content\": \"q" + n + "\"}, {\"content\": \"a\"}]}").append('\n');
        }
        return Files.writeString(dir.resolve("f.jsonl"), text);
    }

    private static void awaitSends(HeldSink sink, int n) throws InterruptedException {
        long deadline = System.currentTimeMillis() + 10_000;
        while (sink.sent() < n && System.currentTimeMillis() < deadline) {
            Thread.sleep(10);
        }
        assertThat(sink.sent()).isEqualTo(n);
    }

    /** Acknowledges every send so far (a copy: acknowledging lets the ingest thread send more). */
    private static void ackAll(HeldSink sink) {
        List<CompletableFuture<Void>> sent;
        synchronized (sink) {
            sent = new ArrayList<>(sink.pending);
        }
        sent.forEach(f -> f.complete(null));
    }

    @Test
    void theNextChunkIsReadOnlyOnceTheLastIsAcknowledged(@TempDir Path dir) throws Exception {
        Path file = file(dir, 7);
        HeldSink sink = new HeldSink();
        FileIngester files = new FileIngester(new RecordProducer(sink), 3, 1 << 20);

        CompletableFuture<FileReport> report = CompletableFuture.supplyAsync(() -> {
            try {
                return files.ingest(file, "f", sft, LineIngester.Request.DETECT, () -> false);
            } catch (FileIngester.Stopped e) {
                throw new AssertionError(e);
            }
        });
        awaitSends(sink, 3);
        assertThat(sink.topics).containsExactly("millrace.sft.raw", "millrace.sft.raw", "millrace.dlq");

        ackAll(sink);
        awaitSends(sink, 6);
        ackAll(sink);
        awaitSends(sink, 7);
        ackAll(sink);

        FileReport done = report.get(10, TimeUnit.SECONDS);
        assertThat(done).isEqualTo(new FileReport("f", "sft", "done", 7, 6, null, 1, null));
    }

    /**
     * Nothing of the second chunk is read or sent before the first is acknowledged: the first chunk is
     * held, then its last send refused. An ingester that waits learns of the refusal before reading on
     * and reports three lines read and three sends; one that read ahead would have read and sent the
     * second chunk before the refusal could reach it, whenever the refusal came.
     */
    @Test
    void nothingOfTheNextChunkIsReadBeforeTheLastIsAcknowledged(@TempDir Path dir) throws Exception {
        Path file = file(dir, 7);
        HeldSink sink = new HeldSink();
        FileIngester files = new FileIngester(new RecordProducer(sink), 3, 1 << 20);

        CompletableFuture<FileReport> report = CompletableFuture.supplyAsync(() -> {
            try {
                return files.ingest(file, "f", sft, LineIngester.Request.DETECT, () -> false);
            } catch (FileIngester.Stopped e) {
                throw new AssertionError(e);
            }
        });
        awaitSends(sink, 3);
        sink.pending.get(0).complete(null);
        sink.pending.get(1).complete(null);
        sink.pending.get(2).completeExceptionally(new NotEnoughReplicasException("not enough replicas"));

        FileReport failed = report.get(10, TimeUnit.SECONDS);
        assertThat(failed.failed()).isTrue();
        assertThat(failed.lines()).as("lines read when the first chunk's refusal arrived").isEqualTo(3);
        assertThat(sink.sent()).as("sends when the first chunk's refusal arrived").isEqualTo(3);
    }

    @Test
    void aChunkTheBrokerRefusesFailsTheFileWithTheCountsBeforeIt(@TempDir Path dir) throws Exception {
        Path file = file(dir, 5);
        int[] sends = {0};
        RecordSink refusesTheFourth = (topic, key, value) -> ++sends[0] == 4
                ? CompletableFuture.failedFuture(new NotEnoughReplicasException("not enough replicas"))
                : CompletableFuture.completedFuture(null);

        FileReport report = new FileIngester(new RecordProducer(refusesTheFourth), 3, 1 << 20)
                .ingest(file, "f", sft, LineIngester.Request.DETECT, () -> false);

        assertThat(report.failed()).isTrue();
        assertThat(report.accepted()).isEqualTo(2);
        assertThat(report.rejected()).isEqualTo(1);
        assertThat(report.lines()).isEqualTo(5);
        assertThat(report.error()).contains("not enough replicas").contains("again is safe");
    }

    /** A broker that is away until the test lets it back: every send fails at once, as a send without metadata does. */
    static final class AwayThenBackSink implements RecordSink {
        volatile boolean away = true;
        final AtomicInteger timedOut = new AtomicInteger();
        /** The value of the first send that timed out, in hex. */
        volatile String firstTimedOut;
        /** "topic key" of every acknowledged send, in order, and the value of each by key, in hex. */
        final List<String> acknowledged = new CopyOnWriteArrayList<>();
        final Map<String, String> acknowledgedValues = new ConcurrentHashMap<>();

        @Override
        public CompletableFuture<Void> send(String topic, String key, byte[] value) {
            if (away) {
                if (timedOut.getAndIncrement() == 0) {
                    firstTimedOut = key + " " + HexFormat.of().formatHex(value);
                }
                return CompletableFuture.failedFuture(new TimeoutException("Topic " + topic + " not present in metadata after 5000 ms."));
            }
            acknowledged.add(topic + " " + key);
            acknowledgedValues.put(key, HexFormat.of().formatHex(value));
            return CompletableFuture.completedFuture(null);
        }
    }

    @Test
    void aChunkTheBrokerDoesNotAnswerIsSentAgainUntilItIsAcknowledgedAndTheFileIsDone(@TempDir Path dir) throws Exception {
        Path file = file(dir, 7);
        AwayThenBackSink sink = new AwayThenBackSink();
        FileIngester files = new FileIngester(new RecordProducer(sink), 3, 1 << 20, Duration.ofMillis(20));

        CompletableFuture<FileReport> report = CompletableFuture.supplyAsync(() -> {
            try {
                return files.ingest(file, "f", sft, LineIngester.Request.DETECT, () -> false);
            } catch (FileIngester.Stopped e) {
                throw new AssertionError(e);
            }
        });
        long deadline = System.currentTimeMillis() + 10_000;
        while (sink.timedOut.get() < 3 && System.currentTimeMillis() < deadline) {
            Thread.sleep(5);
        }
        assertThat(sink.timedOut.get()).as("attempts of the first chunk while the broker is away").isGreaterThanOrEqualTo(3);
        assertThat(report).as("the file waits for the broker").isNotDone();
        sink.away = false;

        assertThat(report.get(10, TimeUnit.SECONDS)).isEqualTo(new FileReport("f", "sft", "done", 7, 6, null, 1, null));
        List<String> expected = new ArrayList<>();
        new FileIngester(new RecordProducer((topic, key, value) -> {
            expected.add(topic + " " + key);
            return CompletableFuture.completedFuture(null);
        }), 3, 1 << 20).ingest(file, "f", sft, LineIngester.Request.DETECT, () -> false);
        assertThat(sink.acknowledged).as("every record and dead letter once, under the ids of a run the broker never left")
                .containsExactlyElementsOf(expected);
        String firstKey = sink.firstTimedOut.substring(0, sink.firstTimedOut.indexOf(' '));
        assertThat(firstKey + " " + sink.acknowledgedValues.get(firstKey)).as("the waiting chunk was sent again as it was, not read again "
                + "(a new read would carry a new ingested_at_ms)").isEqualTo(sink.firstTimedOut);
    }

    @Test
    void aStopWhileAChunkWaitsForTheBrokerLeavesTheFileUnfinished(@TempDir Path dir) throws Exception {
        Path file = file(dir, 7);
        AwayThenBackSink sink = new AwayThenBackSink();
        FileIngester files = new FileIngester(new RecordProducer(sink), 3, 1 << 20, Duration.ofMillis(20));

        assertThatThrownBy(() -> files.ingest(file, "f", sft, LineIngester.Request.DETECT, () -> sink.timedOut.get() >= 2))
                .isInstanceOf(FileIngester.Stopped.class);
        assertThat(sink.acknowledged).isEmpty();
    }

    @Test
    void aStopBetweenChunksLeavesTheFileUnfinished(@TempDir Path dir) throws Exception {
        Path file = file(dir, 7);
        FileIngester files = new FileIngester(new RecordProducer((t, k, v) -> CompletableFuture.completedFuture(null)), 3, 1 << 20);

        assertThatThrownBy(() -> files.ingest(file, "f", sft, LineIngester.Request.DETECT, () -> true))
                .isInstanceOf(FileIngester.Stopped.class);
    }

    @Test
    void onlyCompleteJsonlNamesAreTakenAndTakenNamesGetANumber(@TempDir Path dir) throws Exception {
        assertThat(DropDirectory.isComplete("a.jsonl")).isTrue();
        assertThat(DropDirectory.isComplete("a.jsonl.gz")).isTrue();
        assertThat(DropDirectory.isComplete(".a.jsonl")).isFalse();
        assertThat(DropDirectory.isComplete("a.jsonl.tmp")).isFalse();
        assertThat(DropDirectory.isComplete("a.json")).isFalse();

        assertThat(DropDirectory.unique(dir, "a.jsonl.gz")).isEqualTo(dir.resolve("a.jsonl.gz"));
        Files.writeString(dir.resolve("a.jsonl.gz"), "");
        Files.writeString(dir.resolve("a-1.jsonl.gz.report.json"), "{}");
        assertThat(DropDirectory.unique(dir, "a.jsonl.gz")).isEqualTo(dir.resolve("a-2.jsonl.gz"));
    }
}
