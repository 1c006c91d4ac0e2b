package dev.millrace.cli.ingest;

import static org.assertj.core.api.Assertions.assertThat;
import static org.assertj.core.api.Assertions.assertThatThrownBy;

import com.sun.net.httpserver.HttpServer;
import dev.millrace.core.record.Stage;
import java.net.InetAddress;
import java.net.InetSocketAddress;
import java.net.ServerSocket;
import java.net.URI;
import java.nio.charset.StandardCharsets;
import java.time.Duration;
import java.util.ArrayList;
import java.util.Collections;
import java.util.List;
import java.util.concurrent.atomic.AtomicInteger;
import org.junit.jupiter.api.AfterEach;
import org.junit.jupiter.api.Test;

/** The client of ingest's HTTP contract against a stand-in for the service (no packaged service needed). */
class IngestClientTest {
    private HttpServer server;
    private final List<String> received = Collections.synchronizedList(new ArrayList<>());
    /** The Retry-After header of every 503 and 429 answer (null: none). */
    private String retryAfter;
    /** The waits of a client made with {@link #recordingWaits}, instead of waiting. */
    private final List<Long> waits = new ArrayList<>();

    private IngestClient recordingWaits(URI uri, long retryDelayMs, Duration budget) {
        return new IngestClient(uri, retryDelayMs, budget, waits::add);
    }

    /** Answers each request with the next of {@code answers} (status, body), repeating the last. */
    private URI serve(String path, Object... answers) throws Exception {
        AtomicInteger next = new AtomicInteger();
        server = HttpServer.create(new InetSocketAddress(InetAddress.getLoopbackAddress(), 0), 0);
        server.createContext(path, exchange -> {
            received.add(exchange.getRequestMethod() + " " + exchange.getRequestURI() + " " + exchange.getRequestHeaders().getFirst("Content-Type")
                    + " " + new String(exchange.getRequestBody().readAllBytes(), StandardCharsets.UTF_8));
            int i = Math.min(next.getAndIncrement(), answers.length / 2 - 1);
            byte[] bytes = ((String) answers[2 * i + 1]).getBytes(StandardCharsets.UTF_8);
            int status = (Integer) answers[2 * i];
            if (retryAfter != null && (status == 503 || status == 429)) {
                exchange.getResponseHeaders().add("Retry-After", retryAfter);
            }
            exchange.sendResponseHeaders(status, bytes.length);
            exchange.getResponseBody().write(bytes);
            exchange.close();
        });
        server.start();
        return URI.create("http://127.0.0.1:" + server.getAddress().getPort());
    }

    @AfterEach
    void stop() {
        if (server != null) {
            server.stop(0);
        }
    }

    @Test
    void postsNdjsonAndReadsTheCountsAndErrors() throws Exception {
        String body = "{\"accepted\": 1, \"rejected\": 1, \"errors\": [{\"line\": 2, \"reason\": \"INVALID_JSON\", \"message\": \"bad\"}]}";
        URI uri = serve("/v1/sft/records", 422, body);

        IngestClient.Answer answer = new IngestClient(uri).post(Stage.SFT, "{\"a\":1}\nnope\n".getBytes(StandardCharsets.UTF_8));

        assertThat(received).containsExactly("POST /v1/sft/records application/x-ndjson {\"a\":1}\nnope\n");
        assertThat(answer).isEqualTo(new IngestClient.Answer(422, 1, 1, 0, List.of(new IngestClient.LineError(2, "INVALID_JSON", "bad")), body));
    }

    @Test
    void sendsEveryQueryParameterOfTheContractEncodedAndKeepsAPathOfTheBase() throws Exception {
        URI uri = serve("/ingest/v1/distill/records", 200, "{\"accepted\": 3, \"rejected\": 0, \"prompts\": 2, \"errors\": []}");
        IngestClient client = new IngestClient(URI.create(uri + "/ingest/"));
        IngestClient.Request request = IngestClient.Request.to(Stage.DISTILL).resubmitted().withFormat("openai").withTeacher("qwen 7b/v2")
                .from("/data/a b.jsonl", 1001);

        IngestClient.Answer answer = client.post(request, "{}\n".getBytes(StandardCharsets.UTF_8));

        String query = "resubmit=true&format=openai&teacher=qwen+7b%2Fv2&source=%2Fdata%2Fa+b.jsonl&first-line=1001";
        assertThat(client.uri(request)).hasToString(uri + "/ingest/v1/distill/records?" + query);
        assertThat(received).containsExactly("POST /ingest/v1/distill/records?" + query + " application/x-ndjson {}\n");
        assertThat(answer.accepted()).isEqualTo(3);
        assertThat(answer.prompts()).isEqualTo(2);
        // no parameter unless asked for; an empty teacher is none
        assertThat(client.uri(IngestClient.Request.to(Stage.SFT).withTeacher(""))).hasToString(uri + "/ingest/v1/sft/records");
    }

    @Test
    void aServiceUnavailableAnswerIsRetriedThenTheAnswerCounts() throws Exception {
        URI uri = serve("/v1/sft/records", 503, "{\"message\": \"not acknowledged\"}", 503, "", 200, "{\"accepted\": 1, \"rejected\": 0}");

        IngestClient.Answer answer = new IngestClient(uri, 1).post(Stage.SFT, "{}\n".getBytes(StandardCharsets.UTF_8));

        assertThat(received).hasSize(3);
        assertThat(answer.status()).isEqualTo(200);
        assertThat(answer.accepted()).isEqualTo(1);
        assertThat(answer.prompts()).as("an answer that does not mention prompts has none").isZero();
    }

    @Test
    void aServiceUnavailableAnswerFailsOnceTheRetryBudgetIsSpent() throws Exception {
        URI uri = serve("/v1/sft/records", 503, "{\"message\": \"not acknowledged\"}");

        assertThatThrownBy(() -> recordingWaits(uri, 1, Duration.ofMillis(7)).post(Stage.SFT, new byte[1]))
                .isInstanceOf(IngestClient.Failed.class).hasMessageContaining("HTTP 503").hasMessageContaining("not acknowledged")
                .hasMessageContaining("4 attempts");
        assertThat(waits).as("doubling while it fits the budget of 7 ms").containsExactly(1L, 2L, 4L);
        assertThat(received).hasSize(4);
    }

    @Test
    void retryAfterSetsTheWaitAndA429IsRetriedToo() throws Exception {
        retryAfter = "3";
        URI uri = serve("/v1/sft/records", 503, "{\"message\": \"the broker is away\"}", 429, "{\"message\": \"full\"}",
                200, "{\"accepted\": 1, \"rejected\": 0}");

        IngestClient.Answer answer = recordingWaits(uri, 1, Duration.ofMinutes(5)).post(Stage.SFT, "{}\n".getBytes(StandardCharsets.UTF_8));

        assertThat(answer.accepted()).isEqualTo(1);
        assertThat(waits).as("Retry-After: 3, not the 1 ms doubling delay").containsExactly(3_000L, 3_000L);
        assertThat(received).hasSize(3);
    }

    @Test
    void aBrokerOutageIsRiddenOutForTheRetryBudgetThenReported() throws Exception {
        retryAfter = "5";
        URI uri = serve("/v1/sft/records", 503, "{\"message\": \"the broker is away\"}");

        assertThatThrownBy(() -> recordingWaits(uri, 1, Duration.ofSeconds(12)).post(Stage.SFT, new byte[1]))
                .isInstanceOf(IngestClient.Failed.class).hasMessageContaining("the broker is away").hasMessageContaining("3 attempts over 10 s");
        assertThat(waits).containsExactly(5_000L, 5_000L);
    }

    @Test
    void aRetryAfterThatIsNoNumberOfSecondsFallsBackToTheDoublingDelayAndALongOneIsCapped() throws Exception {
        retryAfter = "Wed, 21 Oct 2026 07:28:00 GMT";
        URI uri = serve("/v1/sft/records", 503, "{}", 503, "{}", 200, "{\"accepted\": 1, \"rejected\": 0}");
        recordingWaits(uri, 1, Duration.ofMinutes(5)).post(Stage.SFT, new byte[1]);
        assertThat(waits).containsExactly(1L, 2L);
        stop();

        waits.clear();
        retryAfter = "86400";
        URI capped = serve("/v1/sft/records", 503, "{}", 200, "{\"accepted\": 1, \"rejected\": 0}");
        recordingWaits(capped, 1, Duration.ofMinutes(5)).post(Stage.SFT, new byte[1]);
        assertThat(waits).containsExactly(IngestClient.MAX_RETRY_DELAY_MS);
    }

    @Test
    void otherStatusesFailAtOnceQuotingTheProblemMessageOrTheBody() throws Exception {
        URI uri = serve("/v1/sft/records", 413, "too large");
        assertThatThrownBy(() -> new IngestClient(uri, 1).post(Stage.SFT, new byte[1]))
                .isInstanceOf(IngestClient.Failed.class).hasMessageContaining("HTTP 413").hasMessageContaining("too large")
                .satisfies(e -> assertThat(((IngestClient.Failed) e).unreachable()).isFalse());
        assertThat(received).hasSize(1);
    }

    @Test
    void anAnswerWithoutCountsOrNotJsonIsAFailure() throws Exception {
        URI uri = serve("/v1/sft/records", 200, "{}", 200, "<html>");
        IngestClient client = new IngestClient(uri);
        assertThatThrownBy(() -> client.post(Stage.SFT, new byte[1])).isInstanceOf(IngestClient.Failed.class).hasMessageContaining("accepted");
        assertThatThrownBy(() -> client.post(Stage.SFT, new byte[1])).isInstanceOf(IngestClient.Failed.class).hasMessageContaining("not JSON");
    }

    @Test
    void anUnreachableServiceSaysSoAndAsksAboutTheAddressOption() throws Exception {
        int port;
        try (ServerSocket socket = new ServerSocket(0, 1, InetAddress.getLoopbackAddress())) {
            port = socket.getLocalPort(); // closed again: nothing listens there
        }
        URI uri = URI.create("http://127.0.0.1:" + port);

        assertThatThrownBy(() -> new IngestClient(uri).post(Stage.SFT, new byte[1])).isInstanceOfSatisfying(IngestClient.Failed.class, e -> {
            assertThat(e.unreachable()).isTrue();
            assertThat(e.getMessage()).isEqualTo("cannot reach the ingest service at " + uri + " (ConnectException)");
            assertThat(e.messageAskingAbout("--url")).endsWith(": is it running, and is --url right?");
        });
    }

    @Test
    void linesAreJoinedIntoOneNdjsonBody() {
        assertThat(new String(IngestClient.ndjson(List.of("a".getBytes(StandardCharsets.UTF_8), "b".getBytes(StandardCharsets.UTF_8))),
                StandardCharsets.UTF_8)).isEqualTo("a\nb\n");
    }
}
