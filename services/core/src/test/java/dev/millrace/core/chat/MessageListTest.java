package dev.millrace.core.chat;

import static org.assertj.core.api.Assertions.assertThat;
import static org.assertj.core.api.Assertions.catchThrowableOfType;

import com.fasterxml.jackson.databind.JsonNode;
import dev.millrace.core.json.StrictJson;
import dev.millrace.core.record.Reason;
import dev.millrace.core.record.RecordRejected;
import java.util.LinkedHashMap;
import java.util.List;
import java.util.Map;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.params.ParameterizedTest;
import org.junit.jupiter.params.provider.CsvSource;

/** SFT rule 1 (docs/semantics.md#sft-rule-1-reading-the-conversation) as seen from a JSON message list (MiniMind "conversations"). */
class MessageListTest {

    /** JSON written with single quotes for readability. */
    private static JsonNode json(String singleQuoted) throws RecordRejected {
        return StrictJson.parse(singleQuoted.replace('\'', '"'));
    }

    private static Conversation parse(String singleQuoted) throws RecordRejected {
        return MessageList.parse(json(singleQuoted), "conversations", true);
    }

    private static RecordRejected rejection(String singleQuoted) {
        return catchThrowableOfType(RecordRejected.class, () -> parse(singleQuoted));
    }

    // --- roles -------------------------------------------------------------------------------

    @Test
    void messagesWithoutAnyRoleGetPositionalRoles() throws Exception {
        Conversation c = parse("[{'content': 'q1'}, {'content': 'a1'}, {'content': 'q2'}, {'content': 'a2'}]");

        assertThat(c.messages()).extracting(m -> m.get("role")).containsExactly("user", "assistant", "user", "assistant");
        assertThat(c.messages()).extracting(m -> m.get("content")).containsExactly("q1", "a1", "q2", "a2");
    }

    @Test
    void explicitRolesAreKeptNotOverwrittenByPosition() throws Exception {
        // The seed overwrote every role by position, which mislabels a leading system message.
        Conversation c = parse("[{'role': 'system', 'content': 's'}, {'role': 'user', 'content': 'q'},"
                + " {'role': 'assistant', 'content': 'a'}]");

        assertThat(c.messages()).extracting(m -> m.get("role")).containsExactly("system", "user", "assistant");
    }

    @Test
    void someMessagesWithARoleAndSomeWithoutIsMissingFieldNamingTheMessage() {
        RecordRejected e = rejection("[{'role': 'user', 'content': 'q'}, {'content': 'a'}]");

        assertThat(e.reason()).isEqualTo(Reason.MISSING_FIELD);
        assertThat(e.getMessage()).contains("conversations[1]").contains("role");
    }

    @Test
    void aRoleOutsideTheKnownFourIsUnknownRole() {
        RecordRejected e = rejection("[{'role': 'user', 'content': 'q'}, {'role': 'bot', 'content': 'a'}]");

        assertThat(e.reason()).isEqualTo(Reason.UNKNOWN_ROLE);
        assertThat(e.getMessage()).contains("bot");
    }

    @Test
    void aRoleThatIsNotAStringIsWrongType() {
        RecordRejected e = rejection("[{'role': 1, 'content': 'q'}, {'role': 'assistant', 'content': 'a'}]");

        assertThat(e.reason()).isEqualTo(Reason.WRONG_TYPE);
        assertThat(e.getMessage()).contains("conversations[0].role");
    }

    @Test
    void systemAnywhereButFirstIsRoleOrder() {
        RecordRejected e = rejection("[{'role': 'user', 'content': 'q'}, {'role': 'system', 'content': 's'},"
                + " {'role': 'assistant', 'content': 'a'}]");

        assertThat(e.reason()).isEqualTo(Reason.ROLE_ORDER);
        assertThat(e.getMessage()).contains("conversations[1]");
    }

    @Test
    void startingWithAnAssistantIsRoleOrder() {
        assertThat(rejection("[{'role': 'assistant', 'content': 'a'}, {'role': 'user', 'content': 'q'}]").reason())
                .isEqualTo(Reason.ROLE_ORDER);
    }

    @Test
    void twoUsersInARowIsRoleOrder() {
        assertThat(rejection("[{'role': 'user', 'content': 'q'}, {'role': 'user', 'content': 'q'},"
                + " {'role': 'assistant', 'content': 'a'}]").reason()).isEqualTo(Reason.ROLE_ORDER);
    }

    @Test
    void twoAssistantsInARowIsRoleOrder() {
        assertThat(rejection("[{'role': 'user', 'content': 'q'}, {'role': 'assistant', 'content': 'a'},"
                + " {'role': 'assistant', 'content': 'a'}]").reason()).isEqualTo(Reason.ROLE_ORDER);
    }

    @Test
    void toolNotAfterAnAssistantIsRoleOrder() {
        assertThat(rejection("[{'role': 'user', 'content': 'q'}, {'role': 'tool', 'content': 't'},"
                + " {'role': 'assistant', 'content': 'a'}]").reason()).isEqualTo(Reason.ROLE_ORDER);
    }

    // --- the list itself ---------------------------------------------------------------------

    @Test
    void anEmptyListIsEmptyConversation() {
        assertThat(rejection("[]").reason()).isEqualTo(Reason.EMPTY_CONVERSATION);
    }

    @Test
    void conversationsThatIsNotAListIsWrongType() {
        RecordRejected e = rejection("{'role': 'user', 'content': 'q'}");

        assertThat(e.reason()).isEqualTo(Reason.WRONG_TYPE);
        assertThat(e.getMessage()).contains("conversations").contains("an object");
    }

    @Test
    void aMessageThatIsNotAnObjectIsWrongType() {
        RecordRejected e = rejection("[{'role': 'user', 'content': 'q'}, 'a']");

        assertThat(e.reason()).isEqualTo(Reason.WRONG_TYPE);
        assertThat(e.getMessage()).contains("conversations[1]");
    }

    // --- content -----------------------------------------------------------------------------

    @Test
    void missingContentIsMissingFieldNamingTheMessage() {
        RecordRejected e = rejection("[{'role': 'user', 'content': 'q'}, {'role': 'assistant'}]");

        assertThat(e.reason()).isEqualTo(Reason.MISSING_FIELD);
        assertThat(e.getMessage()).contains("conversations[1]").contains("content");
    }

    @ParameterizedTest(name = "content {0} is {1}")
    @CsvSource(delimiter = '|', quoteCharacter = '"', value = {
        "null           | null",
        "42             | a number",
        "4.5            | a number",
        "true           | a boolean",
        "{'text': 'x'}  | an object"})
    void contentThatIsNotTextIsWrongTypeAndNeverCoerced(String content, String typeName) {
        RecordRejected e = rejection("[{'role': 'user', 'content': 'q'}, {'role': 'assistant', 'content': " + content + "}]");

        assertThat(e).isNotNull();
        assertThat(e.reason()).isEqualTo(Reason.WRONG_TYPE);
        assertThat(e.getMessage()).contains("conversations[1].content").contains(typeName);
    }

    @Test
    void nullContentOnAnAssistantMessageWithToolCallsIsKeptAsNull() throws Exception {
        // How OpenAI exports a turn that only calls tools.
        Conversation c = parse("[{'role': 'user', 'content': 'weather?'},"
                + " {'role': 'assistant', 'content': null, 'tool_calls': [{'type': 'function', 'function': {'name': 'w', 'arguments': '{}'}}]},"
                + " {'role': 'tool', 'content': 'sunny'}, {'role': 'assistant', 'content': 'sunny'}]");

        assertThat(c.messages().get(1)).containsEntry("content", null).containsKey("tool_calls");
        assertThat(c.messages().get(1).keySet()).containsExactly("role", "content", "tool_calls");
    }

    @Test
    void nullContentWithMiniMindToolCallsGivenAsAJsonStringIsKeptAsNull() throws Exception {
        Conversation c = parse("[{'role': 'user', 'content': 'weather?'},"
                + " {'role': 'assistant', 'content': null, 'tool_calls': '[{\\'name\\': \\'w\\'}]'}]");

        assertThat(c.messages().get(1)).containsEntry("content", null)
                .containsEntry("tool_calls", List.of(Map.of("name", "w")));
    }

    @ParameterizedTest(name = "{0}")
    @CsvSource(delimiter = '|', quoteCharacter = '"', value = {
        "no tool_calls            | conversations[1] | [{'role': 'user', 'content': 'q'}, {'role': 'assistant', 'content': null}]",
        "tool_calls null          | conversations[1] | [{'role': 'user', 'content': 'q'}, {'role': 'assistant', 'content': null, 'tool_calls': null}]",
        "tool_calls empty         | conversations[1] | [{'role': 'user', 'content': 'q'}, {'role': 'assistant', 'content': null, 'tool_calls': []}]",
        "tool_calls not a list    | conversations[1] | [{'role': 'user', 'content': 'q'}, {'role': 'assistant', 'content': null, 'tool_calls': {'name': 'w'}}]",
        "a user message           | conversations[0] | [{'role': 'user', 'content': null, 'tool_calls': [{'name': 'w'}]}, {'role': 'assistant', 'content': 'a'}]",
        "a tool message           | conversations[2] | [{'role': 'user', 'content': 'q'}, {'role': 'assistant', 'content': '', 'tool_calls': [{'name': 'w'}]}, {'role': 'tool', 'content': null, 'tool_calls': [{'name': 'w'}]}]",
        "a system message         | conversations[0] | [{'role': 'system', 'content': null, 'tool_calls': [{'name': 'w'}]}, {'role': 'user', 'content': 'q'}, {'role': 'assistant', 'content': 'a'}]"})
    void nullContentAnywhereElseIsWrongType(String label, String where, String conversation) {
        RecordRejected e = rejection(conversation);

        assertThat(e).as(label).isNotNull();
        assertThat(e.reason()).isEqualTo(Reason.WRONG_TYPE);
        assertThat(e.getMessage()).contains(where + ".content").contains("null").contains("tool_calls");
    }

    @Test
    void aListOfTextPartsIsPassedOnAsItIs() throws Exception {
        Conversation c = parse("[{'role': 'user', 'content': [{'type': 'text', 'text': 'look'},"
                + " {'type': 'text', 'text': 'here', 'extra': 1}]}, {'role': 'assistant', 'content': 'ok'}]");

        assertThat(c.messages().get(0).get("content")).isEqualTo(List.of(
                Map.of("type", "text", "text", "look"),
                Map.of("type", "text", "text", "here", "extra", 1L)));
    }

    @Test
    void aContentListWithANonObjectPartIsWrongType() {
        RecordRejected e = rejection("[{'role': 'user', 'content': ['look']}, {'role': 'assistant', 'content': 'ok'}]");

        assertThat(e.reason()).isEqualTo(Reason.WRONG_TYPE);
        assertThat(e.getMessage()).contains("conversations[0].content[0]");
    }

    @Test
    void emptyAssistantContentIsAccepted() throws Exception {
        Conversation c = parse("[{'role': 'user', 'content': 'q'}, {'role': 'assistant', 'content': ''}]");

        assertThat(c.messages().get(1).get("content")).isEqualTo("");
    }

    // --- trainability ------------------------------------------------------------------------

    @Test
    void noAssistantMessageIsNoTrainableTokens() {
        assertThat(rejection("[{'role': 'system', 'content': 's'}, {'role': 'user', 'content': 'q'}]").reason())
                .isEqualTo(Reason.NO_TRAINABLE_TOKENS);
    }

    @Test
    void aPositionalSingleMessageHasNoAssistant() {
        assertThat(rejection("[{'content': 'only a question'}]").reason()).isEqualTo(Reason.NO_TRAINABLE_TOKENS);
    }

    @Test
    void promptOnlyRecordsAreAcceptedWhenNoAssistantIsRequired() throws Exception {
        Conversation c = MessageList.parse(json("[{'role': 'user', 'content': 'q'}]"), "conversations", false);

        assertThat(c.size()).isEqualTo(1);
    }

    @Test
    void aTrailingUserMessageAfterAnAssistantTurnIsAccepted() throws Exception {
        Conversation c = parse("[{'role': 'user', 'content': 'q'}, {'role': 'assistant', 'content': 'a'},"
                + " {'role': 'user', 'content': 'q2'}]");

        assertThat(c.size()).isEqualTo(3);
        assertThat(c.role(2)).isEqualTo("user");
    }

    // --- extra keys and tool use -------------------------------------------------------------

    @Test
    void extraKeysArePassedThroughUnchanged() throws Exception {
        Conversation c = parse("[{'role': 'user', 'content': 'q', 'name': 'ann'},"
                + " {'role': 'assistant', 'content': 'a', 'reasoning_content': 'because',"
                + "  'tool_calls': [{'type': 'function', 'function': {'name': 'f', 'arguments': {'x': 1, 'y': [true, null]}}}],"
                + "  'score': 0.5, 'flag': false, 'nothing': null}]");

        Map<String, Object> assistant = c.messages().get(1);
        assertThat(c.messages().get(0)).containsEntry("name", "ann");
        assertThat(assistant)
                .containsEntry("reasoning_content", "because")
                .containsEntry("score", 0.5)
                .containsEntry("flag", false)
                .containsEntry("nothing", null);
        Map<String, Object> args = new LinkedHashMap<>();
        args.put("x", 1L);
        args.put("y", java.util.Arrays.asList(true, null));
        assertThat(assistant.get("tool_calls")).isEqualTo(List.of(
                Map.of("type", "function", "function", Map.of("name", "f", "arguments", args))));
    }

    @Test
    void roleAndContentComeFirstThenExtraKeysInInputOrder() throws Exception {
        Conversation c = parse("[{'zeta': 1, 'content': 'q', 'alpha': 2, 'role': 'user'}, {'role': 'assistant', 'content': 'a'}]");

        assertThat(c.messages().get(0).keySet()).containsExactly("role", "content", "zeta", "alpha");
    }

    @Test
    void aToolMessageAfterAnAssistantToolCallIsAccepted() throws Exception {
        Conversation c = parse("[{'role': 'user', 'content': 'weather?'},"
                + " {'role': 'assistant', 'content': '', 'tool_calls': [{'name': 'w'}]},"
                + " {'role': 'tool', 'content': 'sunny'}, {'role': 'tool', 'content': 'warm'},"
                + " {'role': 'assistant', 'content': 'sunny and warm'}]");

        assertThat(c.messages()).extracting(m -> m.get("role")).containsExactly("user", "assistant", "tool", "tool", "assistant");
    }

    @Test
    void miniMindToolsGivenAsAJsonStringOnTheSystemMessageBecomeTheConversationTools() throws Exception {
        String tools = "[{\\'type\\': \\'function\\', \\'function\\': {\\'name\\': \\'get_weather\\', \\'parameters\\': {\\'city\\': \\'string\\'}}}]";
        Conversation c = parse("[{'role': 'system', 'content': 'you can call tools', 'tools': '" + tools + "'},"
                + " {'role': 'user', 'content': 'q'}, {'role': 'assistant', 'content': 'a'}]");

        assertThat(c.tools()).isEqualTo(List.of(Map.of("type", "function",
                "function", Map.of("name", "get_weather", "parameters", Map.of("city", "string")))));
    }

    @Test
    void toolsGivenAsAListOnTheSystemMessageAreTakenAsTheyAre() throws Exception {
        Conversation c = parse("[{'role': 'system', 'content': 's', 'tools': [{'name': 'f'}]},"
                + " {'role': 'user', 'content': 'q'}, {'role': 'assistant', 'content': 'a'}]");

        assertThat(c.tools()).isEqualTo(List.of(Map.of("name", "f")));
    }

    @Test
    void toolsOnANonSystemMessageAreNotConversationTools() throws Exception {
        Conversation c = parse("[{'role': 'user', 'content': 'q', 'tools': '[]'}, {'role': 'assistant', 'content': 'a'}]");

        assertThat(c.tools()).isNull();
        assertThat(c.messages().get(0)).containsEntry("tools", "[]");
    }

    @Test
    void aConversationWithoutToolsHasNullTools() throws Exception {
        assertThat(parse("[{'role': 'user', 'content': 'q'}, {'role': 'assistant', 'content': 'a'}]").tools()).isNull();
    }

    @Test
    void toolsStringThatIsNotJsonIsRejectedNamingTheField() {
        RecordRejected e = rejection("[{'role': 'system', 'content': 's', 'tools': '[{oops'},"
                + " {'role': 'user', 'content': 'q'}, {'role': 'assistant', 'content': 'a'}]");

        assertThat(e.reason()).isEqualTo(Reason.INVALID_JSON);
        assertThat(e.getMessage()).contains("conversations[0].tools");
    }

    @Test
    void miniMindToolCallsGivenAsAJsonStringAreParsed() throws Exception {
        String calls = "[{\\'name\\': \\'get_weather\\', \\'arguments\\': {\\'city\\': \\'Paris\\'}}]";
        Conversation c = parse("[{'role': 'user', 'content': 'q'}, {'role': 'assistant', 'content': '', 'tool_calls': '" + calls + "'},"
                + " {'role': 'tool', 'content': 'sunny'}, {'role': 'assistant', 'content': 'It is sunny.'}]");

        assertThat(c.messages().get(1).get("tool_calls")).isEqualTo(List.of(
                Map.of("name", "get_weather", "arguments", Map.of("city", "Paris"))));
    }

    @Test
    void toolCallsGivenAsAJsonObjectStringBecomeAMap() throws Exception {
        String call = "{\\'name\\': \\'f\\', \\'arguments\\': {}}";
        Conversation c = parse("[{'role': 'user', 'content': 'q'}, {'role': 'assistant', 'content': '', 'tool_calls': '" + call + "'}]");

        assertThat(c.messages().get(1).get("tool_calls")).isEqualTo(Map.of("name", "f", "arguments", Map.of()));
    }

    @Test
    void contentThatLooksLikeJsonIsNotParsed() throws Exception {
        String content = "[{\\'a\\': 1}]";
        Conversation c = parse("[{'role': 'user', 'content': '" + content + "'}, {'role': 'assistant', 'content': 'a'}]");

        assertThat(c.messages().get(0).get("content")).isEqualTo("[{\"a\": 1}]");
    }

    @Test
    void theLiftedToolsKeyIsRemovedFromTheSystemMessage() throws Exception {
        // Templates receive tools separately; keeping the raw string would change the record id.
        Conversation c = parse("[{'role': 'system', 'content': 's', 'tools': '[{\\'name\\': \\'f\\'}]', 'name': 'sys'},"
                + " {'role': 'user', 'content': 'q'}, {'role': 'assistant', 'content': 'a'}]");

        assertThat(c.messages().get(0)).containsExactly(Map.entry("role", "system"), Map.entry("content", "s"), Map.entry("name", "sys"));
        assertThat(c.tools()).isEqualTo(List.of(Map.of("name", "f")));
    }

    @Test
    void anEmptyToolsValueOnTheSystemMessageIsNoToolsAndIsRemoved() throws Exception {
        for (String empty : List.of("''", "[]", "null", "{}")) {
            Conversation c = parse("[{'role': 'system', 'content': 's', 'tools': " + empty + "},"
                    + " {'role': 'user', 'content': 'q'}, {'role': 'assistant', 'content': 'a'}]");
            assertThat(c.tools()).as(empty).isNull();
            assertThat(c.messages().get(0)).as(empty).doesNotContainKey("tools");
        }
    }

    @ParameterizedTest(name = "tools {0}")
    @CsvSource(delimiter = '|', quoteCharacter = '"', value = {
        "{'name': 'f'}              | conversations[0].tools  | an object",
        "7                          | conversations[0].tools  | a number",
        "'{\\'name\\': \\'f\\'}'    | conversations[0].tools  | a string holding an object",
        "['f']                      | conversations[0].tools[0] | a string"})
    void toolsThatAreNotAListOfObjectsAreWrongType(String tools, String where, String found) {
        RecordRejected e = rejection("[{'role': 'system', 'content': 's', 'tools': " + tools + "},"
                + " {'role': 'user', 'content': 'q'}, {'role': 'assistant', 'content': 'a'}]");

        assertThat(e).as(tools).isNotNull();
        assertThat(e.reason()).isEqualTo(Reason.WRONG_TYPE);
        assertThat(e.getMessage()).contains(where).contains(found);
    }
}
