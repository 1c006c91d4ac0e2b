package dev.millrace.ingest;

import static org.assertj.core.api.Assertions.assertThat;

import dev.millrace.cli.local.LocalSystem;
import dev.millrace.cli.local.ManagedProcess;
import dev.millrace.contract.PipelineService;
import dev.millrace.core.record.Stage;
import java.io.ByteArrayOutputStream;
import java.io.IOException;
import java.io.PrintStream;
import java.net.URI;
import java.net.http.HttpClient;
import java.net.http.HttpRequest;
import java.net.http.HttpResponse;
import java.nio.charset.StandardCharsets;
import java.nio.file.Files;
import java.nio.file.Path;
import java.time.Duration;
import java.util.ArrayList;
import java.util.EnumSet;
import java.util.List;
import java.util.Set;
import java.util.concurrent.CompletableFuture;
import java.util.concurrent.CompletionException;
import org.junit.jupiter.api.AfterAll;
import org.junit.jupiter.api.BeforeAll;
import org.junit.jupiter.api.Test;

/**
 * The packaged ingest service as the demo runs it (its own process, {@code -Xmx256m}: the local launcher's
 * JVM options) under eight clients posting bodies of 32 MiB at once, 256 MiB in all: held whole, they do
 * not fit its heap. Every answer must be one the contract names for load (200, 413, 422, 429, 503), never
 * a 500 or a dropped connection, and the service must be well afterwards. Run by failsafe, after the
 * service is packaged.
 */
class ConcurrentLargeBodiesIT {
    private static final int CLIENTS = 8;
    private static final int BODY_BYTES = 32 << 20;
    private static final Set<Integer> LOAD_ANSWERS = Set.of(200, 413, 422, 429, 503);

    /** The status of a client that got no answer (the connection was dropped). */
    private static final int NO_ANSWER = -1;

    private static LocalSystem system;

    private record Outcome(int status, String text) {
    }

    @BeforeAll
    static void start() {
        Path root = repoRoot();
        List<String> missing = LocalSystem.missingArtifacts(root, EnumSet.of(PipelineService.INGEST));
        assertThat(missing).as("the packaged broker and ingest service (failsafe runs after package)").isEmpty();
        system = LocalSystem.start(root, new LocalSystem.Options().services(EnumSet.of(PipelineService.INGEST))
                .stages(List.of(Stage.PRETRAIN)).progress(new PrintStream(System.err, true, StandardCharsets.UTF_8)));
    }

    @AfterAll
    static void stop() {
        if (system != null) {
            system.close();
        }
    }

    private static Path repoRoot() {
        String root = System.getProperty("millrace.repo.root");
        assertThat(root).as("system property millrace.repo.root (the root pom sets it for failsafe)").isNotBlank();
        return Path.of(root).toAbsolutePath().normalize();
    }

    /** Pretrain lines of about 64 KiB each, distinct, up to {@code bytes}. */
    private static byte[] body(int bytes) {
        ByteArrayOutputStream body = new ByteArrayOutputStream(bytes + (1 << 17));
        String filler = "lorem ipsum dolor sit amet ".repeat(64 * 1024 / 27);
        for (int n = 0; body.size() < bytes; n++) {
            body.writeBytes(("{\"text\":\"" + n + " " + filler + "\"}\n").getBytes(StandardCharsets.UTF_8));
        }
        return body.toByteArray();
    }

    @Test
    void eightClientsPostingLargeBodiesAtOnceGetLoadAnswersAndTheServiceStaysWell() throws Exception {
        URI records = system.ingestUri().resolve("/v1/pretrain/records");
        HttpClient http = HttpClient.newBuilder().connectTimeout(Duration.ofSeconds(10)).build();
        byte[] body = body(BODY_BYTES);
        List<CompletableFuture<HttpResponse<String>>> answers = new ArrayList<>();
        for (int i = 0; i < CLIENTS; i++) {
            HttpRequest request = HttpRequest.newBuilder(records).timeout(Duration.ofMinutes(4))
                    .header("Content-Type", "application/x-ndjson").POST(HttpRequest.BodyPublishers.ofByteArray(body)).build();
            answers.add(http.sendAsync(request, HttpResponse.BodyHandlers.ofString()));
        }
        List<Outcome> outcomes = new ArrayList<>();
        for (CompletableFuture<HttpResponse<String>> answer : answers) {
            try {
                HttpResponse<String> response = answer.join();
                outcomes.add(new Outcome(response.statusCode(), response.body().substring(0, Math.min(300, response.body().length()))));
            } catch (CompletionException e) {
                outcomes.add(new Outcome(NO_ANSWER, String.valueOf(e.getCause()))); // a dropped connection
            }
        }

        System.err.println("ingest's answers: " + outcomes);
        assertThat(outcomes).as("every client's answer").allSatisfy(outcome -> assertThat(LOAD_ANSWERS).as(outcome.toString())
                .contains(outcome.status()));
        assertThat(outcomes).as("at least one body was taken in whole").anySatisfy(outcome -> assertThat(outcome.status()).isEqualTo(200));

        // Well afterwards: alive, ready, taking a normal body, and no heap exhausted on the way.
        ManagedProcess ingest = system.service(PipelineService.INGEST).process();
        assertThat(ingest.isAlive()).as("ingest is running").isTrue();
        HttpResponse<String> ready = http.send(HttpRequest.newBuilder(system.ingestUri().resolve("/q/health/ready")).GET().build(),
                HttpResponse.BodyHandlers.ofString());
        assertThat(ready.statusCode()).as(ready.body()).isEqualTo(200);
        HttpResponse<String> normal = http.send(HttpRequest.newBuilder(records).header("Content-Type", "application/x-ndjson")
                .POST(HttpRequest.BodyPublishers.ofString("{\"text\":\"after the storm\"}\n")).build(), HttpResponse.BodyHandlers.ofString());
        assertThat(normal.statusCode()).as(normal.body()).isEqualTo(200);
        assertThat(normal.body()).contains("\"accepted\":1");
        assertThat(log(ingest)).doesNotContain("OutOfMemoryError");
    }

    private static String log(ManagedProcess process) throws IOException {
        return Files.readString(process.log(), StandardCharsets.UTF_8);
    }
}
