package dev.millrace.it;

import static org.assertj.core.api.Assertions.assertThat;
import static org.assertj.core.api.Assertions.fail;

import dev.millrace.cli.ingest.IngestClient;
import dev.millrace.cli.local.LocalSystem;
import dev.millrace.contract.PipelineService;
import dev.millrace.core.record.Stage;
import java.io.IOException;
import java.net.URI;
import java.net.http.HttpClient;
import java.net.http.HttpRequest;
import java.net.http.HttpResponse;
import java.nio.file.Files;
import java.nio.file.Path;
import java.time.Duration;
import java.util.EnumSet;
import java.util.List;
import java.util.Set;
import org.junit.jupiter.api.Test;

/**
 * A broker outage longer than every client timeout of the streams services, under load: the broker is
 * killed with SIGKILL right after a body was accepted (its records on their way through chat-template,
 * tokenize and loss-mask), stays away well past the shortened timeouts below (without them the test would
 * wait minutes: Kafka's defaults are 60 s for metadata and 5 min for a task), and is started again on the
 * same data directory and ports. Nobody touches the services: each streams service's readiness is seen
 * DOWN during the outage and UP after it (including streams-common's check that the client is RUNNING),
 * every accepted record, before and after, ends in exactly one batch row, and no stream thread that the
 * outage failed counted toward the crash limit (which would shut a client down after a few outages).
 */
class BrokerOutageTest {
    static final int T = 256;
    static final int B = 8;
    static final Duration TIMEOUT = Duration.ofMinutes(4);
    /** How long the broker stays away: several times every shortened timeout below, so each of them runs out more than once. */
    static final Duration OUTAGE = Duration.ofSeconds(30);
    /** The name of streams-common's readiness check that the Kafka Streams client is RUNNING (StreamRunningCheck.NAME). */
    static final String STREAM_RUNNING_CHECK = "Kafka Streams client running";
    static final Set<PipelineService> STREAMS = EnumSet.of(PipelineService.CHAT_TEMPLATE, PipelineService.TOKENIZE, PipelineService.LOSS_MASK);

    @Test
    void theStreamsServicesRideOutABrokerOutageByThemselvesAndEveryRecordIsBatchedOnce() throws Exception {
        byte[] sample = EndToEndTest.sample();
        List<byte[]> lines = LossMaskKillTest.splitLines(sample);
        int half = lines.size() / 2;
        byte[] first = LossMaskKillTest.join(lines.subList(0, half));
        byte[] rest = LossMaskKillTest.join(lines.subList(half, lines.size()));
        Expectations all = Expectations.of(sample, T);

        Path root = Repo.packagedRoot();
        Path target = Files.createDirectories(root.resolve("services/it/target"));
        LocalSystem.Options options = shortClientTimeouts(new LocalSystem.Options().seqLen(T).batchSize(B).batchLingerMs(1000)
                .runDir(Files.createTempDirectory(target, "broker-outage-")).progress(System.err));
        try (LocalSystem system = LocalSystem.start(root, options)) {
            IngestClient ingest = new IngestClient(system.ingestUri());
            assertThat(ingest.post(Stage.SFT, first).accepted()).isEqualTo(Expectations.of(first, T).acceptedLines());

            system.killBroker();
            long outageEnds = System.nanoTime() + OUTAGE.toNanos();
            awaitReadiness(system, 503, "during the outage", Duration.ofSeconds(60));
            while (System.nanoTime() < outageEnds) {
                Thread.sleep(500);
                for (PipelineService s : PipelineService.values()) {
                    assertThat(system.service(s).process().isAlive()).as("%s runs during the outage", s.id()).isTrue();
                }
            }
            system.restartBroker();
            awaitReadiness(system, 200, "after the broker came back", TIMEOUT);

            IngestClient.Answer answer = ingest.post(Stage.SFT, rest);
            assertThat(answer.status()).isIn(200, 422);

            PipelineChecks.Output output = PipelineChecks.await(system, Stage.SFT, all.acceptedIds(), TIMEOUT);
            PipelineChecks.assertEveryGoodRecordInExactlyOneRow(all, output.batches(), T);
            PipelineChecks.assertEveryDownstreamRejectIsOneDeadLetter(all, output.deadLetters());
            assertThat(system.deadServices()).as("processes that exited on their own").isEmpty();

            HttpClient http = HttpClient.newBuilder().connectTimeout(Duration.ofSeconds(2)).build();
            for (PipelineService s : STREAMS) {
                String metrics = get(http, system.serviceUri(s).resolve("/q/metrics")).body();
                System.err.printf("%s: stream threads replaced because the broker was away: %s%n", s.id(), replacements(metrics, "broker_away"));
                assertThat(replacements(metrics, "other")).as("%s: stream threads replaced for other reasons, which the crash limit counts", s.id())
                        .isEqualTo(0.0);
            }
        }
    }

    /** {@code millrace_stream_thread_replacements_total{cause=...}} in a Prometheus scrape; fails when absent. */
    private static double replacements(String metrics, String cause) {
        return metrics.lines().filter(l -> l.startsWith("millrace_stream_thread_replacements_total{") && l.contains("cause=\"" + cause + "\""))
                .mapToDouble(l -> Double.parseDouble(l.substring(l.lastIndexOf(' ') + 1))).reduce(Double::sum)
                .orElseThrow(() -> new AssertionError("no millrace_stream_thread_replacements_total{cause=\"" + cause + "\"} in /q/metrics"));
    }

    private static HttpResponse<String> get(HttpClient http, URI uri) throws IOException, InterruptedException {
        return http.send(HttpRequest.newBuilder(uri).timeout(Duration.ofSeconds(15)).GET().build(), HttpResponse.BodyHandlers.ofString());
    }

    /**
     * The client timeouts a broker outage runs into, cut from Kafka's defaults (60 s to block for metadata,
     * 2 min to deliver, 5 min for a task to make progress) to a few seconds.
     */
    static LocalSystem.Options shortClientTimeouts(LocalSystem.Options options) {
        return PipelineChecks.quickFailover(options)
                .property("kafka-streams.producer.max.block.ms", "4000")
                .property("kafka-streams.producer.request.timeout.ms", "3000")
                .property("kafka-streams.producer.delivery.timeout.ms", "6000")
                .property("kafka-streams.task.timeout.ms", "4000");
    }

    /** Waits until the readiness check of every streams service answers {@code status}. */
    private static void awaitReadiness(LocalSystem system, int status, String when, Duration timeout) throws InterruptedException {
        HttpClient http = HttpClient.newBuilder().connectTimeout(Duration.ofSeconds(2)).build();
        Set<PipelineService> pending = EnumSet.copyOf(STREAMS);
        long deadline = System.nanoTime() + timeout.toNanos();
        while (!pending.isEmpty()) {
            pending.removeIf(s -> {
                HttpResponse<String> answer = readiness(http, system.serviceUri(s));
                // UP must include streams-common's check that the client is RUNNING, not only Quarkus' topics check
                return answer != null && answer.statusCode() == status && (status != 200 || answer.body().contains(STREAM_RUNNING_CHECK));
            });
            if (System.nanoTime() > deadline) {
                fail("readiness of %s did not answer %d %s within %s; logs in %s", pending, status, when, timeout, system.logDir());
            }
            Thread.sleep(250);
        }
        System.err.printf("readiness of every streams service answered %d %s%n", status, when);
    }

    /** The readiness answer, or null when the service did not answer. */
    private static HttpResponse<String> readiness(HttpClient http, URI service) {
        try {
            HttpRequest request = HttpRequest.newBuilder(service.resolve("/q/health/ready")).timeout(Duration.ofSeconds(15)).GET().build();
            return http.send(request, HttpResponse.BodyHandlers.ofString());
        } catch (IOException e) {
            return null;
        } catch (InterruptedException e) {
            Thread.currentThread().interrupt();
            throw new IllegalStateException(e);
        }
    }
}
