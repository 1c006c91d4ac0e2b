package dev.millrace.core.chat;

import static org.assertj.core.api.Assertions.assertThat;
import static org.assertj.core.api.Assertions.assertThatThrownBy;
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
import java.util.List;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.params.ParameterizedTest;
import org.junit.jupiter.params.provider.CsvSource;
import org.junit.jupiter.params.provider.EnumSource;

/** The single entry point: detection, forcing, stage fit, and the format reported back. */
class RecordReaderTest {

    static final String MINIMIND = "{'conversations': [{'role': 'user', 'content': 'q'}, {'role': 'assistant', 'content': 'a'}]}";
    static final String OPENAI = "{'messages': [{'role': 'user', 'content': 'q'}, {'role': 'assistant', 'content': 'a'}]}";
    static final String SHAREGPT = "{'conversations': [{'from': 'human', 'value': 'q'}, {'from': 'gpt', 'value': 'a'}]}";
    static final String ALPACA = "{'instruction': 'q', 'input': '', 'output': 'a'}";
    static final String TEXT = "{'text': 'once upon a time'}";
    static final String DPO = "{'prompt': 'q', 'chosen': 'a', 'rejected': 'b'}";

    private static RecordReader.Result read(String singleQuoted, Stage stage, InputFormat forced) throws RecordRejected {
        return RecordReader.read(StrictJson.parse(singleQuoted.replace('\'', '"')), stage, forced);
    }

    private static RecordRejected rejection(String singleQuoted, Stage stage, InputFormat forced) {
        return catchThrowableOfType(RecordRejected.class, () -> read(singleQuoted, stage, forced));
    }

    private static String record(InputFormat format) {
        return switch (format) {
            case MINIMIND -> MINIMIND;
            case OPENAI -> OPENAI;
            case SHAREGPT -> SHAREGPT;
            case ALPACA -> ALPACA;
            case TEXT -> TEXT;
            case DPO -> DPO;
        };
    }

    private static Stage stageOf(InputFormat format) {
        return format == InputFormat.TEXT ? Stage.PRETRAIN : format == InputFormat.DPO ? Stage.DPO : Stage.SFT;
    }

    @ParameterizedTest
    @EnumSource(InputFormat.class)
    void eachFormatIsDetectedAndReportedWithItsRecord(InputFormat format) throws Exception {
        RecordReader.Result r = read(record(format), stageOf(format), null);

        assertThat(r.format()).isEqualTo(format);
        assertThat(r.record()).isInstanceOf(switch (format) {
            case TEXT -> TextRecord.class;
            case DPO -> DpoPair.class;
            default -> Conversation.class;
        });
    }

    @ParameterizedTest
    @EnumSource(InputFormat.class)
    void eachFormatCanBeForced(InputFormat format) throws Exception {
        assertThat(read(record(format), stageOf(format), format).format()).isEqualTo(format);
    }

    @ParameterizedTest
    @EnumSource(InputFormat.class)
    void forcingAFormatWhoseKeyFieldIsMissingIsMissingFieldNamingIt(InputFormat format) {
        RecordRejected e = rejection("{'something': 'else'}", stageOf(format), format);

        assertThat(e.reason()).isEqualTo(Reason.MISSING_FIELD);
        assertThat(e.getMessage()).contains("\"" + format.keyField() + "\"").contains(format.id());
    }

    @Test
    void theDistillStageReadsTheConversationFormats() throws Exception {
        for (InputFormat f : List.of(InputFormat.MINIMIND, InputFormat.OPENAI, InputFormat.SHAREGPT, InputFormat.ALPACA)) {
            assertThat(read(record(f), Stage.DISTILL, null).format()).isEqualTo(f);
        }
    }

    @Test
    void forcingOverridesDetectionOfAnAmbiguousRecord() throws Exception {
        String both = "{'text': 'x', 'messages': [{'role': 'user', 'content': 'q'}, {'role': 'assistant', 'content': 'a'}]}";

        assertThat(rejection(both, Stage.SFT, null).reason()).isEqualTo(Reason.UNKNOWN_FORMAT);
        assertThat(read(both, Stage.SFT, InputFormat.OPENAI).asConversation().size()).isEqualTo(2);
        assertThat(read(both, Stage.PRETRAIN, InputFormat.TEXT).asText().text()).isEqualTo("x");
    }

    @Test
    void anAlpacaRecordWithATextColumnAsksForTheFormat() throws Exception {
        // tatsu-lab/alpaca carries a formatted "text" column beside instruction/input/output.
        String record = "{'instruction': 'q', 'input': '', 'output': 'a', 'text': 'Below is an instruction...'}";
        RecordRejected e = rejection(record, Stage.SFT, null);

        assertThat(e.reason()).isEqualTo(Reason.UNKNOWN_FORMAT);
        assertThat(e.getMessage()).contains("alpaca").contains("text").contains("--format");
        assertThat(read(record, Stage.SFT, InputFormat.ALPACA).format()).isEqualTo(InputFormat.ALPACA);
    }

    @Test
    void aShareGptRecordForcedAsMiniMindIsReadAsMiniMindAndFails() {
        RecordRejected e = rejection(SHAREGPT, Stage.SFT, InputFormat.MINIMIND);

        assertThat(e.reason()).isEqualTo(Reason.MISSING_FIELD);
        assertThat(e.getMessage()).contains("conversations[0]").contains("\"content\"");
    }

    @Test
    void aMiniMindRecordForcedAsShareGptIsReadAsShareGptAndFails() {
        RecordRejected e = rejection(MINIMIND, Stage.SFT, InputFormat.SHAREGPT);

        assertThat(e.reason()).isEqualTo(Reason.UNKNOWN_FORMAT);
        assertThat(e.getMessage()).contains("conversations[0]");
    }

    // --- stage fit ---------------------------------------------------------------------------

    @ParameterizedTest(name = "{0} for {1}")
    @CsvSource({
        "TEXT, SFT, sft, conversations",
        "DPO, SFT, sft, instruction",
        "TEXT, DISTILL, distill, messages",
        "MINIMIND, PRETRAIN, pretrain, text",
        "ALPACA, PRETRAIN, pretrain, text",
        "OPENAI, DPO, dpo, chosen",
        "TEXT, DPO, dpo, rejected"})
    void aRecordOfAnotherStageIsUnknownFormatSayingWhatTheStageExpects(InputFormat format, Stage stage, String id, String expected) {
        RecordRejected detected = rejection(record(format), stage, null);
        RecordRejected forced = rejection(record(format), stage, format);

        assertThat(detected.reason()).isEqualTo(Reason.UNKNOWN_FORMAT);
        assertThat(detected.getMessage()).contains("the " + id + " stage expects").contains(expected).contains(format.shape());
        assertThat(forced.reason()).isEqualTo(Reason.UNKNOWN_FORMAT);
        assertThat(forced.getMessage()).contains("the format " + format.id() + " was given").contains("the " + id + " stage expects");
    }

    @Test
    void aStageMismatchIsFoundBeforeAMissingKeyField() {
        // --format text for sft: the format does not fit, whatever the line holds
        assertThat(rejection(MINIMIND, Stage.SFT, InputFormat.TEXT).reason()).isEqualTo(Reason.UNKNOWN_FORMAT);
    }

    @Test
    void aLineThatIsNotAnObjectIsUnknownFormatSayingWhatTheStageExpects() {
        RecordRejected e = rejection("['q', 'a']", Stage.PRETRAIN, null);

        assertThat(e.reason()).isEqualTo(Reason.UNKNOWN_FORMAT);
        assertThat(e.getMessage()).contains("array").contains("not an object").contains("{\"text\"");
    }

    @Test
    void unknownKeysAreUnknownFormatNamingTheKeysAndTheShapes() {
        RecordRejected e = rejection("{'input_text': 'q', 'target_text': 'a'}", Stage.SFT, null);

        assertThat(e.reason()).isEqualTo(Reason.UNKNOWN_FORMAT);
        assertThat(e.getMessage()).contains("input_text").contains("target_text").contains("conversations").contains("messages")
                .contains("instruction").contains("chosen").contains("text");
    }

    @Test
    void conformanceBadLine12IsUnknownFormat() throws Exception {
        try (InputStream in = Files.newInputStream(SharedData.conformance("bad.jsonl"))) {
            LineReader lines = new LineReader(in);
            while (lines.hasNext()) {
                RawLine line = lines.next();
                if (line.number() == 12) {
                    RecordRejected e = catchThrowableOfType(RecordRejected.class,
                            () -> RecordReader.read(StrictJson.parse(line.bytes()), Stage.SFT, null));
                    assertThat(e.reason()).isEqualTo(Reason.UNKNOWN_FORMAT);
                    assertThat(e.getMessage()).contains("input_text");
                    return;
                }
            }
        }
        throw new AssertionError("bad.jsonl has no line 12");
    }

    @Test
    void everyConformanceSftLineReadsAsMiniMind() throws Exception {
        for (String file : List.of("sft-512.input.jsonl", "sft-128.input.jsonl")) {
            try (InputStream in = Files.newInputStream(SharedData.conformance(file))) {
                LineReader lines = new LineReader(in);
                while (lines.hasNext()) {
                    RawLine line = lines.next();
                    assertThat(RecordReader.read(StrictJson.parse(line.bytes()), Stage.SFT, null).format())
                            .as(file + " line " + line.number()).isEqualTo(InputFormat.MINIMIND);
                }
            }
        }
    }

    // --- OpenAI tool calls (docs/decisions.md, "Null content on a tool-calling turn") ------------

    static final String OPENAI_TOOL_CALL = "{'messages': [{'role': 'user', 'content': 'Weather in Paris?'},"
            + " {'role': 'assistant', 'content': null, 'tool_calls': [{'id': 'call_1', 'type': 'function',"
            + "  'function': {'name': 'get_weather', 'arguments': '{}'}}]},"
            + " {'role': 'tool', 'tool_call_id': 'call_1', 'content': 'sunny'},"
            + " {'role': 'assistant', 'content': 'It is sunny.'}]}";

    @Test
    void anOpenAiToolCallWithNullContentIsReadWithTheNullKept() throws Exception {
        Conversation c = read(OPENAI_TOOL_CALL, Stage.SFT, null).asConversation();

        assertThat(c.messages().get(1)).containsEntry("content", null);
        assertThat(RecordId.canonicalJson(c.normalised())).contains("{\"content\":null,\"role\":\"assistant\",\"tool_calls\":");
    }

    @Test
    void anOpenAiAssistantMessageWithNullContentAndNoToolCallsIsWrongType() {
        String record = OPENAI_TOOL_CALL.replace(", 'tool_calls': [{'id': 'call_1', 'type': 'function',"
                + "  'function': {'name': 'get_weather', 'arguments': '{}'}}]}", "}");
        assertThat(record).isNotEqualTo(OPENAI_TOOL_CALL);

        RecordRejected e = rejection(record, Stage.SFT, null);

        assertThat(e.reason()).isEqualTo(Reason.WRONG_TYPE);
        assertThat(e.getMessage()).contains("messages[1].content");
    }

    // --- result ------------------------------------------------------------------------------

    @Test
    void askingTheResultForTheWrongKindIsAnIllegalState() throws Exception {
        RecordReader.Result r = read(TEXT, Stage.PRETRAIN, null);

        assertThat(r.asText()).isEqualTo(new TextRecord("once upon a time"));
        assertThatThrownBy(r::asConversation).isInstanceOf(IllegalStateException.class).hasMessageContaining("TextRecord");
        assertThatThrownBy(r::asDpoPair).isInstanceOf(IllegalStateException.class);
    }

    @Test
    void conversationReaderStillReadsForExistingCallers() throws Exception {
        assertThat(ConversationReader.read(StrictJson.parse(SHAREGPT.replace('\'', '"')), null))
                .isEqualTo(read(MINIMIND, Stage.SFT, null).record());
    }
}
