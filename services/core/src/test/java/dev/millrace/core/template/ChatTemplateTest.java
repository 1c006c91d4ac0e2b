package dev.millrace.core.template;

import static org.assertj.core.api.Assertions.assertThat;
import static org.assertj.core.api.Assertions.catchThrowableOfType;

import dev.millrace.core.chat.Conversation;
import dev.millrace.core.record.Reason;
import dev.millrace.core.record.RecordRejected;
import java.time.LocalDate;
import java.time.format.DateTimeFormatter;
import java.util.LinkedHashMap;
import java.util.List;
import java.util.Map;
import org.junit.jupiter.api.Test;

/**
 * SFT rule 2 (docs/semantics.md#sft-rule-2-rendering): Millrace must render chat templates the way HF's Jinja2 environment does.
 * Every expected string below is what Python Jinja2 3.1.6 renders under HF's settings (src/test/python/render_reference.py).
 */
class ChatTemplateTest {

    private static Map<String, Object> msg(String role, Object content) {
        Map<String, Object> m = new LinkedHashMap<>();
        m.put("role", role);
        m.put("content", content);
        return m;
    }

    private static final Map<String, Object> USER = msg("user", "hi");
    private static final Map<String, Object> ASSISTANT = msg("assistant", "yo");

    private static Map<String, String> specials() {
        Map<String, String> s = new LinkedHashMap<>();
        s.put("bos_token", "<s>");
        s.put("eos_token", "</s>");
        s.put("pad_token", "<pad>");
        return s;
    }

    private static ChatTemplate template(String source) {
        return new ChatTemplate(new TokenizerConfig(Map.of("default", source), specials(), List.of("<a>", "<b>")));
    }

    @SafeVarargs
    private static Conversation conversation(Map<String, Object>... messages) {
        return new Conversation(List.of(messages), null);
    }

    @SafeVarargs
    private static String render(String source, Map<String, Object>... messages) throws RecordRejected {
        return template(source).render(conversation(messages), false);
    }

    @SafeVarargs
    private static RecordRejected renderFailure(String source, Map<String, Object>... messages) {
        return catchThrowableOfType(RecordRejected.class, () -> render(source, messages));
    }

    // --- whitespace control --------------------------------------------------------------------

    @Test
    void trimBlocksDropsTheNewlineAfterABlockTag() throws Exception {
        assertThat(render("{% for m in messages %}\n{{ m.content }}\n{% endfor %}\nEND", USER, ASSISTANT))
                .isEqualTo("hi\nyo\nEND");
    }

    @Test
    void lstripBlocksDropsTheIndentBeforeABlockTag() throws Exception {
        assertThat(render("<s>\n  {% if true %}\n    X\n  {% endif %}\nE", USER)).isEqualTo("<s>\n    X\nE");
    }

    @Test
    void dashesTrimWhitespaceAroundExpressionsAndBlocks() throws Exception {
        assertThat(render("a  {{- 'b' -}}  c\n  {%- if true -%}  d  {%- endif -%}  e", USER)).isEqualTo("abcde");
    }

    @Test
    void dashesTrimWhitespaceAroundComments() throws Exception {
        assertThat(render("a  {#- note -#}  b", USER)).isEqualTo("ab");
    }

    @Test
    void aCommentOnItsOwnLineLeavesNoBlankLine() throws Exception {
        assertThat(render("a\n  {# note #}\nb", USER)).isEqualTo("a\nb");
    }

    @Test
    void aSingleTrailingNewlineOfTheTemplateIsDropped() throws Exception {
        assertThat(render("X{{ messages[0].content }}\n", USER)).isEqualTo("Xhi");
    }

    // --- content is data, not template -----------------------------------------------------------

    @Test
    void templateSyntaxInsideContentStaysLiteral() throws Exception {
        assertThat(render("{{ messages[0].content }}", msg("user", "{{ 7*7 }} {% if x %} {# c #}")))
                .isEqualTo("{{ 7*7 }} {% if x %} {# c #}");
    }

    @Test
    void nonAsciiContentPassesThrough() throws Exception {
        assertThat(render("[{{ messages[0].content }}]", msg("user", "你好 😀 é"))).isEqualTo("[你好 😀 é]");
    }

    // --- globals ---------------------------------------------------------------------------------

    @Test
    void raiseExceptionIsTemplateErrorCarryingTheTemplatesMessage() {
        RecordRejected e = renderFailure("{% if messages[0].role != 'system' %}"
                + "{{ raise_exception('Conversation roles must alternate user/assistant') }}{% endif %}X", USER);

        assertThat(e).isNotNull();
        assertThat(e.reason()).isEqualTo(Reason.TEMPLATE_ERROR);
        assertThat(e.getMessage()).contains("Conversation roles must alternate user/assistant");
    }

    @Test
    void raiseExceptionWithAComputedMessageInsideALoop() {
        RecordRejected e = renderFailure("{% for m in messages %}{% if m.role == 'assistant' and loop.index0 == 0 %}"
                + "{{ raise_exception('bad at ' ~ loop.index0) }}{% endif %}{{ m.content }}{% endfor %}", ASSISTANT);

        assertThat(e.reason()).isEqualTo(Reason.TEMPLATE_ERROR);
        assertThat(e.getMessage()).contains("bad at 0");
    }

    @Test
    void raiseExceptionNotReachedRendersNormally() throws Exception {
        assertThat(render("{% if false %}{{ raise_exception('never') }}{% endif %}ok", USER)).isEqualTo("ok");
    }

    @Test
    void strftimeNowFormatsToday() throws Exception {
        String before = LocalDate.now().format(DateTimeFormatter.ISO_LOCAL_DATE);
        String out = render("{{ strftime_now('%Y-%m-%d') }}", USER);
        String after = LocalDate.now().format(DateTimeFormatter.ISO_LOCAL_DATE);

        assertThat(out).isIn(before, after);
    }

    @Test
    void aSyntaxErrorIsTemplateError() {
        assertThat(renderFailure("{% if %}x", USER).reason()).isEqualTo(Reason.TEMPLATE_ERROR);
        assertThat(renderFailure("{% for m in messages %}x", USER).reason()).isEqualTo(Reason.TEMPLATE_ERROR);
    }

    // --- variables -------------------------------------------------------------------------------

    @Test
    void specialTokensAreVariables() throws Exception {
        assertThat(render("{{ bos_token }}|{{ eos_token }}|{{ pad_token }}|{{ additional_special_tokens|join(',') }}|{{ unk_token }}.", USER))
                .isEqualTo("<s>|</s>|<pad>|<a>,<b>|.");
    }

    @Test
    void addGenerationPromptIsVisibleToTheTemplate() throws Exception {
        ChatTemplate t = template("{% for m in messages %}{{ m.content }};{% endfor %}{% if add_generation_prompt %}GEN{% endif %}");

        assertThat(t.render(conversation(USER), true)).isEqualTo("hi;GEN");
        assertThat(t.render(conversation(USER), false)).isEqualTo("hi;");
    }

    @Test
    void undefinedNamesAndKeysRenderAsNothing() throws Exception {
        assertThat(render("[{{ nothing }}][{{ messages[0].missing }}]{% if messages[0].name is defined %}D{% else %}U{% endif %}", USER))
                .isEqualTo("[][]U");
    }

    @Test
    void toolsIsNoneWithoutTools() throws Exception {
        assertThat(render("{% if tools is none %}N{% endif %}{% if tools %}T{% endif %}", USER)).isEqualTo("N");
    }

    @Test
    void extraMessageKeysReachTheTemplate() throws Exception {
        Map<String, Object> assistant = msg("assistant", "");
        assistant.put("reasoning_content", "think");
        assistant.put("tool_calls", List.of(Map.of("type", "function", "function", Map.of("name", "f", "arguments", Map.of("x", 1L)))));

        assertThat(render("{{ messages[1].reasoning_content }}|{{ messages[1].tool_calls[0].function.name }}", USER, assistant))
                .isEqualTo("think|f");
    }

    @Test
    void contentPartsCanBeIterated() throws Exception {
        Map<String, Object> user = msg("user", List.of(Map.of("type", "text", "text", "a"), Map.of("type", "text", "text", "b")));

        assertThat(render("{% for p in messages[0].content %}{{ p.type }}:{{ p.text }};{% endfor %}", user)).isEqualTo("text:a;text:b;");
    }

    // --- control flow and expressions chat templates use ----------------------------------------

    @Test
    void loopControlsBreakAndContinueWork() throws Exception {
        assertThat(render("{% for m in messages %}{% if loop.index0 == 1 %}{% break %}{% endif %}{{ m.content }}{% endfor %}",
                USER, ASSISTANT, USER)).isEqualTo("hi");
        assertThat(render("{% for m in messages %}{% if m.role == 'assistant' %}{% continue %}{% endif %}{{ m.content }}{% endfor %}",
                USER, ASSISTANT, USER)).isEqualTo("hihi");
    }

    @Test
    void loopLastAndNegativeIndexWork() throws Exception {
        assertThat(render("{% for m in messages %}{{ m.content }}{% if not loop.last %},{% endif %}{% endfor %}|{{ messages[-1].content }}",
                USER, ASSISTANT)).isEqualTo("hi,yo|yo");
    }

    @Test
    void theInOperatorWorksOnStringsAndLists() throws Exception {
        assertThat(render("{% if 'x' in messages[0].content %}IN{% endif %}{% if messages[0].role in ['user','system'] %}R{% endif %}",
                msg("user", "axb"))).isEqualTo("INR");
    }

    @Test
    void rendersAChatMlTemplateLikeMiniMinds() throws Exception {
        String chatMl = "{% if messages[0]['role'] == 'system' %}{% set system_message = messages[0]['content'] %}"
                + "{{ '<|im_start|>system\\n' + system_message + '<|im_end|>\\n' }}"
                + "{% else %}{{ '<|im_start|>system\\nYou are a helpful assistant<|im_end|>\\n' }}{% endif %}"
                + "{% for message in messages %}{% set content = message['content'] %}"
                + "{% if message['role'] == 'user' %}{{ '<|im_start|>user\\n' + content + '<|im_end|>\\n<|im_start|>assistant\\n' }}"
                + "{% elif message['role'] == 'assistant' %}{{ content + '<|im_end|>' + '\\n' }}{% endif %}{% endfor %}";

        assertThat(render(chatMl, USER, ASSISTANT)).isEqualTo(
                "<|im_start|>system\nYou are a helpful assistant<|im_end|>\n<|im_start|>user\nhi<|im_end|>\n<|im_start|>assistant\nyo<|im_end|>\n");
    }

    // --- sandbox and strictness ------------------------------------------------------------------

    @Test
    void aTemplateCannotChangeTheConversation() {
        Map<String, Object> user = msg("user", "hi");
        Conversation c = conversation(user);

        try {
            template("{% do messages[0].put('content', 'CHANGED') %}x").render(c, false);
        } catch (RecordRejected e) {
            assertThat(e.reason()).isEqualTo(Reason.TEMPLATE_ERROR);
        }

        assertThat(c.messages().get(0).get("content")).isEqualTo("hi");
    }

    @Test
    void anUnknownFilterIsTemplateError() {
        RecordRejected e = renderFailure("{{ messages | nosuchfilter }}", USER);

        assertThat(e).isNotNull();
        assertThat(e.reason()).isEqualTo(Reason.TEMPLATE_ERROR);
    }

    @Test
    void printedBooleansAndNoneLookLikePython() throws Exception {
        assertThat(render("{{ true }}|{{ false }}|{{ none }}|{{ tools }}", USER)).isEqualTo("True|False|None|None");
    }

    // --- template selection ----------------------------------------------------------------------

    @Test
    void theToolUseTemplateIsPickedWhenToolsAreGiven() throws Exception {
        Map<String, String> named = new LinkedHashMap<>();
        named.put("default", "D");
        named.put("tool_use", "T{{ tools|length }}:{{ tools[0].name }}");
        ChatTemplate t = new ChatTemplate(new TokenizerConfig(named, specials(), List.of()));

        assertThat(t.render(new Conversation(List.of(USER), List.of(Map.of("name", "f"))), false)).isEqualTo("T1:f");
        assertThat(t.render(new Conversation(List.of(USER), null), false)).isEqualTo("D");
    }

    @Test
    void theDefaultTemplateIsUsedWithToolsWhenThereIsNoToolUseTemplate() throws Exception {
        ChatTemplate t = template("D{% if tools %}{{ tools|length }}{% endif %}");

        assertThat(t.render(new Conversation(List.of(USER), List.of(Map.of("name", "f"), Map.of("name", "g"))), false)).isEqualTo("D2");
    }

    @Test
    void noChatTemplateIsTemplateError() {
        ChatTemplate t = new ChatTemplate(new TokenizerConfig(Map.of(), specials(), List.of()));

        RecordRejected e = catchThrowableOfType(RecordRejected.class, () -> t.render(conversation(USER), false));

        assertThat(e.reason()).isEqualTo(Reason.TEMPLATE_ERROR);
        assertThat(e.getMessage()).contains("chat_template");
    }

    @Test
    void namedTemplatesWithoutDefaultAreTemplateErrorWhenNoToolsAreGiven() {
        ChatTemplate t = new ChatTemplate(new TokenizerConfig(Map.of("tool_use", "T"), specials(), List.of()));

        RecordRejected e = catchThrowableOfType(RecordRejected.class, () -> t.render(conversation(USER), false));

        assertThat(e.reason()).isEqualTo(Reason.TEMPLATE_ERROR);
        assertThat(e.getMessage()).contains("default");
    }

    // --- HF's tojson -----------------------------------------------------------------------------

    private static final List<Object> TOOLS = List.of(ordered("type", "function", "function", ordered(
            "name", "get_weather", "description", "天气<x>&'q'",
            "parameters", ordered("b", 1L, "a", java.util.Arrays.asList(1.5, true, null)))));

    private static Map<String, Object> ordered(Object... kv) {
        Map<String, Object> m = new LinkedHashMap<>();
        for (int i = 0; i < kv.length; i += 2) {
            m.put((String) kv[i], kv[i + 1]);
        }
        return m;
    }

    private static String renderTools(String source) throws RecordRejected {
        return template(source).render(new Conversation(List.of(USER), TOOLS), false);
    }

    @Test
    void tojsonKeepsKeyOrderDoesNotEscapeHtmlOrNonAsciiIgnoringSeparatorSpacing() throws Exception {
        String python = "[{\"type\": \"function\", \"function\": {\"name\": \"get_weather\", \"description\": \"天气<x>&'q'\","
                + " \"parameters\": {\"b\": 1, \"a\": [1.5, true, null]}}}]";

        assertThat(renderTools("{{ tools | tojson }}").replace(" ", "")).isEqualTo(python.replace(" ", ""));
    }

    @Test
    void tojsonUsesPythonJsonDumpsSpacing() throws Exception {
        assertThat(renderTools("{{ tools | tojson }}")).isEqualTo(
                "[{\"type\": \"function\", \"function\": {\"name\": \"get_weather\", \"description\": \"天气<x>&'q'\","
                        + " \"parameters\": {\"b\": 1, \"a\": [1.5, true, null]}}}]");
    }

    @Test
    void tojsonHonoursIndent() throws Exception {
        ChatTemplate t = template("{{ tools | tojson(indent=2) }}");

        assertThat(t.render(new Conversation(List.of(USER), List.of(ordered("b", 1L, "a", List.of(1L)))), false))
                .isEqualTo("[\n  {\n    \"b\": 1,\n    \"a\": [\n      1\n    ]\n  }\n]");
    }

    // --- Python semantics real templates (Qwen-style) rely on: known Jinjava gaps ----------------

    @Test
    void pythonStringMethodsWork() throws Exception {
        assertThat(render("[{{ messages[0].content.strip() }}][{{ messages[0].content.lstrip() }}][{{ messages[0].content.rstrip() }}]"
                + "[{{ messages[0].content.strip(' \\n') }}]{% if messages[0].content.startswith('  h') %}S{% endif %}"
                + "{% if messages[0].content.endswith('\\n') %}E{% endif %}", msg("user", "  hi \n")))
                .isEqualTo("[hi][hi \n][  hi][hi]SE");
    }

    @Test
    void splitAndTakeTheLastPartWorks() throws Exception {
        assertThat(render("{{ messages[0].content.split('</think>')[-1] }}", msg("assistant", "<think>r</think>answer")))
                .isEqualTo("answer");
    }

    @Test
    void splitKeepsTrailingEmptyStrings() throws Exception {
        assertThat(render("{{ 'a,b,,'.split(',')|length }}", USER)).isEqualTo("4");
    }

    @Test
    void extendedSlicesWork() throws Exception {
        assertThat(render("{% for m in messages[::-1] %}{{ m.content }}{% endfor %}", USER, ASSISTANT)).isEqualTo("yohi");
    }

    @Test
    void namespaceWithAnExpressionValueWorks() throws Exception {
        assertThat(render("{% set ns = namespace(found=false, last=messages|length - 1) %}{% for m in messages %}"
                + "{% if m.role == 'assistant' %}{% set ns.found = true %}{% endif %}{% endfor %}{% if ns.found %}F{% endif %}{{ ns.last }}",
                USER, ASSISTANT)).isEqualTo("F1");
    }

    @Test
    void theGenerationTagRendersItsBody() throws Exception {
        assertThat(render("{% for m in messages %}{% generation %}{{ m.content }}{% endgeneration %}{% endfor %}", USER))
                .isEqualTo("hi");
    }
}
