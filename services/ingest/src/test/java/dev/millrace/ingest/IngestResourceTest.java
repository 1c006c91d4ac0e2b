package dev.millrace.ingest;

import static org.assertj.core.api.Assertions.assertThat;
import static org.assertj.core.api.Assertions.assertThatThrownBy;

import dev.millrace.core.record.Stage;
import dev.millrace.proto.v1.Source;
import io.micrometer.core.instrument.simple.SimpleMeterRegistry;
import jakarta.ws.rs.core.Response;
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

    private static IngestConfig maxBodyBytes(long maxBodyBytes) {
        return IngestConfigTest.mapped(Map.of("millrace.ingest.max-body-bytes", String.valueOf(maxBodyBytes)));
    }

    /** Holds every send until the test acknowledges or fails it. */
    static final class HeldSink implements RecordSink {
        final List<String> topics = new ArrayList<>();
        final List<CompletableFuture<Void>> pending = new ArrayList<>();

        @Override
        public synchronized CompletableFuture<Void> send(String topic, String key, byte[] value) {
            CompletableFuture<Void> f = new CompletableFuture<>();
            topics.add(topic);
            pending.add(f);
            return f;
        }

        synchronized int sent() {
            return pending.size();
        }
    }

    @Test
    void answersOnlyOnceTheBrokerHasAcknowledgedEveryRecord() throws Exception {
        HeldSink sink = new HeldSink();
        IngestResource resource = new IngestResource(stages, new RecordProducer(sink), maxBodyBytes(1 << 20));

        CompletableFuture<Response> answer = CompletableFuture.supplyAsync(() -> resource.post("sft", null, null, null, null, null, BODY));
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
        IngestResource resource = new IngestResource(stages, new RecordProducer(sink), maxBodyBytes(1 << 20));

        CompletableFuture<Response> answer = CompletableFuture.supplyAsync(() -> resource.post("sft", null, null, null, null, null, BODY));
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
        IngestResource resource = new IngestResource(stages, new RecordProducer(sink), maxBodyBytes(1 << 20));

        CompletableFuture<Response> answer = CompletableFuture.supplyAsync(() -> resource.post("sft", "auto", null, null, null, null, BODY));
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
        IngestResource resource = new IngestResource(stages, new RecordProducer(down), maxBodyBytes(1 << 20));

        Response response = resource.post("sft", null, null, null, null, null, BODY);

        assertThat(response.getStatus()).isEqualTo(503);
        assertThat(((IngestResource.Problem) response.getEntity()).message()).contains("not present in metadata");
        assertThat(topics).containsExactly("millrace.sft.raw");
    }

    @Test
    void theBodyLimitHoldsInTheResourceToo() {
        HeldSink sink = new HeldSink();
        IngestResource resource = new IngestResource(stages, new RecordProducer(sink), maxBodyBytes(BODY.length - 1));

        Response response = resource.post("sft", null, null, null, null, null, BODY);

        assertThat(response.getStatus()).isEqualTo(413);
        assertThat(sink.sent()).isZero();
        assertThat(count("millrace.records.in")).isZero();
    }

    @Test
    void stagesAndFormatsAreChecked() {
        IngestResource resource = new IngestResource(stages, new RecordProducer(new HeldSink()), maxBodyBytes(1 << 20));

        Response unknown = resource.post("finetune", null, null, null, null, null, BODY);
        Response disabled = resource.post("dpo", null, null, null, null, null, BODY);
        Response format = resource.post("sft", "dpo", null, null, null, null, BODY);

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
        IngestResource resource = new IngestResource(stages, new RecordProducer(new HeldSink()), maxBodyBytes(1 << 20));

        Response firstLineAlone = resource.post("sft", null, null, null, "3", null, BODY);
        Response zero = resource.post("sft", null, null, "data.jsonl", "0", null, BODY);
        Response notANumber = resource.post("sft", null, null, "data.jsonl", "x", null, BODY);
        Response teacherForSft = resource.post("sft", null, "ckpt", null, null, null, BODY);
        Response emptyTeacher = resource.post("distill", null, "", null, null, null, BODY);

        assertThat(List.of(firstLineAlone, zero, notANumber, teacherForSft, emptyTeacher)).extracting(Response::getStatus).containsOnly(400);
        assertThat(((IngestResource.Problem) firstLineAlone.getEntity()).message()).contains("first-line needs source");
        assertThat(((IngestResource.Problem) notANumber.getEntity()).message()).contains("'x'");
        assertThat(((IngestResource.Problem) teacherForSft.getEntity()).message()).contains("only to the distill stage");
    }

    @Test
    void resubmitIsTrueOrFalseAndAnythingElseIs400WithNothingSent() {
        HeldSink sink = new HeldSink();
        IngestResource resource = new IngestResource(stages, new RecordProducer(sink), maxBodyBytes(1 << 20));

        Response yes = resource.post("sft", null, null, null, null, "yes", BODY);
        Response empty = resource.post("sft", null, null, null, null, "", BODY);

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
        IngestResource resource = new IngestResource(roomy, new RecordProducer(sink), maxBodyBytes(1 << 20));
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

        Response response = resource.post("sft", null, null, null, null, null, body);

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
        IngestResource resource = new IngestResource(stages, new RecordProducer(sink), maxBodyBytes(maxBody));
        // A body of maxBody bytes holds at most maxBody + 1 lines; the last of them must still have a number.
        long largest = Long.MAX_VALUE - maxBody;

        List<Response> refused = List.of(
                resource.post("sft", null, null, "data.jsonl", String.valueOf(Long.MAX_VALUE), null, BODY),
                resource.post("sft", null, null, "data.jsonl", String.valueOf(largest + 1), null, BODY),
                resource.post("sft", null, null, "data.jsonl", "9223372036854775808", null, BODY));

        assertThat(refused).extracting(Response::getStatus).containsOnly(400);
        assertThat(refused).extracting(r -> ((IngestResource.Problem) r.getEntity()).message())
                .allSatisfy(m -> assertThat(m).contains("first-line").contains("from 1 to " + largest));
        assertThat(sink.topics).as("nothing is produced for a refused request").isEmpty();

        Response atTheEdge = resource.post("sft", null, null, "data.jsonl", String.valueOf(largest), null, BODY);

        assertThat(atTheEdge.getStatus()).isEqualTo(422);
        assertThat(((IngestResource.Answer) atTheEdge.getEntity()).errors()).extracting(IngestResource.LineError::line)
                .containsExactly(largest + 1);
        int letter = sink.topics.indexOf("millrace.dlq");
        assertThat(dev.millrace.proto.v1.DeadLetter.parseFrom(sink.values.get(letter)).getSource().getLine()).isEqualTo(largest + 1);
    }

    private double count(String name) {
        return registry.counter(name, "service", "ingest", "stage", "sft").count();
    }
}
