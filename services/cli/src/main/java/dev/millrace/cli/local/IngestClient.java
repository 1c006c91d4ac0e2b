package dev.millrace.cli.local;

import com.fasterxml.jackson.databind.JsonNode;
import com.fasterxml.jackson.databind.ObjectMapper;
import java.io.IOException;
import java.net.URI;
import java.net.http.HttpClient;
import java.net.http.HttpRequest;
import java.net.http.HttpResponse;
import java.net.URLEncoder;
import java.nio.charset.StandardCharsets;
import java.time.Duration;
import java.util.ArrayList;
import java.util.List;
import java.util.Map;
import java.util.stream.Collectors;

/** Posts NDJSON to the ingest service's {@code POST /v1/{stage}/records} (docs/cli.md#http-ingest). */
public final class IngestClient {
    private static final ObjectMapper JSON = new ObjectMapper();
    private final URI base;
    private final HttpClient http;

    public IngestClient(URI base) {
        this.base = base;
        this.http = HttpClient.newBuilder().connectTimeout(Duration.ofSeconds(5)).build();
    }

    /** One rejected line of the answer. */
    public record LineError(long line, String reason, String message) {
    }

    /** The answer: HTTP status and, for 200 and 422, the counts and the rejected lines. */
    public record Answer(int status, long accepted, long rejected, List<LineError> errors, String body) {
        /** Distill only: how many accepted lines were prompts (sent to distill.prompts); 0 when the answer does not say. */
        public long prompts() {
            try {
                return body == null || body.isEmpty() ? 0 : JSON.readTree(body).path("prompts").asLong(0);
            } catch (IOException e) {
                return 0;
            }
        }
    }

    /**
     * Sends one NDJSON body and parses the answer.
     *
     * @throws IllegalStateException when ingest answers something other than 200/422 or the body is not the documented JSON
     */
    public Answer post(String stage, byte[] ndjson) {
        return post(stage, ndjson, Map.of());
    }

    /**
     * As {@link #post(String, byte[])}, with query parameters, e.g. {@code teacher} for distill
     * answers ({@code POST /v1/distill/records?teacher=<id>}).
     */
    public Answer post(String stage, byte[] ndjson, Map<String, String> query) {
        HttpRequest request = HttpRequest.newBuilder(uri(stage, query))
                .timeout(Duration.ofMinutes(2))
                .header("Content-Type", "application/x-ndjson")
                .POST(HttpRequest.BodyPublishers.ofByteArray(ndjson))
                .build();
        HttpResponse<String> response;
        try {
            response = http.send(request, HttpResponse.BodyHandlers.ofString());
        } catch (IOException e) {
            throw new IllegalStateException("posting to ingest at " + request.uri() + " failed: " + e, e);
        } catch (InterruptedException e) {
            Thread.currentThread().interrupt();
            throw new IllegalStateException("interrupted while posting to ingest", e);
        }
        int status = response.statusCode();
        if (status != 200 && status != 422) {
            throw new IllegalStateException("ingest answered HTTP " + status + " to POST " + request.uri() + ": " + response.body());
        }
        try {
            JsonNode body = JSON.readTree(response.body());
            List<LineError> errors = new ArrayList<>();
            for (JsonNode e : body.path("errors")) {
                errors.add(new LineError(e.path("line").asLong(), e.path("reason").asText(), e.path("message").asText()));
            }
            if (!body.path("accepted").isIntegralNumber() || !body.path("rejected").isIntegralNumber()) {
                throw new IllegalStateException("ingest's answer lacks accepted/rejected counts: " + response.body());
            }
            return new Answer(status, body.path("accepted").asLong(), body.path("rejected").asLong(), List.copyOf(errors), response.body());
        } catch (IOException e) {
            throw new IllegalStateException("ingest's answer (HTTP " + status + ") is not JSON: " + response.body(), e);
        }
    }

    /** {@code <base>/v1/<stage>/records[?k=v&...]}, the values URL-encoded. */
    URI uri(String stage, Map<String, String> query) {
        String path = "/v1/" + stage + "/records";
        if (!query.isEmpty()) {
            path += query.entrySet().stream()
                    .map(e -> URLEncoder.encode(e.getKey(), StandardCharsets.UTF_8) + "=" + URLEncoder.encode(e.getValue(), StandardCharsets.UTF_8))
                    .collect(Collectors.joining("&", "?", ""));
        }
        return base.resolve(path);
    }
}
