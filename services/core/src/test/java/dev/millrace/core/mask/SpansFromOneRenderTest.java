package dev.millrace.core.mask;

import static org.assertj.core.api.Assertions.assertThat;
import static org.junit.jupiter.api.Assertions.assertTimeoutPreemptively;

import dev.millrace.core.chat.Conversation;
import dev.millrace.core.record.RecordRejected;
import dev.millrace.core.template.ChatTemplate;
import dev.millrace.core.template.TokenizerConfig;
import dev.millrace.core.testing.TestTokenizers;
import dev.millrace.core.tokenizer.TokenizerFolder;
import dev.millrace.core.template.jinja.Deadline;
import java.nio.file.Path;
import java.time.Duration;
import java.util.ArrayList;
import java.util.LinkedHashMap;
import java.util.List;
import java.util.Map;
import java.util.Random;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.params.ParameterizedTest;
import org.junit.jupiter.params.provider.MethodSource;

/**
 * The span rule read off one render ({@link AssistantSpans#fromOneRender}) against the rule as
 * written ({@link AssistantSpans#byPrefixRenders}): over many generated conversations and every
 * template at hand, wherever the shortcut answers, its answer is the rule's, and the combined
 * {@link AssistantSpans#textSpans} always gives the rule's answer (spans, or the same rejection).
 */
class SpansFromOneRenderTest {
    private static final Path TEMPLATES = Path.of("src/test/resources/templates");

    /** Hand-made templates, each probing one condition of the shortcut. */
    private static final Map<String, String> HAND_MADE = Map.ofEntries(
            // a nested loop's filter runs in the enclosing loop's scope: loop.last there is the messages loop's
            Map.entry("filter-reads-outer-loop", "{% for m in messages %}{% for c in [1] if loop.last %}LAST {% endfor %}"
                    + "{{ m['role'] }}: {{ m['content'] }}\n{% endfor %}{% if add_generation_prompt %}assistant: {% endif %}"),
            // a macro called from the loop body asks whether it is the last message
            Map.entry("macro-loop-last", "{% macro end() %}{% if loop.last %}.{% endif %}{% endmacro %}{% for m in messages %}"
                    + "{{ m['role'] }}: {{ m['content'] }}{{ end() }}\n{% endfor %}{% if add_generation_prompt %}assistant: {% endif %}"),
            // state flows forward through a namespace; the generation prompt after the loop
            Map.entry("namespace-forward", "{% set ns = namespace(n=0) %}{% for m in messages %}{% set ns.n = ns.n + 1 %}"
                    + "[{{ m['role'] }}] {{ m['content'] }} ({{ ns.n }}:{{ loop.index }}{% if loop.first %}*{% endif %})\n{% endfor %}"
                    + "{% if add_generation_prompt %}[assistant] {% endif %}"),
            // a message's output depends on whether it is the last: the shortcut must not be taken
            Map.entry("loop-last", "{% for m in messages %}{{ m['role'] }}: {{ m['content'] }}{% if not loop.last %}\n{% endif %}{% endfor %}"
                    + "{% if add_generation_prompt %}\nassistant: {% endif %}"),
            // the length in front: not prefix-consistent, a rejection either way
            Map.entry("length-in-front", "{{ messages|length }}{% for m in messages %}{{ m['role'] }}: {{ m['content'] }}\n{% endfor %}"),
            // a constant after the loop: a render of a prefix is not a prefix of the whole render
            Map.entry("constant-after", "{% for m in messages %}{{ m['role'] }}: {{ m['content'] }}\n{% endfor %}END"),
            // the generation prompt changes what comes before: the shortcut must not be taken
            Map.entry("prompt-before", "{% if add_generation_prompt %}G{% endif %}{% for m in messages %}{{ m['content'] }}|{% endfor %}"),
            // the system message read through messages[0], the assistant turn's end through previtem
            Map.entry("first-and-previtem", "{% if messages[0]['role'] == 'system' %}<<{{ messages[0]['content'] }}>>{% endif %}"
                    + "{% for m in messages %}{% if loop.previtem is defined and loop.previtem['role'] == m['role'] %}+{% endif %}"
                    + "{% if m['role'] != 'system' %}{{ m['role'][0] }}> {{ m['content'] | trim }}{% endif %}\n{% endfor %}"
                    + "{% if add_generation_prompt %}a> {% endif %}"),
            // the generation prompt repeats what a user turn ends with: before is not a prefix of through
            Map.entry("prompt-not-prefix", "{% for m in messages %}{{ m['role'] }}> {{ m['content'] }}\n{% endfor %}"
                    + "{% if add_generation_prompt %}ASSISTANT> {% endif %}"));

    static List<String> templateNames() {
        List<String> names = new ArrayList<>(List.of("bundled", "minimind", "chatml_tools", "deepseek_r1", "gemma", "llama3", "mistral"));
        names.addAll(HAND_MADE.keySet().stream().sorted().toList());
        return names;
    }

    private static ChatTemplate template(String name) throws Exception {
        return switch (name) {
            case "bundled" -> new ChatTemplate(TokenizerConfig.load(TokenizerFolder.bundledPath()));
            case "minimind" -> new ChatTemplate(TokenizerConfig.load(TestTokenizers.minimind()));
            default -> HAND_MADE.containsKey(name)
                    ? new ChatTemplate(new TokenizerConfig(Map.of("default", HAND_MADE.get(name)), Map.of("eos_token", "</s>"), List.of()))
                    : new ChatTemplate(TokenizerConfig.load(TEMPLATES.resolve(name)));
        };
    }

    private static final String[] WORDS = {"hi", "Hello!", " spaced ", "line\nbreak", "😀 emoji", "中文", "", "<|im_end|>", "x",
            "{{ 7*7 }}", "tab\t", "a 'quote'", "\"double\"", "ends with newline\n"};

    /** A conversation of 1 to 12 messages: mostly well formed, sometimes not (the span rule does not care). */
    static Conversation generate(Random random) {
        List<Map<String, Object>> messages = new ArrayList<>();
        int n = 1 + random.nextInt(12);
        boolean wellFormed = random.nextInt(4) != 0;
        if (random.nextInt(3) == 0) {
            messages.add(message("system", random));
        }
        while (messages.size() < n) {
            String role;
            if (wellFormed) {
                boolean userTurn = messages.isEmpty() || !"user".equals(messages.get(messages.size() - 1).get("role"));
                role = userTurn ? "user" : "assistant";
            } else {
                role = List.of("user", "assistant", "system").get(random.nextInt(3));
            }
            messages.add(message(role, random));
        }
        return new Conversation(messages, null);
    }

    private static Map<String, Object> message(String role, Random random) {
        StringBuilder content = new StringBuilder();
        int words = random.nextInt(4);
        for (int i = 0; i < words; i++) {
            content.append(i == 0 ? "" : " ").append(WORDS[random.nextInt(WORDS.length)]);
        }
        Map<String, Object> m = new LinkedHashMap<>();
        m.put("role", role);
        m.put("content", content.toString());
        return m;
    }

    /** A rule's answer, comparable: the spans, or the rejection's reason and message. */
    private record Outcome(List<Span> spans, String rejection) {
    }

    @FunctionalInterface
    private interface Rule {
        List<Span> spans() throws RecordRejected;
    }

    private static Outcome outcome(Rule rule) {
        try {
            return new Outcome(rule.spans(), null);
        } catch (RecordRejected e) {
            return new Outcome(null, e.reason() + ": " + e.getMessage());
        }
    }

    @ParameterizedTest
    @MethodSource("templateNames")
    void whereTheShortcutAnswersItGivesTheRulesAnswer(String name) throws Exception {
        ChatTemplate template = template(name);
        Random random = new Random(name.hashCode());
        int compared = 0;
        int shortcut = 0;
        for (int i = 0; i < 300; i++) {
            Conversation c = generate(random);
            String full;
            try {
                full = template.render(c, false);
            } catch (RecordRejected e) {
                continue; // the record stops before the span rule
            }
            compared++;
            Outcome exact = outcome(() -> AssistantSpans.byPrefixRenders(template, c, full, Deadline.NONE));
            Outcome fast = outcome(() -> AssistantSpans.fromOneRender(template, c, full, Deadline.NONE));
            Outcome combined = outcome(() -> AssistantSpans.textSpans(template, c, full, Deadline.NONE));
            assertThat(fast.rejection()).as("%s: the shortcut never rejects by itself: %s", name, c).isNull();
            if (fast.spans() != null) {
                shortcut++;
                assertThat(fast).as("%s, %s", name, c).isEqualTo(exact);
            }
            assertThat(combined).as("%s, %s", name, c).isEqualTo(exact);
        }
        assertThat(compared).as(name).isPositive();
        boolean readable = template.renderPieces(generate(new Random(1)), Deadline.NONE) != null
                || template.renderPieces(new Conversation(List.of(Map.of("role", "user", "content", "x")), null), Deadline.NONE) != null;
        if (List.of("bundled", "minimind", "namespace-forward", "first-and-previtem").contains(name)) {
            assertThat(shortcut).as("%s: conversations the shortcut answered", name).isGreaterThan(compared / 2);
        }
        if (List.of("loop-last", "length-in-front", "prompt-before", "filter-reads-outer-loop", "macro-loop-last").contains(name)) {
            assertThat(readable).as("%s must not be read off one render", name).isFalse();
            assertThat(shortcut).isZero();
        }
    }

    @Test
    void theBundledTemplateSpansTenThousandMessagesFromOneRender() throws Exception {
        ChatTemplate template = template("bundled");
        List<Map<String, Object>> messages = new ArrayList<>();
        for (int i = 0; i < 10_000; i++) {
            messages.add(Map.of("role", i % 2 == 0 ? "user" : "assistant", "content", "message number " + i));
        }
        Conversation c = new Conversation(messages, null);
        String full = template.render(c, false);

        // A generous bound on "it finished": the prefix renders need many minutes here.
        List<Span> spans = assertTimeoutPreemptively(Duration.ofSeconds(60),
                () -> AssistantSpans.fromOneRender(template, c, full, Deadline.after(Duration.ofSeconds(50))));

        assertThat(spans).hasSize(5_000);
        assertThat(full.substring(spans.get(4_999).start(), spans.get(4_999).end())).isEqualTo("message number 9999<|im_end|>\n");
        // The rule as written, on a prefix of it, agrees.
        Conversation head = c.prefix(40);
        String headText = template.render(head, false);
        assertThat(AssistantSpans.fromOneRender(template, head, headText, Deadline.NONE))
                .isEqualTo(AssistantSpans.byPrefixRenders(template, head, headText, Deadline.NONE)).hasSize(20);
    }
}
