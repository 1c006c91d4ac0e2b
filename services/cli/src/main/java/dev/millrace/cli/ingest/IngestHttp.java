package dev.millrace.cli.ingest;

import com.fasterxml.jackson.databind.JsonNode;
import com.fasterxml.jackson.databind.ObjectMapper;
import java.io.IOException;
import java.net.ConnectException;
import java.net.URI;
import java.net.URLEncoder;
import java.net.http.HttpClient;
import java.net.http.HttpConnectTimeoutException;
import java.net.http.HttpRequest;
import java.net.http.HttpResponse;
import java.nio.charset.StandardCharsets;
import java.time.Duration;
import java.util.ArrayList;
import java.util.LinkedHashMap;
import java.util.List;
import java.util.Map;
import java.util.stream.Collectors;

/**
 * Sends chunks of a file to the ingest service: {@code POST /v1/{stage}/records?source=<file>&first-line=<n>}
 * (plus {@code format} and {@code teacher} when given), so records and dead letters keep the file as
 * their source and the answer's line numbers are the file's. A 503 (the broker did not acknowledge
 * everything) is retried: re-sending is safe, record ids are content-derived.
 */
public final class IngestHttp {
    private static final ObjectMapper JSON = new ObjectMapper();
    private static final int ATTEMPTS = 4;
    private final URI base;
    private final HttpClient http;
    private final long retryDelayMs;

    public IngestHttp(URI base, long retryDelayMs) {
        this.base = base;
        this.retryDelayMs = retryDelayMs;
        this.http = HttpClient.newBuilder().connectTimeout(Duration.ofSeconds(5)).build();
    }

    /** The service could not be reached, or answered something other than the documented JSON. */
    public static final class Failed extends Exception {
        public Failed(String message, Throwable cause) {
            super(message, cause);
        }
    }

    public record LineError(long line, String reason, String message) {
    }

    /** What the service answered for one chunk (200 or 422). */
    public record Answer(long accepted, long rejected, long prompts, List<LineError> errors) {
    }

    /** How the lines of a run are to be read: the stage, and the optional format and teacher. */
    public record Target(String stage, String format, String teacher) {
    }

    public Answer post(Target target, String source, Chunk chunk) throws Failed {
        Map<String, String> params = new LinkedHashMap<>();
        if (target.format() != null) {
            params.put("format", target.format());
        }
        if (target.teacher() != null) {
            params.put("teacher", target.teacher());
        }
        params.put("source", source);
        params.put("first-line", String.valueOf(chunk.firstLine()));
        String query = params.entrySet().stream()
                .map(e -> e.getKey() + "=" + URLEncoder.encode(e.getValue(), StandardCharsets.UTF_8))
                .collect(Collectors.joining("&"));
        URI uri = base.resolve("/v1/" + target.stage() + "/records?" + query);
        HttpRequest request = HttpRequest.newBuilder(uri)
                .timeout(Duration.ofMinutes(2))
                .header("Content-Type", "application/x-ndjson")
                .POST(HttpRequest.BodyPublishers.ofByteArray(chunk.body()))
                .build();
        for (int attempt = 1; ; attempt++) {
            HttpResponse<String> response = send(request);
            int status = response.statusCode();
            if (status == 200 || status == 422) {
                return parse(status, response.body());
            }
            if (status != 503 || attempt == ATTEMPTS) {
                throw new Failed("ingest answered HTTP " + status + " to POST " + uri + ": " + message(response.body()), null);
            }
            sleep(retryDelayMs << (attempt - 1));
        }
    }

    private HttpResponse<String> send(HttpRequest request) throws Failed {
        try {
            return http.send(request, HttpResponse.BodyHandlers.ofString());
        } catch (ConnectException | HttpConnectTimeoutException e) {
            throw new Failed("cannot reach the ingest service at " + base + " (" + e.getClass().getSimpleName()
                    + "): is it running, and is --url right?", e);
        } catch (IOException e) {
            throw new Failed("posting to the ingest service at " + request.uri() + " failed: " + e, e);
        } catch (InterruptedException e) {
            Thread.currentThread().interrupt();
            throw new Failed("interrupted while posting to the ingest service", e);
        }
    }

    private static Answer parse(int status, String body) throws Failed {
        try {
            JsonNode json = JSON.readTree(body);
            if (!json.path("accepted").isIntegralNumber() || !json.path("rejected").isIntegralNumber()) {
                throw new Failed("ingest's answer (HTTP " + status + ") lacks accepted/rejected counts: " + body, null);
            }
            List<LineError> errors = new ArrayList<>();
            for (JsonNode e : json.path("errors")) {
                errors.add(new LineError(e.path("line").asLong(), e.path("reason").asText(), e.path("message").asText()));
            }
            return new Answer(json.path("accepted").asLong(), json.path("rejected").asLong(), json.path("prompts").asLong(0),
                    List.copyOf(errors));
        } catch (IOException e) {
            throw new Failed("ingest's answer (HTTP " + status + ") is not JSON: " + body, e);
        }
    }

    /** The {@code message} of a JSON problem body, else the body itself. */
    private static String message(String body) {
        try {
            JsonNode json = JSON.readTree(body);
            if (json != null && json.path("message").isTextual()) {
                return json.path("message").asText();
            }
        } catch (IOException e) {
            // not JSON: show it as it is
        }
        return body.isBlank() ? "(no body)" : body;
    }

    private static void sleep(long ms) throws Failed {
        try {
            Thread.sleep(ms);
        } catch (InterruptedException e) {
            Thread.currentThread().interrupt();
            throw new Failed("interrupted while waiting to retry", e);
        }
    }
}
