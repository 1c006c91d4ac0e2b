package dev.millrace.cli;

import static org.assertj.core.api.Assertions.assertThat;

import com.fasterxml.jackson.databind.JsonNode;
import com.fasterxml.jackson.databind.ObjectMapper;
import com.google.protobuf.ByteString;
import com.sun.net.httpserver.HttpServer;
import dev.millrace.proto.v1.DeadLetter;
import dev.millrace.proto.v1.RawRecord;
import dev.millrace.proto.v1.Source;
import dev.millrace.proto.v1.TokenizedRecord;
import dev.millrace.proto.v1.TopicOffset;
import dev.millrace.proto.v1.WireStage;
import java.io.ByteArrayOutputStream;
import java.io.PrintStream;
import java.net.InetAddress;
import java.net.InetSocketAddress;
import java.nio.charset.StandardCharsets;
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.ArrayList;
import java.util.List;
import org.junit.jupiter.api.AfterAll;
import org.junit.jupiter.api.AfterEach;
import org.junit.jupiter.api.BeforeAll;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.TestInstance;
import org.junit.jupiter.api.io.TempDir;

/**
 * {@code ./millrace dlq} against a real broker holding dead letters as the services write them
 * (in transactions, on two partitions): ingest letters with original lines, downstream letters
 * carrying the raw or tokenized record they rejected, one that is not a record at all, and one of a
 * line over the size limit. Re-submission goes to a stand-in for ingest that records what it got.
 */
@TestInstance(TestInstance.Lifecycle.PER_CLASS)
class DlqCommandTest {
    private static final ObjectMapper JSON = new ObjectMapper();
    static final String DLQ = "millrace.dlq";
    static final String RAW = "millrace.sft.raw";
    static final String SKIPPING_DLQ = "skipping.dlq";
    static final String NOT_JSON = "this is not JSON";
    static final byte[] NOT_UTF8 = {'{', '"', 'a', '"', ':', ' ', '"', 'c', 'a', 'f', (byte) 0xe9, '\n', '"', '}'};
    static final String TEMPLATE_JSON = "{\"messages\":[{\"content\":\"RAISE\",\"role\":\"user\"},{\"content\":\"No.\",\"role\":\"assistant\"}]}";
    static final String LONG_JSON = "{\"messages\":[{\"content\":\"long\",\"role\":\"user\"},{\"content\":\"ok\",\"role\":\"assistant\"}]}";
    static final String DPO_NORMALISED = "{\"chosen\":{\"messages\":[{\"content\":\"Q\",\"role\":\"user\"},{\"content\":\"A\",\"role\":\"assistant\"}]},"
            + "\"rejected\":{\"messages\":[{\"content\":\"Q\",\"role\":\"user\"},{\"content\":\"B\",\"role\":\"assistant\"}]}}";

    InProcessBroker broker;
    HttpServer server;
    final List<String> received = new ArrayList<>();
    long t = 1_700_000_000_000L;

    @BeforeAll
    void writeDeadLetters(@TempDir Path dir) throws Exception {
        broker = new InProcessBroker(dir.resolve("kafka"), DLQ, RAW, "millrace.dpo.raw", SKIPPING_DLQ);
        long rawLong = broker.plain(RAW, 0, "id-long", RawRecord.newBuilder().setRecordId("id-long").setNormalisedJson(LONG_JSON)
                .setSource(source("req-2", 4)).build().toByteArray());
        // partition 0: offsets 0..3; partition 1: offsets 0..2
        letter(0, ingest("INVALID_JSON", NOT_JSON.getBytes(StandardCharsets.UTF_8), source("req-1", 3)));
        letter(0, downstream("TEMPLATE_ERROR", "chat-template", RawRecord.newBuilder().setRecordId("id-template").setStage(WireStage.SFT)
                .setNormalisedJson(TEMPLATE_JSON).setSource(source("req-1", 5)).build().toByteArray(), "id-template", RAW));
        letter(0, downstream("MALFORMED_MESSAGE", "tokenize", new byte[] {(byte) 0xff, (byte) 0xff, (byte) 0xff}, "junk", "millrace.sft.templated"));
        letter(0, ingest("RECORD_TOO_LARGE", "x".repeat(64).getBytes(StandardCharsets.UTF_8), source("req-3", 1)));
        letter(1, ingest("INVALID_UTF8", NOT_UTF8, source("req-1", 7)));
        letter(1, downstream("NO_TRAINABLE_TOKENS", "loss-mask", TokenizedRecord.newBuilder().setRecordId("id-long").setStage(WireStage.SFT)
                .setRaw(TopicOffset.newBuilder().setTopic(RAW).setPartition(0).setOffset(rawLong)).setSource(source("req-2", 4)).build().toByteArray(),
                "id-long", "millrace.sft.tokenized"));
        letter(1, downstream("TEMPLATE_ERROR", "chat-template", RawRecord.newBuilder().setRecordId("id-dpo").setStage(WireStage.DPO)
                .setNormalisedJson(DPO_NORMALISED).build().toByteArray(), "id-dpo", "millrace.dpo.raw").toBuilder().setStage(WireStage.DPO).build());
        // A topic with messages that are not dead letters: a tombstone (0:2) and bytes that are no protobuf (1:0);
        // and a dead letter (1:2) whose raw record is a tombstone.
        broker.committed(SKIPPING_DLQ, 0, "src", ingest("INVALID_JSON", NOT_JSON.getBytes(StandardCharsets.UTF_8), source("req-4", 1))
                .toBuilder().setAtMs(t++).build().toByteArray());
        broker.committed(SKIPPING_DLQ, 0, "src", null);
        broker.committed(SKIPPING_DLQ, 1, "src", new byte[] {(byte) 0xff, (byte) 0xff, (byte) 0xff});
        long rawTombstone = broker.plain(RAW, 1, "id-deleted", null);
        broker.committed(SKIPPING_DLQ, 1, "id-deleted", downstream("NO_TRAINABLE_TOKENS", "loss-mask", TokenizedRecord.newBuilder()
                .setRecordId("id-deleted").setStage(WireStage.SFT).setRaw(TopicOffset.newBuilder().setTopic(RAW).setPartition(1).setOffset(rawTombstone))
                .build().toByteArray(), "id-deleted", "millrace.sft.tokenized").toBuilder().setAtMs(t++).build().toByteArray());
        broker.aborted(DLQ, 1, "aborted", ingest("INVALID_JSON", "aborted".getBytes(StandardCharsets.UTF_8), source("req-9", 1)).toByteArray());

        server = HttpServer.create(new InetSocketAddress(InetAddress.getLoopbackAddress(), 0), 0);
        server.createContext("/v1/", exchange -> {
            String body = new String(exchange.getRequestBody().readAllBytes(), StandardCharsets.UTF_8);
            received.add(exchange.getRequestMethod() + " " + exchange.getRequestURI() + "\n" + body);
            boolean bad = body.contains(NOT_JSON);
            byte[] answer = (bad ? "{\"accepted\": 0, \"rejected\": 1, \"errors\": [{\"line\": 1, \"reason\": \"INVALID_JSON\", \"message\": \"not JSON\"}]}"
                    : "{\"accepted\": " + body.split("\n").length + ", \"rejected\": 0, \"errors\": []}").getBytes(StandardCharsets.UTF_8);
            exchange.sendResponseHeaders(bad ? 422 : 200, answer.length);
            exchange.getResponseBody().write(answer);
            exchange.close();
        });
        server.start();
    }

    @AfterEach
    void clear() {
        received.clear();
    }

    @AfterAll
    void stop() {
        if (server != null) {
            server.stop(0);
        }
        if (broker != null) {
            broker.close();
        }
    }

    @Test
    void listsEveryCommittedDeadLetterOldestFirst() throws Exception {
        CliRun run = CliRun.of("dlq", "--bootstrap", broker.bootstrap(), "--json");

        assertThat(run.exitCode()).as(run.err()).isZero();
        List<JsonNode> lines = json(run);
        assertThat(lines).extracting(l -> l.path("position").asText() + " " + l.path("reason").asText()).containsExactly(
                "0:0 INVALID_JSON", "0:2 TEMPLATE_ERROR", "0:4 MALFORMED_MESSAGE", "0:6 RECORD_TOO_LARGE",
                "1:0 INVALID_UTF8", "1:2 NO_TRAINABLE_TOKENS", "1:4 TEMPLATE_ERROR");
        JsonNode first = lines.get(0);
        assertThat(first.path("stage").asText()).isEqualTo("sft");
        assertThat(first.path("service").asText()).isEqualTo("ingest");
        assertThat(first.path("source")).isEqualTo(JSON.readTree("{\"kind\": \"http\", \"name\": \"req-1\", \"line\": 3}"));
        assertThat(first.path("original_prefix").asText()).isEqualTo(NOT_JSON);
        assertThat(first.path("original_bytes").asInt()).isEqualTo(NOT_JSON.length());
        assertThat(first.has("record_id")).isFalse();
        assertThat(lines.get(4).path("original_prefix").asText()).as("bytes that are not UTF-8 and a newline, escaped")
                .isEqualTo("{\"a\": \"caf\\xe9\\n\"}");
        JsonNode downstream = lines.get(5);
        assertThat(downstream.path("record_id").asText()).isEqualTo("id-long");
        assertThat(downstream.path("input")).isEqualTo(JSON.readTree("{\"topic\": \"millrace.sft.tokenized\", \"partition\": 0, \"offset\": 0}"));
    }

    @Test
    void filtersAndTable() {
        CliRun reason = CliRun.of("dlq", "list", "--bootstrap", broker.bootstrap(), "--reason", "TEMPLATE_ERROR", "--json");
        assertThat(reason.exitCode()).as(reason.err()).isZero();
        assertThat(json(reason)).extracting(l -> l.path("position").asText()).containsExactly("0:2", "1:4");

        CliRun stage = CliRun.of("dlq", "--bootstrap", broker.bootstrap(), "--stage", "dpo", "--json");
        assertThat(json(stage)).extracting(l -> l.path("position").asText()).containsExactly("1:4");

        CliRun limit = CliRun.of("dlq", "--bootstrap", broker.bootstrap(), "--limit", "2", "--json");
        assertThat(json(limit)).extracting(l -> l.path("position").asText()).as("the most recent two").containsExactly("1:2", "1:4");

        CliRun table = CliRun.of("dlq", "--bootstrap", broker.bootstrap(), "--reason", "INVALID_JSON");
        assertThat(table.exitCode()).as(table.err()).isZero();
        assertThat(table.outLines()).hasSize(2);
        assertThat(table.outLines().get(0)).startsWith("POSITION").contains("REASON", "SOURCE", "ORIGINAL");
        assertThat(table.outLines().get(1)).startsWith("0:0").contains("INVALID_JSON", "sft", "ingest", "http:req-1:3", NOT_JSON);

        assertThat(CliRun.of("dlq", "--bootstrap", broker.bootstrap(), "--limit", "0").exitCode()).isEqualTo(2);
        assertThat(CliRun.of("dlq", "--bootstrap", broker.bootstrap(), "--stage", "nope").exitCode()).isEqualTo(2);
    }

    @Test
    void messagesThatAreNotDeadLettersAreCountedAndNamedOnStandardError() {
        String skipped = "millrace dlq: skipped 2 message(s) on skipping.dlq that are not dead letters: "
                + "0:2 (a tombstone: no value), 1:0 (not a DeadLetter protobuf message)";

        CliRun list = CliRun.of("dlq", "--bootstrap", broker.bootstrap(), "--topic-prefix", "skipping", "--json");
        assertThat(list.exitCode()).as(list.err()).isZero();
        assertThat(json(list)).extracting(l -> l.path("position").asText()).containsExactly("0:0", "1:2");
        assertThat(list.err()).contains(skipped);

        CliRun table = CliRun.of("dlq", "list", "--bootstrap", broker.bootstrap(), "--topic-prefix", "skipping");
        assertThat(table.outLines()).hasSize(3);
        assertThat(table.err()).contains(skipped);

        CliRun export = CliRun.of("dlq", "export", "--bootstrap", broker.bootstrap(), "--topic-prefix", "skipping", "--offset", "0:0");
        assertThat(export.exitCode()).as(export.err()).isZero();
        assertThat(export.out()).isEqualTo(NOT_JSON + "\n");
        assertThat(export.err()).contains(skipped);

        // a raw record that is a tombstone is no input line
        CliRun deleted = CliRun.of("dlq", "export", "--bootstrap", broker.bootstrap(), "--topic-prefix", "skipping", "--offset", "1:2");
        assertThat(deleted.exitCode()).isEqualTo(1);
        assertThat(deleted.out()).isEmpty();
        assertThat(deleted.err()).contains("dead letter 1:2 (NO_TRAINABLE_TOKENS)", "is a tombstone (no value), not a raw record")
                .doesNotContain("Exception");

        CliRun clean = CliRun.of("dlq", "--bootstrap", broker.bootstrap(), "--json");
        assertThat(clean.err()).as("nothing skipped, nothing said").doesNotContain("skipped");
    }

    @Test
    void exportWritesTheInputLineBehindEachDeadLetter() {
        ByteArrayOutputStream out = new ByteArrayOutputStream();
        ByteArrayOutputStream err = new ByteArrayOutputStream();
        int code = Millrace.run(new String[] {"dlq", "export", "--bootstrap", broker.bootstrap(), "--offset", "0:0", "--offset", "1:0,0:2", "--offset", "1:2"},
                new PrintStream(out, true), new PrintStream(err, true, StandardCharsets.UTF_8));

        assertThat(code).as(err.toString(StandardCharsets.UTF_8)).isZero();
        ByteArrayOutputStream want = new ByteArrayOutputStream();
        // oldest first: ingest's original bytes as they were, downstream letters' normalised JSON (from the
        // rejected raw record itself, or from the raw topic at the offset the tokenized record names)
        for (byte[] line : List.of(NOT_JSON.getBytes(StandardCharsets.UTF_8), TEMPLATE_JSON.getBytes(StandardCharsets.UTF_8), NOT_UTF8,
                LONG_JSON.getBytes(StandardCharsets.UTF_8))) {
            want.writeBytes(line);
            want.write('\n');
        }
        assertThat(out.toByteArray()).as("exported bytes (the line that is not UTF-8 stays as it was)").isEqualTo(want.toByteArray());
    }

    @Test
    void exportWritesDpoPairsInTheirInputShape() throws Exception {
        CliRun run = CliRun.of("dlq", "export", "--bootstrap", broker.bootstrap(), "--stage", "dpo");
        assertThat(run.exitCode()).as(run.err()).isZero();
        assertThat(JSON.readTree(run.out())).isEqualTo(JSON.readTree("{\"chosen\": [{\"content\": \"Q\", \"role\": \"user\"}, {\"content\": \"A\", \"role\": \"assistant\"}],"
                + " \"rejected\": [{\"content\": \"Q\", \"role\": \"user\"}, {\"content\": \"B\", \"role\": \"assistant\"}]}"));
    }

    @Test
    void deadLettersWithoutAnInputLineAreNamedAndNothingIsWritten() {
        CliRun malformed = CliRun.of("dlq", "export", "--bootstrap", broker.bootstrap(), "--reason", "MALFORMED_MESSAGE");
        assertThat(malformed.exitCode()).isEqualTo(1);
        assertThat(malformed.out()).isEmpty();
        assertThat(malformed.err()).contains("0:4", "not produced by Millrace's ingest");

        CliRun large = CliRun.of("dlq", "export", "--bootstrap", broker.bootstrap(), "--offset", "0:6");
        assertThat(large.exitCode()).isEqualTo(1);
        assertThat(large.err()).contains("keeps only the first 64 bytes", "http:req-3:1");

        CliRun ambiguous = CliRun.of("dlq", "export", "--bootstrap", broker.bootstrap(), "--offset", "2");
        assertThat(ambiguous.exitCode()).isEqualTo(1);
        assertThat(ambiguous.err()).contains("0:2", "1:2", "PARTITION:OFFSET");

        CliRun none = CliRun.of("dlq", "export", "--bootstrap", broker.bootstrap(), "--offset", "0:99");
        assertThat(none.exitCode()).isEqualTo(1);
        assertThat(none.err()).contains("no dead letter at 0:99");
        assertThat(CliRun.of("dlq", "export", "--bootstrap", broker.bootstrap(), "--offset", "x:1").exitCode()).isEqualTo(2);
    }

    @Test
    void resubmitPostsAFixedFile(@TempDir Path dir) throws Exception {
        Path fixed = Files.writeString(dir.resolve("fixed.jsonl"), "{\"messages\": []}\n{\"text\": \"x\"}\n");
        CliRun run = CliRun.of("dlq", "resubmit", "--stage", "sft", fixed.toString(), "--url", url());

        assertThat(run.exitCode()).as(run.err()).isZero();
        assertThat(received).containsExactly("POST /v1/sft/records?resubmit=true\n{\"messages\": []}\n{\"text\": \"x\"}\n");
        assertThat(run.outLines()).containsExactly("POST " + url() + "/v1/sft/records?resubmit=true: HTTP 200, accepted 2, rejected 0");

        received.clear();
        Path answers = Files.writeString(dir.resolve("answers.jsonl"), "{\"messages\": []}\n");
        CliRun distill = CliRun.of("dlq", "resubmit", "--stage", "distill", "--teacher", "qwen 7b/v2", answers.toString(), "--url", url());
        assertThat(distill.exitCode()).as(distill.err()).isZero();
        assertThat(received).containsExactly("POST /v1/distill/records?resubmit=true&teacher=qwen+7b%2Fv2\n{\"messages\": []}\n");

        assertThat(CliRun.of("dlq", "resubmit", fixed.toString(), "--url", url()).exitCode()).as("FILE needs --stage").isEqualTo(2);
        assertThat(CliRun.of("dlq", "resubmit", "--url", url()).exitCode()).as("FILE or --offset").isEqualTo(2);
    }

    @Test
    void resubmitSendsDeadLettersUnchangedPerStageAndReportsWhatIsRejectedAgain() {
        CliRun run = CliRun.of("dlq", "resubmit", "--bootstrap", broker.bootstrap(), "--offset", "0:2,1:2,1:4", "--url", url());

        assertThat(run.exitCode()).as(run.err()).isZero();
        assertThat(received).as("marked as re-sent on purpose, so chat-template does not drop them as duplicates")
                .containsExactly("POST /v1/sft/records?resubmit=true\n" + TEMPLATE_JSON + "\n" + LONG_JSON + "\n",
                "POST /v1/dpo/records?resubmit=true\n" + DPO_NORMALISED.replace("{\"chosen\":{\"messages\":", "{\"chosen\":").replace("]},\"rejected\":{\"messages\":", "],\"rejected\":")
                        .replace("]}}", "]}") + "\n");

        received.clear();
        CliRun again = CliRun.of("dlq", "resubmit", "--bootstrap", broker.bootstrap(), "--offset", "0:0", "--url", url());
        assertThat(again.exitCode()).isEqualTo(1);
        assertThat(again.outLines()).containsExactly("POST " + url() + "/v1/sft/records?resubmit=true: HTTP 422, accepted 0, rejected 1",
                "  line 1 (dead letter 0:0): INVALID_JSON: not JSON");
        assertThat(again.err()).contains("1 line(s) were rejected again");
    }

    private String url() {
        return "http://127.0.0.1:" + server.getAddress().getPort();
    }

    private void letter(int partition, DeadLetter letter) throws Exception {
        DeadLetter timed = letter.toBuilder().setAtMs(t++).build();
        broker.committed(DLQ, partition, timed.getRecordId().isEmpty() ? "src" : timed.getRecordId(), timed.toByteArray());
    }

    static Source source(String request, long line) {
        return Source.newBuilder().setKind("http").setName(request).setLine(line).build();
    }

    static DeadLetter ingest(String reason, byte[] original, Source source) {
        return DeadLetter.newBuilder().setReason(reason).setMessage("why").setService("ingest").setStage(WireStage.SFT)
                .setOriginal(ByteString.copyFrom(original)).setSource(source).build();
    }

    static DeadLetter downstream(String reason, String service, byte[] original, String recordId, String inputTopic) {
        return DeadLetter.newBuilder().setReason(reason).setMessage("why").setService(service).setStage(WireStage.SFT)
                .setOriginal(ByteString.copyFrom(original)).setRecordId(recordId)
                .setInput(TopicOffset.newBuilder().setTopic(inputTopic).setPartition(0).setOffset(0)).build();
    }

    private static List<JsonNode> json(CliRun run) {
        return run.outLines().stream().map(l -> {
            try {
                return JSON.readTree(l);
            } catch (Exception e) {
                throw new AssertionError("not JSON: " + l, e);
            }
        }).toList();
    }
}
