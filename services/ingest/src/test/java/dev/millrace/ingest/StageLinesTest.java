package dev.millrace.ingest;

import static dev.millrace.ingest.LineIngesterTest.body;
import static dev.millrace.ingest.LineIngesterTest.http;
import static org.assertj.core.api.Assertions.assertThat;

import dev.millrace.contract.Topics;
import dev.millrace.core.chat.InputFormat;
import dev.millrace.core.chat.RecordReader;
import dev.millrace.core.json.StrictJson;
import dev.millrace.core.record.RecordId;
import dev.millrace.core.record.Stage;
import dev.millrace.proto.v1.DeadLetter;
import dev.millrace.proto.v1.RawRecord;
import dev.millrace.proto.v1.WireStage;
import java.util.List;
import org.junit.jupiter.api.Test;

/** Every stage's lines, without HTTP or Kafka: topics, normalised records, ids, prompts and teachers. */
class StageLinesTest {
    private static final LineIngester.Request DETECT = LineIngester.Request.DETECT;

    private static LineIngester.Ingested ingest(Stage stage, LineIngester.Request request, String... lines) {
        return new LineIngester(stage, Topics.DEFAULT, 4096).ingest(body(String.join("\n", lines)), request, http("req"), 7L);
    }

    @Test
    void pretrainTextGoesToPretrainRawAsTextWithCoresId() throws Exception {
        LineIngester.Ingested out = ingest(Stage.PRETRAIN, DETECT, "{\"text\": \"<|im_start|>Hello world\", \"meta\": 1}", "{\"text\": 3}",
                "{\"conversations\": [{\"content\": \"a\"}, {\"content\": \"b\"}]}");

        assertThat(out.accepted()).hasSize(1);
        LineIngester.Accepted a = out.accepted().get(0);
        assertThat(a.topic()).isEqualTo("millrace.pretrain.raw");
        assertThat(a.prompt()).isFalse();
        RawRecord r = a.record();
        assertThat(r.getNormalisedJson()).isEqualTo("{\"text\":\"<|im_start|>Hello world\"}");
        assertThat(r.getRecordId()).isEqualTo(LineIngesterTest.sha256Hex("pretrain\n" + r.getNormalisedJson()));
        assertThat(r.getFormat()).isEqualTo("text");
        assertThat(r.getStage()).isEqualTo(WireStage.PRETRAIN);
        assertThat(r.getTeacherId()).isEmpty();
        assertThat(out.rejected()).extracting(DeadLetter::getReason).containsExactly("WRONG_TYPE", "UNKNOWN_FORMAT");
        assertThat(out.rejected()).allSatisfy(d -> assertThat(d.getStage()).isEqualTo(WireStage.PRETRAIN));
    }

    @Test
    void dpoPairsAreNormalisedAsTwoConversationsAndAMismatchedPromptIsADeadLetter() throws Exception {
        String pair = "{\"prompt\": \"2+2?\", \"chosen\": \"4\", \"rejected\": \"5\"}";
        String mismatch = "{\"chosen\": [{\"role\": \"user\", \"content\": \"a\"}, {\"role\": \"assistant\", \"content\": \"x\"}],"
                + " \"rejected\": [{\"role\": \"user\", \"content\": \"b\"}, {\"role\": \"assistant\", \"content\": \"y\"}]}";

        LineIngester.Ingested out = ingest(Stage.DPO, DETECT, pair, mismatch);

        assertThat(out.accepted()).hasSize(1);
        RawRecord r = out.accepted().get(0).record();
        assertThat(out.accepted().get(0).topic()).isEqualTo("millrace.dpo.raw");
        assertThat(r.getNormalisedJson()).isEqualTo("{\"chosen\":{\"messages\":[{\"content\":\"2+2?\",\"role\":\"user\"},"
                + "{\"content\":\"4\",\"role\":\"assistant\"}]},\"rejected\":{\"messages\":[{\"content\":\"2+2?\",\"role\":\"user\"},"
                + "{\"content\":\"5\",\"role\":\"assistant\"}]}}");
        var expected = RecordReader.read(StrictJson.parse(pair), Stage.DPO, null).asDpoPair().normalised();
        assertThat(r.getRecordId()).isEqualTo(RecordId.of(Stage.DPO, expected));
        assertThat(r.getFormat()).isEqualTo("dpo");
        assertThat(out.rejected()).extracting(DeadLetter::getReason).containsExactly("DPO_PROMPT_MISMATCH");
        assertThat(out.rejected().get(0).getOriginal().toStringUtf8()).isEqualTo(mismatch);
        assertThat(out.rejected().get(0).getSource().getLine()).isEqualTo(2);
    }

    @Test
    void aDistillConversationWithoutAnAssistantMessageIsAPromptForDistillPrompts() throws Exception {
        String minimind = "{\"conversations\": [{\"role\": \"system\", \"content\": \"Be brief.\"}, {\"role\": \"user\", \"content\": \"2+2?\"}]}";
        String openai = "{\"messages\": [{\"role\": \"system\", \"content\": \"Be brief.\"}, {\"role\": \"user\", \"content\": \"2+2?\"}]}";
        String sharegpt = "{\"system\": \"Be brief.\", \"conversations\": [{\"from\": \"human\", \"value\": \"2+2?\"}]}";
        String positional = "{\"conversations\": [{\"content\": \"3+3?\"}]}";

        LineIngester.Ingested out = ingest(Stage.DISTILL, DETECT, minimind, openai, sharegpt, positional);

        assertThat(out.rejected()).isEmpty();
        assertThat(out.prompts()).isEqualTo(4);
        String canonical = "{\"messages\":[{\"content\":\"Be brief.\",\"role\":\"system\"},{\"content\":\"2+2?\",\"role\":\"user\"}]}";
        List<RawRecord> records = LineIngesterTest.records(out);
        assertThat(out.accepted()).allSatisfy(a -> {
            assertThat(a.topic()).isEqualTo("millrace.distill.prompts");
            assertThat(a.prompt()).isTrue();
            assertThat(a.record().getStage()).isEqualTo(WireStage.DISTILL);
            assertThat(a.record().getTeacherId()).isEmpty();
        });
        assertThat(records.subList(0, 3)).extracting(RawRecord::getNormalisedJson).containsOnly(canonical);
        assertThat(records.get(0).getRecordId()).isEqualTo(LineIngesterTest.sha256Hex("distill\n" + canonical));
        assertThat(records).extracting(RawRecord::getFormat).containsExactly("minimind", "openai", "sharegpt", "minimind");
        assertThat(records.get(3).getNormalisedJson()).isEqualTo("{\"messages\":[{\"content\":\"3+3?\",\"role\":\"user\"}]}");
    }

    @Test
    void whatIsNeitherAnsweredNorAPromptKeepsCoresReason() {
        String systemOnly = "{\"conversations\": [{\"role\": \"system\", \"content\": \"Be brief.\"}]}";
        String twoUsers = "{\"conversations\": [{\"role\": \"user\", \"content\": \"a\"}, {\"role\": \"user\", \"content\": \"b\"}]}";
        String badRole = "{\"conversations\": [{\"role\": \"robot\", \"content\": \"a\"}]}";

        LineIngester.Ingested out = ingest(Stage.DISTILL, DETECT, systemOnly, twoUsers, badRole);

        assertThat(out.accepted()).isEmpty();
        assertThat(out.rejected()).extracting(DeadLetter::getReason).containsExactly("NO_TRAINABLE_TOKENS", "ROLE_ORDER", "UNKNOWN_ROLE");
        // SFT still rejects what distill takes as a prompt
        assertThat(ingest(Stage.SFT, DETECT, "{\"conversations\": [{\"role\": \"user\", \"content\": \"q\"}]}").rejected())
                .extracting(DeadLetter::getReason).containsExactly("NO_TRAINABLE_TOKENS");
    }

    @Test
    void anAnsweredDistillConversationCarriesItsTeacherAndNeedsOne() throws Exception {
        String answered = "{\"messages\": [{\"role\": \"user\", \"content\": \"2+2?\"}, {\"role\": \"assistant\", \"content\": \"4\"}]}";
        String ownTeacher = "{\"teacher\": \"dpo-ckpt-9\", \"messages\": [{\"role\": \"user\", \"content\": \"3+3?\"}, {\"role\": \"assistant\", \"content\": \"6\"}]}";
        String badTeacher = "{\"teacher\": 9, \"messages\": [{\"role\": \"user\", \"content\": \"q\"}, {\"role\": \"assistant\", \"content\": \"a\"}]}";

        LineIngester.Ingested withParam = ingest(Stage.DISTILL, new LineIngester.Request(null, "dpo-ckpt-1"), answered, ownTeacher, badTeacher);
        LineIngester.Ingested without = ingest(Stage.DISTILL, DETECT, answered, ownTeacher);

        assertThat(withParam.accepted()).extracting(a -> a.record().getTeacherId()).containsExactly("dpo-ckpt-1", "dpo-ckpt-9");
        assertThat(withParam.accepted()).allSatisfy(a -> assertThat(a.topic()).isEqualTo("millrace.distill.raw"));
        RawRecord first = withParam.accepted().get(0).record();
        var conversation = RecordReader.read(StrictJson.parse(answered), Stage.DISTILL, null).asConversation();
        assertThat(first.getRecordId()).as("the teacher is not part of the record id")
                .isEqualTo(RecordId.of(Stage.DISTILL, conversation.normalised()));
        assertThat(withParam.rejected()).extracting(DeadLetter::getReason).containsExactly("WRONG_TYPE");
        assertThat(withParam.rejected().get(0).getMessage()).contains("\"teacher\"");

        assertThat(without.accepted()).extracting(a -> a.record().getTeacherId()).containsExactly("dpo-ckpt-9");
        assertThat(without.rejected()).extracting(DeadLetter::getReason).containsExactly("MISSING_FIELD");
        assertThat(without.rejected().get(0).getMessage()).contains("teacher").contains("?teacher=");
    }

    @Test
    void aForcedFormatHoldsForPromptsToo() {
        String prompt = "{\"messages\": [{\"role\": \"user\", \"content\": \"q\"}]}";
        LineIngester.Ingested asOpenAi = ingest(Stage.DISTILL, new LineIngester.Request(InputFormat.OPENAI, null), prompt);
        LineIngester.Ingested asMiniMind = ingest(Stage.DISTILL, new LineIngester.Request(InputFormat.MINIMIND, null), prompt);

        assertThat(asOpenAi.prompts()).isEqualTo(1);
        assertThat(asOpenAi.accepted().get(0).record().getFormat()).isEqualTo("openai");
        assertThat(asMiniMind.accepted()).isEmpty();
        assertThat(asMiniMind.rejected()).extracting(DeadLetter::getReason).containsExactly("MISSING_FIELD");
    }
}
