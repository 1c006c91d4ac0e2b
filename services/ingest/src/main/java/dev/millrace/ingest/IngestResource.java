package dev.millrace.ingest;

import com.fasterxml.jackson.annotation.JsonInclude;
import dev.millrace.core.record.Stage;
import dev.millrace.ingest.EnabledStages.StageIngest;
import dev.millrace.proto.v1.DeadLetter;
import dev.millrace.proto.v1.Source;
import jakarta.inject.Inject;
import jakarta.ws.rs.Consumes;
import jakarta.ws.rs.POST;
import jakarta.ws.rs.Path;
import jakarta.ws.rs.PathParam;
import jakarta.ws.rs.Produces;
import jakarta.ws.rs.QueryParam;
import jakarta.ws.rs.core.HttpHeaders;
import jakarta.ws.rs.core.MediaType;
import jakarta.ws.rs.core.Response;
import java.util.ArrayList;
import java.util.List;
import java.util.Optional;
import java.util.UUID;
import java.util.concurrent.CompletionException;
import java.util.function.LongFunction;
import org.jboss.logging.Logger;

/**
 * {@code POST /v1/{stage}/records} (docs/cli.md#http-ingest): every good line is produced to
 * {@code <stage>.raw} (a distill prompt to {@code distill.prompts}), every bad one to the dead-letter
 * topic, and the answer comes only once the broker has acknowledged all of them, so a 200 or 422
 * means nothing is left in flight. A 503 (with {@code Retry-After}) comes when a send failed, within
 * the producer's timeouts, or at once while the broker is known to be away ({@link BrokerOutage}).
 *
 * <p>Optional parameters besides {@code format}: {@code teacher} (distill only: the teacher id of the
 * answered conversations in the body), {@code source} and {@code first-line} (the body is lines of a
 * file, starting at that line: records and dead letters get {@code Source{kind="file", name=source,
 * line=first-line + n - 1}} instead of the request's, and the answer's line numbers are the file's),
 * {@code resubmit} ({@code true}: an operator re-sends these records on purpose, e.g. dead letters after
 * a fix downstream; every record is marked {@code resubmitted} so chat-template does not drop it as a
 * duplicate).
 */
@Path("/v1/{stage}/records")
public class IngestResource {
    /** Names the request in the source of every record and dead letter it produced. */
    static final String REQUEST_ID_HEADER = "Millrace-Request-Id";
    private static final Logger LOG = Logger.getLogger(IngestResource.class);

    private final EnabledStages stages;
    private final RecordProducer producer;
    private final long maxBodyBytes;

    @Inject
    IngestResource(EnabledStages stages, RecordProducer producer, IngestConfig config) {
        this.stages = stages;
        this.producer = producer;
        this.maxBodyBytes = config.ingest().maxBodyBytes();
    }

    /**
     * The answer for 200 and 422. {@code prompts} (distill only, else left out): how many of the
     * accepted lines were prompts, produced to distill.prompts instead of distill.raw.
     */
    @JsonInclude(JsonInclude.Include.NON_NULL)
    public record Answer(int accepted, int rejected, List<LineError> errors, Long prompts) {
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
    public Response post(@PathParam("stage") String stageId, @QueryParam("format") String format,
                         @QueryParam("teacher") String teacher, @QueryParam("source") String source,
                         @QueryParam("first-line") String firstLine, @QueryParam("resubmit") String resubmit, byte[] body) {
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
        LineIngester.Request request;
        LongFunction<Source> sources;
        String requestId = UUID.randomUUID().toString();
        try {
            request = new LineIngester.Request(LineIngester.forcedFormat(format, stage), teacher(teacher, stage), resubmit(resubmit));
            sources = sources(source, firstLine, requestId, maxBodyBytes);
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
        StageIngest ingest = enabled.get();
        LineIngester.Ingested result = ingest.ingester().ingest(bytes, request, sources, System.currentTimeMillis());
        try {
            producer.produceUnlessBrokerAway(ingest, result).join();
        } catch (CompletionException e) {
            String message;
            if (e.getCause() instanceof BrokerOutage.BrokerAway away) {
                // The send that timed out was logged as a warning; one line per refused request would flood the log.
                LOG.debugf("request %s refused: %s", requestId, away.getMessage());
                message = away.getMessage();
            } else {
                LOG.warnf(e.getCause(), "request %s: the broker did not acknowledge every record", requestId);
                message = "the broker did not acknowledge every record (" + e.getCause().getMessage() + ")";
            }
            return Response.status(Response.Status.SERVICE_UNAVAILABLE).header(REQUEST_ID_HEADER, requestId)
                    .header(HttpHeaders.RETRY_AFTER, BrokerOutage.RETRY_AFTER_SECONDS)
                    .entity(new Problem(message + "; sending the same body again is safe, record ids are content-derived"))
                    .build();
        }
        List<LineError> errors = new ArrayList<>();
        for (DeadLetter letter : result.rejected()) {
            errors.add(new LineError(letter.getSource().getLine(), letter.getReason(), letter.getMessage()));
        }
        int status = errors.isEmpty() ? 200 : 422; // 422: some lines were rejected, the others are accepted all the same
        Long prompts = stage == Stage.DISTILL ? result.prompts() : null;
        return Response.status(status).header(REQUEST_ID_HEADER, requestId)
                .entity(new Answer(result.accepted().size(), errors.size(), errors, prompts)).build();
    }

    /** {@code ?teacher=}: distill only, and not empty. */
    private static String teacher(String teacher, Stage stage) {
        if (teacher == null) {
            return null;
        }
        if (stage != Stage.DISTILL) {
            throw new IllegalArgumentException("teacher applies only to the distill stage, not " + stage.id());
        }
        if (teacher.isBlank()) {
            throw new IllegalArgumentException("teacher must name the teacher checkpoint; it is empty");
        }
        return teacher;
    }

    /** {@code ?resubmit=}: {@code true} or {@code false} (the default). */
    static boolean resubmit(String resubmit) {
        if (resubmit == null || resubmit.equals("false")) {
            return false;
        }
        if (resubmit.equals("true")) {
            return true;
        }
        throw new IllegalArgumentException("resubmit must be true or false, not '" + resubmit + "'");
    }

    /**
     * The source of each body line: the request's, or the file's given by {@code source} and {@code first-line}.
     *
     * @param maxBodyBytes bounds the body's lines (at most one more than its bytes), so that a
     *     {@code first-line} within {@link #largestFirstLine} numbers every line without overflow
     */
    static LongFunction<Source> sources(String source, String firstLine, String requestId, long maxBodyBytes) {
        if (source == null) {
            if (firstLine != null) {
                throw new IllegalArgumentException("first-line needs source: the name of the file the lines come from");
            }
            return n -> Source.newBuilder().setKind("http").setName(requestId).setLine(n).build();
        }
        if (source.isBlank()) {
            throw new IllegalArgumentException("source must name the file the lines come from; it is empty");
        }
        long first = firstLine == null ? 1 : firstLine(firstLine, maxBodyBytes);
        long offset = first - 1;
        return n -> Source.newBuilder().setKind("file").setName(source).setLine(offset + n).build();
    }

    /**
     * The largest {@code first-line}: a body of {@code maxBodyBytes} bytes has at most
     * {@code maxBodyBytes + 1} lines, and the last one's number must still fit in a line number
     * (a 64-bit signed integer, as in {@code Source.line}).
     */
    static long largestFirstLine(long maxBodyBytes) {
        return Long.MAX_VALUE - maxBodyBytes;
    }

    private static long firstLine(String firstLine, long maxBodyBytes) {
        long largest = largestFirstLine(maxBodyBytes);
        String belowOne = "first-line must be a line number (1 or more), not '" + firstLine + "'";
        String tooLarge = "first-line must be a line number from 1 to " + largest + ", not '" + firstLine + "': a larger one would "
                + "number the body's last lines past " + Long.MAX_VALUE + ", the largest line number (a body of up to "
                + "millrace.ingest.max-body-bytes = " + maxBodyBytes + " bytes has up to " + maxBodyBytes + " + 1 lines)";
        long first;
        try {
            first = Long.parseLong(firstLine);
        } catch (NumberFormatException e) {
            throw new IllegalArgumentException(firstLine.matches("\\+?[0-9]+") ? tooLarge : belowOne);
        }
        if (first < 1) {
            throw new IllegalArgumentException(belowOne);
        }
        if (first > largest) {
            throw new IllegalArgumentException(tooLarge);
        }
        return first;
    }

    private static Response problem(Response.Status status, String message) {
        return Response.status(status).entity(new Problem(message)).build();
    }
}
