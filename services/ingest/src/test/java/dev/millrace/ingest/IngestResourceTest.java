package dev.millrace.ingest;

import static org.assertj.core.api.Assertions.assertThat;
import static org.assertj.core.api.Assertions.assertThatThrownBy;

import dev.millrace.core.record.Stage;
import dev.millrace.proto.v1.Source;
import io.micrometer.core.instrument.simple.SimpleMeterRegistry;
import jakarta.ws.rs.core.Response;
import java.io.ByteArrayInputStream;
import java.nio.charset.StandardCharsets;
import java.util.ArrayList;
import java.util.List;
import java.util.Map;
import java.util.concurrent.CompletableFuture;
import java.util.concurrent.TimeUnit;
import org.apache.kafka.common.errors.NotEnoughReplicasException;
import org.junit.jupiter.api.BeforeEach;
import org.junit.jupiter.api.Test;

/** The resource with a stand-in sink: when it answers, and what it answers when the broker fails. */
class IngestResourceTest {
    private static final byte[] BODY = ("{\"conversations\":[{\"content\":\"a\"},{\"content\":\"b\"}]}\n"
            + "{\"conversations\":[]}\n").getBytes(StandardCharsets.UTF_8);

    private SimpleMeterRegistry registry;
    private EnabledStages stages;

    @BeforeEach
    void start() {
        registry = new SimpleMeterRegistry();
        stages = new EnabledStages(IngestConfigTest.mapped(Map.of("millrace.stages", "sft,distill", "millrace.ingest.max-record-bytes", "1024")), registry);
    }

    private RequestSlots slots(int slots) {
        return new RequestSlots(slots, registry);
    }

    /** A POST as Quarkus REST makes it: the body as a stream, with its length declared. */
    static Response post(IngestResource resource, String stage, String format, String teacher, String source, String firstLine,
                         String resubmit, byte[] body) {
        return resource.post(stage, format, teacher, source, firstLine, resubmit, String.valueOf(body.length), new ByteArrayInputStream(body));
    }

    private static IngestConfig maxBodyBytes(long maxBodyBytes) {
        return IngestConfigTest.mapped(Map.of("millrace.ingest.max-body-bytes", String.valueOf(maxBodyBytes)));
    }

    /** Holds every send until the test acknowledges or fails it. */
    static final class HeldSink implements RecordSink {
        final List<String> topics = new ArrayList<>();
        final List<CompletableFuture<Void>> pending = new ArrayList<>();
        private int mostUnacknowledged;

        @Override
        public synchronized CompletableFuture<Void> send(String topic, String key, byte[] value) {
            CompletableFuture<Void> f = new CompletableFuture<>();
            topics.add(topic);
            pending.add(f);
            mostUnacknowledged = Math.max(mostUnacknowledged, (int) pending.stream().filter(p -> !p.isDone()).count());
            return f;
        }

        synchronized int sent() {
            return pending.size();
        }

        /** The most sends that were unacknowledged at once (this one included), counted at each send. */
        synchronized int mostUnacknowledged() {
            return mostUnacknowledged;
        }

        synchronized void acknowledge(int index) {
            pending.get(index).complete(null);
        }
    }

    @Test
    void answersOnlyOnceTheBrokerHasAcknowledgedEveryRecord() throws Exception {
        HeldSink sink = new HeldSink();
        IngestResource resource = new IngestResource(stages, new RecordProducer(sink), slots(4), maxBodyBytes(1 << 20));

        CompletableFuture<Response> answer = CompletableFuture.supplyAsync(() -> post(resource, "sft", null, null, null, null, null, BODY));
        long deadline = System.currentTimeMillis() + 10_000;
        while (sink.sent() < 2 && System.currentTimeMillis() < deadline) {
            Thread.sleep(10);
        }
        assertThat(sink.topics).containsExactly("millrace.sft.raw", "millrace.dlq");
        sink.pending.get(0).complete(null);
        sink.pending.get(1).complete(null);
        Response response = answer.get(10, TimeUnit.SECONDS);

        assertThat(response.getStatus()).isEqualTo(422);
        IngestResource.Answer body = (IngestResource.Answer) response.getEntity();
        assertThat(body.accepted()).isEqualTo(1);
        assertThat(body.rejected()).isEqualTo(1);
        assertThat(body.errors()).containsExactly(new IngestResource.LineError(2, "EMPTY_CONVERSATION", "\"conversations\" is an empty list"));
        assertThat(response.getHeaderString(IngestResource.REQUEST_ID_HEADER)).isNotBlank();
        assertThat(count("millrace.records.in")).isEqualTo(2.0);
        assertThat(count("millrace.records.out")).isEqualTo(1.0);
        assertThat(registry.counter("millrace.dead.letters", "service", "ingest", "stage", "sft", "reason", "EMPTY_CONVERSATION").count())
                .isEqualTo(1.0);
    }

    /**
     * The answer waits for the dead letter's acknowledgement: the record is acknowledged first and the
     * dead letter then refused, so only an answer given after that refusal can be 503; one given on the
     * record's acknowledgement alone would be 422, however quickly the refusal followed.
     */
    @Test
    void noAnswerBeforeTheDeadLetterIsAcknowledged() throws Exception {
        HeldSink sink = new HeldSink();
        IngestResource resource = new IngestResource(stages, new RecordProducer(sink), slots(4), maxBodyBytes(1 << 20));

        CompletableFuture<Response> answer = CompletableFuture.supplyAsync(() -> post(resource, "sft", null, null, null, null, null, BODY));
        long deadline = System.currentTimeMillis() + 10_000;
        while (sink.sent() < 2 && System.currentTimeMillis() < deadline) {
            Thread.sleep(10);
        }
        assertThat(sink.topics).containsExactly("millrace.sft.raw", "millrace.dlq");
        sink.pending.get(0).complete(null);
        sink.pending.get(1).completeExceptionally(new NotEnoughReplicasException("dead letter not acknowledged"));
        Response response = answer.get(10, TimeUnit.SECONDS);

        assertThat(response.getStatus()).as("the answer reflects the dead letter's refusal").isEqualTo(503);
        assertThat(((IngestResource.Problem) response.getEntity()).message()).contains("dead letter not acknowledged");
    }

    @Test
    void aSendTheBrokerRefusesIs503WithAMessage() throws Exception {
        HeldSink sink = new HeldSink();
        IngestResource resource = new IngestResource(stages, new RecordProducer(sink), slots(4), maxBodyBytes(1 << 20));

        CompletableFuture<Response> answer = CompletableFuture.supplyAsync(() -> post(resource, "sft", "auto", null, null, null, null, BODY));
        long deadline = System.currentTimeMillis() + 10_000;
        while (sink.sent() < 2 && System.currentTimeMillis() < deadline) {
            Thread.sleep(10);
        }
        sink.pending.get(0).completeExceptionally(new NotEnoughReplicasException("not enough replicas"));
        sink.pending.get(1).complete(null);
        Response response = answer.get(10, TimeUnit.SECONDS);

        assertThat(response.getStatus()).isEqualTo(503);
        assertThat(((IngestResource.Problem) response.getEntity()).message()).contains("not enough replicas").contains("again");
        assertThat(count("millrace.records.out")).as("the refused record is not counted out").isZero();
    }

    @Test
    void aSendThatFailsAtOnceStopsTheRestInsteadOfWaitingForEachInTurn() {
        List<String> topics = new ArrayList<>();
        RecordSink down = (topic, key, value) -> {
            topics.add(topic);
            return CompletableFuture.failedFuture(new org.apache.kafka.common.errors.TimeoutException(
                    "Topic " + topic + " not present in metadata after 10000 ms."));
        };
        IngestResource resource = new IngestResource(stages, new RecordProducer(down), slots(4), maxBodyBytes(1 << 20));

        Response response = post(resource, "sft", null, null, null, null, null, BODY);

        assertThat(response.getStatus()).isEqualTo(503);
        assertThat(((IngestResource.Problem) response.getEntity()).message()).contains("not present in metadata");
        assertThat(topics).containsExactly("millrace.sft.raw");
    }

    @Test
    void theBodyLimitHoldsInTheResourceToo() {
        HeldSink sink = new HeldSink();
        IngestResource resource = new IngestResource(stages, new RecordProducer(sink), slots(4), maxBodyBytes(BODY.length - 1));

        Response response = post(resource, "sft", null, null, null, null, null, BODY);

        assertThat(response.getStatus()).isEqualTo(413);
        assertThat(sink.sent()).isZero();
        assertThat(count("millrace.records.in")).isZero();
    }

    @Test
    void stagesAndFormatsAreChecked() {
        IngestResource resource = new IngestResource(stages, new RecordProducer(new HeldSink()), slots(4), maxBodyBytes(1 << 20));

        Response unknown = post(resource, "finetune", null, null, null, null, null, BODY);
        Response disabled = post(resource, "dpo", null, null, null, null, null, BODY);
        Response format = post(resource, "sft", "dpo", null, null, null, null, BODY);

        assertThat(unknown.getStatus()).isEqualTo(400);
        assertThat(((IngestResource.Problem) unknown.getEntity()).message()).contains("unknown stage 'finetune'");
        assertThat(disabled.getStatus()).isEqualTo(400);
        assertThat(((IngestResource.Problem) disabled.getEntity()).message()).contains("'dpo' is not enabled").contains("millrace.stages=sft,distill");
        assertThat(format.getStatus()).isEqualTo(400);
        assertThat(((IngestResource.Problem) format.getEntity()).message()).contains("unknown format 'dpo' for stage sft");
    }

    @Test
    void everyStageCanBeEnabledAndAnUnknownOneStopsTheService() {
        assertThat(new EnabledStages(IngestConfigTest.mapped(Map.of("millrace.stages", "pretrain,sft,dpo,distill")), registry).stages())
                .containsExactly(Stage.PRETRAIN, Stage.SFT, Stage.DPO, Stage.DISTILL);
        assertThatThrownBy(() -> IngestConfigTest.mapped(Map.of("millrace.stages", "sft,finetune")))
                .hasMessageContaining("finetune");
    }

    @Test
    void theFileSourceParametersAreChecked() {
        IngestResource resource = new IngestResource(stages, new RecordProducer(new HeldSink()), slots(4), maxBodyBytes(1 << 20));

        Response firstLineAlone = post(resource, "sft", null, null, null, "3", null, BODY);
        Response zero = post(resource, "sft", null, null, "data.jsonl", "0", null, BODY);
        Response notANumber = post(resource, "sft", null, null, "data.jsonl", "x", null, BODY);
        Response teacherForSft = post(resource, "sft", null, "ckpt", null, null, null, BODY);
        Response emptyTeacher = post(resource, "distill", null, "", null, null, null, BODY);

        assertThat(List.of(firstLineAlone, zero, notANumber, teacherForSft, emptyTeacher)).extracting(Response::getStatus).containsOnly(400);
        assertThat(((IngestResource.Problem) firstLineAlone.getEntity()).message()).contains("first-line needs source");
        assertThat(((IngestResource.Problem) notANumber.getEntity()).message()).contains("'x'");
        assertThat(((IngestResource.Problem) teacherForSft.getEntity()).message()).contains("only to the distill stage");
    }

    @Test
    void resubmitIsTrueOrFalseAndAnythingElseIs400WithNothingSent() {
        HeldSink sink = new HeldSink();
        IngestResource resource = new IngestResource(stages, new RecordProducer(sink), slots(4), maxBodyBytes(1 << 20));

        Response yes = post(resource, "sft", null, null, null, null, "yes", BODY);
        Response empty = post(resource, "sft", null, null, null, null, "", BODY);

        assertThat(List.of(yes, empty)).extracting(Response::getStatus).containsOnly(400);
        assertThat(((IngestResource.Problem) yes.getEntity()).message()).contains("resubmit must be true or false, not 'yes'");
        assertThat(sink.sent()).isZero();
        assertThat(IngestResource.resubmit(null)).isFalse();
        assertThat(IngestResource.resubmit("false")).isFalse();
        assertThat(IngestResource.resubmit("true")).isTrue();
    }

    @Test
    void fileSourcesNumberLinesFromTheFirstLine() {
        var sources = IngestResource.sources("data/part-7.jsonl", "1001", "req", 1 << 20);
        assertThat(sources.apply(1)).isEqualTo(Source.newBuilder().setKind("file").setName("data/part-7.jsonl").setLine(1001).build());
        assertThat(sources.apply(5).getLine()).isEqualTo(1005);
        assertThat(IngestResource.sources("data.jsonl", null, "req", 1 << 20).apply(2).getLine()).isEqualTo(2);
        assertThat(IngestResource.sources(null, null, "req", 1 << 20).apply(2))
                .isEqualTo(Source.newBuilder().setKind("http").setName("req").setLine(2).build());
    }

    /** Keeps every send, acknowledged at once. */
    static final class KeptSink implements RecordSink {
        final List<String> topics = new ArrayList<>();
        final List<byte[]> values = new ArrayList<>();

        @Override
        public synchronized CompletableFuture<Void> send(String topic, String key, byte[] value) {
            topics.add(topic);
            values.add(value);
            return CompletableFuture.completedFuture(null);
        }
    }

    @Test
    void linesPastTheJsonParsersLimitsOrRepeatingAKeyAreRejectedAloneAndTheGoodLinesAccepted() throws Exception {
        // The default per-record limit (1 MiB): every line below reaches the JSON parser.
        EnabledStages roomy = new EnabledStages(IngestConfigTest.mapped(Map.of("millrace.stages", "sft")), registry);
        KeptSink sink = new KeptSink();
        IngestResource resource = new IngestResource(roomy, new RecordProducer(sink), slots(4), maxBodyBytes(1 << 20));
        String good = "{\"conversations\":[{\"content\":\"q%d\"},{\"content\":\"a\"}]}";
        List<String> lines = List.of(
                String.format(good, 1),
                "{\"conversations\":" + "[".repeat(1500) + "]".repeat(1500) + "}",
                String.format(good, 3),
                "{\"conversations\":[{\"content\":\"q\"},{\"content\":\"a\"}],\"n\":" + "9".repeat(1500) + "}",
                "{\"" + "k".repeat(60_000) + "\":1}",
                "{\"conversations\":[{\"content\":\"q\",\"content\":\"other q\"},{\"content\":\"a\"}]}",
                String.format(good, 7));
        byte[] body = String.join("\n", lines).getBytes(StandardCharsets.UTF_8);

        Response response = post(resource, "sft", null, null, null, null, null, body);

        assertThat(response.getStatus()).isEqualTo(422);
        IngestResource.Answer answer = (IngestResource.Answer) response.getEntity();
        assertThat(answer.accepted()).isEqualTo(3);
        assertThat(answer.errors()).extracting(IngestResource.LineError::line).containsExactly(2L, 4L, 5L, 6L);
        assertThat(answer.errors()).extracting(IngestResource.LineError::reason).containsOnly("INVALID_JSON");
        assertThat(answer.errors()).extracting(IngestResource.LineError::message).satisfiesExactly(
                m -> assertThat(m).contains("nesting depth").contains("1000"),
                m -> assertThat(m).contains("Number value length").contains("1000"),
                m -> assertThat(m).contains("Name length").contains("50000"),
                m -> assertThat(m).contains("duplicate key \"content\""));
        assertThat(sink.topics).filteredOn("millrace.dlq"::equals).hasSize(4);
        List<Long> deadLetterLines = new ArrayList<>();
        for (int i = 0; i < sink.topics.size(); i++) {
            if (sink.topics.get(i).equals("millrace.dlq")) {
                deadLetterLines.add(dev.millrace.proto.v1.DeadLetter.parseFrom(sink.values.get(i)).getSource().getLine());
            }
        }
        assertThat(deadLetterLines).containsExactly(2L, 4L, 5L, 6L);
    }

    @Test
    void aFirstLineThatWouldNumberALinePastTheLargestLineNumberIs400NamingTheRange() throws Exception {
        KeptSink sink = new KeptSink();
        long maxBody = 1 << 20;
        IngestResource resource = new IngestResource(stages, new RecordProducer(sink), slots(4), maxBodyBytes(maxBody));
        // A body of maxBody bytes holds at most maxBody + 1 lines; the last of them must still have a number.
        long largest = Long.MAX_VALUE - maxBody;

        List<Response> refused = List.of(
                post(resource, "sft", null, null, "data.jsonl", String.valueOf(Long.MAX_VALUE), null, BODY),
                post(resource, "sft", null, null, "data.jsonl", String.valueOf(largest + 1), null, BODY),
                post(resource, "sft", null, null, "data.jsonl", "9223372036854775808", null, BODY));

        assertThat(refused).extracting(Response::getStatus).containsOnly(400);
        assertThat(refused).extracting(r -> ((IngestResource.Problem) r.getEntity()).message())
                .allSatisfy(m -> assertThat(m).contains("first-line").contains("from 1 to " + largest));
        assertThat(sink.topics).as("nothing is produced for a refused request").isEmpty();

        Response atTheEdge = post(resource, "sft", null, null, "data.jsonl", String.valueOf(largest), null, BODY);

        assertThat(atTheEdge.getStatus()).isEqualTo(422);
        assertThat(((IngestResource.Answer) atTheEdge.getEntity()).errors()).extracting(IngestResource.LineError::line)
                .containsExactly(largest + 1);
        int letter = sink.topics.indexOf("millrace.dlq");
        assertThat(dev.millrace.proto.v1.DeadLetter.parseFrom(sink.values.get(letter)).getSource().getLine()).isEqualTo(largest + 1);
    }

    /** A POST with no Content-Length (chunked): the body's length is known only once it is read. */
    private static Response postChunked(IngestResource resource, String stage, byte[] body) {
        return resource.post(stage, null, null, null, null, null, null, new ByteArrayInputStream(body));
    }

    private static String sftLine(int n) {
        return "{\"conversations\":[{\"content\":\"q" + n + "\"},{\"content\":\"a\"}]}";
    }

    @Test
    void aChunkedBodyPastTheLimitStopsThereAndItsAnswerSaysWhichLinesWereTaken() {
        KeptSink sink = new KeptSink();
        String lines = sftLine(1) + "\n{\"conversations\":[]}\n\n" + sftLine(4) + "\n" + sftLine(5) + "\n" + sftLine(6) + "\n";
        byte[] body = lines.getBytes(StandardCharsets.UTF_8);
        int cutInLine5 = lines.indexOf(sftLine(5)) + 10;
        IngestResource resource = new IngestResource(stages, new RecordProducer(sink), slots(4), maxBodyBytes(cutInLine5));

        Response response = postChunked(resource, "sft", body);

        assertThat(response.getStatus()).isEqualTo(413);
        assertThat(response.getHeaderString("Connection")).as("the rest of the body was short: read, the connection kept").isNull();
        IngestResource.Stopped stopped = (IngestResource.Stopped) response.getEntity();
        assertThat(stopped.stoppedAtLine()).isEqualTo(5);
        assertThat(stopped.accepted()).isEqualTo(2);
        assertThat(stopped.rejected()).isEqualTo(1);
        assertThat(stopped.errors()).extracting(IngestResource.LineError::line).containsExactly(2L);
        assertThat(stopped.message()).contains("millrace.ingest.max-body-bytes").contains("before line 5");
        assertThat(sink.topics).as("lines 1, 2 and 4 were produced, the cut line 5 and line 6 not")
                .containsExactly("millrace.sft.raw", "millrace.dlq", "millrace.sft.raw");
    }

    @Test
    void aChunkedBodyWhoseLimitFallsRightAfterALineEndStopsAtTheNextLineAndOneOfExactlyTheLimitIsTaken() {
        String lines = sftLine(1) + "\n" + sftLine(2) + "\n";
        byte[] body = lines.getBytes(StandardCharsets.UTF_8);
        KeptSink sink = new KeptSink();
        IngestResource afterLine1 = new IngestResource(stages, new RecordProducer(sink), slots(4),
                maxBodyBytes(sftLine(1).length() + 1));
        IngestResource exact = new IngestResource(stages, new RecordProducer(sink), slots(4), maxBodyBytes(body.length));

        Response stopped = postChunked(afterLine1, "sft", body);
        Response whole = postChunked(exact, "sft", body);

        assertThat(stopped.getStatus()).isEqualTo(413);
        assertThat(((IngestResource.Stopped) stopped.getEntity()).stoppedAtLine()).isEqualTo(2);
        assertThat(((IngestResource.Stopped) stopped.getEntity()).accepted()).isEqualTo(1);
        assertThat(whole.getStatus()).isEqualTo(200);
        assertThat(((IngestResource.Answer) whole.getEntity()).accepted()).isEqualTo(2);
    }

    @Test
    void aChunkedBodyFarPastTheLimitIsStoppedAndItsConnectionClosed() {
        byte[] line = (sftLine(1) + "\n").getBytes(StandardCharsets.UTF_8);
        byte[] body = new byte[line.length + (int) IngestResource.PAST_LIMIT_DISCARDED_BYTES + 100];
        System.arraycopy(line, 0, body, 0, line.length);
        java.util.Arrays.fill(body, line.length, body.length, (byte) '\n');
        IngestResource resource = new IngestResource(stages, new RecordProducer(new KeptSink()), slots(4), maxBodyBytes(line.length + 10));

        Response response = postChunked(resource, "sft", body);

        assertThat(response.getStatus()).isEqualTo(413);
        assertThat(((IngestResource.Stopped) response.getEntity()).accepted()).isEqualTo(1);
        assertThat(response.getHeaderString("Connection")).isEqualTo("close");
    }

    @Test
    void aStoppedBodyFromAFileNamesTheFilesLine() {
        byte[] body = (sftLine(1) + "\n" + sftLine(2) + "\n").getBytes(StandardCharsets.UTF_8);
        IngestResource resource = new IngestResource(stages, new RecordProducer(new KeptSink()), slots(4),
                maxBodyBytes(sftLine(1).length() + 5));

        Response response = resource.post("sft", null, null, "data.jsonl", "101", null, null, new ByteArrayInputStream(body));

        assertThat(response.getStatus()).isEqualTo(413);
        assertThat(((IngestResource.Stopped) response.getEntity()).stoppedAtLine()).isEqualTo(102);
    }

    @Test
    void whenEverySlotIsTakenARequestIsAnswered429AtOnceWithRetryAfterAndItsBodyReadToTheEnd() throws Exception {
        HeldSink sink = new HeldSink();
        IngestResource resource = new IngestResource(stages, new RecordProducer(sink), slots(1), maxBodyBytes(1 << 20));
        CompletableFuture<Response> first = CompletableFuture.supplyAsync(() -> post(resource, "sft", null, null, null, null, null, BODY));
        long deadline = System.currentTimeMillis() + 10_000;
        while (sink.sent() < 1 && System.currentTimeMillis() < deadline) {
            Thread.sleep(10);
        }
        assertThat(sink.sent()).as("the first request holds the one slot, waiting for the broker").isPositive();

        ByteArrayInputStream secondBody = new ByteArrayInputStream(BODY);
        Response second = resource.post("sft", null, null, null, null, null, String.valueOf(BODY.length), secondBody);

        assertThat(second.getStatus()).isEqualTo(429);
        assertThat(second.getHeaderString("Retry-After")).isEqualTo("1");
        assertThat(((IngestResource.Problem) second.getEntity()).message()).contains("millrace.ingest.max-concurrent-requests");
        assertThat(secondBody.available()).as("the refused body was read to its end, so the answer reaches its client").isZero();
        assertThat(registry.counter("millrace.ingest.requests.refused").count()).isEqualTo(1.0);
        assertThat(registry.get("millrace.ingest.requests.active").gauge().value()).isEqualTo(1.0);

        while (sink.sent() < 2 && System.currentTimeMillis() < deadline) {
            Thread.sleep(10);
        }
        sink.acknowledge(0);
        sink.acknowledge(1);
        assertThat(first.get(10, TimeUnit.SECONDS).getStatus()).isEqualTo(422);
        assertThat(registry.get("millrace.ingest.requests.active").gauge().value()).isZero();
        KeptSink kept = new KeptSink();
        IngestResource again = new IngestResource(stages, new RecordProducer(kept), slots(1), maxBodyBytes(1 << 20));
        assertThat(post(again, "sft", null, null, null, null, null, BODY).getStatus()).isEqualTo(422);
    }

    @Test
    void theAnswerListsTheFirstRejectedLinesAndCountsThemAll() {
        KeptSink sink = new KeptSink();
        IngestResource resource = new IngestResource(stages, new RecordProducer(sink), slots(4), maxBodyBytes(1 << 20));
        int bad = IngestResource.MAX_LISTED_ERRORS + 500;
        byte[] body = ("{\"conversations\":[]}\n".repeat(bad) + sftLine(1) + "\n").getBytes(StandardCharsets.UTF_8);

        Response response = post(resource, "sft", null, null, null, null, null, body);

        assertThat(response.getStatus()).isEqualTo(422);
        IngestResource.Answer answer = (IngestResource.Answer) response.getEntity();
        assertThat(answer.accepted()).isEqualTo(1);
        assertThat(answer.rejected()).isEqualTo(bad);
        assertThat(answer.errors()).hasSize(IngestResource.MAX_LISTED_ERRORS);
        assertThat(answer.errors().get(IngestResource.MAX_LISTED_ERRORS - 1).line()).isEqualTo(IngestResource.MAX_LISTED_ERRORS);
        assertThat(sink.topics).as("every rejected line is a dead letter, listed or not").filteredOn("millrace.dlq"::equals).hasSize(bad);
    }

    @Test
    void aRequestsSendsWaitForAcknowledgementsBeyondSoManyRecordsOrBytes() throws Exception {
        EnabledStages.StageIngest sft = stages.get(Stage.SFT).orElseThrow();
        LineIngester.Ingested lines = new LineIngester.Ingested();
        for (int n = 1; n <= 10; n++) {
            sft.ingester().add(lines, new dev.millrace.core.json.RawLine(n, sftLine(n).getBytes(StandardCharsets.UTF_8)),
                    LineIngester.Request.DETECT, Source.newBuilder().setLine(n).build(), 0);
        }
        int recordBytes = lines.accepted().get(0).record().toByteArray().length;
        for (int[] bound : new int[][] {{3, Integer.MAX_VALUE}, {100, recordBytes * 2 + recordBytes / 2}}) {
            HeldSink sink = new HeldSink();
            RecordProducer.Sends sends = new RecordProducer(sink).sends(sft, bound[0], bound[1]);
            CompletableFuture<Void> sent = CompletableFuture.runAsync(() -> {
                sends.send(lines);
                sends.finish();
            });
            int most = Math.min(bound[0], bound[1] / recordBytes);
            long deadline = System.currentTimeMillis() + 10_000;
            for (int acknowledged = 0; acknowledged < 10 && System.currentTimeMillis() < deadline; ) {
                // Acknowledged only once the sender has filled its window (or sent everything): it then waits.
                if (sink.sent() >= Math.min(10, acknowledged + most)) {
                    sink.acknowledge(acknowledged++);
                } else {
                    Thread.sleep(1);
                }
            }
            sent.get(10, TimeUnit.SECONDS);

            assertThat(sink.sent()).isEqualTo(10);
            assertThat(sink.mostUnacknowledged()).as("records unacknowledged at once, bounds %s", java.util.Arrays.toString(bound))
                    .isEqualTo(most);
        }
    }

    private double count(String name) {
        return registry.counter(name, "service", "ingest", "stage", "sft").count();
    }
}
