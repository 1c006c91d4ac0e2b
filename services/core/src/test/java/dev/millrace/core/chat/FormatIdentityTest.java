package dev.millrace.core.chat;

import static org.assertj.core.api.Assertions.assertThat;

import com.fasterxml.jackson.databind.node.ObjectNode;
import dev.millrace.core.json.StrictJson;
import dev.millrace.core.record.RecordId;
import dev.millrace.core.record.RecordRejected;
import dev.millrace.core.record.Stage;
import dev.millrace.core.template.ChatTemplate;
import dev.millrace.core.template.TokenizerConfig;
import dev.millrace.core.testing.GoldenRenders;
import dev.millrace.core.testing.PythonReference;
import java.util.List;
import java.util.Map;
import org.junit.jupiter.api.Test;

/**
 * One conversation, one record id, whatever format it came in: record ids hash the normalised
 * record, so every format must normalise to the same thing (and give the template the same input).
 */
class FormatIdentityTest {

    private static Conversation read(String singleQuoted) throws RecordRejected {
        return RecordReader.read(StrictJson.parse(singleQuoted.replace('\'', '"')), Stage.SFT, null).asConversation();
    }

    private static String id(Conversation c) {
        return RecordId.of(Stage.SFT, c.normalised());
    }

    private static void assertSame(List<Conversation> conversations) {
        String json = RecordId.canonicalJson(conversations.get(0).normalised());
        for (Conversation c : conversations) {
            assertThat(RecordId.canonicalJson(c.normalised())).isEqualTo(json);
            assertThat(id(c)).isEqualTo(id(conversations.get(0)));
        }
    }

    @Test
    void oneExchangeHasOneIdInEveryFormat() throws Exception {
        assertSame(List.of(
                read("{'conversations': [{'role': 'user', 'content': 'Add 2 and 3.'}, {'role': 'assistant', 'content': '5'}]}"),
                read("{'conversations': [{'content': 'Add 2 and 3.'}, {'content': '5'}]}"),
                read("{'messages': [{'role': 'user', 'content': 'Add 2 and 3.'}, {'role': 'assistant', 'content': '5'}]}"),
                read("{'conversations': [{'from': 'human', 'value': 'Add 2 and 3.'}, {'from': 'gpt', 'value': '5'}]}"),
                read("{'instruction': 'Add 2 and 3.', 'output': '5'}")));
    }

    @Test
    void aMultiTurnConversationWithASystemPromptHasOneIdInEveryFormat() throws Exception {
        String roles = "[{'role': 'system', 'content': 'Be brief.'}, {'role': 'user', 'content': 'q1'}, {'role': 'assistant', 'content': 'a1'},"
                + " {'role': 'user', 'content': 'Translate:\\nhello'}, {'role': 'assistant', 'content': 'bonjour'}]";
        assertSame(List.of(
                read("{'conversations': " + roles + "}"),
                read("{'messages': " + roles + "}"),
                read("{'conversations': [{'from': 'system', 'value': 'Be brief.'}, {'from': 'human', 'value': 'q1'}, {'from': 'gpt', 'value': 'a1'},"
                        + " {'from': 'human', 'value': 'Translate:\\nhello'}, {'from': 'gpt', 'value': 'bonjour'}]}"),
                read("{'system': 'Be brief.', 'conversations': [{'from': 'human', 'value': 'q1'}, {'from': 'gpt', 'value': 'a1'},"
                        + " {'from': 'human', 'value': 'Translate:\\nhello'}, {'from': 'gpt', 'value': 'bonjour'}]}"),
                read("{'system': 'Be brief.', 'history': [['q1', 'a1']], 'instruction': 'Translate:', 'input': 'hello', 'output': 'bonjour'}")));
    }

    // --- MiniMind tool use -------------------------------------------------------------------

    private static final String TOOLS_JSON = "[{\\'type\\': \\'function\\', \\'function\\': {\\'name\\': \\'get_weather\\',"
            + " \\'parameters\\': {\\'type\\': \\'object\\', \\'properties\\': {\\'city\\': {\\'type\\': \\'string\\'}}}}}]";
    private static final String CALLS_JSON = "[{\\'type\\': \\'function\\', \\'function\\': {\\'name\\': \\'get_weather\\',"
            + " \\'arguments\\': {\\'city\\': \\'Paris\\'}}}]";

    /** A MiniMind tool-use record: tools as a JSON string on the system message, tool_calls as a JSON string. */
    static final String MINIMIND_TOOL_USE = "{'conversations': [{'role': 'system', 'content': 'You can call tools.', 'tools': '" + TOOLS_JSON + "'},"
            + " {'role': 'user', 'content': 'Weather in Paris?'},"
            + " {'role': 'assistant', 'content': '', 'tool_calls': '" + CALLS_JSON + "'},"
            + " {'role': 'tool', 'content': 'sunny, 21C'},"
            + " {'role': 'assistant', 'content': 'It is sunny and 21C in Paris.'}]}";

    /** The same conversation as OpenAI messages with record-level tools and parsed tool_calls. */
    static final String OPENAI_TOOL_USE = ("{'messages': [{'role': 'system', 'content': 'You can call tools.'},"
            + " {'role': 'user', 'content': 'Weather in Paris?'},"
            + " {'role': 'assistant', 'content': '', 'tool_calls': " + CALLS_JSON + "},"
            + " {'role': 'tool', 'content': 'sunny, 21C'},"
            + " {'role': 'assistant', 'content': 'It is sunny and 21C in Paris.'}],"
            + " 'tools': " + TOOLS_JSON + "}").replace("\\'", "'");

    @Test
    void aMiniMindToolUseRecordHasTheSameIdAndNormalisedJsonAsTheSameOpenAiRecord() throws Exception {
        Conversation miniMind = read(MINIMIND_TOOL_USE);
        Conversation openAi = read(OPENAI_TOOL_USE);

        assertThat(RecordId.canonicalJson(miniMind.normalised())).isEqualTo(RecordId.canonicalJson(openAi.normalised()));
        assertThat(id(miniMind)).isEqualTo(id(openAi));
        assertThat(miniMind).isEqualTo(openAi);
    }

    @Test
    void theToolsStringIsLiftedOffTheSystemMessageAndToolCallsAreParsed() throws Exception {
        Conversation c = read(MINIMIND_TOOL_USE);

        assertThat(c.messages().get(0)).isEqualTo(Map.of("role", "system", "content", "You can call tools."));
        assertThat(c.tools()).isEqualTo(List.of(Map.of("type", "function", "function", Map.of("name", "get_weather",
                "parameters", Map.of("type", "object", "properties", Map.of("city", Map.of("type", "string")))))));
        assertThat(c.messages().get(2).get("tool_calls")).isEqualTo(List.of(Map.of("type", "function",
                "function", Map.of("name", "get_weather", "arguments", Map.of("city", "Paris")))));
        assertThat(Conversation.fromNormalised(c.normalised())).isEqualTo(c);
    }

    @Test
    void theSameToolUseConversationAsShareGptWithToolsHasTheSameId() throws Exception {
        Conversation shareGpt = read(("{'conversations': [{'from': 'system', 'value': 'You can call tools.'},"
                + " {'from': 'human', 'value': 'Weather in Paris?'},"
                + " {'from': 'gpt', 'value': '', 'tool_calls': '" + CALLS_JSON + "'},"
                + " {'from': 'tool', 'value': 'sunny, 21C'},"
                + " {'from': 'gpt', 'value': 'It is sunny and 21C in Paris.'}], 'tools': '" + TOOLS_JSON + "'}"));

        assertThat(id(shareGpt)).isEqualTo(id(read(MINIMIND_TOOL_USE)));
    }

    @Test
    void aMiniMindSystemMessageWithEmptyToolsHasTheSameIdAsOneWithout() throws Exception {
        String without = "{'conversations': [{'role': 'system', 'content': 's'}, {'role': 'user', 'content': 'q'}, {'role': 'assistant', 'content': 'a'}]}";
        for (String empty : List.of("''", "[]", "null")) {
            Conversation c = read(without.replace("'content': 's'}", "'content': 's', 'tools': " + empty + "}"));
            assertThat(c.tools()).as(empty).isNull();
            assertThat(id(c)).as(empty).isEqualTo(id(read(without)));
        }
    }

    /**
     * A tool-aware ChatML template, the kind MiniMind's newer tokenizers carry. (It writes fields
     * rather than {@code tojson}: Millrace's tojson spacing is a known template gap, tested in
     * ChatTemplateTest, and would hide what this test is about.)
     */
    private static final String TOOL_TEMPLATE = "{% if tools %}<|im_start|>system\n"
            + "{% if messages[0]['role'] == 'system' %}{{ messages[0]['content'] }}\n{% endif %}"
            + "# Tools\n{% for tool in tools %}{{ tool['type'] }} {{ tool['function']['name'] }}: {{ tool['function']['parameters']['type'] }}\n{% endfor %}<|im_end|>\n"
            + "{% elif messages[0]['role'] == 'system' %}<|im_start|>system\n{{ messages[0]['content'] }}<|im_end|>\n{% endif %}"
            + "{% for message in messages %}{% if message['role'] != 'system' %}<|im_start|>{{ message['role'] }}\n{{ message['content'] }}"
            + "{% if message['tool_calls'] %}{% for call in message['tool_calls'] %}<tool_call>{{ call['function']['name'] }}({{ call['function']['arguments']['city'] }})</tool_call>{% endfor %}{% endif %}"
            + "<|im_end|>\n{% endif %}{% endfor %}";

    /** The Python reference renders the MiniMind line as MiniMind's SFT dataset prepares it (golden/format-identity/). */
    private static GoldenRenders toolUseGolden() {
        String line = MINIMIND_TOOL_USE.replace("\\'", "\u0001").replace('\'', '"').replace("\u0001", "\\\"");
        ObjectNode request = StrictJson.MAPPER.createObjectNode().put("template", TOOL_TEMPLATE).put("record", line);
        request.putObject("special");
        return GoldenRenders.of("format-identity/minimind-tool-use", null, List.of(request));
    }

    @Test
    void theTemplateSeesTheSameInputForBothShapesAsMiniMindWouldGiveIt() throws Exception {
        ChatTemplate template = new ChatTemplate(new TokenizerConfig(Map.of("default", TOOL_TEMPLATE), Map.of(), List.of()));
        String miniMind = template.render(read(MINIMIND_TOOL_USE), false);

        assertThat(template.render(read(OPENAI_TOOL_USE), false)).isEqualTo(miniMind);
        assertThat(miniMind).contains("# Tools\nfunction get_weather: object\n").contains("<tool_call>get_weather(Paris)</tool_call>");

        // Python Jinja2 on the messages MiniMind's dataset would make (the raw tools string stays on the system message) agrees.
        assertThat(toolUseGolden().expected()).extracting(PythonReference.Result::text).containsExactly(miniMind);
    }

    @Test
    void goldenFileIsWhatThePythonReferenceRenders() throws Exception {
        toolUseGolden().assertPythonStillAgrees();
    }
}
