package dev.millrace.ingest;

import static io.restassured.RestAssured.given;
import static org.assertj.core.api.Assertions.assertThat;
import static org.hamcrest.Matchers.containsString;
import static org.hamcrest.Matchers.equalTo;

import dev.millrace.core.chat.ConversationReader;
import dev.millrace.core.json.StrictJson;
import dev.millrace.core.record.RecordId;
import dev.millrace.core.record.Stage;
import dev.millrace.proto.v1.DeadLetter;
import dev.millrace.proto.v1.RawRecord;
import dev.millrace.proto.v1.WireStage;
import io.quarkus.test.common.QuarkusTestResource;
import io.quarkus.test.junit.QuarkusTest;
import io.restassured.response.Response;
import java.io.ByteArrayOutputStream;
import java.nio.charset.StandardCharsets;
import java.util.ArrayList;
import java.util.LinkedHashMap;
import java.util.List;
import java.util.Map;
import java.util.UUID;
import java.util.regex.Matcher;
import java.util.regex.Pattern;
import org.apache.kafka.clients.consumer.ConsumerRecord;
import org.junit.jupiter.api.Test;

/**
 * The packaged service over a real broker (every test class of this module shares this one profile:
 * a second Quarkus start in the JVM would load DJL's native library twice).
 */
@QuarkusTest
@QuarkusTestResource(IngestTestResource.class)
class IngestServiceTest {
    private static final String NDJSON = "application/x-ndjson";
    private static final String RAW = "millrace.sft.raw";
    private static final String DLQ = "millrace.dlq";

    @Test
    void goodLinesAreProducedAndBadLinesDeadLetteredWithTheirOriginalBytes() throws Exception {
        String marker = UUID.randomUUID().toString(); // fresh content: fresh record ids on a shared broker
        byte[] notUtf8 = LineIngesterTest.concat("{\"conversations\":[{\"role\":\"user\",\"content\":\"".getBytes(StandardCharsets.UTF_8),
                new byte[] {(byte) 0xc3, (byte) 0x28}, "\"},{\"role\":\"assistant\",\"content\":\"x\"}]}".getBytes(StandardCharsets.UTF_8));
        Map<Integer, byte[]> good = new LinkedHashMap<>();
        Map<Integer, byte[]> bad = new LinkedHashMap<>();
        Map<Integer, String> reasons = new LinkedHashMap<>();
        ByteArrayOutputStream body = new ByteArrayOutputStream();
        // line 1
        good.put(1, line(body, "{\"conversations\":[{\"role\":\"user\",\"content\":\"2+2? " + marker + "\"},{\"role\":\"assistant\",\"content\":\"4\"}]}", "\n"));
        body.write('\n'); // line 2: blank
        bad.put(3, line(body, "{\"conversations\": [{\"role\":", "\r\n"));
        reasons.put(3, "INVALID_JSON");
        body.writeBytes(notUtf8); // line 4
        body.write('\n');
        bad.put(4, notUtf8);
        reasons.put(4, "INVALID_UTF8");
        good.put(5, line(body, "{\"messages\":[{\"role\":\"system\",\"content\":\"Be brief.\"},{\"role\":\"user\",\"content\":\"Hi " + marker
                + "\"},{\"role\":\"assistant\",\"content\":\"Hello!\"}]}", "\r\n"));
        bad.put(6, line(body, "{\"conversations\":[{\"role\":\"robot\",\"content\":\"x\"},{\"role\":\"assistant\",\"content\":\"y\"}]}", "\n"));
        reasons.put(6, "UNKNOWN_ROLE");
        line(body, "   \t", "\r\n"); // line 7: blank
        bad.put(8, line(body, "{\"conversations\":[]}", "\n"));
        reasons.put(8, "EMPTY_CONVERSATION");
        bad.put(9, line(body, "{\"prompt\":\"x\",\"completion\":\"" + marker + "\"}", "\n"));
        reasons.put(9, "UNKNOWN_FORMAT");
        good.put(10, line(body, "{\"conversations\":[{\"content\":\"a " + marker + "\"},{\"content\":\"b\"}]}", "")); // no line end

        Response response = given().contentType(NDJSON).body(body.toByteArray())
                .when().post("/v1/sft/records")
                .then().statusCode(422)
                .body("accepted", equalTo(3))
                .body("rejected", equalTo(5))
                .body("errors.line", equalTo(List.of(3, 4, 6, 8, 9)))
                .body("errors.reason", equalTo(List.copyOf(reasons.values())))
                .body("errors[0].message", containsString("not valid JSON"))
                .body("errors[2].message", containsString("robot"))
                .extract().response();
        String requestId = response.header(IngestResource.REQUEST_ID_HEADER);
        assertThat(requestId).isNotBlank();

        List<RawRecord> records = new ArrayList<>();
        for (ConsumerRecord<String, byte[]> rec : TopicContents.read(RAW)) {
            RawRecord r = RawRecord.parseFrom(rec.value());
            if (r.getSource().getName().equals(requestId)) {
                assertThat(rec.key()).isEqualTo(r.getRecordId());
                records.add(r);
            }
        }
        assertThat(records).extracting(r -> (int) r.getSource().getLine())
                .as("exactly one record per good line").containsExactlyInAnyOrderElementsOf(good.keySet());
        for (RawRecord r : records) {
            byte[] original = good.get((int) r.getSource().getLine());
            var conversation = ConversationReader.read(StrictJson.parse(original), null);
            assertThat(r.getRecordId()).isEqualTo(RecordId.of(Stage.SFT, conversation.normalised()));
            assertThat(r.getNormalisedJson()).isEqualTo(RecordId.canonicalJson(conversation.normalised()));
            assertThat(r.getRecordId()).isEqualTo(LineIngesterTest.sha256Hex("sft\n" + r.getNormalisedJson()));
            assertThat(r.getStage()).isEqualTo(WireStage.SFT);
            assertThat(r.getSource().getKind()).isEqualTo("http");
            assertThat(r.getIngestedAtMs()).isPositive();
            assertThat(r.getFormat()).isEqualTo(r.getSource().getLine() == 5 ? "openai" : "minimind");
        }

        List<DeadLetter> letters = new ArrayList<>();
        for (ConsumerRecord<String, byte[]> rec : TopicContents.read(DLQ)) {
            DeadLetter d = DeadLetter.parseFrom(rec.value());
            if (d.getSource().getName().equals(requestId)) {
                assertThat(rec.key()).isEqualTo("http:" + requestId + ":" + d.getSource().getLine());
                letters.add(d);
            }
        }
        assertThat(letters).extracting(d -> (int) d.getSource().getLine())
                .as("exactly one dead letter per bad line").containsExactlyInAnyOrderElementsOf(bad.keySet());
        for (DeadLetter d : letters) {
            int n = (int) d.getSource().getLine();
            assertThat(d.getReason()).isEqualTo(reasons.get(n));
            assertThat(d.getOriginal().toByteArray()).as("original bytes of line " + n).isEqualTo(bad.get(n));
            assertThat(d.getService()).isEqualTo("ingest");
            assertThat(d.getStage()).isEqualTo(WireStage.SFT);
            assertThat(d.getMessage()).isNotBlank();
        }
    }

    @Test
    void linesPastTheJsonParsersLimitsOrRepeatingAKeyAre422WithTheGoodLinesAcceptedNever500() throws Exception {
        // Each bad line is under %test.millrace.ingest.max-record-bytes=2048, so it reaches the parser (the key-length
        // limit needs a longer line: IngestResourceTest).
        String marker = UUID.randomUUID().toString();
        List<String> lines = List.of(
                "{\"conversations\":[{\"content\":\"q " + marker + "\"},{\"content\":\"a\"}]}",
                "{\"conversations\":" + "[".repeat(1200),
                "{\"conversations\":[{\"content\":\"q\"},{\"content\":\"a\"}],\"n\":" + "9".repeat(1500) + "}",
                "{\"conversations\":[{\"content\":\"q\",\"content\":\"r\"},{\"content\":\"a\"}]}",
                "{\"conversations\":[{\"content\":\"q2 " + marker + "\"},{\"content\":\"a\"}]}");

        String requestId = given().contentType(NDJSON).body(String.join("\n", lines).getBytes(StandardCharsets.UTF_8))
                .when().post("/v1/sft/records")
                .then().statusCode(422)
                .body("accepted", equalTo(2))
                .body("errors.line", equalTo(List.of(2, 3, 4)))
                .body("errors.reason", equalTo(List.of("INVALID_JSON", "INVALID_JSON", "INVALID_JSON")))
                .body("errors[0].message", containsString("nesting depth"))
                .body("errors[1].message", containsString("Number value length"))
                .body("errors[2].message", containsString("duplicate key \"content\""))
                .extract().header(IngestResource.REQUEST_ID_HEADER);

        List<DeadLetter> letters = new ArrayList<>();
        for (ConsumerRecord<String, byte[]> rec : TopicContents.read(DLQ)) {
            DeadLetter d = DeadLetter.parseFrom(rec.value());
            if (d.getSource().getName().equals(requestId)) {
                letters.add(d);
            }
        }
        assertThat(letters).extracting(d -> d.getSource().getLine()).containsExactlyInAnyOrder(2L, 3L, 4L);
        for (DeadLetter d : letters) {
            assertThat(d.getReason()).isEqualTo("INVALID_JSON");
            assertThat(d.getOriginal().toStringUtf8()).isEqualTo(lines.get((int) d.getSource().getLine() - 1));
        }
        assertThat(TopicContents.read(RAW).stream().map(r -> parseRaw(r.value())).filter(r -> r.getSource().getName().equals(requestId)))
                .extracting(r -> r.getSource().getLine()).containsExactlyInAnyOrder(1L, 5L);
    }

    @Test
    void anAllGoodBodyIs200AndAForcedFormatIsRecorded() {
        String marker = UUID.randomUUID().toString();
        String body = "{\"messages\":[{\"role\":\"user\",\"content\":\"" + marker + "\"},{\"role\":\"assistant\",\"content\":\"ok\"}]}\n"
                + "{\"messages\":[{\"role\":\"user\",\"content\":\"again " + marker + "\"},{\"role\":\"assistant\",\"content\":\"ok\"}]}\n";

        String requestId = given().contentType(NDJSON).body(body.getBytes(StandardCharsets.UTF_8))
                .when().post("/v1/sft/records?format=openai")
                .then().statusCode(200)
                .body("accepted", equalTo(2)).body("rejected", equalTo(0)).body("errors", equalTo(List.of()))
                .extract().header(IngestResource.REQUEST_ID_HEADER);

        List<RawRecord> mine = TopicContents.read(RAW).stream().map(r -> parseRaw(r.value()))
                .filter(r -> r.getSource().getName().equals(requestId)).toList();
        assertThat(mine).hasSize(2).allSatisfy(r -> assertThat(r.getFormat()).isEqualTo("openai"));
    }

    @Test
    void unknownStagesAndUnknownFormatsAre400() {
        // (a disabled stage is 400 too: IngestResourceTest; this profile enables all four)
        given().contentType(NDJSON).body("{}".getBytes(StandardCharsets.UTF_8)).when().post("/v1/finetune/records")
                .then().statusCode(400).body("message", containsString("unknown stage 'finetune'"));
        given().contentType(NDJSON).body("{}".getBytes(StandardCharsets.UTF_8)).when().post("/v1/sft/records?format=dpo")
                .then().statusCode(400).body("message", containsString("unknown format 'dpo' for stage sft"));
    }

    @Test
    void aLineOverTheRecordLimitIsRecordTooLarge() throws Exception {
        // %test.millrace.ingest.max-record-bytes=2048
        String big = "{\"conversations\":[{\"content\":\"" + "x".repeat(3000) + UUID.randomUUID() + "\"},{\"content\":\"b\"}]}";

        String requestId = given().contentType(NDJSON).body(big.getBytes(StandardCharsets.UTF_8))
                .when().post("/v1/sft/records")
                .then().statusCode(422)
                .body("accepted", equalTo(0)).body("rejected", equalTo(1))
                .body("errors[0].line", equalTo(1)).body("errors[0].reason", equalTo("RECORD_TOO_LARGE"))
                .body("errors[0].message", containsString("2048"))
                .extract().header(IngestResource.REQUEST_ID_HEADER);

        List<DeadLetter> mine = new ArrayList<>();
        for (ConsumerRecord<String, byte[]> rec : TopicContents.read(DLQ)) {
            DeadLetter d = DeadLetter.parseFrom(rec.value());
            if (d.getSource().getName().equals(requestId)) {
                mine.add(d);
            }
        }
        assertThat(mine).hasSize(1);
        assertThat(mine.get(0).getReason()).isEqualTo("RECORD_TOO_LARGE");
        assertThat(mine.get(0).getOriginal().toStringUtf8()).isEqualTo(big.substring(0, 2048));
    }

    @Test
    void aBodyOverTheLimitIs413AndNothingIsAccepted() throws Exception {
        // %test.millrace.ingest.max-body-bytes=65536; every line alone is well within the record limit.
        String marker = UUID.randomUUID().toString();
        ByteArrayOutputStream body = new ByteArrayOutputStream();
        List<String> ids = new ArrayList<>();
        for (int i = 0; body.size() <= 65536; i++) {
            String json = "{\"conversations\":[{\"content\":\"" + i + " " + marker + "\"},{\"content\":\"b\"}]}";
            body.writeBytes((json + "\n").getBytes(StandardCharsets.UTF_8));
            ids.add(RecordId.of(Stage.SFT, ConversationReader.read(StrictJson.parse(json), null).normalised()));
        }

        assertThat(postOverTheLimit(body.toByteArray())).isEqualTo(413);

        assertThat(TopicContents.read(RAW)).extracting(ConsumerRecord::key).doesNotContainAnyElementsOf(ids);
    }

    /**
     * The answer to a body whose Content-Length is over the limit. The service answers 413 before reading it and
     * closes the connection; a client still writing the rest of the body may then fail to write instead of reading
     * the answer (a race the client loses now and then). Such an attempt is sent again: only a server that refused
     * the body closes the connection mid-body, and an answer other than 413 still fails the test.
     */
    private static int postOverTheLimit(byte[] body) throws Exception {
        Exception lost = null;
        for (int attempt = 0; attempt < 5; attempt++) {
            try {
                return given().contentType(NDJSON).body(body).when().post("/v1/sft/records").statusCode();
            } catch (Exception e) { // RestAssured throws the client's IOException (ClientProtocolException) unchecked
                if (!(e instanceof java.io.IOException)) {
                    throw e;
                }
                lost = e;
            }
        }
        throw new AssertionError("five attempts lost the race with the server's early 413", lost);
    }

    @Test
    void metricsCountLinesRecordsAndDeadLettersAndTheBrokerCheckIsUp() {
        double before = metric("millrace_records_in_total");
        String body = "{\"conversations\":[{\"content\":\"" + UUID.randomUUID() + "\"},{\"content\":\"b\"}]}\n\n{\"conversations\":[]}\n";
        given().contentType(NDJSON).body(body.getBytes(StandardCharsets.UTF_8)).when().post("/v1/sft/records").then().statusCode(422);

        assertThat(metric("millrace_records_in_total") - before).as("two lines in (the blank one is not a record)").isEqualTo(2.0);
        String metrics = given().when().get("/q/metrics").then().statusCode(200).extract().asString();
        assertThat(metrics).contains("millrace_records_out_total{service=\"ingest\",stage=\"sft\"}")
                .containsPattern("millrace_dead_letters_total\\{[^}]*reason=\"EMPTY_CONVERSATION\"")
                .as("the hand-made producer is bound to Micrometer").contains("kafka_producer_");

        given().when().get("/q/health/ready").then().statusCode(200)
                .body(containsString("kafka broker")).body(containsString("UP"));
        given().when().get("/q/health").then().statusCode(200);
    }

    private static double metric(String name) {
        String metrics = given().when().get("/q/metrics").then().statusCode(200).extract().asString();
        Matcher m = Pattern.compile("(?m)^" + name + "\\{service=\"ingest\",stage=\"sft\"} (\\S+)$").matcher(metrics);
        assertThat(m.find()).as(name + " for service ingest in /q/metrics").isTrue();
        return Double.parseDouble(m.group(1));
    }

    private static byte[] line(ByteArrayOutputStream body, String json, String end) {
        byte[] bytes = json.getBytes(StandardCharsets.UTF_8);
        body.writeBytes(bytes);
        body.writeBytes(end.getBytes(StandardCharsets.UTF_8));
        return bytes;
    }

    private static RawRecord parseRaw(byte[] value) {
        try {
            return RawRecord.parseFrom(value);
        } catch (Exception e) {
            throw new AssertionError(e);
        }
    }
}
