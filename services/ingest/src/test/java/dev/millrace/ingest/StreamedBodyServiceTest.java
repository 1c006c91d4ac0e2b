package dev.millrace.ingest;

import static io.restassured.RestAssured.given;
import static org.assertj.core.api.Assertions.assertThat;

import com.fasterxml.jackson.databind.JsonNode;
import com.fasterxml.jackson.databind.ObjectMapper;
import dev.millrace.core.chat.ConversationReader;
import dev.millrace.core.json.StrictJson;
import dev.millrace.core.record.RecordId;
import dev.millrace.core.record.Stage;
import io.quarkus.test.common.QuarkusTestResource;
import io.quarkus.test.common.http.TestHTTPResource;
import io.quarkus.test.junit.QuarkusTest;
import java.io.ByteArrayInputStream;
import java.io.IOException;
import java.io.InputStream;
import java.io.SequenceInputStream;
import java.net.URI;
import java.net.http.HttpClient;
import java.net.http.HttpRequest;
import java.net.http.HttpResponse;
import java.nio.charset.StandardCharsets;
import java.time.Duration;
import java.util.ArrayList;
import java.util.List;
import java.util.UUID;
import java.util.concurrent.CompletableFuture;
import java.util.concurrent.CountDownLatch;
import java.util.concurrent.TimeUnit;
import java.util.regex.Matcher;
import java.util.regex.Pattern;
import org.apache.kafka.clients.consumer.ConsumerRecord;
import org.junit.jupiter.api.Test;

/**
 * Bodies read as streams over real HTTP (the %test profile: 65536-byte bodies, 2 concurrent requests):
 * a body sent without Content-Length that passes the limit is stopped there with an answer saying which
 * lines were taken, and a request that finds every slot taken is answered 429 at once.
 */
@QuarkusTest
@QuarkusTestResource(IngestTestResource.class)
class StreamedBodyServiceTest {
    private static final ObjectMapper JSON = new ObjectMapper();
    private static final int MAX_BODY_BYTES = 65536;
    private static final String RAW = "millrace.sft.raw";

    @TestHTTPResource("/v1/sft/records")
    URI records;

    private final HttpClient http = HttpClient.newBuilder().connectTimeout(Duration.ofSeconds(10)).build();

    /** A POST whose body is streamed (chunked: no Content-Length). */
    private HttpRequest chunked(InputStream body) {
        return HttpRequest.newBuilder(records).timeout(Duration.ofMinutes(1)).header("Content-Type", "application/x-ndjson")
                .POST(HttpRequest.BodyPublishers.ofInputStream(() -> body)).build();
    }

    private static String line(int n, String marker) {
        return "{\"conversations\":[{\"content\":\"" + n + " " + marker + "\"},{\"content\":\"b\"}]}";
    }

    private static String id(String line) {
        try {
            return RecordId.of(Stage.SFT, ConversationReader.read(StrictJson.parse(line), null).normalised());
        } catch (Exception e) {
            throw new AssertionError(e);
        }
    }

    @Test
    void aChunkedBodyPastTheLimitIsStoppedThereAndTheAnswerSaysWhichLinesWereTaken() throws Exception {
        String marker = UUID.randomUUID().toString();
        StringBuilder body = new StringBuilder();
        List<String> lines = new ArrayList<>();
        for (int n = 1; body.length() <= MAX_BODY_BYTES + 200; n++) {
            lines.add(line(n, marker));
            body.append(lines.get(n - 1)).append('\n');
        }
        int cut = 0; // the number of the line that the limit cuts
        for (int n = 1, end = 0; cut == 0; n++) {
            end += lines.get(n - 1).length() + 1;
            cut = end > MAX_BODY_BYTES ? n : 0;
        }

        HttpResponse<String> response = http.send(chunked(new ByteArrayInputStream(body.toString().getBytes(StandardCharsets.UTF_8))),
                HttpResponse.BodyHandlers.ofString());

        assertThat(response.statusCode()).as(response.body()).isEqualTo(413);
        JsonNode answer = JSON.readTree(response.body());
        assertThat(answer.path("stopped_at_line").asLong()).isEqualTo(cut);
        assertThat(answer.path("accepted").asLong()).isEqualTo(cut - 1);
        assertThat(answer.path("rejected").asLong()).isZero();
        assertThat(answer.path("message").asText()).contains("millrace.ingest.max-body-bytes");
        List<String> keys = TopicContents.read(RAW).stream().map(ConsumerRecord::key).toList();
        assertThat(keys).as("the lines before the cut are on the topic").containsAll(lines.subList(0, cut - 1).stream().map(StreamedBodyServiceTest::id).toList());
        assertThat(keys).as("the cut line and the ones after it are not")
                .doesNotContainAnyElementsOf(lines.subList(cut - 1, lines.size()).stream().map(StreamedBodyServiceTest::id).toList());
    }

    /** A body that sends its first bytes and then waits until {@code release} opens. */
    private static InputStream stalled(byte[] first, CountDownLatch release, byte[] rest) {
        InputStream waiting = new InputStream() {
            @Override
            public int read() throws IOException {
                try {
                    release.await(1, TimeUnit.MINUTES);
                } catch (InterruptedException e) {
                    throw new IOException(e);
                }
                return -1;
            }
        };
        return new SequenceInputStream(new ByteArrayInputStream(first), new SequenceInputStream(waiting, new ByteArrayInputStream(rest)));
    }

    @Test
    void whenEverySlotIsTakenARequestIsAnswered429WithRetryAfterAndTheOthersFinish() throws Exception {
        String marker = UUID.randomUUID().toString();
        // More than Quarkus REST buffers before it calls the resource (10 KiB), so the resource holds a slot meanwhile.
        StringBuilder first = new StringBuilder();
        for (int n = 1; first.length() < 20_000; n++) {
            first.append(line(n, marker)).append('\n');
        }
        CountDownLatch release = new CountDownLatch(1);
        List<CompletableFuture<HttpResponse<String>>> holding = new ArrayList<>();
        try {
            for (int i = 0; i < 2; i++) { // %test.millrace.ingest.max-concurrent-requests=2
                byte[] own = (first + line(-i, marker) + "\n").getBytes(StandardCharsets.UTF_8);
                holding.add(http.sendAsync(chunked(stalled(own, release, (line(1000 + i, marker) + "\n").getBytes(StandardCharsets.UTF_8))),
                        HttpResponse.BodyHandlers.ofString()));
            }
            long deadline = System.nanoTime() + TimeUnit.SECONDS.toNanos(30);
            while (activeRequests() < 2 && System.nanoTime() < deadline) {
                Thread.sleep(20);
            }
            assertThat(activeRequests()).as("both slots held by the stalled bodies").isEqualTo(2);

            io.restassured.response.Response refused = given().contentType("application/x-ndjson")
                    .body((line(1, "refused " + marker) + "\n").getBytes(StandardCharsets.UTF_8))
                    .when().post("/v1/sft/records");

            assertThat(refused.statusCode()).as(refused.asString()).isEqualTo(429);
            assertThat(refused.header("Retry-After")).isEqualTo("1");
            assertThat(refused.jsonPath().getString("message")).contains("millrace.ingest.max-concurrent-requests");
        } finally {
            release.countDown();
            CompletableFuture.allOf(holding.toArray(CompletableFuture[]::new)).handle((ok, error) -> null).get(1, TimeUnit.MINUTES);
        }
        for (CompletableFuture<HttpResponse<String>> answer : holding) {
            HttpResponse<String> response = answer.get();
            assertThat(response.statusCode()).as(response.body()).isEqualTo(200);
        }
        given().contentType("application/x-ndjson").body((line(1, "after " + marker) + "\n").getBytes(StandardCharsets.UTF_8)).when().post("/v1/sft/records")
                .then().statusCode(200);
    }

    private static double activeRequests() {
        String metrics = given().when().get("/q/metrics").then().statusCode(200).extract().asString();
        Matcher m = Pattern.compile("(?m)^millrace_ingest_requests_active(?:\\{[^}]*})? (\\S+)$").matcher(metrics);
        assertThat(m.find()).as("millrace_ingest_requests_active in /q/metrics").isTrue();
        return Double.parseDouble(m.group(1));
    }
}
