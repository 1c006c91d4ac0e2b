package dev.millrace.core.template;

import static org.assertj.core.api.Assertions.assertThat;

import com.fasterxml.jackson.databind.JsonNode;
import com.fasterxml.jackson.databind.ObjectMapper;
import dev.millrace.core.chat.Conversation;
import dev.millrace.core.testing.GoldenRenders;
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.ArrayList;
import java.util.LinkedHashMap;
import java.util.List;
import java.util.Map;
import java.util.Optional;
import java.util.TreeMap;
import java.util.TreeSet;
import java.util.stream.Stream;
import org.junit.jupiter.api.Test;

/** The template-coverage check: every message's content and tool call names occur in the render, in order. */
class RenderCoverageTest {
    private static final ObjectMapper JSON = new ObjectMapper();

    private static Map<String, Object> m(String role, Object content, Object... extra) {
        Map<String, Object> msg = new LinkedHashMap<>();
        msg.put("role", role);
        msg.put("content", content);
        for (int i = 0; i < extra.length; i += 2) {
            msg.put((String) extra[i], extra[i + 1]);
        }
        return msg;
    }

    private static List<Object> calls(String... names) {
        List<Object> out = new ArrayList<>();
        for (String name : names) {
            out.add(Map.of("type", "function", "function", Map.of("name", name, "arguments", "{}")));
        }
        return out;
    }

    @SafeVarargs
    private static Optional<RenderCoverage.Gap> check(String rendered, Map<String, Object>... messages) {
        return RenderCoverage.check(new Conversation(List.of(messages), null), rendered);
    }

    // --- what is looked for --------------------------------------------------------------------

    @Test
    void aRenderCarryingEveryMessageHasNoGap() {
        assertThat(check("<|im_start|>user\nq<|im_end|>\n<|im_start|>assistant\na<|im_end|>\n", m("user", "q"), m("assistant", "a")))
                .isEmpty();
    }

    @Test
    void aToolMessageTheTemplateDropsIsAGapNamingTheMessage() {
        Optional<RenderCoverage.Gap> gap = check("user: weather?\nassistant: get_weather()\nassistant: sunny and warm",
                m("user", "weather?"), m("assistant", "", "tool_calls", calls("get_weather")),
                m("tool", "{\"t\": 21}"), m("assistant", "sunny and warm"));

        assertThat(gap).contains(new RenderCoverage.Gap(2, "content", "{\"t\": 21}"));
    }

    @Test
    void aToolCallWhoseFunctionNameIsMissingIsAGap() {
        Optional<RenderCoverage.Gap> gap = check("user: weather?\nassistant: let me look\ntool: 21",
                m("user", "weather?"), m("assistant", "let me look", "tool_calls", calls("get_weather")), m("tool", "21"));

        assertThat(gap).contains(new RenderCoverage.Gap(1, "tool_calls[0]", "get_weather"));
    }

    @Test
    void aFunctionNameOnlyBeforeItsMessageDoesNotCount() {
        // The name occurs, but in the user's question, before the assistant message that calls it.
        Optional<RenderCoverage.Gap> gap = check("user: call get_weather\nassistant: calling",
                m("user", "call get_weather"), m("assistant", "calling", "tool_calls", calls("get_weather")));

        assertThat(gap).contains(new RenderCoverage.Gap(1, "tool_calls[0]", "get_weather"));
    }

    @Test
    void twoCallsOfOneFunctionNeedTwoOccurrences() {
        Map<String, Object> twice = m("assistant", null, "tool_calls", calls("get_weather", "get_weather"));

        assertThat(check("q <call get_weather>", m("user", "q"), twice)).contains(new RenderCoverage.Gap(1, "tool_calls[1]", "get_weather"));
        assertThat(check("q <call get_weather> <call get_weather>", m("user", "q"), twice)).isEmpty();
    }

    @Test
    void aToolCallWithABareNameIsLookedForByIt() {
        Map<String, Object> call = m("assistant", "", "tool_calls", List.of(Map.of("name", "search", "arguments", Map.of())));

        assertThat(check("q", m("user", "q"), call)).contains(new RenderCoverage.Gap(1, "tool_calls[0]", "search"));
        assertThat(check("q search()", m("user", "q"), call)).isEmpty();
    }

    @Test
    void nullContentWithToolCallsLooksOnlyForTheNames() {
        assertThat(check("q <tool_call>get_weather</tool_call>", m("user", "q"), m("assistant", null, "tool_calls", calls("get_weather"))))
                .isEmpty();
    }

    // --- order ---------------------------------------------------------------------------------

    @Test
    void contentMustOccurInMessageOrder() {
        // A template that moves the system prompt to the last user turn (as some Mistral templates do).
        Optional<RenderCoverage.Gap> gap = check("[INST] q1 [/INST] a1 [INST] be brief\n\nq2 [/INST] a2",
                m("system", "be brief"), m("user", "q1"), m("assistant", "a1"), m("user", "q2"), m("assistant", "a2"));

        assertThat(gap).contains(new RenderCoverage.Gap(1, "content", "q1"));
    }

    @Test
    void repeatedContentNeedsOneOccurrencePerMessage() {
        assertThat(check("user: ok\nassistant: ", m("user", "ok"), m("assistant", "ok"))).contains(new RenderCoverage.Gap(1, "content", "ok"));
        assertThat(check("user: ok\nassistant: ok", m("user", "ok"), m("assistant", "ok"))).isEmpty();
    }

    // --- what is not looked for ----------------------------------------------------------------

    @Test
    void contentIsLookedForStrippedAsPythonStripsIt() {
        // U+00A0 is whitespace to Python's str.strip() (and Jinja's trim), not to Java's String.strip().
        assertThat(check("<user>padded question</user><assistant>answer</assistant>",
                m("user", "\n  padded question \t\n"), m("assistant", "\u00a0answer\u3000"))).isEmpty();
    }

    @Test
    void emptyOrWhitespaceContentHasNothingToFind() {
        assertThat(check("q", m("user", "q"), m("assistant", " \n "), m("user", ""))).isEmpty();
    }

    @Test
    void reasoningFieldsAreNotLookedFor() {
        assertThat(check("q a", m("user", "q"), m("assistant", "a", "reasoning_content", "long reasoning the template drops"))).isEmpty();
    }

    @Test
    void anAssistantsInlineReasoningUpToTheLastThinkEndIsNotLookedFor() {
        Map<String, Object> thinking = m("assistant", "<think>\nfirst</think> more <think>second</think>\n\nanswer");

        assertThat(check("q answer", m("user", "q"), thinking)).isEmpty();
        assertThat(check("q <think>first</think> more <think>second</think>", m("user", "q"), thinking))
                .contains(new RenderCoverage.Gap(1, "content", "answer"));
    }

    @Test
    void aUsersThinkTagsAreOrdinaryText() {
        assertThat(check("explain</think>", m("user", "why </think> here"), m("assistant", "a")))
                .contains(new RenderCoverage.Gap(0, "content", "why </think> here"));
    }

    @Test
    void textPartsAreLookedForInOrderAndOtherPartsAreNot() {
        Map<String, Object> parts = m("user", List.of(Map.of("type", "text", "text", "Describe this:"), Map.of("type", "image"),
                Map.of("type", "text", "text", " briefly ")));

        assertThat(check("Describe this: <image> briefly", parts, m("assistant", "a cat"))).contains(new RenderCoverage.Gap(1, "content", "a cat"));
        assertThat(check("Describe this: <image> briefly. a cat", parts, m("assistant", "a cat"))).isEmpty();
        assertThat(check("briefly Describe this:", parts, m("assistant", "a cat"))).contains(new RenderCoverage.Gap(0, "content[2]", "briefly"));
    }

    @Test
    void aGapDescribesTheMessageThePartAndTheStartOfTheMissingText() {
        String described = new RenderCoverage.Gap(3, "content", "x".repeat(100)).describe();

        assertThat(described).startsWith("messages[3].content: the text \"" + "x".repeat(80) + "…\"").contains("chat template leaves it out");
        assertThat(new RenderCoverage.Gap(1, "tool_calls[0]", "get_weather").describe())
                .startsWith("messages[1].tool_calls[0]: the function name \"get_weather\"");
    }

    // --- every golden render -------------------------------------------------------------------

    /**
     * Every render of the template-parity golden files (Python's answers) checked: the templates that
     * drop parts of a conversation are found, and only on the conversations they drop something from.
     */
    @Test
    void theGoldenRendersHaveGapsExactlyWhereTheTemplateDropsPartOfTheConversation() throws Exception {
        Map<String, TreeSet<String>> gaps = new TreeMap<>();
        int checked = 0;
        try (Stream<Path> files = Files.list(GoldenRenders.folder().resolve("template-parity"))) {
            for (Path file : files.sorted().toList()) {
                String template = file.getFileName().toString().replace(".jsonl", "");
                gaps.put(template, new TreeSet<>());
                for (String line : Files.readAllLines(file)) {
                    JsonNode answer = JSON.readTree(line);
                    if (!answer.get("result").has("text")) {
                        continue; // the template failed on it: nothing rendered to check
                    }
                    JsonNode request = answer.get("request");
                    @SuppressWarnings("unchecked")
                    List<Map<String, Object>> messages = JSON.convertValue(request.get("messages"), List.class);
                    Conversation conversation = new Conversation(messages, JSON.convertValue(request.get("tools"), Object.class));
                    RenderCoverage.check(conversation, answer.get("result").get("text").asText())
                            .ifPresent(gap -> gaps.get(template).add(request.get("label").asText() + " @ " + gap.message() + "." + gap.part()));
                    checked++;
                }
            }
        }
        TreeSet<String> toolCallsDropped = new TreeSet<>(List.of("bad tool call id @ 1.tool_calls[0]",
                "tool call round trip @ 2.tool_calls[0]", "tool call then new question @ 1.tool_calls[0]",
                "tool call with string arguments @ 1.tool_calls[0]", "two tool calls @ 1.tool_calls[0]"));
        Map<String, TreeSet<String>> expected = new TreeMap<>();
        expected.put("bundled", toolCallsDropped);
        expected.put("minimind", toolCallsDropped);
        expected.put("chatml_tools", new TreeSet<>());
        expected.put("llama3", new TreeSet<>());
        expected.put("gemma", new TreeSet<>());
        // Renders a list of parts as something else than its text.
        expected.put("deepseek_r1", new TreeSet<>(List.of("content parts (user) @ 0.content[0]")));
        // Puts the system prompt only into a final user turn, and drops an assistant's text beside tool calls.
        expected.put("mistral", new TreeSet<>(List.of("long multi-line content @ 0.content", "surrounding whitespace @ 0.content",
                "system + exchange @ 0.content", "tool call round trip @ 0.content", "unicode @ 0.content",
                "two tool calls @ 1.content")));
        assertThat(gaps).isEqualTo(expected);
        assertThat(checked).isGreaterThan(400);
    }
}
