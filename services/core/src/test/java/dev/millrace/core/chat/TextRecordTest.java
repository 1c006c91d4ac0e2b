package dev.millrace.core.chat;

import static org.assertj.core.api.Assertions.assertThat;
import static org.assertj.core.api.Assertions.catchThrowableOfType;

import dev.millrace.core.json.LineReader;
import dev.millrace.core.json.RawLine;
import dev.millrace.core.json.StrictJson;
import dev.millrace.core.record.Reason;
import dev.millrace.core.record.RecordId;
import dev.millrace.core.record.RecordRejected;
import dev.millrace.core.record.Stage;
import dev.millrace.core.testing.SharedData;
import java.io.InputStream;
import java.nio.file.Files;
import java.util.Map;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.params.ParameterizedTest;
import org.junit.jupiter.params.provider.CsvSource;

/** Pretrain {@code {"text": ...}} records. */
class TextRecordTest {

    private static RecordReader.Result read(String singleQuoted, InputFormat forced) throws RecordRejected {
        return RecordReader.read(StrictJson.parse(singleQuoted.replace('\'', '"')), Stage.PRETRAIN, forced);
    }

    @Test
    void theTextIsKeptExactly() throws Exception {
        RecordReader.Result r = read("{'text': '<|im_start|> two  spaces\\n', 'id': 3}", null);

        assertThat(r.format()).isEqualTo(InputFormat.TEXT);
        assertThat(r.asText().text()).isEqualTo("<|im_start|> two  spaces\n");
    }

    @Test
    void theNormalisedFormIsTheTextAlone() throws Exception {
        TextRecord t = read("{'text': 'once', 'source': 'web'}", null).asText();

        assertThat(t.normalised()).isEqualTo(Map.of("text", "once"));
        assertThat(RecordId.canonicalJson(t.normalised())).isEqualTo("{\"text\":\"once\"}");
        assertThat(TextRecord.fromNormalised(t.normalised())).isEqualTo(t);
    }

    @Test
    void otherKeysDoNotChangeTheId() throws Exception {
        assertThat(RecordId.of(Stage.PRETRAIN, read("{'text': 'once', 'source': 'web'}", null).record().normalised()))
                .isEqualTo(RecordId.of(Stage.PRETRAIN, read("{'text': 'once'}", null).record().normalised()));
    }

    @Test
    void anEmptyTextIsAText() throws Exception {
        assertThat(read("{'text': ''}", null).asText().text()).isEmpty();
    }

    @ParameterizedTest(name = "text {0}")
    @CsvSource(delimiter = '|', quoteCharacter = '"', value = {
        "null        | null",
        "42          | a number",
        "['a', 'b']  | a list",
        "{'a': 1}    | an object"})
    void aTextThatIsNotAStringIsWrongType(String text, String typeName) {
        RecordRejected e = catchThrowableOfType(RecordRejected.class, () -> read("{'text': " + text + "}", null));

        assertThat(e.reason()).isEqualTo(Reason.WRONG_TYPE);
        assertThat(e.getMessage()).contains("\"text\"").contains(typeName);
    }

    @Test
    void aForcedTextRecordWithoutTextIsMissingField() {
        RecordRejected e = catchThrowableOfType(RecordRejected.class, () -> read("{'body': 'x'}", InputFormat.TEXT));

        assertThat(e.reason()).isEqualTo(Reason.MISSING_FIELD);
        assertThat(e.getMessage()).contains("\"text\"");
    }

    @Test
    void everyConformancePretrainLineReads() throws Exception {
        int n = 0;
        try (InputStream in = Files.newInputStream(SharedData.conformance("pretrain-128.input.jsonl"))) {
            LineReader lines = new LineReader(in);
            while (lines.hasNext()) {
                RawLine line = lines.next();
                assertThat(RecordReader.read(StrictJson.parse(line.bytes()), Stage.PRETRAIN, null).asText().text()).isNotNull();
                n++;
            }
        }
        assertThat(n).isEqualTo(12);
    }
}
