package dev.millrace.core.chat;

import static org.assertj.core.api.Assertions.assertThat;
import static org.assertj.core.api.Assertions.catchThrowableOfType;

import dev.millrace.core.json.StrictJson;
import dev.millrace.core.record.Reason;
import dev.millrace.core.record.RecordRejected;
import dev.millrace.core.record.Stage;
import java.util.Map;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.params.ParameterizedTest;
import org.junit.jupiter.params.provider.CsvSource;
import org.junit.jupiter.params.provider.ValueSource;

/** Alpaca {@code instruction}/{@code input}/{@code output} records mapped onto messages, as LLaMA-Factory does. */
class AlpacaTest {

    private static Conversation read(String singleQuoted) throws RecordRejected {
        return RecordReader.read(StrictJson.parse(singleQuoted.replace('\'', '"')), Stage.SFT, null).asConversation();
    }

    private static RecordRejected rejection(String singleQuoted) {
        return catchThrowableOfType(RecordRejected.class, () -> read(singleQuoted));
    }

    private static Map<String, Object> msg(String role, String content) {
        return Map.of("role", role, "content", content);
    }

    @Test
    void instructionAndOutputAreOneExchange() throws Exception {
        assertThat(read("{'instruction': 'Add 2 and 3.', 'output': '5'}").messages())
                .containsExactly(msg("user", "Add 2 and 3."), msg("assistant", "5"));
    }

    @Test
    void aNonEmptyInputIsJoinedToTheInstructionWithOneNewline() throws Exception {
        assertThat(read("{'instruction': 'Translate to French.', 'input': 'Good morning', 'output': 'Bonjour'}").messages().get(0))
                .isEqualTo(msg("user", "Translate to French.\nGood morning"));
    }

    @ParameterizedTest
    @ValueSource(strings = {"'input': '', ", "'input': null, ", ""})
    void anEmptyNullOrAbsentInputAddsNothing(String input) throws Exception {
        assertThat(read("{'instruction': 'Say hi.', " + input + "'output': 'hi'}").messages().get(0)).isEqualTo(msg("user", "Say hi."));
    }

    @Test
    void nothingIsTrimmed() throws Exception {
        assertThat(read("{'instruction': ' do \\n', 'input': ' x ', 'output': ' y '}").messages())
                .containsExactly(msg("user", " do \n\n x "), msg("assistant", " y "));
    }

    @Test
    void anEmptyInstructionWithAnInputIsTheInputAlone() throws Exception {
        // LLaMA-Factory joins the non-empty ones of instruction and input.
        assertThat(read("{'instruction': '', 'input': 'x', 'output': 'y'}").messages().get(0)).isEqualTo(msg("user", "x"));
    }

    @Test
    void systemBecomesALeadingSystemMessage() throws Exception {
        assertThat(read("{'system': 'be brief', 'instruction': 'q', 'output': 'a'}").messages())
                .containsExactly(msg("system", "be brief"), msg("user", "q"), msg("assistant", "a"));
    }

    @Test
    void anEmptySystemMeansNoSystemMessage() throws Exception {
        assertThat(read("{'system': '', 'instruction': 'q', 'output': 'a'}").size()).isEqualTo(2);
    }

    @Test
    void historyPairsComeFirstInOrder() throws Exception {
        assertThat(read("{'system': 's', 'history': [['q1', 'a1'], ['q2', 'a2']], 'instruction': 'q3', 'input': 'i', 'output': 'a3'}").messages())
                .containsExactly(msg("system", "s"), msg("user", "q1"), msg("assistant", "a1"), msg("user", "q2"),
                        msg("assistant", "a2"), msg("user", "q3\ni"), msg("assistant", "a3"));
    }

    @ParameterizedTest
    @ValueSource(strings = {"[]", "null"})
    void anEmptyOrNullHistoryAddsNothing(String history) throws Exception {
        assertThat(read("{'history': " + history + ", 'instruction': 'q', 'output': 'a'}").size()).isEqualTo(2);
    }

    @Test
    void alpacaRecordsHaveNoTools() throws Exception {
        assertThat(read("{'instruction': 'q', 'output': 'a'}").tools()).isNull();
    }

    @Test
    void emptyOutputIsAcceptedLikeAnyEmptyAssistantContent() throws Exception {
        assertThat(read("{'instruction': 'q', 'output': ''}").messages().get(1)).isEqualTo(msg("assistant", ""));
    }

    // --- errors ------------------------------------------------------------------------------

    @Test
    void aMissingOutputIsMissingFieldWhenTheFormatIsForced() {
        RecordRejected e = catchThrowableOfType(RecordRejected.class,
                () -> RecordReader.read(StrictJson.parse("{\"instruction\": \"q\"}"), Stage.SFT, InputFormat.ALPACA));

        assertThat(e.reason()).isEqualTo(Reason.MISSING_FIELD);
        assertThat(e.getMessage()).contains("\"output\"");
    }

    @Test
    void aMissingInstructionIsMissingFieldWhenTheFormatIsForced() {
        RecordRejected e = catchThrowableOfType(RecordRejected.class,
                () -> RecordReader.read(StrictJson.parse("{\"output\": \"a\"}"), Stage.SFT, InputFormat.ALPACA));

        assertThat(e.reason()).isEqualTo(Reason.MISSING_FIELD);
        assertThat(e.getMessage()).contains("\"instruction\"");
    }

    @ParameterizedTest(name = "{0} = {1}")
    @CsvSource(delimiter = '|', value = {
        "instruction | 1       | a number",
        "instruction | null    | null",
        "output      | ['a']   | a list",
        "output      | null    | null",
        "input       | 7       | a number",
        "system      | {}      | an object"})
    void aFieldOfTheWrongTypeIsWrongTypeNamingIt(String field, String value, String typeName) {
        String record = "{'instruction': 'q', 'output': 'a', '" + field + "': " + value + "}";
        RecordRejected e = rejection(record.replace("'" + field + "': '" + (field.equals("output") ? "a" : "q") + "', ", ""));

        assertThat(e).as(record).isNotNull();
        assertThat(e.reason()).isEqualTo(Reason.WRONG_TYPE);
        assertThat(e.getMessage()).contains("\"" + field + "\"").contains(typeName);
    }

    @ParameterizedTest(name = "history {0}")
    @CsvSource(delimiter = '|', quoteCharacter = '"', value = {
        "'q1'               | history        | a string",
        "[['q1']]           | history[0]     | a list of 1",
        "[['q1', 'a1', 'x']] | history[0]    | a list of 3",
        "['q1']             | history[0]     | a string",
        "[['q1', 2]]        | history[0][1]  | a number",
        "[[null, 'a1']]     | history[0][0]  | null"})
    void aMalformedHistoryIsWrongTypeNamingThePlace(String history, String where, String found) {
        RecordRejected e = rejection("{'history': " + history + ", 'instruction': 'q', 'output': 'a'}");

        assertThat(e).as(history).isNotNull();
        assertThat(e.reason()).isEqualTo(Reason.WRONG_TYPE);
        assertThat(e.getMessage()).contains(where).contains(found);
    }
}
