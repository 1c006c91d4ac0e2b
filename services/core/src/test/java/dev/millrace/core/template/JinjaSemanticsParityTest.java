package dev.millrace.core.template;

import static org.assertj.core.api.Assertions.assertThat;

import com.fasterxml.jackson.databind.ObjectMapper;
import dev.millrace.core.chat.Conversation;
import dev.millrace.core.record.RecordRejected;
import com.fasterxml.jackson.databind.node.ObjectNode;
import dev.millrace.core.template.jinja.HfEnvironment;
import dev.millrace.core.testing.GoldenRenders;
import dev.millrace.core.testing.PythonReference;
import java.time.LocalDateTime;
import java.time.ZoneOffset;
import java.time.ZonedDateTime;
import java.util.ArrayList;
import java.util.List;
import java.util.Map;
import org.junit.jupiter.api.Test;

/**
 * Hundreds of small templates, each exercising one piece of Jinja2 semantics chat templates rely on,
 * rendered by Millrace and by the Python reference (Python Jinja2 under HF's settings,
 * {@code src/test/python/render_reference.py}), whose answers are committed as
 * {@code golden/jinja-semantics/snippets.jsonl}: the bytes must be identical, or both must fail. A
 * second test re-renders the golden file with Python where it is available; see {@link GoldenRenders}.
 */
class JinjaSemanticsParityTest {
    private static final ObjectMapper JSON = new ObjectMapper();

    static final String MESSAGES_JSON = """
            [{"role": "system", "content": "  You are helpful.\\n"},
             {"role": "user", "content": "hi {{ 7*7 }} it's \\"q\\" 你好 😀", "name": null},
             {"role": "assistant", "content": "<think>\\nplan\\n</think>\\n\\nanswer", "reasoning_content": "r1",
              "tool_calls": [{"type": "function", "function": {"name": "get_weather",
                 "arguments": {"city": "Paris", "days": 3, "temp": 21.5, "flags": [true, false, null], "x": 1e-7}}}]},
             {"role": "tool", "content": "{\\"ok\\": true}"},
             {"role": "user", "content": [{"type": "text", "text": "part one"}, {"type": "image"}, {"type": "text", "text": "part two"}]}]
            """;
    static final String TOOLS_JSON = """
            [{"type": "function", "function": {"name": "get_weather", "description": "Weather <b>&'now'",
              "parameters": {"type": "object", "properties": {"city": {"type": "string"}, "days": {"type": "integer", "default": 1}},
              "required": ["city"]}}}]
            """;

    static final List<String> SNIPPETS = List.of(
            // printing values like Python str()
            "{{ true }}|{{ false }}|{{ none }}|{{ tools is none }}|{{ 1.0 }}|{{ 1e20 }}|{{ 1e16 }}|{{ 1e15 }}|{{ 0.0001 }}|{{ 0.00001 }}|{{ 1.5e-7 }}",
            "{{ 10/4 }}|{{ 7//2 }}|{{ -7//2 }}|{{ -7 % 3 }}|{{ 7 % -3 }}|{{ 2**10 }}|{{ 2**-1 }}|{{ 7.5 // 2 }}|{{ 0.1 + 0.2 }}|{{ 1/3 }}",
            "{{ [1, 'a', none, true, 1.5, {'k': 'v'}] }}|{{ (1,) }}|{{ (1, 2) }}|{{ () }}|{{ {} }}|{{ [] }}",
            "{{ [\"it's\", 'a\"b', 'a\\nb\\tc', 'é', '\\x00', '\\u200b'] }}",
            "{{ messages[2].tool_calls[0].function.arguments }}",
            "{{ messages[1] }}",
            "{{ 'a' ~ 1 ~ none ~ true ~ 2.50 ~ nothing ~ [1] }}",
            "{{ 1 + 2 ~ 3 }}|{{ 'x' ~ 1 * 2 }}|{{ -3|abs }}|{{ -(3) }}",
            // None vs undefined
            "{{ messages[1].name }}|{{ messages[1].name is none }}|{{ messages[1].name is defined }}|{{ messages[1].zz is defined }}|{{ messages[1].zz is none }}",
            "{{ tools is defined }}|{{ documents is none }}|{{ nothing is defined }}|{{ nothing is undefined }}",
            "{{ messages[0].get('zz') }}|{{ messages[0].get('zz', 5) }}|{{ messages[0].get('role') }}",
            "{{ nothing }}|{{ nothing|default('d') }}|{{ none|default('d') }}|{{ ''|default('d', true) }}|{{ 0|default('d', boolean=true) }}",
            "{{ nothing.attr }}",
            "{{ nothing + 'a' }}",
            "{{ 'a' + none }}",
            "{{ messages[0].content + messages[4].content }}",
            "{{ [1] + [2] }}|{{ (1,) + (2,) }}|{{ 'ab' * 3 }}|{{ 2 * 'ab' }}|{{ [0] * 3 }}",
            "{{ 1 == 1.0 }}|{{ true == 1 }}|{{ '1' == 1 }}|{{ none == none }}|{{ nothing == none }}|{{ [1, 2] == [1, 2] }}|{{ (1,) == [1] }}",
            "{{ 1 < 2 < 3 }}|{{ 3 > 2 > 2 }}|{{ 'a' < 'b' }}|{{ [1, 2] < [1, 3] }}",
            "{{ 'a' < 1 }}",
            // precedence
            "{{ not messages[0].zz is defined }}|{{ not 1 == 2 }}|{{ not true and false }}|{{ 1 if not none else 2 }}",
            "{{ 'x' if false }}|{{ 'y' if true else 'n' }}|{{ 1 if false else 2 if false else 3 }}",
            "{{ none or 'fallback' }}|{{ 'a' and 'b' }}|{{ 0 and 'b' }}|{{ '' or [] }}",
            // strings
            "[{{ messages[0].content.strip() }}][{{ messages[0].content.lstrip() }}][{{ messages[0].content.rstrip() }}][{{ '  xxhixx  '.strip(' x') }}]",
            "{{ messages[2].content.split('</think>')[-1].lstrip('\\n') }}|{{ messages[2].content.split('</think>')[0].rstrip('\\n').split('<think>')[-1].lstrip('\\n') }}",
            "{{ 'a,b,,'.split(',') }}|{{ ' a  b '.split() }}|{{ ' a  b '.split(' ') }}|{{ 'a,b,c'.split(',', 1) }}|{{ 'a,b,c'.rsplit(',', 1) }}|{{ '  a b  c '.split(none, 1) }}|{{ ' a b c '.rsplit(none, 1) }}",
            "{{ 'abc'.startswith('a') }}|{{ 'abc'.startswith(('x', 'ab')) }}|{{ 'abc'.endswith('bc') }}|{{ 'abc'.startswith('b', 1) }}",
            "{{ 'hello world'.title() }}|{{ 'hello world'|title }}|{{ \"it's a-b (c)\"|title }}|{{ \"it's\".title() }}|{{ 'hELLO'|capitalize }}|{{ 'hELLO'.capitalize() }}",
            "{{ 'AbC'.upper() }}{{ 'AbC'.lower() }}{{ 'AbC'|upper }}{{ 'AbC'|lower }}|{{ 'aXa'.replace('a', 'b') }}|{{ 'aXa'|replace('a', 'b', 1) }}",
            "{{ 'abc'.find('c') }}|{{ 'abc'.find('z') }}|{{ 'a-b-c'.count('-') }}|{{ '-'.join(['a', 'b']) }}|{{ 'abc'.removeprefix('a') }}|{{ 'x'.center(5, '*') }}|{{ '5'.zfill(3) }}",
            "{{ 'abc'.partition('b') }}|{{ 'a\\nb\\r\\nc'.splitlines() }}|{{ 'abc'.isalpha() }}|{{ '12'.isdigit() }}|{{ ' '.isspace() }}|{{ 'Ab'.istitle() }}",
            "{{ '{} is {name}'.format(1, name='x') }}|{{ '%s-%d-%.2f-%5s|%-4s|' % ('a', 3, 2.345, 'r', 'l') }}|{{ '%(a)s' % {'a': 1} }}",
            "{{ 'abc'.foo() }}",
            "{{ messages[1].content[0] }}|{{ messages[1].content[-1] }}|{{ messages[1].content[3:5] }}|{{ messages[1].content|length }}|{{ messages[1].content[::-1] }}",
            // slices and indexing
            "{{ [1, 2, 3, 4][::-1] }}|{{ [1, 2, 3, 4][1:] }}|{{ [1, 2, 3, 4][:-1] }}|{{ [1, 2, 3, 4][::2] }}|{{ [1, 2, 3, 4][-2:] }}|{{ [1, 2, 3][5:] }}|{{ [1, 2, 3][3:0:-1] }}",
            "{% for m in messages[::-1] %}{{ m.role }},{% endfor %}|{{ messages[-1].role }}|{{ messages[10] is defined }}|{{ messages.0.role }}",
            "{{ [1,2][::0] }}",
            // namespace and scoping
            "{% set ns = namespace(found=false, last=messages|length - 1, x=none) %}{% for m in messages %}{% if m.role == 'tool' %}{% set ns.found = true %}{% endif %}{% endfor %}{{ ns.found }}|{{ ns.last }}|{{ ns.x }}|{{ ns }}",
            "{% set ns = namespace({'a': 1}, b=2) %}{{ ns.a }}{{ ns.b }}{{ ns.c is defined }}",
            "{% for i in [1,2,3] %}{% if i == 1 %}{% set x = 'A' %}{% endif %}[{{ x }}]{% endfor %}",
            "{% set x = 'G' %}{% for i in [1,2] %}{{ x }}{% set x = i %}{{ x }}{% endfor %}{{ x }}",
            "{% set f = false %}{% if true %}{% set f = true %}{% endif %}{{ f }}",
            "{% set a, b = 1, 2 %}{{ a }}{{ b }}{% set c = 1, 2 %}{{ c }}",
            "{% set x %}  block {{ 1 }} {% endset %}[{{ x }}]{% set y | upper %}abc{% endset %}{{ y }}",
            "{% set d = {'a': 1} %}{% set d.a = 2 %}",
            // loops
            "{% for m in messages %}{{ loop.index }}{{ loop.index0 }}{{ loop.revindex }}{{ loop.revindex0 }}{{ loop.first }}{{ loop.last }}{{ loop.length }};{% endfor %}",
            "{% for x in [1,2,3] %}{{ loop.previtem }}-{{ loop.nextitem }}|{{ loop.cycle('a', 'b') }};{% endfor %}",
            "{% for x in [1,2,3] if x > 1 %}{{ x }}{{ loop.index }}{{ loop.length }}{% endfor %}",
            "{% for x in [] %}a{% else %}E{% endfor %}|{% for x in [1] %}a{% else %}E{% endfor %}",
            "{% for i in [1,2] %}{% if true %}A{% break %}B{% endif %}C{% endfor %}|{% for i in [1,2,3] %}{% if i == 2 %}{% continue %}{% endif %}{{ i }}{% endfor %}",
            "{% for k, v in {'a': 1, 'b': 2}.items() %}{{ k }}={{ v }};{% endfor %}{% for k in {'x': 1} %}{{ k }}{% endfor %}",
            "{% for a, b in [[1, 2], [3, 4]] %}{{ a + b }}{% endfor %}",
            "{% for c in 'ab😀' %}[{{ c }}]{% endfor %}",
            "{% for x in none %}{% endfor %}",
            "{% for x in nothing %}X{% endfor %}ok",
            "{% for x in [1, 2] %}{% for y in [3, 4] %}{{ loop.index }}{% endfor %}{{ loop.index }}{% endfor %}",
            "{% for x in [1,2] %}{{ loop.changed(x) }}{{ loop.changed(1) }}{% endfor %}",
            // tests
            "{{ 'a' is string }}|{{ 1 is string }}|{{ {} is mapping }}|{{ [] is mapping }}|{{ [] is sequence }}|{{ 'a' is sequence }}|{{ {} is sequence }}|{{ 1 is number }}|{{ true is number }}|{{ 1.5 is float }}|{{ 1 is integer }}|{{ true is integer }}",
            "{{ false is false }}|{{ 0 is false }}|{{ true is true }}|{{ none is none }}|{{ 2 is even }}|{{ 3 is odd }}|{{ 9 is divisibleby 3 }}|{{ 1 is in [1, 2] }}|{{ 'a' is eq 'a' }}|{{ 2 is gt 1 }}|{{ none is sameas none }}",
            "{{ 'abc' is lower }}|{{ 'ABC' is upper }}|{{ 'tojson' is filter }}|{{ 'string' is test }}|{{ nothing is iterable }}|{{ 1 is iterable }}|{{ namespace is callable }}",
            "{{ 'x' if messages[0].content is string else 'y' }}|{{ messages[4].content is string }}|{{ messages[4].content is iterable }}",
            // filters
            "{{ tools|tojson }}",
            "{{ tools|tojson(indent=2) }}",
            "{{ tools[0].function.parameters|tojson(indent=4, sort_keys=true) }}",
            "{{ messages[2].tool_calls[0].function.arguments|tojson }}|{{ 'é'|tojson }}|{{ 'é'|tojson(ensure_ascii=true) }}|{{ \"<a href='x'>&\"|tojson }}|{{ none|tojson }}|{{ 1.0|tojson }}",
            "{{ {'a': [], 'b': {}}|tojson(indent=2) }}|{{ [1, [2, 3]]|tojson(separators=(',', ':')) }}|{{ {'a': 1}|tojson(indent='\\t') }}",
            "{{ nothing|tojson }}",
            "{{ messages|length }}|{{ messages|count }}|{{ 'héllo😀'|length }}|{{ nothing|length }}|{{ {'a': 1}|length }}",
            "{{ messages|map(attribute='role')|join(', ') }}|{{ messages|selectattr('role', 'equalto', 'user')|list|length }}|{{ messages|rejectattr('role', 'eq', 'user')|map(attribute='role')|list }}",
            "{{ [3, 1, 2]|sort }}|{{ ['b', 'A', 'c']|sort }}|{{ ['b', 'A', 'c']|sort(case_sensitive=true) }}|{{ [3, 1, 2]|sort(reverse=true) }}|{{ messages|sort(attribute='role')|map(attribute='role')|join }}",
            "{{ {'b': 1, 'a': 2}|dictsort }}|{{ {'b': 1, 'a': 2}|dictsort(by='value') }}|{{ {'b': 1}|items|list }}|{{ [1, 2, 1, 3]|unique|list }}|{{ [1, 2]|reverse|list }}|{{ 'abc'|reverse }}",
            "{{ [1, 2, 3]|first }}|{{ [1, 2, 3]|last }}|{{ []|first }}|{{ [4, 1, 9]|min }}|{{ [4, 1, 9]|max }}|{{ [1, 2, 3]|sum }}|{{ [1.5, 2]|sum }}",
            "[{{ '  a  '|trim }}][{{ 'xxaxx'|trim('x') }}]|{{ 'a\\nb\\n\\nc'|indent(2) }}|{{ 'a\\nb'|indent(2, first=true) }}|{{ 'a\\n\\nb'|indent(2, blank=true) }}|{{ 'a\\nb'|indent('> ') }}",
            "{{ '3'|int + 1 }}|{{ '3.7'|int }}|{{ 'x'|int }}|{{ 'x'|int(7) }}|{{ 3.9|int }}|{{ '2.5'|float }}|{{ 'x'|float }}|{{ 2|float }}|{{ true|int }}",
            "{{ 2.5|round }}|{{ 3.5|round }}|{{ 2.675|round(2) }}|{{ 2.1|round(0, 'ceil') }}|{{ 2.9|round(method='floor') }}|{{ 3|round }}",
            "{{ 'a<b>&\"c\\''|escape }}|{{ '<p>x  y</p>'|striptags }}|{{ 'one two  three'|wordcount }}|{{ 'abc'|center(7) }}|{{ 'a b c d e f g h'|truncate(9) }}|{{ 'a b c d e f g h'|truncate(9, true) }}",
            "{{ [1, 2, 3, 4, 5]|batch(2)|list }}|{{ [1, 2, 3, 4, 5]|slice(2)|list }}|{{ ['a', 'b']|map('upper')|list }}|{{ [0, 1, 2]|select|list }}|{{ [1, 2, 3]|reject('odd')|list }}",
            "{{ '%s and %s'|format('a', 'b') }}|{{ 5|string ~ 'x' }}|{{ [1]|string }}|{{ 'a'|safe }}|{{ 'x'|list }}|{{ {'a': 1}|list }}|{{ messages[0]|attr('role') }}",
            "{{ messages|nosuchfilter }}",
            "{% if false %}{{ messages|nosuchfilter }}{% endif %}ok",
            "{% for m in [] %}{{ m|nosuchfilter }}{% endfor %}",
            "{% if true %}{{ 1|nosuchfilter }}{% endif %}",
            "{{ 1 if true else 2|nosuchfilter }}",
            "{{ 1 is nosuchtest }}",
            "{% if false %}{{ 1 is nosuchtest }}{% endif %}ok",
            // globals and errors
            "{{ range(3)|list }}|{{ range(1, 7, 2)|join(',') }}|{% for i in range(2) %}{{ i }}{% endfor %}|{{ dict(a=1, b='x') }}",
            "{{ raise_exception('Conversation roles must alternate user/assistant/user/assistant/...') }}",
            "{% if messages[0].role != 'user' %}{{ raise_exception('Only user and assistant roles are supported, got ' ~ messages[0].role) }}{% endif %}",
            "{{ strftime_now('%Y') }}",
            "{{ nothing() }}",
            "{{ messages.append(1) }}",
            "{{ messages[0].pop('role') }}",
            "{% if %}x{% endif %}",
            "{% for m in messages %}x",
            "{% if true %}x{% endfor %}",
            "{{ 1 + }}",
            "{% do messages %}",
            "{% break %}",
            "{{ }}",
            "{{ 'unterminated }}",
            // macros, with, filter blocks, raw, whitespace
            "{% macro render(m, sep=': ') %}{{ m.role }}{{ sep }}{{ m.content if m.content is string else '[parts]' }}{% endmacro %}{% for m in messages %}{{ render(m) }}|{{ render(m, sep='=') }};{% endfor %}",
            "{% macro t(x) %}[{{ x }}]{% endmacro %}{{ t() }}{{ t(1) ~ t(2) }}",
            "{% with a = 1, b = 'x' %}{{ a }}{{ b }}{% endwith %}{{ a is defined }}",
            "{% filter upper %}abc {{ 'd' }}{% endfilter %}|{% filter trim|upper %}  x  {% endfilter %}",
            "{% raw %}{{ not rendered }}{% endraw %}",
            "a\n  {% if true %}\n    X\n  {% endif %}\nB\n{%- if true %} C {% endif -%}\n  D  {#- c -#}  E\n{# c2 #}\nF  {{- ' g ' -}}  H",
            "{%- for m in messages -%}\n  {{- m.role }}\n{%- endfor %}\n\n\n",
            "{% for m in messages %}{% generation %}{{ m.role }}{% endgeneration %}|{% endfor %}",
            "{{ '{{ x }}' }}|{{ \"{% raw %}\" }}|{{ '}}' }}",
            "line1\r\nline2\rline3\n",
            "{{ messages[4].content[0].text }}|{% for p in messages[4].content %}{% if p.type == 'text' %}{{ p.text }}{% endif %}{% endfor %}",
            "{{ messages[4].content|selectattr('type', 'equalto', 'text')|map(attribute='text')|join('\\n') }}",
            "{{ bos_token }}|{{ eos_token }}|{{ unk_token }}|{{ additional_special_tokens }}|{{ enable_thinking }}|{{ enable_thinking is defined }}",
            "{% if enable_thinking is defined and enable_thinking is false %}NO{% else %}YES{% endif %}",
            "{{ add_generation_prompt }}|{{ messages[2].tool_calls|length }}|{{ messages[2].tool_calls[0].function.name }}|{{ messages[2].tool_calls[0].id }}",
            "{{ 'a' in 'abc' }}|{{ 'z' not in 'abc' }}|{{ 'role' in messages[0] }}|{{ 1 in [1.0] }}|{{ 'x' in nothing }}",
            "{{ 1 in 'abc' }}",
            "{{ 'x' in none }}",
            "{{ {'a': 1}['a'] }}|{{ {'a': 1}.a }}|{{ {'a': 1}['b'] }}|{{ {1: 'one'}[1] }}|{{ {'items': 5}['items'] }}|{{ messages[0]['role'] }}",
            "{{ 1 / 0 }}",
            "{{ 1 // 0 }}",
            "{{ [1, 2].index(2) }}|{{ [1, 2, 2].count(2) }}|{{ {'a': 1}.keys()|list }}|{{ {'a': 1}.values()|list }}",
            "{{ 'a' 'b' }}|{{ \"x\" 'y' }}|{{ 0x10 }}|{{ 1_000 }}|{{ 1e3 }}|{{ 2.5e-3 }}",
            // constructs seen in real chat templates
            "{% set count = 0 %}{% for m in messages %}{% set count = count + 1 %}{{ count }}{% endfor %}|{{ count }}",
            "{% for m in messages if m.role != 'system' %}{{ m.role }}{{ '' if loop.last else ',' }}{% endfor %}",
            "{{ messages|selectattr('role', 'in', ['user', 'tool'])|map(attribute='role')|list }}|{{ messages|map(attribute='name', default='-')|list }}",
            "{{ tools|map(attribute='function')|map(attribute='name')|join(', ') }}|{{ '[' ~ tools|map(attribute='function.name')|join(',') ~ ']' }}",
            "{{ 'a' if false else 'b'|upper }}|{{ (1, 2)|join('-') }}|{{ messages[-2:]|map(attribute='role')|list }}|{{ range(messages|length - 1, -1, -1)|list }}",
            "{% for k, v in tools[0].function.parameters.properties|dictsort %}{{ k }}:{{ v.type }};{% endfor %}|{% for k, v in tools[0].function.parameters.properties.items() %}{{ k }}{{ v.get('default', 'none') }};{% endfor %}",
            "{% macro param(name, spec, required=false) -%}\n- {{ name }} ({{ spec.type }}{{ ', required' if required }}): {{ spec.description|default('no description') }}\n{%- endmacro %}{% for n, s in tools[0].function.parameters.properties.items() %}{{ param(n, s, required=n in tools[0].function.parameters.required) }}\n{% endfor %}",
            "{% macro outer() %}[{{ caller() }}]{% endmacro %}{% call outer() %}inside {{ messages|length }}{% endcall %}",
            "{% macro fact(n) %}{% if n <= 1 %}1{% else %}{{ n }}*{{ fact(n - 1) }}{% endif %}{% endmacro %}{{ fact(4) }}",
            "{% macro boom() %}{{ raise_exception('boom from macro') }}{% endmacro %}{{ boom() }}",
            "{%- for m in messages %}\n    {%+ if true %}[{{ m.role }}]{% endif %}\n{% endfor %}",
            "{% if messages[0].content is not none and messages[0].content|trim|length > 0 %}has system{% endif %}",
            "{{ x|default(none) is none }}|{{ (messages|length) - 1 }}|{{ 1 is number and 1 is not boolean }}|{{ messages[2].tool_calls[0].function.arguments.temp * 2 }}",
            "{{ messages[2].tool_calls[0].function.arguments|tojson(indent=2) }}",
            "{{ {'f': 0.1, 'g': -0.0, 'h': 123456789012345678901234567890, 'i': 1e-5, 'j': 3.0e10, 'k': 100.0}|tojson }}",
            "{% set ns = namespace(items=[]) %}{% for m in messages %}{% set ns.items = ns.items + [m.role] %}{% endfor %}{{ ns.items|join('>') }}",
            "{% set d = {} %}{{ d.update({'a': 1}) }}",
            "{%- if messages[0]['role'] == 'system' -%}\n{{- messages[0]['content'] -}}\n{%- endif -%}\n  text  \n{{- 'end' }}",
            "{{ messages[0].content|wordcount }}|{{ messages[1].content|upper }}|{{ messages[1].content|title }}|{{ messages[1].content|reverse }}",
            "{% for m in messages %}{{ loop.index }}{% if loop.index is divisibleby 2 %}e{% endif %}{% endfor %}",
            "{% set x = 1 %}{% macro m(a=x, sep=', ', b=[1, 2]) %}{{ a }}{{ sep }}{{ b|join(sep) }}{% endmacro %}{% set x = 2 %}{{ m() }}|{{ m(5, b=[3]) }}",
            "{% set x = 'a' %}{% macro m() %}{{ x }}{% endmacro %}{% set x = 'b' %}{{ m() }}",
            "{% set j = joiner(', ') %}{% for x in [1,2] %}{{ j() }}{{ x }}{% endfor %}",
            "{% for x in [1,2] %}{{ loop }}{% endfor %}|{{ loop }}",
            "{% set tool_names = [] %}{% for t in tools %}{{ tool_names.append(t.function.name) }}{% endfor %}"
    );

    private static final ZonedDateTime NOW = LocalDateTime.parse(GoldenRenders.PINNED_NOW).atZone(ZoneOffset.UTC);
    private static final Map<String, Object> SPECIAL = Map.of("bos_token", "<s>", "eos_token", "</s>", "unk_token", "<unk>",
            "additional_special_tokens", List.of("<a>", "<b>"));

    private static List<Case> cases() throws Exception {
        List<Map<String, Object>> messages = JSON.readValue(MESSAGES_JSON, List.class);
        Object tools = JSON.readValue(TOOLS_JSON, List.class);
        List<Case> cases = new ArrayList<>();
        for (String snippet : SNIPPETS) {
            cases.add(new Case(snippet, messages, tools, true, Map.of()));
            if (snippet.contains("enable_thinking")) {
                cases.add(new Case(snippet, messages, null, false, Map.of("enable_thinking", false)));
            }
        }
        return cases;
    }

    private static GoldenRenders golden() throws Exception {
        List<ObjectNode> requests = new ArrayList<>();
        for (Case c : cases()) {
            ObjectNode rec = JSON.createObjectNode();
            rec.put("template", c.template);
            rec.set("messages", JSON.valueToTree(c.messages));
            rec.set("tools", JSON.valueToTree(c.tools));
            rec.put("add_generation_prompt", c.addGenerationPrompt);
            rec.set("vars", JSON.valueToTree(c.vars));
            rec.set("special", JSON.valueToTree(SPECIAL));
            rec.put("now", GoldenRenders.PINNED_NOW);
            rec.put("spans", c.template.contains("generation"));
            requests.add(rec);
        }
        return GoldenRenders.of("jinja-semantics/snippets", null, requests);
    }

    @Test
    void goldenFileIsWhatThePythonReferenceRenders() throws Exception {
        golden().assertPythonStillAgrees();
    }

    @Test
    void snippetsRenderLikePython() throws Exception {
        List<Case> cases = cases();
        List<PythonReference.Result> python = golden().expected();
        assertThat(python).hasSize(cases.size());
        HfEnvironment environment = new HfEnvironment(() -> NOW);
        List<String> mismatches = new ArrayList<>();
        for (int i = 0; i < cases.size(); i++) {
            Case c = cases.get(i);
            PythonReference.Result expected = python.get(i);
            ChatTemplate template = new ChatTemplate(new TokenizerConfig(Map.of("default", c.template),
                    Map.of("bos_token", "<s>", "eos_token", "</s>", "unk_token", "<unk>"), List.of("<a>", "<b>")), environment);
            String actual;
            String error = null;
            List<int[]> spans = List.of();
            try {
                var r = template.renderWithGenerationSpans(new Conversation(c.messages, c.tools), c.addGenerationPrompt, c.vars);
                actual = r.text();
                spans = r.generationSpans();
            } catch (RecordRejected e) {
                actual = null;
                error = e.getMessage();
            }
            if (expected.failed() != (actual == null)
                    || (actual != null && !actual.equals(expected.text()))
                    || (actual != null && expected.spans() != null && !spansEqual(spans, expected.spans().toString()))) {
                mismatches.add("template: " + c.template + "\n  python: " + (expected.failed() ? "ERROR " + expected.error() : JSON.writeValueAsString(expected.text()) + " " + expected.spans())
                        + "\n  java:   " + (actual == null ? "ERROR " + error : JSON.writeValueAsString(actual) + " " + spansString(spans)));
            } else if (expected.failed() && expected.error().startsWith("TemplateError: ")) {
                assertThat(error).contains(expected.error().substring("TemplateError: ".length()));
            }
        }
        assertThat(mismatches).as(String.join("\n", mismatches)).isEmpty();
        assertThat(cases.size()).isGreaterThan(100);
    }

    private static String spansString(List<int[]> spans) {
        StringBuilder sb = new StringBuilder("[");
        for (int[] s : spans) {
            if (sb.length() > 1) {
                sb.append(",");
            }
            sb.append("[").append(s[0]).append(",").append(s[1]).append("]");
        }
        return sb.append("]").toString();
    }

    private static boolean spansEqual(List<int[]> spans, String python) {
        return spansString(spans).equals(python.replace(" ", ""));
    }

    private record Case(String template, List<Map<String, Object>> messages, Object tools, boolean addGenerationPrompt,
                        Map<String, Object> vars) {
    }
}
