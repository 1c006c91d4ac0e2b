package dev.millrace.core.record;

import static org.assertj.core.api.Assertions.assertThat;

import dev.millrace.core.chat.Conversation;
import dev.millrace.core.chat.ConversationReader;
import dev.millrace.core.json.StrictJson;
import java.util.Arrays;
import java.util.LinkedHashMap;
import java.util.List;
import java.util.Map;
import java.util.TreeMap;
import org.junit.jupiter.api.Test;

class RecordIdTest {

    private static Conversation read(String singleQuoted) throws RecordRejected {
        return ConversationReader.read(StrictJson.parse(singleQuoted.replace('\'', '"')), null);
    }

    private static String sftId(String singleQuoted) throws RecordRejected {
        return RecordId.of(Stage.SFT, read(singleQuoted).normalised());
    }

    @Test
    void theSameConversationAsMiniMindAndAsOpenAiGetsTheSameId() throws Exception {
        String miniMind = sftId("{'conversations': [{'role': 'system', 'content': 's'}, {'role': 'user', 'content': 'q'},"
                + " {'role': 'assistant', 'content': 'a', 'reasoning_content': 'r'}]}");
        String openAi = sftId("{'messages': [{'role': 'system', 'content': 's'}, {'role': 'user', 'content': 'q'},"
                + " {'role': 'assistant', 'content': 'a', 'reasoning_content': 'r'}]}");

        assertThat(miniMind).isEqualTo(openAi);
    }

    @Test
    void positionalRolesGiveTheSameIdAsTheSameRolesWrittenOut() throws Exception {
        assertThat(sftId("{'conversations': [{'content': 'q'}, {'content': 'a'}]}"))
                .isEqualTo(sftId("{'messages': [{'role': 'user', 'content': 'q'}, {'role': 'assistant', 'content': 'a'}]}"));
    }

    @Test
    void toolCallsAsAJsonStringGiveTheSameIdAsToolCallsAsAList() throws Exception {
        String asString = sftId("{'conversations': [{'role': 'user', 'content': 'q'},"
                + " {'role': 'assistant', 'content': '', 'tool_calls': '[{\\'name\\': \\'f\\', \\'arguments\\': {\\'x\\': 1}}]'}]}");
        String asList = sftId("{'messages': [{'role': 'user', 'content': 'q'},"
                + " {'role': 'assistant', 'content': '', 'tool_calls': [{'arguments': {'x': 1}, 'name': 'f'}]}]}");

        assertThat(asString).isEqualTo(asList);
    }

    @Test
    void keyOrderInTheInputDoesNotChangeTheId() throws Exception {
        String a = sftId("{'conversations': [{'role': 'user', 'content': 'q', 'name': 'n', 'meta': {'a': 1, 'b': [{'x': 1, 'y': 2}]}},"
                + " {'role': 'assistant', 'content': 'a'}]}");
        String b = sftId("{'conversations': [{'meta': {'b': [{'y': 2, 'x': 1}], 'a': 1}, 'name': 'n', 'content': 'q', 'role': 'user'},"
                + " {'content': 'a', 'role': 'assistant'}]}");

        assertThat(a).isEqualTo(b);
    }

    @Test
    void recordLevelKeysOutsideTheConversationDoNotChangeTheId() throws Exception {
        assertThat(sftId("{'id': 12, 'conversations': [{'role': 'user', 'content': 'q'}, {'role': 'assistant', 'content': 'a'}]}"))
                .isEqualTo(sftId("{'conversations': [{'role': 'user', 'content': 'q'}, {'role': 'assistant', 'content': 'a'}]}"));
    }

    @Test
    void differentContentGivesADifferentId() throws Exception {
        assertThat(sftId("{'messages': [{'role': 'user', 'content': 'q'}, {'role': 'assistant', 'content': 'a'}]}"))
                .isNotEqualTo(sftId("{'messages': [{'role': 'user', 'content': 'q'}, {'role': 'assistant', 'content': 'b'}]}"));
    }

    @Test
    void toolsChangeTheId() throws Exception {
        assertThat(sftId("{'messages': [{'role': 'user', 'content': 'q'}, {'role': 'assistant', 'content': 'a'}], 'tools': [{'name': 'f'}]}"))
                .isNotEqualTo(sftId("{'messages': [{'role': 'user', 'content': 'q'}, {'role': 'assistant', 'content': 'a'}]}"));
    }

    @Test
    void nullToolsGiveTheSameIdAsNoTools() throws Exception {
        assertThat(sftId("{'messages': [{'role': 'user', 'content': 'q'}, {'role': 'assistant', 'content': 'a'}], 'tools': null}"))
                .isEqualTo(sftId("{'messages': [{'role': 'user', 'content': 'q'}, {'role': 'assistant', 'content': 'a'}]}"));
    }

    @Test
    void theStageChangesTheId() throws Exception {
        Map<String, Object> normalised = read("{'messages': [{'role': 'user', 'content': 'q'}, {'role': 'assistant', 'content': 'a'}]}")
                .normalised();

        List<String> ids = Arrays.stream(Stage.values()).map(s -> RecordId.of(s, normalised)).toList();

        assertThat(ids).doesNotHaveDuplicates();
    }

    @Test
    void theIdIs64LowercaseHexCharacters() throws Exception {
        String id = sftId("{'messages': [{'role': 'user', 'content': 'Q'}, {'role': 'assistant', 'content': 'A'}]}");

        assertThat(id).matches("[0-9a-f]{64}");
    }

    @Test
    void theIdIsSha256OfTheStageANewlineAndTheCanonicalJson() throws Exception {
        // Expected value computed independently with Python:
        // sha256(b'sft\n{"messages":[{"content":"hi","role":"user"},{"content":"yo","role":"assistant"}]}')
        assertThat(sftId("{'messages': [{'role': 'user', 'content': 'hi'}, {'role': 'assistant', 'content': 'yo'}]}"))
                .isEqualTo("d2ab09e8f9e82ea76b1ab6ac5d5d4e8962e2eb7ebfdbfa5f3a9ec5feb767c5d8");
    }

    @Test
    void nonAsciiTextIsHashedAsUtf8() throws Exception {
        // Python: sha256('sft\n{"messages":[{"content":"你好","role":"user"},{"content":"yo","role":"assistant"}]}'.encode())
        assertThat(sftId("{'messages': [{'role': 'user', 'content': '你好'}, {'role': 'assistant', 'content': 'yo'}]}"))
                .isEqualTo("587ebc2ab59d8f66180accda6ac699e142fe591959cafe04ac0c3923419b21f0");
    }

    @Test
    void canonicalJsonSortsKeysAtEveryLevelAndHasNoWhitespace() {
        Map<String, Object> inner = new LinkedHashMap<>();
        inner.put("z", 1L);
        inner.put("a", Arrays.asList("x y", null, true, 2.5));
        Map<String, Object> outer = new LinkedHashMap<>();
        outer.put("b", inner);
        outer.put("a", List.of(Map.of("d", 1L, "c", 2L)));

        assertThat(RecordId.canonicalJson(outer))
                .isEqualTo("{\"a\":[{\"c\":2,\"d\":1}],\"b\":{\"a\":[\"x y\",null,true,2.5],\"z\":1}}");
    }

    @Test
    void canonicalJsonDoesNotDependOnMapInsertionOrder() {
        Map<String, Object> one = new LinkedHashMap<>();
        one.put("role", "user");
        one.put("content", "q");
        Map<String, Object> two = new TreeMap<>(one);

        assertThat(RecordId.canonicalJson(one)).isEqualTo(RecordId.canonicalJson(two)).isEqualTo("{\"content\":\"q\",\"role\":\"user\"}");
    }

    @Test
    void canonicalJsonKeepsNonAsciiTextAsIsAndEscapesWhatJsonRequires() {
        assertThat(RecordId.canonicalJson(Map.of("t", "你好 \"q\" \\ \n")))
                .isEqualTo("{\"t\":\"你好 \\\"q\\\" \\\\ \\n\"}");
    }
}
