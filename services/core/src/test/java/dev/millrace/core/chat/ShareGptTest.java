package dev.millrace.core.chat;

import static org.assertj.core.api.Assertions.assertThat;
import static org.assertj.core.api.Assertions.catchThrowableOfType;

import dev.millrace.core.json.StrictJson;
import dev.millrace.core.record.Reason;
import dev.millrace.core.record.RecordRejected;
import dev.millrace.core.record.Stage;
import java.util.List;
import java.util.Map;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.params.ParameterizedTest;
import org.junit.jupiter.params.provider.CsvSource;
import org.junit.jupiter.params.provider.ValueSource;

/** ShareGPT {@code from}/{@code value} records mapped onto role/content messages (docs/semantics.md#sft-rule-1-reading-the-conversation). */
class ShareGptTest {

    private static Conversation read(String singleQuoted) throws RecordRejected {
        RecordReader.Result r = RecordReader.read(StrictJson.parse(singleQuoted.replace('\'', '"')), Stage.SFT, InputFormat.SHAREGPT);
        return r.asConversation();
    }

    private static RecordRejected rejection(String singleQuoted) {
        return catchThrowableOfType(RecordRejected.class, () -> read(singleQuoted));
    }

    private static String turns(String... fromValue) {
        StringBuilder sb = new StringBuilder("{'conversations': [");
        for (int i = 0; i < fromValue.length; i += 2) {
            sb.append(i == 0 ? "" : ", ").append("{'from': '").append(fromValue[i]).append("', 'value': '").append(fromValue[i + 1]).append("'}");
        }
        return sb.append("]}").toString();
    }

    @Test
    void fromBecomesRoleAndValueBecomesContent() throws Exception {
        Conversation c = read(turns("system", "s", "human", "q", "gpt", "a", "human", "q2", "gpt", "a2"));

        assertThat(c.messages()).containsExactly(
                Map.of("role", "system", "content", "s"), Map.of("role", "user", "content", "q"),
                Map.of("role", "assistant", "content", "a"), Map.of("role", "user", "content", "q2"),
                Map.of("role", "assistant", "content", "a2"));
        assertThat(c.tools()).isNull();
    }

    @ParameterizedTest
    @CsvSource({"human, user", "user, user", "gpt, assistant", "assistant, assistant"})
    void userAndAssistantNamesAreAcceptedBesideHumanAndGpt(String from, String role) throws Exception {
        String conversation = role.equals("user") ? turns(from, "q", "gpt", "a") : turns("human", "q", from, "a");
        Conversation c = read(conversation);

        assertThat(c.messages()).extracting(m -> m.get("role")).containsExactly("user", "assistant");
    }

    @Test
    void toolTurnsFollowAnAssistantTurn() throws Exception {
        Conversation c = read(turns("human", "weather?", "gpt", "calling", "tool", "sunny", "gpt", "It is sunny."));

        assertThat(c.messages()).extracting(m -> m.get("role")).containsExactly("user", "assistant", "tool", "assistant");
    }

    @Test
    void theRecordSystemFieldBecomesALeadingSystemMessage() throws Exception {
        Conversation c = read("{'system': 'be brief', 'conversations': [{'from': 'human', 'value': 'q'}, {'from': 'gpt', 'value': 'a'}]}");

        assertThat(c.messages().get(0)).isEqualTo(Map.of("role", "system", "content", "be brief"));
        assertThat(c.size()).isEqualTo(3);
    }

    @ParameterizedTest
    @ValueSource(strings = {"''", "null"})
    void anEmptyOrNullSystemFieldMeansNoSystemMessage(String system) throws Exception {
        Conversation c = read("{'system': " + system + ", 'conversations': [{'from': 'human', 'value': 'q'}, {'from': 'gpt', 'value': 'a'}]}");

        assertThat(c.role(0)).isEqualTo("user");
    }

    @Test
    void aSystemGivenTwiceIsRoleOrder() {
        RecordRejected e = rejection("{'system': 's', 'conversations': [{'from': 'system', 'value': 's2'},"
                + " {'from': 'human', 'value': 'q'}, {'from': 'gpt', 'value': 'a'}]}");

        assertThat(e.reason()).isEqualTo(Reason.ROLE_ORDER);
        assertThat(e.getMessage()).contains("conversations[0]").contains("\"system\"");
    }

    @Test
    void aSystemFieldThatIsNotAStringIsWrongType() {
        RecordRejected e = rejection("{'system': 3, 'conversations': [{'from': 'human', 'value': 'q'}, {'from': 'gpt', 'value': 'a'}]}");

        assertThat(e.reason()).isEqualTo(Reason.WRONG_TYPE);
        assertThat(e.getMessage()).contains("\"system\"").contains("a number");
    }

    @Test
    void recordToolsAsAJsonStringBecomeTheConversationTools() throws Exception {
        Conversation c = read("{'conversations': [{'from': 'human', 'value': 'q'}, {'from': 'gpt', 'value': 'a'}],"
                + " 'tools': '[{\\'name\\': \\'f\\'}]'}");

        assertThat(c.tools()).isEqualTo(List.of(Map.of("name", "f")));
    }

    @Test
    void recordToolsThatAreNotAListAreWrongType() {
        RecordRejected e = rejection("{'conversations': [{'from': 'human', 'value': 'q'}, {'from': 'gpt', 'value': 'a'}],"
                + " 'tools': {'name': 'f'}}");

        assertThat(e.reason()).isEqualTo(Reason.WRONG_TYPE);
        assertThat(e.getMessage()).contains("tools").contains("an object");
    }

    @Test
    void extraKeysOnATurnArePassedOn() throws Exception {
        Conversation c = read("{'conversations': [{'from': 'human', 'value': 'q', 'name': 'ann'}, {'from': 'gpt', 'value': 'a'}]}");

        assertThat(c.messages().get(0)).containsExactly(Map.entry("role", "user"), Map.entry("content", "q"), Map.entry("name", "ann"));
    }

    // --- errors ------------------------------------------------------------------------------

    @ParameterizedTest
    @ValueSource(strings = {"bot", "Human", "chatgpt", "function", ""})
    void anUnknownFromIsUnknownRoleNamingTheTurn(String from) {
        RecordRejected e = rejection(turns("human", "q", from, "a"));

        assertThat(e.reason()).isEqualTo(Reason.UNKNOWN_ROLE);
        assertThat(e.getMessage()).contains("conversations[1].from").contains("\"" + from + "\"").contains("human, gpt, system or tool");
    }

    @ParameterizedTest
    @ValueSource(strings = {"function_call", "observation"})
    void llamaFactoryToolTurnsAreUnknownRoleSayingWhatToSendInstead(String from) {
        RecordRejected e = rejection(turns("human", "q", from, "x", "gpt", "a"));

        assertThat(e.reason()).isEqualTo(Reason.UNKNOWN_ROLE);
        assertThat(e.getMessage()).contains(from).contains("tool_calls");
    }

    @Test
    void aTurnWithoutValueIsMissingField() {
        RecordRejected e = rejection("{'conversations': [{'from': 'human', 'value': 'q'}, {'from': 'gpt'}]}");

        assertThat(e.reason()).isEqualTo(Reason.MISSING_FIELD);
        assertThat(e.getMessage()).contains("conversations[1]").contains("\"value\"");
    }

    @Test
    void aTurnWithoutFromIsMissingField() {
        RecordRejected e = rejection("{'conversations': [{'from': 'human', 'value': 'q'}, {'value': 'a'}]}");

        assertThat(e.reason()).isEqualTo(Reason.MISSING_FIELD);
        assertThat(e.getMessage()).contains("conversations[1]").contains("\"from\"");
    }

    @ParameterizedTest(name = "value {0} is {1}")
    @CsvSource(delimiter = '|', value = {
        "null           | null",
        "42             | a number",
        "true           | a boolean",
        "['a']          | a list",
        "{'text': 'a'}  | an object"})
    void aValueThatIsNotAStringIsWrongTypeAndNeverCoerced(String value, String typeName) {
        RecordRejected e = rejection("{'conversations': [{'from': 'human', 'value': 'q'}, {'from': 'gpt', 'value': " + value + "}]}");

        assertThat(e.reason()).isEqualTo(Reason.WRONG_TYPE);
        assertThat(e.getMessage()).contains("conversations[1].value").contains(typeName);
    }

    @Test
    void aFromThatIsNotAStringIsWrongType() {
        RecordRejected e = rejection("{'conversations': [{'from': 1, 'value': 'q'}, {'from': 'gpt', 'value': 'a'}]}");

        assertThat(e.reason()).isEqualTo(Reason.WRONG_TYPE);
        assertThat(e.getMessage()).contains("conversations[0].from");
    }

    @Test
    void conversationsThatIsNotAListIsWrongType() {
        RecordRejected e = rejection("{'conversations': 'q'}");

        assertThat(e.reason()).isEqualTo(Reason.WRONG_TYPE);
        assertThat(e.getMessage()).contains("\"conversations\"").contains("a string");
    }

    @Test
    void aTurnThatIsNotAnObjectIsWrongType() {
        RecordRejected e = rejection("{'conversations': [{'from': 'human', 'value': 'q'}, 'a']}");

        assertThat(e.reason()).isEqualTo(Reason.WRONG_TYPE);
        assertThat(e.getMessage()).contains("conversations[1]");
    }

    @Test
    void anEmptyListIsEmptyConversation() {
        assertThat(rejection("{'conversations': []}").reason()).isEqualTo(Reason.EMPTY_CONVERSATION);
    }

    @Test
    void aTurnMixingFromValueWithRoleContentIsUnknownFormat() {
        RecordRejected e = rejection("{'conversations': [{'from': 'human', 'value': 'q', 'content': 'q'}, {'from': 'gpt', 'value': 'a'}]}");

        assertThat(e.reason()).isEqualTo(Reason.UNKNOWN_FORMAT);
        assertThat(e.getMessage()).contains("conversations[0]");
    }

    @Test
    void theRoleRulesApplyAfterMapping() {
        RecordRejected order = rejection(turns("human", "q", "human", "q2", "gpt", "a"));
        RecordRejected late = rejection(turns("human", "q", "gpt", "a", "system", "s"));
        RecordRejected noAnswer = rejection(turns("system", "s", "human", "q"));

        assertThat(order.reason()).isEqualTo(Reason.ROLE_ORDER);
        assertThat(order.getMessage()).contains("conversations[1]");
        assertThat(late.reason()).isEqualTo(Reason.ROLE_ORDER);
        assertThat(noAnswer.reason()).isEqualTo(Reason.NO_TRAINABLE_TOKENS);
    }

    @Test
    void roleOrderErrorsNameTheInputTurnEvenAfterASystemFieldWasPrepended() {
        RecordRejected e = rejection("{'system': 's', 'conversations': [{'from': 'gpt', 'value': 'a'}]}");

        assertThat(e.reason()).isEqualTo(Reason.ROLE_ORDER);
        assertThat(e.getMessage()).contains("conversations[0]");
    }
}
