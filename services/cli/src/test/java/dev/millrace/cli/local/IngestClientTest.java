package dev.millrace.cli.local;

import static org.assertj.core.api.Assertions.assertThat;
import static org.assertj.core.api.Assertions.assertThatThrownBy;

import com.sun.net.httpserver.HttpServer;
import java.net.InetAddress;
import java.net.InetSocketAddress;
import java.net.URI;
import java.nio.charset.StandardCharsets;
import java.util.concurrent.atomic.AtomicReference;
import org.junit.jupiter.api.AfterEach;
import org.junit.jupiter.api.Test;

/** The HTTP side of the demo against a stand-in for ingest (no packaged service needed). */
class IngestClientTest {
    private HttpServer server;

    private URI serve(int status, String body, AtomicReference<String> received) throws Exception {
        server = HttpServer.create(new InetSocketAddress(InetAddress.getLoopbackAddress(), 0), 0);
        server.createContext("/v1/sft/records", exchange -> {
            received.set(exchange.getRequestMethod() + " " + exchange.getRequestHeaders().getFirst("Content-Type") + " "
                    + new String(exchange.getRequestBody().readAllBytes(), StandardCharsets.UTF_8));
            byte[] bytes = body.getBytes(StandardCharsets.UTF_8);
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
        AtomicReference<String> received = new AtomicReference<>();
        URI uri = serve(422, "{\"accepted\": 1, \"rejected\": 1, \"errors\": [{\"line\": 2, \"reason\": \"INVALID_JSON\", \"message\": \"bad\"}]}", received);

        IngestClient.Answer answer = new IngestClient(uri).post("sft", "{\"a\":1}\nnope\n".getBytes(StandardCharsets.UTF_8));

        assertThat(received.get()).isEqualTo("POST application/x-ndjson {\"a\":1}\nnope\n");
        assertThat(answer.status()).isEqualTo(422);
        assertThat(answer.accepted()).isEqualTo(1);
        assertThat(answer.rejected()).isEqualTo(1);
        assertThat(answer.errors()).containsExactly(new IngestClient.LineError(2, "INVALID_JSON", "bad"));
    }

    @Test
    void otherStatusesAreFailuresThatQuoteTheBody() throws Exception {
        URI uri = serve(413, "too large", new AtomicReference<>());
        assertThatThrownBy(() -> new IngestClient(uri).post("sft", new byte[1]))
                .isInstanceOf(IllegalStateException.class).hasMessageContaining("HTTP 413").hasMessageContaining("too large");
    }

    @Test
    void anAnswerWithoutCountsIsAFailure() throws Exception {
        URI uri = serve(200, "{}", new AtomicReference<>());
        assertThatThrownBy(() -> new IngestClient(uri).post("sft", new byte[1]))
                .isInstanceOf(IllegalStateException.class).hasMessageContaining("accepted");
    }

    @Test
    void distillAnswersCarryTheTeacherInTheQueryAndTheAnswerCountsPrompts() throws Exception {
        AtomicReference<String> query = new AtomicReference<>();
        server = HttpServer.create(new InetSocketAddress(InetAddress.getLoopbackAddress(), 0), 0);
        server.createContext("/v1/distill/records", exchange -> {
            query.set(exchange.getRequestURI().getRawQuery());
            exchange.getRequestBody().readAllBytes();
            byte[] bytes = "{\"accepted\": 3, \"rejected\": 0, \"prompts\": 2, \"errors\": []}".getBytes(StandardCharsets.UTF_8);
            exchange.sendResponseHeaders(200, bytes.length);
            exchange.getResponseBody().write(bytes);
            exchange.close();
        });
        server.start();
        URI uri = URI.create("http://127.0.0.1:" + server.getAddress().getPort());

        IngestClient.Answer answer = new IngestClient(uri).post("distill", "{}\n".getBytes(StandardCharsets.UTF_8),
                java.util.Map.of("teacher", "qwen 7b/v2"));

        assertThat(query.get()).isEqualTo("teacher=qwen+7b%2Fv2");
        assertThat(answer.accepted()).isEqualTo(3);
        assertThat(answer.prompts()).isEqualTo(2);
        // an answer that does not mention prompts (other stages) has none
        assertThat(new IngestClient.Answer(200, 1, 0, java.util.List.of(), "{\"accepted\": 1, \"rejected\": 0}").prompts()).isZero();
    }
}
