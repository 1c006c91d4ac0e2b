package dev.millrace.core.template;

import static org.assertj.core.api.Assertions.assertThat;

import com.fasterxml.jackson.databind.ObjectMapper;
import com.fasterxml.jackson.databind.node.ObjectNode;
import dev.millrace.core.chat.Conversation;
import dev.millrace.core.record.RecordRejected;
import dev.millrace.core.template.jinja.HfEnvironment;
import dev.millrace.core.testing.GoldenRenders;
import dev.millrace.core.testing.PythonReference;
import dev.millrace.core.testing.TestTokenizers;
import dev.millrace.core.tokenizer.TokenizerFolder;
import java.net.URISyntaxException;
import java.nio.file.Files;
import java.nio.file.Path;
import java.time.LocalDateTime;
import java.time.ZoneOffset;
import java.time.ZonedDateTime;
import java.util.ArrayList;
import java.util.LinkedHashMap;
import java.util.List;
import java.util.Map;
import java.util.stream.Stream;
import org.junit.jupiter.api.DynamicTest;
import org.junit.jupiter.api.TestFactory;

/**
 * Every chat template the project knows (the bundled tokenizer's, MiniMind's, and the Llama 3 / Gemma /
 * Mistral / DeepSeek R1 / ChatML-with-tools templates under test resources templates/) rendered over the
 * same {@link #cases() conversations}: Millrace's text and {@code {% generation %}} spans must equal those
 * of the Python reference ({@code src/test/python/render_reference.py}), committed as golden files
 * {@code golden/template-parity/<template>.jsonl}, byte for byte, or both must fail (with the template's
 * raise_exception text in Millrace's TEMPLATE_ERROR message). A second test re-renders the golden files
 * with Python where it is available; see {@link GoldenRenders}.
 */
class TemplateParityTest {
    private static final ObjectMapper JSON = new ObjectMapper();
    private static final Map<String, Object> FIXED_DATE = Map.of("date_string", "26 Jul 2024");
    private static final ZonedDateTime NOW = LocalDateTime.parse(GoldenRenders.PINNED_NOW).atZone(ZoneOffset.UTC);

    private record Template(String name, Path folder) {
    }

    private static List<Template> templates() throws Exception {
        List<Template> out = new ArrayList<>();
        out.add(new Template("bundled", TokenizerFolder.bundledPath()));
        out.add(new Template("minimind", TestTokenizers.minimind()));
        try (Stream<Path> dirs = Files.list(resource("templates"))) {
            dirs.filter(d -> Files.exists(d.resolve("tokenizer_config.json"))).sorted()
                    .forEach(d -> out.add(new Template(d.getFileName().toString(), d)));
        }
        assertThat(out).hasSizeGreaterThanOrEqualTo(7);
        return out;
    }

    private static GoldenRenders golden(Template t) {
        List<ObjectNode> requests = new ArrayList<>();
        for (Case c : cases()) {
            ObjectNode rec = JSON.createObjectNode();
            rec.put("label", c.label());
            rec.set("messages", JSON.valueToTree(c.messages()));
            rec.set("tools", JSON.valueToTree(c.tools()));
            rec.put("add_generation_prompt", c.addGenerationPrompt());
            rec.set("vars", JSON.valueToTree(c.vars()));
            rec.put("now", GoldenRenders.PINNED_NOW);
            rec.put("spans", true);
            requests.add(rec);
        }
        return GoldenRenders.of("template-parity/" + t.name(), t.folder(), requests);
    }

    @TestFactory
    Stream<DynamicTest> everyKnownTemplateRendersAsThePythonReference() throws Exception {
        return templates().stream().map(t -> DynamicTest.dynamicTest(t.name(), () -> assertParity(t)));
    }

    @TestFactory
    Stream<DynamicTest> goldenFilesAreWhatThePythonReferenceRenders() throws Exception {
        return templates().stream().map(t -> DynamicTest.dynamicTest(t.name(), () -> golden(t).assertPythonStillAgrees()));
    }

    private static Path resource(String name) throws URISyntaxException {
        return Path.of(TemplateParityTest.class.getResource("/" + name).toURI());
    }

    private record Case(String label, List<Map<String, Object>> messages, Object tools, boolean addGenerationPrompt,
                        Map<String, Object> vars) {
    }

    private static void assertParity(Template t) throws Exception {
        List<Case> cases = cases();
        List<PythonReference.Result> python = golden(t).expected();
        assertThat(python).hasSize(cases.size());
        ChatTemplate template = new ChatTemplate(TokenizerConfig.load(t.folder()), new HfEnvironment(() -> NOW));
        List<String> mismatches = new ArrayList<>();
        int rendered = 0;
        int failedInBoth = 0;
        int withSpans = 0;
        for (int i = 0; i < cases.size(); i++) {
            Case c = cases.get(i);
            PythonReference.Result expected = python.get(i);
            String actual = null;
            String error = null;
            try {
                actual = template.render(new Conversation(c.messages(), c.tools()), c.addGenerationPrompt(), c.vars());
            } catch (RecordRejected e) {
                error = e.getMessage();
            }
            String where = t.name() + " / " + c.label() + " (add_generation_prompt=" + c.addGenerationPrompt() + ")";
            if (expected.failed()) {
                if (error == null) {
                    mismatches.add(where + ": Python failed (" + expected.error() + ") but Millrace rendered " + JSON.writeValueAsString(actual));
                } else if (expected.error().startsWith("TemplateError: ") && !error.contains(expected.error().substring(15))) {
                    mismatches.add(where + ": Millrace's error \"" + error + "\" lacks the template's message \"" + expected.error() + "\"");
                } else {
                    failedInBoth++;
                }
            } else if (error != null) {
                mismatches.add(where + ": Millrace failed (" + error + ") but Python rendered " + JSON.writeValueAsString(expected.text()));
            } else if (!actual.equals(expected.text())) {
                mismatches.add(where + ":\n  python: " + JSON.writeValueAsString(expected.text()) + "\n  java:   " + JSON.writeValueAsString(actual));
            } else {
                rendered++;
                var withGeneration = template.renderWithGenerationSpans(new Conversation(c.messages(), c.tools()), c.addGenerationPrompt(), c.vars());
                List<List<Integer>> spans = new ArrayList<>();
                withGeneration.generationSpans().forEach(span -> spans.add(List.of(span[0], span[1])));
                if (!withGeneration.text().equals(actual) || !JSON.valueToTree(spans).equals(expected.spans())) {
                    mismatches.add(where + ": {% generation %} spans\n  python: " + expected.spans() + "\n  java:   " + spans);
                }
                withSpans += spans.isEmpty() ? 0 : 1;
            }
        }
        System.out.printf("%s: %d cases rendered identically (%d with generation spans), %d failed in both%n",
                t.name(), rendered, withSpans, failedInBoth);
        assertThat(mismatches).as(String.join("\n", mismatches)).isEmpty();
        assertThat(rendered + failedInBoth).isGreaterThanOrEqualTo(40);
        assertThat(rendered).as("cases rendered identically (not just failing in both)").isGreaterThanOrEqualTo(15);
        if (t.name().equals("chatml_tools")) {
            assertThat(withSpans).as("cases with generation spans").isGreaterThan(20);
        }
    }

    // --- the conversations ----------------------------------------------------------------------

    private static Map<String, Object> m(String role, Object content, Object... extra) {
        Map<String, Object> msg = new LinkedHashMap<>();
        msg.put("role", role);
        msg.put("content", content);
        for (int i = 0; i < extra.length; i += 2) {
            msg.put((String) extra[i], extra[i + 1]);
        }
        return msg;
    }

    private static Object json(String text) {
        try {
            return JSON.readValue(text, Object.class);
        } catch (Exception e) {
            throw new IllegalArgumentException(text, e);
        }
    }

    private static Map<String, Object> call(String id, String name, Object arguments) {
        Map<String, Object> fn = new LinkedHashMap<>();
        fn.put("name", name);
        fn.put("arguments", arguments);
        Map<String, Object> c = new LinkedHashMap<>();
        c.put("id", id);
        c.put("type", "function");
        c.put("function", fn);
        return c;
    }

    private static final Object TOOLS = json("""
            [{"type": "function", "function": {"name": "get_weather", "description": "Get the current weather for a city. Use \\"metric\\" units <always> & 'quote' safely.",
              "parameters": {"type": "object", "properties": {"city": {"type": "string", "description": "City name, e.g. Paris"},
              "unit": {"type": "string", "enum": ["celsius", "fahrenheit"], "default": "celsius"}, "days": {"type": "integer", "minimum": 1, "maximum": 7.5}},
              "required": ["city"]}}},
             {"type": "function", "function": {"name": "search", "description": "Search the web (网页搜索)",
              "parameters": {"type": "object", "properties": {"query": {"type": "string"}, "filters": {"type": "object", "additionalProperties": true, "default": null}}},
              "return": {"type": "string"}}}]
            """);

    static List<Case> cases() {
        List<List<Map<String, Object>>> convs = new ArrayList<>();
        List<String> labels = new ArrayList<>();
        List<Object> tools = new ArrayList<>();
        List<Map<String, Object>> vars = new ArrayList<>();
        class Add {
            void add(String label, Object toolList, Map<String, Object> v, Map<String, Object>... messages) {
                labels.add(label);
                convs.add(List.of(messages));
                tools.add(toolList);
                vars.add(v);
            }
        }
        Add a = new Add();
        Map<String, Object> none = FIXED_DATE;
        a.add("single user", null, none, m("user", "Hello!"));
        a.add("date from strftime_now", TOOLS, Map.of(), m("system", "s"), m("user", "What day is it?"));
        a.add("system + user", null, none, m("system", "You are a helpful assistant."), m("user", "Hi there"));
        a.add("one exchange", null, none, m("user", "What is 2+2?"), m("assistant", "4"));
        a.add("system + exchange", null, none, m("system", "Answer tersely."), m("user", "Capital of France?"), m("assistant", "Paris."));
        a.add("three turns", null, none, m("user", "a"), m("assistant", "b"), m("user", "c"), m("assistant", "d"), m("user", "e"), m("assistant", "f"));
        a.add("trailing user", null, none, m("user", "first"), m("assistant", "second"), m("user", "third"));
        a.add("unicode", null, none, m("system", "Réponds en français. 你好 🌍"), m("user", "مرحبا — naïve café ☕ e\u0301"), m("assistant", "Bonjour ! 😀👍🏽 日本語"));
        a.add("template syntax in content", null, none, m("user", "{{ 7*7 }} {% if x %}y{% endif %} {# c #} {{- raw -}}"),
                m("assistant", "{% raw %}{{ not rendered }}{% endraw %} }} %} #}"));
        a.add("special tokens in content", null, none, m("user", "<|im_start|>assistant\n<|im_end|> <s> </s> [INST] <start_of_turn> <|eot_id|>"),
                m("assistant", "<｜end▁of▁sentence｜> <think>x</think>"));
        a.add("surrounding whitespace", null, none, m("system", "\n  sys  \n"), m("user", "  padded question \n\n"), m("assistant", "\n\n  padded answer  "));
        a.add("empty contents", null, none, m("user", ""), m("assistant", ""));
        a.add("quotes and backslashes", null, none, m("user", "say \"hi\" and 'bye' \\n \\\\ \t tab"), m("assistant", "ok: \"done\""));
        a.add("content parts (user)", null, none, m("user", json("[{\"type\": \"text\", \"text\": \"Describe this:\"}, {\"type\": \"image\"}, {\"type\": \"text\", \"text\": \"briefly\"}]")),
                m("assistant", "A cat."));
        a.add("content parts (system)", null, none, m("system", json("[{\"type\": \"text\", \"text\": \"System as parts.\"}]")), m("user", "hi"));
        a.add("reasoning_content", null, none, m("user", "Why is the sky blue?"),
                m("assistant", "Rayleigh scattering.", "reasoning_content", "Think about light scattering.\nShort wavelengths scatter more."));
        a.add("think block in content", null, none, m("user", "2+3?"), m("assistant", "<think>\nadd them\n</think>\n\n5"));
        a.add("think in earlier turn", null, none, m("user", "q1"), m("assistant", "<think>r1</think>a1"), m("user", "q2"),
                m("assistant", "a2", "reasoning_content", "r2"));
        a.add("reasoning after last user", null, none, m("system", "s"), m("user", "q"), m("assistant", "<think>\nlong\nreasoning\n</think>answer"));
        a.add("tools offered, plain answer", TOOLS, none, m("user", "Hi, who are you?"), m("assistant", "An assistant."));
        a.add("tools + system", TOOLS, none, m("system", "Use tools when needed."), m("user", "Weather in Paris?"));
        a.add("tool call round trip", TOOLS, none, m("system", "Be brief."), m("user", "What's the weather in Paris?"),
                m("assistant", "", "tool_calls", List.of(call("call00001", "get_weather", json("{\"city\": \"Paris\", \"days\": 2, \"ratio\": 0.5, \"big\": 1e21, \"tiny\": 1e-7}")))),
                m("tool", "{\"temperature\": 21.5, \"unit\": \"celsius\"}", "tool_call_id", "call00001", "name", "get_weather"),
                m("assistant", "It is 21.5 °C in Paris."));
        a.add("tool call with string arguments", TOOLS, none, m("user", "Search for cats"),
                m("assistant", "", "tool_calls", List.of(call("abcdefghi", "search", "{\"query\": \"cats\"}"))),
                m("tool", "cats are great", "tool_call_id", "abcdefghi"));
        a.add("two tool calls", TOOLS, none, m("user", "Weather in Paris and Rome?"),
                m("assistant", "Let me check.", "tool_calls", List.of(call("call00001", "get_weather", json("{\"city\": \"Paris\"}")),
                        call("call00002", "get_weather", json("{\"city\": \"Rome\", \"unit\": \"fahrenheit\"}")))),
                m("tool", "20", "tool_call_id", "call00001"), m("tool", "25", "tool_call_id", "call00002"),
                m("assistant", "Paris 20, Rome 25."));
        a.add("tool call then new question", TOOLS, none, m("user", "Weather?"),
                m("assistant", "", "tool_calls", List.of(call("call00003", "get_weather", json("{\"city\": \"Oslo\", \"nested\": {\"a\": [1, 2, {\"b\": null}], \"ok\": true}}")))),
                m("tool", "{\"t\": -3}", "tool_call_id", "call00003"), m("assistant", "Cold: -3."), m("user", "And tomorrow?"));
        // How OpenAI exports a turn that only calls tools (docs/decisions.md, "Null content on a tool-calling turn").
        a.add("tool call with null content", TOOLS, none, m("user", "What's the weather in Paris?"),
                m("assistant", null, "tool_calls", List.of(call("call00004", "get_weather", "{\"city\": \"Paris\"}"))),
                m("tool", "sunny", "tool_call_id", "call00004"), m("assistant", "Sunny in Paris."));
        a.add("tool result as user-style tags", TOOLS, none, m("user", "<tool_response>\nfake\n</tool_response>"), m("assistant", "ok"));
        a.add("bad tool call id", TOOLS, none, m("user", "Weather?"),
                m("assistant", "", "tool_calls", List.of(call("short", "get_weather", json("{\"city\": \"Paris\"}")))),
                m("tool", "x", "tool_call_id", "short"));
        a.add("bad alternation: two users", null, none, m("user", "one"), m("user", "two"));
        a.add("bad alternation: assistant first", null, none, m("assistant", "I start"), m("user", "then you"));
        a.add("bad alternation: system in the middle", null, none, m("user", "u"), m("system", "s"), m("assistant", "a"));
        a.add("bad alternation: two assistants", null, none, m("user", "u"), m("assistant", "a"), m("assistant", "b"));
        a.add("unknown role", null, none, m("user", "u"), m("narrator", "n"));
        a.add("enable_thinking false", null, Map.of("enable_thinking", false, "date_string", "26 Jul 2024"), m("user", "quick answer please"));
        a.add("enable_thinking true", null, Map.of("enable_thinking", true, "date_string", "26 Jul 2024"), m("user", "think hard"), m("assistant", "done"), m("user", "again"));
        a.add("long multi-line content", null, none, m("system", "Line 1\nLine 2\n\n  indented\n\ttabbed"),
                m("user", "```python\ndef f(x):\n    return {'a': x}\n```"), m("assistant", "| a | b |\n|---|---|\n| 1 | 2 |\n"));
        List<Case> out = new ArrayList<>();
        for (int i = 0; i < convs.size(); i++) {
            for (boolean agp : new boolean[] {false, true}) {
                out.add(new Case(labels.get(i), convs.get(i), tools.get(i), agp, vars.get(i)));
            }
        }
        return out;
    }
}
