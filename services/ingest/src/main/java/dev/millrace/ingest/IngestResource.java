package dev.millrace.ingest;

import com.fasterxml.jackson.annotation.JsonInclude;
import com.fasterxml.jackson.annotation.JsonProperty;
import dev.millrace.core.record.Stage;
import dev.millrace.ingest.EnabledStages.StageIngest;
import dev.millrace.proto.v1.DeadLetter;
import dev.millrace.proto.v1.Source;
import dev.millrace.core.json.LineReader;
import dev.millrace.core.json.RawLine;
import jakarta.inject.Inject;
import jakarta.ws.rs.Consumes;
import jakarta.ws.rs.HeaderParam;
import jakarta.ws.rs.POST;
import jakarta.ws.rs.Path;
import jakarta.ws.rs.PathParam;
import jakarta.ws.rs.Produces;
import jakarta.ws.rs.QueryParam;
import jakarta.ws.rs.core.HttpHeaders;
import jakarta.ws.rs.core.MediaType;
import jakarta.ws.rs.core.Response;
import java.io.ByteArrayInputStream;
import java.io.InputStream;
import java.io.UncheckedIOException;
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
 *
 * <p>Memory is bounded per request and in total: the body is read as a stream, line by line, each line
 * produced as it is read with at most {@link RecordProducer#MAX_UNACKNOWLEDGED_BYTES} unacknowledged
 * ({@link RecordProducer.Sends}); the answer keeps counts and the first {@link #MAX_LISTED_ERRORS} rejected
 * lines; at most {@code millrace.ingest.max-concurrent-requests} bodies are read at once, one more is
 * answered 429 ({@link RequestSlots}). A body over {@code max-body-bytes} is refused before anything is read
 * when its {@code Content-Length} says so; a body without one (chunked) that passes the limit is stopped
 * there, and its 413 says which lines were taken before ({@link Stopped}).
 */
@Path("/v1/{stage}/records")
public class IngestResource {
    /** Names the request in the source of every record and dead letter it produced. */
    static final String REQUEST_ID_HEADER = "Millrace-Request-Id";
    /** How many rejected lines an answer lists; {@code rejected} counts them all, and each is a dead letter. */
    static final int MAX_LISTED_ERRORS = 1000;
    private static final String CONNECTION = "Connection";
    /**
     * How much of a body past the limit is still read (and discarded) before its 413: a client whose body
     * ends within it gets the answer on a whole connection; a longer body's connection is closed.
     */
    static final long PAST_LIMIT_DISCARDED_BYTES = 1 << 20;
    private static final Logger LOG = Logger.getLogger(IngestResource.class);

    private final EnabledStages stages;
    private final RecordProducer producer;
    private final RequestSlots slots;
    private final long maxBodyBytes;

    @Inject
    IngestResource(EnabledStages stages, RecordProducer producer, RequestSlots slots, IngestConfig config) {
        this.stages = stages;
        this.producer = producer;
        this.slots = slots;
        this.maxBodyBytes = config.ingest().maxBodyBytes();
    }

    /**
     * The answer for 200 and 422. {@code prompts} (distill only, else left out): how many of the
     * accepted lines were prompts, produced to distill.prompts instead of distill.raw. {@code errors}: the
     * first {@link #MAX_LISTED_ERRORS} rejected lines.
     */
    @JsonInclude(JsonInclude.Include.NON_NULL)
    public record Answer(long accepted, long rejected, List<LineError> errors, Long prompts) {
    }

    public record LineError(long line, String reason, String message) {
    }

    /** The answer for 400, 413 (a body refused whole), 429 and 503. */
    public record Problem(String message) {
    }

    /**
     * The 413 of a body without {@code Content-Length} that passed the limit: the lines before
     * {@code stopped_at_line} were taken as counted (and acknowledged), that line and the ones after it
     * were not read.
     */
    @JsonInclude(JsonInclude.Include.NON_NULL)
    public record Stopped(String message, long accepted, long rejected, List<LineError> errors, Long prompts,
                          @JsonProperty("stopped_at_line") long stoppedAtLine) {
    }

    // The body is read as bytes, never as a String: a line that is not UTF-8 must reach core intact. As a
    // stream: Quarkus REST hands a blocking method an InputStream that reads from the connection as the
    // lines are taken (quarkus.http.limits.max-body-size is off: ingest counts the bytes itself).
    // A blocking signature: Quarkus runs it on a worker thread, so waiting for the broker is fine.
    @POST
    @Consumes(MediaType.WILDCARD)
    @Produces(MediaType.APPLICATION_JSON)
    public Response post(@PathParam("stage") String stageId, @QueryParam("format") String format,
                         @QueryParam("teacher") String teacher, @QueryParam("source") String source,
                         @QueryParam("first-line") String firstLine, @QueryParam("resubmit") String resubmit,
                         @HeaderParam(HttpHeaders.CONTENT_LENGTH) String contentLength, InputStream body) {
        LimitedBody bytes = new LimitedBody(body == null ? new ByteArrayInputStream(new byte[0]) : body, maxBodyBytes);
        Long declared = declaredLength(contentLength);
        if (declared != null && declared > maxBodyBytes) {
            // Refused before anything is read, and the connection closed: reading the body would only waste it.
            return Response.status(Response.Status.REQUEST_ENTITY_TOO_LARGE).header(CONNECTION, "close")
                    .entity(new Problem(tooLarge() + "; nothing was accepted")).build();
        }
        Stage stage;
        try {
            stage = Stage.fromId(stageId);
        } catch (IllegalArgumentException e) {
            return refused(bytes, Response.status(Response.Status.BAD_REQUEST).entity(new Problem(e.getMessage())));
        }
        Optional<StageIngest> enabled = stages.get(stage);
        if (enabled.isEmpty()) {
            return refused(bytes, Response.status(Response.Status.BAD_REQUEST).entity(new Problem("stage '" + stageId
                    + "' is not enabled on this ingest service (millrace.stages=" + String.join(",", stages.ids()) + ")")));
        }
        LineIngester.Request request;
        LongFunction<Source> sources;
        String requestId = UUID.randomUUID().toString();
        try {
            request = new LineIngester.Request(LineIngester.forcedFormat(format, stage), teacher(teacher, stage), resubmit(resubmit));
            sources = sources(source, firstLine, requestId, maxBodyBytes);
        } catch (IllegalArgumentException e) {
            return refused(bytes, Response.status(Response.Status.BAD_REQUEST).entity(new Problem(e.getMessage())));
        }
        if (!slots.tryAcquire()) {
            LOG.debugf("request %s refused: all %d slots are taken", requestId, slots.slots());
            return refused(bytes, Response.status(Response.Status.TOO_MANY_REQUESTS).header(REQUEST_ID_HEADER, requestId)
                    .header(HttpHeaders.RETRY_AFTER, RequestSlots.RETRY_AFTER_SECONDS)
                    .entity(new Problem("ingest is reading " + slots.slots() + " bodies already (millrace.ingest.max-concurrent-requests); "
                            + "nothing of this body was taken; send it again after " + RequestSlots.RETRY_AFTER_SECONDS + " s")));
        }
        try {
            return ingest(enabled.get(), request, sources, requestId, bytes);
        } finally {
            slots.release();
        }
    }

    /** Reads the body line by line, producing each line as it is read; answers once all is acknowledged. */
    private Response ingest(StageIngest ingest, LineIngester.Request request, LongFunction<Source> sources, String requestId, LimitedBody body) {
        LineReader lines = new LineReader(body, ingest.ingester().keepBytes());
        RecordProducer.Sends sends = producer.sends(ingest);
        Tally tally = new Tally();
        long stoppedAt = 0;
        try {
            while (lines.hasNext()) {
                RawLine line = lines.next();
                if (body.overLimit()) {
                    stoppedAt = line.number(); // the line the limit cut: not taken
                    break;
                }
                if (line.isBlank()) {
                    continue;
                }
                LineIngester.Ingested one = new LineIngester.Ingested();
                ingest.ingester().add(one, line, request, sources.apply(line.number()), System.currentTimeMillis());
                sends.send(one);
                tally.add(one);
            }
            if (body.overLimit() && stoppedAt == 0) {
                stoppedAt = lines.linesRead() + 1; // the limit fell right after a line end
            }
            sends.finish();
        } catch (CompletionException e) {
            return refused(body, brokerFailure(e, requestId));
        } catch (UncheckedIOException e) {
            // The body could not be read to its end (the client went away or stalled past the read timeout).
            try {
                sends.finish();
            } catch (CompletionException ignored) {
                // reported to BrokerOutage; the client hears nothing more either way
            }
            LOG.infof("request %s: the body could not be read to its end after %d lines (%s)", requestId, lines.linesRead(), e.getMessage());
            return Response.status(Response.Status.BAD_REQUEST).header(REQUEST_ID_HEADER, requestId).header(CONNECTION, "close")
                    .entity(new Problem("the body could not be read to its end (" + e.getMessage() + ")")).build();
        } catch (RuntimeException | Error e) {
            sends.abandon(e);
            throw e;
        }
        Long prompts = ingest.stage() == Stage.DISTILL ? tally.prompts : null;
        if (body.overLimit()) {
            long stoppedLine = sources.apply(stoppedAt).getLine();
            Response.ResponseBuilder answer = Response.status(Response.Status.REQUEST_ENTITY_TOO_LARGE).header(REQUEST_ID_HEADER, requestId);
            if (!body.discardPastLimit(PAST_LIMIT_DISCARDED_BYTES)) {
                answer.header(CONNECTION, "close");
            }
            return answer.entity(new Stopped(tooLarge() + "; it was read up to the limit: the lines before line " + stoppedLine
                            + " were taken as counted, that line and the ones after it were not read (send them again as a body of their own)",
                            tally.accepted, tally.rejected, tally.errors, prompts, stoppedLine)).build();
        }
        int status = tally.rejected == 0 ? 200 : 422; // 422: some lines were rejected, the others are accepted all the same
        return Response.status(status).header(REQUEST_ID_HEADER, requestId)
                .entity(new Answer(tally.accepted, tally.rejected, tally.errors, prompts)).build();
    }

    private String tooLarge() {
        return "the body is over the limit of " + maxBodyBytes + " bytes (millrace.ingest.max-body-bytes)";
    }

    /** The 503 of a request refused while the broker is away, or whose sends were not all acknowledged. */
    private static Response.ResponseBuilder brokerFailure(CompletionException e, String requestId) {
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
                .entity(new Problem(message + "; sending the same body again is safe, record ids are content-derived"));
    }

    /**
     * An answer given before the body was read to its end: the rest of the body is read and discarded
     * first (up to the limit), so that a client that writes its whole body before reading gets the answer
     * on a connection that is still whole; past the limit the connection is closed after the answer.
     */
    private static Response refused(LimitedBody body, Response.ResponseBuilder answer) {
        if (!body.drain()) {
            answer.header(CONNECTION, "close");
        }
        return answer.build();
    }

    /** The {@code Content-Length} header as a number; null when absent or not a number (the body is then counted as read). */
    private static Long declaredLength(String contentLength) {
        if (contentLength == null) {
            return null;
        }
        try {
            return Long.parseLong(contentLength.trim());
        } catch (NumberFormatException e) {
            return null;
        }
    }

    /** What an answer says of the lines read: counts, and the first rejected lines. */
    private static final class Tally {
        long accepted;
        long prompts;
        long rejected;
        final List<LineError> errors = new ArrayList<>();

        void add(LineIngester.Ingested lines) {
            accepted += lines.accepted().size();
            prompts += lines.prompts();
            for (DeadLetter letter : lines.rejected()) {
                rejected++;
                if (errors.size() < MAX_LISTED_ERRORS) {
                    errors.add(new LineError(letter.getSource().getLine(), letter.getReason(), letter.getMessage()));
                }
            }
        }
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

}
