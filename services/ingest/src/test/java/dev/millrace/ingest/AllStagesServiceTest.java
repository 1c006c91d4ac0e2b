package dev.millrace.ingest;

import static io.restassured.RestAssured.given;
import static org.assertj.core.api.Assertions.assertThat;
import static org.hamcrest.Matchers.containsString;
import static org.hamcrest.Matchers.equalTo;
import static org.hamcrest.Matchers.nullValue;

import dev.millrace.core.chat.RecordReader;
import dev.millrace.core.json.StrictJson;
import dev.millrace.core.record.RecordId;
import dev.millrace.core.record.Stage;
import dev.millrace.proto.v1.DeadLetter;
import dev.millrace.proto.v1.RawRecord;
import dev.millrace.proto.v1.WireStage;
import io.quarkus.test.common.QuarkusTestResource;
import io.quarkus.test.junit.QuarkusTest;
import java.nio.charset.StandardCharsets;
import java.util.ArrayList;
import java.util.List;
import java.util.UUID;
import java.util.function.Predicate;
import org.apache.kafka.clients.consumer.ConsumerRecord;
import org.junit.jupiter.api.Test;

/** Every stage over HTTP and a real broker: topics, normalised records, ids, prompts, teachers, file sources, resubmits. */
@QuarkusTest
@QuarkusTestResource(IngestTestResource.class)
class AllStagesServiceTest {
    private static final String NDJSON = "application/x-ndjson";

    @Test
    void eachStagesGoodRecordsLandOnItsRawTopicWithCoresNormalisedRecordAndId() throws Exception {
        String m = UUID.randomUUID().toString();
        String pretrain = "{\"text\": \"Once upon a time " + m + "\"}";
        String sft = "{\"messages\": [{\"role\": \"user\", \"content\": \"Hi " + m + "\"}, {\"role\": \"assistant\", \"content\": \"Hello\"}]}";
        String dpo = "{\"prompt\": \"2+2? " + m + "\", \"chosen\": \"4\", \"rejected\": \"5\", \"system\": \"Be exact.\"}";
        String distill = "{\"conversations\": [{\"role\": \"user\", \"content\": \"Why? " + m + "\"}, {\"role\": \"assistant\", \"content\": \"Because.\"}]}";

        for (Stage stage : List.of(Stage.PRETRAIN, Stage.SFT, Stage.DPO, Stage.DISTILL)) {
            String line = switch (stage) {
                case PRETRAIN -> pretrain;
                case SFT -> sft;
                case DPO -> dpo;
                case DISTILL -> distill;
            };
            String requestId = given().contentType(NDJSON).body(line.getBytes(StandardCharsets.UTF_8))
                    .when().post("/v1/" + stage.id() + "/records" + (stage == Stage.DISTILL ? "?teacher=dpo-ckpt-3" : ""))
                    .then().statusCode(200).body("accepted", equalTo(1)).body("rejected", equalTo(0))
                    .extract().header(IngestResource.REQUEST_ID_HEADER);

            List<ConsumerRecord<String, byte[]>> mine = TopicContents.read("millrace." + stage.id() + ".raw").stream()
                    .filter(r -> raw(r).getSource().getName().equals(requestId)).toList();
            assertThat(mine).as(stage.id()).hasSize(1);
            RawRecord r = raw(mine.get(0));
            Object normalised = RecordReader.read(StrictJson.parse(line), stage, null).record().normalised();
            assertThat(r.getNormalisedJson()).isEqualTo(RecordId.canonicalJson(normalised));
            assertThat(r.getRecordId()).isEqualTo(RecordId.of(stage, normalised)).isEqualTo(mine.get(0).key());
            assertThat(r.getStage().name()).isEqualTo(stage.name());
            assertThat(r.getTeacherId()).isEqualTo(stage == Stage.DISTILL ? "dpo-ckpt-3" : "");
        }
        assertThat(raw(lastOf("millrace.pretrain.raw", r -> r.getNormalisedJson().contains(m))).getNormalisedJson())
                .isEqualTo("{\"text\":\"Once upon a time " + m + "\"}");
        assertThat(raw(lastOf("millrace.dpo.raw", r -> r.getNormalisedJson().contains(m))).getNormalisedJson())
                .startsWith("{\"chosen\":{\"messages\":[{\"content\":\"Be exact.\",\"role\":\"system\"}")
                .contains("\"rejected\":{\"messages\":");
    }

    @Test
    void distillPromptsGoToDistillPromptsAndAnAnsweredConversationNeedsATeacher() throws Exception {
        String m = UUID.randomUUID().toString();
        String prompt = "{\"messages\": [{\"role\": \"user\", \"content\": \"Explain tides. " + m + "\"}]}";
        String answered = "{\"messages\": [{\"role\": \"user\", \"content\": \"Explain waves. " + m + "\"}, {\"role\": \"assistant\", \"content\": \"Wind.\"}]}";

        String requestId = given().contentType(NDJSON).body((prompt + "\n" + answered + "\n").getBytes(StandardCharsets.UTF_8))
                .when().post("/v1/distill/records")
                .then().statusCode(422)
                .body("accepted", equalTo(1)).body("prompts", equalTo(1)).body("rejected", equalTo(1))
                .body("errors[0].line", equalTo(2)).body("errors[0].reason", equalTo("MISSING_FIELD"))
                .body("errors[0].message", containsString("teacher"))
                .extract().header(IngestResource.REQUEST_ID_HEADER);

        List<RawRecord> prompts = TopicContents.read("millrace.distill.prompts").stream().map(AllStagesServiceTest::raw)
                .filter(r -> r.getSource().getName().equals(requestId)).toList();
        assertThat(prompts).hasSize(1);
        assertThat(prompts.get(0).getStage()).isEqualTo(WireStage.DISTILL);
        assertThat(prompts.get(0).getNormalisedJson()).isEqualTo("{\"messages\":[{\"content\":\"Explain tides. " + m + "\",\"role\":\"user\"}]}");
        assertThat(prompts.get(0).getRecordId()).isEqualTo(LineIngesterTest.sha256Hex("distill\n" + prompts.get(0).getNormalisedJson()));
        assertThat(TopicContents.read("millrace.distill.raw").stream().map(AllStagesServiceTest::raw)
                .filter(r -> r.getSource().getName().equals(requestId))).as("nothing of this body on distill.raw").isEmpty();
        assertThat(letters(d -> d.getSource().getName().equals(requestId))).extracting(DeadLetter::getReason).containsExactly("MISSING_FIELD");

        // Other stages' answers have no "prompts"
        given().contentType(NDJSON).body(("{\"text\": \"" + m + "\"}").getBytes(StandardCharsets.UTF_8)).when().post("/v1/pretrain/records")
                .then().statusCode(200).body("prompts", nullValue());
    }

    @Test
    void aDpoPairWhosePromptsDifferIs422AndADeadLetterWithItsOriginalBytes() {
        String m = UUID.randomUUID().toString();
        String good = "{\"chosen\": [{\"role\": \"user\", \"content\": \"q " + m + "\"}, {\"role\": \"assistant\", \"content\": \"good\"}],"
                + " \"rejected\": [{\"role\": \"user\", \"content\": \"q " + m + "\"}, {\"role\": \"assistant\", \"content\": \"bad\"}]}";
        String mismatch = "{\"chosen\": [{\"role\": \"user\", \"content\": \"q " + m + "\"}, {\"role\": \"assistant\", \"content\": \"good\"}],"
                + " \"rejected\": [{\"role\": \"user\", \"content\": \"other " + m + "\"}, {\"role\": \"assistant\", \"content\": \"bad\"}]}";

        String requestId = given().contentType(NDJSON).body((good + "\r\n" + mismatch + "\r\n").getBytes(StandardCharsets.UTF_8))
                .when().post("/v1/dpo/records")
                .then().statusCode(422).body("accepted", equalTo(1)).body("rejected", equalTo(1))
                .body("errors[0].line", equalTo(2)).body("errors[0].reason", equalTo("DPO_PROMPT_MISMATCH"))
                .extract().header(IngestResource.REQUEST_ID_HEADER);

        List<DeadLetter> mine = letters(d -> d.getSource().getName().equals(requestId));
        assertThat(mine).hasSize(1);
        assertThat(mine.get(0).getReason()).isEqualTo("DPO_PROMPT_MISMATCH");
        assertThat(mine.get(0).getOriginal().toStringUtf8()).isEqualTo(mismatch);
        assertThat(mine.get(0).getStage()).isEqualTo(WireStage.DPO);
    }

    @Test
    void aBodyFromAFileKeepsTheFilesSourceAndLineNumbers() throws Exception {
        String m = UUID.randomUUID().toString();
        String file = "/data/" + m + "/part-2.jsonl";
        String body = "{\"conversations\": [{\"content\": \"a " + m + "\"}, {\"content\": \"b\"}]}\n"
                + "\n"
                + "{\"conversations\": []}\n";

        given().contentType(NDJSON).body(body.getBytes(StandardCharsets.UTF_8))
                .queryParam("source", file).queryParam("first-line", 1001)
                .when().post("/v1/sft/records")
                .then().statusCode(422).body("accepted", equalTo(1))
                .body("errors[0].line", equalTo(1003)).body("errors[0].reason", equalTo("EMPTY_CONVERSATION"));

        List<RawRecord> records = TopicContents.read("millrace.sft.raw").stream().map(AllStagesServiceTest::raw)
                .filter(r -> r.getSource().getName().equals(file)).toList();
        assertThat(records).hasSize(1);
        assertThat(records.get(0).getSource().getKind()).isEqualTo("file");
        assertThat(records.get(0).getSource().getLine()).isEqualTo(1001);
        List<ConsumerRecord<String, byte[]>> letters = TopicContents.read("millrace.dlq").stream()
                .filter(r -> letter(r).getSource().getName().equals(file)).toList();
        assertThat(letters).hasSize(1);
        assertThat(letters.get(0).key()).isEqualTo("file:" + file + ":1003");
        assertThat(letter(letters.get(0)).getSource().getKind()).isEqualTo("file");

        given().contentType(NDJSON).body(body.getBytes(StandardCharsets.UTF_8)).queryParam("first-line", 3)
                .when().post("/v1/sft/records").then().statusCode(400).body("message", containsString("first-line needs source"));
    }

    @Test
    void resubmitTrueMarksEveryRecordOfTheBodyPromptsIncludedAndWithoutItNoneIsMarked() {
        String m = UUID.randomUUID().toString();
        String sft = "{\"messages\": [{\"role\": \"user\", \"content\": \"Hi " + m + "\"}, {\"role\": \"assistant\", \"content\": \"Hello\"}]}";
        String prompt = "{\"messages\": [{\"role\": \"user\", \"content\": \"Explain tides. " + m + "\"}]}";
        String answered = "{\"messages\": [{\"role\": \"user\", \"content\": \"Explain waves. " + m + "\"}, {\"role\": \"assistant\", \"content\": \"Wind.\"}]}";

        String plain = given().contentType(NDJSON).body(sft.getBytes(StandardCharsets.UTF_8))
                .when().post("/v1/sft/records").then().statusCode(200).extract().header(IngestResource.REQUEST_ID_HEADER);
        String again = given().contentType(NDJSON).body(sft.getBytes(StandardCharsets.UTF_8)).queryParam("resubmit", "true")
                .when().post("/v1/sft/records").then().statusCode(200).extract().header(IngestResource.REQUEST_ID_HEADER);
        String distill = given().contentType(NDJSON).body((prompt + "\n" + answered + "\n").getBytes(StandardCharsets.UTF_8))
                .queryParam("teacher", "dpo-ckpt-3").queryParam("resubmit", "true")
                .when().post("/v1/distill/records").then().statusCode(200).body("prompts", equalTo(1))
                .extract().header(IngestResource.REQUEST_ID_HEADER);

        List<RawRecord> sftRecords = TopicContents.read("millrace.sft.raw").stream().map(AllStagesServiceTest::raw)
                .filter(r -> r.getNormalisedJson().contains(m)).toList();
        assertThat(sftRecords).extracting(r -> r.getSource().getName()).containsExactly(plain, again);
        assertThat(sftRecords).extracting(RawRecord::getResubmitted).containsExactly(false, true);
        assertThat(sftRecords.get(1).getRecordId()).as("the same record, the same id").isEqualTo(sftRecords.get(0).getRecordId());
        assertThat(TopicContents.read("millrace.distill.raw").stream().map(AllStagesServiceTest::raw)
                .filter(r -> r.getSource().getName().equals(distill))).extracting(RawRecord::getResubmitted).containsExactly(true);
        assertThat(TopicContents.read("millrace.distill.prompts").stream().map(AllStagesServiceTest::raw)
                .filter(r -> r.getSource().getName().equals(distill))).extracting(RawRecord::getResubmitted).containsExactly(true);

        given().contentType(NDJSON).body(sft.getBytes(StandardCharsets.UTF_8)).queryParam("resubmit", "1")
                .when().post("/v1/sft/records").then().statusCode(400).body("message", containsString("resubmit must be true or false"));
    }

    static RawRecord raw(ConsumerRecord<String, byte[]> r) {
        try {
            return RawRecord.parseFrom(r.value());
        } catch (Exception e) {
            throw new AssertionError(e);
        }
    }

    static DeadLetter letter(ConsumerRecord<String, byte[]> r) {
        try {
            return DeadLetter.parseFrom(r.value());
        } catch (Exception e) {
            throw new AssertionError(e);
        }
    }

    static List<DeadLetter> letters(Predicate<DeadLetter> which) {
        List<DeadLetter> out = new ArrayList<>();
        for (ConsumerRecord<String, byte[]> r : TopicContents.read("millrace.dlq")) {
            DeadLetter d = letter(r);
            if (which.test(d)) {
                out.add(d);
            }
        }
        return out;
    }

    private static ConsumerRecord<String, byte[]> lastOf(String topic, Predicate<RawRecord> which) {
        List<ConsumerRecord<String, byte[]>> all = TopicContents.read(topic).stream().filter(r -> which.test(raw(r))).toList();
        assertThat(all).isNotEmpty();
        return all.get(all.size() - 1);
    }
}
