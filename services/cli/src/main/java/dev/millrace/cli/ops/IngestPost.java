package dev.millrace.cli.ops;

import com.fasterxml.jackson.databind.JsonNode;
import com.fasterxml.jackson.databind.ObjectMapper;
import dev.millrace.cli.local.IngestClient;
import dev.millrace.core.record.Stage;
import java.io.ByteArrayOutputStream;
import java.io.IOException;
import java.net.URI;
import java.net.URLEncoder;
import java.net.http.HttpClient;
import java.net.http.HttpRequest;
import java.net.http.HttpResponse;
import java.nio.charset.StandardCharsets;
import java.time.Duration;
import java.util.ArrayList;
import java.util.List;

/**
 * Re-submits lines to ingest: {@code POST /v1/{stage}/records?resubmit=true}, plus {@code &teacher=}
 * for distill answers (docs/cli.md#http-ingest). {@code resubmit=true} marks the records as re-sent on purpose, so
 * chat-template does not drop one whose id it saw before (e.g. when it was dead-lettered further
 * downstream and re-sent unchanged after a fix of the template or a setting).
 */
public final class IngestPost {
    private static final ObjectMapper JSON = new ObjectMapper();

    private IngestPost() {
    }

    /** Joins lines into one NDJSON body, each ended by a newline. */
    public static byte[] body(List<byte[]> lines) {
        ByteArrayOutputStream body = new ByteArrayOutputStream();
        for (byte[] line : lines) {
            body.writeBytes(line);
            body.write('\n');
        }
        return body.toByteArray();
    }

    /** Where a re-submitted body for {@code stage} (and teacher, may be null or empty) goes. */
    public static URI target(URI ingest, Stage stage, String teacherId) {
        String base = ingest.toString().replaceAll("/+$", "");
        String query = "?resubmit=true"
                + (teacherId == null || teacherId.isEmpty() ? "" : "&teacher=" + URLEncoder.encode(teacherId, StandardCharsets.UTF_8));
        return URI.create(base + "/v1/" + stage.id() + "/records" + query);
    }

    /**
     * @throws IllegalStateException when ingest cannot be reached, or answers other than 200/422, or not the documented JSON
     */
    public static IngestClient.Answer post(URI target, byte[] ndjson) {
        HttpClient http = HttpClient.newBuilder().connectTimeout(Duration.ofSeconds(5)).build();
        HttpRequest request = HttpRequest.newBuilder(target).timeout(Duration.ofMinutes(2))
                .header("Content-Type", "application/x-ndjson").POST(HttpRequest.BodyPublishers.ofByteArray(ndjson)).build();
        HttpResponse<String> response;
        try {
            response = http.send(request, HttpResponse.BodyHandlers.ofString());
        } catch (IOException e) {
            throw new IllegalStateException("cannot post to ingest at " + target + " (" + e + "); give its address with --url", e);
        } catch (InterruptedException e) {
            Thread.currentThread().interrupt();
            throw new IllegalStateException("interrupted while posting to ingest", e);
        }
        int status = response.statusCode();
        if (status != 200 && status != 422) {
            throw new IllegalStateException("ingest answered HTTP " + status + " to POST " + target + ": " + response.body());
        }
        try {
            JsonNode body = JSON.readTree(response.body());
            if (!body.path("accepted").isIntegralNumber() || !body.path("rejected").isIntegralNumber()) {
                throw new IllegalStateException("ingest's answer lacks accepted/rejected counts: " + response.body());
            }
            List<IngestClient.LineError> errors = new ArrayList<>();
            for (JsonNode e : body.path("errors")) {
                errors.add(new IngestClient.LineError(e.path("line").asLong(), e.path("reason").asText(), e.path("message").asText()));
            }
            return new IngestClient.Answer(status, body.path("accepted").asLong(), body.path("rejected").asLong(), List.copyOf(errors),
                    response.body());
        } catch (IOException e) {
            throw new IllegalStateException("ingest's answer (HTTP " + status + ") is not JSON: " + response.body(), e);
        }
    }
}
