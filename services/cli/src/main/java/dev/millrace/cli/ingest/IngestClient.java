package dev.millrace.cli.ingest;

import com.fasterxml.jackson.databind.JsonNode;
import com.fasterxml.jackson.databind.ObjectMapper;
import dev.millrace.core.record.Stage;
import java.io.ByteArrayOutputStream;
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
import java.util.Optional;
import java.util.OptionalLong;
import java.util.stream.Collectors;

/**
 * The CLI's one client of the ingest service's HTTP contract (docs/cli.md, HTTP ingest):
 * {@code POST <base>/v1/{stage}/records} with an NDJSON body and the query parameters
 * {@code resubmit}, {@code format}, {@code teacher}, {@code source} and {@code first-line}; the
 * answer (200 or 422) is parsed into counts and rejected lines. A 503 (the broker is away or did not
 * acknowledge everything) or 429 (ingest is full) is sent again after the answer's
 * {@code Retry-After} (else a doubling delay), for as long as the retry budget lasts: re-sending is
 * safe, nothing of a refused body was accepted and record ids are content-derived. Used by
 * {@code ingest}, {@code demo} and {@code dlq resubmit}.
 */
public final class IngestClient {
    private static final ObjectMapper JSON = new ObjectMapper();
    private static final long DEFAULT_RETRY_DELAY_MS = 1_000;
    /** How long one body may wait in all for retries: a broker outage of a few minutes is ridden out. */
    static final Duration DEFAULT_RETRY_BUDGET = Duration.ofMinutes(5);
    /** The longest single wait, whatever {@code Retry-After} asks for or the doubling reaches. */
    static final long MAX_RETRY_DELAY_MS = 60_000;

    private final String base;
    private final HttpClient http;
    private final long retryDelayMs;
    private final long retryBudgetMs;
    private final Sleeper sleeper;

    /** Waits between two attempts (a stand-in in tests). */
    interface Sleeper {
        void sleep(long ms) throws InterruptedException;
    }

    /** A client of the service at {@code base} (e.g. {@code http://127.0.0.1:8081}; a path in it is kept). */
    public IngestClient(URI base) {
        this(base, DEFAULT_RETRY_DELAY_MS);
    }

    /**
     * As {@link #IngestClient(URI)}, waiting {@code retryDelayMs} before the first retry of a 503 or 429
     * that has no {@code Retry-After} (doubling after).
     */
    public IngestClient(URI base, long retryDelayMs) {
        this(base, retryDelayMs, DEFAULT_RETRY_BUDGET, Thread::sleep);
    }

    /** As {@link #IngestClient(URI, long)}, giving up once the waits for one body would pass {@code retryBudget}. */
    IngestClient(URI base, long retryDelayMs, Duration retryBudget, Sleeper sleeper) {
        this.base = base.toString().replaceAll("/+$", "");
        this.retryDelayMs = retryDelayMs;
        this.retryBudgetMs = retryBudget.toMillis();
        this.sleeper = sleeper;
        this.http = HttpClient.newBuilder().connectTimeout(Duration.ofSeconds(5)).build();
    }

    /**
     * One request: the stage and the query parameters of the contract; a null parameter (false for
     * {@code resubmit}, 0 for {@code firstLine}) is not sent.
     */
    public record Request(Stage stage, boolean resubmit, String format, String teacher, String source, long firstLine) {
        public static Request to(Stage stage) {
            return new Request(stage, false, null, null, null, 0);
        }

        /** {@code resubmit=true}: the records are re-sent on purpose (chat-template lets a duplicate id through). */
        public Request resubmitted() {
            return new Request(stage, true, format, teacher, source, firstLine);
        }

        /** {@code format=<id>} (null: ingest detects it). */
        public Request withFormat(String format) {
            return new Request(stage, resubmit, format, teacher, source, firstLine);
        }

        /** {@code teacher=<id>} for distill answers (null or empty: none). */
        public Request withTeacher(String teacher) {
            return new Request(stage, resubmit, format, teacher == null || teacher.isEmpty() ? null : teacher, source, firstLine);
        }

        /** {@code source=<name>&first-line=<n>}: records and dead letters keep the file and its line numbers. */
        public Request from(String source, long firstLine) {
            return new Request(stage, resubmit, format, teacher, source, firstLine);
        }

        Map<String, String> query() {
            Map<String, String> params = new LinkedHashMap<>();
            if (resubmit) {
                params.put("resubmit", "true");
            }
            if (format != null) {
                params.put("format", format);
            }
            if (teacher != null) {
                params.put("teacher", teacher);
            }
            if (source != null) {
                params.put("source", source);
                params.put("first-line", String.valueOf(firstLine));
            }
            return params;
        }
    }

    /** One rejected line of an answer. */
    public record LineError(long line, String reason, String message) {
    }

    /**
     * What the service answered (200 or 422): the counts, the rejected lines, for distill how many
     * accepted lines were prompts (0 when the answer does not say), and the body as it was.
     */
    public record Answer(int status, long accepted, long rejected, long prompts, List<LineError> errors, String body) {
    }

    /** The service could not be reached, refused the request, or answered something other than the documented JSON. */
    public static final class Failed extends Exception {
        private final boolean unreachable;

        Failed(String message, Throwable cause, boolean unreachable) {
            super(message, cause);
            this.unreachable = unreachable;
        }

        /** True when no connection could be made (nothing listens at the address). */
        public boolean unreachable() {
            return unreachable;
        }

        /** The message, for an unreachable service with a question about the address the user gave with {@code option}. */
        public String messageAskingAbout(String option) {
            return getMessage() + (unreachable ? ": is it running, and is " + option + " right?" : "");
        }
    }

    /** {@code <base>/v1/<stage>/records[?k=v&...]}, the values URL-encoded. */
    public URI uri(Request request) {
        String query = request.query().entrySet().stream()
                .map(e -> e.getKey() + "=" + URLEncoder.encode(e.getValue(), StandardCharsets.UTF_8))
                .collect(Collectors.joining("&"));
        return URI.create(base + "/v1/" + request.stage().id() + "/records" + (query.isEmpty() ? "" : "?" + query));
    }

    public Answer post(Stage stage, byte[] ndjson) throws Failed {
        return post(Request.to(stage), ndjson);
    }

    /** Sends one NDJSON body (retrying a 503 or 429) and parses the answer. */
    public Answer post(Request request, byte[] ndjson) throws Failed {
        URI uri = uri(request);
        HttpRequest http = HttpRequest.newBuilder(uri)
                .timeout(Duration.ofMinutes(2))
                .header("Content-Type", "application/x-ndjson")
                .POST(HttpRequest.BodyPublishers.ofByteArray(ndjson))
                .build();
        long waited = 0;
        long backoff = retryDelayMs;
        for (int attempt = 1; ; attempt++) {
            HttpResponse<String> response = send(http);
            int status = response.statusCode();
            if (status == 200 || status == 422) {
                return parse(status, response.body());
            }
            String failure = "ingest answered HTTP " + status + " to POST " + uri + ": " + message(response.body());
            if (status != 503 && status != 429) {
                throw new Failed(failure, null, false);
            }
            long delay = retryAfterMs(response).orElse(backoff);
            if (waited + delay > retryBudgetMs) {
                throw new Failed(failure + " (still so after " + attempt + " attempts over " + waited / 1000 + " s of waiting)", null, false);
            }
            sleep(delay);
            waited += delay;
            backoff = Math.min(MAX_RETRY_DELAY_MS, backoff * 2);
        }
    }

    /** {@code Retry-After} in seconds (at most {@link #MAX_RETRY_DELAY_MS}); empty when absent or not a number of seconds. */
    static OptionalLong retryAfterMs(HttpResponse<?> response) {
        Optional<String> header = response.headers().firstValue("Retry-After");
        if (header.isEmpty() || !header.get().trim().matches("[0-9]{1,9}")) {
            return OptionalLong.empty(); // an HTTP date is allowed too; ingest never sends one, the doubling delay serves
        }
        return OptionalLong.of(Math.min(MAX_RETRY_DELAY_MS, Long.parseLong(header.get().trim()) * 1000));
    }

    /** Joins lines into one NDJSON body, each ended by a newline. */
    public static byte[] ndjson(List<byte[]> lines) {
        ByteArrayOutputStream body = new ByteArrayOutputStream();
        for (byte[] line : lines) {
            body.writeBytes(line);
            body.write('\n');
        }
        return body.toByteArray();
    }

    private HttpResponse<String> send(HttpRequest request) throws Failed {
        try {
            return http.send(request, HttpResponse.BodyHandlers.ofString());
        } catch (ConnectException | HttpConnectTimeoutException e) {
            throw new Failed("cannot reach the ingest service at " + base + " (" + e.getClass().getSimpleName() + ")", e, true);
        } catch (IOException e) {
            throw new Failed("posting to the ingest service at " + request.uri() + " failed: " + e, e, false);
        } catch (InterruptedException e) {
            Thread.currentThread().interrupt();
            throw new Failed("interrupted while posting to the ingest service", e, false);
        }
    }

    static Answer parse(int status, String body) throws Failed {
        try {
            JsonNode json = JSON.readTree(body);
            if (json == null || !json.path("accepted").isIntegralNumber() || !json.path("rejected").isIntegralNumber()) {
                throw new Failed("ingest's answer (HTTP " + status + ") lacks accepted/rejected counts: " + body, null, false);
            }
            List<LineError> errors = new ArrayList<>();
            for (JsonNode e : json.path("errors")) {
                errors.add(new LineError(e.path("line").asLong(), e.path("reason").asText(), e.path("message").asText()));
            }
            return new Answer(status, json.path("accepted").asLong(), json.path("rejected").asLong(), json.path("prompts").asLong(0),
                    List.copyOf(errors), body);
        } catch (IOException e) {
            throw new Failed("ingest's answer (HTTP " + status + ") is not JSON: " + body, e, false);
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

    private void sleep(long ms) throws Failed {
        try {
            sleeper.sleep(ms);
        } catch (InterruptedException e) {
            Thread.currentThread().interrupt();
            throw new Failed("interrupted while waiting to retry", e, false);
        }
    }
}
