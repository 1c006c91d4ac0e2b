package dev.millrace.ingest;

import dev.millrace.core.chat.InputFormat;
import dev.millrace.core.record.Reason;
import dev.millrace.core.record.Stage;
import dev.millrace.ingest.EnabledStages.StageIngest;
import dev.millrace.proto.v1.DeadLetter;
import dev.millrace.proto.v1.RawRecord;
import dev.millrace.streams.DeadLetters;
import jakarta.inject.Inject;
import jakarta.ws.rs.Consumes;
import jakarta.ws.rs.POST;
import jakarta.ws.rs.Path;
import jakarta.ws.rs.PathParam;
import jakarta.ws.rs.Produces;
import jakarta.ws.rs.QueryParam;
import jakarta.ws.rs.core.MediaType;
import jakarta.ws.rs.core.Response;
import java.util.ArrayList;
import java.util.List;
import java.util.Optional;
import java.util.UUID;
import java.util.concurrent.CompletableFuture;
import java.util.concurrent.CompletionException;
import org.eclipse.microprofile.config.inject.ConfigProperty;
import org.jboss.logging.Logger;

/**
 * {@code POST /v1/{stage}/records} (CLI.md, "HTTP ingest"): every good line is produced to
 * {@code <stage>.raw}, every bad one to the dead-letter topic, and the answer comes only once the
 * broker has acknowledged all of them, so a 200 or 422 means nothing is left in flight.
 */
@Path("/v1/{stage}/records")
public class IngestResource {
    /** Names the request in the source of every record and dead letter it produced. */
    static final String REQUEST_ID_HEADER = "Millrace-Request-Id";
    private static final Logger LOG = Logger.getLogger(IngestResource.class);

    private final EnabledStages stages;
    private final RecordSink sink;
    private final long maxBodyBytes;

    @Inject
    IngestResource(EnabledStages stages, RecordSink sink,
                   @ConfigProperty(name = "millrace.ingest.max-body-bytes") long maxBodyBytes) {
        this.stages = stages;
        this.sink = sink;
        this.maxBodyBytes = maxBodyBytes;
    }

    /** The answer for 200 and 422. */
    public record Answer(int accepted, int rejected, List<LineError> errors) {
    }

    public record LineError(long line, String reason, String message) {
    }

    /** The answer for 400, 413 and 503. */
    public record Problem(String message) {
    }

    // The body is taken as bytes, never as a String: a line that is not UTF-8 must reach core intact.
    // A blocking signature: Quarkus runs it on a worker thread, so waiting for the broker is fine.
    @POST
    @Consumes(MediaType.WILDCARD)
    @Produces(MediaType.APPLICATION_JSON)
    public Response post(@PathParam("stage") String stageId, @QueryParam("format") String format, byte[] body) {
        Stage stage;
        try {
            stage = Stage.fromId(stageId);
        } catch (IllegalArgumentException e) {
            return problem(Response.Status.BAD_REQUEST, e.getMessage());
        }
        Optional<StageIngest> enabled = stages.get(stage);
        if (enabled.isEmpty()) {
            return problem(Response.Status.BAD_REQUEST, "stage '" + stageId + "' is not enabled on this ingest service "
                    + "(millrace.stages=" + String.join(",", stages.ids()) + ")");
        }
        InputFormat forced;
        try {
            forced = LineIngester.forcedFormat(format, stage);
        } catch (IllegalArgumentException e) {
            return problem(Response.Status.BAD_REQUEST, e.getMessage());
        }
        byte[] bytes = body == null ? new byte[0] : body;
        // The HTTP layer already refuses longer bodies (quarkus.http.limits.max-body-size); this holds
        // even if the two settings are ever configured apart.
        if (bytes.length > maxBodyBytes) {
            return problem(Response.Status.REQUEST_ENTITY_TOO_LARGE, "the body is over the limit of " + maxBodyBytes
                    + " bytes (millrace.ingest.max-body-bytes); nothing was accepted");
        }
        String requestId = UUID.randomUUID().toString();
        StageIngest ingest = enabled.get();
        LineIngester.Ingested result = ingest.ingester().ingest(bytes, forced, requestId, System.currentTimeMillis());
        try {
            produce(ingest, result).join();
        } catch (CompletionException e) {
            LOG.warnf(e.getCause(), "request %s: the broker did not acknowledge every record", requestId);
            return Response.status(Response.Status.SERVICE_UNAVAILABLE).header(REQUEST_ID_HEADER, requestId)
                    .entity(new Problem("the broker did not acknowledge every record (" + e.getCause().getMessage()
                            + "); sending the same body again is safe, record ids are content-derived"))
                    .build();
        }
        List<LineError> errors = new ArrayList<>();
        for (DeadLetter letter : result.rejected()) {
            errors.add(new LineError(letter.getSource().getLine(), letter.getReason(), letter.getMessage()));
        }
        int status = errors.isEmpty() ? 200 : 422; // 422: some lines were rejected, the others are accepted all the same
        return Response.status(status).header(REQUEST_ID_HEADER, requestId)
                .entity(new Answer(result.accepted().size(), errors.size(), errors)).build();
    }

    /**
     * Sends everything at once and completes when the broker has acknowledged it all (or failed any).
     * A send that fails at once (no metadata for the topic within max.block.ms: the broker is down or
     * the topic is missing) stops the rest, which would each wait as long again before failing.
     */
    private CompletableFuture<Void> produce(StageIngest ingest, LineIngester.Ingested result) {
        for (int i = 0; i < result.lines(); i++) {
            ingest.metrics().in();
        }
        List<CompletableFuture<Void>> sends = new ArrayList<>(result.lines());
        for (RawRecord record : result.accepted()) {
            CompletableFuture<Void> sent = sink.send(ingest.rawTopic(), record.getRecordId(), record.toByteArray());
            if (sent.isCompletedExceptionally()) {
                return sent;
            }
            sends.add(sent.thenRun(() -> ingest.metrics().out()));
        }
        for (DeadLetter letter : result.rejected()) {
            Reason reason = Reason.valueOf(letter.getReason());
            CompletableFuture<Void> sent = sink.send(ingest.dlqTopic(), DeadLetters.key(letter), letter.toByteArray());
            if (sent.isCompletedExceptionally()) {
                return sent;
            }
            sends.add(sent.thenRun(() -> ingest.metrics().deadLetter(reason)));
        }
        return CompletableFuture.allOf(sends.toArray(CompletableFuture[]::new));
    }

    private static Response problem(Response.Status status, String message) {
        return Response.status(status).entity(new Problem(message)).build();
    }
}
